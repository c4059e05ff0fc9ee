//! Walk-forward on the shipped data: every out-of-sample window trades
//! parameters chosen from its in-sample days alone.

use std::path::{Path, PathBuf};

use quant_backtest::sweep::{Grid, sort_rows, sweep};
use quant_backtest::walkforward::{
    WalkForwardConfig, side_by_side, walk_forward, write_walk_forward,
};
use quant_backtest::{BacktestConfig, run_backtest};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn grid() -> Grid {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.toml");
    std::fs::write(&p, "[params]\nfast = [5, 10, 20]\nslow = [30, 60]\n").unwrap();
    Grid::load(&p).unwrap()
}

fn wf(anchored: bool) -> WalkForwardConfig {
    WalkForwardConfig {
        train_days: 500,
        test_days: 250,
        anchored,
        sort: "sharpe".into(),
        threads: 2,
    }
}

#[test]
fn out_of_sample_windows_use_only_earlier_choices() {
    let mut cfg = BacktestConfig::load(&root().join("config/examples/sma-600036.toml")).unwrap();
    cfg.goals = Some(toml::from_str("cagr = 0.2\nmax_drawdown = 0.2\nmc_paths = 200").unwrap());
    let g = grid();
    let res = walk_forward(&cfg, &g, &wf(false)).unwrap();
    // 1,709 days: windows start every 250 days while one more OOS day fits
    assert!(res.windows.len() >= 4, "{} windows", res.windows.len());
    let mut total = 0;
    for w in &res.windows {
        assert!(w.is_end < w.oos_start, "{} vs {}", w.is_end, w.oos_start);
        // the choice is the in-sample sweep's winner, computed again here
        let mut is_cfg = cfg.clone();
        is_cfg.backtest.start = Some(w.is_start);
        is_cfg.backtest.end = Some(w.is_end);
        let mut rows = sweep(&is_cfg, &g, 1, |_| {}).unwrap();
        sort_rows(&mut rows, "sharpe").unwrap();
        assert_eq!(rows[0].params, w.chosen);
        // and the out-of-sample segment is an ordinary run with it
        let mut oos_cfg = cfg.clone();
        oos_cfg.backtest.start = Some(w.oos_start);
        oos_cfg.backtest.end = Some(w.oos_end);
        for (k, v) in &w.chosen {
            oos_cfg.strategy.params.insert(k.clone(), v.clone());
        }
        let single = run_backtest(&oos_cfg, |_, _| {}).unwrap();
        assert_eq!(
            single.metrics.final_equity.to_bits(),
            w.oos_metrics.final_equity.to_bits()
        );
        total += w.oos_equity.len();
    }
    // the stitched curve covers every out-of-sample day once, in order
    assert_eq!(res.stitched.len(), total);
    assert!(res.stitched.windows(2).all(|p| p[0].0 < p[1].0));
    let s = side_by_side(&res);
    assert_eq!(s.windows, res.windows.len());
    assert_eq!(s.oos_cagr.to_bits(), res.oos.cagr.to_bits());

    let dir = tempfile::tempdir().unwrap();
    let files = write_walk_forward(&res, &["fast".into(), "slow".into()], dir.path()).unwrap();
    assert_eq!(files.len(), 4);
    // the report: in-sample means, the stitched out-of-sample figures and
    // a Monte Carlo of the stitched curve, against the goals
    let html = std::fs::read_to_string(dir.path().join("walk_forward.html")).unwrap();
    let pct = |x: f64| format!("{:.2}%", x * 100.0);
    for needle in [
        "<h2>Goals</h2>".to_string(),
        format!("In sample (mean of {} windows)", res.windows.len()),
        "Out of sample</th>".to_string(),
        "200 Monte Carlo paths of the stitched out-of-sample daily returns".to_string(),
        format!("<td>{}</td>", pct(s.oos_cagr)),
        format!("<td>{}</td>", pct(s.is_cagr)),
        format!("<td>{}</td>", pct(s.oos_max_drawdown)),
    ] {
        assert!(html.contains(&needle), "{needle} missing");
    }
    assert_eq!(
        html.matches("<tr><td>").count(),
        res.windows.len(),
        "one row per window"
    );
    let csv = std::fs::read_to_string(dir.path().join("walk_forward.csv")).unwrap();
    assert_eq!(csv.lines().count(), res.windows.len() + 1);
    assert!(csv.starts_with("window,is_start,is_end,oos_start,oos_end,fast,slow,is_cagr"));
}

#[test]
fn anchored_windows_keep_the_first_day_and_short_calendars_are_refused() {
    let cfg = BacktestConfig::load(&root().join("config/examples/sma-600036.toml")).unwrap();
    let res = walk_forward(&cfg, &grid(), &wf(true)).unwrap();
    let first = res.windows[0].is_start;
    assert!(res.windows.iter().all(|w| w.is_start == first));
    assert!(res.windows.windows(2).all(|p| p[1].is_end > p[0].is_end));

    let mut too_long = wf(false);
    too_long.train_days = 5000;
    let e = walk_forward(&cfg, &grid(), &too_long)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("walk-forward") && e.contains("fewer than one window"),
        "{e}"
    );
}
