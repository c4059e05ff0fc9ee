//! Market data between bars and a broker's view of the account: the
//! [`Quote`] events of live feeds and the [`AccountSnapshot`]s a broker
//! reports, which the engine compares with its own book.

use serde::{Deserialize, Serialize};

use crate::instrument::{InstrumentIndex, Symbol};
use crate::money::{Cash, Quantity};
use crate::time::UnixNanos;

/// A top-of-book quote or a last trade of one instrument at one instant.
///
/// Prices in the quote currency, volume in shares (coins); a field the
/// source does not give is NaN (a trade print has no bid or ask, a quote
/// may have no last).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// The instrument, indexed as in the run.
    pub instrument: InstrumentIndex,
    /// When the quote was current (UTC).
    pub time: UnixNanos,
    /// Best bid (NaN: none).
    pub bid: f64,
    /// Best ask (NaN: none).
    pub ask: f64,
    /// Last trade price (NaN: none).
    pub last: f64,
    /// Cumulative volume of the day, when the source gives it (NaN: none).
    pub volume: f64,
}

impl Quote {
    /// The price to mark and to check triggers at: the last trade when
    /// there is one, else the mid of a two-sided quote (bid ≤ ask, both
    /// above 0); `None` otherwise.
    pub fn price(&self) -> Option<f64> {
        if self.last.is_finite() && self.last > 0.0 {
            return Some(self.last);
        }
        (self.bid.is_finite() && self.ask.is_finite() && self.bid > 0.0 && self.bid <= self.ask)
            .then_some(0.5 * (self.bid + self.ask))
    }
}

/// What a broker says the account holds at one instant: cash and every
/// non-zero position, by symbol (brokers know symbols, not our indices).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSnapshot {
    /// When the broker reported it (UTC).
    pub time: UnixNanos,
    /// Cash in the account currency.
    pub cash: Cash,
    /// Positions held, by symbol (a symbol missing holds nothing).
    pub positions: Vec<(Symbol, Quantity)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(bid: f64, ask: f64, last: f64) -> Quote {
        Quote {
            instrument: InstrumentIndex(0),
            time: UnixNanos(0),
            bid,
            ask,
            last,
            volume: f64::NAN,
        }
    }

    #[test]
    fn price_prefers_the_last_trade_then_the_mid() {
        assert_eq!(q(9.0, 11.0, 10.5).price(), Some(10.5));
        assert_eq!(q(9.0, 11.0, f64::NAN).price(), Some(10.0));
        assert_eq!(q(f64::NAN, 11.0, f64::NAN).price(), None);
        // crossed or empty books give no price
        assert_eq!(q(12.0, 11.0, f64::NAN).price(), None);
        assert_eq!(q(0.0, 1.0, 0.0).price(), None);
    }
}
