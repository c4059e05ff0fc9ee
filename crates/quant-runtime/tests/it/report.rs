//! The daily report of the shipped main job's last day, with its own
//! backtest as the benchmark: paper and backtest agree exactly.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use quant_backtest::BacktestConfig;
use quant_backtest::run::{prepare, run_prepared};
use quant_engine::NoTap;
use quant_runtime::Runner;
use quant_runtime::report::{
    Benchmark, DailyReport, Health, Inputs, Mode, PlannedOrder, PositionLine,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_main_jobs_last_day_tracks_its_backtest_exactly() {
    let cfg = BacktestConfig::load(&root().join("config/backtest.toml")).unwrap();
    let prepared = prepare(&cfg).unwrap();
    let backtest = run_prepared(&cfg, prepared.clone(), |_, _| {}).unwrap();
    let mut runner = Runner::new(&cfg, prepared).unwrap();
    while runner.step(&mut NoTap).unwrap().is_some() {}
    runner.finish(&mut NoTap).unwrap();
    let paper = runner.result();
    let rec = &paper.record;
    let date = rec.equity.last().unwrap().date;
    let symbols: Vec<_> = runner
        .instruments()
        .iter()
        .map(|i| i.symbol.clone())
        .collect();
    let positions = PositionLine::from_portfolio(runner.engine().portfolio(), &symbols);
    let inputs = Inputs {
        date,
        mode: Mode::Replay,
        strategy: &cfg.strategy.name,
        config: "backtest.toml",
        equity: &rec.equity,
        fills: &rec.fills,
        orders: &rec.orders,
        positions: &positions,
        risk_events: &rec.risk_events,
        limits: cfg.risk.as_ref(),
        backtest: Some(Benchmark {
            equity: &backtest.record.equity,
            fills: &backtest.record.fills,
        }),
        planned: PlannedOrder::from_orders(&rec.orders, date),
        health: Health::default(),
        data_quality: None,
        generated_at: Utc.with_ymd_and_hms(2022, 1, 14, 8, 0, 0).unwrap(),
    };
    let r = DailyReport::build(&inputs);
    let sh = &r.strategy_health;
    assert_eq!(sh.paper_days, rec.equity.len());
    assert_eq!(sh.common_days, rec.equity.len() - 1);
    assert_eq!(sh.tracking_error, Some(0.0));
    assert_eq!(sh.return_gap, Some(0.0));
    assert!(sh.slippage_matched > 100, "{sh:?}");
    assert_eq!(sh.slippage_bps, Some(0.0));
    assert!(!r.flags.tracking_breach && !r.flags.slippage_breach);
    // the figures agree with the backtest's metrics
    let m = &backtest.metrics;
    assert!((r.performance.max_drawdown.unwrap() - m.max_drawdown).abs() < 1e-12);
    assert!((r.performance.cumulative_return.unwrap() - m.total_return).abs() < 1e-12);
    // the positions' values add up to equity − cash
    let eq = r.performance.equity.unwrap();
    let cash = rec.equity.last().unwrap().cash.to_f64();
    let held: f64 = r.positions.iter().filter_map(|p| p.position.value).sum();
    assert!(
        (held + cash - eq).abs() < 1e-6 * eq,
        "{held} + {cash} vs {eq}"
    );
    let dir = tempfile::tempdir().unwrap();
    let paths = r.write_all(dir.path()).unwrap();
    assert_eq!(paths.len(), 3);
    let html = std::fs::read_to_string(&paths[0]).unwrap();
    for bad in ["http://", "https://", "src=", "<script", "<link"] {
        assert!(!html.contains(bad), "{bad}");
    }
    let json = std::fs::read_to_string(&paths[1]).unwrap();
    let back: DailyReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}
