//! Monte Carlo over a real run's outputs.

use std::path::{Path, PathBuf};

use quant_backtest::montecarlo::{McConfig, Method, load_run, monte_carlo};
use quant_backtest::report::write_outputs;
use quant_backtest::{BacktestConfig, run_backtest};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_main_runs_outputs_reload_and_bootstrap() {
    let cfg = BacktestConfig::load(&root().join("config/backtest.toml")).unwrap();
    let res = run_backtest(&cfg, |_, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_outputs(&res, dir.path()).unwrap();
    let data = load_run(dir.path()).unwrap();
    // the same round trips the metrics count, and the same equity curve
    assert_eq!(data.round_trips.len(), res.metrics.num_round_trips);
    let wins = data.round_trips.iter().filter(|p| **p > 0.0).count() as f64;
    let rate = res.metrics.win_rate.unwrap();
    assert!((wins / data.round_trips.len() as f64 - rate).abs() < 1e-12);
    assert_eq!(data.equity.len(), res.record.equity.len());

    let cfg = |method| McConfig {
        method,
        paths: 400,
        seed: 11,
        target_cagr: 0.2,
        max_drawdown: 0.2,
    };
    let r = monte_carlo(&data, cfg(Method::Returns { block: 1 })).unwrap();
    assert!((r.observed_cagr - res.metrics.cagr).abs() < 1e-9);
    assert!((r.observed_max_drawdown - res.metrics.max_drawdown).abs() < 1e-9);
    let d = r.cagr;
    assert!(d.p5 <= d.p25 && d.p25 <= d.p50 && d.p50 <= d.p75 && d.p75 <= d.p95);
    assert!(r.p_both <= r.p_cagr.min(r.p_drawdown));
    // i.i.d. resampling keeps the mean daily return: the median CAGR is
    // near the run's
    assert!(
        (d.p50 - r.observed_cagr).abs() < 0.05,
        "{d:?} vs {}",
        r.observed_cagr
    );
    let t = monte_carlo(&data, cfg(Method::Trades)).unwrap();
    assert_eq!(t.sample_size, data.round_trips.len());
    assert_eq!(monte_carlo(&data, cfg(Method::Trades)).unwrap(), t);
}
