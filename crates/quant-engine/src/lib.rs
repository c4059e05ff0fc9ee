//! The one engine of backtest, paper and live trading.
//!
//! [`Engine`] is a deterministic state machine: [`Event`]s in (session
//! open, closed bars, venue reports, session close, operator controls),
//! [`Command`]s out (submit, cancel, alert). It owns the strategy, the
//! risk gate ([`risk`]), the order book ([`quant_exec::oms::Oms`]) and
//! the portfolio, reads no clock and no random source, and snapshots its
//! whole state ([`Engine::snapshot`], [`Engine::restore`]). The modes
//! differ only in their driver: [`driver::run`] walks a historical
//! calendar synchronously for backtests; the paper and live runtimes feed
//! the same events from a wall clock, a live feed and a broker.

pub mod driver;
pub mod engine;
pub mod error;
pub mod event;
pub mod record;
pub mod risk;

pub use driver::{Clock, DataFeed, NoTap, Stepper, Tap, run, run_strategy};
pub use engine::{Engine, Snapshot};
pub use error::{Error, Result};
pub use event::{Command, Control, Event, TimerId};
pub use record::{CorporateActions, Dividend, EngineConfig, EquityPoint, RunRecord, SizeAt};
pub use risk::{RiskEvent, RiskEventKind};
