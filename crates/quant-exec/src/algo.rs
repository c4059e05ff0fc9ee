//! Execution algorithms: a parent order worked as child orders
//! (`shared/docs/runtime.md`, "Orders and the OMS": "TWAP (slices over a
//! window), iceberg (visible clip), volume participation cap").
//!
//! Pure, deterministic and event-driven: no clock, no random source. The
//! caller says what time it is ([`Algo::on_bar`] with `t`, a value of any
//! monotone clock of its choosing — a bar index or nanoseconds since the
//! epoch, the same units as [`Twap::start`] and [`Twap::end`]) and passes
//! on the reports of the children ([`Algo::on_child_report`]); the
//! algorithm answers with [`AlgoAction`]s.
//!
//! # Parent and children
//!
//! The parent is an order of the OMS in units (`OrderQty::Units`) that is
//! never sent: the algorithm acknowledges it locally
//! ([`AlgoAction::Parent`] with `Accepted`). Each child is a new order of
//! the OMS, made by the caller's `create` function from the
//! [`Order`] the algorithm builds (the parent's instrument, symbol and
//! side; its own type, size and time in force) and sent to the venue
//! ([`AlgoAction::Submit`]); the algorithm keeps the child's id, which is
//! the link. The child's reports go through the OMS as any order's (its
//! fills are booked once, as the child's); applied ones are passed on to
//! [`Algo::on_child_report`], which mirrors each fill onto the parent
//! ([`AlgoAction::ParentFill`], applied with
//! [`crate::oms::Oms::apply_parent_fill`], which moves the parent without
//! booking the fill again). So the parent's filled quantity is always the
//! sum of its children's fills, and the parent goes to `Filled` with the
//! fill that completes it. A report over the book counts either the
//! parent or its children ([`Algos::parent_of`]), never both.
//!
//! # Lots
//!
//! Sizes follow quant-core's lot rules ([`MarketRules::round_buy`]: A-share
//! board lots of 100; STAR at least 200, then 1-share steps; BSE at least
//! 100; US whole shares; crypto multiples of the lot). A buy parent must be
//! a valid lot; a sell parent may hold an odd lot (A-shares sell an odd lot
//! only with the whole position), which only its last child carries. Every
//! other child is a valid lot and leaves a rest that is still a valid lot
//! (or nothing): on STAR a 450-share parent is never cut into 300 + 150.
//! A rest that no valid lot can carry (a buy's 150 STAR shares left after
//! partial fills) is never sent and the parent ends without it.
//!
//! # TWAP ([`Twap`])
//!
//! - Slice `k` (0-based) of `n` is due at `start + ⌊k (end − start) / n⌋`;
//!   every slice due by `t` (and before `end`) is placed at once, as one
//!   child.
//! - Planned sizes: `n − 1` equal slices of `⌊P / n⌋` rounded down to lots,
//!   the rounding remainder (and a sell's odd lot) in the last slice, so the
//!   plan sums exactly to the parent's size `P`.
//! - Carry-over: each child is sized to the schedule — the planned total
//!   due so far minus what has filled and what is still working — so the
//!   unfilled rest of a child that ended (expired, rejected, cut) is added
//!   to the next slice; a child still working keeps working and its leaves
//!   count as sent (nothing is sent twice). The last slice sends everything
//!   not filled nor working.
//! - The children have the parent's type (market, or limit at the
//!   parent's limit) and [`Twap::child_tif`].
//! - Participation ([`Twap::participation`]): a slice is at most that share
//!   of the volume of the bar the caller passes (the bar just closed, the
//!   estimate of the next), through [`max_fill_units`]; what is capped
//!   carries to the next slice.
//! - At `end` the window closes: working children are cancelled, and once
//!   none works, whatever has not filled is sent as one final market order
//!   ([`AtEnd::Market`], not capped) or the parent expires with it
//!   ([`AtEnd::Expire`]). The window, not the parent's time in force,
//!   bounds a TWAP.
//!
//! # Iceberg ([`Iceberg`])
//!
//! A limit parent shown [`Iceberg::visible`] units at a time: the first clip
//! at the start, each next clip when the one before has **filled
//! completely**; the last clip is the remainder. Clips are limit orders at
//! the parent's limit with the parent's time in force, and never show more
//! than `visible` (on STAR a clip may be smaller, so that the rest stays a
//! valid lot). A clip that ends without filling (expired at the end of its
//! day, rejected, cancelled) ends the parent with it: expired (or rejected
//! with the clip's reason when nothing filled, cancelled when the clip
//! was cancelled).
//!
//! # Cancel
//!
//! [`Algo::cancel`] stops placing children, cancels the working ones and
//! cancels the parent once none works; fills that race the cancels still
//! count.
//!
//! # Journal
//!
//! [`Algo`] and [`Algos`] are `serde`; restored, they place the same
//! children as the ones that never stopped.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use quant_core::{
    Bar, Fill, Instrument, InstrumentIndex, MarketRules, Order, OrderId, OrderQty, OrderStatus,
    OrderType, Price, Quantity, RejectReason, Side, TimeInForce,
};

use crate::error::{Error, Result};
use crate::fill::{LotSide, Participation, max_fill_units};
use crate::oms::Report;

/// Most slices of one TWAP.
pub const MAX_SLICES: u32 = 100_000;

/// Most lot steps a child is shrunk by to leave a valid rest (STAR needs at
/// most 199).
const MAX_FIT_STEPS: usize = 1_000;

/// What a TWAP does with what has not filled when its window closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtEnd {
    /// Send it as one final market order (default).
    #[default]
    Market,
    /// Let it expire: the parent ends expired with the rest unfilled.
    Expire,
}

/// Time-weighted slices over a window (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Twap {
    /// When the first slice is due (the caller's clock: bar index or
    /// nanoseconds).
    pub start: u64,
    /// When the window closes (same clock; after `start`).
    pub end: u64,
    /// Number of slices, 1 to [`MAX_SLICES`].
    pub slices: u32,
    /// What happens to the rest at `end`.
    #[serde(default)]
    pub at_end: AtEnd,
    /// Largest share of a bar's volume one slice takes (`None`: no cap).
    #[serde(default)]
    pub participation: Option<Participation>,
    /// Time in force of the slices (default DAY).
    #[serde(default)]
    pub child_tif: TimeInForce,
}

/// A limit order shown a clip at a time (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Iceberg {
    /// Units shown at once (a valid lot), shares or coins.
    pub visible: Quantity,
}

/// Which algorithm works a parent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlgoSpec {
    /// Time-weighted slices.
    Twap(Twap),
    /// Visible clips of a limit order.
    Iceberg(Iceberg),
}

