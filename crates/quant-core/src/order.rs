//! Orders, their state machine, reject reasons and fills.
//!
//! One [`OrderStatus`] enum covers in-flight states (pending submit,
//! cancel and replace, and `Unknown` for a submit that got no answer), and
//! one exhaustive [`OrderStatus::transition`] table says which
//! [`OrderEvent`] may move an order from one state to the next. The
//! simulated venue, the OMS and the broker adapters drive orders through
//! the same table.
//!
//! Order types: market, limit, stop, stop-limit, trailing stop (by an
//! amount or a fraction of the price), market-on-open, market-on-close;
//! time in force DAY, GTC, IOC, FOK, GTD. Our id at a venue is a
//! [`ClientOrderId`]: deterministic (strategy tag, trading day, sequence)
//! and at most 24 ASCII characters, so it fits QMT's `order_remark` and
//! moomoo's `remark`; [`ClientOrderId::uuid`] derives the UUID a venue such
//! as Public.com wants from it, the same on every retry.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use rust_decimal::Decimal;

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

/// Our order id at a venue: `TAG-YYYYMMDD-SEQ`, at most
/// [`ClientOrderId::MAX_LEN`] ASCII characters (QMT's `order_remark` takes
/// about 24, moomoo's `remark` 64 bytes). Deterministic: the same strategy
/// tag, trading day and sequence give the same id, so after a crash the
/// venue can be asked about the order by this id instead of sending it
/// twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientOrderId(String);

impl ClientOrderId {
    /// Longest id, in ASCII characters.
    pub const MAX_LEN: usize = 24;
    /// Longest strategy tag.
    pub const MAX_TAG: usize = 8;
    /// Largest sequence number of one tag on one trading day.
    pub const MAX_SEQ: u32 = 999_999;

