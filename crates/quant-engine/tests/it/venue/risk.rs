//! The risk gate in the event loop, with hand-computed numbers: blocked
//! orders are rejected with reason `risk` and recorded with the rule and
//! numbers; breaker trips are recorded and halt buys, and a drawdown trip
//! with flattening sells what is held.

use quant_core::{OrderQty, OrderStatus, RejectReason, Side};
use quant_engine::{CorporateActions, RiskEventKind};
use quant_exec::SimConfig;
use quant_risk::{BreakerConfig, RiskConfig, RiskLimits};

use super::harness::*;

const DAYS: [&str; 6] = [
    "2024-03-04",
    "2024-03-05",
    "2024-03-06",
    "2024-03-07",
    "2024-03-08",
    "2024-03-11",
];

/// A run from 100,000 CNY with default fills and no corporate actions.
fn run_100k(
    feed: &mut Feed,
    risk: Option<RiskConfig>,
    strategy: Box<dyn quant_strategy::Strategy>,
) -> quant_engine::RunRecord {
    run_with_risk(
        feed,
        SimConfig::default(),
        100_000.0,
        CorporateActions::None,
        risk,
        strategy,
    )
}

fn flat_feed(closes: [f64; 6]) -> Feed {
    let bars = DAYS
        .iter()
        .zip(closes)
        .map(|(day, c)| Some(bar(day, c, c, c, c)))
        .collect();
    Feed::new(vec![inst("600036.SH")], &DAYS, vec![bars])
}

#[test]
fn a_buy_over_the_position_limit_is_blocked_with_its_numbers() {
    let mut feed = flat_feed([10.0; 6]);
    let risk = RiskConfig {
        limits: RiskLimits {
            max_position_weight: Some(0.3),
            ..Default::default()
        },
        ..Default::default()
    };
    // 4,000 shares × 10 = 40,000 of 100,000: 40 % > 30 %; then 2,000: 20 %
    let script = Script(vec![
        (d(DAYS[0]), 0, Side::Buy, units(4000)),
        (d(DAYS[1]), 0, Side::Buy, units(2000)),
    ]);
    let rec = run_100k(&mut feed, Some(risk), Box::new(script));
    assert_eq!(rec.orders[0].status, OrderStatus::Rejected);
    assert_eq!(rec.orders[0].reason, Some(RejectReason::Risk));
    assert_eq!(rec.orders[1].status, OrderStatus::Filled);
    assert_eq!(rec.risk_events.len(), 1);
    let e = &rec.risk_events[0];
    assert_eq!(e.kind, RiskEventKind::Blocked);
    assert_eq!(e.rule, "position_weight");
    assert_eq!(e.order.map(|o| o.0), Some(1));
    assert!((e.value - 0.4).abs() < 1e-12 && e.limit == 0.3, "{e:?}");
    assert!(e.detail.contains("40.00%"), "{}", e.detail);
    // the venue never saw it: one fill only
    assert_eq!(rec.fills.len(), 1);
}

