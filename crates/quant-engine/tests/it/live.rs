//! The events and commands of paper and live sessions: stops the venue
//! lacks held and triggered by the engine (on bars and on quotes), submit
//! timeouts that end in a status query, a broker's account snapshot that
//! differs from the book, an operator's cancel and replace — each also
//! across a snapshot and restore.

use quant_core::{
    AccountSnapshot, Cash, InstrumentIndex, OrderId, OrderStatus, OrderType, Price, Quantity,
    Quote, RejectReason, Side, Symbol, UnixNanos,
};
use quant_engine::{Command, Control, Engine, EngineConfig, Event, TimerId};
use quant_exec::emulate::VenueCaps;
use quant_exec::oms::Report;
use rust_decimal::Decimal;

use crate::harness::{Hist, Script, bar, calendar, config, d, inst, units};

const DAYS: [&str; 3] = ["2024-01-02", "2024-01-03", "2024-01-04"];

fn px(x: i64) -> Price {
    Price(Decimal::from(x))
}

fn engine(cfg: EngineConfig, orders: Vec<(usize, Side, i64, OrderType)>) -> Engine {
    let script = Script::new(
        orders
            .into_iter()
            .map(|(day, side, q, t)| (d(DAYS[day]), 0, side, units(q), t))
            .collect(),
    );
    Engine::new(cfg, vec![inst("600519.SH")], vec![true], Box::new(script)).unwrap()
}

/// Days of 600519.SH: day 1 dips to 1650, day 2 rallies.
fn bars() -> Vec<Vec<Option<quant_core::Bar>>> {
    vec![
        vec![Some(bar(DAYS[0], 1700.0, 1710.0, 1690.0, 1705.0))],
        vec![Some(bar(DAYS[1], 1700.0, 1705.0, 1650.0, 1660.0))],
        vec![Some(bar(DAYS[2], 1660.0, 1730.0, 1655.0, 1725.0))],
    ]
}

/// Session open and closed bars of day `k` (at instant `time` when given).
fn day(e: &mut Engine, k: usize, time: Option<i64>, hist: &mut Hist) -> Vec<Command> {
    let bars = bars();
    let cal = calendar(&DAYS);
    let mut out = Vec::new();
    e.handle(
        Event::SessionOpen {
            day: d(DAYS[k]),
            bars: &bars[k],
        },
        &mut out,
    )
    .unwrap();
    hist.push(&bars[k]);
    e.handle(
        Event::Bars {
            day: d(DAYS[k]),
            time: time.map(UnixNanos),
            bars: &bars[k],
            history: &*hist,
            calendar: &cal,
        },
        &mut out,
    )
    .unwrap();
    out
}

fn close(e: &mut Engine, k: usize) -> Vec<Command> {
    let mut out = Vec::new();
    e.handle(
        Event::SessionClose {
            day: d(DAYS[k]),
            benchmark: f64::NAN,
        },
        &mut out,
    )
    .unwrap();
    out
}

fn handle(e: &mut Engine, ev: Event<'_>) -> Vec<Command> {
    let mut out = Vec::new();
    e.handle(ev, &mut out).unwrap();
    out
}

fn basic() -> EngineConfig {
    EngineConfig {
        venue: VenueCaps::basic_broker(),
        ..config(1_000_000.0)
    }
}

fn submits(cmds: &[Command]) -> Vec<(OrderId, OrderType)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Submit(o) => Some((o.id, o.order_type)),
            _ => None,
        })
        .collect()
}

fn fill_report(id: u64, q: i64, price: i64, day: &str, side: Side) -> Report {
    Report::Fill {
        fill: quant_core::Fill {
            order_id: OrderId(id),
            date: d(day),
            time: None,
            instrument: InstrumentIndex(0),
            symbol: Symbol::new("600519.SH").unwrap(),
            side,
            quantity: Quantity::from_units(q),
            price: px(price),
            commission: Cash(Decimal::new(5, 0)),
            stamp_duty: Cash(Decimal::ZERO),
            transfer_fee: Cash(Decimal::ZERO),
        },
        fill_id: None,
        complete: None,
        cut: None,
    }
}

