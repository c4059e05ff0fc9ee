//! Order types a venue lacks, emulated by the OMS side: the venue's
//! capabilities ([`VenueCaps`]) and the [`Emulator`] that holds stops,
//! stop-limits and trailing stops locally and sends their trigger orders
//! (`shared/docs/runtime.md`, "Orders and the OMS": "where a venue lacks
//! an order type (stops, trailing, OCO on a broker), the OMS holds it and
//! triggers a market/limit order itself, and the emulated state is
//! journaled like any other").
//!
//! # Routing
//!
//! [`VenueCaps::route`] decides for every order before it is sent:
//!
//! - a time in force the venue lacks: [`Route::Unsupported`] (rejected with
//!   [`RejectReason::Unsupported`]; nothing emulates a time in force);
//! - an order type the venue takes: [`Route::Venue`], sent as it is;
//! - a stop or trailing stop on a venue with market orders, a stop-limit
//!   on one with limit orders: [`Route::Emulate`], held by the
//!   [`Emulator`];
//! - anything else (a market-on-open on a venue without auctions, say):
//!   [`Route::Unsupported`].
//!
//! # The link between the parent and its trigger order
//!
//! The emulated order (the parent) is an order of the OMS like any other;
//! it stays in [`OrderStatus::PendingSubmit`] while held (it has not been
//! sent), and no venue knows it. When it triggers, the emulator hands back
//! **the parent itself re-typed as its trigger order** ([`Emulated::Send`]):
//! the same [`OrderId`] and client id, side, size and time in force, with
//! order type [`OrderType::Market`] (a stop or trailing stop) or
//! [`OrderType::Limit`] at the stop-limit's limit. The venue's reports
//! about it are reports about the parent, so the OMS books the trigger
//! order's fills on the parent (it goes to `Filled` when the trigger order
//! fills) and records the venue's id on its acknowledgement — no second
//! order, no id map, nothing to convert. The book keeps the parent's own
//! type (`stop`, `trailing_stop`) in the record, as for a native stop.
//! Reconciliation must not look for a held order at the venue
//! ([`Emulator::is_held`]).
//!
//! # Triggers (no look-ahead)
//!
//! The emulator sees each **closed** bar ([`Emulator::on_bars`] for daily
//! bars, [`Emulator::on_bar`] for any bar, [`Emulator::on_quote`] for a
//! quote, which is a one-price bar) and applies quant-exec's pure trigger
//! functions of [`crate::fill`]:
//!
//! - a stop (and a stop-limit's stop) fires on the first bar whose range
//!   reaches it ([`stop_trigger`]: a buy when `high ≥ stop`, a sell when
//!   `low ≤ stop`, on the tick grid; a gap through the stop fires at once);
//! - a trailing stop starts from the open of the first bar it sees (as the
//!   simulated venue's native one), is checked against the level of the
//!   bars that closed **before** the bar ([`trailing_stop_trigger`]) and
//!   only then ratchets with that bar's high (a sell) or low (a buy)
//!   ([`trail_after_bar`]); the level never loosens.
//!
//! An order is checked only against bars after the one it was decided on:
//! the caller passes each closed bar to the emulator **before** the
//! strategy decides on it and new orders are held (daily and intraday
//! bars alike), so the first bar a held order sees is the next one.
//!
//! # Which price the emulation gets
//!
//! A native stop fills **inside** its trigger bar (at the stop, or at the
//! open on a gap). The emulator learns of the trigger only when the bar has
//! closed, so its market order reaches the venue after that bar and fills
//! at the **next** bar's price (the next open under next-open fills, the
//! trigger bar's close under same-close fills): after a gap it is the
//! price after the gap, and in a falling market it is worse than the stop
//! by the move from the stop to the next fill. A stop-limit's limit order
//! rests from the next bar on and may not fill at all. This is the price
//! of emulation on a broker without stops; [`VenueCaps::simulated`] takes
//! every type natively, so backtests on the simulated venue never emulate
//! unless told to.
//!
//! # Cancels and validity
//!
//! - [`Emulator::cancel`] on a held order removes it locally
//!   ([`CancelRoute::Local`] with the `Cancelled` report for the OMS): no
//!   venue traffic. After it triggered the emulator no longer holds it and
//!   the cancel goes to the venue ([`CancelRoute::Venue`]), where its
//!   trigger order works under the same id.
//! - A held order ends as the simulated venue ends an untriggered native
//!   one: IOC and FOK after the first bar they are checked against
//!   (rejected, `not_triggered`); DAY at the close of a day on which it was
//!   checked (rejected, `not_triggered`; `suspended` when it never saw a
//!   bar) and GTD at the close of its last day (expired), both only after
//!   its decision day ([`Emulator::on_session_close`]); GTC never.
//!
//! # OCO on a venue without OCO
//!
//! No venue here links orders: OCO groups and brackets are always the
//! OMS's ([`crate::oms`]), and that **is** the emulation. When an order of
//! a group fills (even in part) the OMS answers with
//! [`crate::oms::Action::Cancel`] for its siblings, which the caller sends
//! (a held sibling is cancelled locally through [`Emulator::cancel`]).
//! There is a race the OMS cannot close: a sibling may fill at the venue
//! before its cancel lands, and then **both fill**. The OMS records the
//! sibling's fill as a late fill (a fill in `PendingCancel` is allowed by
//! the transition table, the order goes to `Filled`, and the venue's
//! `Cancelled` that follows is a stale report), books it, and the position
//! is larger than either order alone; the strategy sees both fills. Venues
//! with native OCO close the race; emulation only narrows it to one
//! round-trip.
//!
//! # Journal
//!
//! [`Emulator`] is `serde`: its held orders and trailing states go into the
//! engine's snapshot, and a restored emulator triggers exactly as the one
//! that never stopped.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use quant_core::{
    Bar, Instrument, InstrumentIndex, Order, OrderId, OrderStatus, OrderType, Price, RejectReason,
    TimeInForce,
};

