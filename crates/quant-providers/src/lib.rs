//! Market-data providers over their real wire protocols, behind one async
//! trait ([`DataProvider`]), with the resilience every network source needs.
//!
//! - [`tushare`]: TuShare Pro (HTTP JSON, token from the environment):
//!   daily bars, adj factors, `daily_basic`, trading calendar, stock list,
//!   index bars;
//! - [`eastmoney`]: Eastmoney's K-line endpoint (AKShare's source): daily
//!   bars raw and with Eastmoney's forward/backward adjustment;
//! - [`yahoo`]: Yahoo's chart endpoint: US (and other) daily bars with
//!   splits and dividends;
//! - [`binance`]: Binance spot klines at any interval;
//! - [`http`]: the shared transport — offline switch, client-side rate
//!   limit, retries with exponential backoff and jitter, circuit breaker,
//!   body size cap, one error per failure class (timeout, connect, body
//!   cut short or too large, HTTP status);
//! - [`secret`]: tokens that never print, redacted from every error and
//!   log line the transport lets out;
//! - [`failover`]: a primary and backups tried in order, reporting which
//!   one served;
//! - [`update`]: fetch → validate → quarantine → atomic merge into the
//!   Parquet store, and incremental requests from the last stored date;
//! - [`config`]: `data.toml` (providers, tokens by environment variable
//!   name, primary/backup per market).
//!
//! Providers return what the source says, converted to the project's units
//! (shares, CNY, ascending dates) and nothing more: validation and storage
//! are `quant-data`'s. This crate is an edge crate (tokio, reqwest); compute
//! crates never depend on it.

pub mod binance;
pub mod config;
pub mod eastmoney;
pub mod error;
pub mod failover;
pub mod http;
pub mod secret;
pub mod tushare;
pub mod update;
pub mod yahoo;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use quant_core::Bar;

pub use config::{ClientSettings, DataConfig};
pub use error::{Error, Result};
pub use failover::{Failover, Served};
pub use quant_data::reference::{AdjFactor, CalendarDay, DailyBasic, ListStatus, ListedInstrument};
pub use secret::{Secret, Secrets};

/// One instrument's bars over a date range (both ends inclusive,
/// exchange-local dates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarRequest {
    /// Symbol in the project's form: `600519.SH`, `AAPL`, `BTC-USDT`.
    pub symbol: String,
    /// First date wanted.
    pub start: NaiveDate,
    /// Last date wanted.
    pub end: NaiveDate,
}

/// One kline (crypto bar) at any interval; times in UTC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kline {
    /// Open time (the bar's key).
    pub open_time: DateTime<Utc>,
    /// Open.
    pub open: f64,
    /// High.
    pub high: f64,
    /// Low.
    pub low: f64,
    /// Close.
    pub close: f64,
    /// Volume in the base asset.
    pub volume: f64,
    /// Close time (the next open − 1 ms).
    pub close_time: DateTime<Utc>,
    /// Volume in the quote asset.
    pub quote_volume: f64,
    /// Number of trades.
    pub trades: u64,
}

/// A source of market data. Methods a provider does not serve return
/// [`Error::Unsupported`]. Every list comes back in ascending time order,
/// in the project's units (shares, quote currency), with raw (unadjusted)
/// prices and, where the source has them, adjustment factors in
/// [`Bar::adj_factor`] (1 otherwise).
#[async_trait]
pub trait DataProvider: Send + Sync {
    /// Short name used in configs and reports (`tushare`, `binance`).
    fn name(&self) -> &str;

    /// Daily bars of a stock, fund or coin.
    ///
    /// # Errors
    /// See [`Error`]; a symbol the source does not know is an
    /// [`Error::Api`] or an empty list, as the source reports it.
    async fn daily_bars(&self, req: &BarRequest) -> Result<Vec<Bar>>;

    /// Daily bars of an index.
    ///
    /// # Errors
    /// As [`DataProvider::daily_bars`].
    async fn index_daily(&self, _req: &BarRequest) -> Result<Vec<Bar>> {
        Err(self.unsupported("index bars"))
    }

    /// Cumulative adjustment factors.
    ///
    /// # Errors
    /// As [`DataProvider::daily_bars`].
    async fn adj_factors(&self, _req: &BarRequest) -> Result<Vec<AdjFactor>> {
        Err(self.unsupported("adjustment factors"))
    }

    /// Daily valuation and turnover.
    ///
    /// # Errors
    /// As [`DataProvider::daily_bars`].
    async fn daily_basic(&self, _req: &BarRequest) -> Result<Vec<DailyBasic>> {
        Err(self.unsupported("daily_basic"))
    }

    /// Every calendar day of `exchange` in `[start, end]`, open or not.
    ///
    /// # Errors
    /// As [`DataProvider::daily_bars`].
    async fn trading_calendar(
        &self,
        _exchange: &str,
        _start: NaiveDate,
        _end: NaiveDate,
    ) -> Result<Vec<CalendarDay>> {
        Err(self.unsupported("a trading calendar"))
    }

    /// Listed, delisted and paused instruments.
    ///
    /// # Errors
    /// As [`DataProvider::daily_bars`].
    async fn stock_list(&self) -> Result<Vec<ListedInstrument>> {
        Err(self.unsupported("a stock list"))
    }

    /// Klines at `interval` (`1m`, `1h`, `1d`… as the source names them)
    /// with open times in `[start, end]`.
    ///
    /// # Errors
    /// As [`DataProvider::daily_bars`].
    async fn klines(
        &self,
        _symbol: &str,
        _interval: &str,
        _start: DateTime<Utc>,
        _end: DateTime<Utc>,
    ) -> Result<Vec<Kline>> {
        Err(self.unsupported("klines"))
    }

    /// The [`Error::Unsupported`] for `what`.
    fn unsupported(&self, what: &'static str) -> Error {
        Error::Unsupported {
            provider: self.name().to_string(),
            what,
        }
    }
}
