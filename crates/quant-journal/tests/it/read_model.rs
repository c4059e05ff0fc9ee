//! The read model: round trips, table semantics, and one transaction
//! with the log.

use chrono::NaiveDate;
use quant_core::order::{OrderQty, OrderStatus, OrderType, Trail};
use quant_core::{
    Cash, ClientOrderId, Fill, InstrumentIndex, Order, OrderId, Position, Price, Quantity, Side,
    Symbol, TimeInForce, UnixNanos,
};
use quant_engine::{EquityPoint, RiskEvent, RiskEventKind};
use quant_journal::{Error, NewAlert, PositionRow, ReadModelUpdate, Severity};
use rust_decimal::Decimal;

use crate::support::{Fixture, ev, seqs};

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, d).expect("a day")
}

pub fn sym(s: &str) -> Symbol {
    Symbol::new(s).expect("a symbol")
}

pub fn dec(s: &str) -> Decimal {
    s.parse().expect("a decimal")
}

fn position(s: &str, qty: &str, cost: &str, mark: Option<&str>) -> PositionRow {
    PositionRow {
        symbol: sym(s),
        position: Position {
            quantity: Quantity(dec(qty)),
            sellable: Quantity(dec(qty)),
            cost: Cash(dec(cost)),
        },
        mark: mark.map(|m| Price(dec(m))),
    }
}

pub fn order(id: u64, status: OrderStatus) -> Order {
    let mut o = Order::new(
        OrderId(id),
        InstrumentIndex(1),
        sym("600519.SH"),
        Side::Buy,
        OrderType::Limit(Price(dec("1688.50"))),
        OrderQty::Units(Quantity(dec("100"))),
        day(2),
    );
    o.status = status;
    o
}

fn fill(order: u64, qty: &str, time: Option<i64>) -> Fill {
    Fill {
        order_id: OrderId(order),
        date: day(2),
        time: time.map(UnixNanos),
        instrument: InstrumentIndex(1),
        symbol: sym("600519.SH"),
        side: Side::Buy,
        quantity: Quantity(dec(qty)),
        price: Price(dec("1688.50")),
        commission: Cash(dec("5.00")),
        stamp_duty: Cash(dec("0")),
        transfer_fee: Cash(dec("0.0169")),
    }
}

fn risk(kind: RiskEventKind, order: Option<u64>) -> RiskEvent {
    RiskEvent {
        date: day(3),
        kind,
        symbol: order.map(|_| sym("000001.SZ")),
        order: order.map(OrderId),
        rule: "position_weight".into(),
        value: 0.25,
        limit: if order.is_some() { 0.2 } else { f64::NAN },
        detail: "weight 25% over the 20% limit".into(),
    }
}

pub fn alert(id: &str, channels: &[&str]) -> NewAlert {
    NewAlert {
        event_id: id.into(),
        kind: "risk".into(),
        severity: Severity::Warning,
        title: format!("alert {id}"),
        body: "details".into(),
        created: UnixNanos(1_000),
        payload: r#"{"rule":"drawdown"}"#.into(),
        channels: channels.iter().map(|c| c.to_string()).collect(),
    }
}

