//! Monte Carlo of a finished run: how much of its CAGR and drawdown was
//! luck of the order of events.
//!
//! - **Daily returns** (`Method::Returns`): each path draws the run's
//!   `n` daily returns with replacement, in blocks of `block` consecutive
//!   days (1 = i.i.d.; longer blocks keep volatility clustering), and
//!   compounds them from the initial equity.
//! - **Trade order** (`Method::Trades`): each path draws the run's round
//!   trips (flat to flat per symbol, fees and dividends included, from
//!   `trades.csv` and `corporate_actions.csv`) with replacement and adds
//!   their profits one after another to the initial equity; the path's
//!   CAGR spans the run's trading days.
//!
//! For every path: CAGR (252-day years, as the metrics) and maximum
//! drawdown (a positive fraction, the start counting as a peak). Reported:
//! the 5th/25th/50th/75th/95th percentiles and mean of each, and the
//! probabilities that CAGR ≥ the target, that drawdown ≤ its limit, and of
//! both at once. Seeded: the same run, method, paths and seed give the
//! same numbers.

use std::path::Path;

use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::error::{Error, Result};

/// Trading days per year.
const YEAR: f64 = 252.0;

/// What a path resamples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum Method {
    /// Daily returns in blocks of `block` days.
    Returns {
        /// Block length in days (≥ 1).
        block: usize,
    },
    /// Round-trip profits.
    Trades,
}

/// Settings of a Monte Carlo run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct McConfig {
    /// What to resample.
    pub method: Method,
    /// Number of paths.
    pub paths: usize,
    /// Generator seed.
    pub seed: u64,
    /// CAGR target (fraction, 0.2 = 20 %).
    pub target_cagr: f64,
    /// Drawdown limit (positive fraction).
    pub max_drawdown: f64,
}

/// Percentiles (linear interpolation) and mean of a figure over paths.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Distribution {
    /// 5th percentile.
    pub p5: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Mean.
    pub mean: f64,
}

/// The result (`monte_carlo.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McResult {
    /// Settings.
    pub config: McConfig,
    /// The run's own CAGR.
    pub observed_cagr: f64,
    /// The run's own maximum drawdown.
    pub observed_max_drawdown: f64,
    /// Daily returns (or round trips) resampled per path.
    pub sample_size: usize,
    /// CAGR over paths.
    pub cagr: Distribution,
    /// Maximum drawdown over paths.
    pub max_drawdown: Distribution,
    /// Share of paths with CAGR ≥ the target.
    pub p_cagr: f64,
    /// Share of paths with drawdown ≤ the limit.
    pub p_drawdown: f64,
    /// Share of paths meeting both.
    pub p_both: f64,
}

/// A finished run as the simulation needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    /// Equity at each trading day's close.
    pub equity: Vec<f64>,
    /// Round-trip profits in order of closing, currency units.
    pub round_trips: Vec<f64>,
}

impl RunData {
    /// The data of a run in memory (what [`load_run`] reads back from its
    /// files).
    pub fn from_record(record: &quant_engine::RunRecord) -> Self {
        Self {
            equity: record.equity.iter().map(|p| p.equity).collect(),
            round_trips: crate::metrics::round_trips(record),
        }
    }
}

fn out_err(path: &Path, message: String) -> Error {
    Error::Config {
        path: path.to_path_buf(),
        message,
    }
}