use crate::error::{Error, Result};
use crate::fill::{
    BarInput, TickBar, TrailState, Trigger, stop_trigger, trail_after_bar, trailing_stop_trigger,
    validate_trail,
};
use crate::oms::Report;

/// Which order types and times in force a venue takes natively.
///
/// In a settings file every key is optional and defaults to `true` (the
/// simulated venue's [`VenueCaps::simulated`]); name the ones a venue
/// lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VenueCaps {
    /// Market orders.
    pub market: bool,
    /// Limit orders.
    pub limit: bool,
    /// Stop (stop-market) orders.
    pub stop: bool,
    /// Stop-limit orders.
    pub stop_limit: bool,
    /// Trailing stops (by amount or fraction).
    pub trailing_stop: bool,
    /// Market-on-open (opening auction) orders.
    pub market_on_open: bool,
    /// Market-on-close (closing auction) orders.
    pub market_on_close: bool,
    /// Day orders.
    pub day: bool,
    /// Good-till-cancelled orders.
    pub gtc: bool,
    /// Immediate-or-cancel orders.
    pub ioc: bool,
    /// Fill-or-kill orders.
    pub fok: bool,
    /// Good-till-date orders.
    pub gtd: bool,
}

impl Default for VenueCaps {
    fn default() -> Self {
        Self::simulated()
    }
}

/// Where an order goes ([`VenueCaps::route`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// The venue takes it as it is: send it.
    Venue,
    /// The venue lacks its type but takes its trigger order: hold it in
    /// the [`Emulator`].
    Emulate,
    /// Neither: reject it with [`RejectReason::Unsupported`].
    Unsupported,
}

impl VenueCaps {
    /// The simulated venue: every order type and time in force.
    pub const fn simulated() -> Self {
        Self {
            market: true,
            limit: true,
            stop: true,
            stop_limit: true,
            trailing_stop: true,
            market_on_open: true,
            market_on_close: true,
            day: true,
            gtc: true,
            ioc: true,
            fok: true,
            gtd: true,
        }
    }

    /// A basic broker: market and limit orders, DAY and GTC. Stops,
    /// stop-limits and trailing stops are emulated; auctions, IOC, FOK and
    /// GTD are unsupported.
    pub const fn basic_broker() -> Self {
        Self {
            market: true,
            limit: true,
            stop: false,
            stop_limit: false,
            trailing_stop: false,
            market_on_open: false,
            market_on_close: false,
            day: true,
            gtc: true,
            ioc: false,
            fok: false,
            gtd: false,
        }
    }