/// What the caller does for an algorithm.
#[derive(Debug, Clone, PartialEq)]
pub enum AlgoAction {
    /// Send child order `id` (already in the OMS, made by `create`).
    Submit(OrderId),
    /// Cancel working child order `id` at the venue (after
    /// [`crate::oms::Oms::request_cancel`]).
    Cancel(OrderId),
    /// Apply this local report to the parent in the OMS (`Accepted` at the
    /// start; `Expired`, `Rejected` or `Cancelled` at the end).
    Parent(Report),
    /// A child's fill, re-addressed to the parent
    /// ([`Fill::order_id`] is the parent's): apply it with
    /// [`crate::oms::Oms::apply_parent_fill`] (not booked again).
    ParentFill(Fill),
}

/// The caller's function that adds a child to the OMS and returns its id
/// (`|o| oms.create(o, day)`).
pub type CreateChild<'a> = dyn FnMut(Order) -> Result<OrderId> + 'a;

/// One child order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Child {
    id: OrderId,
    size: Quantity,
    filled: Quantity,
    open: bool,
    /// A cancel was asked for.
    cancel_sent: bool,
}

/// Where an algorithm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    /// Placing children.
    Working,
    /// A TWAP's window closed: waiting for its working children to end.
    Closing,
    /// A TWAP's final market order is out.
    Final,
    /// Cancelled: waiting for the working children to end.
    Cancelling,
    /// Finished.
    Done,
}

/// Why the parent ends (when it does not fill).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Expired,
    Cancelled,
    Rejected(RejectReason),
}

/// One parent worked by an algorithm (see the module docs). Serialisable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Algo {
    /// The parent as it was started.
    parent: Order,
    spec: AlgoSpec,
    rules: MarketRules,
    instrument: Instrument,
    /// The parent's size.
    total: Quantity,
    /// A sell parent's odd lot (carried by the last child).
    odd: Quantity,
    /// A TWAP's planned slice (every slice but the last).
    base: Quantity,
    /// TWAP slices placed (due) so far.
    placed: u32,
    children: Vec<Child>,
    filled: Quantity,
    filled_value: Decimal,
    stage: Stage,
    started: bool,
}

fn setting(key: &str, value: String, expected: &str) -> Error {
    Error::Setting {
        key: key.into(),
        value,
        expected: expected.into(),
    }
}

impl Algo {
    /// An algorithm working `parent` by `spec` under `rules` for
    /// `instrument` (the lot rules; `instrument` is the parent's).
    ///
    /// # Errors
    /// [`Error::Order`] for a parent that is not in `PendingSubmit`
    /// without fills, is not sized in units above 0, is a buy that is not a
    /// valid lot, or (TWAP) is neither a market nor a limit order or
    /// (iceberg) not a limit order; [`Error::Setting`] for `twap.slices`
    /// outside 1 to [`MAX_SLICES`], `twap.end` not after `twap.start`, or
    /// `iceberg.visible` that is not a valid lot.
    pub fn new(
        parent: &Order,
        spec: AlgoSpec,
        rules: &MarketRules,
        instrument: &Instrument,
    ) -> Result<Self> {
        let bad = |message: String| Error::Order {
            id: parent.id.0,
            message,
        };
        if parent.status != OrderStatus::PendingSubmit || parent.filled.0 > Decimal::ZERO {
            return Err(bad(format!(
                "only an order not yet sent can be worked by an algorithm (it is {})",
                parent.status.as_str()
            )));
        }
        let total = match parent.requested {
            OrderQty::Units(q) if q.0 > Decimal::ZERO => q,
            other => {
                return Err(bad(format!(
                    "an algorithm works a size in units above 0, not {other:?}"
                )));
            }
        };
        let lots = rules.round_buy(instrument, total);
        if parent.side == Side::Buy && lots != total {
            return Err(bad(format!(
                "a buy of {total} units of {} is not a valid lot",
                instrument.symbol.as_str()
            )));
        }
        let odd = total - lots;
        let base = match spec {
            AlgoSpec::Twap(t) => {
                if !matches!(parent.order_type, OrderType::Market | OrderType::Limit(_)) {
                    return Err(bad(format!(
                        "a TWAP slices a market or limit order, not a {} order",
                        parent.order_type.as_str()
                    )));
                }
                if t.slices == 0 || t.slices > MAX_SLICES {
                    return Err(setting(
                        "twap.slices",
                        t.slices.to_string(),
                        &format!("must lie in [1, {MAX_SLICES}]"),
                    ));
                }
                if t.end <= t.start {
                    return Err(setting(
                        "twap.end",
                        t.end.to_string(),
                        &format!("must be after twap.start = {}", t.start),
                    ));
                }
                rules.round_buy(instrument, Quantity(lots.0 / Decimal::from(t.slices)))
            }
            AlgoSpec::Iceberg(i) => {
                if !matches!(parent.order_type, OrderType::Limit(_)) {
                    return Err(bad(format!(
                        "an iceberg shows a limit order, not a {} order",
                        parent.order_type.as_str()
                    )));
                }
                if i.visible.0 <= Decimal::ZERO
                    || rules.round_buy(instrument, i.visible) != i.visible
                {
                    return Err(setting(
                        "iceberg.visible",
                        i.visible.to_string(),
                        &format!(
                            "must be a valid lot of {} (units)",
                            instrument.symbol.as_str()
                        ),
                    ));
                }
                Quantity::ZERO
            }
        };
        Ok(Self {
            parent: parent.clone(),
            spec,
            rules: rules.clone(),
            instrument: instrument.clone(),
            total,
            odd,
            base,
            placed: 0,
            children: Vec::new(),
            filled: Quantity::ZERO,
            filled_value: Decimal::ZERO,
            stage: Stage::Working,
            started: false,
        })
    }

    /// The parent's id.
    pub fn parent(&self) -> OrderId {
        self.parent.id
    }

    /// The parent's instrument.
    pub fn instrument(&self) -> InstrumentIndex {
        self.parent.instrument
    }

    /// The algorithm.
    pub fn spec(&self) -> &AlgoSpec {
        &self.spec
    }

    /// The parent's size (units).
    pub fn total(&self) -> Quantity {
        self.total
    }

    /// Units filled so far: the sum of the children's fills.
    pub fn filled(&self) -> Quantity {
        self.filled
    }

    /// Volume-weighted average fill price of the children (quote currency,
    /// 8 decimal places), `None` before the first fill.
    pub fn avg_price(&self) -> Option<Price> {
        if self.filled.0 <= Decimal::ZERO {
            return None;
        }
        self.filled_value
            .checked_div(self.filled.0)
            .map(|p| Price(p.round_dp(8)))
    }

    /// Units of the children still working (their leaves).
    pub fn working(&self) -> Quantity {
        self.children
            .iter()
            .filter(|c| c.open)
            .map(|c| pos(c.size - c.filled))
            .sum()
    }

