//! One scenario per A-share rule and cost, with hand-computed numbers.
//! Fee schedule: commission 0.025% with a 5 CNY minimum, transfer fee
//! 0.001%, stamp duty on sells 0.1% until 2023-08-27 and 0.05% from
//! 2023-08-28; zero slippage unless stated.

use quant_core::{
    Cash, Order, OrderId, OrderQty, OrderStatus, OrderType, Quantity, RejectReason, Side,
};
use quant_exec::{
    FillTiming, MarketState, Phase, Portfolio, ShortfallPolicy, SimConfig, SimulatedVenue, Venue,
    VenueEvent,
};
use rust_decimal_macros::dec;

use super::harness::*;

fn order_of(rec: &quant_engine::RunRecord, id: u64) -> &Order {
    &rec.orders[(id - 1) as usize]
}

fn cash(rec: &quant_engine::RunRecord) -> Cash {
    rec.equity.last().unwrap().cash
}

#[test]
fn minimum_commission_lot_rounding_and_the_stamp_duty_switch() {
    let days = [
        "2023-08-22",
        "2023-08-23",
        "2023-08-24",
        "2023-08-25",
        "2023-08-28",
        "2023-08-29",
    ];
    let bars = vec![
        Some(bar(days[0], 10.0, 10.6, 9.9, 10.5)),
        Some(bar(days[1], 10.0, 10.6, 9.9, 10.5)),
        Some(bar(days[2], 10.5, 11.2, 10.4, 11.0)),
        Some(bar(days[3], 11.0, 11.2, 10.8, 11.0)),
        Some(bar(days[4], 11.0, 11.2, 10.8, 11.0)),
        Some(bar(days[5], 11.0, 11.2, 10.8, 11.0)),
    ];
    let mut feed = Feed::new(vec![inst("600000.SH")], &days, vec![bars]);
    let rec = run(
        &mut feed,
        SimConfig::default(),
        100_000.0,
        vec![
            (d(days[0]), 0, Side::Buy, units(250)), // → 200 shares at 10.00 on 08-23
            (d(days[2]), 0, Side::Sell, units(100)), // → at 11.00 on 08-25, stamp 0.1%
            (d(days[3]), 0, Side::Sell, units(100)), // → at 11.00 on 08-28, stamp 0.05%
        ],
    );
    assert_eq!(rec.fills.len(), 3);
    let buy = &rec.fills[0];
    assert_eq!(
        (buy.date, buy.quantity),
        (d("2023-08-23"), Quantity::from_units(200))
    );
    assert_eq!(buy.commission, Cash(dec!(5))); // 2000 × 0.025% = 0.50 < 5
    assert_eq!(buy.transfer_fee, Cash(dec!(0.02)));
    assert_eq!(buy.stamp_duty, Cash::ZERO);
    assert_eq!(order_of(&rec, 1).reason, Some(RejectReason::LotRounding));
    assert_eq!(rec.fills[1].stamp_duty, Cash(dec!(1.1))); // 1100 × 0.1% on 2023-08-25
    assert_eq!(rec.fills[2].stamp_duty, Cash(dec!(0.55))); // 1100 × 0.05% on 2023-08-28
    assert_eq!(rec.fills[2].date, d("2023-08-28"));
    // 100000 − 2005.02 + (1100 − 6.111) + (1100 − 5.561)
    assert_eq!(cash(&rec), Cash(dec!(100183.308)));
}

#[test]
fn limit_up_blocks_buys_and_limit_down_blocks_sells() {
    let days = [
        "2021-03-01",
        "2021-03-02",
        "2021-03-03",
        "2021-03-04",
        "2021-03-05",
    ];
    let bars = vec![
        Some(bar(days[0], 10.0, 10.0, 10.0, 10.0)),
        Some(bar(days[1], 11.0, 11.0, 11.0, 11.0)), // limit-up: 10.00 × 1.1
        Some(bar(days[2], 11.5, 12.0, 11.2, 11.8)),
        Some(bar(days[3], 10.62, 10.62, 10.62, 10.62)), // limit-down: 11.80 × 0.9
        Some(bar(days[4], 10.7, 10.9, 10.5, 10.8)),
    ];
    let mut feed = Feed::new(vec![inst("600000.SH")], &days, vec![bars]);
    let rec = run(
        &mut feed,
        SimConfig::default(),
        100_000.0,
        vec![
            (d(days[0]), 0, Side::Buy, units(1000)),
            (d(days[1]), 0, Side::Buy, units(1000)),
            (d(days[2]), 0, Side::Sell, OrderQty::AllPosition),
        ],
    );
    assert_eq!(order_of(&rec, 1).status, OrderStatus::Rejected);
    assert_eq!(order_of(&rec, 1).reason, Some(RejectReason::LimitUp));
    assert_eq!(order_of(&rec, 2).status, OrderStatus::Filled);
    assert_eq!(rec.fills[0].price.0, dec!(11.5));
    assert_eq!(order_of(&rec, 3).reason, Some(RejectReason::LimitDown));
    assert_eq!(rec.fills.len(), 1);
    // the position is still held and marked at the last close
    let last = rec.equity.last().unwrap();
    assert!((last.equity - (last.cash.to_f64() + 1000.0 * 10.8)).abs() < 1e-9);
}