#[test]
fn a_stop_the_broker_lacks_is_held_then_sent_as_a_market_order() {
    // day 0: buy 100 at market and a protective sell stop at 1660
    let mut e = engine(
        basic(),
        vec![
            (0, Side::Buy, 100, OrderType::Market),
            (0, Side::Sell, 100, OrderType::Stop(px(1660))),
        ],
    );
    let mut hist = Hist::new(1);
    let out = day(&mut e, 0, None, &mut hist);
    // only the market order goes out; the stop is held, still PendingSubmit
    assert_eq!(submits(&out), vec![(OrderId(1), OrderType::Market)]);
    assert_eq!(
        e.order(OrderId(2)).unwrap().status,
        OrderStatus::PendingSubmit
    );
    handle(
        &mut e,
        Event::Report(fill_report(1, 100, 1700, DAYS[0], Side::Buy)),
    );
    // the day it was decided on does not end a DAY stop, nor trigger it
    assert!(submits(&close(&mut e, 0)).is_empty());
    // day 1's bar reaches 1650 ≤ 1660: the stop fires as a market sell, same id
    let snap = e.snapshot().unwrap();
    let out = day(&mut e, 1, None, &mut hist);
    assert_eq!(submits(&out), vec![(OrderId(2), OrderType::Market)]);
    // a restored engine fires the same way
    let mut again = Engine::restore(&snap, Box::new(Script::new(vec![]))).unwrap();
    let mut hist2 = Hist::new(1);
    hist2.push(&bars()[0]);
    assert_eq!(day(&mut again, 1, None, &mut hist2), out);
    // the venue's fill of the trigger order fills the stop itself
    handle(
        &mut e,
        Event::Report(Report::Accepted {
            id: OrderId(2),
            venue_id: None,
        }),
    );
    handle(
        &mut e,
        Event::Report(fill_report(2, 100, 1655, DAYS[1], Side::Sell)),
    );
    let stop = e.order(OrderId(2)).unwrap();
    assert_eq!(stop.status, OrderStatus::Filled);
    assert_eq!(
        stop.order_type,
        OrderType::Stop(px(1660)),
        "the book keeps the stop's type"
    );
    assert!(e.portfolio().positions[0].is_flat());
}

#[test]
fn unsupported_orders_are_refused_before_they_are_sent() {
    let mut e = engine(basic(), vec![(0, Side::Buy, 100, OrderType::MarketOnOpen)]);
    let out = day(&mut e, 0, None, &mut Hist::new(1));
    assert!(submits(&out).is_empty());
    let o = e.order(OrderId(1)).unwrap();
    assert_eq!(
        (o.status, o.reason),
        (OrderStatus::Rejected, Some(RejectReason::Unsupported))
    );
}

#[test]
fn quotes_mark_the_position_and_trigger_held_stops() {
    let mut e = engine(
        basic(),
        vec![
            (0, Side::Buy, 100, OrderType::Market),
            (0, Side::Sell, 100, OrderType::Stop(px(1680))),
        ],
    );
    let mut hist = Hist::new(1);
    day(&mut e, 0, Some(1_000), &mut hist);
    handle(
        &mut e,
        Event::Report(fill_report(1, 100, 1700, DAYS[0], Side::Buy)),
    );
    let quote = |last: f64, t: i64| Quote {
        instrument: InstrumentIndex(0),
        time: UnixNanos(t),
        bid: f64::NAN,
        ask: f64::NAN,
        last,
        volume: f64::NAN,
    };
    // above the stop: marked, nothing sent
    assert!(submits(&handle(&mut e, Event::Quote(quote(1690.0, 2_000)))).is_empty());
    assert_eq!(e.portfolio().marks[0], 1690.0);
    // a quote at the stop triggers it
    let out = handle(&mut e, Event::Quote(quote(1679.0, 3_000)));
    assert_eq!(submits(&out), vec![(OrderId(2), OrderType::Market)]);
    // a quote without a price changes nothing; one outside the universe is an error
    assert!(handle(&mut e, Event::Quote(quote(f64::NAN, 4_000))).is_empty());
    assert_eq!(e.portfolio().marks[0], 1679.0);
    let mut bad = quote(1.0, 5_000);
    bad.instrument = InstrumentIndex(7);
    assert!(e.handle(Event::Quote(bad), &mut Vec::new()).is_err());
}

