//! Paper sessions on the one engine (`shared/docs/runtime.md`).
//!
//! - [`runner`]: a session of a run config stepped a trading day at a
//!   time exactly as `quant-backtest run` steps it, snapshots between
//!   days, restore;
//! - [`log`]: the journal entries of events and commands, and the
//!   write-ahead tap that makes them durable before the venue sees a
//!   command;
//! - [`paper`]: sessions in a state dir — the journal, the loop, the read
//!   model, snapshots, alerts and their delivery, status and exports;
//! - [`report`]: the daily report (HTML, JSON, Markdown) of a session's
//!   close: performance, positions, trades, risk, the next session's
//!   orders, system health, data quality, and paper against the backtest.

pub mod error;
pub mod log;
pub mod paper;
pub mod report;
pub mod runner;

pub use error::{Error, Result};
pub use log::{Entry, EntryKind, JournalTap, MemorySink, Sink};
pub use report::{DailyReport, Inputs};
pub use runner::{Runner, SessionSnapshot};