#[test]
fn a_suspended_day_never_fills_and_keeps_the_last_mark() {
    let days = ["2021-03-01", "2021-03-02", "2021-03-03", "2021-03-04"];
    let a = vec![
        Some(bar(days[0], 10.0, 10.2, 9.9, 10.0)),
        Some(bar(days[1], 10.0, 10.4, 9.9, 10.3)),
        None, // suspended: no row
        Some(bar(days[3], 10.5, 10.8, 10.4, 10.6)),
    ];
    let mut zero_volume = bar(days[1], 10.0, 10.0, 10.0, 10.0);
    zero_volume.volume = 0.0;
    let b = vec![
        Some(bar(days[0], 10.0, 10.0, 10.0, 10.0)),
        Some(zero_volume),
        Some(bar(days[2], 10.0, 10.0, 10.0, 10.0)),
        None,
    ];
    let mut feed = Feed::new(
        vec![inst("600000.SH"), inst("600001.SH")],
        &days,
        vec![a, b],
    );
    let rec = run(
        &mut feed,
        SimConfig::default(),
        100_000.0,
        vec![
            (d(days[0]), 0, Side::Buy, units(1000)), // fills 03-02 at 10.00
            (d(days[0]), 1, Side::Buy, units(100)),  // 03-02 has zero volume → suspended
            (d(days[1]), 0, Side::Sell, OrderQty::AllPosition), // 03-03 no bar → suspended
        ],
    );
    assert_eq!(order_of(&rec, 2).reason, Some(RejectReason::Suspended));
    assert_eq!(order_of(&rec, 3).reason, Some(RejectReason::Suspended));
    assert_eq!(order_of(&rec, 3).updated, d("2021-03-03"));
    assert_eq!(rec.fills.len(), 1);
    // equity on the suspended day marks 1000 shares at the 03-02 close 10.30
    let p = &rec.equity[2];
    // 100000 − 10000 − commission max(2.50, 5) − transfer 0.10
    assert_eq!(p.cash, Cash(dec!(89994.90)));
    assert!((p.equity - (89994.90 + 10300.0)).abs() < 1e-9);
}

#[test]
fn a_cash_shortfall_cuts_lot_by_lot_or_rejects() {
    let days = ["2021-03-01", "2021-03-02", "2021-03-03"];
    let bars = || {
        vec![vec![
            Some(bar(days[0], 10.0, 10.0, 10.0, 10.0)),
            Some(bar(days[1], 10.0, 10.0, 10.0, 10.0)),
            Some(bar(days[2], 10.0, 10.0, 10.0, 10.0)),
        ]]
    };
    let script = vec![(d(days[0]), 0, Side::Buy, units(300))];
    // 2100 CNY: 300 shares cost 3005.03; 200 cost 2000 + 5 + 0.02 = 2005.02 ≤ 2100
    let mut feed = Feed::new(vec![inst("600000.SH")], &days, bars());
    let rec = run(&mut feed, SimConfig::default(), 2100.0, script.clone());
    assert_eq!(rec.fills[0].quantity, Quantity::from_units(200));
    assert_eq!(
        order_of(&rec, 1).reason,
        Some(RejectReason::InsufficientCash)
    );
    assert_eq!(cash(&rec), Cash(dec!(94.98)));
    // policy `reject`
    let sim = SimConfig {
        shortfall: ShortfallPolicy::Reject,
        ..SimConfig::default()
    };
    let mut feed = Feed::new(vec![inst("600000.SH")], &days, bars());
    let rec = run(&mut feed, sim, 2100.0, script.clone());
    assert_eq!(order_of(&rec, 1).status, OrderStatus::Rejected);
    assert_eq!(
        order_of(&rec, 1).reason,
        Some(RejectReason::InsufficientCash)
    );
    // 1005 CNY cannot pay one lot: 1000 + 5 + 0.01 = 1005.01
    let mut feed = Feed::new(vec![inst("600000.SH")], &days, bars());
    let rec = run(&mut feed, SimConfig::default(), 1005.0, script);
    assert_eq!(
        order_of(&rec, 1).reason,
        Some(RejectReason::InsufficientCash)
    );
    assert_eq!(cash(&rec), Cash(dec!(1005)));
}

