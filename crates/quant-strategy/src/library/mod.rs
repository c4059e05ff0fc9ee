//! Library signal strategies: per-instrument [`Rules`](crate::book::Rules)
//! run by a [`Book`](crate::book::Book), so every one of them takes the
//! book's keys in `[strategy.params]` as well as its own
//! ([`BOOK_KEYS`](crate::book::BOOK_KEYS): `max_positions`, `sizing`, `max_weight`,
//! `exits`, `atr_period`, `rebalance`, `universe`, `fundamentals`).
//!
//! - [`breakout::Breakout`] (`momentum_breakout`): Donchian channel
//!   breakouts confirmed by volume and momentum;
//! - [`mean_reversion::MeanReversion`] (`mean_reversion`): RSI and
//!   Bollinger oversold dips inside a long-term uptrend;
//! - [`trend::TrendFollowing`] (`trend_following`): EMA alignment with
//!   ADX above 25.

pub mod breakout;
pub mod mean_reversion;
pub mod trend;

use quant_core::Instrument;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::book::{Rules, new_rows};
use crate::context::SeriesView;
use crate::error::{Error, Result};
use crate::snapshot;

/// The per-instrument logic of one library strategy; [`Library`] runs it
/// over every instrument as [`Rules`].
pub trait Kind: Send + 'static {
    /// Registry name (`momentum_breakout`).
    const NAME: &'static str;
    /// The strategy's own parameters (their `Debug` text fingerprints a
    /// saved state).
    type Params: Clone + Send + std::fmt::Debug;
    /// One instrument's indicator state (saved and loaded whole).
    type State: Clone + Send + Serialize + DeserializeOwned;
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`Error::Config`] naming `params.{key}`.
    fn check(p: &Self::Params) -> Result<()>;
    /// A fresh state.
    ///
    /// # Errors
    /// [`Error::Config`] for a window the indicators refuse.
    fn fresh(p: &Self::Params) -> Result<Self::State>;
    /// Consumes row `r` of `s`.
    fn step(st: &mut Self::State, s: &SeriesView<'_>, r: usize);
    /// `Some(score)` when the newest row says buy.
    fn entry(p: &Self::Params, st: &Self::State) -> Option<f64>;
    /// True when the newest row says sell.
    fn exit(p: &Self::Params, st: &Self::State) -> bool;
}

/// A library strategy's rules over a run's instruments.
pub struct Library<K: Kind> {
    pub(crate) params: K::Params,
    fed: Vec<usize>,
    pub(crate) state: Vec<K::State>,
}

impl<K: Kind> Clone for Library<K> {
    fn clone(&self) -> Self {
        Self {
            params: self.params.clone(),
            fed: self.fed.clone(),
            state: self.state.clone(),
        }
    }
}

impl<K: Kind> std::fmt::Debug for Library<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(K::NAME)
            .field("instruments", &self.state.len())
            .finish()
    }
}

impl<K: Kind> Library<K> {
    /// Builds the rules.
    ///
    /// # Errors
    /// [`Error::Config`] naming the bad `params.{key}` (see each kind).
    pub fn new(params: K::Params) -> Result<Self> {
        K::check(&params)?;
        // the indicator windows are built once here, so a window the
        // indicators refuse (above `quant_indicators::MAX_PERIOD`) is an
        // error of the configuration, not of the run's start
        K::fresh(&params)?;
        Ok(Self {
            params,
            fed: Vec::new(),
            state: Vec::new(),
        })
    }
}

impl<K: Kind> Rules for Library<K> {
    fn name(&self) -> &str {
        K::NAME
    }

    fn on_start(&mut self, instruments: &[Instrument]) -> Result<()> {
        let fresh = K::fresh(&self.params)?;
        self.state = vec![fresh; instruments.len()];
        self.fed = vec![0; instruments.len()];
        Ok(())
    }

    fn update(&mut self, i: usize, s: SeriesView<'_>) {
        let st = &mut self.state[i];
        for r in new_rows(&mut self.fed[i], s.len()) {
            K::step(st, &s, r);
        }
    }

    fn entry(&self, i: usize) -> Option<f64> {
        K::entry(&self.params, &self.state[i])
    }

    fn exit(&self, i: usize) -> bool {
        K::exit(&self.params, &self.state[i])
    }

    /// Every instrument's indicator state and count of rows consumed.
    fn save_state(&self) -> Result<Vec<u8>> {
        let params = snapshot::fingerprint(&self.params);
        let state = (&self.fed, &self.state);
        snapshot::save(K::NAME, &params, self.fed.len(), &state)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<()> {
        let n = self.fed.len();
        let params = snapshot::fingerprint(&self.params);
        let (fed, st): (Vec<usize>, Vec<K::State>) = snapshot::load(K::NAME, &params, n, state)?;
        snapshot::check_len(K::NAME, "rows consumed", fed.len(), n)?;
        snapshot::check_len(K::NAME, "indicator states", st.len(), n)?;
        self.fed = fed;
        self.state = st;
        Ok(())
    }
}

/// [`Error::Config`] for `strategy` whose message names `params.{key}`.
pub(crate) fn param_error(strategy: &str, key: &str, what: impl std::fmt::Display) -> Error {
    Error::Config {
        strategy: strategy.to_string(),
        message: format!("params.{key}: {what}"),
    }
}

/// Maps an indicator's refusal to [`Error::Config`] naming `params.{key}`.
pub(crate) fn indicator_error(
    strategy: &'static str,
    key: &'static str,
) -> impl Fn(quant_indicators::Error) -> Error {
    move |e| param_error(strategy, key, e)
}
