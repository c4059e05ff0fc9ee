//! Working orders at the simulated venue, end to end through the engine:
//! resting limits, stops with gaps, stop-limits, trailing stops, MOO and
//! MOC, IOC and FOK, the participation cap with partial fills, latency,
//! brackets. Zero slippage and the A-share fee schedule; prices by hand.

use chrono::NaiveDate;
use quant_core::{
    InstrumentIndex, OrderQty, OrderStatus, OrderType, Price, Quantity, RejectReason, Side,
    TimeInForce, Trail,
};
use quant_engine::{CorporateActions, RunRecord};
use quant_exec::SimConfig;
use quant_exec::fill::Participation;
use quant_strategy::{Context, OrderRequest, Signal, Strategy};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::harness::*;

const DAYS: [&str; 6] = [
    "2024-03-04",
    "2024-03-05",
    "2024-03-06",
    "2024-03-07",
    "2024-03-08",
    "2024-03-11",
];

/// Places the requests on their days.
struct Placer(Vec<(NaiveDate, OrderRequest)>);

impl Strategy for Placer {
    fn name(&self) -> &str {
        "placer"
    }
    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>) {
        for (d, r) in &self.0 {
            if *d == ctx.date {
                out.push(Signal::Place(*r));
            }
        }
    }
}

fn req(side: Side, units: i64, order_type: OrderType, tif: TimeInForce) -> OrderRequest {
    OrderRequest {
        instrument: InstrumentIndex(0),
        side,
        qty: OrderQty::Units(Quantity::from_units(units)),
        order_type,
        tif,
        take_profit: None,
        stop_loss: None,
        exec: quant_core::Execution::Direct,
    }
}

fn px(v: Decimal) -> Price {
    Price(v)
}

/// (open, high, low, close) per day, volume 1,000,000.
fn market(ohlc: [(f64, f64, f64, f64); 6]) -> Feed {
    let bars = DAYS
        .iter()
        .zip(ohlc)
        .map(|(d, (o, h, l, c))| Some(bar(d, o, h, l, c)))
        .collect();
    Feed::new(vec![inst("600000.SH")], &DAYS, vec![bars])
}

fn flat_then(rest: [(f64, f64, f64, f64); 5]) -> Feed {
    let mut all = [(10.0, 10.0, 10.0, 10.0); 6];
    all[1..].copy_from_slice(&rest);
    market(all)
}

fn go(feed: &mut Feed, sim: SimConfig, reqs: Vec<(usize, OrderRequest)>) -> RunRecord {
    let placer = Placer(reqs.into_iter().map(|(k, r)| (d(DAYS[k]), r)).collect());
    run_with(
        feed,
        sim,
        10_000_000.0,
        CorporateActions::None,
        Box::new(placer),
    )
}

fn fills(rec: &RunRecord) -> Vec<(String, Side, i64, Decimal)> {
    rec.fills
        .iter()
        .map(|f| {
            (
                f.date.to_string(),
                f.side,
                rust_decimal::prelude::ToPrimitive::to_i64(&f.quantity.0).unwrap(),
                f.price.0,
            )
        })
        .collect()
}