async fn the_read_model_round_trips(fx: &Fixture) {
    let j = fx.open().await;
    assert_eq!(j.read_model_seq().await.ok(), Some(0));
    let mut o2 = order(2, OrderStatus::Accepted)
        .with_tif(TimeInForce::Gtd(day(5)))
        .with_client_id(ClientOrderId::new("s1", day(2), 2).expect("a client id"));
    o2.venue_id = Some("V-77".into());
    o2.order_type = OrderType::TrailingStop(Trail::Fraction(dec("0.05")));
    o2.parent = Some(OrderId(1));
    let mut o1_filled = order(1, OrderStatus::Filled);
    o1_filled.filled = Quantity(dec("100"));
    o1_filled.avg_price = Some(Price(dec("1688.50")));
    o1_filled.updated = day(3);
    let u = ReadModelUpdate {
        positions: Some(vec![
            position("600519.SH", "100", "168855.0169", Some("1700.10")),
            position("000001.SZ", "0", "0", None),
        ]),
        // order 1 twice in one batch: the later version wins
        orders: vec![
            order(1, OrderStatus::Accepted),
            o2.clone(),
            o1_filled.clone(),
        ],
        fills: vec![fill(1, "40", Some(5)), fill(1, "60", None)],
        equity: vec![
            EquityPoint {
                date: day(2),
                equity: 1.0e6,
                cash: Cash(dec("831144.9831")),
                benchmark: f64::NAN,
            },
            EquityPoint {
                date: day(2),
                equity: 1_000_100.5,
                cash: Cash(dec("831144.98")),
                benchmark: 3000.25,
            },
        ],
        risk_events: vec![
            risk(RiskEventKind::Blocked, Some(3)),
            risk(RiskEventKind::Trip, None),
        ],
        alerts: vec![alert("risk:2024-01-03:drawdown", &["webhook"])],
    };
    assert!(!u.is_empty());
    assert!(ReadModelUpdate::default().is_empty());
    let seq = j
        .append_with_read_model(&[ev(1), ev(2)], &u)
        .await
        .expect("append with the read model");
    assert_eq!(seq, 2);
    assert_eq!(j.read_model_seq().await.ok(), Some(2));

    let pos = j.positions().await.expect("positions");
    assert_eq!(pos.len(), 2);
    assert_eq!(pos[0].symbol, sym("000001.SZ"));
    assert_eq!(pos[0].mark, None);
    assert_eq!(pos[0].avg_cost(), None);
    assert_eq!(pos[1].position.cost, Cash(dec("168855.0169")));
    assert_eq!(pos[1].position.cost.0.to_string(), "168855.0169");
    assert_eq!(pos[1].mark, Some(Price(dec("1700.10"))));
    assert_eq!(
        pos[1].mark.map(|m| m.0.to_string()).as_deref(),
        Some("1700.10")
    );
    assert_eq!(pos[1].value(), Some(Cash(dec("170010.00"))));

    let orders = j.orders().await.expect("orders");
    assert_eq!(orders, [o1_filled.clone(), o2.clone()]);
    assert_eq!(j.open_orders().await.expect("open orders"), [o2.clone()]);
    assert_eq!(
        j.order(OrderId(2)).await.expect("order 2"),
        Some(o2.clone())
    );
    assert_eq!(j.order(OrderId(9)).await.expect("order 9"), None);

    let fills = j.fills().await.expect("fills");
    assert_eq!(fills, [fill(1, "40", Some(5)), fill(1, "60", None)]);
    assert_eq!(fills[1].transfer_fee.0.to_string(), "0.0169");
    let after = j.fills_after(1).await.expect("fills after 1");
    assert_eq!(after, [(2, fill(1, "60", None))]);

    let eq = j.equity().await.expect("equity");
    assert_eq!(eq.len(), 1, "a day's point is upserted");
    assert_eq!(eq[0].equity, 1_000_100.5);
    assert_eq!(eq[0].cash, Cash(dec("831144.98")));
    assert_eq!(eq[0].benchmark, 3000.25);

    let risks = j.risk_events().await.expect("risk events");
    assert_eq!(risks.len(), 2);
    assert_eq!(risks[0].kind, RiskEventKind::Blocked);
    assert_eq!(risks[0].order, Some(OrderId(3)));
    assert_eq!(risks[0].symbol, Some(sym("000001.SZ")));
    assert_eq!(risks[0].limit, 0.2);
    assert_eq!(risks[1].kind, RiskEventKind::Trip);
    assert!(
        risks[1].limit.is_nan(),
        "NaN is stored as NULL and read back as NaN"
    );
    assert_eq!(risks[1].symbol, None);

    let alerts = j.alerts().await.expect("alerts");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].seq, Some(2));

    // the next batch: positions replaced whole, orders upserted, fills
    // and risk events appended, a NaN equity point
    let mut o2_done = o2.clone();
    o2_done.status = OrderStatus::Cancelled;
    let u2 = ReadModelUpdate {
        positions: Some(vec![position("600519.SH", "50", "84427.50", Some("1701"))]),
        orders: vec![o2_done.clone()],
        fills: vec![fill(2, "1", None)],
        equity: vec![EquityPoint {
            date: day(3),
            equity: f64::NAN,
            cash: Cash(dec("0")),
            benchmark: f64::NAN,
        }],
        risk_events: vec![risk(RiskEventKind::Release, None)],
        alerts: vec![],
    };
    assert_eq!(j.append_with_read_model(&[ev(3)], &u2).await.ok(), Some(3));
    j.close().await;

    let j = fx.open().await;
    assert_eq!(j.read_model_seq().await.ok(), Some(3));
    let pos = j.positions().await.expect("positions");
    assert_eq!(pos.len(), 1);
    assert_eq!(pos[0].position.quantity, Quantity(dec("50")));
    assert!(j.open_orders().await.expect("open orders").is_empty());
    assert_eq!(j.orders().await.expect("orders"), [o1_filled, o2_done]);
    let numbered: Vec<u64> = j
        .fills_after(0)
        .await
        .expect("fills")
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(numbered, [1, 2, 3]);
    let eq = j.equity().await.expect("equity");
    assert_eq!(eq.len(), 2);
    assert!(eq[1].equity.is_nan() && eq[1].benchmark.is_nan());
    assert_eq!(j.risk_events().await.expect("risk").len(), 3);
    // positions untouched by an update without them
    j.append_with_read_model(&[ev(4)], &ReadModelUpdate::default())
        .await
        .expect("an empty update");
    assert_eq!(j.positions().await.expect("positions").len(), 1);
    assert_eq!(j.read_model_seq().await.ok(), Some(4));
    // no entries: applied at the current last seq
    let u3 = ReadModelUpdate {
        positions: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(j.append_with_read_model(&[], &u3).await.ok(), Some(4));
    assert!(j.positions().await.expect("positions").is_empty());
    let c = j.counts().await.expect("counts");
    assert_eq!((c.entries, c.orders, c.fills, c.equity), (4, 2, 3, 2));
    assert_eq!((c.risk_events, c.alerts, c.undelivered), (3, 1, 1));
    j.close().await;
}
both!(the_read_model_round_trips);