    /// Whether the venue takes `order_type` natively.
    pub fn takes_type(&self, order_type: &OrderType) -> bool {
        match order_type {
            OrderType::Market => self.market,
            OrderType::Limit(_) => self.limit,
            OrderType::Stop(_) => self.stop,
            OrderType::StopLimit { .. } => self.stop_limit,
            OrderType::TrailingStop(_) => self.trailing_stop,
            OrderType::MarketOnOpen => self.market_on_open,
            OrderType::MarketOnClose => self.market_on_close,
        }
    }

    /// Whether the venue takes time in force `tif` natively.
    pub fn takes_tif(&self, tif: &TimeInForce) -> bool {
        match tif {
            TimeInForce::Day => self.day,
            TimeInForce::Gtc => self.gtc,
            TimeInForce::Ioc => self.ioc,
            TimeInForce::Fok => self.fok,
            TimeInForce::Gtd(_) => self.gtd,
        }
    }

    /// Where `order` goes (see the module docs): its time in force must be
    /// native; a native type goes to the venue; a stop or trailing stop is
    /// emulated when the venue takes market orders, a stop-limit when it
    /// takes limit orders; anything else is unsupported.
    pub fn route(&self, order: &Order) -> Route {
        if !self.takes_tif(&order.tif) {
            return Route::Unsupported;
        }
        if self.takes_type(&order.order_type) {
            return Route::Venue;
        }
        match order.order_type {
            OrderType::Stop(_) | OrderType::TrailingStop(_) if self.market => Route::Emulate,
            OrderType::StopLimit { .. } if self.limit => Route::Emulate,
            _ => Route::Unsupported,
        }
    }
}

/// What the caller does with an emulator's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Emulated {
    /// Send this order to the venue: the held parent re-typed as its
    /// trigger order (same id, client id, side, size and time in force;
    /// market for a stop or trailing stop, limit for a stop-limit). The
    /// OMS keeps the parent as it is (`PendingSubmit`, its own type).
    Send(Order),
    /// Apply this report to the OMS: a held order ended locally (rejected
    /// `not_triggered` or `suspended`, or expired), with no venue traffic.
    Report(Report),
}

/// Where a cancel goes ([`Emulator::cancel`]).
#[derive(Debug, Clone, PartialEq)]
pub enum CancelRoute {
    /// The order was held and is gone: apply this `Cancelled` report to the
    /// OMS (after [`crate::oms::Oms::request_cancel`]); nothing goes to the
    /// venue.
    Local(Report),
    /// Not held (never emulated, or already triggered): send the cancel to
    /// the venue.
    Venue,
}

/// One held order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Held {
    /// The parent as it was held.
    order: Order,
    /// A trailing stop's best price and level, from its first bar on.
    trail: Option<TrailState>,
    /// Whether it was checked against at least one bar.
    checked: bool,
}

/// Holds the orders a venue lacks and sends their trigger orders (see the
/// module docs). Serialisable: part of the engine's snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Emulator {
    held: BTreeMap<OrderId, Held>,
}

impl Emulator {
    /// An emulator holding nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `order` (a stop, stop-limit or trailing stop not yet sent)
    /// instead of sending it; the caller leaves it in `PendingSubmit` in the
    /// OMS.
    ///
    /// # Errors
    /// [`Error::Order`] for another order type, an order not in
    /// `PendingSubmit` or with fills, one already held, or a stop or limit
    /// price that is not above 0 (quote currency); [`Error::Setting`] for a
    /// trail [`validate_trail`] refuses.
    pub fn hold(&mut self, order: &Order) -> Result<()> {
        let bad = |message: String| Error::Order {
            id: order.id.0,
            message,
        };
        let positive = |p: Price, what: &str| {
            if p.0 > Decimal::ZERO {
                Ok(())
            } else {
                Err(bad(format!("{what} price {p} must be above 0")))
            }
        };
        match order.order_type {
            OrderType::Stop(s) => positive(s, "stop")?,
            OrderType::StopLimit { stop, limit } => {
                positive(stop, "stop")?;
                positive(limit, "limit")?;
            }
            OrderType::TrailingStop(t) => validate_trail(&t)?,
            other => {
                return Err(bad(format!(
                    "a {} order is not emulated (stops, stop-limits and trailing stops are)",
                    other.as_str()
                )));
            }
        }
        if order.status != OrderStatus::PendingSubmit || order.filled.0 > Decimal::ZERO {
            return Err(bad(format!(
                "only an order not yet sent can be held (it is {})",
                order.status.as_str()
            )));
        }
        if self.held.contains_key(&order.id) {
            return Err(bad("is already held".into()));
        }
        self.held.insert(
            order.id,
            Held {
                order: order.clone(),
                trail: None,
                checked: false,
            },
        );
        Ok(())
    }

