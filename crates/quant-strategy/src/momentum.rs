//! `momentum_rotation`: hold the top-K instruments by trailing return,
//! equally weighted, rebalanced weekly or monthly, with an optional trend
//! filter on the benchmark.
//!
//! At the close of each decision day of the `rebalance` schedule (a
//! [`quant_core::Schedule`] on the run's trading calendar; `weekly` and
//! `monthly`: the first trading day of each ISO week or month; never the
//! run's first day): rank tradable instruments that traded today and have at least
//! `lookback + 1` signal closes by their trailing return
//! `close_t / close_{t−lookback} − 1` (TA-Lib `ROC(lookback)` / 100, from
//! `quant-indicators`; ties: lower instrument index first), and target the
//! top `top_k` at `gross_exposure / top_k` of equity each. With
//! `trend_ma = m`, when the benchmark's close is below its m-day simple
//! moving average (exactly rounded, [`quant_indicators::ExactSma`]) the
//! target is all cash. With `positive_only`, names with a
//! non-positive trailing return are not held (their share stays in cash).
//!
//! Parameters (TOML `[strategy.params]`): `lookback` (bars, default 20),
//! `top_k` (default 3), `rebalance` (a schedule: `"daily"`, `"weekly"`,
//! `"monthly"`, `"week_end"`, `"month_end"`, `"week_start"`, `"month_start"`,
//! `"quarter_end"`, `"quarter_start"` or a table `{ every, day, at }`;
//! default monthly; see `docs/config.md`), `trend_ma` (bars, optional), `positive_only` (default false),
//! `gross_exposure` (fraction of equity invested, default 0.98, leaving room
//! for fees and slippage).

use quant_core::{AssetClass, Instrument, InstrumentIndex, Schedule};
use serde::de;
use serde::{Deserialize, Deserializer, Serialize};

use crate::Strategy;
use crate::book::MAX_POSITIONS;
use crate::context::{Context, Signal};
use crate::error::{Error, Result};
use crate::snapshot;
use quant_indicators::momentum::Roc;
use quant_indicators::{ExactSma, Indicator, MAX_PERIOD};

/// Reads a `rebalance` parameter: a [`Schedule`] whose errors name
/// `params.rebalance` (as every built-in's keys are named).
///
/// # Errors
/// The schedule's error, prefixed `params.rebalance: `.
pub(crate) fn rebalance_param<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Schedule, D::Error> {
    Schedule::deserialize(d).map_err(|e| {
        // TOML's error text ends in a newline; the table's key path follows
        de::Error::custom(format!("params.rebalance: {}", e.to_string().trim_end()))
    })
}

/// `Ok` when a daily-bar strategy can follow `schedule` (`at` is `close`
/// or `open`), else [`Error::Config`] for `strategy` naming
/// `params.rebalance`.
pub(crate) fn check_rebalance(strategy: &str, schedule: &Schedule) -> Result<()> {
    schedule.check_daily().map_err(|e| Error::Config {
        strategy: strategy.into(),
        message: format!("params.rebalance: {e}"),
    })
}

/// True when the close of `ctx.date` is a decision of `schedule` on the
/// run's calendar ([`Schedule::decides_at_close`]).
pub(crate) fn decides(schedule: &Schedule, ctx: &Context<'_>) -> bool {
    // `at = "HH:MM"`, the only error, is refused when a strategy is built
    schedule
        .decides_at_close(ctx.calendar, ctx.date)
        .unwrap_or(false)
}

/// Parameters of [`MomentumRotation`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentumParams {
    /// Trailing-return window in bars.
    #[serde(default = "default_lookback")]
    pub lookback: usize,
    /// Number of instruments held.
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    /// Rebalance schedule (default `monthly`).
    #[serde(default = "default_rebalance", deserialize_with = "rebalance_param")]
    pub rebalance: Schedule,
    /// Benchmark moving-average window of the trend filter (none = off).
    #[serde(default)]
    pub trend_ma: Option<usize>,
    /// Hold only names with a positive trailing return.
    #[serde(default)]
    pub positive_only: bool,
    /// Fraction of equity invested.
    #[serde(default = "default_gross")]
    pub gross_exposure: f64,
}

fn default_lookback() -> usize {
    20
}
fn default_top_k() -> usize {
    3
}
pub(crate) fn default_rebalance() -> Schedule {
    Schedule::MONTHLY
}
/// `Ok` when the invested fraction `g` lies in (0, 1], else
/// [`Error::Config`] for `strategy` naming `params.gross_exposure`.
pub(crate) fn check_gross_exposure(strategy: &str, g: f64) -> Result<()> {
    if g > 0.0 && g <= 1.0 {
        Ok(())
    } else {
        Err(Error::Config {
            strategy: strategy.into(),
            message: format!("params.gross_exposure must be in (0, 1], got {g:?}"),
        })
    }
}

pub(crate) fn default_gross() -> f64 {
    0.98
}

/// Momentum rotation; see the module docs.
#[derive(Debug, Clone)]
pub struct MomentumRotation {
    params: MomentumParams,
    tradable: Vec<bool>,
    scores: Vec<(f64, usize)>,
    state: MomentumState,
}

/// What [`MomentumRotation`] learns from the bars: its saved state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct MomentumState {
    /// True once the run's first bar has been seen.
    started: bool,
    /// Trailing return per instrument (TA-Lib ROC over `lookback` bars),
    /// fed each instrument's closes as they arrive.
    roc: Vec<Fed<Roc>>,
    /// The benchmark's trend MA (exactly rounded mean), fed the same way.
    trend: Option<Fed<ExactSma>>,
}

