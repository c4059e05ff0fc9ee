//! Historical backtests on the one engine of `quant-engine`.
//!
//! - [`config`]: the TOML run config (`config/backtest.toml`);
//! - [`feed`]: the historical clock and data feed (no look-ahead);
//! - [`run`]: loading data and running a config;
//! - [`metrics`]: performance metrics (empyrical conventions);
//! - [`report`]: `summary.json`, `equity.csv`, `trades.csv`, `orders.csv`, `report.html`;
//! - [`sweep`]: parameter grids and random searches run in parallel
//!   (rayon) over data loaded once;
//! - [`montecarlo`]: bootstrap of a finished run's daily returns or trade
//!   order: CAGR and drawdown distributions, chances of meeting targets;
//! - [`walkforward`]: rolling or anchored in-sample optimisation with
//!   out-of-sample runs stitched into one curve;
//! - [`baseline`]: regression baselines with per-metric tolerances;
//! - [`synthetic`]: deterministic synthetic markets for benchmarks.

pub mod baseline;
pub mod config;
pub mod error;
pub mod feed;
pub mod intraday;
pub mod metrics;
pub mod montecarlo;
pub mod report;
pub mod run;
pub mod sweep;
pub mod synthetic;
pub mod walkforward;

pub use config::BacktestConfig;
pub use error::{Error, Result};
pub use metrics::{Metrics, compute_metrics};
/// A declarative strategy file (`docs/strategy-files.md`), as runs load it.
pub use quant_strategy::rules::file::StrategyFile;
pub use run::{BacktestResult, run_backtest};
