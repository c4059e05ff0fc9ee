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

/// Price adjustment applied on read (复权). Raw prices and cumulative
/// factors are what the store keeps; adjusted prices are derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Adjust {
    /// Raw exchange prices.
    #[default]
    None,
    /// Forward-adjusted (前复权, qfq): `P(t) · adj(t) / adj(last)`, where
    /// `last` is the series' last bar — the latest price is the real one,
    /// history is scaled to it (and changes when a later action arrives).
    Forward,
    /// Backward-adjusted (后复权, hfq): `P(t) · adj(t)` — history is the
    /// real one, later prices are scaled up.
    ///
    /// Both are multiplicative (TuShare's convention): the return across an
    /// ex-date is the real one. Some published 前复权 series subtract cash
    /// dividends instead (additive); their price ratios differ from these.
    Backward,
}

impl std::str::FromStr for Adjust {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" | "raw" => Ok(Self::None),
            "forward" | "qfq" => Ok(Self::Forward),
            "backward" | "hfq" => Ok(Self::Backward),
            other => Err(format!(
                "unknown adjustment {other:?}: none, forward (qfq) or backward (hfq)"
            )),
        }
    }
}

impl BarSeries {
    /// The series with adjusted prices (open, high, low, close and
    /// `pre_close`, which is already on day `t`'s basis); volume and amount
    /// unchanged, as TuShare's `pro_bar` does; `adj_factor` set to 1 so the
    /// result is never adjusted twice. Source of the formulas: TuShare Pro
    /// (`shared/docs/protocols/tushare-pro.md`, §4.2).
    pub fn adjusted(&self, how: Adjust) -> BarSeries {
        let base = match how {
            Adjust::None => return self.clone(),
            Adjust::Forward => self.adj_factor.last().copied().unwrap_or(1.0),
            Adjust::Backward => 1.0,
        };
        let mut out = self.clone();
        for i in 0..self.len() {
            let k = self.adj_factor[i] / base;
            for col in [
                &mut out.open,
                &mut out.high,
                &mut out.low,
                &mut out.close,
                &mut out.pre_close,
            ] {
                col[i] *= k;
            }
            out.adj_factor[i] = 1.0;
        }
        out
    }

    /// Bars with `start <= date <= end`.
    pub fn slice_dates(&self, start: NaiveDate, end: NaiveDate) -> BarSeries {
        let a = self.dates.partition_point(|d| *d < start);
        let b = self.dates.partition_point(|d| *d <= end);
        BarSeries {
            symbol: self.symbol.clone(),
            dates: self.dates[a..b].to_vec(),
            open: self.open[a..b].to_vec(),
            high: self.high[a..b].to_vec(),
            low: self.low[a..b].to_vec(),
            close: self.close[a..b].to_vec(),
            pre_close: self.pre_close[a..b].to_vec(),
            volume: self.volume[a..b].to_vec(),
            amount: self.amount[a..b].to_vec(),
            adj_factor: self.adj_factor[a..b].to_vec(),
        }
    }

    /// The value columns in [`BAR_COLUMNS`] order after `date`: open,
    /// high, low, close, pre_close, volume, amount, adj_factor.
    pub fn value_columns(&self) -> [&Vec<f64>; 8] {
        [
            &self.open,
            &self.high,
            &self.low,
            &self.close,
            &self.pre_close,
            &self.volume,
            &self.amount,
            &self.adj_factor,
        ]
    }

    /// [`BarSeries::value_columns`], mutable.
    pub fn value_columns_mut(&mut self) -> [&mut Vec<f64>; 8] {
        [
            &mut self.open,
            &mut self.high,
            &mut self.low,
            &mut self.close,
            &mut self.pre_close,
            &mut self.volume,
            &mut self.amount,
            &mut self.adj_factor,
        ]
    }

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
