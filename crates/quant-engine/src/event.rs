//! What drives the engine ([`Event`]) and what it asks for ([`Command`]).
//!
//! Every event carries its own time (a trading day; instants with
//! intraday bars, quotes, timers and account snapshots); the engine reads
//! no clock. The same events in the same order give the same commands and
//! the same state.

use chrono::NaiveDate;
use quant_core::{
    AccountSnapshot, Bar, Order, OrderId, OrderQty, OrderType, Price, Quantity, Quote,
    TradingCalendar, UnixNanos,
};
use quant_exec::oms::Report;
use quant_strategy::History;
use serde::{Deserialize, Serialize};

/// An event for [`crate::Engine::handle`].
pub enum Event<'a> {
    /// Trading day `day` opens. `bars` are the day's bars, one slot per
    /// instrument (`None`: no bar, suspended); at the open the engine reads
    /// only what is known then: each bar's `pre_close` (the ex-rights
    /// reference) and date. Positions bought under T+1 become sellable,
    /// corporate actions on ex-dates are booked, the risk gate starts the
    /// day.
    SessionOpen {
        /// The trading day.
        day: NaiveDate,
        /// The day's bars by instrument.
        bars: &'a [Option<Bar>],
    },
    /// The bars of `day` closed: positions are marked, the risk gate
    /// updates, the strategy decides (its orders become
    /// [`Command::Submit`]s).
    Bars {
        /// The trading day.
        day: NaiveDate,
        /// The bars' close instant when they are intraday (`None`: daily).
        time: Option<quant_core::UnixNanos>,
        /// The closed bars by instrument.
        bars: &'a [Option<Bar>],
        /// History up to and including these bars.
        history: &'a dyn History,
        /// The exchange calendar (schedules pick their days on it).
        calendar: &'a TradingCalendar,
    },
    /// A venue's report about one order.
    Report(Report),
    /// Trading day `day` closed: an equity point is recorded.
    SessionClose {
        /// The trading day.
        day: NaiveDate,
        /// The benchmark's close (index points), NaN when none.
        benchmark: f64,
    },
    /// A quote or last trade between bars (live feeds): the position is
    /// marked at [`Quote::price`], and stops the engine emulates for the
    /// venue are checked against it. Strategies decide on bars only.
    Quote(Quote),
    /// A timer the engine set ([`Command::SetTimer`]) is due.
    Timer {
        /// The timer.
        id: TimerId,
        /// The instant it fired at (its due time or later).
        time: UnixNanos,
    },
    /// The broker's view of the account. The engine compares it with its
    /// own book (cash to the cent, every position exactly): a difference
    /// blocks new orders and raises an alert until a snapshot agrees again
    /// or the operator resumes ([`Control::Resume`]).
    Account(AccountSnapshot),
    /// An operator's control.
    Control(Control),
}

/// A timer of the engine, numbered from 1 in the order they are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimerId(pub u64);

/// Operator controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Kill switch: cancel every working order and refuse new ones.
    Halt,
    /// Trade again after a halt (or accept an account difference).
    Resume,
    /// Cancel one order (held ones locally, others at the venue).
    Cancel(OrderId),
    /// Change a working order: a limit order's limit, a stop's stop (a
    /// stop-limit's limit), and/or its size in units (total, above what has
    /// filled). Becomes [`Command::Replace`]; the venue confirms or refuses.
    Replace {
        /// The order.
        id: OrderId,
        /// The new price (quote currency), `None` to keep it.
        price: Option<Price>,
        /// The new total size in units, `None` to keep it.
        qty: Option<Quantity>,
    },
}

/// What the engine asks its driver to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// an order is moved to the venue once; boxing it would allocate per submit
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Send this order to the venue (it is in `PendingSubmit` in the book).
    Submit(Order),
    /// Ask the venue to cancel this order.
    Cancel(OrderId),
    /// Ask the venue to change this working order's terms (the order is in
    /// `PendingReplace` until the venue answers).
    Replace {
        /// The order.
        id: OrderId,
        /// Its new type and prices.
        order_type: OrderType,
        /// Its new total size.
        requested: OrderQty,
    },
    /// Ask the venue what it knows of this order (its submit got no answer
    /// in time; it is `Unknown` until the answer comes). Never resubmit.
    Query(OrderId),
    /// Fire [`Event::Timer`] with this id at instant `at` (or as soon after
    /// as the driver can).
    SetTimer {
        /// The timer.
        id: TimerId,
        /// When it is due (UTC).
        at: UnixNanos,
    },
    /// The timer is no longer wanted.
    CancelTimer(TimerId),
    /// Tell the operator.
    Alert {
        /// When.
        day: NaiveDate,
        /// What happened.
        message: String,
    },
}
