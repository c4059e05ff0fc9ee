//! The risk crate's error type: configurations that cannot be right.

/// A risk setting out of its range, named by its configuration key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A setting outside its valid range.
    #[error("risk setting `{key}` = {value}: {expected}")]
    Setting {
        /// The configuration key (`max_position_weight`, `sizing.fraction`…).
        key: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        expected: String,
    },
    /// Two series that must pair up have different lengths.
    #[error("{what}: {a} values against {b}")]
    Lengths {
        /// What was being computed.
        what: &'static str,
        /// Length of the first.
        a: usize,
        /// Length of the second.
        b: usize,
    },
    /// Too few values for the figure.
    #[error("{what} needs at least {need} values, got {got}")]
    TooShort {
        /// What was being computed.
        what: &'static str,
        /// Minimum.
        need: usize,
        /// Given.
        got: usize,
    },
}

/// The risk crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Ok` when `value` lies in `[lo, hi]` (and is not NaN), else
/// [`Error::Setting`] naming `key`.
pub(crate) fn in_range(key: &'static str, value: f64, lo: f64, hi: f64) -> Result<()> {
    if value >= lo && value <= hi {
        Ok(())
    } else {
        Err(Error::Setting {
            key,
            // `1e300`, not its 301 digits
            value: format!("{value:?}"),
            expected: {
                // the smallest positive double stands for "above 0"
                let low = if lo == f64::MIN_POSITIVE {
                    "(0".to_string()
                } else {
                    format!("[{lo}")
                };
                let high = if hi == 1.0 - f64::EPSILON {
                    "1)".to_string()
                } else {
                    format!("{hi}]")
                };
                match (hi.is_infinite(), lo == f64::MIN_POSITIVE) {
                    (true, true) => "must be a number > 0".to_string(),
                    (true, false) => format!("must be a number ≥ {lo}"),
                    _ => format!("must lie in {low}, {high}"),
                }
            },
        })
    }
}

/// `Ok` unless a count setting (of positions, orders, days, trades) is
/// set outside `[1, hi]`, else [`Error::Setting`] naming `key`, the value
/// and the range.
pub(crate) fn count_in(key: &'static str, value: Option<u64>, hi: u64) -> Result<()> {
    match value {
        Some(v) if !(1..=hi).contains(&v) => Err(Error::Setting {
            key,
            value: v.to_string(),
            expected: format!("must be an integer in [1, {hi}]"),
        }),
        _ => Ok(()),
    }
}
