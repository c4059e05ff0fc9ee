//! Orders, their state machine, reject reasons and fills.
//!
//! One [`OrderStatus`] enum covers in-flight states, and one exhaustive
//! [`OrderStatus::transition`] table says which [`OrderEvent`] may move an
//! order from one state to the next. The simulated venue and the broker
//! adapters drive orders through the same table.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::instrument::{InstrumentIndex, Symbol};
use crate::money::{Cash, Price, Quantity};

/// Client-side order id, unique and increasing within one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub u64);

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy (open or add to a long position).
    Buy,
    /// Sell (reduce or close a long position).
    Sell,
}

impl Side {
    /// `buy` or `sell`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        }
    }
}

/// Order type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Fill at the venue's next price (next open by default in backtests).
    Market,
    /// Fill only at the limit price or better.
    Limit(Price),
}

/// How much an order asks for. Sizes other than [`OrderQty::Units`] are
/// resolved by the venue at fill time, at the fill price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderQty {
    /// A number of shares (coins for crypto).
    Units(Quantity),
    /// A notional value in account currency (buys: spend up to this).
    Value(Cash),
    /// Buy with all available cash (after fees), rounded down to lots.
    AllCash,
    /// Sell the whole sellable position.
    AllPosition,
}

/// Why an order was rejected or cut. Every rejected or cut order carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// No bar that day, or zero volume: the instrument is suspended.
    Suspended,
    /// A buy at the upper price limit (no sellers at the limit-up open).
    LimitUp,
    /// A sell at the lower price limit.
    LimitDown,
    /// T+1: nothing (or not enough) bought before today is sellable.
    TPlusOne,
    /// Cash does not cover even one lot plus fees (rejected), or covers fewer
    /// units than asked (cut).
    InsufficientCash,
    /// The quantity rounds down to zero board lots (or is below the STAR minimum).
    BelowLot,
    /// A buy of units that was rounded down to whole board lots (a cut).
    LotRounding,
    /// A sell larger than the position.
    NoPosition,
    /// A limit order whose price was not reached.
    LimitNotReached,
    /// The instrument cannot be traded (an index).
    NotTradable,
    /// A day order left unfilled at the end of its day.
    Expired,
    /// Blocked by a pre-trade risk check or a circuit breaker (the run's
    /// risk events name the rule and the numbers).
    Risk,
}

impl RejectReason {
    /// Snake-case name used in `orders.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspended => "suspended",
            Self::LimitUp => "limit_up",
            Self::LimitDown => "limit_down",
            Self::TPlusOne => "t_plus_one",
            Self::InsufficientCash => "insufficient_cash",
            Self::BelowLot => "below_lot",
            Self::LotRounding => "lot_rounding",
            Self::NoPosition => "no_position",
            Self::LimitNotReached => "limit_not_reached",
            Self::NotTradable => "not_tradable",
            Self::Expired => "expired",
            Self::Risk => "risk",
        }
    }
}

/// Order lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Created locally, not yet acknowledged by the venue.
    PendingSubmit,
    /// Acknowledged by the venue, working.
    Accepted,
    /// Some quantity filled, the rest working.
    PartiallyFilled,
    /// A cancel was sent, not yet confirmed.
    PendingCancel,
    /// Completely filled (terminal).
    Filled,
    /// Cancelled (terminal; may follow partial fills).
    Cancelled,
    /// Refused by risk checks or the venue (terminal).
    Rejected,
    /// Ended unfilled at the end of its validity (terminal).
    Expired,
}

/// An event that moves an order between states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEvent {
    /// The venue acknowledged the order.
    Accept,
    /// The venue or a check refused the order.
    Reject,
    /// Part of the remaining quantity filled.
    PartialFill,
    /// The remaining quantity filled.
    Fill,
    /// The owner asked to cancel.
    RequestCancel,
    /// The venue confirmed the cancel.
    Cancelled,
    /// The venue refused the cancel (order keeps working).
    CancelRejected,
    /// The order's validity ended.
    Expire,
}

impl OrderStatus {
    /// True for states from which no event moves the order.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Filled | Self::Cancelled | Self::Rejected | Self::Expired
        )
    }

    /// Snake-case name used in `orders.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingSubmit => "pending_submit",
            Self::Accepted => "accepted",
            Self::PartiallyFilled => "partially_filled",
            Self::PendingCancel => "pending_cancel",
            Self::Filled => "filled",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }

    /// The state after `event`, or `None` when the event is not allowed in
    /// this state. This is the one transition table of the project.
    pub fn transition(self, event: OrderEvent) -> Option<Self> {
        use OrderEvent as E;
        use OrderStatus as S;
        Some(match (self, event) {
            (S::PendingSubmit, E::Accept) => S::Accepted,
            (S::PendingSubmit, E::Reject) => S::Rejected,
            (S::PendingSubmit, E::Fill) => S::Filled,
            (S::PendingSubmit, E::PartialFill) => S::PartiallyFilled,
            (S::PendingSubmit, E::RequestCancel) => S::PendingCancel,
            (S::Accepted, E::Reject) => S::Rejected,
            (S::Accepted, E::PartialFill) => S::PartiallyFilled,
            (S::Accepted, E::Fill) => S::Filled,
            (S::Accepted, E::RequestCancel) => S::PendingCancel,
            (S::Accepted, E::Expire) => S::Expired,
            (S::PartiallyFilled, E::PartialFill) => S::PartiallyFilled,
            (S::PartiallyFilled, E::Fill) => S::Filled,
            (S::PartiallyFilled, E::RequestCancel) => S::PendingCancel,
            (S::PartiallyFilled, E::Expire) => S::Expired,
            (S::PendingCancel, E::Cancelled) => S::Cancelled,
            (S::PendingCancel, E::CancelRejected) => S::Accepted,
            (S::PendingCancel, E::PartialFill) => S::PendingCancel,
            (S::PendingCancel, E::Fill) => S::Filled,
            (S::PendingCancel, E::Expire) => S::Expired,
            _ => return None,
        })
    }
}