#[test]
fn a_gtc_limit_rests_until_reached_and_a_day_limit_does_not() {
    let bars = [
        (10.0, 10.2, 9.6, 10.0), // not reached
        (9.8, 9.9, 9.4, 9.6),    // reached: fills at the limit
        (9.6, 9.7, 9.5, 9.6),
        (9.6, 9.7, 9.5, 9.6),
        (9.6, 9.7, 9.5, 9.6),
    ];
    let lim = OrderType::Limit(px(dec!(9.50)));
    let rec = go(
        &mut flat_then(bars),
        SimConfig::default(),
        vec![(0, req(Side::Buy, 1000, lim, TimeInForce::Gtc))],
    );
    assert_eq!(
        fills(&rec),
        [("2024-03-06".into(), Side::Buy, 1000, dec!(9.50))]
    );
    assert_eq!(rec.orders[0].status, OrderStatus::Filled);
    assert_eq!(rec.orders[0].tif, TimeInForce::Gtc);
    let rec = go(
        &mut flat_then(bars),
        SimConfig::default(),
        vec![(0, req(Side::Buy, 1000, lim, TimeInForce::Day))],
    );
    assert!(rec.fills.is_empty());
    assert_eq!(rec.orders[0].status, OrderStatus::Rejected);
    assert_eq!(rec.orders[0].reason, Some(RejectReason::LimitNotReached));
    // a gap down through the limit fills at the better open
    let gap = [(9.3, 9.4, 9.2, 9.3); 5];
    let rec = go(
        &mut flat_then(gap),
        SimConfig::default(),
        vec![(0, req(Side::Buy, 1000, lim, TimeInForce::Gtc))],
    );
    assert_eq!(fills(&rec)[0].3, dec!(9.30));
}

#[test]
fn stops_trigger_on_the_range_and_gaps_fill_at_the_open() {
    let bars = [
        (10.0, 10.3, 9.9, 10.2),  // below the stop
        (10.8, 11.0, 10.7, 10.9), // gaps over it: the open
        (10.9, 11.0, 10.8, 10.9),
        (10.9, 11.0, 10.8, 10.9),
        (10.9, 11.0, 10.8, 10.9),
    ];
    let stop = OrderType::Stop(px(dec!(10.50)));
    let rec = go(
        &mut flat_then(bars),
        SimConfig::default(),
        vec![(0, req(Side::Buy, 1000, stop, TimeInForce::Gtc))],
    );
    assert_eq!(
        fills(&rec),
        [("2024-03-06".into(), Side::Buy, 1000, dec!(10.80))]
    );
    // a stop reached inside the bar fills at the stop
    let inside = [(10.2, 10.6, 10.1, 10.5); 5];
    let rec = go(
        &mut flat_then(inside),
        SimConfig::default(),
        vec![(0, req(Side::Buy, 1000, stop, TimeInForce::Gtc))],
    );
    assert_eq!(fills(&rec)[0].3, dec!(10.50));
    // a DAY stop not triggered on its bar is refused as such
    let rec = go(
        &mut flat_then([(10.0, 10.3, 9.9, 10.2); 5]),
        SimConfig::default(),
        vec![(0, req(Side::Buy, 1000, stop, TimeInForce::Day))],
    );
    assert_eq!(rec.orders[0].reason, Some(RejectReason::NotTriggered));
}

#[test]
fn a_stop_limit_becomes_a_limit_when_its_stop_fires() {
    // buy stop 10.50, limit 10.40: the bar gaps to 10.80, beyond the limit
    // — triggered, not filled; the next bar comes back to 10.40
    let bars = [
        (10.8, 10.9, 10.7, 10.8),
        (10.6, 10.7, 10.3, 10.4),
        (10.4, 10.5, 10.3, 10.4),
        (10.4, 10.5, 10.3, 10.4),
        (10.4, 10.5, 10.3, 10.4),
    ];
    let sl = OrderType::StopLimit {
        stop: px(dec!(10.50)),
        limit: px(dec!(10.40)),
    };
    let rec = go(
        &mut flat_then(bars),
        SimConfig::default(),
        vec![(0, req(Side::Buy, 1000, sl, TimeInForce::Gtc))],
    );
    assert_eq!(
        fills(&rec),
        [("2024-03-06".into(), Side::Buy, 1000, dec!(10.40))]
    );
}

