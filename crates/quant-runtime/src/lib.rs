//! Paper sessions on the one engine (`shared/docs/runtime.md`).
//!
//! - [`runner`]: a session of a run config stepped a trading day at a
//!   time exactly as `quant-backtest run` steps it, snapshots between
//!   days, restore;
//! - [`log`]: the journal entries of events and commands, and the
//!   write-ahead tap that makes them durable before the venue sees a
//!   command;
//! - [`paper`]: sessions in a state dir — the journal, the loop, the read
//!   model, snapshots, alerts and their delivery, status and exports.

pub mod error;
pub mod log;
pub mod paper;
pub mod runner;

pub use error::{Error, Result};
pub use log::{Entry, EntryKind, JournalTap, MemorySink, Sink};
pub use runner::{Runner, SessionSnapshot};
