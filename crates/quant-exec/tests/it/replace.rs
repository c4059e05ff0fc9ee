//! Replace and status query at the simulated venue: a resting limit order
//! re-priced fills at its new limit; a partly filled order's new total
//! counts what has filled; replaces that do not fit are refused and change
//! nothing; a query answers for working orders only.

use chrono::NaiveDate;
use quant_core::{
    Bar, Cash, Instrument, InstrumentIndex, Order, OrderId, OrderQty, OrderStatus, OrderType,
    Price, Quantity, Side, Symbol, TimeInForce,
};
use quant_exec::fill::Participation;
use quant_exec::{MarketState, Phase, Portfolio, SimConfig, SimulatedVenue, Venue, VenueEvent};
use rust_decimal_macros::dec;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, d).unwrap()
}

fn inst() -> Instrument {
    Instrument::infer(Symbol::new("600000.SH").unwrap(), false).unwrap()
}

fn order(id: u64, ty: OrderType, units: i64) -> Order {
    Order::new(
        OrderId(id),
        InstrumentIndex(0),
        Symbol::new("600000.SH").unwrap(),
        Side::Buy,
        ty,
        OrderQty::Units(Quantity::from_units(units)),
        day(2),
    )
    .with_tif(TimeInForce::Gtc)
}

/// The venue at the open of day `d` with a bar of volume `volume`.
fn open(
    v: &mut SimulatedVenue,
    d: u32,
    ohlc: (f64, f64, f64, f64),
    volume: f64,
) -> Vec<VenueEvent> {
    let b = Bar {
        date: day(d),
        open: ohlc.0,
        high: ohlc.1,
        low: ohlc.2,
        close: ohlc.3,
        pre_close: f64::NAN,
        volume,
        amount: f64::NAN,
        adj_factor: 1.0,
    };
    let instruments = [inst()];
    let bars = [Some(b)];
    let market = MarketState {
        date: day(d),
        instruments: &instruments,
        bars: &bars,
        prev_close: &[f64::NAN],
        listing_day: &[None],
        bar_time: None,
    };
    let mut ev = Vec::new();
    let p = Portfolio::new(Cash(dec!(1_000_000)), 1);
    v.on_phase(Phase::Open, &market, &p, &mut ev);
    ev
}

fn lim(x: rust_decimal::Decimal) -> OrderType {
    OrderType::Limit(Price(x))
}

#[test]
fn a_resting_limit_repriced_fills_at_its_new_limit() {
    let mut v = SimulatedVenue::new(SimConfig::default());
    let mut ev = Vec::new();
    v.submit(&order(1, lim(dec!(9.50)), 1000), &mut ev);
    assert_eq!(ev, vec![VenueEvent::Accepted(OrderId(1))]);
    // the bar stays above 9.50: it rests
    assert!(open(&mut v, 3, (10.0, 10.2, 9.8, 10.0), 1e7).is_empty());
    assert_eq!(v.open_orders(), 1);
    let mut ev = Vec::new();
    v.query(OrderId(1), &mut ev);
    assert_eq!(
        ev,
        vec![VenueEvent::Status(OrderId(1), OrderStatus::Accepted)]
    );
    // re-priced to 9.90: the next bar (low 9.85) reaches it
    let mut ev = Vec::new();
    let units = OrderQty::Units(Quantity::from_units(1000));
    v.replace(OrderId(1), lim(dec!(9.90)), units, &mut ev);
    assert_eq!(
        ev,
        vec![VenueEvent::Replaced {
            id: OrderId(1),
            order_type: lim(dec!(9.90)),
            requested: units,
        }]
    );
    let ev = open(&mut v, 4, (10.0, 10.1, 9.85, 9.95), 1e7);
    let [VenueEvent::Filled { fill, .. }] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(fill.price, Price(dec!(9.90)));
    assert_eq!(fill.quantity, Quantity::from_units(1000));
    // gone from the venue: a query knows nothing, a replace is refused
    let mut ev = Vec::new();
    v.query(OrderId(1), &mut ev);
    v.replace(OrderId(1), lim(dec!(9.0)), units, &mut ev);
    assert_eq!(ev, vec![VenueEvent::ReplaceRejected(OrderId(1))]);
}

#[test]
fn a_partly_filled_order_replaced_to_a_new_total() {
    let cfg = SimConfig {
        participation: Some(Participation::new(0.1).unwrap()),
        ..SimConfig::default()
    };
    let mut v = SimulatedVenue::new(cfg);
    let mut ev = Vec::new();
    v.submit(&order(1, lim(dec!(10.50)), 3000), &mut ev);
    // 10 % of 10,000 shares: 1,000 fill, 2,000 keep working
    let ev = open(&mut v, 3, (10.0, 10.2, 9.8, 10.0), 10_000.0);
    assert!(
        matches!(&ev[..], [VenueEvent::PartiallyFilled { fill }] if fill.quantity == Quantity::from_units(1000)),
        "{ev:?}"
    );
    let mut ev = Vec::new();
    v.query(OrderId(1), &mut ev);
    assert_eq!(
        ev,
        vec![VenueEvent::Status(OrderId(1), OrderStatus::PartiallyFilled)]
    );
    // a total at or below the 1,000 filled is refused
    let mut ev = Vec::new();
    for total in [1000, 500] {
        v.replace(
            OrderId(1),
            lim(dec!(10.50)),
            OrderQty::Units(Quantity::from_units(total)),
            &mut ev,
        );
    }
    // another kind of order, or a value size, too
    v.replace(
        OrderId(1),
        OrderType::Market,
        OrderQty::Units(Quantity::from_units(2000)),
        &mut ev,
    );
    v.replace(
        OrderId(1),
        lim(dec!(10.50)),
        OrderQty::Value(Cash(dec!(5000))),
        &mut ev,
    );
    assert_eq!(ev, vec![VenueEvent::ReplaceRejected(OrderId(1)); 4]);
    // a new total of 1,500: 500 left, filled on the next bar
    let mut ev = Vec::new();
    v.replace(
        OrderId(1),
        lim(dec!(10.50)),
        OrderQty::Units(Quantity::from_units(1500)),
        &mut ev,
    );
    assert!(matches!(ev[0], VenueEvent::Replaced { .. }));
    let ev = open(&mut v, 4, (10.0, 10.2, 9.8, 10.0), 10_000.0);
    assert!(
        matches!(&ev[..], [VenueEvent::Filled { fill, .. }] if fill.quantity == Quantity::from_units(500)),
        "{ev:?}"
    );
    assert_eq!(v.open_orders(), 0);
}
