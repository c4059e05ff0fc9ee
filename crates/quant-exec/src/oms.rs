//! The order management system: every order of a session, its ids at the
//! venue, and what each venue report does to it.
//!
//! - Ids: an order gets a dense [`OrderId`] (its place in the book) and,
//!   when the OMS has a strategy tag, a deterministic [`ClientOrderId`]
//!   (`TAG-YYYYMMDD-SEQ`, the sequence restarting each trading day) that is
//!   sent to the venue; the venue's own id is recorded when it
//!   acknowledges. Reports found by either id resolve to one order.
//! - Reports ([`Report`]) move orders through quant-core's one transition
//!   table. A venue may repeat a report or send it late (a push after a
//!   reconnect, a fill after a cancel request): a fill whose venue fill id
//!   was seen is a [`Outcome::Duplicate`]; a report describing a state the
//!   order has already left (an `Accepted` after a fill) is
//!   [`Outcome::Stale`]; both change nothing. Anything else the table
//!   refuses is an error naming the order, its state and the report.
//! - Contingencies: when an order of an OCO group fills (even in part),
//!   the others are cancelled; when a bracket's entry fills, its children
//!   are released (sized by the entry's fill) — both as [`Action`]s the
//!   caller turns into venue commands.
//! - `Unknown`: a submit with no answer in time is marked unknown and
//!   answered by a status query ([`Report::Status`]), never by a second
//!   submit.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use quant_core::{
    ClientOrderId, Contingency, Fill, Order, OrderEvent, OrderId, OrderQty, OrderStatus, OrderType,
    Price, Quantity, RejectReason,
};

use crate::error::{Error, Result};

/// What a venue (or the simulated venue) reports about one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    /// Working at the venue, under the venue's id when it gives one.
    Accepted {
        /// The order.
        id: OrderId,
        /// The venue's id.
        venue_id: Option<String>,
    },
    /// Refused.
    Rejected {
        /// The order.
        id: OrderId,
        /// Why.
        reason: RejectReason,
    },
    /// A fill (execution).
    Fill {
        /// The fill, with its costs.
        fill: Fill,
        /// The venue's id of this execution, for de-duplication (`None`:
        /// every report is a new fill, as the simulated venue's are).
        fill_id: Option<String>,
        /// Whether the order is now complete; `None` lets the OMS decide
        /// from the order's size (units orders), and value orders complete
        /// on their one fill.
        complete: Option<bool>,
        /// Why the order filled less than asked, if it did.
        cut: Option<RejectReason>,
    },
    /// The cancel is confirmed.
    Cancelled {
        /// The order.
        id: OrderId,
    },
    /// The cancel was refused; the order keeps working.
    CancelRejected {
        /// The order.
        id: OrderId,
    },
    /// The replace is confirmed: the order works with these terms.
    Replaced {
        /// The order.
        id: OrderId,
        /// New type and prices.
        order_type: OrderType,
        /// New size.
        requested: OrderQty,
    },
    /// The replace was refused; the order keeps its old terms.
    ReplaceRejected {
        /// The order.
        id: OrderId,
    },
    /// The order's validity ended.
    Expired {
        /// The order.
        id: OrderId,
    },
    /// A submit, cancel or replace got no answer in time.
    TimedOut {
        /// The order.
        id: OrderId,
    },
    /// The answer to a status query: what the venue says the order is.
    Status {
        /// The order.
        id: OrderId,
        /// Its state at the venue.
        status: OrderStatus,
    },
}

impl Report {
    /// The order the report is about.
    pub fn order(&self) -> OrderId {
        match self {
            Self::Accepted { id, .. }
            | Self::Rejected { id, .. }
            | Self::Cancelled { id }
            | Self::CancelRejected { id }
            | Self::Replaced { id, .. }
            | Self::ReplaceRejected { id }
            | Self::Expired { id }
            | Self::TimedOut { id }
            | Self::Status { id, .. } => *id,
            Self::Fill { fill, .. } => fill.order_id,
        }
    }
}

