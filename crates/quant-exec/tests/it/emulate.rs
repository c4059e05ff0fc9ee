//! Emulation end to end: a "basic broker" (the simulated venue, sent only
//! what [`VenueCaps::basic_broker`] takes) behind the OMS and the
//! [`Emulator`], driven day by day as the engine does (the venue at the
//! open, the emulator on the closed bar, the venue at the close, the end of
//! the session). Stops are held locally and their market orders fill at
//! the next bar; cancels before the trigger never reach the venue; OCO is
//! the OMS's, with its race.

use chrono::NaiveDate;
use quant_core::{
    Bar, Cash, Fill, Instrument, InstrumentIndex, Order, OrderId, OrderQty, OrderStatus, OrderType,
    Price, Quantity, RejectReason, Side, Symbol, TimeInForce, Trail,
};
use quant_exec::emulate::{CancelRoute, Emulated, Emulator, Route, VenueCaps};
use quant_exec::oms::{Action, Oms, Outcome, Report};
use quant_exec::{MarketState, Phase, Portfolio, SimConfig, SimulatedVenue, Venue, VenueEvent};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, d).unwrap()
}

fn bar(d: u32, o: f64, h: f64, l: f64, c: f64) -> Bar {
    Bar {
        date: day(d),
        open: o,
        high: h,
        low: l,
        close: c,
        pre_close: f64::NAN,
        volume: 1e7,
        amount: f64::NAN,
        adj_factor: 1.0,
    }
}

/// The OMS, the emulator and a venue, wired as the engine will wire them.
struct Desk {
    caps: VenueCaps,
    oms: Oms,
    emulator: Emulator,
    venue: SimulatedVenue,
    portfolio: Portfolio,
    instruments: Vec<Instrument>,
    /// Every order the venue was sent, as sent.
    sent: Vec<Order>,
    /// Every cancel the venue was sent.
    venue_cancels: Vec<OrderId>,
    booked: Vec<Fill>,
    today: NaiveDate,
}

impl Desk {
    /// A desk holding 1,000 sellable shares of 600000.SH.
    fn new(caps: VenueCaps) -> Self {
        let inst = Instrument::infer(Symbol::new("600000.SH").unwrap(), false).unwrap();
        let mut portfolio = Portfolio::new(Cash(dec!(1_000_000)), 1);
        portfolio.apply_fill(
            &Fill {
                order_id: OrderId(0),
                date: day(1),
                time: None,
                instrument: InstrumentIndex(0),
                symbol: inst.symbol.clone(),
                side: Side::Buy,
                quantity: Quantity(dec!(1000)),
                price: Price(dec!(10)),
                commission: Cash(Decimal::ZERO),
                stamp_duty: Cash(Decimal::ZERO),
                transfer_fee: Cash(Decimal::ZERO),
            },
            false,
        );
        Self {
            caps,
            oms: Oms::new(Some("emu")).unwrap(),
            emulator: Emulator::new(),
            venue: SimulatedVenue::new(SimConfig::default()),
            portfolio,
            instruments: vec![inst],
            sent: Vec::new(),
            venue_cancels: Vec::new(),
            booked: Vec::new(),
            today: day(2),
        }
    }

    /// A strategy's order, decided today.
    fn place(&mut self, side: Side, ty: OrderType, units: i64, tif: TimeInForce) -> OrderId {
        let o = Order::new(
            OrderId(0),
            InstrumentIndex(0),
            self.instruments[0].symbol.clone(),
            side,
            ty,
            OrderQty::Units(Quantity::from_units(units)),
            self.today,
        )
        .with_tif(tif);
        let id = self.oms.create(o, self.today).unwrap();
        self.route(id);
        id
    }

