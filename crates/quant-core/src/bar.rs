//! Daily bars.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One daily bar of one instrument, in raw (unadjusted) exchange prices.
///
/// Prices are in the instrument's quote currency; `volume` is in shares (or
/// coins), `amount` is turnover in the quote currency. `pre_close` is the
/// exchange's ex-rights reference price for this day (A-shares; equal to the
/// previous close except on ex-dates), NaN when the source has none.
/// `adj_factor` is the cumulative backward adjustment factor
/// (后复权 price = price × adj_factor), 1.0 when the source has none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    /// Trading day (exchange-local date; Asia/Shanghai for A-shares).
    pub date: NaiveDate,
    /// Opening price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Closing price.
    pub close: f64,
    /// Ex-rights reference previous close, NaN when unknown.
    pub pre_close: f64,
    /// Traded volume in shares (coins for crypto).
    pub volume: f64,
    /// Turnover in quote currency, NaN when unknown.
    pub amount: f64,
    /// Cumulative backward adjustment factor.
    pub adj_factor: f64,
}

impl Bar {
    /// True when the bar carries no trading (zero volume): treated as a suspension.
    #[inline]
    pub fn is_suspended(&self) -> bool {
        self.volume.is_nan() || self.volume <= 0.0
    }

    /// Back-adjusted (后复权) close: `close × adj_factor`.
    #[inline]
    pub fn adj_close(&self) -> f64 {
        self.close * self.adj_factor
    }

    /// True when open, high, low and close are all equal (a one-price bar,
    /// typical of a day locked at a price limit).
    #[inline]
    pub fn is_one_price(&self) -> bool {
        self.open == self.high && self.high == self.low && self.low == self.close
    }
}
