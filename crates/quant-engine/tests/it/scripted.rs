//! A scripted venue drives the engine through what real venues do: late
//! fills, partial fills, a fill pushed twice, an acknowledgement after the
//! fill, rejects, a cancel racing a fill, a halt; and the engine restored
//! from a snapshot at every point gives the same commands and record.

use quant_core::{
    Cash, Fill, InstrumentIndex, OrderId, OrderQty, OrderStatus, OrderType, Price, Quantity,
    RejectReason, Side, Symbol,
};
use quant_engine::{Command, Control, Engine, Event};
use quant_exec::oms::Report;
use rust_decimal::Decimal;

use crate::harness::{Hist, Script, bar, calendar, config, d, inst, units};

fn fill(id: u64, q: i64, px: &str, day: &str) -> Fill {
    Fill {
        order_id: OrderId(id),
        date: d(day),
        time: None,
        instrument: InstrumentIndex(0),
        symbol: Symbol::new("600519.SH").unwrap(),
        side: Side::Buy,
        quantity: Quantity::from_units(q),
        price: Price(px.parse().unwrap()),
        commission: Cash(Decimal::new(5, 0)),
        stamp_duty: Cash(Decimal::ZERO),
        transfer_fee: Cash(Decimal::ZERO),
    }
}

fn rep(id: u64, q: i64, px: &str, fid: &str) -> Report {
    Report::Fill {
        fill: fill(id, q, px, "2024-01-02"),
        fill_id: Some(fid.into()),
        complete: None,
        cut: None,
    }
}

/// The events of a session, owned so they can be replayed.
#[derive(Clone)]
enum Ev {
    Open(usize),
    Bars(usize),
    Rep(Report),
    Close(usize),
    Ctl(Control),
}

const DAYS: [&str; 3] = ["2024-01-02", "2024-01-03", "2024-01-04"];

fn bars() -> Vec<Vec<Option<quant_core::Bar>>> {
    vec![
        vec![Some(bar(DAYS[0], 1700.0, 1710.0, 1690.0, 1705.0))],
        vec![Some(bar(DAYS[1], 1705.0, 1720.0, 1700.0, 1715.0))],
        vec![Some(bar(DAYS[2], 1715.0, 1730.0, 1710.0, 1725.0))],
    ]
}

fn script() -> Script {
    let lim = OrderType::Limit(Price(Decimal::from(1700)));
    Script::new(vec![
        (d(DAYS[0]), 0, Side::Buy, units(300), lim),
        (d(DAYS[1]), 0, Side::Buy, units(100), OrderType::Market),
        (d(DAYS[1]), 0, Side::Buy, units(100), OrderType::Market),
        (d(DAYS[2]), 0, Side::Buy, units(100), OrderType::Market),
    ])
}

fn engine() -> Engine {
    Engine::new(
        config(1_000_000.0),
        vec![inst("600519.SH")],
        vec![true],
        Box::new(script()),
    )
    .unwrap()
}

/// Feeds `events` to `engine`; returns the commands in order.
fn feed(engine: &mut Engine, events: &[Ev], hist: &mut Hist) -> Vec<Command> {
    let bars = bars();
    let cal = calendar(&DAYS);
    let mut out = Vec::new();
    for e in events {
        let ev = match e {
            Ev::Open(k) => Event::SessionOpen {
                day: d(DAYS[*k]),
                bars: &bars[*k],
            },
            Ev::Bars(k) => {
                hist.push(&bars[*k]);
                Event::Bars {
                    day: d(DAYS[*k]),
                    time: None,
                    bars: &bars[*k],
                    history: &*hist,
                    calendar: &cal,
                }
            }
            Ev::Rep(r) => Event::Report(r.clone()),
            Ev::Close(k) => Event::SessionClose {
                day: d(DAYS[*k]),
                benchmark: f64::NAN,
            },
            Ev::Ctl(c) => Event::Control(*c),
        };
        engine.handle(ev, &mut out).unwrap();
    }
    out
}

/// Three days of a venue that misbehaves the way real ones do.
fn session() -> Vec<Ev> {
    use Ev::*;
    vec![
        Open(0),
        Bars(0),                          // → submit order 1 (buy 300 limit 1700)
        Rep(rep(1, 100, "1699.5", "e1")), // fills before the ack
        Rep(Report::Accepted {
            id: OrderId(1),
            venue_id: Some("V1".into()),
        }), // late ack: stale
        Rep(rep(1, 100, "1699.5", "e1")), // the same fill pushed twice
        Rep(rep(1, 100, "1700", "e2")),
        Close(0),
        Open(1),
        Bars(1), // → orders 2 and 3
        Rep(Report::Accepted {
            id: OrderId(2),
            venue_id: None,
        }),
        Rep(Report::Rejected {
            id: OrderId(3),
            reason: RejectReason::LimitUp,
        }),
        Ctl(Control::Halt),                        // → cancel 1 and 2
        Rep(rep(1, 100, "1700", "e3")),            // a fill racing the cancel
        Rep(Report::Cancelled { id: OrderId(1) }), // too late: already filled, stale
        Rep(Report::CancelRejected { id: OrderId(2) }),
        Rep(Report::Fill {
            fill: fill(2, 100, "1712", "2024-01-03"),
            fill_id: Some("e4".into()),
            complete: None,
            cut: None,
        }),
        Close(1),
        Open(2),
        Bars(2), // halted: an alert instead of order 4
        Ctl(Control::Resume),
        Close(2),
    ]
}