    /// Native orders to the venue, missing types to the emulator, the
    /// rest rejected.
    fn route(&mut self, id: OrderId) {
        let o = self.oms.get(id).unwrap().clone();
        match self.caps.route(&o) {
            Route::Venue => self.send(o),
            Route::Emulate => self.emulator.hold(&o).unwrap(),
            Route::Unsupported => self.report(Report::Rejected {
                id,
                reason: RejectReason::Unsupported,
            }),
        }
    }

    fn send(&mut self, o: Order) {
        assert!(self.caps.takes_type(&o.order_type), "{o:?}");
        let mut ev = Vec::new();
        self.venue.submit(&o, &mut ev);
        self.sent.push(o);
        self.events(ev);
    }

    fn cancel(&mut self, id: OrderId) {
        self.oms.request_cancel(id, self.today).unwrap();
        match self.emulator.cancel(id) {
            CancelRoute::Local(r) => self.report(r),
            CancelRoute::Venue => {
                self.venue_cancels.push(id);
                let mut ev = Vec::new();
                self.venue.cancel(id, &mut ev);
                self.events(ev);
            }
        }
    }

    fn events(&mut self, ev: Vec<VenueEvent>) {
        for e in ev {
            self.report(Report::from(e));
        }
    }

    fn report(&mut self, r: Report) {
        let Outcome::Applied(actions) = self.oms.apply(r, self.today).unwrap() else {
            return;
        };
        for a in actions {
            match a {
                Action::Book(f) => {
                    self.portfolio.apply_fill(&f, true);
                    self.booked.push(f);
                }
                Action::Cancel(id) => self.cancel(id),
                Action::Submit(id) => self.route(id),
            }
        }
    }

    fn emulated(&mut self, out: Vec<Emulated>) {
        for e in out {
            match e {
                Emulated::Send(o) => self.send(o),
                Emulated::Report(r) => self.report(r),
            }
        }
    }

    /// One trading day with `b` as the instrument's bar: the venue at the
    /// open, the emulator on the closed bar, `decide` (the strategy), the
    /// venue at the close, the end of the session.
    fn trade_day(&mut self, b: Bar, decide: impl FnOnce(&mut Self)) {
        self.today = b.date;
        self.portfolio.roll_unsettled();
        let bars = [Some(b)];
        let prev = [f64::NAN];
        let listing = [None];
        let instruments = self.instruments.clone();
        let market = MarketState {
            date: b.date,
            instruments: &instruments,
            bars: &bars,
            prev_close: &prev,
            listing_day: &listing,
            bar_time: None,
        };
        let mut ev = Vec::new();
        let p = self.portfolio.clone();
        self.venue.on_phase(Phase::Open, &market, &p, &mut ev);
        self.events(ev);
        let mut out = Vec::new();
        self.emulator.on_bars(&bars, &instruments, &mut out);
        self.emulated(out);
        decide(self);
        let mut ev = Vec::new();
        let p = self.portfolio.clone();
        self.venue.on_phase(Phase::Close, &market, &p, &mut ev);
        self.events(ev);
        let mut out = Vec::new();
        self.emulator.on_session_close(b.date, &mut out);
        self.emulated(out);
    }

    fn order(&self, id: OrderId) -> &Order {
        self.oms.get(id).unwrap()
    }
}

fn px(x: Decimal) -> Price {
    Price(x)
}

/// Days 3 to 6: above the stop, then a gap down through it on day 4 (open
/// 8.60), and day 5 opening at 8.30.
fn gap_days() -> [Bar; 4] {
    [
        bar(3, 9.50, 9.80, 9.05, 9.30),
        bar(4, 8.60, 8.80, 8.40, 8.50),
        bar(5, 8.30, 8.60, 8.20, 8.40),
        bar(8, 8.40, 8.50, 8.30, 8.45),
    ]
}