impl From<crate::traits::VenueEvent> for Report {
    /// The simulated venue's events: a fill is the order's one and only
    /// (complete) fill.
    fn from(e: crate::traits::VenueEvent) -> Self {
        use crate::traits::VenueEvent as V;
        match e {
            V::Accepted(id) => Self::Accepted { id, venue_id: None },
            V::Rejected(id, reason) => Self::Rejected { id, reason },
            V::Expired(id) => Self::Expired { id },
            V::Filled { fill, cut } => Self::Fill {
                fill,
                fill_id: None,
                complete: Some(true),
                cut,
            },
            V::PartiallyFilled { fill } => Self::Fill {
                fill,
                fill_id: None,
                complete: Some(false),
                cut: None,
            },
            V::Cancelled(id) => Self::Cancelled { id },
            V::Replaced {
                id,
                order_type,
                requested,
            } => Self::Replaced {
                id,
                order_type,
                requested,
            },
            V::ReplaceRejected(id) => Self::ReplaceRejected { id },
            V::Status(id, status) => Self::Status { id, status },
        }
    }
}

/// What applying a report did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The order moved; the actions are what the caller must do next.
    Applied(Vec<Action>),
    /// A repeat of a report already applied (the same fill id): ignored.
    Duplicate,
    /// A report about a state the order has already left (arrived late):
    /// ignored.
    Stale,
}

/// What the caller must do after a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Book this fill in the portfolio.
    Book(Fill),
    /// Send a cancel for this order (an OCO sibling of a fill).
    Cancel(OrderId),
    /// Submit this order, released by its bracket entry's fill.
    Submit(OrderId),
}

/// The order book of one session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Oms {
    orders: Vec<Order>,
    by_client: BTreeMap<ClientOrderId, OrderId>,
    by_venue: BTreeMap<String, OrderId>,
    fill_ids: BTreeSet<(OrderId, String)>,
    /// Strategy tag for client ids (`None`: orders get none).
    tag: Option<String>,
    /// The trading day of the last client id and its sequence.
    seq_day: Option<NaiveDate>,
    seq: u32,
}

fn stale(status: OrderStatus, report: &Report) -> bool {
    use OrderStatus as S;
    match report {
        // acknowledged after it already filled, was asked to cancel, …
        Report::Accepted { .. } => !matches!(status, S::PendingSubmit | S::Unknown),
        Report::Cancelled { .. } | Report::Expired { .. } | Report::Rejected { .. } => {
            status.is_terminal()
        }
        Report::CancelRejected { .. } => status != S::PendingCancel,
        Report::ReplaceRejected { .. } | Report::Replaced { .. } => status != S::PendingReplace,
        Report::TimedOut { .. } => status.is_terminal() || status == S::Accepted,
        Report::Status { .. } | Report::Fill { .. } => false,
    }
}

impl Oms {
    /// An empty book; with `tag`, orders get client ids `TAG-YYYYMMDD-SEQ`.
    ///
    /// # Errors
    /// [`Error::Core`] for a tag [`ClientOrderId::new`] refuses.
    pub fn new(tag: Option<&str>) -> Result<Self> {
        if let Some(t) = tag {
            // check the tag once, here
            ClientOrderId::new(t, NaiveDate::MIN, 1)?;
        }
        Ok(Self {
            tag: tag.map(str::to_string),
            ..Self::default()
        })
    }

    /// Every order, in creation order (`OrderId` 1 first).
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    /// Takes the orders out (the run's record).
    pub fn into_orders(self) -> Vec<Order> {
        self.orders
    }

    /// The order `id`.
    pub fn get(&self, id: OrderId) -> Option<&Order> {
        usize::try_from(id.0)
            .ok()
            .and_then(|k| k.checked_sub(1))
            .and_then(|k| self.orders.get(k))
    }

    fn get_mut(&mut self, id: OrderId) -> Result<&mut Order> {
        usize::try_from(id.0)
            .ok()
            .and_then(|k| k.checked_sub(1))
            .and_then(|k| self.orders.get_mut(k))
            .ok_or(Error::UnknownOrder(id.0))
    }

    /// The order a venue knows by our client id.
    pub fn by_client_id(&self, id: &ClientOrderId) -> Option<OrderId> {
        self.by_client.get(id).copied()
    }

