//! The backtest driver's per-bar path does no heap allocation.
//!
//! A counting global allocator (`stats_alloc`) is installed for this test
//! binary alone (`harness = false`: no test threads run beside it). A
//! synthetic market is stepped a day at a time through the event loop
//! (`Stepper::day`: the feed releases the day, the venue's open and close
//! phases, the strategy's bars, the day's close), counting allocations and
//! reallocations per day. A day on which no order was created or updated,
//! no fill and no dividend was booked must allocate nothing: the bars,
//! the history the strategy reads, the strategy's indicators, the
//! equity point and the driver's buffers all reuse memory held from the
//! start. The first day may allocate (a strategy sizes its indicators for
//! the universe at its first bars), and days that trade may (an order's
//! record, a position opened); the test shows they are the only ones.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use quant_backtest::feed::{HistoricalClock, HistoricalFeed, SignalPrices};
use quant_backtest::synthetic::synthetic_market;
use quant_engine::{Clock, CorporateActions, DataFeed, Engine, EngineConfig, Stepper};
use quant_exec::{SimConfig, SimulatedVenue, Venue};
use rust_decimal::Decimal;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

fn allocations() -> usize {
    let s = GLOBAL.stats();
    s.allocations + s.reallocations
}

/// Steps `strategy` over `n_sym` × `n_days` synthetic bars; returns the
/// days that allocated with their counts, the days that traded, the
/// number of days and the first day.
fn step(
    strategy: &str,
    n_sym: usize,
    n_days: usize,
) -> (
    Vec<(NaiveDate, usize)>,
    BTreeSet<NaiveDate>,
    usize,
    NaiveDate,
) {
    let (instruments, series, cal) = synthetic_market(n_sym, n_days, 7);
    let first = cal.days()[0];
    let mut clock = HistoricalClock::new(&cal);
    let mut feed = HistoricalFeed::new(instruments, series, None, SignalPrices::Raw, &cal);
    let mut venue = SimulatedVenue::new(SimConfig {
        slippage_bps: Decimal::from(5),
        ..SimConfig::default()
    });
    let config = EngineConfig {
        corporate_actions: CorporateActions::None,
        risk: None,
        ..Default::default()
    };
    let insts = feed.instruments().to_vec();
    let t1 = insts.iter().map(|i| venue.t_plus_one(i)).collect();
    let strategy = quant_strategy::build(strategy, toml::Table::new()).expect("strategy");
    let mut engine = Engine::new(config, insts, t1, strategy).expect("engine");
    let mut stepper = Stepper::default();
    let mut allocated = Vec::with_capacity(n_days);
    let mut days = 0;
    while let Some(day) = clock.next_session() {
        let before = allocations();
        stepper
            .day(&mut engine, day, &mut feed, &mut venue)
            .expect("day");
        let n = allocations() - before;
        if n > 0 {
            allocated.push((day, n));
        }
        days += 1;
    }
    stepper.finish(&mut engine, &mut venue).expect("finish");
    let record = engine.into_record();
    let mut traded: BTreeSet<NaiveDate> = record.fills.iter().map(|f| f.date).collect();
    for o in &record.orders {
        traded.insert(o.created);
        traded.insert(o.updated);
    }
    traded.extend(record.dividends.iter().map(|d| d.date));
    (allocated, traded, days, first)
}

fn check(strategy: &str, n_sym: usize, n_days: usize) {
    let (allocated, traded, days, first) = step(strategy, n_sym, n_days);
    let quiet: Vec<_> = allocated
        .iter()
        .filter(|(d, _)| !traded.contains(d) && *d != first)
        .collect();
    let quiet_days = days - traded.len();
    println!(
        "{strategy}: {days} days, {} trading, {} allocating; {quiet_days} quiet days, {} of them allocating",
        traded.len(),
        allocated.len(),
        quiet.len()
    );
    assert!(
        quiet_days > days / 4,
        "{strategy}: the run must have quiet days to check ({quiet_days} of {days})"
    );
    assert!(
        quiet.is_empty(),
        "{strategy}: days without orders, fills or dividends allocated: {:?}",
        &quiet[..quiet.len().min(10)]
    );
}

fn main() {
    // `cargo nextest` lists a binary's tests first (libtest's format)
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("quiet_days_do_not_allocate: test");
        }
        return;
    }
    // a long hold: one rebalance, then thousands of quiet days
    check("buy_and_hold", 200, 3000);
    // moving averages over a few instruments: days between the crosses
    check("sma_cross", 3, 3000);
    println!("ok");
}