#[test]
fn a_trailing_stop_follows_closed_bars_only() {
    // bought on day 1; a 5 % trailing sell stop from day 1 on: the high of
    // 11.0 on day 2 sets the level at 10.45 (rounded down), which day 3's
    // low of 10.9 does not reach and day 4's 10.3 does
    let bars = [
        (10.0, 10.1, 9.9, 10.0),
        (10.5, 11.0, 10.4, 10.9),
        (10.9, 10.95, 10.9, 10.9),
        (10.8, 10.8, 10.3, 10.4),
        (10.4, 10.5, 10.3, 10.4),
    ];
    let buy = req(Side::Buy, 1000, OrderType::Market, TimeInForce::Day);
    let trail = OrderType::TrailingStop(Trail::Fraction(dec!(0.05)));
    let rec = go(
        &mut flat_then(bars),
        SimConfig::default(),
        vec![
            (0, buy),
            (1, req(Side::Sell, 1000, trail, TimeInForce::Gtc)),
        ],
    );
    assert_eq!(
        fills(&rec),
        [
            ("2024-03-05".into(), Side::Buy, 1000, dec!(10.00)),
            ("2024-03-08".into(), Side::Sell, 1000, dec!(10.45)),
        ]
    );
}

#[test]
fn moo_fills_at_the_next_open_and_moc_at_the_next_close() {
    let bars = [(10.1, 10.4, 10.0, 10.3); 5];
    let rec = go(
        &mut flat_then(bars),
        SimConfig::default(),
        vec![
            (
                0,
                req(Side::Buy, 100, OrderType::MarketOnOpen, TimeInForce::Day),
            ),
            (
                0,
                req(Side::Buy, 200, OrderType::MarketOnClose, TimeInForce::Day),
            ),
        ],
    );
    let f = fills(&rec);
    assert!(
        f.contains(&("2024-03-05".into(), Side::Buy, 100, dec!(10.10))),
        "{f:?}"
    );
    assert!(
        f.contains(&("2024-03-05".into(), Side::Buy, 200, dec!(10.30))),
        "{f:?}"
    );
}

#[test]
fn the_participation_cap_fills_in_parts_by_time_in_force() {
    let sim = SimConfig {
        participation: Some(Participation::new(0.1).unwrap()),
        ..SimConfig::default()
    };
    let bars = [(10.0, 10.0, 10.0, 10.0); 5];
    // 250,000 shares against 10 % of 1,000,000 a bar: three days
    let rec = go(
        &mut flat_then(bars),
        sim.clone(),
        vec![(
            0,
            req(Side::Buy, 250_000, OrderType::Market, TimeInForce::Gtc),
        )],
    );
    let q: Vec<i64> = fills(&rec).iter().map(|f| f.2).collect();
    assert_eq!(q, [100_000, 100_000, 50_000]);
    let o = &rec.orders[0];
    assert_eq!(
        (o.status, o.filled),
        (OrderStatus::Filled, Quantity::from_units(250_000))
    );
    // a DAY order takes one bar's share and expires
    let rec = go(
        &mut flat_then(bars),
        sim.clone(),
        vec![(
            0,
            req(Side::Buy, 250_000, OrderType::Market, TimeInForce::Day),
        )],
    );
    assert_eq!(fills(&rec).len(), 1);
    assert_eq!(rec.orders[0].status, OrderStatus::Expired);
    assert_eq!(rec.orders[0].filled, Quantity::from_units(100_000));
    // IOC likewise; FOK not at all
    let rec = go(
        &mut flat_then(bars),
        sim.clone(),
        vec![(
            0,
            req(Side::Buy, 250_000, OrderType::Market, TimeInForce::Ioc),
        )],
    );
    assert_eq!(
        (rec.fills.len(), rec.orders[0].status),
        (1, OrderStatus::Expired)
    );
    let rec = go(
        &mut flat_then(bars),
        sim,
        vec![(
            0,
            req(Side::Buy, 250_000, OrderType::Market, TimeInForce::Fok),
        )],
    );
    assert!(rec.fills.is_empty());
    assert_eq!(rec.orders[0].reason, Some(RejectReason::NotWhole));
}

