//! Scale benchmark: `sma_cross` over 1000 synthetic instruments × 5000
//! trading days (5 million bar-events) on one thread, A-share rules,
//! next-open fills, 5 bps slippage.
//!
//! Reported per run:
//! - bar-events per second **with preparation counted**: bar-events over
//!   the time from the loaded series to the end of the run, i.e. the
//!   feed's layout (`HistoricalFeed::new`), the venue, strategy and engine
//!   set up (`Engine::new`), and the event loop (`driver::run`); and the
//!   loop alone. Generating the synthetic market stands in for loading
//!   data from disk and is reported separately;
//! - memory held per bar-event: the loop's peak of live heap bytes
//!   (counted by the global allocator, sampled at the end of every day and
//!   after the run, when the feed, the venue and the run's record are
//!   alive), minus those before the data was generated, over bar-events;
//!   the feed's share alone; and the process's peak resident set (`VmHWM`),
//!   which also counts the generated series and any copy made from them.
//!
//! Run: `cargo bench -p quant-backtest --bench scale`
//! (optional arguments after `--`: SYMBOLS DAYS; `SCALE_STRATEGY=buy_and_hold`
//! measures the loop with one rebalance instead of `sma_cross`).

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use quant_backtest::feed::{HistoricalClock, HistoricalFeed, SignalPrices};
use quant_backtest::synthetic::synthetic_market;
use quant_core::Cash;
use quant_engine::{CorporateActions, Engine, EngineConfig, run};
use quant_exec::{SimConfig, SimulatedVenue, Venue};
use rust_decimal::Decimal;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Live heap bytes now.
fn live_heap() -> i64 {
    let s = GLOBAL.stats();
    // reallocations are counted in both (growth allocated, shrinking deallocated)
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

/// Heap allocations (including reallocations) so far.
fn allocations() -> usize {
    let s = GLOBAL.stats();
    s.allocations + s.reallocations
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(key)).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

fn run_scale(n_sym: usize, n_days: usize) {
    let heap0 = live_heap();
    let t0 = Instant::now();
    let (instruments, series, cal) = synthetic_market(n_sym, n_days, 42);
    let generated = t0.elapsed();
    let heap_data = live_heap() - heap0;
    let mut clock = HistoricalClock::new(&cal);

    // preparation: from the loaded series to the first bar
    let t_prep = Instant::now();
    let mut feed = HistoricalFeed::new(instruments, series, None, SignalPrices::Raw, &cal);
    let laid_out = t_prep.elapsed();
    let heap_feed = live_heap() - heap0;
    let mut venue = SimulatedVenue::new(SimConfig {
        slippage_bps: Decimal::from(5),
        ..SimConfig::default()
    });
    let name = std::env::var("SCALE_STRATEGY").unwrap_or_else(|_| "sma_cross".into());
    let strategy = quant_strategy::build(&name, toml::Table::new()).unwrap();
    let config = EngineConfig {
        initial_cash: Cash(Decimal::from(1_000_000_000)),
        corporate_actions: CorporateActions::None,
        size_at: Default::default(),
        risk: None,
        ..Default::default()
    };
    let insts = quant_engine::DataFeed::instruments(&feed).to_vec();
    let t1 = insts.iter().map(|i| venue.t_plus_one(i)).collect();
    let engine = Engine::new(config, insts, t1, strategy).unwrap();
    let prep = t_prep.elapsed();

    let allocs0 = allocations();
    let t_loop = Instant::now();
    // the loop's peak of live heap, sampled at the end of every day
    let mut peak = 0i64;
    let rec = run(engine, &mut clock, &mut feed, &mut venue, |_| {
        peak = peak.max(live_heap());
    })
    .unwrap();
    let secs = t_loop.elapsed().as_secs_f64();
    let allocs = allocations() - allocs0;
    let heap_run = peak.max(live_heap()) - heap0;
    let total = secs + prep.as_secs_f64();
    let events = (n_sym * n_days) as f64;
    println!(
        "{n_sym:>5} symbols x {n_days} days: {events:.0} bar-events, {} fills, {} orders\n\
         \x20 with preparation: {:.3} s = {:.2} M bar-events/s (layout {:.1} ms, engine set up {:.1} ms)\n\
         \x20 loop alone:       {secs:.3} s = {:.2} M bar-events/s; {allocs} heap allocations in the loop ({:.3} per bar-event)\n\
         \x20 held during the run: {:.1} bytes/bar-event (feed {:.1}, engine, record and venue {:.1}); generated series {:.1} bytes/bar-event\n\
         \x20 data generated in {generated:.2?}; peak RSS {} MiB",
        rec.fills.len(),
        rec.orders.len(),
        total,
        events / total / 1e6,
        laid_out.as_secs_f64() * 1e3,
        (prep - laid_out).as_secs_f64() * 1e3,
        events / secs / 1e6,
        allocs as f64 / events,
        heap_run as f64 / events,
        heap_feed as f64 / events,
        (heap_run - heap_feed) as f64 / events,
        heap_data as f64 / events,
        status_kib("VmHWM:") / 1024,
    );
    drop((rec, feed, venue));
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if let [s, d] = args[..] {
        run_scale(s, d);
        return;
    }
    // smallest first, so each peak-RSS reading is that run's own peak
    for n in [250, 500, 1000] {
        run_scale(n, 5000);
    }
}