async fn a_failing_read_model_write_leaves_no_entries(fx: &Fixture) {
    let j = fx.open().await;
    let ok = ReadModelUpdate {
        positions: Some(vec![position("600519.SH", "100", "1", Some("1"))]),
        orders: vec![order(1, OrderStatus::Accepted)],
        ..Default::default()
    };
    j.append_with_read_model(&[ev(1)], &ok)
        .await
        .expect("first");

    // the database refuses it: one symbol twice in the book
    let dup = ReadModelUpdate {
        positions: Some(vec![
            position("000001.SZ", "1", "1", None),
            position("000001.SZ", "2", "2", None),
        ]),
        orders: vec![order(2, OrderStatus::Accepted)],
        fills: vec![fill(2, "1", None)],
        alerts: vec![alert("a1", &["webhook"])],
        ..Default::default()
    };
    let r = j.append_with_read_model(&[ev(2), ev(3)], &dup).await;
    assert!(
        matches!(r, Err(Error::Query { what, .. }) if what == "replace positions"),
        "{r:?}"
    );

    // the journal refuses it, after the entries and the book were written
    let bad_alert = ReadModelUpdate {
        positions: Some(vec![]),
        alerts: vec![NewAlert {
            payload: "not json".into(),
            ..alert("a2", &["webhook"])
        }],
        ..Default::default()
    };
    let r = j.append_with_read_model(&[ev(2)], &bad_alert).await;
    assert!(
        matches!(
            r,
            Err(Error::Invalid {
                table: "alerts",
                ..
            })
        ),
        "{r:?}"
    );
    let too_big = ReadModelUpdate {
        orders: vec![order(u64::MAX, OrderStatus::Accepted)],
        ..Default::default()
    };
    let r = j.append_with_read_model(&[ev(2)], &too_big).await;
    assert!(
        matches!(
            r,
            Err(Error::Invalid {
                table: "orders",
                ..
            })
        ),
        "{r:?}"
    );

    for j in [&j, &fx.open_reader_of().await] {
        assert_eq!(seqs(j).await, [1], "no entry of a failed call");
        assert_eq!(j.read_model_seq().await.ok(), Some(1));
        let pos = j.positions().await.expect("positions");
        assert_eq!(pos.len(), 1);
        assert_eq!(pos[0].symbol, sym("600519.SH"));
        assert_eq!(j.orders().await.expect("orders").len(), 1);
        assert!(j.fills().await.expect("fills").is_empty());
        assert!(j.alerts().await.expect("alerts").is_empty());
    }
    // the next append follows without a gap
    assert_eq!(j.append(&[ev(2)]).await.ok(), Some(2));
    j.close().await;
}
both!(a_failing_read_model_write_leaves_no_entries);

async fn replayed_read_model_writes_are_skipped(fx: &Fixture) {
    let j = fx.open().await;
    j.append(&[ev(1), ev(2), ev(3)]).await.expect("append");
    let u = |n: u64| ReadModelUpdate {
        fills: vec![fill(n, "1", None)],
        ..Default::default()
    };
    assert_eq!(j.apply_read_model(2, &u(2)).await.ok(), Some(true));
    assert_eq!(j.apply_read_model(2, &u(2)).await.ok(), Some(false));
    assert_eq!(j.apply_read_model(1, &u(1)).await.ok(), Some(false));
    assert!(matches!(
        j.apply_read_model(4, &u(4)).await,
        Err(Error::Invalid { .. })
    ));
    assert_eq!(j.apply_read_model(3, &u(3)).await.ok(), Some(true));
    assert_eq!(j.read_model_seq().await.ok(), Some(3));
    let orders: Vec<u64> = j
        .fills()
        .await
        .expect("fills")
        .iter()
        .map(|f| f.order_id.0)
        .collect();
    assert_eq!(orders, [2, 3]);
    j.close().await;
}
both!(replayed_read_model_writes_are_skipped);
