//! `multi_factor`: rank stocks on value, quality, momentum and low
//! volatility, each z-scored across the universe and combined with
//! weights; hold the best `top_k`, weighted by a portfolio-construction
//! method, rebalanced with a drift threshold and a turnover cap.
//!
//! At the close of each decision day of the `rebalance` schedule (a
//! [`quant_core::Schedule`] on the run's calendar, default `monthly`: the
//! first trading day of each month; never the run's first day), for every
//! stock that traded today:
//!
//! | factor | raw value | needs |
//! |---|---|---|
//! | momentum | `close[t−skip] / close[t−lookback] − 1` (12-1 month momentum with the defaults) | `lookback + 1` closes |
//! | low volatility | `−σ` of the last `vol_days` daily returns | `vol_days + 1` closes |
//! | value | mean of the z-scores of the earnings yield `1/PE` and book yield `1/PB` (positive multiples only) | fundamentals |
//! | quality | return on equity | fundamentals |
//!
//! Each raw factor is z-scored across the names that have it
//! (`(x − mean) / σ`, population σ, clipped to ±3; a factor known for fewer
//! than 3 names is left out that day). A name's score is the
//! weight-averaged z-score over the factors it has; names with fewer than
//! `min_factors` are not ranked. The `top_k` best get weights from
//! [`crate::construction`] (`construction`: `equal_weight`,
//! `inverse_volatility`, `risk_parity`, `minimum_variance`) over the
//! covariance of their last `cov_days` daily returns, scaled to
//! `gross_exposure`; the move from today's weights to those targets goes
//! through [`crate::construction::rebalance`] (`drift`, `max_turnover`).
//!
//! Without fundamentals (`[data] fundamentals`), value and quality are
//! unknown for every name and the ranking is momentum and low volatility.
//!
//! Sources: Fama and French (1992) for value; Jegadeesh and Titman (1993)
//! for 12-1 momentum; Ang, Hodrick, Xing and Zhang (2006) for low
//! volatility; Novy-Marx (2013) and Asness, Frazzini and Pedersen (2019)
//! for quality; z-score composites as in MSCI's multi-factor indexes.

use quant_core::{AssetClass, Instrument, InstrumentIndex, Schedule};
use quant_indicators::MAX_PERIOD;
use quant_risk::figures::{sample_std, simple_returns};
use serde::Deserialize;

use crate::Strategy;
use crate::book::MAX_POSITIONS;
use crate::construction::{Method, covariance, rebalance, weights};
use crate::context::{Context, Signal};
use crate::error::{Error, Result};
use crate::momentum::{check_gross_exposure, check_rebalance, decides};
use crate::snapshot;

const NAME: &str = "multi_factor";

/// Factor weights in the composite (≥ 0; 0 leaves a factor out).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactorWeights {
    /// Value.
    #[serde(default = "one")]
    pub value: f64,
    /// Quality.
    #[serde(default = "one")]
    pub quality: f64,
    /// Momentum.
    #[serde(default = "one")]
    pub momentum: f64,
    /// Low volatility.
    #[serde(default = "one")]
    pub low_volatility: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for FactorWeights {
    fn default() -> Self {
        Self {
            value: 1.0,
            quality: 1.0,
            momentum: 1.0,
            low_volatility: 1.0,
        }
    }
}

/// Parameters of [`MultiFactor`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiFactorParams {
    /// Names held.
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    /// Momentum window, bars.
    #[serde(default = "default_lookback")]
    pub lookback: usize,
    /// Most recent bars left out of momentum.
    #[serde(default = "default_skip")]
    pub skip: usize,
    /// Volatility window, bars.
    #[serde(default = "default_vol_days")]
    pub vol_days: usize,
    /// Covariance window for construction, bars.
    #[serde(default = "default_cov_days")]
    pub cov_days: usize,
    /// Factors a name needs to be ranked.
    #[serde(default = "default_min_factors")]
    pub min_factors: usize,
    /// Factor weights.
    #[serde(default)]
    pub weights: FactorWeights,
    /// Weighting of the chosen names.
    #[serde(default = "default_construction")]
    pub construction: Method,
    /// Rebalance only when some weight is this far off (fraction).
    #[serde(default = "default_drift")]
    pub drift: f64,
    /// Largest one-way turnover per rebalance (fraction of equity).
    #[serde(default = "one")]
    pub max_turnover: f64,
    /// Rebalance schedule (default `monthly`).
    #[serde(
        default = "crate::momentum::default_rebalance",
        deserialize_with = "crate::momentum::rebalance_param"
    )]
    pub rebalance: Schedule,
    /// Fraction of equity invested.
    #[serde(default = "crate::momentum::default_gross")]
    pub gross_exposure: f64,
    /// Leave out risk-warning (ST) names.
    #[serde(default = "yes")]
    pub exclude_st: bool,
}

