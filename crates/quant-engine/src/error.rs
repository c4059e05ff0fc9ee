//! The error type of `quant-engine`.

/// Errors of the engine and its driver.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The strategy refused to start, an order of it is outside the
    /// universe, or it cannot save or load its state.
    #[error(transparent)]
    Strategy(#[from] quant_strategy::Error),
    /// The data feed failed or lent bars of another shape (names the source).
    #[error("data feed: {0}")]
    Feed(String),
    /// An order event broke the order state machine.
    #[error(transparent)]
    Core(#[from] quant_core::Error),
    /// The order book or the venue failed.
    #[error(transparent)]
    Exec(#[from] quant_exec::Error),
    /// A report for an order the engine does not know.
    #[error("venue reported unknown order id {0}")]
    UnknownOrder(u64),
    /// An engine setting outside its range, named by its key.
    #[error("setting `{key}` = {value}: {expected}")]
    Setting {
        /// The setting's key (`initial_cash`…).
        key: String,
        /// The value given.
        value: String,
        /// The allowed range.
        expected: String,
    },
    /// Risk settings `quant-risk` refuses (naming the key and range).
    #[error("risk: {0}")]
    Risk(#[from] quant_risk::Error),
    /// An operator's replace the order cannot take (names the order and
    /// why: no price to change, a price not above 0, a size not above what
    /// has filled).
    #[error("replace of order {id}: {message}")]
    Replace {
        /// The order.
        id: u64,
        /// What is wrong.
        message: String,
    },
    /// The driver's tap failed (a paper session's journal could not make
    /// an event or a command durable); the step stopped before anything
    /// reached the venue.
    #[error("tap: {0}")]
    Tap(String),
    /// A snapshot that cannot be written or read back.
    #[error("snapshot: {0}")]
    Snapshot(String),
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
