//! `dual_momentum`: Antonacci's dual momentum across asset-class ETFs —
//! relative momentum picks the strongest risky assets, absolute momentum
//! sends their share to the defensive asset when they are not beating it.
//!
//! At the close of each decision day of the `rebalance` schedule (a
//! [`quant_core::Schedule`] on the run's calendar; `monthly`: the first
//! trading day of each month; never the run's first day):
//! every asset's trailing return over `lookback` bars (TA-Lib
//! `ROC(lookback)` / 100, from `quant-indicators`) is known; the risky
//! assets whose return exceeds both the defensive asset's return and
//! `min_return` qualify; the best `top_k` of them (ties: listed order) get
//! `gross_exposure / top_k` of equity each, and every slot left empty goes
//! to the defensive asset. Until every asset has `lookback + 1` closes
//! nothing is traded.
//!
//! Parameters: `risky` (symbols, e.g. equity and gold ETFs), `defensive`
//! (one symbol, e.g. a bond ETF), `lookback` (bars, default 120), `top_k`
//! (default 1), `rebalance` (a schedule as for `momentum_rotation`:
//! `"monthly"`, `"weekly"`, `"month_end"`, … or `{ every, day, at }`;
//! default monthly),
//! `min_return` (fraction, default 0), `gross_exposure` (default 0.98).
//!
//! Source: Gary Antonacci, *Dual Momentum Investing* (2014).

use quant_core::{Instrument, InstrumentIndex, Schedule};
use quant_indicators::MAX_PERIOD;
use quant_indicators::momentum::Roc;
use serde::{Deserialize, Serialize};

use crate::Strategy;
use crate::context::{Context, Signal};
use crate::error::{Error, Result};
use crate::momentum::{Fed, check_gross_exposure, check_rebalance, decides};
use crate::snapshot;

/// Parameters of [`DualMomentum`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DualMomentumParams {
    /// Risky assets, by symbol.
    pub risky: Vec<String>,
    /// The defensive asset.
    pub defensive: String,
    /// Trailing-return window in bars.
    #[serde(default = "default_lookback")]
    pub lookback: usize,
    /// Risky assets held at most.
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    /// Rebalance schedule (default `monthly`).
    #[serde(
        default = "crate::momentum::default_rebalance",
        deserialize_with = "crate::momentum::rebalance_param"
    )]
    pub rebalance: Schedule,
    /// Smallest trailing return a risky asset needs (fraction).
    #[serde(default)]
    pub min_return: f64,
    /// Fraction of equity invested.
    #[serde(default = "crate::momentum::default_gross")]
    pub gross_exposure: f64,
}

fn default_lookback() -> usize {
    120
}
fn default_top_k() -> usize {
    1
}

/// Dual momentum; see the module docs.
#[derive(Debug, Clone)]
pub struct DualMomentum {
    params: DualMomentumParams,
    risky: Vec<usize>,
    defensive: usize,
    state: DualState,
}

/// What [`DualMomentum`] learns from the bars: its saved state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct DualState {
    /// Trailing return per instrument (only the listed assets are fed).
    roc: Vec<Fed<Roc>>,
    /// True once the run's first bar has been seen.
    started: bool,
}

fn config(message: String) -> Error {
    Error::Config {
        strategy: "dual_momentum".into(),
        message,
    }
}