#[test]
fn a_misbehaving_venue_is_booked_once_and_right() {
    let mut e = engine();
    let mut hist = Hist::new(1);
    let cmds = feed(&mut e, &session(), &mut hist);
    let submits: Vec<u64> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Submit(o) => Some(o.id.0),
            _ => None,
        })
        .collect();
    assert_eq!(submits, [1, 2, 3], "no order after the halt");
    let cancels: Vec<u64> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Cancel(id) => Some(id.0),
            _ => None,
        })
        .collect();
    assert_eq!(cancels, [1, 2], "the halt cancels both working orders");
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Alert { message, .. } if message.contains("not traded")))
    );

    let rec = e.record();
    let o1 = &rec.orders[0];
    assert_eq!(o1.status, OrderStatus::Filled);
    assert_eq!(o1.filled, Quantity::from_units(300));
    // (1699.5·100 + 1700·100 + 1700·100) / 300
    assert_eq!(o1.avg_price, Some(Price("1699.83333333".parse().unwrap())));
    assert_eq!(rec.orders[1].status, OrderStatus::Filled);
    assert_eq!(rec.orders[2].status, OrderStatus::Rejected);
    assert_eq!(rec.orders[2].reason, Some(RejectReason::LimitUp));
    // four fills booked (the repeated push once), positions and cash agree
    assert_eq!(rec.fills.len(), 4);
    let p = e.portfolio();
    assert_eq!(p.positions[0].quantity, Quantity::from_units(400));
    let spent: Decimal = rec.fills.iter().map(|f| -f.cash_flow().0).sum();
    assert_eq!(p.cash.0, Decimal::from(1_000_000) - spent);
    assert_eq!(rec.equity.len(), 3);

    // what no venue may do: a fill for an order the book never had, or
    // after its cancel was confirmed
    let mut out = Vec::new();
    let err = e
        .handle(Event::Report(rep(9, 1, "1", "x")), &mut out)
        .unwrap_err();
    assert!(err.to_string().contains("unknown order id 9"), "{err}");
}

/// A snapshot at every point of the session, restored into a fresh
/// engine and fed the rest: the same commands and the same record, bit for
/// bit, as the run that never stopped.
#[test]
fn a_snapshot_at_any_point_restores_the_same_run() {
    let events = session();
    let mut whole = engine();
    let all_cmds = feed(&mut whole, &events, &mut Hist::new(1));
    let want = whole.record();
    for k in 0..=events.len() {
        let mut first = engine();
        let mut hist = Hist::new(1);
        let mut cmds = feed(&mut first, &events[..k], &mut hist);
        let snap = first.snapshot().unwrap();
        drop(first);
        let mut second = Engine::restore(&snap, Box::new(script())).unwrap();
        cmds.extend(feed(&mut second, &events[k..], &mut hist));
        assert_eq!(cmds, all_cmds, "commands after a restore at event {k}");
        let got = second.record();
        assert_eq!(got.orders, want.orders, "orders, restore at {k}");
        assert_eq!(got.fills, want.fills);
        assert_eq!(
            format!("{:?}", got.equity),
            format!("{:?}", want.equity),
            "equity, restore at {k}"
        );
        // and the snapshot itself round-trips
        let again = second.snapshot().unwrap();
        let third = Engine::restore(&again, Box::new(script())).unwrap();
        assert_eq!(third.snapshot().unwrap(), again);
    }
}

#[test]
fn a_strategy_without_a_saved_state_cannot_be_snapshotted() {
    struct Mute;
    impl quant_strategy::Strategy for Mute {
        fn name(&self) -> &str {
            "mute"
        }
        fn on_bar(&mut self, _: &quant_strategy::Context<'_>, _: &mut Vec<quant_strategy::Signal>) {
        }
    }
    let e = Engine::new(
        config(1e6),
        vec![inst("600519.SH")],
        vec![true],
        Box::new(Mute),
    )
    .unwrap();
    let err = e.snapshot().unwrap_err().to_string();
    assert!(err.contains("mute") && err.contains("cannot save"), "{err}");
    let _ = OrderQty::AllCash;
}