/// A streaming indicator with the count of history values it has consumed
/// and its newest output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Fed<I> {
    ind: I,
    fed: usize,
    pub(crate) last: Option<f64>,
}

impl<I: Indicator<Input = f64, Output = f64>> Fed<I> {
    pub(crate) fn new(ind: I) -> Self {
        Self {
            ind,
            fed: 0,
            last: None,
        }
    }

    /// Feeds the values of `history` not seen yet.
    pub(crate) fn catch_up(&mut self, history: &[f64]) {
        for r in crate::book::new_rows(&mut self.fed, history.len()) {
            self.last = self.ind.update(history[r]);
        }
    }
}

impl MomentumRotation {
    /// Builds the strategy.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key when `lookback` or `trend_ma` is
    /// outside [1, [`MAX_PERIOD`]] bars, `top_k` outside [1,
    /// [`MAX_POSITIONS`]], `gross_exposure` outside (0, 1] or a
    /// `rebalance` schedule at a time of day (it needs intraday bars).
    pub fn new(params: MomentumParams) -> Result<Self> {
        let err = |m: String| {
            Err(Error::Config {
                strategy: "momentum_rotation".into(),
                message: m,
            })
        };
        for (key, v, hi) in [
            ("lookback", Some(params.lookback), MAX_PERIOD),
            ("top_k", Some(params.top_k), MAX_POSITIONS),
            ("trend_ma", params.trend_ma, MAX_PERIOD),
        ] {
            if let Some(v) = v
                && !(1..=hi).contains(&v)
            {
                return err(format!("params.{key} must be in [1, {hi}], got {v}"));
            }
        }
        check_gross_exposure("momentum_rotation", params.gross_exposure)?;
        check_rebalance("momentum_rotation", &params.rebalance)?;
        Ok(Self {
            params,
            tradable: Vec::new(),
            scores: Vec::new(),
            state: MomentumState::default(),
        })
    }
}

impl Strategy for MomentumRotation {
    fn name(&self) -> &str {
        "momentum_rotation"
    }

    fn on_start(&mut self, instruments: &[Instrument]) -> Result<()> {
        self.tradable = instruments
            .iter()
            .map(|i| i.asset_class != AssetClass::Index)
            .collect();
        if !self.tradable.iter().any(|t| *t) {
            return Err(Error::Config {
                strategy: "momentum_rotation".into(),
                message: "the universe has no tradable instrument".into(),
            });
        }
        let config = |key: &str, e: quant_indicators::Error| Error::Config {
            strategy: "momentum_rotation".into(),
            message: format!("params.{key}: {e}"),
        };
        let roc = Roc::new(self.params.lookback).map_err(|e| config("lookback", e))?;
        let trend = match self.params.trend_ma {
            Some(m) => Some(Fed::new(
                ExactSma::new(m).map_err(|e| config("trend_ma", e))?,
            )),
            None => None,
        };
        self.state = MomentumState {
            started: false,
            roc: vec![Fed::new(roc); instruments.len()],
            trend,
        };
        Ok(())
    }

    /// The first-bar flag, every instrument's trailing return and the
    /// benchmark's trend average.
    fn save_state(&self) -> Result<Vec<u8>> {
        let params = snapshot::fingerprint(&self.params);
        snapshot::save(self.name(), &params, self.tradable.len(), &self.state)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<()> {
        let (name, n) = (self.name(), self.tradable.len());
        let params = snapshot::fingerprint(&self.params);
        let s: MomentumState = snapshot::load(name, &params, n, state)?;
        snapshot::check_len(name, "trailing returns", s.roc.len(), n)?;
        if s.trend.is_some() != self.params.trend_ma.is_some() {
            return Err(snapshot::state_error(
                name,
                "the trend filter's average does not match params.trend_ma",
            ));
        }
        self.state = s;
        Ok(())
    }

    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>) {
        let st = &mut self.state;
        // indicators see every close as it arrives, rebalance day or not
        for (i, roc) in st.roc.iter_mut().enumerate() {
            roc.catch_up(ctx.history.closes(InstrumentIndex(i as u32)));
        }
        let mut trend_ma = None;
        if let Some(ma) = &mut st.trend {
            ma.catch_up(ctx.history.benchmark_closes());
            trend_ma = ma.last;
        }
        // the run's first close only observes (as the period-change rule
        // of old: `weekly` and `monthly` outputs stay the same)
        let first = !std::mem::replace(&mut st.started, true);
        if first || !decides(&self.params.rebalance, ctx) {
            return;
        }
        if self.state.trend.is_some() {
            let bench = ctx.history.benchmark_closes();
            match (bench.last(), trend_ma) {
                (Some(&last), Some(ma)) if last < ma => {
                    out.push(Signal::TargetWeights(Vec::new()));
                    return;
                }
                (_, None) => return, // not enough benchmark history yet: do nothing
                _ => {}
            }
        }
        self.scores.clear();
        for (i, &tradable) in self.tradable.iter().enumerate() {
            if !tradable || ctx.bars[i].is_none() {
                continue;
            }
            // ROC of today's close (it traded today), in percent → fraction
            let Some(r) = self.state.roc[i].last.map(|pct| pct / 100.0) else {
                continue;
            };
            if r.is_finite() && (!self.params.positive_only || r > 0.0) {
                self.scores.push((r, i));
            }
        }
        if self.scores.is_empty() && !ctx.positions.iter().any(|p| !p.is_flat()) {
            return;
        }
        self.scores
            .sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let w = self.params.gross_exposure / self.params.top_k as f64;
        let targets = self
            .scores
            .iter()
            .take(self.params.top_k)
            .map(|&(_, i)| (InstrumentIndex(i as u32), w))
            .collect();
        out.push(Signal::TargetWeights(targets));
    }
}