/// Reads `equity.csv`, `trades.csv` and `corporate_actions.csv` of a run's
/// output folder.
///
/// # Errors
/// [`Error::Config`] naming the file and line of a missing file or a bad
/// row.
pub fn load_run(dir: &Path) -> Result<RunData> {
    let read = |name: &str| -> Result<(std::path::PathBuf, csv::Reader<std::fs::File>)> {
        let p = dir.join(name);
        let r = csv::Reader::from_path(&p).map_err(|e| out_err(&p, e.to_string()))?;
        Ok((p, r))
    };
    let (p, mut r) = read("equity.csv")?;
    let mut equity = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| out_err(&p, e.to_string()))?;
        let v: f64 = rec
            .get(1)
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| out_err(&p, format!("line {}: no equity number", i + 2)))?;
        equity.push(v);
    }
    if equity.len() < 2 {
        return Err(out_err(&p, "fewer than two equity points".into()));
    }
    // dividends by (symbol, date) credited to the open round trip
    let mut dividends: Vec<(String, String, f64)> = Vec::new();
    if dir.join("corporate_actions.csv").is_file() {
        let (p, mut r) = read("corporate_actions.csv")?;
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| out_err(&p, e.to_string()))?;
            let amount: f64 = rec
                .get(4)
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| out_err(&p, format!("line {}: no amount", i + 2)))?;
            dividends.push((rec[1].to_string(), rec[0].to_string(), amount));
        }
    }
    let (p, mut r) = read("trades.csv")?;
    let mut trips = crate::metrics::RoundTrips::default();
    let mut div = dividends.into_iter().peekable();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| out_err(&p, e.to_string()))?;
        let bad = || out_err(&p, format!("line {}: bad trade row", i + 2));
        let date = rec.get(0).ok_or_else(bad)?.to_string();
        while let Some((sym, _, amount)) = div.next_if(|d| d.1 <= date) {
            trips.dividend(&sym, amount);
        }
        let num =
            |k: usize| -> Result<f64> { rec.get(k).and_then(|x| x.parse().ok()).ok_or_else(bad) };
        let (q, px) = (num(3)?, num(4)?);
        let fees = num(5)? + num(6)? + num(7)?;
        let buy = rec.get(2) == Some("buy");
        let symbol = rec.get(1).ok_or_else(bad)?;
        let (signed, flow) = if buy { (q, -q * px) } else { (-q, q * px) };
        trips.fill(symbol, signed, flow - fees);
    }
    Ok(RunData {
        equity,
        round_trips: trips.closed,
    })
}

/// CAGR over `days` trading days from `first` to `last`.
fn cagr(first: f64, last: f64, days: usize) -> f64 {
    if last <= 0.0 {
        return -1.0;
    }
    (last / first).powf(YEAR / days as f64) - 1.0
}

/// Maximum drawdown of a path given step by step.
struct Drawdown {
    peak: f64,
    worst: f64,
}

impl Drawdown {
    fn new(start: f64) -> Self {
        Self {
            peak: start,
            worst: 0.0,
        }
    }

    fn step(&mut self, v: f64) {
        self.peak = self.peak.max(v);
        self.worst = self.worst.max((self.peak - v) / self.peak);
    }
}

fn distribution(mut xs: Vec<f64>) -> Distribution {
    xs.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = (xs.len() - 1) as f64 * p;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64)
    };
    Distribution {
        p5: q(0.05),
        p25: q(0.25),
        p50: q(0.5),
        p75: q(0.75),
        p95: q(0.95),
        mean: xs.iter().sum::<f64>() / xs.len() as f64,
    }
}

/// Most paths one simulation draws: 1,000,000 (each keeps its CAGR and
/// drawdown).
pub const MAX_PATHS: usize = 1_000_000;

/// Longest bootstrap block: 10,000 days.
pub const MAX_BLOCK: usize = 10_000;

