//! Execution: everything between an order and a fill, for every mode.
//!
//! - [`oms`]: the order book — ids at the venue, reports through the one
//!   transition table, duplicates and late reports, OCO and brackets;
//! - [`sim`]: the simulated venue (daily fills at the next open or the
//!   same close under the market rules of `quant-core`), behind the
//!   [`traits::Venue`] trait a broker adapter also implements;
//! - [`fill`]: pure fill models of resting limits, stops, trailing stops,
//!   volume caps, latency and slippage, bar by bar;
//! - [`emulate`]: what a venue takes natively ([`emulate::VenueCaps`])
//!   and the emulator that holds stops, stop-limits and trailing stops a
//!   venue lacks and sends their trigger orders; OCO is always the OMS's;
//! - [`algo`]: execution algorithms (TWAP slices, iceberg clips, a volume
//!   participation cap) working a parent order as child orders;
//! - [`portfolio`]: cash, positions and marks in dense arrays indexed by
//!   [`quant_core::InstrumentIndex`].
//!
//! Depends on `quant-core` only: the engine that drives these
//! (`quant-engine`) owns the strategy and the risk gate.

pub mod algo;
pub mod emulate;
pub mod error;
pub mod fill;
pub mod oms;
pub mod portfolio;
pub mod sim;
pub mod traits;

pub use error::{Error, Result};
pub use portfolio::Portfolio;
pub use sim::{FillTiming, ShortfallPolicy, SimConfig, SimulatedVenue};
pub use traits::{MarketState, Phase, Venue, VenueEvent};
