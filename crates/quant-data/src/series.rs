//! One instrument's daily bars in columns.

use chrono::NaiveDate;
use quant_core::{Bar, Symbol};

/// Column names of the daily-bar layout, in file order (CSV header and
/// Parquet schema): `date`, then the price, volume and factor columns.
pub const BAR_COLUMNS: [&str; 9] = [
    "date",
    "open",
    "high",
    "low",
    "close",
    "pre_close",
    "volume",
    "amount",
    "adj_factor",
];

/// Daily bars of one instrument, in columns of equal length, dates strictly
/// increasing. Prices are raw exchange prices in the quote currency;
/// `volume` in shares, `amount` in quote currency; `pre_close` NaN and
/// `adj_factor` 1.0 where the source has none (see [`Bar`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarSeries {
    /// Ticker (the file stem).
    pub symbol: Option<Symbol>,
    /// Trading days.
    pub dates: Vec<NaiveDate>,
    /// Opening prices.
    pub open: Vec<f64>,
    /// High prices.
    pub high: Vec<f64>,
    /// Low prices.
    pub low: Vec<f64>,
    /// Closing prices.
    pub close: Vec<f64>,
    /// Ex-rights reference previous closes (NaN when absent).
    pub pre_close: Vec<f64>,
    /// Volumes in shares (coins).
    pub volume: Vec<f64>,
    /// Turnover in quote currency (NaN when absent).
    pub amount: Vec<f64>,
    /// Cumulative backward adjustment factors (1.0 when absent).
    pub adj_factor: Vec<f64>,
}

impl BarSeries {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// True when there is no bar.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// Appends a bar (no validation; see [`crate::validate`]).
    pub fn push(&mut self, b: &Bar) {
        self.dates.push(b.date);
        self.open.push(b.open);
        self.high.push(b.high);
        self.low.push(b.low);
        self.close.push(b.close);
        self.pre_close.push(b.pre_close);
        self.volume.push(b.volume);
        self.amount.push(b.amount);
        self.adj_factor.push(b.adj_factor);
    }

    /// The bar at row `i`.
    ///
    /// # Panics
    /// When `i >= len()`.
    #[inline]
    pub fn bar(&self, i: usize) -> Bar {
        Bar {
            date: self.dates[i],
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            pre_close: self.pre_close[i],
            volume: self.volume[i],
            amount: self.amount[i],
            adj_factor: self.adj_factor[i],
        }
    }

    /// Row of `date`, if present.
    pub fn index_of(&self, date: NaiveDate) -> Option<usize> {
        self.dates.binary_search(&date).ok()
    }

    /// True when the source has `pre_close` values.
    pub fn has_pre_close(&self) -> bool {
        self.pre_close.iter().any(|x| !x.is_nan())
    }
}
