//! The [`Strategy`] trait the engine drives, and the built-in strategies.
//!
//! A strategy sees a [`Context`] at each trading day's close: today's bars,
//! history up to and including today (never later: the engine's
//! [`History`] implementations end at the current day), and the portfolio. It
//! answers with [`Signal`]s: explicit orders or target weights. The same
//! strategy object runs unchanged in backtest, paper and live trading.
//!
//! Built-ins ([`registry::build`] makes them from a name and a TOML table):
//! [`sma_cross::SmaCross`], [`momentum::MomentumRotation`],
//! [`buy_and_hold::BuyAndHold`], [`dual_momentum::DualMomentum`], and the
//! [`multi_factor::MultiFactor`] (z-scored factor ranking with portfolio
//! construction), and the signal strategies of [`library`] (`momentum_breakout`, `mean_reversion`,
//! `trend_following`) run by a [`book::Book`] that adds universe filters,
//! a fundamental gate, position slots, sizing and protective exits.
//! [`construction`]: equal-weight, inverse volatility, risk parity and
//! minimum-variance weights, and a rebalancer with a drift threshold and a
//! turnover cap.

pub mod book;
pub mod buy_and_hold;
pub mod construction;
pub mod context;
pub mod dual_momentum;
pub mod error;
pub mod library;
pub mod momentum;
pub mod multi_factor;
pub mod registry;
pub mod rules;
pub mod sma_cross;
mod snapshot;

pub use context::{Context, Fundamentals, History, OrderRequest, SeriesView, Signal};
pub use error::{Error, Result};
pub use registry::build;

use quant_core::{Fill, Instrument};

/// A trading strategy driven by the engine, identically in every mode.
pub trait Strategy: Send {
    /// The strategy's registry name, e.g. `sma_cross`.
    fn name(&self) -> &str;

    /// Called once before the first bar with the run's instruments (indexed by
    /// [`quant_core::InstrumentIndex`]).
    ///
    /// # Errors
    /// [`Error::Config`] when the strategy cannot run on this universe.
    fn on_start(&mut self, instruments: &[Instrument]) -> Result<()> {
        let _ = instruments;
        Ok(())
    }

    /// Called at each trading day's close; pushes orders or target weights to `out`.
    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>);

    /// Called for each fill of this strategy's orders.
    fn on_fill(&mut self, fill: &Fill) {
        let _ = fill;
    }

    /// The strategy's state — everything it has learned from the bars and
    /// fills so far — for an engine snapshot, in the strategy's own
    /// encoding. [`Strategy::load_state`] into a strategy built from the
    /// same parameters must make it behave exactly as this one from here on.
    ///
    /// # Errors
    /// [`Error::Config`] when the strategy cannot save its state.
    fn save_state(&self) -> Result<Vec<u8>> {
        Err(Error::Config {
            strategy: self.name().to_string(),
            message: "this strategy cannot save its state for a snapshot".into(),
        })
    }

    /// Loads a state saved by [`Strategy::save_state`] (after
    /// [`Strategy::on_start`] with the same instruments).
    ///
    /// # Errors
    /// [`Error::Config`] when the state does not decode or belongs to
    /// other parameters.
    fn load_state(&mut self, state: &[u8]) -> Result<()> {
        let _ = state;
        Err(Error::Config {
            strategy: self.name().to_string(),
            message: "this strategy cannot load a saved state".into(),
        })
    }

    /// Why the strategy stopped trading, when it refused the run at a bar
    /// (a strategy file reading an interval the run's feed does not have);
    /// `None` while it trades (the default). The engine checks it after
    /// every bar and ends the run with the message.
    fn fault(&self) -> Option<String> {
        None
    }
}
