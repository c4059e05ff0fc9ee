//! Market data in: daily-bar CSV and Parquet readers, row validation and an
//! atomic Parquet store.
//!
//! - [`backup`]: the whole store to one `.tar.zst` archive and back;
//! - [`commit`]: store-level commits (all files of one command or none),
//!   recovery after a kill, reader and writer locks;
//! - [`failpoint`]: named pause points for the kill tests;
//! - [`series`]: [`BarSeries`], one instrument's bars in columns;
//! - [`csv_io`]: the daily-bar CSV layout of `shared/data/` (read and write);
//! - [`intraday`]: intraday bar files (`datetime` column: 5-minute A-share
//!   bars stamped at their end in Beijing time, hourly crypto bars stamped
//!   at their open in UTC), keyed by close instant, checked against the
//!   exchange's sessions;
//! - [`parquet_io`]: the same bars in Parquet;
//! - [`validate`]: row rules every reader applies;
//! - [`quality`]: the validation pipeline of every fetch and import
//!   (quarantine, gaps, suspensions, limit breaches, stale prices, provider
//!   disagreement) and its data-quality report;
//! - [`reference`]: adj factors, daily valuation figures, calendars and
//!   instrument lists (what the SQL catalog stores);
//! - [`store`]: `import` of a folder of CSV or Parquet bars into the
//!   Parquet store, atomically; loads, atomic writes and merges;
//! - [`table`]: dated `f64` tables (indicator outputs) to CSV or Parquet.

pub mod backup;
pub mod commit;
pub mod csv_io;
pub mod error;
pub mod failpoint;
pub mod intraday;
pub mod parquet_io;
pub mod quality;
pub mod reference;
pub mod series;
pub mod store;
pub mod table;
pub mod validate;

pub use error::{Error, Result};
pub use series::{Adjust, BarSeries};
pub use store::{ImportReport, import_dir, load_series};
pub use table::{format_g17, write_table};