/// Runs the simulation.
///
/// # Errors
/// [`Error::Config`] (with an empty path) for paths outside [1,
/// [`MAX_PATHS`]], a block outside [1, [`MAX_BLOCK`]] days, a run of fewer
/// than two equity points, or a trades bootstrap of a run without round
/// trips.
pub fn monte_carlo(run: &RunData, cfg: McConfig) -> Result<McResult> {
    let bad = |m: &str| Error::Config {
        path: std::path::PathBuf::new(),
        message: format!("monte-carlo: {m}"),
    };
    if cfg.paths == 0 {
        return Err(bad("paths must be at least 1"));
    }
    if cfg.paths > MAX_PATHS {
        return Err(bad(&format!(
            "paths must be at most {MAX_PATHS}, got {}",
            cfg.paths
        )));
    }
    if let Method::Returns { block } = cfg.method
        && block > MAX_BLOCK
    {
        return Err(bad(&format!(
            "block must be at most {MAX_BLOCK} days, got {block}"
        )));
    }
    if run.equity.len() < 2 {
        return Err(bad("fewer than two equity points"));
    }
    let eq = &run.equity;
    let n = eq.len() - 1;
    let start = eq[0];
    let returns = crate::metrics::simple_returns(eq);
    let mut observed = Drawdown::new(start);
    for &v in &eq[1..] {
        observed.step(v);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
    let mut cagrs = Vec::with_capacity(cfg.paths);
    let mut dds = Vec::with_capacity(cfg.paths);
    let sample_size = match cfg.method {
        Method::Returns { block } => {
            if block == 0 {
                return Err(bad("block must be at least 1 day"));
            }
            let block = block.min(n);
            for _ in 0..cfg.paths {
                let mut v = start;
                let mut dd = Drawdown::new(start);
                let mut taken = 0;
                while taken < n {
                    let from = rng.random_range(0..=n - block);
                    for r in &returns[from..from + block.min(n - taken)] {
                        v *= 1.0 + r;
                        dd.step(v);
                    }
                    taken += block.min(n - taken);
                }
                cagrs.push(cagr(start, v, n));
                dds.push(dd.worst);
            }
            n
        }
        Method::Trades => {
            let trips = &run.round_trips;
            if trips.is_empty() {
                return Err(bad("the run closed no round trip"));
            }
            for _ in 0..cfg.paths {
                let mut v = start;
                let mut dd = Drawdown::new(start);
                for _ in 0..trips.len() {
                    v += trips[rng.random_range(0..trips.len())];
                    dd.step(v.max(0.0));
                }
                cagrs.push(cagr(start, v, n));
                dds.push(dd.worst);
            }
            trips.len()
        }
    };
    let share = |f: &dyn Fn(usize) -> bool| {
        (0..cfg.paths).filter(|&i| f(i)).count() as f64 / cfg.paths as f64
    };
    let p_cagr = share(&|i| cagrs[i] >= cfg.target_cagr);
    let p_drawdown = share(&|i| dds[i] <= cfg.max_drawdown);
    let p_both = share(&|i| cagrs[i] >= cfg.target_cagr && dds[i] <= cfg.max_drawdown);
    Ok(McResult {
        config: cfg,
        observed_cagr: cagr(start, eq[n], n),
        observed_max_drawdown: observed.worst,
        sample_size,
        cagr: distribution(cagrs),
        max_drawdown: distribution(dds),
        p_cagr,
        p_drawdown,
        p_both,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(method: Method) -> McConfig {
        McConfig {
            method,
            paths: 500,
            seed: 3,
            target_cagr: 0.2,
            max_drawdown: 0.2,
        }
    }

    #[test]
    fn a_constant_return_has_no_spread() {
        // +0.1 % a day for 252 days: CAGR = 1.001^252 − 1, no drawdown
        let equity: Vec<f64> = (0..=252).map(|k| 100.0 * 1.001f64.powi(k)).collect();
        let run = RunData {
            equity,
            round_trips: vec![],
        };
        let r = monte_carlo(&run, cfg(Method::Returns { block: 1 })).unwrap();
        let want = 1.001f64.powi(252) - 1.0;
        assert!((r.observed_cagr - want).abs() < 1e-12);
        for x in [r.cagr.p5, r.cagr.p50, r.cagr.p95, r.cagr.mean] {
            assert!((x - want).abs() < 1e-9, "{x}");
        }
        assert_eq!(r.max_drawdown.p95, 0.0);
        assert_eq!((r.p_cagr, r.p_drawdown, r.p_both), (1.0, 1.0, 1.0));
    }

    #[test]
    fn trades_bootstrap_by_hand_and_seeded() {
        // two trips, +10 and −5 on 100: every path is a sum of two draws
        let run = RunData {
            equity: vec![100.0, 100.0, 105.0],
            round_trips: vec![10.0, -5.0],
        };
        let a = monte_carlo(&run, cfg(Method::Trades)).unwrap();
        let b = monte_carlo(&run, cfg(Method::Trades)).unwrap();
        assert_eq!(a, b, "same seed, same result");
        // final equity ∈ {120, 105, 90}; worst drawdown 10 % (−5, −5 from 100)
        assert!(a.max_drawdown.p95 <= 0.1 + 1e-12);
        assert!(a.p_both <= a.p_cagr.min(a.p_drawdown));
        // P(both draws −5) ≈ 1/4: CAGR < 0 on those
        let losing = 1.0 - a.p_cagr;
        assert!((0.15..0.35).contains(&losing), "{losing}");
        let mut c = cfg(Method::Trades);
        c.seed = 4;
        assert_ne!(monte_carlo(&run, c).unwrap(), a);
    }

    #[test]
    fn bad_settings_are_refused() {
        let run = RunData {
            equity: vec![1.0, 1.1],
            round_trips: vec![],
        };
        assert!(monte_carlo(&run, cfg(Method::Trades)).is_err());
        assert!(monte_carlo(&run, cfg(Method::Returns { block: 0 })).is_err());
        let mut c = cfg(Method::Returns { block: 5 });
        c.paths = 0;
        assert!(monte_carlo(&run, c).is_err());
    }
}