    /// The id of order `seq` (1-based) of strategy `tag` on trading day
    /// `day`: `tag-20240102-000042`.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a tag that is empty, longer than
    /// [`ClientOrderId::MAX_TAG`] or not ASCII letters and digits, or a
    /// sequence of 0 or above [`ClientOrderId::MAX_SEQ`].
    pub fn new(tag: &str, day: NaiveDate, seq: u32) -> Result<Self> {
        if tag.is_empty()
            || tag.len() > Self::MAX_TAG
            || !tag.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Error::InvalidValue {
                what: "client order id tag",
                value: format!("{tag:?} (1 to {} ASCII letters and digits)", Self::MAX_TAG),
            });
        }
        if seq == 0 || seq > Self::MAX_SEQ {
            return Err(Error::InvalidValue {
                what: "client order id sequence",
                value: format!("{seq} (1 to {})", Self::MAX_SEQ),
            });
        }
        Ok(Self(format!("{tag}-{}-{seq:06}", day.format("%Y%m%d"))))
    }

    /// Parses an id received back from a venue.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for text that is empty, longer than
    /// [`ClientOrderId::MAX_LEN`] or not printable ASCII without spaces.
    pub fn parse(text: &str) -> Result<Self> {
        if text.is_empty()
            || text.len() > Self::MAX_LEN
            || !text.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::InvalidValue {
                what: "client order id",
                value: format!(
                    "{:?} (1 to {} printable ASCII characters)",
                    text.chars().take(40).collect::<String>(),
                    Self::MAX_LEN
                ),
            });
        }
        Ok(Self(text.to_string()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A UUID (RFC 9562 version 5, SHA-1 over a fixed namespace and this
    /// id) for venues that take a UUID as the client's order id
    /// (Public.com's `orderId`): the same id always gives the same UUID,
    /// so a retried submit is recognised as the same order.
    pub fn uuid(&self) -> String {
        // the project's own namespace (a v4 UUID generated once)
        const NAMESPACE: uuid::Uuid =
            uuid::Uuid::from_u128(0x6a1f_3c2e_9b7d_4e5f_8a0b_1c2d_3e4f_5a6b);
        uuid::Uuid::new_v5(&NAMESPACE, self.0.as_bytes()).to_string()
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ClientOrderId {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<ClientOrderId> for String {
    fn from(c: ClientOrderId) -> Self {
        c.0
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

/// How far a trailing stop trails the best price since it was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trail {
    /// A price distance in quote currency (a sell stop sits this far below
    /// the highest price seen).
    Amount(Price),
    /// A fraction of the best price (0.05 = 5 % below the high for a sell).
    Fraction(rust_decimal::Decimal),
}

/// Order type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Fill at the venue's next price (next open by default in backtests).
    Market,
    /// Fill only at the limit price or better.
    Limit(Price),
    /// Becomes a market order once the price trades at or through the stop
    /// (a buy stop at or above, a sell stop at or below).
    Stop(Price),
    /// Becomes a limit order at `limit` once the price reaches `stop`.
    StopLimit {
        /// Trigger price.
        stop: Price,
        /// Limit once triggered.
        limit: Price,
    },
    /// A stop that follows the best price since placement by [`Trail`].
    TrailingStop(Trail),
    /// Fills in the opening auction (at the session's open).
    MarketOnOpen,
    /// Fills in the closing auction (at the session's close).
    MarketOnClose,
}

impl OrderType {
    /// Snake-case name used in `orders.csv`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Market => "market",
            Self::Limit(_) => "limit",
            Self::Stop(_) => "stop",
            Self::StopLimit { .. } => "stop_limit",
            Self::TrailingStop(_) => "trailing_stop",
            Self::MarketOnOpen => "market_on_open",
            Self::MarketOnClose => "market_on_close",
        }
    }

    /// The limit price, for limit and stop-limit orders.
    pub fn limit_price(&self) -> Option<Price> {
        match self {
            Self::Limit(p) | Self::StopLimit { limit: p, .. } => Some(*p),
            _ => None,
        }
    }

    /// The stop (trigger) price, for stop and stop-limit orders.
    pub fn stop_price(&self) -> Option<Price> {
        match self {
            Self::Stop(p) | Self::StopLimit { stop: p, .. } => Some(*p),
            _ => None,
        }
    }
}

/// How an order is worked: sent as it is, or as child orders by an
/// execution algorithm (TWAP, iceberg; the engine runs them with
/// quant-exec's `algo`). Windows count bars of the run's interval.
///
/// In a config: `{ algo = "direct" }`, `{ algo = "twap", bars = 6,
/// slices = 3 }` (optional `expire_rest = true`, `participation = 0.1`),
/// `{ algo = "iceberg", visible = 1000 }`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "algo", deny_unknown_fields)]
pub enum Execution {
    /// One order, sent as it is (default).
    #[default]
    Direct,
    /// Time-weighted slices: `slices` child orders due evenly over the
    /// next `bars` bars, the first at the decision; what has not filled
    /// when the window closes goes out as one market order, or expires
    /// with `expire_rest`.
    Twap {
        /// Window length in bars (≥ 1).
        bars: u32,
        /// Number of slices (1 to `bars`).
        slices: u32,
        /// Let the rest expire at the window's end instead of sending it.
        #[serde(default)]
        expire_rest: bool,
        /// Largest share of a bar's volume one slice takes, in (0, 1].
        #[serde(default)]
        participation: Option<f64>,
    },
    /// A limit order shown `visible` units at a time (a valid lot).
    Iceberg {
        /// Units shown at once.
        visible: Quantity,
    },
}

/// How long an order works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Until the end of the trading day it was placed on.
    #[default]
    Day,
    /// Until filled or cancelled.
    Gtc,
    /// Immediate or cancel: what fills at once fills, the rest is cancelled.
    Ioc,
    /// Fill or kill: all at once, or nothing.
    Fok,
    /// Until the end of the given trading day (exchange-local date).
    Gtd(NaiveDate),
}

impl TimeInForce {
    /// Upper-case name used in `orders.csv` (`DAY`, `GTC`, `IOC`, `FOK`,
    /// `GTD`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Day => "DAY",
            Self::Gtc => "GTC",
            Self::Ioc => "IOC",
            Self::Fok => "FOK",
            Self::Gtd(_) => "GTD",
        }
    }

    /// Whether an order placed on `placed` is still valid at the end of
    /// trading day `day`'s session.
    pub fn valid_after_close(&self, placed: NaiveDate, day: NaiveDate) -> bool {
        match self {
            Self::Day => day < placed,
            Self::Gtc => true,
            Self::Ioc | Self::Fok => false,
            Self::Gtd(last) => day < *last,
        }
    }
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
    /// The venue does not take this order type or time in force (and
    /// nothing emulates it).
    Unsupported,
    /// Cancelled by its owner (or by an OCO sibling's fill).
    Cancelled,
    /// Nothing (or not all) could fill within the share of the bar's
    /// volume the venue allows one order.
    VolumeCap,
    /// A fill-or-kill order that could not fill whole at once.
    NotWhole,
    /// A stop (or trailing stop) whose price was not reached while it was
    /// valid.
    NotTriggered,
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
            Self::Unsupported => "unsupported",
            Self::Cancelled => "cancelled",
            Self::VolumeCap => "volume_cap",
            Self::NotWhole => "not_whole",
            Self::NotTriggered => "not_triggered",
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
    /// A cancel was sent, not yet confirmed (fills may still arrive).
    PendingCancel,
    /// A replace (new price or size) was sent, not yet confirmed.
    PendingReplace,
    /// Submitted, but no answer came in time: resolved by a status query
    /// or reconciliation, never by sending the order again.
    Unknown,
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
    /// The owner asked to replace (modify) the order.
    RequestReplace,
    /// The venue confirmed the replace (the order works with its new terms).
    Replaced,
    /// The venue refused the replace (the order keeps its old terms).
    ReplaceRejected,
    /// The order's validity ended.
    Expire,
    /// A submit (or a cancel or replace) got no answer in time.
    TimedOut,
}