/// A sell stop at 9.00 on a basic broker: held locally (the venue sees
/// nothing) until the first bar whose range reaches it — day 4, a gap —
/// then its market order goes out after that bar and fills at the next
/// bar's open, 8.30. The same stop at the simulated venue, native, fills
/// inside day 4 at its open, 8.60: the emulation's price is the next
/// bar's.
#[test]
fn an_emulated_stop_fills_at_the_bar_after_its_trigger() {
    let mut desk = Desk::new(VenueCaps::basic_broker());
    let stop = OrderType::Stop(px(dec!(9.00)));
    let id = desk.place(Side::Sell, stop, 300, TimeInForce::Gtc);
    assert!(desk.emulator.is_held(id));
    assert_eq!(desk.order(id).status, OrderStatus::PendingSubmit);
    let [d3, d4, d5, d8] = gap_days();
    desk.trade_day(d3, |_| {});
    assert!(desk.sent.is_empty() && desk.venue.open_orders() == 0);
    desk.trade_day(d4, |_| {});
    // sent after day 4's bar: the stop re-typed as a market order, same id
    assert_eq!(desk.sent.len(), 1);
    let child = &desk.sent[0];
    assert_eq!(
        (child.id, child.order_type, child.side, child.tif),
        (id, OrderType::Market, Side::Sell, TimeInForce::Gtc)
    );
    assert_eq!(child.client_id, desk.order(id).client_id);
    assert_eq!(desk.order(id).status, OrderStatus::Accepted);
    assert!(desk.booked.is_empty());
    desk.trade_day(d5, |_| {});
    let parent = desk.order(id);
    assert_eq!(parent.status, OrderStatus::Filled);
    assert_eq!(parent.order_type, stop, "the book keeps the parent's type");
    assert_eq!(parent.filled, Quantity(dec!(300)));
    assert_eq!(parent.avg_price, Some(px(dec!(8.30))));
    assert_eq!(desk.booked.len(), 1);
    assert_eq!(desk.booked[0].order_id, id);
    assert_eq!(desk.booked[0].date, day(5));
    desk.trade_day(d8, |_| {});
    assert_eq!(desk.booked.len(), 1);

    // native at the simulated venue: inside the trigger bar, at its open
    let mut native = Desk::new(VenueCaps::simulated());
    let nid = native.place(Side::Sell, stop, 300, TimeInForce::Gtc);
    assert!(!native.emulator.is_held(nid));
    for b in gap_days() {
        native.trade_day(b, |_| {});
    }
    assert_eq!(native.booked.len(), 1);
    assert_eq!(
        (native.booked[0].date, native.booked[0].price),
        (day(4), px(dec!(8.60)))
    );
}

/// A trailing stop on a basic broker ratchets with closed bars only and
/// triggers on the first bar that reaches the level of the bars before.
#[test]
fn an_emulated_trailing_stop_follows_closed_bars() {
    let mut desk = Desk::new(VenueCaps::basic_broker());
    let t = OrderType::TrailingStop(Trail::Amount(px(dec!(0.50))));
    let id = desk.place(Side::Sell, t, 500, TimeInForce::Gtc);
    desk.trade_day(bar(3, 10.00, 10.40, 9.80, 10.30), |_| {});
    assert_eq!(desk.emulator.level(id), Some(px(dec!(9.90))));
    // the high of 11.00 lifts the level to 10.50 — above this bar's low of
    // 10.40, which is only checked against 9.90
    desk.trade_day(bar(4, 10.60, 11.00, 10.40, 10.90), |_| {});
    assert!(desk.emulator.is_held(id) && desk.sent.is_empty());
    assert_eq!(desk.emulator.level(id), Some(px(dec!(10.50))));
    desk.trade_day(bar(5, 10.80, 10.90, 10.45, 10.60), |_| {});
    assert_eq!(desk.sent.len(), 1);
    desk.trade_day(bar(8, 10.55, 10.70, 10.50, 10.60), |_| {});
    let o = desk.order(id);
    assert_eq!(
        (o.status, o.avg_price),
        (OrderStatus::Filled, Some(px(dec!(10.55))))
    );
}