    /// The order a venue knows by its own id.
    pub fn by_venue_id(&self, id: &str) -> Option<OrderId> {
        self.by_venue.get(id).copied()
    }

    /// Orders that may still fill.
    pub fn open(&self) -> impl Iterator<Item = &Order> {
        self.orders.iter().filter(|o| o.status.is_open())
    }

    /// Adds `order` (its id is assigned here, as is its client id when the
    /// book has a tag) on trading day `day`, in `PendingSubmit`; returns the
    /// id.
    ///
    /// # Errors
    /// [`Error::Core`] when a trading day has more orders than a client id
    /// can number.
    pub fn create(&mut self, mut order: Order, day: NaiveDate) -> Result<OrderId> {
        let id = OrderId(self.orders.len() as u64 + 1);
        order.id = id;
        order.status = OrderStatus::PendingSubmit;
        if let Some(tag) = &self.tag {
            if self.seq_day != Some(day) {
                self.seq_day = Some(day);
                self.seq = 0;
            }
            self.seq += 1;
            let cid = ClientOrderId::new(tag, day, self.seq)?;
            self.by_client.insert(cid.clone(), id);
            order.client_id = Some(cid);
        }
        self.orders.push(order);
        Ok(id)
    }

    /// Sets the size of order `id` (before it is sent: decision-time sizing).
    ///
    /// # Errors
    /// [`Error::UnknownOrder`].
    pub fn set_requested(&mut self, id: OrderId, requested: OrderQty) -> Result<()> {
        self.get_mut(id)?.requested = requested;
        Ok(())
    }

    /// Sets the type and size of order `id` before it is sent (an order
    /// held for emulation whose terms the operator changed).
    ///
    /// # Errors
    /// [`Error::UnknownOrder`].
    pub fn set_terms(
        &mut self,
        id: OrderId,
        order_type: OrderType,
        requested: OrderQty,
    ) -> Result<()> {
        let o = self.get_mut(id)?;
        o.order_type = order_type;
        o.requested = requested;
        Ok(())
    }

    /// Records that order `id` is a child of `parent` (an execution
    /// algorithm's slice or clip); nothing for an order not in the book.
    pub fn set_parent(&mut self, id: OrderId, parent: OrderId) {
        if let Ok(o) = self.get_mut(id) {
            o.parent = Some(parent);
        }
    }

    /// Sets the time in force of order `id` (before it is sent).
    ///
    /// # Errors
    /// [`Error::UnknownOrder`].
    pub fn set_tif(&mut self, id: OrderId, tif: quant_core::TimeInForce) -> Result<()> {
        self.get_mut(id)?.tif = tif;
        Ok(())
    }

    /// Links orders `ids` as one OCO group (each cancels the others when
    /// it fills).
    ///
    /// # Errors
    /// [`Error::UnknownOrder`].
    pub fn link_oco(&mut self, ids: &[OrderId]) -> Result<()> {
        for &id in ids {
            let others: Vec<OrderId> = ids.iter().copied().filter(|o| *o != id).collect();
            self.get_mut(id)?.contingency = Some(Contingency::Oco { others });
        }
        Ok(())
    }

    /// Links a bracket: `children` (take-profit, stop-loss; an OCO pair)
    /// wait for `entry` to fill and are sized by its fill.
    ///
    /// # Errors
    /// [`Error::UnknownOrder`].
    pub fn link_bracket(&mut self, entry: OrderId, children: &[OrderId]) -> Result<()> {
        self.get_mut(entry)?.contingency = Some(Contingency::BracketEntry {
            children: children.to_vec(),
        });
        for &c in children {
            self.get_mut(c)?;
        }
        // the children are an OCO pair among themselves, tied to the entry
        for &c in children {
            self.get_mut(c)?.contingency = Some(Contingency::BracketChild { parent: entry });
        }
        Ok(())
    }

