//! Scale benchmark: `sma_cross` over 1000 synthetic instruments × 5000
//! trading days (5 million bar-events) on one thread, reporting bar-events
//! per second and peak resident memory. Also runs 250 × 5000 and 500 × 5000
//! to show how memory grows with the data.
//!
//! Run: `cargo bench -p quant-backtest --bench scale`
//! (optional arguments after `--`: SYMBOLS DAYS; `SCALE_STRATEGY=buy_and_hold`
//! measures the loop with one rebalance instead of `sma_cross`).

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use quant_backtest::feed::{HistoricalClock, HistoricalFeed, SignalPrices};
use quant_backtest::synthetic::synthetic_market;
use quant_core::Cash;
use quant_engine::{CorporateActions, EngineConfig, run_strategy};
use quant_exec::{SimConfig, SimulatedVenue};
use rust_decimal::Decimal;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

fn run(n_sym: usize, n_days: usize) {
    let t0 = Instant::now();
    let (instruments, series, cal) = synthetic_market(n_sym, n_days, 42);
    let generated = t0.elapsed();
    let mut clock = HistoricalClock::new(&cal);
    let t_feed = Instant::now();
    let mut feed = HistoricalFeed::new(instruments, series, None, SignalPrices::Raw, &cal);
    let laid_out = t_feed.elapsed();
    let mut venue = SimulatedVenue::new(SimConfig::default());
    let name = std::env::var("SCALE_STRATEGY").unwrap_or_else(|_| "sma_cross".into());
    let strategy = quant_strategy::build(&name, toml::Table::new()).unwrap();
    let config = EngineConfig {
        initial_cash: Cash(Decimal::from(1_000_000_000)),
        corporate_actions: CorporateActions::None,
        size_at: Default::default(),
        risk: None,
        ..Default::default()
    };
    let t1 = Instant::now();
    let rec = run_strategy(config, &mut clock, &mut feed, &mut venue, strategy, |_| {}).unwrap();
    let secs = t1.elapsed().as_secs_f64();
    let events = (n_sym * n_days) as f64;
    println!(
        "{n_sym:>5} symbols x {n_days} days: {:>9.0} bar-events in {secs:.3} s = {:.2} M bar-events/s; {} fills; data generated in {:.2?}, laid out in {:.2?}; peak RSS {} MiB",
        events,
        events / secs / 1e6,
        rec.fills.len(),
        generated,
        laid_out,
        peak_rss_kib() / 1024
    );
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if let [s, d] = args[..] {
        run(s, d);
        return;
    }
    // smallest first, so each peak-RSS reading is that run's own peak
    for n in [250, 500, 1000] {
        run(n, 5000);
    }
}