fn default_top_k() -> usize {
    5
}
fn default_lookback() -> usize {
    250
}
fn default_skip() -> usize {
    20
}
fn default_vol_days() -> usize {
    60
}
fn default_cov_days() -> usize {
    120
}
fn default_min_factors() -> usize {
    2
}
fn default_construction() -> Method {
    Method::InverseVolatility
}
fn default_drift() -> f64 {
    0.02
}
fn yes() -> bool {
    true
}

/// Raw factor values of one name (NaN unknown): momentum, low volatility,
/// earnings yield, book yield, quality.
pub type RawFactors = [f64; 5];

/// Clipped cross-sectional z-scores of one column (NaN stays NaN; all NaN
/// when fewer than 3 values are known or they do not vary).
pub fn zscores(column: &[f64]) -> Vec<f64> {
    let known: Vec<f64> = column.iter().copied().filter(|x| x.is_finite()).collect();
    let n = known.len() as f64;
    if known.len() < 3 {
        return vec![f64::NAN; column.len()];
    }
    let mean = known.iter().sum::<f64>() / n;
    let sd = (known.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    if sd <= 0.0 || !sd.is_finite() {
        return vec![f64::NAN; column.len()];
    }
    column
        .iter()
        .map(|x| {
            if x.is_finite() {
                ((x - mean) / sd).clamp(-3.0, 3.0)
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// Composite scores of names from their raw factors (see the module
/// docs): NaN for a name with fewer than `min_factors` factors.
pub fn composite(raw: &[RawFactors], w: &FactorWeights, min_factors: usize) -> Vec<f64> {
    let col = |k: usize| zscores(&raw.iter().map(|r| r[k]).collect::<Vec<_>>());
    let (mom, vol, ey, by, q) = (col(0), col(1), col(2), col(3), col(4));
    (0..raw.len())
        .map(|i| {
            let value = match (ey[i].is_nan(), by[i].is_nan()) {
                (false, false) => (ey[i] + by[i]) / 2.0,
                (false, true) => ey[i],
                (true, false) => by[i],
                (true, true) => f64::NAN,
            };
            let parts = [
                (mom[i], w.momentum),
                (vol[i], w.low_volatility),
                (value, w.value),
                (q[i], w.quality),
            ];
            let have: Vec<(f64, f64)> = parts
                .into_iter()
                .filter(|(z, wt)| !z.is_nan() && *wt > 0.0)
                .collect();
            let total: f64 = have.iter().map(|(_, wt)| wt).sum();
            if have.len() < min_factors || total <= 0.0 {
                f64::NAN
            } else {
                have.iter().map(|(z, wt)| z * wt).sum::<f64>() / total
            }
        })
        .collect()
}

/// Multi-factor ranking; see the module docs.
#[derive(Debug, Clone)]
pub struct MultiFactor {
    params: MultiFactorParams,
    eligible: Vec<bool>,
    /// True once the run's first bar has been seen.
    started: bool,
}

fn config(message: String) -> Error {
    Error::Config {
        strategy: NAME.into(),
        message,
    }
}

impl MultiFactor {
    /// Builds the strategy.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key: `top_k` outside [1,
    /// [`MAX_POSITIONS`]], `lookback` or `vol_days` outside [1,
    /// [`MAX_PERIOD`]], `cov_days` outside [2, [`MAX_PERIOD`]],
    /// `min_factors` outside [1, 4], `skip` not below `lookback`, a factor
    /// weight outside [0, 1000] or all weights 0, `drift` or
    /// `max_turnover` outside [0, 1] (turnover > 0), `gross_exposure`
    /// outside (0, 1], a `rebalance` at a time of day (it needs intraday
    /// bars).
    pub fn new(params: MultiFactorParams) -> Result<Self> {
        let p = &params;
        for (key, v, lo, hi) in [
            ("top_k", p.top_k, 1, MAX_POSITIONS),
            ("lookback", p.lookback, 1, MAX_PERIOD),
            ("vol_days", p.vol_days, 1, MAX_PERIOD),
            ("cov_days", p.cov_days, 2, MAX_PERIOD),
        ] {
            if !(lo..=hi).contains(&v) {
                return Err(config(format!(
                    "params.{key} must be in [{lo}, {hi}], got {v}"
                )));
            }
        }
        if p.min_factors == 0 {
            return Err(config("params.min_factors must be ≥ 1".into()));
        }
        if p.min_factors > 4 {
            return Err(config(format!(
                "params.min_factors must be in 1..=4, got {}",
                p.min_factors
            )));
        }
        if p.skip >= p.lookback {
            return Err(config(format!(
                "params.skip {} must be below params.lookback {}",
                p.skip, p.lookback
            )));
        }
        let w = p.weights;
        let ws = [w.value, w.quality, w.momentum, w.low_volatility];
        if ws
            .iter()
            .any(|x| !(x.is_finite() && (0.0..=1000.0).contains(x)))
            || ws.iter().all(|x| *x == 0.0)
        {
            return Err(config(
                "params.weights: each must be in [0, 1000] and one > 0".into(),
            ));
        }
        if !(0.0..=1.0).contains(&p.drift) {
            return Err(config(format!(
                "params.drift must be in [0, 1], got {:?}",
                p.drift
            )));
        }
        if !(p.max_turnover > 0.0 && p.max_turnover <= 1.0) {
            return Err(config(format!(
                "params.max_turnover must be in (0, 1], got {:?}",
                p.max_turnover
            )));
        }
        check_gross_exposure(NAME, p.gross_exposure)?;
        check_rebalance(NAME, &p.rebalance)?;
        Ok(Self {
            params,
            eligible: Vec::new(),
            started: false,
        })
    }

    fn raw(&self, ctx: &Context<'_>, i: usize) -> RawFactors {
        let p = &self.params;
        let c = ctx.history.closes(InstrumentIndex(i as u32));
        let n = c.len();
        let momentum = if n > p.lookback {
            c[n - 1 - p.skip] / c[n - 1 - p.lookback] - 1.0
        } else {
            f64::NAN
        };
        let low_vol = if n > p.vol_days {
            -sample_std(&simple_returns(&c[n - 1 - p.vol_days..]))
        } else {
            f64::NAN
        };
        let f = ctx.history.fundamentals(InstrumentIndex(i as u32));
        let inverse = |x: f64| if x > 0.0 { 1.0 / x } else { f64::NAN };
        [
            momentum,
            low_vol,
            f.map_or(f64::NAN, |f| inverse(f.pe)),
            f.map_or(f64::NAN, |f| inverse(f.pb)),
            f.map_or(f64::NAN, |f| f.roe),
        ]
    }
}

impl Strategy for MultiFactor {
    fn name(&self) -> &str {
        NAME
    }

    fn on_start(&mut self, instruments: &[Instrument]) -> Result<()> {
        self.eligible = instruments
            .iter()
            .map(|i| i.asset_class == AssetClass::Stock && !(self.params.exclude_st && i.st))
            .collect();
        if !self.eligible.iter().any(|e| *e) {
            return Err(config("the universe has no stock to rank".into()));
        }
        self.started = false;
        Ok(())
    }

    /// The first-bar flag: the ranking reads only history, which the feed
    /// holds.
    fn save_state(&self) -> Result<Vec<u8>> {
        let params = snapshot::fingerprint(&self.params);
        snapshot::save(NAME, &params, self.eligible.len(), &self.started)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<()> {
        let params = snapshot::fingerprint(&self.params);
        self.started = snapshot::load(NAME, &params, self.eligible.len(), state)?;
        Ok(())
    }

    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>) {
        let p = &self.params;
        // the run's first close only observes
        let first = !std::mem::replace(&mut self.started, true);
        if first || !decides(&p.rebalance, ctx) {
            return;
        }
        let names: Vec<usize> = (0..ctx.instruments.len())
            .filter(|&i| self.eligible[i] && ctx.bars[i].is_some())
            .collect();
        let raw: Vec<RawFactors> = names.iter().map(|&i| self.raw(ctx, i)).collect();
        let scores = composite(&raw, &p.weights, p.min_factors);
        let mut ranked: Vec<(f64, usize)> = scores
            .iter()
            .zip(&names)
            .filter(|(s, _)| !s.is_nan())
            .map(|(s, &i)| (*s, i))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        // chosen names with a full covariance window
        let chosen: Vec<usize> = ranked
            .iter()
            .map(|&(_, i)| i)
            .filter(|&i| ctx.history.closes(InstrumentIndex(i as u32)).len() > p.cov_days)
            .take(p.top_k)
            .collect();
        if chosen.is_empty() {
            return;
        }
        let rets: Vec<Vec<f64>> = chosen
            .iter()
            .map(|&i| {
                let c = ctx.history.closes(InstrumentIndex(i as u32));
                simple_returns(&c[c.len() - 1 - p.cov_days..])
            })
            .collect();
        let Ok(w) = covariance(&rets).and_then(|cov| weights(p.construction, &cov)) else {
            return;
        };
        // current and target weights over held ∪ chosen names
        let mut assets: Vec<usize> = (0..ctx.instruments.len())
            .filter(|&i| !ctx.positions[i].is_flat())
            .collect();
        for &i in &chosen {
            if !assets.contains(&i) {
                assets.push(i);
            }
        }
        let current: Vec<f64> = assets
            .iter()
            .map(|&i| {
                let px = ctx.bars[i].map_or(0.0, |b| b.close);
                ctx.positions[i].quantity.to_f64() * px / ctx.equity
            })
            .collect();
        let target: Vec<f64> = assets
            .iter()
            .map(|i| {
                chosen
                    .iter()
                    .position(|c| c == i)
                    .map_or(0.0, |k| w[k] * p.gross_exposure)
            })
            .collect();
        let next = rebalance(&current, &target, p.drift, p.max_turnover);
        if next == current {
            return;
        }
        out.push(Signal::TargetWeights(
            assets
                .iter()
                .zip(&next)
                .filter(|(_, w)| **w > 1e-9)
                .map(|(&i, &w)| (InstrumentIndex(i as u32), w))
                .collect(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zscores_by_hand() {
        // mean 2, population σ = √(2/3)
        let z = zscores(&[1.0, 2.0, 3.0, f64::NAN]);
        let s = (2.0f64 / 3.0).sqrt();
        assert!((z[0] + 1.0 / s).abs() < 1e-12 && z[1].abs() < 1e-12);
        assert!((z[2] - 1.0 / s).abs() < 1e-12 && z[3].is_nan());
        assert!(zscores(&[1.0, 2.0, f64::NAN]).iter().all(|x| x.is_nan()));
        assert!(zscores(&[5.0, 5.0, 5.0]).iter().all(|x| x.is_nan()));
        // clipped at ±3: one outlier among many equal values
        let mut col = vec![0.0; 99];
        col.push(100.0);
        assert_eq!(zscores(&col)[99], 3.0);
    }

    #[test]
    fn composite_by_hand() {
        let nan = f64::NAN;
        // momentum and low vol for 3 names; value and quality for 3 of 4
        let raw = [
            [0.10, -0.02, 0.10, 0.50, 0.20],
            [0.20, -0.01, 0.05, 0.25, 0.10],
            [0.30, -0.03, 0.02, 0.20, 0.15],
            [nan, nan, nan, nan, nan],
        ];
        let w = FactorWeights::default();
        let c = composite(&raw, &w, 2);
        let z = |col: [f64; 3], k: usize| zscores(&col)[k];
        let mom = [0.10, 0.20, 0.30];
        let vol = [-0.02, -0.01, -0.03];
        let ey = [0.10, 0.05, 0.02];
        let by = [0.50, 0.25, 0.20];
        let q = [0.20, 0.10, 0.15];
        for (k, got) in c.iter().take(3).enumerate() {
            let value = (z(ey, k) + z(by, k)) / 2.0;
            let want = (z(mom, k) + z(vol, k) + value + z(q, k)) / 4.0;
            assert!((got - want).abs() < 1e-12, "{k}: {got} vs {want}");
        }
        assert!(c[3].is_nan());
        // momentum weighted 3×, low vol only: names need 2 factors
        let w = FactorWeights {
            value: 0.0,
            quality: 0.0,
            momentum: 3.0,
            low_volatility: 1.0,
        };
        let c = composite(&raw, &w, 2);
        let want = (3.0 * z(mom, 0) + z(vol, 0)) / 4.0;
        assert!((c[0] - want).abs() < 1e-12);
        assert!(composite(&raw, &w, 3)[0].is_nan());
    }

    #[test]
    fn rejects_bad_params() {
        let base: MultiFactorParams = toml::from_str("").unwrap();
        assert!(MultiFactor::new(base.clone()).is_ok());
        let e = MultiFactor::new(MultiFactorParams {
            skip: 300,
            ..base.clone()
        })
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("params.skip"), "{e}");
        let e = MultiFactor::new(MultiFactorParams {
            weights: FactorWeights {
                value: 0.0,
                quality: 0.0,
                momentum: 0.0,
                low_volatility: 0.0,
            },
            ..base
        })
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("params.weights"), "{e}");
    }
}