    /// Whether `id` waits for its bracket entry (not yet sendable).
    pub fn is_held(&self, id: OrderId) -> bool {
        match self.get(id).and_then(|o| o.contingency.as_ref()) {
            Some(Contingency::BracketChild { parent }) => self
                .get(*parent)
                .is_none_or(|p| p.filled.0 <= Decimal::ZERO),
            _ => false,
        }
    }

    /// Marks a cancel request on `id` (the caller sends it).
    ///
    /// # Errors
    /// [`Error::Core`] when the order cannot be cancelled in its state.
    pub fn request_cancel(&mut self, id: OrderId, day: NaiveDate) -> Result<()> {
        Ok(self.get_mut(id)?.apply(OrderEvent::RequestCancel, day)?)
    }

    /// Marks a replace request on `id` (the caller sends it).
    ///
    /// # Errors
    /// [`Error::Core`] when the order cannot be replaced in its state.
    pub fn request_replace(&mut self, id: OrderId, day: NaiveDate) -> Result<()> {
        Ok(self.get_mut(id)?.apply(OrderEvent::RequestReplace, day)?)
    }

    /// Records on an execution algorithm's parent (`fill.order_id`) the
    /// fill of one of its children ([`crate::algo::AlgoAction::ParentFill`])
    /// on trading day `day`: the parent's filled quantity, average price
    /// and state move as for a fill (complete when it reaches the parent's
    /// size), and its OCO siblings or bracket children follow, but the fill
    /// is **not** booked again ([`Action::Book`] was the child's). Returns
    /// the other actions.
    ///
    /// # Errors
    /// As [`Oms::apply`] for a fill.
    pub fn apply_parent_fill(&mut self, fill: Fill, day: NaiveDate) -> Result<Vec<Action>> {
        let report = Report::Fill {
            fill,
            fill_id: None,
            complete: None,
            cut: None,
        };
        Ok(match self.apply(report, day)? {
            Outcome::Applied(actions) => actions
                .into_iter()
                .filter(|a| !matches!(a, Action::Book(_)))
                .collect(),
            Outcome::Duplicate | Outcome::Stale => Vec::new(),
        })
    }