    /// Whether order `id` is held (emulated and not yet triggered).
    pub fn is_held(&self, id: OrderId) -> bool {
        self.held.contains_key(&id)
    }

    /// The held orders, by id.
    pub fn held(&self) -> impl Iterator<Item = &Order> {
        self.held.values().map(|h| &h.order)
    }

    /// Number of held orders.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The stop level a held order is checked against on the next bar
    /// (quote currency): the stop price of a stop or stop-limit, a
    /// trailing stop's level once it has seen a bar (`None` before).
    pub fn level(&self, id: OrderId) -> Option<Price> {
        let h = self.held.get(&id)?;
        match h.order.order_type {
            OrderType::Stop(p) | OrderType::StopLimit { stop: p, .. } => Some(p),
            OrderType::TrailingStop(_) => h.trail.map(|t| t.level()),
            _ => None,
        }
    }

    /// Cancels order `id`: locally when it is held, else at the venue (see
    /// [`CancelRoute`]).
    pub fn cancel(&mut self, id: OrderId) -> CancelRoute {
        match self.held.remove(&id) {
            Some(_) => CancelRoute::Local(Report::Cancelled { id }),
            None => CancelRoute::Venue,
        }
    }

    /// Checks the held orders of every instrument against its closed bar
    /// (`bars` indexed like `instruments`, daily or intraday; `None` or a
    /// suspended bar checks nothing). Call it before holding the orders
    /// decided on these bars. Trigger orders and local ends are appended to
    /// `out` in order id order.
    pub fn on_bars(
        &mut self,
        bars: &[Option<Bar>],
        instruments: &[Instrument],
        out: &mut Vec<Emulated>,
    ) {
        let wanted: BTreeSet<InstrumentIndex> =
            self.held.values().map(|h| h.order.instrument).collect();
        for i in wanted {
            let (Some(Some(bar)), Some(inst)) = (bars.get(i.get()), instruments.get(i.get()))
            else {
                continue;
            };
            if let Ok(tb) = TickBar::new(&BarInput::from(bar), inst.tick_size) {
                self.check(i, &tb, out);
            }
        }
    }

    /// Checks the held orders of `instrument` against one closed bar (prices
    /// in quote currency, snapped to `tick`); a suspended or unusable bar
    /// checks nothing. Call it for a bar before holding the orders decided
    /// on that bar.
    pub fn on_bar(
        &mut self,
        instrument: InstrumentIndex,
        bar: &BarInput,
        tick: Decimal,
        out: &mut Vec<Emulated>,
    ) {
        if let Ok(tb) = TickBar::new(bar, tick) {
            self.check(instrument, &tb, out);
        }
    }

    /// Checks the held orders of `instrument` against a quote (a last
    /// trade or mid price, quote currency): a one-price bar.
    pub fn on_quote(
        &mut self,
        instrument: InstrumentIndex,
        price: Price,
        tick: Decimal,
        out: &mut Vec<Emulated>,
    ) {
        let p = price.to_f64();
        let bar = BarInput {
            open: p,
            high: p,
            low: p,
            close: p,
            volume: 1.0,
            amount: f64::NAN,
        };
        self.on_bar(instrument, &bar, tick, out);
    }

