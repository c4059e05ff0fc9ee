//! The three things that differ between backtest, paper and live.

use chrono::NaiveDate;
use quant_core::{Bar, Fill, Instrument, Order, OrderId, RejectReason, TradingCalendar};
use quant_strategy::History;

use crate::error::Result;
use crate::portfolio::Portfolio;

/// Decides which trading day comes next: a historical clock walks a
/// calendar; a wall clock waits for the next session's close.
pub trait Clock {
    /// The next trading day to process, `None` when the run is over.
    fn next_session(&mut self) -> Option<NaiveDate>;
}

/// Supplies bars for each trading day and the history strategies read.
pub trait DataFeed {
    /// The instruments, indexed by [`quant_core::InstrumentIndex`].
    fn instruments(&self) -> &[Instrument];
    /// Moves to trading day `date`: its bars become [`DataFeed::bars`] and
    /// history now ends with them.
    ///
    /// # Errors
    /// [`crate::Error::Feed`] when the source fails.
    fn advance(&mut self, date: NaiveDate) -> Result<()>;
    /// Bars of the last advanced day, one slot per instrument, `None` when
    /// the instrument has no bar that day. Borrowed, so a historical feed
    /// serves them without copying.
    fn bars(&self) -> &[Option<Bar>];
    /// History up to and including the last advanced day.
    fn history(&self) -> &dyn History;
    /// The benchmark's close on the last advanced day, NaN when none.
    fn benchmark_close(&self) -> f64;
    /// The run's trading calendar: at least every day the run's clock
    /// yields, ascending (the strategies' schedules pick their days on it,
    /// [`quant_core::Schedule`]).
    fn calendar(&self) -> &TradingCalendar;
}

/// The market on one trading day, as a venue needs it.
pub struct MarketState<'a> {
    /// Trading day.
    pub date: NaiveDate,
    /// Instruments by index.
    pub instruments: &'a [Instrument],
    /// Today's bars by instrument.
    pub bars: &'a [Option<Bar>],
    /// Reference previous close per instrument for price limits (the bar's
    /// `pre_close` when the source has it, else the last close), NaN unknown.
    pub prev_close: &'a [f64],
    /// 0-based trading days since listing per instrument, when known.
    pub listing_day: &'a [Option<usize>],
}

/// Session phase at which the engine lets the venue act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The session opens (next-open fills happen here).
    Open,
    /// The session closes, after the strategy has decided (same-close fills).
    Close,
}

/// What a venue reports back.
#[derive(Debug, Clone, PartialEq)]
pub enum VenueEvent {
    /// The order is working at the venue.
    Accepted(OrderId),
    /// The order was refused.
    Rejected(OrderId, RejectReason),
    /// The order's validity ended unfilled.
    Expired(OrderId),
    /// The order filled; `cut` says why it filled less than asked, if it did.
    Filled {
        /// The fill.
        fill: Fill,
        /// Reason the quantity was reduced, if it was.
        cut: Option<RejectReason>,
    },
}

/// Where orders go: the simulated venue, or a broker adapter.
pub trait Venue {
    /// Takes an order (in `PendingSubmit`).
    fn submit(&mut self, order: &Order, events: &mut Vec<VenueEvent>);
    /// Lets the venue act at a session phase; fills and rejections are pushed to `events`.
    fn on_phase(
        &mut self,
        phase: Phase,
        market: &MarketState<'_>,
        portfolio: &Portfolio,
        events: &mut Vec<VenueEvent>,
    );
    /// Orders still working (not filled, rejected or expired).
    fn open_orders(&self) -> usize;
    /// Ends every working order at the end of the run (pushes `Expired`).
    fn expire_all(&mut self, events: &mut Vec<VenueEvent>);
    /// True when units of `inst` bought today cannot be sold until the next
    /// trading day under the venue's market rules.
    fn t_plus_one(&self, inst: &Instrument) -> bool;
}