    /// Applies a venue report on trading day `day` (see the module docs).
    ///
    /// # Errors
    /// [`Error::UnknownOrder`] for an order not in the book;
    /// [`Error::Core`] for a report the transition table refuses that is
    /// neither a duplicate nor stale.
    pub fn apply(&mut self, report: Report, day: NaiveDate) -> Result<Outcome> {
        let id = report.order();
        let status = self.get_mut(id)?.status;
        if let Report::Fill {
            fill_id: Some(f), ..
        } = &report
            && !self.fill_ids.insert((id, f.clone()))
        {
            return Ok(Outcome::Duplicate);
        }
        if stale(status, &report) {
            return Ok(Outcome::Stale);
        }
        let mut actions = Vec::new();
        let ends_unfilled = matches!(
            report,
            Report::Rejected { .. } | Report::Expired { .. } | Report::Cancelled { .. }
        );
        match report {
            Report::Accepted { venue_id, .. } => {
                let o = self.get_mut(id)?;
                o.apply(OrderEvent::Accept, day)?;
                if let Some(v) = venue_id {
                    o.venue_id = Some(v.clone());
                    self.by_venue.insert(v, id);
                }
            }
            Report::Rejected { reason, .. } => {
                let o = self.get_mut(id)?;
                o.apply(OrderEvent::Reject, day)?;
                o.reason = Some(reason);
            }
            Report::Expired { .. } => {
                let o = self.get_mut(id)?;
                o.apply(OrderEvent::Expire, day)?;
                o.reason = Some(RejectReason::Expired);
            }
            Report::Cancelled { .. } => {
                let o = self.get_mut(id)?;
                o.apply(OrderEvent::Cancelled, day)?;
                o.reason.get_or_insert(RejectReason::Cancelled);
            }
            Report::CancelRejected { .. } => {
                self.get_mut(id)?.apply(OrderEvent::CancelRejected, day)?
            }
            Report::ReplaceRejected { .. } => {
                self.get_mut(id)?.apply(OrderEvent::ReplaceRejected, day)?;
            }
            Report::Replaced {
                order_type,
                requested,
                ..
            } => {
                let o = self.get_mut(id)?;
                o.apply(OrderEvent::Replaced, day)?;
                o.order_type = order_type;
                o.requested = requested;
            }
            Report::TimedOut { .. } => self.get_mut(id)?.apply(OrderEvent::TimedOut, day)?,
            Report::Status { status: s, .. } => {
                let ev = match s {
                    OrderStatus::Accepted | OrderStatus::PendingSubmit => OrderEvent::Accept,
                    OrderStatus::PartiallyFilled => OrderEvent::PartialFill,
                    OrderStatus::Filled => OrderEvent::Fill,
                    OrderStatus::Cancelled => OrderEvent::Cancelled,
                    OrderStatus::Rejected => OrderEvent::Reject,
                    OrderStatus::Expired => OrderEvent::Expire,
                    OrderStatus::PendingCancel
                    | OrderStatus::PendingReplace
                    | OrderStatus::Unknown => return Ok(Outcome::Stale),
                };
                let o = self.get_mut(id)?;
                if o.status.transition(ev).is_none() {
                    return Ok(Outcome::Stale);
                }
                o.apply(ev, day)?;
            }
            Report::Fill {
                fill,
                complete,
                cut,
                ..
            } => {
                let o = self.get_mut(id)?;
                let done = complete.unwrap_or_else(|| match o.leaves() {
                    Some(left) => fill.quantity.0 >= left.0,
                    None => true,
                });
                o.record_fill(fill.quantity, fill.price, done, day)?;
                if cut.is_some() {
                    o.reason = cut;
                }
                let contingency = o.contingency.clone();
                let filled = o.filled;
                match contingency {
                    Some(Contingency::Oco { others }) => {
                        for other in others {
                            if self.get(other).is_some_and(|x| x.status.is_open()) {
                                actions.push(Action::Cancel(other));
                            }
                        }
                    }
                    Some(Contingency::BracketEntry { children }) => {
                        for c in children {
                            let child = self.get_mut(c)?;
                            if child.status == OrderStatus::PendingSubmit {
                                child.requested = OrderQty::Units(filled);
                                actions.push(Action::Submit(c));
                            }
                        }
                    }
                    Some(Contingency::BracketChild { parent }) => {
                        // the other child of the bracket is cancelled
                        if let Some(Contingency::BracketEntry { children }) =
                            self.get(parent).and_then(|p| p.contingency.clone())
                        {
                            for other in children.into_iter().filter(|c| *c != id) {
                                if self.get(other).is_some_and(|x| x.status.is_open()) {
                                    actions.push(Action::Cancel(other));
                                }
                            }
                        }
                    }
                    None => {}
                }
                actions.insert(0, Action::Book(fill));
            }
        }
        // a bracket entry that ended without a fill takes its held
        // children with it
        if ends_unfilled
            && let Some(o) = self.get(id)
            && o.filled.0 <= Decimal::ZERO
            && let Some(Contingency::BracketEntry { children }) = o.contingency.clone()
        {
            for c in children {
                let child = self.get_mut(c)?;
                if child.status == OrderStatus::PendingSubmit {
                    child.apply(OrderEvent::Expire, day)?;
                    child.reason = Some(RejectReason::Expired);
                }
            }
        }
        Ok(Outcome::Applied(actions))
    }
}

/// The units a price level of `price` buys for `value` of cash, rounded
/// down to whole lots of `lot` (the decision-time sizing of a value order).
pub fn units_for_value(value: Decimal, price: Price, lot: Decimal) -> Quantity {
    if price.0 <= Decimal::ZERO || lot <= Decimal::ZERO {
        return Quantity::ZERO;
    }
    let units = (value / price.0).floor();
    Quantity((units / lot).floor() * lot)
}

#[cfg(test)]
mod tests {
    use quant_core::{InstrumentIndex, Side, Symbol};
    use rust_decimal::Decimal;

    use super::*;

    fn day() -> NaiveDate {
        "2024-01-02".parse().unwrap()
    }

