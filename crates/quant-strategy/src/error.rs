//! The error type of `quant-strategy`.

/// Errors from building or starting a strategy.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No strategy of that name.
    #[error("unknown strategy `{name}`; available: {available}")]
    UnknownStrategy {
        /// Name asked for.
        name: String,
        /// Names the registry knows.
        available: String,
    },
    /// A parameter table that does not fit the strategy (names the key).
    #[error("strategy `{strategy}`: {message}")]
    Config {
        /// Strategy name.
        strategy: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// Portfolio construction inputs that cannot give weights.
    #[error("portfolio construction: {0}")]
    Construction(String),
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