impl OrderStatus {
    /// Every state, in declaration order.
    pub const ALL: [OrderStatus; 10] = [
        Self::PendingSubmit,
        Self::Accepted,
        Self::PartiallyFilled,
        Self::PendingCancel,
        Self::PendingReplace,
        Self::Unknown,
        Self::Filled,
        Self::Cancelled,
        Self::Rejected,
        Self::Expired,
    ];

    /// True for states from which no event moves the order.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Filled | Self::Cancelled | Self::Rejected | Self::Expired
        )
    }

    /// True while the order may still fill (it is working, or its fate is
    /// pending or unknown).
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }

    /// Snake-case name used in `orders.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingSubmit => "pending_submit",
            Self::Accepted => "accepted",
            Self::PartiallyFilled => "partially_filled",
            Self::PendingCancel => "pending_cancel",
            Self::PendingReplace => "pending_replace",
            Self::Unknown => "unknown",
            Self::Filled => "filled",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }

    /// The state after `event`, or `None` when the event is not allowed in
    /// this state. This is the one transition table of the project.
    ///
    /// Working again after a refused cancel or replace, or a confirmed
    /// replace, is written [`OrderStatus::Accepted`] here;
    /// [`Order::apply`] makes it [`OrderStatus::PartiallyFilled`] when some
    /// quantity has filled. Fills may arrive while a cancel or replace is
    /// pending (a late fill after a cancel request is normal), and an
    /// `Unknown` order is resolved by whatever the venue says it is.
    pub fn transition(self, event: OrderEvent) -> Option<Self> {
        use OrderEvent as E;
        use OrderStatus as S;
        Some(match (self, event) {
            (S::PendingSubmit, E::Accept) => S::Accepted,
            (S::PendingSubmit, E::Reject) => S::Rejected,
            (S::PendingSubmit, E::Fill) => S::Filled,
            (S::PendingSubmit, E::PartialFill) => S::PartiallyFilled,
            (S::PendingSubmit, E::RequestCancel) => S::PendingCancel,
            (S::PendingSubmit, E::Expire) => S::Expired,
            (S::PendingSubmit, E::TimedOut) => S::Unknown,
            (S::Accepted, E::Reject) => S::Rejected,
            (S::Accepted, E::PartialFill) => S::PartiallyFilled,
            (S::Accepted, E::Fill) => S::Filled,
            (S::Accepted, E::RequestCancel) => S::PendingCancel,
            (S::Accepted, E::RequestReplace) => S::PendingReplace,
            (S::Accepted, E::Cancelled) => S::Cancelled,
            (S::Accepted, E::Expire) => S::Expired,
            (S::PartiallyFilled, E::PartialFill) => S::PartiallyFilled,
            (S::PartiallyFilled, E::Fill) => S::Filled,
            (S::PartiallyFilled, E::RequestCancel) => S::PendingCancel,
            (S::PartiallyFilled, E::RequestReplace) => S::PendingReplace,
            (S::PartiallyFilled, E::Cancelled) => S::Cancelled,
            (S::PartiallyFilled, E::Expire) => S::Expired,
            (S::PendingCancel, E::Cancelled) => S::Cancelled,
            (S::PendingCancel, E::CancelRejected) => S::Accepted,
            (S::PendingCancel, E::PartialFill) => S::PendingCancel,
            (S::PendingCancel, E::Fill) => S::Filled,
            (S::PendingCancel, E::Expire) => S::Expired,
            (S::PendingCancel, E::Reject) => S::Rejected,
            (S::PendingCancel, E::TimedOut) => S::Unknown,
            (S::PendingReplace, E::Replaced) => S::Accepted,
            (S::PendingReplace, E::ReplaceRejected) => S::Accepted,
            (S::PendingReplace, E::PartialFill) => S::PendingReplace,
            (S::PendingReplace, E::Fill) => S::Filled,
            (S::PendingReplace, E::Cancelled) => S::Cancelled,
            (S::PendingReplace, E::Expire) => S::Expired,
            (S::PendingReplace, E::TimedOut) => S::Unknown,
            (S::Unknown, E::Accept) => S::Accepted,
            (S::Unknown, E::Reject) => S::Rejected,
            (S::Unknown, E::PartialFill) => S::PartiallyFilled,
            (S::Unknown, E::Fill) => S::Filled,
            (S::Unknown, E::Cancelled) => S::Cancelled,
            (S::Unknown, E::Expire) => S::Expired,
            (S::Unknown, E::TimedOut) => S::Unknown,
            _ => return None,
        })
    }
}

