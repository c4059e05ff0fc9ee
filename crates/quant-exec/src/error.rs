//! The error type of `quant-exec`.

/// Errors of the order book and the venue.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An order event broke the order state machine.
    #[error(transparent)]
    Core(#[from] quant_core::Error),
    /// The venue reported an event for an order the engine does not know.
    #[error("venue reported unknown order id {0}")]
    UnknownOrder(u64),
    /// A venue or engine setting outside its range, named by its key.
    #[error("setting `{key}` = {value}: {expected}")]
    Setting {
        /// The setting's key (`slippage_bps`, `cn_a.stock_fees.commission_rate`…).
        key: String,
        /// The value given.
        value: String,
        /// The allowed range.
        expected: String,
    },
    /// An order whose terms the emulator or an execution algorithm cannot
    /// take (a type it does not emulate, a size that is not whole lots, an
    /// order already sent).
    #[error("order {id}: {message}")]
    Order {
        /// The order's id.
        id: u64,
        /// What is wrong with it.
        message: String,
    },
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