/// An order and everything the run records about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Client order id.
    pub id: OrderId,
    /// Dense instrument index in the run.
    pub instrument: InstrumentIndex,
    /// Ticker.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub order_type: OrderType,
    /// What was asked for.
    pub requested: OrderQty,
    /// Units filled so far.
    pub filled: Quantity,
    /// Current state.
    pub status: OrderStatus,
    /// Why the order was rejected or cut (`None` when filled as asked).
    pub reason: Option<RejectReason>,
    /// Trading day the order was created (the decision day).
    pub created: NaiveDate,
    /// Trading day of the last state change.
    pub updated: NaiveDate,
}

impl Order {
    /// A new order in [`OrderStatus::PendingSubmit`].
    pub fn new(
        id: OrderId,
        instrument: InstrumentIndex,
        symbol: Symbol,
        side: Side,
        order_type: OrderType,
        requested: OrderQty,
        created: NaiveDate,
    ) -> Self {
        Self {
            id,
            instrument,
            symbol,
            side,
            order_type,
            requested,
            filled: Quantity::ZERO,
            status: OrderStatus::PendingSubmit,
            reason: None,
            created,
            updated: created,
        }
    }

    /// Applies `event` on `date` through the transition table.
    ///
    /// # Errors
    /// [`Error::InvalidTransition`] when the table does not allow the event;
    /// the order is left unchanged.
    pub fn apply(&mut self, event: OrderEvent, date: NaiveDate) -> Result<()> {
        match self.status.transition(event) {
            Some(next) => {
                self.status = next;
                self.updated = date;
                Ok(())
            }
            None => Err(Error::InvalidTransition {
                order_id: self.id.0,
                state: self.status.as_str().to_string(),
                event: format!("{event:?}"),
            }),
        }
    }
}

/// A fill (execution) of one order, with its costs in account currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// The order filled.
    pub order_id: OrderId,
    /// Trading day of the fill.
    pub date: NaiveDate,
    /// Dense instrument index in the run.
    pub instrument: InstrumentIndex,
    /// Ticker.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Units filled.
    pub quantity: Quantity,
    /// Fill price after slippage.
    pub price: Price,
    /// Broker commission (after the per-order minimum).
    pub commission: Cash,
    /// Stamp duty (A-share sells only).
    pub stamp_duty: Cash,
    /// Transfer fee (A-share stocks).
    pub transfer_fee: Cash,
}

impl Fill {
    /// Notional value: quantity × price.
    pub fn value(&self) -> Cash {
        self.price * self.quantity
    }

    /// Sum of all fees of the fill.
    pub fn total_fees(&self) -> Cash {
        self.commission + self.stamp_duty + self.transfer_fee
    }

    /// Cash change of the fill: −(value + fees) for a buy, value − fees for a sell.
    pub fn cash_flow(&self) -> Cash {
        match self.side {
            Side::Buy => -(self.value() + self.total_fees()),
            Side::Sell => self.value() - self.total_fees(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_STATES: [OrderStatus; 8] = [
        OrderStatus::PendingSubmit,
        OrderStatus::Accepted,
        OrderStatus::PartiallyFilled,
        OrderStatus::PendingCancel,
        OrderStatus::Filled,
        OrderStatus::Cancelled,
        OrderStatus::Rejected,
        OrderStatus::Expired,
    ];
    const ALL_EVENTS: [OrderEvent; 8] = [
        OrderEvent::Accept,
        OrderEvent::Reject,
        OrderEvent::PartialFill,
        OrderEvent::Fill,
        OrderEvent::RequestCancel,
        OrderEvent::Cancelled,
        OrderEvent::CancelRejected,
        OrderEvent::Expire,
    ];

    #[test]
    fn terminal_states_accept_no_event() {
        for s in ALL_STATES.iter().filter(|s| s.is_terminal()) {
            for e in ALL_EVENTS {
                assert_eq!(s.transition(e), None, "{s:?} + {e:?}");
            }
        }
    }

    #[test]
    fn table_rows() {
        use OrderEvent as E;
        use OrderStatus as S;
        let rows = [
            (S::PendingSubmit, E::Accept, Some(S::Accepted)),
            (S::PendingSubmit, E::Reject, Some(S::Rejected)),
            (S::PendingSubmit, E::Cancelled, None),
            (S::Accepted, E::Fill, Some(S::Filled)),
            (S::Accepted, E::Accept, None),
            (S::Accepted, E::Expire, Some(S::Expired)),
            (S::PartiallyFilled, E::Reject, None),
            (S::PartiallyFilled, E::Fill, Some(S::Filled)),
            (S::PendingCancel, E::CancelRejected, Some(S::Accepted)),
            (S::PendingCancel, E::Cancelled, Some(S::Cancelled)),
        ];
        for (s, e, want) in rows {
            assert_eq!(s.transition(e), want, "{s:?} + {e:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn random_event_sequences_never_leave_a_terminal_state(events in proptest::collection::vec(0usize..8, 0..40)) {
            let mut s = OrderStatus::PendingSubmit;
            for e in events {
                let was_terminal = s.is_terminal();
                if let Some(n) = s.transition(ALL_EVENTS[e]) {
                    proptest::prop_assert!(!was_terminal);
                    s = n;
                }
            }
        }
    }
}