#[test]
fn star_market_minimum_is_200_shares_then_one_share_steps() {
    let days = ["2021-03-01", "2021-03-02", "2021-03-03"];
    let bars = vec![vec![
        Some(bar(days[0], 50.0, 50.0, 50.0, 50.0)),
        Some(bar(days[1], 50.0, 50.0, 50.0, 50.0)),
        Some(bar(days[2], 50.0, 50.0, 50.0, 50.0)),
    ]];
    let mut feed = Feed::new(vec![inst("688001.SH")], &days, bars);
    let rec = run(
        &mut feed,
        SimConfig::default(),
        100_000.0,
        vec![
            (d(days[0]), 0, Side::Buy, units(150)),
            (d(days[1]), 0, Side::Buy, units(250)),
        ],
    );
    assert_eq!(order_of(&rec, 1).reason, Some(RejectReason::BelowLot));
    assert_eq!(rec.fills[0].quantity, Quantity::from_units(250));
}

#[test]
fn slippage_moves_the_price_against_the_order_within_the_bar() {
    let days = ["2021-03-01", "2021-03-02", "2021-03-03"];
    let bars = vec![vec![
        Some(bar(days[0], 10.0, 10.0, 10.0, 10.0)),
        Some(bar(days[1], 10.0, 10.004, 9.9, 10.0)), // high caps the buy
        Some(bar(days[2], 10.0, 10.1, 9.999, 10.0)), // low floors the sell
    ]];
    let sim = SimConfig {
        slippage_bps: dec!(10),
        ..SimConfig::default()
    };
    let mut feed = Feed::new(vec![inst("510300.SH")], &days, bars);
    let rec = run(
        &mut feed,
        sim,
        100_000.0,
        vec![
            (d(days[0]), 0, Side::Buy, units(1000)),
            (d(days[1]), 0, Side::Sell, OrderQty::AllPosition),
        ],
    );
    assert_eq!(rec.fills[0].price.0, dec!(10.004)); // 10 × 1.001 = 10.01 capped at 10.004
    assert_eq!(rec.fills[1].price.0, dec!(9.999)); // 10 × 0.999 = 9.99 floored at 9.999
    // an ETF: commission without the 5 CNY minimum, no transfer fee, no stamp duty
    assert_eq!(rec.fills[1].commission, Cash(dec!(2.49975)));
    assert_eq!(
        rec.fills[1].stamp_duty + rec.fills[1].transfer_fee,
        Cash::ZERO
    );
}

fn market<'a>(
    date: &str,
    instruments: &'a [quant_core::Instrument],
    bars: &'a [Option<quant_core::Bar>],
    prev: &'a [f64],
    listing: &'a [Option<usize>],
) -> MarketState<'a> {
    MarketState {
        date: d(date),
        instruments,
        bars,
        prev_close: prev,
        listing_day: listing,
        bar_time: None,
    }
}