#[test]
fn an_unanswered_submit_times_out_to_unknown_and_is_queried_never_resent() {
    let cfg = EngineConfig {
        ack_timeout_ms: Some(5_000),
        ..config(1_000_000.0)
    };
    let mut e = engine(
        cfg,
        vec![
            (0, Side::Buy, 100, OrderType::Market),
            (1, Side::Buy, 100, OrderType::Market),
        ],
    );
    let mut hist = Hist::new(1);
    let t0 = 1_704_160_800_000_000_000i64; // 2024-01-02 02:00 UTC
    let out = day(&mut e, 0, Some(t0), &mut hist);
    let at = UnixNanos(t0 + 5_000_000_000);
    assert_eq!(
        out,
        vec![
            Command::Submit(e.order(OrderId(1)).unwrap().clone()),
            Command::SetTimer { id: TimerId(1), at }
        ]
    );
    let snap = e.snapshot().unwrap();
    // no answer: the timer fires; the order is Unknown and queried, not resent
    let fired = handle(
        &mut e,
        Event::Timer {
            id: TimerId(1),
            time: at,
        },
    );
    assert_eq!(fired[0], Command::Query(OrderId(1)));
    assert!(matches!(&fired[1], Command::Alert { message, .. } if message.contains("unknown")));
    assert!(submits(&fired).is_empty());
    assert_eq!(e.order(OrderId(1)).unwrap().status, OrderStatus::Unknown);
    // the venue's answer to the query resolves it
    handle(
        &mut e,
        Event::Report(Report::Status {
            id: OrderId(1),
            status: OrderStatus::Accepted,
        }),
    );
    assert_eq!(e.order(OrderId(1)).unwrap().status, OrderStatus::Accepted);
    // restored from before the timer: the same
    let mut again = Engine::restore(&snap, Box::new(Script::new(vec![]))).unwrap();
    assert_eq!(
        handle(
            &mut again,
            Event::Timer {
                id: TimerId(1),
                time: at
            }
        ),
        fired
    );
    // an answered submit cancels its timer; a late timer then does nothing
    close(&mut e, 0);
    let t1 = t0 + 86_400_000_000_000;
    let out = day(&mut e, 1, Some(t1), &mut hist);
    assert!(out.contains(&Command::SetTimer {
        id: TimerId(2),
        at: UnixNanos(t1 + 5_000_000_000)
    }));
    let acked = handle(
        &mut e,
        Event::Report(Report::Accepted {
            id: OrderId(2),
            venue_id: None,
        }),
    );
    assert_eq!(acked, vec![Command::CancelTimer(TimerId(2))]);
    let late = handle(
        &mut e,
        Event::Timer {
            id: TimerId(2),
            time: UnixNanos(t1 + 6_000_000_000),
        },
    );
    assert!(late.is_empty());
    assert_eq!(e.order(OrderId(2)).unwrap().status, OrderStatus::Accepted);
}

#[test]
fn an_account_that_differs_from_the_book_blocks_orders_until_it_agrees() {
    let mut e = engine(
        config(1_000_000.0),
        vec![
            (0, Side::Buy, 100, OrderType::Market),
            (1, Side::Buy, 100, OrderType::Market),
            (2, Side::Buy, 100, OrderType::Market),
        ],
    );
    let mut hist = Hist::new(1);
    day(&mut e, 0, None, &mut hist);
    handle(
        &mut e,
        Event::Report(fill_report(1, 100, 1700, DAYS[0], Side::Buy)),
    );
    close(&mut e, 0);
    let sym = Symbol::new("600519.SH").unwrap();
    let book_cash = e.portfolio().cash;
    let snap = |cash: Cash, q: i64| AccountSnapshot {
        time: UnixNanos(10),
        cash,
        positions: vec![(sym.clone(), Quantity::from_units(q))],
    };
    // the broker holds 200, the book 100
    let out = handle(&mut e, Event::Account(snap(book_cash, 200)));
    assert!(
        matches!(&out[..], [Command::Alert { message, .. }] if message.contains("600519.SH: 200 at the broker, 100 in the book")),
        "{out:?}"
    );
    let out = day(&mut e, 1, None, &mut hist);
    assert!(submits(&out).is_empty(), "blocked: no order");
    assert!(out.iter().any(
        |c| matches!(c, Command::Alert { message, .. } if message.contains("account differs"))
    ));
    // a cash difference beyond a cent is a difference too
    let off = Cash(book_cash.0 + Decimal::new(2, 2));
    assert!(!handle(&mut e, Event::Account(snap(off, 100))).is_empty());
    // within a cent and the same positions: unblocked
    let near = Cash(book_cash.0 + Decimal::new(1, 2));
    let out = handle(&mut e, Event::Account(snap(near, 100)));
    assert!(matches!(&out[..], [Command::Alert { message, .. }] if message.contains("agrees")));
    close(&mut e, 1);
    assert_eq!(submits(&day(&mut e, 2, None, &mut hist)).len(), 1);
    // a symbol the run does not know, or a position the broker lacks
    let cash = e.portfolio().cash;
    let out = handle(
        &mut e,
        Event::Account(AccountSnapshot {
            time: UnixNanos(20),
            cash,
            positions: vec![(Symbol::new("000001.SZ").unwrap(), Quantity::from_units(5))],
        }),
    );
    let Command::Alert { message, .. } = &out[0] else {
        panic!("{out:?}")
    };
    assert!(
        message.contains("000001.SZ: 5 at the broker, not an instrument of the run"),
        "{message}"
    );
    assert!(
        message.contains("600519.SH: none at the broker, 100 in the book"),
        "{message}"
    );
    // the operator accepts the difference
    let out = handle(&mut e, Event::Control(Control::Resume));
    assert!(matches!(&out[..], [Command::Alert { message, .. }] if message.contains("accepted")));
}