/// How an order is tied to others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Contingency {
    /// One-cancels-other: when one order of the group fills (even in
    /// part), the others are cancelled.
    Oco {
        /// The other orders of the group.
        others: Vec<OrderId>,
    },
    /// The entry of a bracket: its children (take-profit and stop-loss,
    /// an OCO pair) are placed once it fills, sized by its fill.
    BracketEntry {
        /// The take-profit and stop-loss orders, held until the entry fills.
        children: Vec<OrderId>,
    },
    /// A take-profit or stop-loss of a bracket, working only after its
    /// entry fills.
    BracketChild {
        /// The entry order.
        parent: OrderId,
    },
}

/// An order and everything the run records about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Internal order id (dense, 1-based, in creation order).
    pub id: OrderId,
    /// Our id at the venue (see [`ClientOrderId`]); `None` until assigned.
    #[serde(default)]
    pub client_id: Option<ClientOrderId>,
    /// The venue's id, once it has acknowledged the order.
    #[serde(default)]
    pub venue_id: Option<String>,
    /// Dense instrument index in the run.
    pub instrument: InstrumentIndex,
    /// Ticker.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Market, limit, stop …
    pub order_type: OrderType,
    /// How long it works.
    #[serde(default)]
    pub tif: TimeInForce,
    /// What was asked for.
    pub requested: OrderQty,
    /// Units filled so far.
    pub filled: Quantity,
    /// Volume-weighted average fill price, rounded to 8 decimal places
    /// (`None` before the first fill).
    #[serde(default)]
    pub avg_price: Option<Price>,
    /// Σ quantity × price over the fills, exact, quote currency.
    #[serde(default)]
    pub filled_value: Cash,
    /// Current state.
    pub status: OrderStatus,
    /// Why the order was rejected or cut (`None` when filled as asked).
    pub reason: Option<RejectReason>,
    /// Ties to other orders (OCO, bracket).
    #[serde(default)]
    pub contingency: Option<Contingency>,
    /// The order an execution algorithm works this one for (a TWAP slice,
    /// an iceberg clip); `None` for the strategy's own orders.
    #[serde(default)]
    pub parent: Option<OrderId>,
    /// Trading day the order was created (the decision day).
    pub created: NaiveDate,
    /// Trading day of the last state change.
    pub updated: NaiveDate,
}

