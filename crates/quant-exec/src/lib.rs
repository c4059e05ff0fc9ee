//! The one event loop shared by backtest, paper and live trading.
//!
//! [`engine::Engine`] turns trading days into strategy calls, orders, fills
//! and portfolio updates. Only three things differ between modes, each behind
//! a trait in [`traits`]: the [`traits::Clock`] (historical or wall), the
//! [`traits::DataFeed`] (history or a live provider) and the
//! [`traits::Venue`] (the [`sim::SimulatedVenue`] or a broker). Hot-loop
//! state is held in dense arrays indexed by [`quant_core::InstrumentIndex`].

pub mod engine;
pub mod error;
pub mod fill;
pub mod oms;
pub mod portfolio;
pub mod risk;
pub mod sim;
pub mod traits;

pub use engine::{CorporateActions, Dividend, Engine, EngineConfig, EquityPoint, RunRecord};
pub use error::{Error, Result};
pub use portfolio::Portfolio;
pub use risk::{RiskEvent, RiskEventKind};
pub use sim::{FillTiming, ShortfallPolicy, SimConfig, SimulatedVenue};
pub use traits::{Clock, DataFeed, MarketState, Phase, Venue, VenueEvent};