/// Before the trigger a cancel stays local (no venue traffic); after it,
/// the cancel goes to the venue where the trigger order works under the
/// parent's id.
#[test]
fn cancel_before_and_after_the_trigger() {
    let mut desk = Desk::new(VenueCaps::basic_broker());
    let id = desk.place(
        Side::Sell,
        OrderType::Stop(px(dec!(9))),
        300,
        TimeInForce::Gtc,
    );
    desk.trade_day(gap_days()[0], |d| d.cancel(id));
    assert_eq!(desk.order(id).status, OrderStatus::Cancelled);
    assert_eq!(desk.order(id).reason, Some(RejectReason::Cancelled));
    assert!(desk.sent.is_empty() && desk.venue_cancels.is_empty());
    desk.trade_day(gap_days()[1], |_| {});
    assert!(desk.sent.is_empty(), "a cancelled stop never triggers");

    // a stop-limit whose limit the market never comes back to
    let mut desk = Desk::new(VenueCaps::basic_broker());
    let sl = OrderType::StopLimit {
        stop: px(dec!(9)),
        limit: px(dec!(9.50)),
    };
    let id = desk.place(Side::Sell, sl, 300, TimeInForce::Gtc);
    let [d3, d4, d5, _] = gap_days();
    desk.trade_day(d3, |_| {});
    desk.trade_day(d4, |_| {});
    assert_eq!(desk.sent[0].order_type, OrderType::Limit(px(dec!(9.50))));
    desk.trade_day(d5, |d| d.cancel(id));
    assert_eq!(desk.venue_cancels, [id]);
    assert_eq!(desk.order(id).status, OrderStatus::Cancelled);
    assert_eq!(desk.venue.open_orders(), 0);
}

/// Types and times in force nothing can emulate are rejected as
/// unsupported; DAY stops end as the simulated venue's own do.
#[test]
fn unsupported_and_expiring_orders() {
    let mut desk = Desk::new(VenueCaps::basic_broker());
    let moo = desk.place(Side::Sell, OrderType::MarketOnOpen, 100, TimeInForce::Day);
    let ioc = desk.place(Side::Sell, OrderType::Market, 100, TimeInForce::Ioc);
    let day_stop = desk.place(
        Side::Sell,
        OrderType::Stop(px(dec!(5))),
        100,
        TimeInForce::Day,
    );
    for id in [moo, ioc] {
        let o = desk.order(id);
        assert_eq!(
            (o.status, o.reason),
            (OrderStatus::Rejected, Some(RejectReason::Unsupported))
        );
    }
    desk.trade_day(gap_days()[0], |_| {});
    let o = desk.order(day_stop);
    assert_eq!(
        (o.status, o.reason),
        (OrderStatus::Rejected, Some(RejectReason::NotTriggered))
    );
    assert!(desk.sent.is_empty());
}