impl Order {
    /// A new day order in [`OrderStatus::PendingSubmit`], without a client
    /// id or contingency.
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
            client_id: None,
            venue_id: None,
            instrument,
            symbol,
            side,
            order_type,
            tif: TimeInForce::Day,
            requested,
            filled: Quantity::ZERO,
            avg_price: None,
            filled_value: Cash(Decimal::ZERO),
            status: OrderStatus::PendingSubmit,
            reason: None,
            contingency: None,
            parent: None,
            created,
            updated: created,
        }
    }

    /// The same order with time in force `tif`.
    pub fn with_tif(mut self, tif: TimeInForce) -> Self {
        self.tif = tif;
        self
    }

    /// The same order with the client id `id`.
    pub fn with_client_id(mut self, id: ClientOrderId) -> Self {
        self.client_id = Some(id);
        self
    }

    /// Units still to fill, when the order asks for units.
    pub fn leaves(&self) -> Option<Quantity> {
        match self.requested {
            OrderQty::Units(q) => Some(Quantity((q.0 - self.filled.0).max(Decimal::ZERO))),
            _ => None,
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
                self.status = if next == OrderStatus::Accepted && self.filled.0 > Decimal::ZERO {
                    OrderStatus::PartiallyFilled
                } else {
                    next
                };
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

    /// Books a fill of `quantity` at `price` on `date`: the filled quantity
    /// and the volume-weighted average price move, and the state follows
    /// ([`OrderEvent::Fill`] when `complete`, else
    /// [`OrderEvent::PartialFill`]).
    ///
    /// # Errors
    /// [`Error::InvalidTransition`] when the order cannot take a fill in
    /// its state (the order is unchanged); [`Error::InvalidValue`] for a
    /// quantity that is not positive.
    pub fn record_fill(
        &mut self,
        quantity: Quantity,
        price: Price,
        complete: bool,
        date: NaiveDate,
    ) -> Result<()> {
        if quantity.0 <= Decimal::ZERO {
            return Err(Error::InvalidValue {
                what: "fill quantity",
                value: quantity.to_string(),
            });
        }
        let event = if complete {
            OrderEvent::Fill
        } else {
            OrderEvent::PartialFill
        };
        // check before changing anything
        self.status
            .transition(event)
            .ok_or_else(|| Error::InvalidTransition {
                order_id: self.id.0,
                state: self.status.as_str().to_string(),
                event: format!("{event:?}"),
            })?;
        let total = self.filled.0 + quantity.0;
        let value = self.filled_value.0 + price.0 * quantity.0;
        self.filled = Quantity(total);
        self.filled_value = Cash(value);
        self.avg_price = Some(Price((value / total).round_dp(8)));
        self.apply(event, date)
    }
}

/// A fill (execution) of one order, with its costs in account currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// The order filled.
    pub order_id: OrderId,
    /// Trading day of the fill.
    pub date: NaiveDate,
    /// The instant of the fill when bars are intraday (the open or the
    /// close of the bar it filled on); `None` on daily bars.
    #[serde(default)]
    pub time: Option<crate::time::UnixNanos>,
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

    const ALL_STATES: [OrderStatus; 10] = OrderStatus::ALL;
    const ALL_EVENTS: [OrderEvent; 12] = [
        OrderEvent::Accept,
        OrderEvent::Reject,
        OrderEvent::PartialFill,
        OrderEvent::Fill,
        OrderEvent::RequestCancel,
        OrderEvent::Cancelled,
        OrderEvent::CancelRejected,
        OrderEvent::RequestReplace,
        OrderEvent::Replaced,
        OrderEvent::ReplaceRejected,
        OrderEvent::Expire,
        OrderEvent::TimedOut,
    ];

    fn order(qty: i64) -> Order {
        Order::new(
            OrderId(1),
            InstrumentIndex(0),
            Symbol::new("600519.SH").unwrap(),
            Side::Buy,
            OrderType::Limit(Price(Decimal::new(1700, 0))),
            OrderQty::Units(Quantity(Decimal::from(qty))),
            "2024-01-02".parse().unwrap(),
        )
    }

    #[test]
    fn client_order_ids_are_short_deterministic_and_checked() {
        let day: NaiveDate = "2024-01-02".parse().unwrap();
        let id = ClientOrderId::new("smacross", day, 42).unwrap();
        assert_eq!(id.as_str(), "smacross-20240102-000042");
        assert!(id.as_str().len() <= ClientOrderId::MAX_LEN);
        let longest = ClientOrderId::new("abcdefgh", day, ClientOrderId::MAX_SEQ).unwrap();
        assert_eq!(longest.as_str().len(), ClientOrderId::MAX_LEN);
        for (tag, seq) in [
            ("", 1),
            ("toolongtag", 1),
            ("a-b", 1),
            ("策略", 1),
            ("ok", 0),
            ("ok", 1_000_000),
        ] {
            assert!(ClientOrderId::new(tag, day, seq).is_err(), "{tag} {seq}");
        }
        assert!(ClientOrderId::parse("has space").is_err());
        assert!(ClientOrderId::parse(&"x".repeat(25)).is_err());
        assert_eq!(ClientOrderId::parse(id.as_str()).unwrap(), id);
        // the venue UUID is a v5 UUID, the same every time, different per id
        let u = id.uuid();
        assert_eq!(u, id.uuid());
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5", "version 5");
        assert_ne!(u, ClientOrderId::new("smacross", day, 43).unwrap().uuid());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ClientOrderId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ClientOrderId>("\"a b\"").is_err());
    }

    #[test]
    fn fills_average_their_prices_and_leave_the_rest() {
        let d: NaiveDate = "2024-01-02".parse().unwrap();
        let mut o = order(300);
        o.apply(OrderEvent::Accept, d).unwrap();
        o.record_fill(
            Quantity(Decimal::from(100)),
            Price(Decimal::new(16990, 1)),
            false,
            d,
        )
        .unwrap();
        assert_eq!(o.status, OrderStatus::PartiallyFilled);
        o.record_fill(
            Quantity(Decimal::from(100)),
            Price(Decimal::new(17000, 1)),
            false,
            d,
        )
        .unwrap();
        assert_eq!(o.leaves(), Some(Quantity(Decimal::from(100))));
        assert_eq!(o.avg_price, Some(Price(Decimal::new(16995, 1))));
        // a replace keeps a partially filled order partially filled
        o.apply(OrderEvent::RequestReplace, d).unwrap();
        assert_eq!(o.status, OrderStatus::PendingReplace);
        o.apply(OrderEvent::Replaced, d).unwrap();
        assert_eq!(o.status, OrderStatus::PartiallyFilled);
        // a late fill after a cancel request
        o.apply(OrderEvent::RequestCancel, d).unwrap();
        o.record_fill(
            Quantity(Decimal::from(100)),
            Price(Decimal::new(17010, 1)),
            true,
            d,
        )
        .unwrap();
        assert_eq!(o.status, OrderStatus::Filled);
        assert_eq!(o.avg_price, Some(Price(Decimal::new(17000, 1))));
        let err = o
            .record_fill(Quantity(Decimal::from(1)), Price(Decimal::ONE), true, d)
            .unwrap_err();
        assert!(err.to_string().contains("filled"), "{err}");
        assert_eq!(
            o.filled,
            Quantity(Decimal::from(300)),
            "unchanged by a refused fill"
        );
    }

    #[test]
    fn unknown_is_resolved_by_what_the_venue_says() {
        let d: NaiveDate = "2024-01-02".parse().unwrap();
        for (ev, want) in [
            (OrderEvent::Accept, OrderStatus::Accepted),
            (OrderEvent::Reject, OrderStatus::Rejected),
            (OrderEvent::Fill, OrderStatus::Filled),
            (OrderEvent::Cancelled, OrderStatus::Cancelled),
        ] {
            let mut o = order(100);
            o.apply(OrderEvent::TimedOut, d).unwrap();
            assert_eq!(o.status, OrderStatus::Unknown);
            o.apply(ev, d).unwrap();
            assert_eq!(o.status, want);
        }
        let mut o = order(100);
        o.apply(OrderEvent::TimedOut, d).unwrap();
        let err = o
            .apply(OrderEvent::RequestReplace, d)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown"), "{err}");
    }

    #[test]
    fn time_in_force_validity() {
        let p: NaiveDate = "2024-01-02".parse().unwrap();
        let next: NaiveDate = "2024-01-03".parse().unwrap();
        assert!(!TimeInForce::Day.valid_after_close(p, p));
        assert!(TimeInForce::Gtc.valid_after_close(p, next));
        assert!(!TimeInForce::Ioc.valid_after_close(p, p));
        assert!(TimeInForce::Gtd(next).valid_after_close(p, p));
        assert!(!TimeInForce::Gtd(next).valid_after_close(p, next));
        assert_eq!(
            serde_json::to_string(&TimeInForce::Gtd(next)).unwrap(),
            "{\"gtd\":\"2024-01-03\"}"
        );
    }

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
        fn random_event_sequences_never_leave_a_terminal_state(events in proptest::collection::vec(0usize..12, 0..40)) {
            let mut s = OrderStatus::PendingSubmit;
            for e in events {
                let was_terminal = s.is_terminal();
                if let Some(n) = s.transition(ALL_EVENTS[e]) {
                    proptest::prop_assert!(!was_terminal);
                    s = n;
                }
            }
        }

        /// Random reports and requests against one order: an illegal one
        /// is refused with an error and changes nothing; the filled
        /// quantity never passes the order's size and never goes down; the
        /// average price stays within the fill prices; a terminal order
        /// takes nothing more.
        #[test]
        fn random_event_sequences_keep_an_order_consistent(
            steps in proptest::collection::vec((0usize..12, 1i64..150, 1000i64..2000), 0..60)
        ) {
            let d: NaiveDate = "2024-01-02".parse().unwrap();
            let size = 300i64;
            let mut o = order(size);
            let (mut lo, mut hi) = (i64::MAX, i64::MIN);
            for (e, qty, px) in steps {
                let before = o.clone();
                let leaves = o
                    .leaves()
                    .and_then(|q| rust_decimal::prelude::ToPrimitive::to_i64(&q.0))
                    .unwrap_or(0);
                let r = match ALL_EVENTS[e] {
                    OrderEvent::PartialFill | OrderEvent::Fill => {
                        let complete = ALL_EVENTS[e] == OrderEvent::Fill || qty >= leaves;
                        let q = if complete { leaves } else { qty };
                        if q <= 0 {
                            continue;
                        }
                        let r = o.record_fill(Quantity(Decimal::from(q)), Price(Decimal::from(px)), complete, d);
                        if r.is_ok() {
                            lo = lo.min(px);
                            hi = hi.max(px);
                        }
                        r
                    }
                    ev => o.apply(ev, d),
                };
                match r {
                    Ok(()) => proptest::prop_assert!(!before.status.is_terminal()),
                    Err(_) => proptest::prop_assert_eq!(&o, &before),
                }
                proptest::prop_assert!(o.filled.0 <= Decimal::from(size));
                proptest::prop_assert!(o.filled.0 >= before.filled.0);
                if let Some(a) = o.avg_price {
                    proptest::prop_assert!(a.0 >= Decimal::from(lo) && a.0 <= Decimal::from(hi));
                }
                if o.status == OrderStatus::Filled {
                    proptest::prop_assert_eq!(o.filled.0, Decimal::from(size));
                }
            }
        }
    }
}
