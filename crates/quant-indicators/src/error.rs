//! The error type of `quant-indicators`.

/// Errors from computing or naming an indicator.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A parameter outside its allowed range (a period of 0, a negative
    /// multiplier, fast ≥ slow…).
    #[error("{indicator}: parameter `{param}` = {value} is invalid: {expected}")]
    InvalidParameter {
        /// Indicator name (TA-Lib's, e.g. `SMA`).
        indicator: &'static str,
        /// Parameter name (TA-Lib's, e.g. `timeperiod`).
        param: &'static str,
        /// The value given, printed.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// Fewer usable input rows than the indicator needs for one value
    /// (its lookback + 1), e.g. a period longer than the input.
    #[error("{indicator}: needs at least {needed} usable input rows, got {got}")]
    InsufficientData {
        /// Indicator name.
        indicator: &'static str,
        /// Rows needed for the first value (lookback + 1).
        needed: usize,
        /// Usable (non-NaN) rows given.
        got: usize,
    },
    /// Input slices of different lengths.
    #[error(
        "{indicator}: input `{input}` has {got} rows, expected {expected} (the length of the first input)"
    )]
    LengthMismatch {
        /// Indicator name.
        indicator: &'static str,
        /// Name of the slice at fault (`high`, `low`, `close`, `volume`…).
        input: &'static str,
        /// Length of the first input.
        expected: usize,
        /// Length of this input.
        got: usize,
    },
    /// A bar whose high is below its low.
    #[error("row {index}: high {high} is below low {low}")]
    HighBelowLow {
        /// Zero-based row index in the input.
        index: usize,
        /// The bar's high.
        high: f64,
        /// The bar's low.
        low: f64,
    },
    /// An indicator name the registry does not know.
    #[error("unknown indicator `{name}`; available: {available}")]
    UnknownIndicator {
        /// Name asked for.
        name: String,
        /// Every name the registry knows, with its parameters.
        available: String,
    },
    /// An output name the indicator does not have (`MACD(12,26,9).foo`).
    #[error("`{spec}`: unknown output `{output}`; {indicator} has: {available}")]
    UnknownOutput {
        /// The spec as written.
        spec: String,
        /// Indicator name.
        indicator: &'static str,
        /// Output asked for.
        output: String,
        /// Outputs the indicator has.
        available: String,
    },
    /// A saved indicator state that does not fit the indicator it is
    /// loaded into ([`crate::spec::DynIndicator::load`]).
    #[error("cannot load a saved {found} state into {expected}: {reason}")]
    State {
        /// The indicator type loaded into (`Sma`).
        expected: &'static str,
        /// The saved state's indicator type.
        found: &'static str,
        /// What does not fit.
        reason: String,
    },
    /// A spec that does not parse, or has the wrong number of parameters.
    #[error("cannot read indicator spec `{spec}`: {reason}")]
    Spec {
        /// The spec as written.
        spec: String,
        /// What is wrong, with the expected form.
        reason: String,
    },
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