/// A bracket on a basic broker: the take-profit limit goes to the venue,
/// the stop-loss is held by the emulator; when the take-profit fills, the
/// OMS's OCO cancel of the stop-loss is local. That is the whole OCO
/// emulation.
#[test]
fn oco_on_a_venue_without_oco_is_the_omss() {
    let mut desk = Desk::new(VenueCaps::basic_broker());
    let entry = {
        let o = Order::new(
            OrderId(0),
            InstrumentIndex(0),
            desk.instruments[0].symbol.clone(),
            Side::Buy,
            OrderType::Market,
            OrderQty::Units(Quantity::from_units(200)),
            desk.today,
        );
        desk.oms.create(o, desk.today).unwrap()
    };
    let mut child = |ty| {
        let o = Order::new(
            OrderId(0),
            InstrumentIndex(0),
            desk.instruments[0].symbol.clone(),
            Side::Sell,
            ty,
            OrderQty::Units(Quantity::ZERO),
            desk.today,
        )
        .with_tif(TimeInForce::Gtc);
        desk.oms.create(o, desk.today).unwrap()
    };
    let tp = child(OrderType::Limit(px(dec!(10.50))));
    let sl = child(OrderType::Stop(px(dec!(9.00))));
    desk.oms.link_bracket(entry, &[tp, sl]).unwrap();
    desk.route(entry);
    // day 3: the entry fills at the open; its children are released
    desk.trade_day(bar(3, 10.00, 10.20, 9.90, 10.10), |_| {});
    assert_eq!(desk.order(entry).status, OrderStatus::Filled);
    assert!(desk.emulator.is_held(sl));
    assert_eq!(
        desk.sent.iter().map(|o| o.id).collect::<Vec<_>>(),
        [entry, tp]
    );
    // day 4: the take-profit fills; the stop-loss is cancelled locally
    desk.trade_day(bar(4, 10.30, 10.60, 10.20, 10.50), |_| {});
    assert_eq!(desk.order(tp).status, OrderStatus::Filled);
    let s = desk.order(sl);
    assert_eq!(
        (s.status, s.reason),
        (OrderStatus::Cancelled, Some(RejectReason::Cancelled))
    );
    assert!(desk.venue_cancels.is_empty() && !desk.emulator.is_held(sl));
    // day 5 would have triggered the stop: nothing happens
    desk.trade_day(bar(5, 8.80, 8.90, 8.50, 8.60), |_| {});
    assert_eq!(desk.sent.len(), 2);
    assert_eq!(desk.booked.len(), 2);
}

/// The OCO race: a sibling fills at the venue before its cancel lands.
/// Both orders fill; the sibling's fill is a late fill in `PendingCancel`,
/// booked, and the venue's cancel confirmation that follows is stale.
#[test]
fn oco_race_both_fill() {
    let mut oms = Oms::new(None).unwrap();
    let sym = Symbol::new("600000.SH").unwrap();
    let mut mk = |ty| {
        let o = Order::new(
            OrderId(0),
            InstrumentIndex(0),
            sym.clone(),
            Side::Sell,
            ty,
            OrderQty::Units(Quantity::from_units(300)),
            day(2),
        );
        oms.create(o, day(2)).unwrap()
    };
    let a = mk(OrderType::Limit(px(dec!(11))));
    let b = mk(OrderType::Limit(px(dec!(11.10))));
    oms.link_oco(&[a, b]).unwrap();
    for id in [a, b] {
        oms.apply(Report::Accepted { id, venue_id: None }, day(3))
            .unwrap();
    }
    let fill = |id, price| Report::Fill {
        fill: Fill {
            order_id: id,
            date: day(3),
            time: None,
            instrument: InstrumentIndex(0),
            symbol: sym.clone(),
            side: Side::Sell,
            quantity: Quantity::from_units(300),
            price: px(price),
            commission: Cash(Decimal::ZERO),
            stamp_duty: Cash(Decimal::ZERO),
            transfer_fee: Cash(Decimal::ZERO),
        },
        fill_id: None,
        complete: None,
        cut: None,
    };
    let Outcome::Applied(actions) = oms.apply(fill(a, dec!(11)), day(3)).unwrap() else {
        panic!()
    };
    assert_eq!(actions[1..], [Action::Cancel(b)]);
    oms.request_cancel(b, day(3)).unwrap();
    // b filled before the cancel reached the venue
    let Outcome::Applied(actions) = oms.apply(fill(b, dec!(11.10)), day(3)).unwrap() else {
        panic!()
    };
    assert!(
        matches!(actions[0], Action::Book(_)),
        "the late fill is booked"
    );
    assert_eq!(oms.get(b).unwrap().status, OrderStatus::Filled);
    assert_eq!(
        oms.apply(Report::Cancelled { id: b }, day(3)).unwrap(),
        Outcome::Stale
    );
    assert_eq!(oms.get(a).unwrap().status, OrderStatus::Filled);
}