#[test]
fn a_drawdown_trip_halts_buys_and_flattens() {
    // bought at 10 on day 2 (next open); falls to 7.5: 25 % of the whole
    // 100,000 is in the stock → equity −12.5 % at 7.5
    let mut feed = flat_feed([10.0, 10.0, 9.0, 7.5, 7.5, 7.5]);
    let risk = RiskConfig {
        breakers: BreakerConfig {
            max_drawdown: Some(0.1),
            flatten_on_drawdown: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let script = Script(vec![
        (d(DAYS[0]), 0, Side::Buy, units(5000)),
        (d(DAYS[4]), 0, Side::Buy, units(100)),
    ]);
    let rec = run_100k(&mut feed, Some(risk), Box::new(script));
    let trips: Vec<_> = rec
        .risk_events
        .iter()
        .filter(|e| e.kind == RiskEventKind::Trip)
        .collect();
    assert_eq!(trips.len(), 1, "{:?}", rec.risk_events);
    assert_eq!(trips[0].rule, "drawdown");
    assert_eq!(trips[0].date, d(DAYS[3]));
    // the flatten order goes out on the trip day and fills next open
    let flatten = rec
        .orders
        .iter()
        .find(|o| o.side == Side::Sell)
        .expect("a flatten order");
    assert_eq!(flatten.created, d(DAYS[3]));
    assert_eq!(flatten.requested, OrderQty::AllPosition);
    assert_eq!(flatten.status, OrderStatus::Filled);
    // the later buy is blocked by the breaker
    let late = rec
        .orders
        .iter()
        .find(|o| o.created == d(DAYS[4]) && o.side == Side::Buy)
        .unwrap();
    assert_eq!(late.reason, Some(RejectReason::Risk));
    assert!(
        rec.risk_events
            .iter()
            .any(|e| e.kind == RiskEventKind::Blocked && e.rule == "breaker"),
        "{:?}",
        rec.risk_events
    );
    // flat at the end
    assert!(rec.fills.iter().any(|f| f.side == Side::Sell));
}

#[test]
fn without_a_risk_table_nothing_changes() {
    let mut a = flat_feed([10.0; 6]);
    let mut b = flat_feed([10.0; 6]);
    let script = || {
        Script(vec![
            (d(DAYS[0]), 0, Side::Buy, units(4000)),
            (d(DAYS[2]), 0, Side::Sell, units(4000)),
        ])
    };
    let plain = run_with(
        &mut a,
        SimConfig::default(),
        100_000.0,
        CorporateActions::None,
        Box::new(script()),
    );
    let empty = run_100k(&mut b, Some(RiskConfig::default()), Box::new(script()));
    assert_eq!(plain.fills, empty.fills);
    let curve = |r: &quant_engine::RunRecord| {
        r.equity
            .iter()
            .map(|p| (p.date, p.equity.to_bits(), p.cash))
            .collect::<Vec<_>>()
    };
    assert_eq!(curve(&plain), curve(&empty));
    assert!(empty.risk_events.is_empty());
}

#[test]
fn the_sector_limit_uses_the_runners_sectors() {
    let bars = |c: f64| -> Vec<Option<quant_core::Bar>> {
        DAYS.iter().map(|day| Some(bar(day, c, c, c, c))).collect()
    };
    let mut feed = Feed::new(
        vec![inst("600036.SH"), inst("601398.SH")],
        &DAYS,
        vec![bars(10.0), bars(5.0)],
    );
    let risk = RiskConfig {
        limits: RiskLimits {
            max_sector_weight: Some(0.5),
            ..Default::default()
        },
        sectors: [("600036.SH", "银行"), ("601398.SH", "银行")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        ..Default::default()
    };
    // 3,000 × 10 = 30 %, then 5,000 × 5 = 25 % more of the same sector: 55 %
    let script = Script(vec![
        (d(DAYS[0]), 0, Side::Buy, units(3000)),
        (d(DAYS[2]), 1, Side::Buy, units(5000)),
        (d(DAYS[3]), 1, Side::Buy, units(3000)),
    ]);
    let rec = run_100k(&mut feed, Some(risk), Box::new(script));
    assert_eq!(rec.risk_events.len(), 1, "{:?}", rec.risk_events);
    let e = &rec.risk_events[0];
    assert_eq!(
        (e.rule.as_str(), e.order.map(|o| o.0)),
        ("sector_weight", Some(2))
    );
    assert!(e.detail.contains("银行"), "{}", e.detail);
    // 3,000 × 5 = 15 % more → 45 %: passes
    assert_eq!(rec.orders[2].status, OrderStatus::Filled);
}

#[test]
fn a_losing_streak_halves_explicit_buys_too() {
    // bought at the day-2 open of 10, sold at the day-3 open of 9.5: one
    // losing round trip trips `losing_streak = 1`; later buys are halved
    let mut feed = flat_feed([10.0, 10.0, 9.5, 9.5, 9.5, 9.5]);
    let risk = RiskConfig {
        breakers: BreakerConfig {
            losing_streak: Some(1),
            ..Default::default()
        },
        ..Default::default()
    };
    let value = |v: i64| OrderQty::Value(quant_core::Cash(v.into()));
    let script = Script(vec![
        (d(DAYS[0]), 0, Side::Buy, units(1000)),
        (d(DAYS[1]), 0, Side::Sell, units(1000)),
        (d(DAYS[2]), 0, Side::Buy, units(1000)),
        (d(DAYS[3]), 0, Side::Buy, value(9500)),
    ]);
    let rec = run_100k(&mut feed, Some(risk), Box::new(script));
    assert!(
        rec.risk_events
            .iter()
            .any(|e| e.kind == RiskEventKind::Trip && e.rule == "losing_streak"),
        "{:?}",
        rec.risk_events
    );
    // 1,000 units → 500 (whole lots); 9,500 CNY → 4,750 CNY = 500 at 9.5
    assert_eq!(rec.orders[2].requested, units(500));
    assert_eq!(rec.orders[3].requested, value(4750));
    let bought: Vec<String> = rec
        .fills
        .iter()
        .filter(|f| f.side == Side::Buy)
        .map(|f| f.quantity.to_string())
        .collect();
    assert_eq!(bought, ["1000", "500", "500"]);
}
