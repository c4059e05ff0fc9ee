//! Parameter sweeps on the golden SMA case: the same numbers as single
//! runs, whatever the thread count, sorted, with failures as rows.

use std::path::{Path, PathBuf};

use quant_backtest::sweep::{Grid, Mode, sort_rows, sweep, sweep_csv};
use quant_backtest::{BacktestConfig, run_backtest};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn grid(text: &str) -> Grid {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("grid.toml");
    std::fs::write(&p, text).unwrap();
    Grid::load(&p).unwrap()
}

#[test]
fn a_sweep_row_is_the_single_run_and_threads_do_not_matter() {
    let cfg = BacktestConfig::load(&root().join("config/examples/sma-600036.toml")).unwrap();
    let g = grid("[params]\nfast = [5, 10, 20]\nslow = [20, 30]\n");
    assert_eq!(g.combinations().len(), 6);
    let one = sweep(&cfg, &g, 1, |_| {}).unwrap();
    let two = sweep(&cfg, &g, 2, |_| {}).unwrap();
    let params = vec!["fast".to_string(), "slow".to_string()];
    assert_eq!(sweep_csv(&one, &params), sweep_csv(&two, &params));

    // fast 10 / slow 30 is the config itself
    let single = run_backtest(&cfg, |_, _| {}).unwrap();
    let row = one
        .iter()
        .find(|r| {
            r.params["fast"].as_integer() == Some(10) && r.params["slow"].as_integer() == Some(30)
        })
        .unwrap();
    let m = row.metrics.as_ref().unwrap();
    assert_eq!(m.sharpe.to_bits(), single.metrics.sharpe.to_bits());
    assert_eq!(
        m.final_equity.to_bits(),
        single.metrics.final_equity.to_bits()
    );
    assert_eq!(m.num_trades, single.metrics.num_trades);

    // fast 20 = slow 20: refused by the strategy, a row with the error
    let mut rows = one;
    let bad = rows
        .iter()
        .find(|r| {
            r.params["fast"].as_integer() == Some(20) && r.params["slow"].as_integer() == Some(20)
        })
        .unwrap();
    assert!(bad.metrics.is_none());
    assert!(
        bad.error.as_deref().unwrap().contains("fast"),
        "{:?}",
        bad.error
    );

    sort_rows(&mut rows, "sharpe").unwrap();
    let s: Vec<f64> = rows.iter().map(|r| r.metric("sharpe")).collect();
    assert!(s[..5].windows(2).all(|w| w[0] >= w[1]), "{s:?}");
    assert!(rows[5].error.is_some(), "failures last");
    sort_rows(&mut rows, "max_drawdown").unwrap();
    let d: Vec<f64> = rows.iter().map(|r| r.metric("max_drawdown")).collect();
    assert!(
        d[..5].windows(2).all(|w| w[0] <= w[1]),
        "drawdown ascending: {d:?}"
    );
    assert!(
        sort_rows(&mut rows, "profit")
            .unwrap_err()
            .contains("sharpe")
    );
}

#[test]
fn random_mode_draws_the_same_sample_for_the_same_seed() {
    let text = |seed: u64| {
        format!(
            "mode = \"random\"\nsamples = 5\nseed = {seed}\n[params]\nfast = [3, 5, 8, 10, 12]\nslow = [20, 30, 40, 60]\n"
        )
    };
    let a = grid(&text(7));
    assert_eq!(a.mode, Mode::Random);
    let (x, y, z) = (
        a.combinations(),
        grid(&text(7)).combinations(),
        grid(&text(8)).combinations(),
    );
    assert_eq!(x.len(), 5);
    assert_eq!(x, y);
    assert_ne!(x, z);
    let all = a.all();
    assert_eq!(all.len(), 20);
    assert!(x.iter().all(|c| all.contains(c)));
    let mut distinct = x.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 5);
}

#[test]
fn grid_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.toml");
    for (text, want) in [
        ("[params]\nfast = []\n", "params.fast"),
        ("mode = \"random\"\n[params]\nfast = [1]\n", "samples"),
        ("modes = \"grid\"\n[params]\nfast = [1]\n", "modes"),
        ("[params]\n", "no parameter"),
    ] {
        std::fs::write(&p, text).unwrap();
        let e = Grid::load(&p).unwrap_err().to_string();
        assert!(e.contains("g.toml") && e.contains(want), "{text}: {e}");
    }
}

#[test]
fn shipped_grids_and_the_benchmark_config_load() {
    let g = Grid::load(&root().join("config/grids/sma-cross.toml")).unwrap();
    assert_eq!(g.combinations().len(), 12);
    let g = Grid::load(&root().join("config/grids/sma-cross-1000.toml")).unwrap();
    assert_eq!(g.combinations().len(), 1000);
    let cfg = BacktestConfig::load(&root().join("config/examples/sma-universe.toml")).unwrap();
    assert_eq!(cfg.strategy.name, "sma_cross");
}