    fn order(side: Side, units: i64, ty: OrderType) -> Order {
        Order::new(
            OrderId(0),
            InstrumentIndex(0),
            Symbol::new("600519.SH").unwrap(),
            side,
            ty,
            OrderQty::Units(Quantity(Decimal::from(units))),
            day(),
        )
    }

    fn fill(id: OrderId, units: i64, price: i64) -> Fill {
        Fill {
            order_id: id,
            date: day(),
            time: None,
            instrument: InstrumentIndex(0),
            symbol: Symbol::new("600519.SH").unwrap(),
            side: Side::Buy,
            quantity: Quantity(Decimal::from(units)),
            price: Price(Decimal::from(price)),
            commission: quant_core::Cash(Decimal::ZERO),
            stamp_duty: quant_core::Cash(Decimal::ZERO),
            transfer_fee: quant_core::Cash(Decimal::ZERO),
        }
    }

    fn rep_fill(id: OrderId, units: i64, price: i64, fid: &str) -> Report {
        Report::Fill {
            fill: fill(id, units, price),
            fill_id: Some(fid.into()),
            complete: None,
            cut: None,
        }
    }

    #[test]
    fn ids_are_deterministic_per_day_and_resolve_both_ways() {
        let mut oms = Oms::new(Some("smac")).unwrap();
        let a = oms
            .create(order(Side::Buy, 100, OrderType::Market), day())
            .unwrap();
        let b = oms
            .create(order(Side::Buy, 100, OrderType::Market), day())
            .unwrap();
        let next: NaiveDate = "2024-01-03".parse().unwrap();
        let c = oms
            .create(order(Side::Buy, 100, OrderType::Market), next)
            .unwrap();
        let cid = |id| oms.get(id).unwrap().client_id.clone().unwrap().to_string();
        assert_eq!(cid(a), "smac-20240102-000001");
        assert_eq!(cid(b), "smac-20240102-000002");
        assert_eq!(cid(c), "smac-20240103-000001");
        let found = oms.by_client_id(&ClientOrderId::parse("smac-20240102-000002").unwrap());
        assert_eq!(found, Some(b));
        oms.apply(
            Report::Accepted {
                id: a,
                venue_id: Some("V77".into()),
            },
            day(),
        )
        .unwrap();
        assert_eq!(oms.by_venue_id("V77"), Some(a));
        assert!(Oms::new(Some("bad tag")).is_err());
    }

    /// Partial fills, a late fill after a cancel request, a duplicate push
    /// of the same fill, an acknowledgement arriving after the first fill.
    #[test]
    fn late_duplicate_and_out_of_order_reports() {
        let mut oms = Oms::new(None).unwrap();
        let id = oms
            .create(order(Side::Buy, 300, OrderType::Market), day())
            .unwrap();
        let r = oms.apply(rep_fill(id, 100, 10, "f1"), day()).unwrap();
        assert!(matches!(r, Outcome::Applied(ref a) if matches!(a[0], Action::Book(_))));
        assert_eq!(oms.get(id).unwrap().status, OrderStatus::PartiallyFilled);
        // the acknowledgement comes after the first fill: stale
        let r = oms
            .apply(Report::Accepted { id, venue_id: None }, day())
            .unwrap();
        assert_eq!(r, Outcome::Stale);
        // the same fill pushed again after a reconnect: a duplicate
        assert_eq!(
            oms.apply(rep_fill(id, 100, 10, "f1"), day()).unwrap(),
            Outcome::Duplicate
        );
        oms.request_cancel(id, day()).unwrap();
        // a fill racing the cancel
        oms.apply(rep_fill(id, 100, 11, "f2"), day()).unwrap();
        assert_eq!(oms.get(id).unwrap().status, OrderStatus::PendingCancel);
        oms.apply(Report::Cancelled { id }, day()).unwrap();
        let o = oms.get(id).unwrap();
        assert_eq!(o.status, OrderStatus::Cancelled);
        assert_eq!(o.filled, Quantity(Decimal::from(200)));
        assert_eq!(o.avg_price, Some(Price(Decimal::new(105, 1))));
        assert_eq!(o.reason, Some(RejectReason::Cancelled));
        // a second cancel confirmation: stale, nothing changes
        assert_eq!(
            oms.apply(Report::Cancelled { id }, day()).unwrap(),
            Outcome::Stale
        );
        // a fill after the cancel was confirmed is a real error
        let e = oms.apply(rep_fill(id, 100, 11, "f3"), day()).unwrap_err();
        assert!(e.to_string().contains("cancelled"), "{e}");
    }