impl DualMomentum {
    /// Builds the strategy.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key: no risky asset, the defensive
    /// asset among the risky ones, `lookback` outside [1, [`MAX_PERIOD`]],
    /// `top_k` 0 or above the number of risky assets, `min_return` outside
    /// [−1, 10], `gross_exposure` outside (0, 1], a `rebalance` at a time
    /// of day (it needs intraday bars).
    pub fn new(params: DualMomentumParams) -> Result<Self> {
        if params.risky.is_empty() {
            return Err(config("params.risky lists no asset".into()));
        }
        if params.risky.contains(&params.defensive) {
            return Err(config(format!(
                "params.defensive {} is also in params.risky",
                params.defensive
            )));
        }
        if !(1..=MAX_PERIOD).contains(&params.lookback) {
            return Err(config(format!(
                "params.lookback must be in [1, {MAX_PERIOD}], got {}",
                params.lookback
            )));
        }
        if !(params.min_return.is_finite() && (-1.0..=10.0).contains(&params.min_return)) {
            return Err(config(format!(
                "params.min_return must be in [-1, 10], got {:?}",
                params.min_return
            )));
        }
        if params.top_k == 0 || params.top_k > params.risky.len() {
            return Err(config(format!(
                "params.top_k must be in 1..={}, got {}",
                params.risky.len(),
                params.top_k
            )));
        }
        check_gross_exposure("dual_momentum", params.gross_exposure)?;
        check_rebalance("dual_momentum", &params.rebalance)?;
        Ok(Self {
            params,
            risky: Vec::new(),
            defensive: 0,
            state: DualState::default(),
        })
    }
}

impl Strategy for DualMomentum {
    fn name(&self) -> &str {
        "dual_momentum"
    }

    fn on_start(&mut self, instruments: &[Instrument]) -> Result<()> {
        let find = |sym: &str, key: &str| {
            instruments
                .iter()
                .position(|i| i.symbol.as_str() == sym)
                .ok_or_else(|| config(format!("params.{key}: {sym} is not in the universe")))
        };
        self.risky = self
            .params
            .risky
            .iter()
            .map(|s| find(s, "risky"))
            .collect::<Result<_>>()?;
        self.defensive = find(&self.params.defensive, "defensive")?;
        let roc =
            Roc::new(self.params.lookback).map_err(|e| config(format!("params.lookback: {e}")))?;
        self.state = DualState {
            roc: vec![Fed::new(roc); instruments.len()],
            started: false,
        };
        Ok(())
    }

    /// The first-bar flag and every asset's trailing return.
    fn save_state(&self) -> Result<Vec<u8>> {
        let params = snapshot::fingerprint(&self.params);
        snapshot::save(self.name(), &params, self.state.roc.len(), &self.state)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<()> {
        let (name, n) = (self.name(), self.state.roc.len());
        let params = snapshot::fingerprint(&self.params);
        let s: DualState = snapshot::load(name, &params, n, state)?;
        snapshot::check_len(name, "trailing returns", s.roc.len(), n)?;
        self.state = s;
        Ok(())
    }

    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>) {
        for &i in self.risky.iter().chain(std::iter::once(&self.defensive)) {
            self.state.roc[i].catch_up(ctx.history.closes(InstrumentIndex(i as u32)));
        }
        // the run's first close only observes
        let first = !std::mem::replace(&mut self.state.started, true);
        if first || !decides(&self.params.rebalance, ctx) {
            return;
        }
        let ret = |i: usize| self.state.roc[i].last.map(|pct| pct / 100.0);
        let Some(bar) = ret(self.defensive) else {
            return;
        };
        if self.risky.iter().any(|&i| ret(i).is_none()) {
            return;
        }
        let hurdle = bar.max(self.params.min_return);
        let mut qualified: Vec<(f64, usize, usize)> = self
            .risky
            .iter()
            .enumerate()
            .filter_map(|(k, &i)| ret(i).filter(|r| *r > hurdle).map(|r| (r, k, i)))
            .collect();
        qualified.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let w = self.params.gross_exposure / self.params.top_k as f64;
        let mut targets: Vec<(InstrumentIndex, f64)> = qualified
            .iter()
            .take(self.params.top_k)
            .map(|&(_, _, i)| (InstrumentIndex(i as u32), w))
            .collect();
        let empty = self.params.top_k - targets.len();
        if empty > 0 {
            targets.push((InstrumentIndex(self.defensive as u32), w * empty as f64));
        }
        out.push(Signal::TargetWeights(targets));
    }
}