#[test]
fn latency_delays_the_first_bar() {
    let sim = SimConfig {
        latency_bars: 2,
        ..SimConfig::default()
    };
    let bars = [
        (10.1, 10.1, 10.1, 10.1),
        (10.2, 10.2, 10.2, 10.2),
        (10.3, 10.3, 10.3, 10.3),
        (10.4, 10.4, 10.4, 10.4),
        (10.5, 10.5, 10.5, 10.5),
    ];
    let rec = go(
        &mut flat_then(bars),
        sim,
        vec![(0, req(Side::Buy, 100, OrderType::Market, TimeInForce::Day))],
    );
    assert_eq!(
        fills(&rec),
        [("2024-03-07".into(), Side::Buy, 100, dec!(10.30))]
    );
}

#[test]
fn a_bracket_takes_profit_and_cancels_its_stop() {
    let bars = [
        (10.0, 10.1, 9.9, 10.0),  // entry at the open
        (10.5, 11.2, 10.4, 11.0), // the take-profit is reached
        (11.0, 11.1, 8.0, 8.5),   // the stop would be too, but it is cancelled
        (8.5, 8.6, 8.4, 8.5),
        (8.5, 8.6, 8.4, 8.5),
    ];
    let mut r = req(Side::Buy, 1000, OrderType::Market, TimeInForce::Day);
    r.take_profit = Some(px(dec!(11.00)));
    r.stop_loss = Some(px(dec!(9.00)));
    let rec = go(&mut flat_then(bars), SimConfig::default(), vec![(0, r)]);
    assert_eq!(
        fills(&rec),
        [
            ("2024-03-05".into(), Side::Buy, 1000, dec!(10.00)),
            ("2024-03-06".into(), Side::Sell, 1000, dec!(11.00)),
        ]
    );
    let status: Vec<OrderStatus> = rec.orders.iter().map(|o| o.status).collect();
    assert_eq!(
        status,
        [
            OrderStatus::Filled,
            OrderStatus::Filled,
            OrderStatus::Cancelled
        ]
    );
    // an entry that never fills takes its children with it
    let mut r = req(
        Side::Buy,
        1000,
        OrderType::Limit(px(dec!(5.00))),
        TimeInForce::Day,
    );
    r.take_profit = Some(px(dec!(11.00)));
    r.stop_loss = Some(px(dec!(9.00)));
    let rec = go(&mut flat_then(bars), SimConfig::default(), vec![(0, r)]);
    let status: Vec<OrderStatus> = rec.orders.iter().map(|o| o.status).collect();
    assert_eq!(
        status,
        [
            OrderStatus::Rejected,
            OrderStatus::Expired,
            OrderStatus::Expired
        ]
    );
}

fn with_exec(mut r: OrderRequest, exec: quant_core::Execution) -> OrderRequest {
    r.exec = exec;
    r
}

/// Orders of the record that are children (every order after the first).
fn children(rec: &RunRecord) -> Vec<(i64, OrderStatus)> {
    rec.orders[1..]
        .iter()
        .map(|o| {
            (
                rust_decimal::prelude::ToPrimitive::to_i64(&o.filled.0).unwrap(),
                o.status,
            )
        })
        .collect()
}

#[test]
fn a_twap_buys_in_slices_over_its_window_and_fills_the_parent() {
    // 3,000 shares in 3 slices over 3 bars: one slice a day, each at the next open
    let twap = quant_core::Execution::Twap {
        bars: 3,
        slices: 3,
        expire_rest: false,
        participation: None,
    };
    let bars = [
        (10.0, 10.2, 9.8, 10.0),
        (10.1, 10.3, 9.9, 10.2),
        (10.2, 10.4, 10.0, 10.3),
        (10.3, 10.5, 10.1, 10.4),
        (10.4, 10.6, 10.2, 10.5),
    ];
    let r = with_exec(
        req(Side::Buy, 3000, OrderType::Market, TimeInForce::Day),
        twap,
    );
    let rec = go(&mut flat_then(bars), SimConfig::default(), vec![(0, r)]);
    assert_eq!(
        fills(&rec),
        [
            ("2024-03-05".into(), Side::Buy, 1000, dec!(10.0)),
            ("2024-03-06".into(), Side::Buy, 1000, dec!(10.1)),
            ("2024-03-07".into(), Side::Buy, 1000, dec!(10.2)),
        ]
    );
    let parent = &rec.orders[0];
    assert_eq!(parent.status, OrderStatus::Filled);
    assert_eq!(parent.filled, Quantity::from_units(3000));
    assert_eq!(parent.avg_price, Some(px(dec!(10.1))));
    assert_eq!(
        children(&rec),
        vec![(1000, OrderStatus::Filled); 3],
        "three children, each filled"
    );
    // the fills are the children's (booked once), not the parent's
    assert!(rec.fills.iter().all(|f| f.order_id != parent.id));
}

