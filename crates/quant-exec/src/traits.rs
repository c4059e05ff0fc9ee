//! What a venue is: the simulated venue and (through adapters) a broker.

use chrono::NaiveDate;
use quant_core::{Bar, Fill, Instrument, Order, OrderId, RejectReason};

use crate::portfolio::Portfolio;

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
    /// The open and close instants of the bars when they are intraday
    /// (fills are stamped with the instant they happen at); `None` for
    /// daily bars.
    pub bar_time: Option<(quant_core::UnixNanos, quant_core::UnixNanos)>,
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
    /// The order filled (its last fill); `cut` says why it filled less than
    /// asked, if it did.
    Filled {
        /// The fill.
        fill: Fill,
        /// Reason the quantity was reduced, if it was.
        cut: Option<RejectReason>,
    },
    /// Part of the order filled; the rest keeps working (or expires, which
    /// a later event says).
    PartiallyFilled {
        /// The fill.
        fill: Fill,
    },
    /// The order was cancelled as asked.
    Cancelled(OrderId),
    /// The order works on with new terms, as asked by
    /// [`Venue::replace`].
    Replaced {
        /// The order.
        id: OrderId,
        /// Its type and prices now.
        order_type: quant_core::OrderType,
        /// Its size now.
        requested: quant_core::OrderQty,
    },
    /// The replace was refused (the order is not working, or the new terms
    /// do not fit it); the order keeps its terms.
    ReplaceRejected(OrderId),
    /// The answer to [`Venue::query`]: the order's state at the venue.
    Status(OrderId, quant_core::OrderStatus),
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
    /// Asks to cancel order `id`: a working order is cancelled (pushes
    /// `Cancelled`); one no longer working (filled, expired) is left as its
    /// own events said.
    fn cancel(&mut self, id: OrderId, events: &mut Vec<VenueEvent>);
    /// Asks to change working order `id` to `order_type` (same kind of
    /// order, new prices) and `requested` (units, not below what has
    /// filled): pushes `Replaced` or `ReplaceRejected`. The default refuses
    /// every replace.
    fn replace(
        &mut self,
        id: OrderId,
        order_type: quant_core::OrderType,
        requested: quant_core::OrderQty,
        events: &mut Vec<VenueEvent>,
    ) {
        let _ = (order_type, requested);
        events.push(VenueEvent::ReplaceRejected(id));
    }
    /// Asks for order `id`'s state (an order whose submit got no answer in
    /// time): pushes `Status` when the venue knows it. The default knows
    /// nothing and pushes nothing.
    fn query(&mut self, id: OrderId, events: &mut Vec<VenueEvent>) {
        let _ = (id, events);
    }
    /// Orders still working (not filled, rejected or expired).
    fn open_orders(&self) -> usize;
    /// Ends every working order at the end of the run (pushes `Expired`).
    fn expire_all(&mut self, events: &mut Vec<VenueEvent>);
    /// True when units of `inst` bought today cannot be sold until the next
    /// trading day under the venue's market rules.
    fn t_plus_one(&self, inst: &Instrument) -> bool;
}