    fn check(&mut self, instrument: InstrumentIndex, tb: &TickBar, out: &mut Vec<Emulated>) {
        let mut fired = Vec::new();
        let mut ended = Vec::new();
        for (id, h) in &mut self.held {
            if h.order.instrument != instrument {
                continue;
            }
            h.checked = true;
            let side = h.order.side;
            let child = match h.order.order_type {
                OrderType::Stop(s) => {
                    (stop_trigger(side, s, tb) != Trigger::Pending).then_some(OrderType::Market)
                }
                OrderType::StopLimit { stop, limit } => (stop_trigger(side, stop, tb)
                    != Trigger::Pending)
                    .then_some(OrderType::Limit(limit)),
                OrderType::TrailingStop(trail) => {
                    let state = match h.trail {
                        Some(s) => s,
                        None => match TrailState::new(side, trail, tb.open(), tb.tick()) {
                            Ok(s) => s,
                            Err(_) => {
                                ended.push((*id, RejectReason::Unsupported));
                                continue;
                            }
                        },
                    };
                    // checked against the level of earlier bars, then ratcheted
                    let hit = trailing_stop_trigger(side, &state, tb) != Trigger::Pending;
                    h.trail = Some(trail_after_bar(state, side, tb));
                    hit.then_some(OrderType::Market)
                }
                _ => None,
            };
            match child {
                Some(t) => fired.push((*id, t)),
                None if matches!(h.order.tif, TimeInForce::Ioc | TimeInForce::Fok) => {
                    ended.push((*id, RejectReason::NotTriggered));
                }
                None => {}
            }
        }
        let mut steps: Vec<(OrderId, Emulated)> = Vec::new();
        for (id, t) in fired {
            if let Some(h) = self.held.remove(&id) {
                let mut o = h.order;
                o.order_type = t;
                steps.push((id, Emulated::Send(o)));
            }
        }
        for (id, reason) in ended {
            if self.held.remove(&id).is_some() {
                steps.push((id, Emulated::Report(Report::Rejected { id, reason })));
            }
        }
        steps.sort_by_key(|(id, _)| *id);
        out.extend(steps.into_iter().map(|(_, s)| s));
    }