    /// The children's ids, in the order they were placed.
    pub fn children(&self) -> impl Iterator<Item = OrderId> + '_ {
        self.children.iter().map(|c| c.id)
    }

    /// True once the algorithm has finished (filled, expired, cancelled):
    /// it places nothing more and no child works.
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// The TWAP time of slice `k` (0-based).
    fn slice_time(t: &Twap, k: u32) -> u64 {
        let span = u128::from(t.end - t.start);
        let off = span * u128::from(k) / u128::from(t.slices.max(1));
        t.start
            .saturating_add(u64::try_from(off).unwrap_or(u64::MAX))
    }

    fn valid(&self, q: Quantity) -> bool {
        q.0 > Decimal::ZERO && self.rules.round_buy(&self.instrument, q) == q
    }

    /// Units neither filled nor working.
    fn unsent(&self) -> Quantity {
        pos(self.total - self.filled - self.working())
    }

    /// A child other than the last: the largest valid lot at most `want`
    /// (and at most the lots not yet sent) that leaves a rest of lots that
    /// is nothing or a valid lot; zero when there is none.
    fn fit(&self, want: Quantity) -> Quantity {
        let lots = pos(self.unsent() - self.odd);
        let mut c = self.rules.round_buy(&self.instrument, want.min(lots));
        let step = self.rules.buy_step(&self.instrument);
        for _ in 0..MAX_FIT_STEPS {
            let rest = lots - c;
            if c.is_zero() || rest.is_zero() || self.valid(rest) {
                return c;
            }
            c = self.rules.round_buy(&self.instrument, c - step);
        }
        Quantity::ZERO
    }

    /// The last child: everything not sent — a sell whole (with its odd
    /// lot), a buy rounded down to a valid lot.
    fn last_size(&self) -> Quantity {
        let r = self.unsent();
        match self.parent.side {
            Side::Sell => r,
            Side::Buy => self.rules.round_buy(&self.instrument, r),
        }
    }

    /// A TWAP slice `c` capped by participation of `volume` (the rest
    /// carries).
    fn cap(
        &self,
        c: Quantity,
        last: bool,
        volume: Option<f64>,
        p: Option<Participation>,
    ) -> Quantity {
        let (Some(p), Some(v)) = (p, volume) else {
            return c;
        };
        if c.is_zero() {
            return c;
        }
        let side = match self.parent.side {
            Side::Sell if last => LotSide::Sell { sellable: c },
            _ => LotSide::Buy,
        };
        let capped = max_fill_units(c, v, p, &self.rules, &self.instrument, side);
        if capped >= c { c } else { self.fit(capped) }
    }

    fn place(
        &mut self,
        size: Quantity,
        order_type: OrderType,
        tif: TimeInForce,
        day: NaiveDate,
        create: &mut CreateChild<'_>,
        out: &mut Vec<AlgoAction>,
    ) -> Result<()> {
        if size.0 <= Decimal::ZERO {
            return Ok(());
        }
        let p = &self.parent;
        let o = Order::new(
            OrderId(0),
            p.instrument,
            p.symbol.clone(),
            p.side,
            order_type,
            OrderQty::Units(size),
            day,
        )
        .with_tif(tif);
        let id = create(o)?;
        self.children.push(Child {
            id,
            size,
            filled: Quantity::ZERO,
            open: true,
            cancel_sent: false,
        });
        out.push(AlgoAction::Submit(id));
        Ok(())
    }

    fn finish(&mut self, end: End, out: &mut Vec<AlgoAction>) {
        self.stage = Stage::Done;
        if self.filled >= self.total {
            return;
        }
        let id = self.parent.id;
        out.push(AlgoAction::Parent(match end {
            End::Cancelled => Report::Cancelled { id },
            // a parent with fills cannot be rejected: it expires
            End::Rejected(reason) if self.filled.is_zero() => Report::Rejected { id, reason },
            End::Rejected(_) | End::Expired => Report::Expired { id },
        }));
    }

    /// Starts the algorithm at time `t` on trading day `day` (the decision
    /// bar, of `volume` units when known): acknowledges the parent locally
    /// and places what is due now (an iceberg's first clip; a TWAP's
    /// slices due by `t`, as [`Algo::on_bar`]). Children are added to the
    /// OMS by `create`.
    ///
    /// # Errors
    /// Whatever `create` returns (nothing is placed after it).
    pub fn start(
        &mut self,
        t: u64,
        volume: Option<f64>,
        day: NaiveDate,
        create: &mut CreateChild<'_>,
    ) -> Result<Vec<AlgoAction>> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out.push(AlgoAction::Parent(Report::Accepted {
                id: self.parent.id,
                venue_id: None,
            }));
            if let (AlgoSpec::Iceberg(i), Stage::Working) = (self.spec, self.stage) {
                self.next_clip(i, day, create, &mut out)?;
            }
        }
        out.extend(self.on_bar(t, volume, day, create)?);
        Ok(out)
    }

    /// A bar has closed at time `t` (the caller's clock) on trading day
    /// `day`, with `volume` units traded in the instrument when known (the
    /// participation cap's reference; `Some(0.0)` for a suspended
    /// instrument): a TWAP places the slices due by `t` and closes its
    /// window at `end`; an iceberg does nothing (it moves on fills).
    ///
    /// # Errors
    /// Whatever `create` returns.
    pub fn on_bar(
        &mut self,
        t: u64,
        volume: Option<f64>,
        day: NaiveDate,
        create: &mut CreateChild<'_>,
    ) -> Result<Vec<AlgoAction>> {
        let mut out = Vec::new();
        let AlgoSpec::Twap(tw) = self.spec else {
            return Ok(out);
        };
        if self.stage != Stage::Working || !self.started {
            return Ok(out);
        }
        if t >= tw.end {
            self.close_window(tw, day, create, &mut out)?;
            return Ok(out);
        }
        let before = self.placed;
        while self.placed < tw.slices && t >= Self::slice_time(&tw, self.placed) {
            self.placed += 1;
        }
        if self.placed == before || self.filled >= self.total {
            return Ok(out);
        }
        let last = self.placed == tw.slices;
        let c = if last {
            self.last_size()
        } else {
            let planned = self
                .base
                .0
                .checked_mul(Decimal::from(self.placed))
                .unwrap_or(self.total.0);
            let due = pos(Quantity(planned) - self.filled - self.working());
            self.fit(due)
        };
        let c = self.cap(c, last, volume, tw.participation);
        self.place(
            c,
            self.parent.order_type,
            tw.child_tif,
            day,
            create,
            &mut out,
        )?;
        Ok(out)
    }

    /// The working children not yet asked to cancel, now asked.
    fn cancel_open(&mut self) -> Vec<OrderId> {
        let mut ids = Vec::new();
        for c in &mut self.children {
            if c.open && !c.cancel_sent {
                c.cancel_sent = true;
                ids.push(c.id);
            }
        }
        ids
    }

    fn close_window(
        &mut self,
        tw: Twap,
        day: NaiveDate,
        create: &mut CreateChild<'_>,
        out: &mut Vec<AlgoAction>,
    ) -> Result<()> {
        self.stage = Stage::Closing;
        let open = self.cancel_open();
        out.extend(open.into_iter().map(AlgoAction::Cancel));
        if self.children.iter().any(|c| c.open) {
            Ok(())
        } else {
            self.after_window(tw, day, create, out)
        }
    }

    /// The window has closed and no child works: the final market order,
    /// or the end.
    fn after_window(
        &mut self,
        tw: Twap,
        day: NaiveDate,
        create: &mut CreateChild<'_>,
        out: &mut Vec<AlgoAction>,
    ) -> Result<()> {
        let c = self.last_size();
        if tw.at_end == AtEnd::Market && c.0 > Decimal::ZERO && self.filled < self.total {
            self.stage = Stage::Final;
            self.place(c, OrderType::Market, tw.child_tif, day, create, out)
        } else {
            self.finish(End::Expired, out);
            Ok(())
        }
    }

    fn next_clip(
        &mut self,
        i: Iceberg,
        day: NaiveDate,
        create: &mut CreateChild<'_>,
        out: &mut Vec<AlgoAction>,
    ) -> Result<()> {
        let r = self.unsent();
        let clip = if r <= i.visible {
            self.last_size()
        } else {
            match self.fit(i.visible) {
                c if c.is_zero() => self
                    .rules
                    .round_buy(&self.instrument, i.visible.min(pos(r - self.odd))),
                c => c,
            }
        };
        if clip.is_zero() {
            // nothing valid is left to show
            self.finish(End::Expired, out);
            return Ok(());
        }
        self.place(
            clip,
            self.parent.order_type,
            self.parent.tif,
            day,
            create,
            out,
        )
    }

    /// A report about one of the children, as the OMS applied it
    /// ([`crate::oms::Outcome::Applied`] only: duplicates and stale
    /// reports are not passed on) on trading day `day`: a fill is mirrored
    /// onto the parent; an iceberg places its next clip when a clip has
    /// filled; an ended child lets a closing TWAP send its final order and
    /// a cancelled algorithm end. Reports about other orders give nothing.
    ///
    /// # Errors
    /// [`Error::Order`] for a fill that overflows the decimal range;
    /// whatever `create` returns.
    pub fn on_child_report(
        &mut self,
        report: &Report,
        day: NaiveDate,
        create: &mut CreateChild<'_>,
    ) -> Result<Vec<AlgoAction>> {
        let mut out = Vec::new();
        let id = report.order();
        let Some(k) = self.children.iter().position(|c| c.id == id) else {
            return Ok(out);
        };
        let mut ended = None;
        match report {
            Report::Fill { fill, complete, .. } => {
                let overflow = || Error::Order {
                    id: self.parent.id.0,
                    message: format!("the fill of child {id} overflows the decimal range"),
                };
                let q = fill.quantity.0;
                let value = fill
                    .price
                    .0
                    .checked_mul(q)
                    .and_then(|v| self.filled_value.checked_add(v))
                    .ok_or_else(overflow)?;
                let total = self.filled.0.checked_add(q).ok_or_else(overflow)?;
                let child = &mut self.children[k];
                child.filled = Quantity(child.filled.0.checked_add(q).ok_or_else(overflow)?);
                if complete.unwrap_or(child.filled >= child.size) {
                    child.open = false;
                }
                self.filled = Quantity(total);
                self.filled_value = value;
                let mut f = fill.clone();
                f.order_id = self.parent.id;
                out.push(AlgoAction::ParentFill(f));
            }
            Report::Rejected { reason, .. } => ended = Some(End::Rejected(*reason)),
            Report::Expired { .. } => ended = Some(End::Expired),
            Report::Cancelled { .. } => ended = Some(End::Cancelled),
            Report::Status { status, .. } => match status {
                // the reason is in the OMS's record of the child
                OrderStatus::Rejected | OrderStatus::Expired => ended = Some(End::Expired),
                OrderStatus::Cancelled => ended = Some(End::Cancelled),
                OrderStatus::Filled => self.children[k].open = false,
                _ => {}
            },
            _ => {}
        }
        if ended.is_some() {
            self.children[k].open = false;
        }
        let child_closed = !self.children[k].open;
        let any_open = self.children.iter().any(|c| c.open);
        if self.stage == Stage::Done || !child_closed {
            return Ok(out);
        }
        if self.filled >= self.total {
            self.stage = Stage::Done;
            return Ok(out);
        }
        match (self.stage, self.spec) {
            (Stage::Cancelling, _) if !any_open => self.finish(End::Cancelled, &mut out),
            (Stage::Closing, AlgoSpec::Twap(tw)) if !any_open => {
                self.after_window(tw, day, create, &mut out)?;
            }
            (Stage::Final, _) if !any_open => self.finish(End::Expired, &mut out),
            (Stage::Working, AlgoSpec::Iceberg(i)) => {
                let c = &self.children[k];
                if c.filled >= c.size {
                    self.next_clip(i, day, create, &mut out)?;
                } else {
                    // a clip that ended short ends the parent
                    self.finish(ended.unwrap_or(End::Expired), &mut out);
                }
            }
            _ => {}
        }
        Ok(out)
    }

    /// Cancels the algorithm (after [`crate::oms::Oms::request_cancel`] on
    /// the parent): no more children; the working ones are cancelled, and
    /// the parent is cancelled once none works (at once when none does).
    pub fn cancel(&mut self) -> Vec<AlgoAction> {
        let mut out = Vec::new();
        if self.stage == Stage::Done {
            return out;
        }
        self.stage = Stage::Cancelling;
        let open = self.cancel_open();
        out.extend(open.into_iter().map(AlgoAction::Cancel));
        if !self.children.iter().any(|c| c.open) {
            self.finish(End::Cancelled, &mut out);
        }
        out
    }
}

