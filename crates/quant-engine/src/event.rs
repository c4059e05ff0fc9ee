//! What drives the engine ([`Event`]) and what it asks for ([`Command`]).
//!
//! Every event carries its own time (a trading day now; instants with
//! intraday bars); the engine reads no clock. The same events in the same
//! order give the same commands and the same state.

use chrono::NaiveDate;
use quant_core::{Bar, Order, OrderId, TradingCalendar};
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
    /// An operator's control.
    Control(Control),
}

/// Operator controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Kill switch: cancel every working order and refuse new ones.
    Halt,
    /// Trade again after a halt.
    Resume,
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
    /// Tell the operator.
    Alert {
        /// When.
        day: NaiveDate,
        /// What happened.
        message: String,
    },
}
