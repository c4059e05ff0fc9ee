//! The error type of `quant-core`.

use chrono::NaiveDate;

/// Errors raised by domain constructors and rule functions.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// A symbol string could not be parsed (e.g. `600519.XX`).
    #[error("invalid symbol `{symbol}`: {reason}")]
    InvalidSymbol {
        /// The offending symbol text.
        symbol: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A price, quantity or rate was negative, NaN or otherwise out of range.
    #[error("invalid value for {what}: {value}")]
    InvalidValue {
        /// Name of the field or parameter.
        what: &'static str,
        /// The value as text.
        value: String,
    },
    /// An order state transition that the state machine does not allow.
    #[error("order {order_id}: event {event} is not allowed in state {state}")]
    InvalidTransition {
        /// The order's id.
        order_id: u64,
        /// Current state.
        state: String,
        /// Event that was applied.
        event: String,
    },
    /// A calendar was built from dates that are not strictly increasing.
    #[error("calendar dates are not strictly increasing at {date}")]
    UnsortedCalendar {
        /// First date out of order.
        date: NaiveDate,
    },
    /// A name (board, exchange, rule set…) that is not known.
    #[error("unknown {what} `{name}`; expected one of: {expected}")]
    UnknownName {
        /// What kind of name.
        what: &'static str,
        /// The name given.
        name: String,
        /// The accepted names.
        expected: &'static str,
    },
    /// A schedule that is malformed, or that this kind of run cannot follow
    /// (`at = "14:50"` on daily bars); `key` is the schedule's own key
    /// (`every`, `day`, `at`), empty for an unknown shortcut name.
    #[error("{}{message}", if key.is_empty() { String::new() } else { format!("{key}: ") })]
    Schedule {
        /// The schedule's key at fault, or empty.
        key: &'static str,
        /// What is wrong, with the allowed values.
        message: String,
    },
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