/// `q` when positive, else zero.
fn pos(q: Quantity) -> Quantity {
    if q.0 > Decimal::ZERO {
        q
    } else {
        Quantity::ZERO
    }
}

/// Every running algorithm of a session, with the link child → parent.
/// Serialisable: part of the engine's snapshot. Finished algorithms are
/// dropped (the OMS keeps the parent's and the children's records).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Algos {
    running: BTreeMap<OrderId, Algo>,
    parent_of: BTreeMap<OrderId, OrderId>,
}

impl Algos {
    /// No algorithm running.
    pub fn new() -> Self {
        Self::default()
    }

    /// The running algorithm of parent `parent`.
    pub fn get(&self, parent: OrderId) -> Option<&Algo> {
        self.running.get(&parent)
    }

    /// The parent of child order `child`, while its algorithm runs.
    pub fn parent_of(&self, child: OrderId) -> Option<OrderId> {
        self.parent_of.get(&child).copied()
    }

    /// Whether `id` is the parent of a running algorithm.
    pub fn is_parent(&self, id: OrderId) -> bool {
        self.running.contains_key(&id)
    }

    /// Number of running algorithms.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// True when none runs.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    fn track(&mut self, parent: OrderId, actions: &[AlgoAction]) {
        for a in actions {
            if let AlgoAction::Submit(c) = a {
                self.parent_of.insert(*c, parent);
            }
        }
        if self.running.get(&parent).is_some_and(Algo::is_done)
            && let Some(algo) = self.running.remove(&parent)
        {
            for c in algo.children() {
                self.parent_of.remove(&c);
            }
        }
    }

    /// Starts `algo` ([`Algo::start`] at time `t` on `day`, `volume` the
    /// decision bar's).
    ///
    /// # Errors
    /// [`Error::Order`] when its parent already runs; whatever `create`
    /// returns.
    pub fn start(
        &mut self,
        mut algo: Algo,
        t: u64,
        volume: Option<f64>,
        day: NaiveDate,
        create: &mut CreateChild<'_>,
    ) -> Result<Vec<AlgoAction>> {
        let parent = algo.parent();
        if self.running.contains_key(&parent) {
            return Err(Error::Order {
                id: parent.0,
                message: "is already worked by an algorithm".into(),
            });
        }
        let out = algo.start(t, volume, day, create)?;
        self.running.insert(parent, algo);
        self.track(parent, &out);
        Ok(out)
    }

    /// The bars of trading day `day` have closed at time `t` (`bars`
    /// indexed by instrument; a missing or suspended bar is volume 0):
    /// [`Algo::on_bar`] for every running algorithm, in parent id order.
    ///
    /// # Errors
    /// Whatever `create` returns.
    pub fn on_bars(
        &mut self,
        t: u64,
        day: NaiveDate,
        bars: &[Option<Bar>],
        create: &mut CreateChild<'_>,
    ) -> Result<Vec<AlgoAction>> {
        let mut out = Vec::new();
        let parents: Vec<OrderId> = self.running.keys().copied().collect();
        for p in parents {
            let Some(algo) = self.running.get_mut(&p) else {
                continue;
            };
            let volume = bars
                .get(algo.instrument().get())
                .copied()
                .flatten()
                .map_or(0.0, |b| if b.is_suspended() { 0.0 } else { b.volume });
            let a = algo.on_bar(t, Some(volume), day, create)?;
            self.track(p, &a);
            out.extend(a);
        }
        Ok(out)
    }

    /// A report the OMS applied ([`crate::oms::Outcome::Applied`]): when it
    /// is about a child, [`Algo::on_child_report`] of its algorithm; else
    /// nothing.
    ///
    /// # Errors
    /// As [`Algo::on_child_report`].
    pub fn on_report(
        &mut self,
        report: &Report,
        day: NaiveDate,
        create: &mut CreateChild<'_>,
    ) -> Result<Vec<AlgoAction>> {
        let Some(p) = self.parent_of(report.order()) else {
            return Ok(Vec::new());
        };
        let Some(algo) = self.running.get_mut(&p) else {
            return Ok(Vec::new());
        };
        let out = algo.on_child_report(report, day, create)?;
        self.track(p, &out);
        Ok(out)
    }

    /// Cancels the algorithm of parent `parent` ([`Algo::cancel`]); nothing
    /// when none runs.
    pub fn cancel(&mut self, parent: OrderId) -> Vec<AlgoAction> {
        let Some(algo) = self.running.get_mut(&parent) else {
            return Vec::new();
        };
        let out = algo.cancel();
        self.track(parent, &out);
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use quant_core::{Cash, RuleSet, Symbol};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::oms::{Oms, Outcome};

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()
    }

    fn q(x: Decimal) -> Quantity {
        Quantity(x)
    }

    /// An algorithm over a real order book, with a hand-driven venue.
    struct Harness {
        oms: Oms,
        algo: Algo,
        submitted: Vec<OrderId>,
        cancelled: Vec<OrderId>,
        parent_reports: Vec<Report>,
    }

    impl Harness {
        fn new(symbol: &str, side: Side, ty: OrderType, size: Decimal, spec: AlgoSpec) -> Self {
            let inst = Instrument::infer(Symbol::new(symbol).unwrap(), false).unwrap();
            let rules = MarketRules::new(RuleSet::for_instrument(&inst));
            let mut oms = Oms::new(Some("algo")).unwrap();
            let o = Order::new(
                OrderId(0),
                InstrumentIndex(0),
                inst.symbol.clone(),
                side,
                ty,
                OrderQty::Units(q(size)),
                day(),
            )
            .with_tif(TimeInForce::Gtc);
            let id = oms.create(o, day()).unwrap();
            let algo = Algo::new(oms.get(id).unwrap(), spec, &rules, &inst).unwrap();
            Self {
                oms,
                algo,
                submitted: Vec::new(),
                cancelled: Vec::new(),
                parent_reports: Vec::new(),
            }
        }

        fn handle(&mut self, actions: Vec<AlgoAction>) {
            for a in actions {
                match a {
                    AlgoAction::Submit(id) => {
                        self.oms
                            .apply(Report::Accepted { id, venue_id: None }, day())
                            .unwrap();
                        self.submitted.push(id);
                    }
                    AlgoAction::Cancel(id) => {
                        self.oms.request_cancel(id, day()).unwrap();
                        self.cancelled.push(id);
                    }
                    AlgoAction::Parent(r) => {
                        self.oms.apply(r.clone(), day()).unwrap();
                        self.parent_reports.push(r);
                    }
                    AlgoAction::ParentFill(f) => {
                        let more = self.oms.apply_parent_fill(f, day()).unwrap();
                        assert!(more.is_empty());
                    }
                }
            }
        }

        fn start(&mut self, t: u64) {
            self.start_with(t, None);
        }

        fn start_with(&mut self, t: u64, volume: Option<f64>) {
            let oms = &mut self.oms;
            let a = self
                .algo
                .start(t, volume, day(), &mut |o| oms.create(o, day()))
                .unwrap();
            self.handle(a);
        }

        fn bar(&mut self, t: u64, volume: Option<f64>) {
            let oms = &mut self.oms;
            let a = self
                .algo
                .on_bar(t, volume, day(), &mut |o| oms.create(o, day()))
                .unwrap();
            self.handle(a);
        }

        /// The venue reports `r` (through the book first).
        fn report(&mut self, r: Report) {
            let applied = matches!(
                self.oms.apply(r.clone(), day()).unwrap(),
                Outcome::Applied(_)
            );
            assert!(applied, "{r:?}");
            let oms = &mut self.oms;
            let a = self
                .algo
                .on_child_report(&r, day(), &mut |o| oms.create(o, day()))
                .unwrap();
            self.handle(a);
        }

        /// Child `id` fills `units` at `price`.
        fn fill(&mut self, id: OrderId, units: Decimal, price: Decimal) {
            let o = self.oms.get(id).unwrap();
            let fill = Fill {
                order_id: id,
                date: day(),
                time: None,
                instrument: o.instrument,
                symbol: o.symbol.clone(),
                side: o.side,
                quantity: q(units),
                price: Price(price),
                commission: Cash(Decimal::ZERO),
                stamp_duty: Cash(Decimal::ZERO),
                transfer_fee: Cash(Decimal::ZERO),
            };
            self.report(Report::Fill {
                fill,
                fill_id: None,
                complete: None,
                cut: None,
            });
        }

        fn size(&self, id: OrderId) -> Decimal {
            match self.oms.get(id).unwrap().requested {
                OrderQty::Units(u) => u.0,
                _ => panic!(),
            }
        }

        fn sizes(&self) -> Vec<Decimal> {
            self.submitted.iter().map(|id| self.size(*id)).collect()
        }

        fn last(&self) -> OrderId {
            *self.submitted.last().unwrap()
        }

        fn parent(&self) -> &Order {
            self.oms.get(self.algo.parent()).unwrap()
        }
    }

    fn twap(start: u64, end: u64, slices: u32, at_end: AtEnd) -> AlgoSpec {
        AlgoSpec::Twap(Twap {
            start,
            end,
            slices,
            at_end,
            participation: None,
            child_tif: TimeInForce::Day,
        })
    }

    /// 1,000 shares in 3 slices over bars 0..6: 300, 300 and the remainder
    /// 400, due at bars 0, 2 and 4; each fills; the parent is filled by
    /// the last at the children's average price.
    #[test]
    fn twap_slices_sum_exactly_in_whole_lots() {
        let mut h = Harness::new(
            "600000.SH",
            Side::Buy,
            OrderType::Market,
            dec!(1000),
            twap(0, 6, 3, AtEnd::Market),
        );
        h.start(0);
        assert_eq!(h.parent().status, OrderStatus::Accepted);
        assert_eq!(h.sizes(), [dec!(300)]);
        h.fill(h.last(), dec!(300), dec!(10));
        h.bar(1, None);
        assert_eq!(h.submitted.len(), 1, "nothing due at bar 1");
        h.bar(2, None);
        h.fill(h.last(), dec!(300), dec!(11));
        h.bar(3, None);
        h.bar(4, None);
        assert_eq!(h.sizes(), [dec!(300), dec!(300), dec!(400)]);
        let child = h.oms.get(h.last()).unwrap().clone();
        assert_eq!(
            (child.side, child.order_type, child.tif),
            (Side::Buy, OrderType::Market, TimeInForce::Day)
        );
        h.fill(h.last(), dec!(400), dec!(12));
        assert!(h.algo.is_done());
        let p = h.parent();
        assert_eq!(p.status, OrderStatus::Filled);
        assert_eq!(p.filled, q(dec!(1000)));
        assert_eq!(p.avg_price, Some(Price(dec!(11.1))));
        assert_eq!(h.algo.avg_price(), Some(Price(dec!(11.1))));
        h.bar(6, None);
        assert_eq!(h.submitted.len(), 3, "done: nothing at the window's end");
        // STAR: 1-share steps above 200, the remainder in the last slice
        let mut h = Harness::new(
            "688001.SH",
            Side::Buy,
            OrderType::Market,
            dec!(1000),
            twap(0, 3, 3, AtEnd::Market),
        );
        for t in 0..3 {
            if t == 0 {
                h.start(0);
            } else {
                h.bar(t, None);
            }
            h.fill(h.last(), h.size(h.last()), dec!(50));
        }
        assert_eq!(h.sizes(), [dec!(333), dec!(333), dec!(334)]);
        // crypto: fractional lots
        let mut h = Harness::new(
            "BTC-USDT",
            Side::Sell,
            OrderType::Limit(Price(dec!(60000))),
            dec!(1),
            twap(0, 3, 3, AtEnd::Market),
        );
        h.start(0);
        h.bar(1, None);
        h.bar(2, None);
        assert_eq!(
            h.sizes(),
            [dec!(0.33333333), dec!(0.33333333), dec!(0.33333334)]
        );
        assert_eq!(
            h.oms.get(h.last()).unwrap().order_type,
            OrderType::Limit(Price(dec!(60000)))
        );
    }

    /// A slice that does not fill fully carries its rest to the next; a
    /// child still working is not sent again.
    #[test]
    fn twap_carries_unfilled_slices() {
        let mut h = Harness::new(
            "600000.SH",
            Side::Sell,
            OrderType::Market,
            dec!(1250),
            twap(0, 4, 4, AtEnd::Expire),
        );
        h.start(0);
        // 300 a slice; the sell's odd 50 goes with the last
        assert_eq!(h.sizes(), [dec!(300)]);
        let first = h.last();
        h.fill(first, dec!(100), dec!(10));
        h.report(Report::Expired { id: first });
        h.bar(1, None);
        assert_eq!(h.sizes(), [dec!(300), dec!(500)], "300 + the 200 left");
        // the second is still working at slice 3: only the new 300 goes
        h.fill(h.last(), dec!(200), dec!(10));
        h.bar(2, None);
        assert_eq!(h.sizes(), [dec!(300), dec!(500), dec!(300)]);
        h.report(Report::Rejected {
            id: h.last(),
            reason: RejectReason::LimitDown,
        });
        // the last slice: everything neither filled nor working (the 300
        // working in the second child stays out)
        h.bar(3, None);
        assert_eq!(h.algo.working(), q(dec!(950)));
        assert_eq!(h.size(h.last()), dec!(650));
        // the window closes: the working children are cancelled, then the
        // parent expires with what did not fill
        h.bar(4, None);
        assert_eq!(h.cancelled, [h.submitted[1], h.submitted[3]]);
        h.report(Report::Cancelled { id: h.submitted[1] });
        assert!(!h.algo.is_done());
        h.fill(h.submitted[3], dec!(650), dec!(9));
        assert!(h.algo.is_done());
        assert_eq!(
            h.parent_reports.last(),
            Some(&Report::Expired {
                id: h.algo.parent()
            })
        );
        let p = h.parent();
        assert_eq!((p.status, p.filled), (OrderStatus::Expired, q(dec!(950))));
    }

    #[test]
    fn twap_sends_the_rest_at_the_end_as_a_market_order() {
        let mut h = Harness::new(
            "600000.SH",
            Side::Buy,
            OrderType::Limit(Price(dec!(10))),
            dec!(600),
            twap(10, 12, 2, AtEnd::Market),
        );
        // before the window: nothing
        h.start(5);
        assert!(h.submitted.is_empty());
        h.bar(10, None);
        h.report(Report::Expired { id: h.last() });
        h.bar(11, None);
        assert_eq!(h.sizes(), [dec!(300), dec!(600)]);
        h.fill(h.last(), dec!(200), dec!(10));
        h.bar(12, None);
        assert_eq!(h.cancelled, [h.last()]);
        h.report(Report::Cancelled { id: h.last() });
        // the final market order, for what is left
        assert_eq!(h.sizes(), [dec!(300), dec!(600), dec!(400)]);
        assert_eq!(h.oms.get(h.last()).unwrap().order_type, OrderType::Market);
        h.fill(h.last(), dec!(400), dec!(10.2));
        assert!(h.algo.is_done());
        assert_eq!(h.parent().status, OrderStatus::Filled);
        // a window that closes before any slice: all of it at once
        let mut h = Harness::new(
            "600000.SH",
            Side::Buy,
            OrderType::Market,
            dec!(600),
            twap(0, 2, 2, AtEnd::Market),
        );
        h.start(9);
        assert_eq!(h.sizes(), [dec!(600)]);
    }

    /// Participation caps each slice at a share of the bar's volume; the
    /// rest carries.
    #[test]
    fn twap_participation_caps_slices() {
        let spec = AlgoSpec::Twap(Twap {
            start: 0,
            end: 2,
            slices: 2,
            at_end: AtEnd::Expire,
            participation: Some(Participation::new(0.1).unwrap()),
            child_tif: TimeInForce::Day,
        });
        let mut h = Harness::new("600000.SH", Side::Buy, OrderType::Market, dec!(2000), spec);
        // 1000 due, 10 % of 2,550 is 255 → 200
        h.start_with(0, Some(2_550.0));
        assert_eq!(h.sizes(), [dec!(200)]);
        h.fill(h.last(), dec!(200), dec!(10));
        h.bar(1, Some(50_000.0));
        assert_eq!(h.sizes(), [dec!(200), dec!(1800)], "the 800 capped carried");
        // a suspended bar (volume 0): nothing, all of it carries
        let mut h = Harness::new("600000.SH", Side::Buy, OrderType::Market, dec!(2000), spec);
        h.start_with(0, Some(0.0));
        assert!(h.submitted.is_empty());
        h.bar(1, None);
        assert_eq!(h.sizes(), [dec!(2000)], "no volume known: no cap");
    }

    /// An iceberg of 1,050 shown 300 at a time: a new clip only after the
    /// one before filled completely, the last the remainder.
    #[test]
    fn iceberg_shows_at_most_visible() {
        let limit = OrderType::Limit(Price(dec!(20)));
        let spec = AlgoSpec::Iceberg(Iceberg {
            visible: q(dec!(300)),
        });
        let mut h = Harness::new("600000.SH", Side::Sell, limit, dec!(1050), spec);
        h.start(0);
        assert_eq!(h.sizes(), [dec!(300)]);
        h.fill(h.last(), dec!(100), dec!(20));
        h.bar(1, None);
        assert_eq!(h.submitted.len(), 1, "a partly filled clip is not replaced");
        h.fill(h.last(), dec!(200), dec!(20.1));
        assert_eq!(h.sizes(), [dec!(300), dec!(300)]);
        h.fill(h.last(), dec!(300), dec!(20));
        h.fill(h.last(), dec!(300), dec!(20));
        assert_eq!(h.sizes(), [dec!(300), dec!(300), dec!(300), dec!(150)]);
        let clip = h.oms.get(h.last()).unwrap();
        assert_eq!((clip.order_type, clip.tif), (limit, TimeInForce::Gtc));
        h.fill(h.last(), dec!(150), dec!(20));
        assert!(h.algo.is_done());
        let p = h.parent();
        assert_eq!((p.status, p.filled), (OrderStatus::Filled, q(dec!(1050))));
        // a clip that expires ends the parent
        let mut h = Harness::new("600000.SH", Side::Buy, limit, dec!(900), spec);
        h.start(0);
        h.fill(h.last(), dec!(300), dec!(20));
        h.report(Report::Expired { id: h.last() });
        assert!(h.algo.is_done());
        assert_eq!(h.parent().status, OrderStatus::Expired);
        // rejected before anything filled: the parent is rejected too
        let mut h = Harness::new("600000.SH", Side::Buy, limit, dec!(900), spec);
        h.start(0);
        h.report(Report::Rejected {
            id: h.last(),
            reason: RejectReason::LimitNotReached,
        });
        let p = h.parent();
        assert_eq!(
            (p.status, p.reason),
            (OrderStatus::Rejected, Some(RejectReason::LimitNotReached))
        );
        // STAR: 450 shown 300 at a time is 250 + 200 (never 300 + 150)
        let spec = AlgoSpec::Iceberg(Iceberg {
            visible: q(dec!(300)),
        });
        let mut h = Harness::new("688001.SH", Side::Buy, limit, dec!(450), spec);
        h.start(0);
        h.fill(h.last(), h.size(h.last()), dec!(20));
        h.fill(h.last(), h.size(h.last()), dec!(20));
        assert_eq!(h.sizes(), [dec!(250), dec!(200)]);
        assert_eq!(h.parent().status, OrderStatus::Filled);
    }

    #[test]
    fn cancel_cancels_the_children_then_the_parent() {
        let mut h = Harness::new(
            "600000.SH",
            Side::Buy,
            OrderType::Market,
            dec!(1000),
            twap(0, 10, 5, AtEnd::Market),
        );
        h.start(0);
        h.fill(h.last(), dec!(100), dec!(10));
        let parent = h.algo.parent();
        h.oms.request_cancel(parent, day()).unwrap();
        let a = h.algo.cancel();
        h.handle(a);
        assert_eq!(h.cancelled, [h.last()]);
        // a fill racing the cancel still counts
        h.fill(h.last(), dec!(50), dec!(10));
        h.bar(2, None);
        assert_eq!(h.submitted.len(), 1, "nothing new after a cancel");
        h.report(Report::Cancelled { id: h.last() });
        assert!(h.algo.is_done());
        let p = h.parent();
        assert_eq!((p.status, p.filled), (OrderStatus::Cancelled, q(dec!(150))));
        assert!(h.algo.cancel().is_empty());
        // nothing working: cancelled at once
        let mut h = Harness::new(
            "600000.SH",
            Side::Buy,
            OrderType::Market,
            dec!(1000),
            twap(5, 10, 5, AtEnd::Market),
        );
        h.start(0);
        h.oms.request_cancel(h.algo.parent(), day()).unwrap();
        let a = h.algo.cancel();
        h.handle(a);
        assert_eq!(h.parent().status, OrderStatus::Cancelled);
    }

    #[test]
    fn refuses_what_it_cannot_work() {
        let inst = Instrument::infer(Symbol::new("600000.SH").unwrap(), false).unwrap();
        let rules = MarketRules::new(RuleSet::CnA);
        let o = |side, ty, qty| {
            Order::new(
                OrderId(1),
                InstrumentIndex(0),
                inst.symbol.clone(),
                side,
                ty,
                qty,
                day(),
            )
        };
        let units = |x: i64| OrderQty::Units(Quantity::from_units(x));
        let tw = twap(0, 5, 5, AtEnd::Market);
        let err = |o: Order, spec| Algo::new(&o, spec, &rules, &inst).unwrap_err().to_string();
        assert!(err(o(Side::Buy, OrderType::Market, units(150)), tw).contains("not a valid lot"));
        assert!(
            err(
                o(
                    Side::Buy,
                    OrderType::Market,
                    OrderQty::Value(Cash(dec!(1000)))
                ),
                tw
            )
            .contains("units")
        );
        assert!(err(o(Side::Buy, OrderType::Market, units(0)), tw).contains("units"));
        let stop = OrderType::Stop(Price(dec!(9)));
        assert!(err(o(Side::Sell, stop, units(100)), tw).contains("stop"));
        assert!(
            err(
                o(Side::Buy, OrderType::Market, units(100)),
                twap(0, 5, 0, AtEnd::Market)
            )
            .contains("twap.slices")
        );
        assert!(
            err(
                o(Side::Buy, OrderType::Market, units(100)),
                twap(5, 5, 1, AtEnd::Market)
            )
            .contains("twap.end")
        );
        let ice = |v: Decimal| AlgoSpec::Iceberg(Iceberg { visible: q(v) });
        assert!(err(o(Side::Buy, OrderType::Market, units(100)), ice(dec!(100))).contains("limit"));
        let limit = OrderType::Limit(Price(dec!(10)));
        assert!(err(o(Side::Buy, limit, units(100)), ice(dec!(150))).contains("iceberg.visible"));
        assert!(err(o(Side::Buy, limit, units(100)), ice(dec!(0))).contains("iceberg.visible"));
        let mut sent = o(Side::Buy, limit, units(100));
        sent.status = OrderStatus::Accepted;
        assert!(err(sent, ice(dec!(100))).contains("not yet sent"));
        // a sell may hold an odd lot
        assert!(
            Algo::new(
                &o(Side::Sell, limit, units(150)),
                ice(dec!(100)),
                &rules,
                &inst
            )
            .is_ok()
        );
    }

    /// A copy taken at any point (as a snapshot restores it) places the
    /// same children as the original.
    #[test]
    fn a_restored_algo_continues_the_same() {
        fn serde_bounds<T: Serialize + serde::de::DeserializeOwned>() {}
        serde_bounds::<Algo>();
        serde_bounds::<Algos>();
        let run = |stop_at: usize| {
            let mut h = Harness::new(
                "600000.SH",
                Side::Buy,
                OrderType::Market,
                dec!(5000),
                twap(0, 8, 4, AtEnd::Market),
            );
            h.start(0);
            for t in 1..10u64 {
                if t as usize == stop_at {
                    h.algo = h.algo.clone();
                }
                if let Some(&id) = h.submitted.last()
                    && h.oms.get(id).unwrap().status.is_open()
                {
                    let half = (h.size(id) / dec!(200)).floor() * dec!(100);
                    if half > Decimal::ZERO {
                        h.fill(id, half, dec!(10));
                    }
                    h.report(Report::Expired { id });
                }
                h.bar(t, None);
            }
            (h.sizes(), h.parent().filled)
        };
        let whole = run(usize::MAX);
        for k in 0..10 {
            assert_eq!(run(k), whole);
        }
    }

    /// The book of algorithms links children to parents and drops the
    /// finished.
    #[test]
    fn algos_link_children_to_parents() {
        let inst = Instrument::infer(Symbol::new("600000.SH").unwrap(), false).unwrap();
        let rules = MarketRules::new(RuleSet::CnA);
        let mut oms = Oms::new(None).unwrap();
        let p = oms
            .create(
                Order::new(
                    OrderId(0),
                    InstrumentIndex(0),
                    inst.symbol.clone(),
                    Side::Buy,
                    OrderType::Market,
                    OrderQty::Units(Quantity::from_units(400)),
                    day(),
                ),
                day(),
            )
            .unwrap();
        let algo = Algo::new(
            oms.get(p).unwrap(),
            twap(0, 2, 2, AtEnd::Expire),
            &rules,
            &inst,
        )
        .unwrap();
        let mut algos = Algos::new();
        let a = algos
            .start(algo.clone(), 0, None, day(), &mut |o| oms.create(o, day()))
            .unwrap();
        assert!(
            algos
                .start(algo, 0, None, day(), &mut |_| Ok(OrderId(99)))
                .is_err()
        );
        let child = OrderId(2);
        assert_eq!(
            a,
            [
                AlgoAction::Parent(Report::Accepted {
                    id: p,
                    venue_id: None
                }),
                AlgoAction::Submit(child)
            ]
        );
        assert_eq!(algos.parent_of(child), Some(p));
        assert!(algos.is_parent(p) && algos.len() == 1 && algos.get(p).is_some());
        // other orders' reports are not the algorithms'
        let r = Report::Expired { id: OrderId(42) };
        assert!(
            algos
                .on_report(&r, day(), &mut |_| unreachable!())
                .unwrap()
                .is_empty()
        );
        oms.apply(Report::Expired { id: child }, day()).unwrap();
        let bars = [None];
        let a = algos
            .on_report(&Report::Expired { id: child }, day(), &mut |o| {
                oms.create(o, day())
            })
            .unwrap();
        assert!(a.is_empty());
        let a = algos
            .on_bars(1, day(), &bars, &mut |o| oms.create(o, day()))
            .unwrap();
        assert_eq!(a, [AlgoAction::Submit(OrderId(3))]);
        let a = algos
            .on_bars(2, day(), &bars, &mut |o| oms.create(o, day()))
            .unwrap();
        assert_eq!(a, [AlgoAction::Cancel(OrderId(3))]);
        let r = Report::Cancelled { id: OrderId(3) };
        let a = algos.on_report(&r, day(), &mut |_| unreachable!()).unwrap();
        assert_eq!(a, [AlgoAction::Parent(Report::Expired { id: p })]);
        assert!(algos.is_empty() && algos.parent_of(OrderId(3)).is_none());
        assert!(algos.cancel(p).is_empty());
    }
}