    /// The end of trading day `day`'s session: held orders whose time in
    /// force ends today end locally (see the module docs), reports appended
    /// to `out`.
    pub fn on_session_close(&mut self, day: NaiveDate, out: &mut Vec<Emulated>) {
        let gone: Vec<OrderId> = self
            .held
            .iter()
            .filter(|(_, h)| {
                let o = &h.order;
                !o.tif.valid_after_close(o.created, day) && (h.checked || day > o.created)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            let Some(h) = self.held.remove(&id) else {
                continue;
            };
            out.push(Emulated::Report(match h.order.tif {
                TimeInForce::Gtd(_) => Report::Expired { id },
                _ => Report::Rejected {
                    id,
                    reason: if h.checked {
                        RejectReason::NotTriggered
                    } else {
                        RejectReason::Suspended
                    },
                },
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use quant_core::{OrderQty, Quantity, Side, Symbol, Trail};
    use rust_decimal_macros::dec;

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, d).unwrap()
    }

    fn order(id: u64, side: Side, ty: OrderType, tif: TimeInForce) -> Order {
        let mut o = Order::new(
            OrderId(id),
            InstrumentIndex(0),
            Symbol::new("600000.SH").unwrap(),
            side,
            ty,
            OrderQty::Units(Quantity(dec!(300))),
            day(2),
        )
        .with_tif(tif);
        o.id = OrderId(id);
        o
    }

    fn px(x: Decimal) -> Price {
        Price(x)
    }

    /// A bar of day `d`: open, high, low, close.
    fn bar(d: u32, o: f64, h: f64, l: f64, c: f64) -> Option<Bar> {
        Some(Bar {
            date: day(d),
            open: o,
            high: h,
            low: l,
            close: c,
            pre_close: f64::NAN,
            volume: 1e6,
            amount: f64::NAN,
            adj_factor: 1.0,
        })
    }

    fn instruments() -> Vec<Instrument> {
        vec![Instrument::infer(Symbol::new("600000.SH").unwrap(), false).unwrap()]
    }

    fn step(e: &mut Emulator, b: Option<Bar>) -> Vec<Emulated> {
        let mut out = Vec::new();
        e.on_bars(&[b], &instruments(), &mut out);
        out
    }

    #[test]
    fn routes_by_the_venues_capabilities() {
        let sim = VenueCaps::simulated();
        let basic = VenueCaps::basic_broker();
        let stop = OrderType::Stop(px(dec!(9)));
        let sl = OrderType::StopLimit {
            stop: px(dec!(9)),
            limit: px(dec!(8.9)),
        };
        let trail = OrderType::TrailingStop(Trail::Fraction(dec!(0.05)));
        for ty in [
            OrderType::Market,
            OrderType::Limit(px(dec!(10))),
            stop,
            sl,
            trail,
            OrderType::MarketOnOpen,
            OrderType::MarketOnClose,
        ] {
            for tif in [
                TimeInForce::Day,
                TimeInForce::Gtc,
                TimeInForce::Ioc,
                TimeInForce::Fok,
                TimeInForce::Gtd(day(9)),
            ] {
                assert_eq!(sim.route(&order(1, Side::Sell, ty, tif)), Route::Venue);
            }
        }
        let r = |ty, tif| basic.route(&order(1, Side::Sell, ty, tif));
        assert_eq!(r(OrderType::Market, TimeInForce::Day), Route::Venue);
        assert_eq!(
            r(OrderType::Limit(px(dec!(10))), TimeInForce::Gtc),
            Route::Venue
        );
        assert_eq!(r(stop, TimeInForce::Day), Route::Emulate);
        assert_eq!(r(sl, TimeInForce::Gtc), Route::Emulate);
        assert_eq!(r(trail, TimeInForce::Gtc), Route::Emulate);
        assert_eq!(
            r(OrderType::MarketOnOpen, TimeInForce::Day),
            Route::Unsupported
        );
        assert_eq!(
            r(OrderType::MarketOnClose, TimeInForce::Day),
            Route::Unsupported
        );
        // a time in force the venue lacks is never emulated
        assert_eq!(r(OrderType::Market, TimeInForce::Ioc), Route::Unsupported);
        assert_eq!(r(stop, TimeInForce::Gtd(day(9))), Route::Unsupported);
        // a stop needs the venue's market orders, a stop-limit its limits
        let no_market = VenueCaps {
            market: false,
            ..basic
        };
        assert_eq!(
            no_market.route(&order(1, Side::Sell, stop, TimeInForce::Day)),
            Route::Unsupported
        );
        assert_eq!(
            no_market.route(&order(1, Side::Sell, sl, TimeInForce::Day)),
            Route::Emulate
        );
        assert_eq!(VenueCaps::default(), sim);
        serde_bounds::<VenueCaps>();
    }

    #[test]
    fn only_unsent_stops_are_held() {
        let mut e = Emulator::new();
        let err = e
            .hold(&order(1, Side::Sell, OrderType::Market, TimeInForce::Day))
            .unwrap_err();
        assert!(err.to_string().contains("not emulated"), "{err}");
        let mut sent = order(
            2,
            Side::Sell,
            OrderType::Stop(px(dec!(9))),
            TimeInForce::Day,
        );
        sent.status = OrderStatus::Accepted;
        assert!(e.hold(&sent).is_err());
        let zero = order(
            3,
            Side::Sell,
            OrderType::Stop(px(dec!(0))),
            TimeInForce::Day,
        );
        assert!(e.hold(&zero).unwrap_err().to_string().contains("above 0"));
        let bad_trail = order(
            4,
            Side::Sell,
            OrderType::TrailingStop(Trail::Fraction(dec!(1.5))),
            TimeInForce::Gtc,
        );
        assert!(matches!(e.hold(&bad_trail), Err(Error::Setting { .. })));
        let ok = order(
            5,
            Side::Sell,
            OrderType::Stop(px(dec!(9))),
            TimeInForce::Day,
        );
        e.hold(&ok).unwrap();
        assert!(
            e.hold(&ok)
                .unwrap_err()
                .to_string()
                .contains("already held")
        );
        assert!(e.is_held(OrderId(5)) && e.len() == 1 && !e.is_empty());
        assert_eq!(e.level(OrderId(5)), Some(px(dec!(9))));
    }

    /// A sell stop at 9 decided on day 2's bar (checked before it is held):
    /// day 3 does not reach it, day 4 gaps below it: the market order goes
    /// out after day 4's bar, the same order re-typed.
    #[test]
    fn a_stop_triggers_on_the_first_bar_that_reaches_it() {
        let mut e = Emulator::new();
        let parent = order(
            7,
            Side::Sell,
            OrderType::Stop(px(dec!(9))),
            TimeInForce::Gtc,
        );
        // the decision bar is passed on before the order is held
        assert!(step(&mut e, bar(2, 9.5, 9.6, 8.5, 9.2)).is_empty());
        e.hold(&parent).unwrap();
        assert!(step(&mut e, bar(3, 9.5, 9.8, 9.01, 9.2)).is_empty());
        // suspended: nothing checked
        assert!(step(&mut e, None).is_empty());
        let out = step(&mut e, bar(4, 8.6, 8.8, 8.4, 8.7));
        let mut want = parent.clone();
        want.order_type = OrderType::Market;
        assert_eq!(out, [Emulated::Send(want)]);
        assert!(!e.is_held(OrderId(7)));
        // triggered: a cancel now goes to the venue
        assert_eq!(e.cancel(OrderId(7)), CancelRoute::Venue);

        // a buy stop-limit becomes its limit order; touching the stop fires it
        let mut e = Emulator::new();
        let sl = OrderType::StopLimit {
            stop: px(dec!(10.5)),
            limit: px(dec!(10.6)),
        };
        e.hold(&order(8, Side::Buy, sl, TimeInForce::Day)).unwrap();
        let out = step(&mut e, bar(3, 10.0, 10.5, 9.9, 10.2));
        let Emulated::Send(o) = &out[0] else { panic!() };
        assert_eq!(o.order_type, OrderType::Limit(px(dec!(10.6))));
        assert_eq!(
            (o.id, o.side, o.tif),
            (OrderId(8), Side::Buy, TimeInForce::Day)
        );
        assert_eq!(o.requested, OrderQty::Units(Quantity(dec!(300))));
    }

    /// A sell trailing stop 1.00 below the best high: the level follows
    /// closed bars only, so the bar that lifts the high is not checked
    /// against the level it creates.
    #[test]
    fn a_trailing_stop_ratchets_only_after_closed_bars() {
        let mut e = Emulator::new();
        let t = OrderType::TrailingStop(Trail::Amount(px(dec!(1))));
        e.hold(&order(1, Side::Sell, t, TimeInForce::Gtc)).unwrap();
        assert_eq!(e.level(OrderId(1)), None);
        // first bar: starts at its open (10 → level 9); low 9.5 stays above
        assert!(step(&mut e, bar(3, 10.0, 12.0, 9.5, 11.8)).is_empty());
        assert_eq!(e.level(OrderId(1)), Some(px(dec!(11))));
        // the high of 15 would put the level at 14, above this bar's low of
        // 12 — but this bar is checked against 11: no trigger
        assert!(step(&mut e, bar(4, 12.5, 15.0, 12.0, 14.5)).is_empty());
        assert_eq!(e.level(OrderId(1)), Some(px(dec!(14))));
        // a lower high never loosens it
        assert!(step(&mut e, bar(5, 14.5, 14.8, 14.1, 14.2)).is_empty());
        assert_eq!(e.level(OrderId(1)), Some(px(dec!(14))));
        let out = step(&mut e, bar(8, 14.2, 14.3, 13.9, 14.0));
        assert!(matches!(&out[..], [Emulated::Send(o)] if o.order_type == OrderType::Market));
    }

    #[test]
    fn cancel_before_trigger_is_local() {
        let mut e = Emulator::new();
        e.hold(&order(
            3,
            Side::Sell,
            OrderType::Stop(px(dec!(9))),
            TimeInForce::Gtc,
        ))
        .unwrap();
        assert_eq!(
            e.cancel(OrderId(3)),
            CancelRoute::Local(Report::Cancelled { id: OrderId(3) })
        );
        assert!(e.is_empty());
        // gone: the bar that would have triggered it sends nothing
        assert!(step(&mut e, bar(3, 8.0, 8.0, 7.0, 7.5)).is_empty());
        assert_eq!(e.cancel(OrderId(3)), CancelRoute::Venue);
    }

    #[test]
    fn held_orders_end_by_their_time_in_force() {
        let stop = OrderType::Stop(px(dec!(9)));
        let mut e = Emulator::new();
        e.hold(&order(1, Side::Sell, stop, TimeInForce::Day))
            .unwrap();
        e.hold(&order(2, Side::Sell, stop, TimeInForce::Gtc))
            .unwrap();
        e.hold(&order(3, Side::Sell, stop, TimeInForce::Gtd(day(4))))
            .unwrap();
        e.hold(&order(4, Side::Sell, stop, TimeInForce::Ioc))
            .unwrap();
        let mut out = Vec::new();
        // the decision day's close ends nothing
        e.on_session_close(day(2), &mut out);
        assert!(out.is_empty());
        // day 3: the IOC order ends after its one bar, the DAY one at the close
        let out = step(&mut e, bar(3, 10.0, 10.2, 9.5, 10.0));
        assert_eq!(
            out,
            [Emulated::Report(Report::Rejected {
                id: OrderId(4),
                reason: RejectReason::NotTriggered
            })]
        );
        let mut out = Vec::new();
        e.on_session_close(day(3), &mut out);
        assert_eq!(
            out,
            [Emulated::Report(Report::Rejected {
                id: OrderId(1),
                reason: RejectReason::NotTriggered
            })]
        );
        let mut out = Vec::new();
        e.on_session_close(day(4), &mut out);
        assert_eq!(out, [Emulated::Report(Report::Expired { id: OrderId(3) })]);
        e.on_session_close(day(30), &mut out);
        assert_eq!(out.len(), 1, "GTC never ends");
        assert!(e.is_held(OrderId(2)));
        // a DAY order that never saw a bar ends after its day as suspended
        e.hold(&order(5, Side::Sell, stop, TimeInForce::Day))
            .unwrap();
        let mut out = Vec::new();
        e.on_session_close(day(3), &mut out);
        assert_eq!(
            out,
            [Emulated::Report(Report::Rejected {
                id: OrderId(5),
                reason: RejectReason::Suspended
            })]
        );
    }

    /// Quotes and intraday bars: one-price bars, checked as they come.
    #[test]
    fn quotes_and_intraday_bars() {
        let mut e = Emulator::new();
        let t = OrderType::TrailingStop(Trail::Fraction(dec!(0.1)));
        e.hold(&order(1, Side::Buy, t, TimeInForce::Gtc)).unwrap();
        let mut out = Vec::new();
        let tick = dec!(0.01);
        e.on_quote(InstrumentIndex(0), px(dec!(10)), tick, &mut out);
        assert_eq!(e.level(OrderId(1)), Some(px(dec!(11))));
        e.on_quote(InstrumentIndex(0), px(dec!(9)), tick, &mut out);
        assert_eq!(e.level(OrderId(1)), Some(px(dec!(9.9))));
        // another instrument's quote changes nothing
        e.on_quote(InstrumentIndex(1), px(dec!(20)), tick, &mut out);
        assert!(out.is_empty());
        e.on_quote(InstrumentIndex(0), px(dec!(9.9)), tick, &mut out);
        assert!(matches!(&out[..], [Emulated::Send(o)] if o.order_type == OrderType::Market));
        // a bad bar checks nothing
        let mut e = Emulator::new();
        e.hold(&order(
            2,
            Side::Sell,
            OrderType::Stop(px(dec!(9))),
            TimeInForce::Gtc,
        ))
        .unwrap();
        let nan = BarInput {
            open: f64::NAN,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 10.0,
            amount: f64::NAN,
        };
        let mut out = Vec::new();
        e.on_bar(InstrumentIndex(0), &nan, tick, &mut out);
        assert!(out.is_empty() && e.is_held(OrderId(2)));
    }

    /// The state is serde (the engine's snapshot encodes it; quant-exec has
    /// no encoder to test with).
    fn serde_bounds<T: Serialize + serde::de::DeserializeOwned>() {}

    /// Copied after any bar (as a snapshot restores it), the emulator
    /// sends the same orders on the same bars.
    #[test]
    fn a_restored_emulator_triggers_as_the_one_that_never_stopped() {
        let bars = [
            bar(3, 10.0, 11.0, 9.6, 10.8),
            bar(4, 10.8, 12.4, 10.5, 12.0),
            bar(5, 12.0, 12.1, 11.5, 11.6),
            bar(8, 11.6, 11.7, 10.9, 11.0),
        ];
        let mut e = Emulator::new();
        let t = OrderType::TrailingStop(Trail::Fraction(dec!(0.08)));
        e.hold(&order(1, Side::Sell, t, TimeInForce::Gtc)).unwrap();
        e.hold(&order(
            2,
            Side::Sell,
            OrderType::Stop(px(dec!(11))),
            TimeInForce::Gtc,
        ))
        .unwrap();
        let all: Vec<Vec<Emulated>> = {
            let mut e = e.clone();
            bars.iter().map(|b| step(&mut e, *b)).collect()
        };
        assert!(all.iter().flatten().count() == 2, "{all:?}");
        for k in 0..bars.len() {
            let mut a = e.clone();
            for b in &bars[..k] {
                step(&mut a, *b);
            }
            serde_bounds::<Emulator>();
            let mut b = a.clone();
            for (j, bar) in bars.iter().enumerate().skip(k) {
                assert_eq!(
                    step(&mut b, *bar),
                    all[j],
                    "restored after {k} bars, bar {j}"
                );
            }
        }
    }
}