#[test]
fn operator_cancel_and_replace() {
    let lim = OrderType::Limit(px(1600));
    let mut e = engine(
        basic(),
        vec![
            (0, Side::Buy, 300, lim),
            (0, Side::Sell, 100, OrderType::Stop(px(1500))),
        ],
    );
    let mut hist = Hist::new(1);
    day(&mut e, 0, None, &mut hist);
    handle(
        &mut e,
        Event::Report(Report::Accepted {
            id: OrderId(1),
            venue_id: None,
        }),
    );
    handle(
        &mut e,
        Event::Report(fill_report(1, 100, 1600, DAYS[0], Side::Buy)),
    );
    // replace: a new limit and a new total size, sent to the venue
    let out = handle(
        &mut e,
        Event::Control(Control::Replace {
            id: OrderId(1),
            price: Some(px(1650)),
            qty: Some(Quantity::from_units(200)),
        }),
    );
    assert_eq!(
        out,
        vec![Command::Replace {
            id: OrderId(1),
            order_type: OrderType::Limit(px(1650)),
            requested: units(200),
        }]
    );
    assert_eq!(
        e.order(OrderId(1)).unwrap().status,
        OrderStatus::PendingReplace
    );
    handle(
        &mut e,
        Event::Report(Report::Replaced {
            id: OrderId(1),
            order_type: OrderType::Limit(px(1650)),
            requested: units(200),
        }),
    );
    let o = e.order(OrderId(1)).unwrap();
    assert_eq!(
        (o.order_type, o.requested),
        (OrderType::Limit(px(1650)), units(200))
    );
    // bad replaces are errors naming the order, and change nothing
    for (price, qty, why) in [
        (
            None,
            Some(Quantity::from_units(100)),
            "above the 100 units filled",
        ),
        (Some(Price(Decimal::ZERO)), None, "above 0"),
    ] {
        let err = e
            .handle(
                Event::Control(Control::Replace {
                    id: OrderId(1),
                    price,
                    qty,
                }),
                &mut Vec::new(),
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("replace of order 1") && err.contains(why),
            "{err}"
        );
    }
    // a held stop is changed in place, nothing sent
    let out = handle(
        &mut e,
        Event::Control(Control::Replace {
            id: OrderId(2),
            price: Some(px(1550)),
            qty: None,
        }),
    );
    assert!(out.is_empty());
    assert_eq!(
        e.order(OrderId(2)).unwrap().order_type,
        OrderType::Stop(px(1550))
    );
    // cancel: the held stop locally, the working limit at the venue
    assert!(handle(&mut e, Event::Control(Control::Cancel(OrderId(2)))).is_empty());
    assert_eq!(e.order(OrderId(2)).unwrap().status, OrderStatus::Cancelled);
    let out = handle(&mut e, Event::Control(Control::Cancel(OrderId(1))));
    assert_eq!(out, vec![Command::Cancel(OrderId(1))]);
    assert_eq!(
        e.order(OrderId(1)).unwrap().status,
        OrderStatus::PendingCancel
    );
}