#[test]
fn a_twap_capped_by_volume_carries_the_rest_and_sends_it_at_the_end() {
    // 10 % of 10,000 shares a bar: 1,000 a slice; 4,000 over 2 slices
    let twap = quant_core::Execution::Twap {
        bars: 2,
        slices: 2,
        expire_rest: false,
        participation: Some(0.1),
    };
    let mut feed = flat_then([(10.0, 10.0, 10.0, 10.0); 5]);
    for b in feed.bars[0].iter_mut().flatten() {
        b.volume = 10_000.0;
    }
    let r = with_exec(
        req(Side::Buy, 4000, OrderType::Market, TimeInForce::Day),
        twap,
    );
    let rec = go(&mut feed, SimConfig::default(), vec![(0, r)]);
    let bought: i64 = fills(&rec).iter().map(|f| f.2).sum();
    assert_eq!(bought, 4000, "{:?}", fills(&rec));
    // two capped slices, then the rest as one market order at the window's end
    assert_eq!(
        children(&rec),
        vec![
            (1000, OrderStatus::Filled),
            (1000, OrderStatus::Filled),
            (2000, OrderStatus::Filled)
        ]
    );
    assert_eq!(rec.orders[0].status, OrderStatus::Filled);
    // with expire_rest the parent ends expired at 2,000
    let twap = quant_core::Execution::Twap {
        bars: 2,
        slices: 2,
        expire_rest: true,
        participation: Some(0.1),
    };
    let r = with_exec(
        req(Side::Buy, 4000, OrderType::Market, TimeInForce::Day),
        twap,
    );
    let rec = go(&mut feed, SimConfig::default(), vec![(0, r)]);
    assert_eq!(rec.orders[0].status, OrderStatus::Expired);
    assert_eq!(rec.orders[0].filled, Quantity::from_units(2000));
}

#[test]
fn an_iceberg_shows_one_clip_at_a_time() {
    let ice = quant_core::Execution::Iceberg {
        visible: Quantity::from_units(1000),
    };
    let lim = OrderType::Limit(px(dec!(10.00)));
    let r = with_exec(req(Side::Buy, 2500, lim, TimeInForce::Gtc), ice);
    let rec = go(
        &mut flat_then([(10.0, 10.1, 9.9, 10.0); 5]),
        SimConfig::default(),
        vec![(0, r)],
    );
    // a clip a bar: 1,000, 1,000, then the 500 left
    assert_eq!(
        fills(&rec).iter().map(|f| f.2).collect::<Vec<_>>(),
        vec![1000, 1000, 500]
    );
    assert_eq!(rec.orders[0].status, OrderStatus::Filled);
    assert!(rec.orders[1..].iter().all(|o| o.order_type == lim));
    // an iceberg of a market order is refused, not sent
    let r = with_exec(
        req(Side::Buy, 2500, OrderType::Market, TimeInForce::Day),
        ice,
    );
    let rec = go(
        &mut flat_then([(10.0, 10.1, 9.9, 10.0); 5]),
        SimConfig::default(),
        vec![(0, r)],
    );
    assert!(rec.fills.is_empty());
    assert_eq!(rec.orders.len(), 1);
    assert_eq!(rec.orders[0].reason, Some(RejectReason::Unsupported));
}
