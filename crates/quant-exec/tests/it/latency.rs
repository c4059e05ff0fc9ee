//! Order latency in milliseconds at the simulated venue: on intraday bars
//! an order reaches the market `latency_ms` after its decision (the
//! deciding bar's close), so in a continuous session it misses the next
//! bar's open and fills at the one after, while the lunch break absorbs
//! it; on daily bars the night does, and only same-close fills move.

use chrono::NaiveDate;
use quant_core::{
    Bar, Cash, Instrument, InstrumentIndex, Order, OrderId, OrderQty, OrderType, Quantity, Side,
    Symbol, UnixNanos,
};
use quant_exec::{
    FillTiming, MarketState, Phase, Portfolio, SimConfig, SimulatedVenue, Venue, VenueEvent,
};
use rust_decimal_macros::dec;

const MIN: i64 = 60_000_000_000;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()
}

fn inst() -> Instrument {
    Instrument::infer(Symbol::new("510300.SH").unwrap(), false).unwrap()
}

fn buy() -> Order {
    Order::new(
        OrderId(1),
        InstrumentIndex(0),
        Symbol::new("510300.SH").unwrap(),
        Side::Buy,
        OrderType::Market,
        OrderQty::Units(Quantity::from_units(1000)),
        day(),
    )
}

/// Drives bars `k` = 0, 1, … (open price `3 + k/100`), each with the
/// instants `times[k]` (None: daily), the order submitted after bar 0's
/// open; returns the bar whose fill it got and the phase.
fn fill_bar(cfg: SimConfig, times: &[Option<(i64, i64)>]) -> Option<(usize, bool)> {
    let mut v = SimulatedVenue::new(cfg);
    let p = Portfolio::new(Cash(dec!(1_000_000)), 1);
    let instruments = [inst()];
    for (k, t) in times.iter().enumerate() {
        let px = 3.0 + k as f64 / 100.0;
        let bars = [Some(Bar {
            date: day(),
            open: px,
            high: px + 0.05,
            low: px - 0.05,
            close: px + 0.01,
            pre_close: f64::NAN,
            volume: 1e8,
            amount: f64::NAN,
            adj_factor: 1.0,
        })];
        let market = MarketState {
            date: day(),
            instruments: &instruments,
            bars: &bars,
            prev_close: &[f64::NAN],
            listing_day: &[None],
            bar_time: t.map(|(a, b)| (UnixNanos(a), UnixNanos(b))),
        };
        for (phase, at_open) in [(Phase::Open, true), (Phase::Close, false)] {
            let mut ev = Vec::new();
            v.on_phase(phase, &market, &p, &mut ev);
            if ev.iter().any(|e| matches!(e, VenueEvent::Filled { .. })) {
                return Some((k, at_open));
            }
            if k == 0 && at_open {
                // decided on bar 0 (the engine submits between open and close)
                v.submit(&buy(), &mut Vec::new());
            }
        }
    }
    None
}

fn cfg(timing: FillTiming, ms: u64) -> SimConfig {
    SimConfig {
        timing,
        latency_ms: ms,
        ..SimConfig::default()
    }
}

#[test]
fn milliseconds_of_latency_on_five_minute_bars() {
    // 10:00-10:05, 10:05-10:10, 10:10-10:15 (instants in minutes)
    let cont: Vec<_> = (0..3)
        .map(|k| Some(((600 + 5 * k) * MIN, (605 + 5 * k) * MIN)))
        .collect();
    assert_eq!(
        fill_bar(cfg(FillTiming::NextOpen, 0), &cont),
        Some((1, true))
    );
    // 200 ms after 10:05 the 10:05 open has passed: the 10:10 open
    assert_eq!(
        fill_bar(cfg(FillTiming::NextOpen, 200), &cont),
        Some((2, true))
    );
    // same-close: the deciding bar's close is gone, so the next bar's close
    assert_eq!(
        fill_bar(cfg(FillTiming::SameClose, 0), &cont),
        Some((0, false))
    );
    assert_eq!(
        fill_bar(cfg(FillTiming::SameClose, 200), &cont),
        Some((1, false))
    );
    // a six-minute latency skips a whole bar more
    assert_eq!(fill_bar(cfg(FillTiming::NextOpen, 6 * 60_000), &cont), None);
    // decided at the 11:30 close: the 13:00 open is long after
    let lunch = vec![Some((685 * MIN, 690 * MIN)), Some((780 * MIN, 785 * MIN))];
    assert_eq!(
        fill_bar(cfg(FillTiming::NextOpen, 200), &lunch),
        Some((1, true))
    );
}

#[test]
fn milliseconds_of_latency_on_daily_bars() {
    let daily = vec![None, None, None];
    for ms in [0, 200] {
        assert_eq!(
            fill_bar(cfg(FillTiming::NextOpen, ms), &daily),
            Some((1, true)),
            "{ms}"
        );
    }
    assert_eq!(
        fill_bar(cfg(FillTiming::SameClose, 0), &daily),
        Some((0, false))
    );
    assert_eq!(
        fill_bar(cfg(FillTiming::SameClose, 200), &daily),
        Some((1, false))
    );
    // out of range
    let e = cfg(FillTiming::NextOpen, 86_400_001)
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("latency_ms"), "{e}");
}