#[test]
fn t_plus_one_sell_of_shares_bought_today_is_refused_or_cut() {
    let instruments = vec![inst("600000.SH"), inst("518880.SH")];
    let bars = vec![
        Some(bar("2021-03-02", 10.0, 10.2, 9.9, 10.0)),
        Some(bar("2021-03-02", 4.0, 4.1, 3.9, 4.0)),
    ];
    let prev = [10.0, 4.0];
    let listing = [None, None];
    let m = market("2021-03-02", &instruments, &bars, &prev, &listing);
    let mut pf = Portfolio::new(Cash(dec!(100000)), 2);
    // 1000 shares bought today (T+1: none sellable), 500 held from before
    pf.positions[0].on_buy(Quantity::from_units(500), Cash(dec!(5000)), true);
    pf.roll_day();
    pf.positions[0].on_buy(Quantity::from_units(1000), Cash(dec!(10000)), true);
    pf.positions[1].on_buy(Quantity::from_units(1000), Cash(dec!(4000)), false); // gold ETF: T+0
    let mut venue = SimulatedVenue::new(SimConfig {
        timing: FillTiming::NextOpen,
        ..SimConfig::default()
    });
    assert!(venue.t_plus_one(&instruments[0]));
    assert!(!venue.t_plus_one(&instruments[1]));
    let mut ev = Vec::new();
    let sell = |id: u64, i: u32, q: OrderQty| {
        Order::new(
            OrderId(id),
            quant_core::InstrumentIndex(i),
            instruments[i as usize].symbol.clone(),
            Side::Sell,
            OrderType::Market,
            q,
            d("2021-03-01"),
        )
    };
    venue.submit(&sell(1, 0, OrderQty::AllPosition), &mut ev);
    venue.submit(&sell(2, 1, OrderQty::AllPosition), &mut ev);
    ev.clear();
    venue.on_phase(Phase::Open, &m, &pf, &mut ev);
    match &ev[0] {
        VenueEvent::Filled { fill, cut } => {
            assert_eq!(fill.quantity, Quantity::from_units(500));
            assert_eq!(*cut, Some(RejectReason::TPlusOne));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&ev[1], VenueEvent::Filled { fill, cut: None } if fill.quantity == Quantity::from_units(1000))
    );
    // nothing sellable at all: refused
    let mut pf = Portfolio::new(Cash(dec!(100000)), 2);
    pf.positions[0].on_buy(Quantity::from_units(1000), Cash(dec!(10000)), true);
    venue.submit(&sell(3, 0, OrderQty::AllPosition), &mut ev);
    ev.clear();
    venue.on_phase(Phase::Open, &m, &pf, &mut ev);
    assert_eq!(
        ev,
        vec![VenueEvent::Rejected(OrderId(3), RejectReason::TPlusOne)]
    );
}

#[test]
fn an_ex_date_credits_a_cash_dividend_by_default() {
    let days = ["2021-06-01", "2021-06-02", "2021-06-03", "2021-06-04"];
    let mut ex = bar(days[2], 9.6, 9.7, 9.4, 9.5);
    ex.pre_close = 9.5; // previous close 10.00: a 0.50 CNY dividend
    let bars = vec![vec![
        Some(bar(days[0], 10.0, 10.0, 10.0, 10.0)),
        Some(bar(days[1], 10.0, 10.0, 10.0, 10.0)),
        Some(ex),
        Some(bar(days[3], 9.5, 9.5, 9.5, 9.5)),
    ]];
    let mut feed = Feed::new(vec![inst("600000.SH")], &days, bars);
    let rec = run_with(
        &mut feed,
        SimConfig::default(),
        100_000.0,
        quant_engine::CorporateActions::CashDividend,
        Box::new(Script(vec![(d(days[0]), 0, Side::Buy, units(1000))])),
    );
    assert_eq!(rec.dividends.len(), 1);
    assert_eq!(rec.dividends[0].amount, Cash(dec!(500)));
    // value kept across the ex-date: equity on 06-03 = equity on 06-02 + (9.5 − 9.5)·… = unchanged
    let (e2, e3) = (rec.equity[1].equity, rec.equity[2].equity);
    assert!((e2 - e3).abs() < 1e-9, "{e2} vs {e3}");
}

#[test]
fn crypto_value_orders_buy_fractional_quantities_without_t_plus_one() {
    let days = ["2021-03-01", "2021-03-02", "2021-03-03"];
    let bars = vec![vec![
        Some(bar(days[0], 20000.0, 20000.0, 20000.0, 20000.0)),
        Some(bar(days[1], 20000.0, 20000.0, 20000.0, 20000.0)),
        Some(bar(days[2], 20000.0, 20000.0, 20000.0, 20000.0)),
    ]];
    let mut feed = Feed::new(vec![inst("BTC-USDT")], &days, bars);
    let sim = SimConfig {
        timing: FillTiming::SameClose,
        ..SimConfig::default()
    };
    let rec = run(
        &mut feed,
        sim,
        100_000.0,
        vec![
            (d(days[0]), 0, Side::Buy, OrderQty::Value(Cash(dec!(50000)))),
            (d(days[1]), 0, Side::Sell, units(1)),
        ],
    );
    assert_eq!(rec.fills[0].quantity, Quantity(dec!(2.5)));
    assert_eq!(rec.fills[0].commission, Cash(dec!(50))); // 0.1%
    assert_eq!(rec.fills[1].quantity, Quantity(dec!(1)));
}
