//! Domain types and market rules shared by every part of quant.
//!
//! This crate depends on no other crate of the workspace. It holds:
//! - [`instrument`]: symbols, exchanges, boards, lot and tick sizes;
//! - [`bar`]: daily OHLCV bars with `pre_close` and `adj_factor`;
//! - [`money`]: decimal prices, quantities and cash amounts;
//! - [`order`]: orders, their state machine and reject reasons, and fills;
//! - [`position`]: positions with the quantity sellable today under T+1;
//! - [`quote`]: quotes between bars and a broker's account snapshots;
//! - [`calendar`]: trading calendars;
//! - [`time`]: instants in UTC nanoseconds, bar intervals and stamp
//!   conventions, exchange sessions (the A-share lunch break, US hours,
//!   crypto around the clock);
//! - [`rules`]: market rules (lots, price limits, T+1) and fee schedules as
//!   pure functions, so that the simulated venue, risk checks and live order
//!   entry all apply the same rules.

pub mod bar;
pub mod calendar;
pub mod error;
pub mod instrument;
pub mod money;
pub mod order;
pub mod position;
pub mod quote;
pub mod rules;
pub mod schedule;
pub mod time;

pub use bar::Bar;
pub use calendar::TradingCalendar;
pub use error::{Error, Result};
pub use instrument::{AssetClass, Board, Currency, Exchange, Instrument, InstrumentIndex, Symbol};
pub use money::{Cash, Price, Quantity};
pub use order::{
    ClientOrderId, Contingency, Execution, Fill, Order, OrderEvent, OrderId, OrderQty, OrderStatus,
    OrderType, RejectReason, Side, TimeInForce, Trail,
};
pub use position::Position;
pub use quote::{AccountSnapshot, Quote};
pub use rules::{FeeSchedule, Fees, MarketRules, PriceLimit, RuleSet};
pub use schedule::{At, Period, Schedule};
pub use time::{Interval, Sessions, StampAt, UnixNanos};
