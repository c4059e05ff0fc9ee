//! The error type of `quant-exec`.

/// Errors of the event loop.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The strategy refused to start.
    #[error(transparent)]
    Strategy(#[from] quant_strategy::Error),
    /// The data feed failed (names the source).
    #[error("data feed: {0}")]
    Feed(String),
    /// An order event broke the order state machine.
    #[error(transparent)]
    Core(#[from] quant_core::Error),
    /// The venue reported an event for an order the engine does not know.
    #[error("venue reported unknown order id {0}")]
    UnknownOrder(u64),
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