    #[test]
    fn an_unknown_submit_is_resolved_by_a_status_query() {
        let mut oms = Oms::new(None).unwrap();
        let id = oms
            .create(order(Side::Buy, 100, OrderType::Market), day())
            .unwrap();
        oms.apply(Report::TimedOut { id }, day()).unwrap();
        assert_eq!(oms.get(id).unwrap().status, OrderStatus::Unknown);
        oms.apply(
            Report::Status {
                id,
                status: OrderStatus::Accepted,
            },
            day(),
        )
        .unwrap();
        assert_eq!(oms.get(id).unwrap().status, OrderStatus::Accepted);
        // a status that is no news is stale
        let r = oms
            .apply(
                Report::Status {
                    id,
                    status: OrderStatus::Accepted,
                },
                day(),
            )
            .unwrap();
        assert_eq!(r, Outcome::Stale);
    }

    #[test]
    fn oco_and_brackets() {
        let mut oms = Oms::new(None).unwrap();
        let entry = oms
            .create(order(Side::Buy, 200, OrderType::Market), day())
            .unwrap();
        let tp = oms
            .create(
                order(Side::Sell, 0, OrderType::Limit(Price(Decimal::from(12)))),
                day(),
            )
            .unwrap();
        let sl = oms
            .create(
                order(Side::Sell, 0, OrderType::Stop(Price(Decimal::from(9)))),
                day(),
            )
            .unwrap();
        oms.link_bracket(entry, &[tp, sl]).unwrap();
        assert!(oms.is_held(tp) && oms.is_held(sl));
        let r = oms.apply(rep_fill(entry, 200, 10, "e1"), day()).unwrap();
        let Outcome::Applied(actions) = r else {
            panic!()
        };
        assert_eq!(actions[1..], [Action::Submit(tp), Action::Submit(sl)]);
        assert!(!oms.is_held(tp));
        assert_eq!(
            oms.get(sl).unwrap().requested,
            OrderQty::Units(Quantity(Decimal::from(200)))
        );
        oms.apply(
            Report::Accepted {
                id: tp,
                venue_id: None,
            },
            day(),
        )
        .unwrap();
        oms.apply(
            Report::Accepted {
                id: sl,
                venue_id: None,
            },
            day(),
        )
        .unwrap();
        // the take-profit fills: the stop-loss is cancelled
        let mut f = fill(tp, 200, 12);
        f.side = Side::Sell;
        let r = oms
            .apply(
                Report::Fill {
                    fill: f,
                    fill_id: None,
                    complete: None,
                    cut: None,
                },
                day(),
            )
            .unwrap();
        let Outcome::Applied(actions) = r else {
            panic!()
        };
        assert_eq!(actions[1..], [Action::Cancel(sl)]);

        // a plain OCO pair
        let a = oms
            .create(order(Side::Sell, 100, OrderType::Market), day())
            .unwrap();
        let b = oms
            .create(order(Side::Sell, 100, OrderType::Market), day())
            .unwrap();
        oms.link_oco(&[a, b]).unwrap();
        let r = oms.apply(rep_fill(a, 50, 10, "x"), day()).unwrap();
        let Outcome::Applied(actions) = r else {
            panic!()
        };
        assert_eq!(actions[1..], [Action::Cancel(b)]);
    }

    #[test]
    fn value_orders_size_to_whole_lots_at_the_decision() {
        let q = units_for_value(
            Decimal::from(100_000),
            Price(Decimal::new(1695, 2)),
            Decimal::from(100),
        );
        assert_eq!(q, Quantity(Decimal::from(5800)));
        assert_eq!(
            units_for_value(
                Decimal::from(10),
                Price(Decimal::from(20)),
                Decimal::from(100)
            ),
            Quantity::ZERO
        );
    }
}
