//! The engine: a deterministic state machine, events in, commands out.
//!
//! A trading day, as a driver feeds it ([`crate::driver::run`] for
//! backtests; the paper and live runtimes feed the same events):
//!
//! 1. [`Event::SessionOpen`]: the risk gate starts the day at the previous
//!    close's equity; reference previous closes and listing days are noted;
//!    T+1 units bought yesterday become sellable; corporate actions on
//!    ex-dates (`pre_close` ≠ previous close) are booked;
//! 2. the venue acts at the open; its reports come in as
//!    [`Event::Report`]s (fills move cash and positions);
//! 3. [`Event::Bars`]: positions are marked at the close (suspended names
//!    keep their last close), the risk gate sees the day's volumes, fills
//!    and equity (a tripped drawdown breaker with flattening sells
//!    everything), the strategy decides, and its signals become orders —
//!    through the risk gate — sent out as [`Command::Submit`]; target
//!    weights become sells and value-sized buys;
//! 4. the venue takes the orders (reports again) and acts at the close;
//! 5. [`Event::SessionClose`]: an equity point is recorded.
//!
//! Between and beside bars (paper and live sessions):
//!
//! - [`Event::Quote`] marks the position and checks the stops the engine
//!   holds for a venue that lacks them;
//! - orders go through [`quant_exec::emulate::VenueCaps::route`] of
//!   [`EngineConfig::venue`]: sent, held (stops, stop-limits, trailing
//!   stops on a basic broker, triggered on closed bars and quotes and then
//!   sent as market or limit orders under the same id), or rejected
//!   `unsupported`;
//! - with [`EngineConfig::ack_timeout_ms`], every submit sets a timer
//!   ([`Command::SetTimer`]); the venue's first answer cancels it; an
//!   [`Event::Timer`] for an order still unanswered marks it timed out
//!   (`Unknown`) and asks the venue ([`Command::Query`]) — never a second
//!   submit;
//! - [`Event::Account`] compares the broker's cash and positions with the
//!   book; a difference blocks new orders until a snapshot agrees or the
//!   operator resumes;
//! - [`Control`]s halt, resume, cancel one order, or replace its price
//!   and size ([`Command::Replace`]).
//!
//! Nothing here reads a clock or a random source. [`Engine::snapshot`]
//! captures the whole state (portfolio, order book, risk gate, strategy);
//! [`Engine::restore`] brings it back, and feeding the remaining events
//! gives the same commands and the same record as never having stopped.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::{Deserialize, Serialize};

use quant_core::{
    AssetClass, Bar, Cash, Instrument, InstrumentIndex, Order, OrderId, OrderQty, OrderType, Price,
    Quantity, RejectReason, Side,
};
use std::collections::BTreeMap;

use quant_core::{AccountSnapshot, Quote, UnixNanos};
use quant_exec::algo::{Algo, AlgoAction, AlgoSpec, Algos, AtEnd, Iceberg, Twap};
use quant_exec::emulate::{CancelRoute, Emulated, Emulator, Route};
use quant_exec::fill::BarInput;
use quant_exec::oms::{Action, Oms, Outcome, Report};
use quant_exec::{MarketState, Portfolio};
use quant_strategy::{Context, Signal, Strategy};

use crate::error::{Error, Result};
use crate::event::{Command, Control, Event, TimerId};
use crate::record::{CorporateActions, Dividend, EngineConfig, EquityPoint, RunRecord};
use crate::risk::{RiskGate, blocked_event};

/// Everything the engine knows, as one serialisable value (the strategy's
/// own state is kept beside it, see [`Snapshot`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct State {
    config: EngineConfig,
    instruments: Vec<Instrument>,
    /// Per instrument: whether units bought today are sellable only tomorrow.
    t1: Vec<bool>,
    portfolio: Portfolio,
    /// Reference previous close per instrument (NaN unknown).
    prev_close: Vec<f64>,
    /// 0-based trading days since listing, when the listing is in the data.
    listing_day: Vec<Option<usize>>,
    /// Decided at each instrument's first bar: is it its listing day?
    ipo_in_data: Vec<Option<bool>>,
    bars_seen: Vec<usize>,
    oms: Oms,
    equity: Vec<EquityPoint>,
    fills: Vec<quant_core::Fill>,
    dividends: Vec<Dividend>,
    risk_events: Vec<crate::risk::RiskEvent>,
    gate: Option<RiskGate>,
    halted: bool,
    /// The trading day being processed.
    day: Option<NaiveDate>,
    /// The latest instant an event carried (bars, quotes, timers, account
    /// snapshots); `None` on daily bars.
    now: Option<UnixNanos>,
    /// Stops the venue lacks, held and triggered here.
    emulator: Emulator,
    /// Submit timeouts: timer → order, and order → its timer.
    timers: BTreeMap<TimerId, OrderId>,
    order_timer: BTreeMap<OrderId, TimerId>,
    next_timer: u64,
    /// The last account snapshot differed from the book: new orders are
    /// refused until one agrees or the operator resumes.
    account_blocked: bool,
    /// Orders worked by execution algorithms (TWAP, iceberg).
    algos: Algos,
    /// Bars events seen: the clock of the algorithms' windows.
    bar_clock: u64,
    /// Each instrument's volume on its latest bar (NaN before one).
    volume: Vec<f64>,
}

/// An engine's state at one moment: its own (CBOR) and its strategy's
/// ([`Strategy::save_state`]), to write to a journal and restore from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The engine's state, CBOR.
    pub engine: Vec<u8>,
    /// The strategy's state, in the strategy's own encoding.
    pub strategy: Vec<u8>,
}

/// The engine; see the module docs.
pub struct Engine {
    state: State,
    strategy: Box<dyn Strategy>,
    /// Scratch for the strategy's signals (kept to avoid an allocation a day).
    signals: Vec<Signal>,
}

impl Engine {
    /// An engine over `instruments` (indexed by [`InstrumentIndex`]) with
    /// `t_plus_one[i]` telling whether instrument `i`'s units bought today
    /// settle tomorrow (the venue's market rule), running `strategy`.
    ///
    /// # Errors
    /// [`Error::Setting`] / [`Error::Risk`] for settings out of range
    /// ([`EngineConfig::validate`]); [`Error::Strategy`] when the strategy
    /// refuses the universe; [`Error::Feed`] when `t_plus_one` does not
    /// match the instruments.
    pub fn new(
        config: EngineConfig,
        instruments: Vec<Instrument>,
        t_plus_one: Vec<bool>,
        mut strategy: Box<dyn Strategy>,
    ) -> Result<Self> {
        config.validate()?;
        let n = instruments.len();
        if t_plus_one.len() != n {
            return Err(Error::Feed(format!(
                "{} settlement flags for {n} instruments",
                t_plus_one.len()
            )));
        }
        strategy.on_start(&instruments)?;
        let gate = config
            .risk
            .clone()
            .map(|cfg| RiskGate::new(cfg, n, config.initial_cash.to_f64()));
        let state = State {
            portfolio: Portfolio::new(config.initial_cash, n),
            config,
            instruments,
            t1: t_plus_one,
            prev_close: vec![f64::NAN; n],
            listing_day: vec![None; n],
            ipo_in_data: vec![None; n],
            bars_seen: vec![0; n],
            oms: Oms::new(None)?,
            equity: Vec::new(),
            fills: Vec::new(),
            dividends: Vec::new(),
            risk_events: Vec::new(),
            gate,
            halted: false,
            day: None,
            now: None,
            emulator: Emulator::new(),
            timers: BTreeMap::new(),
            order_timer: BTreeMap::new(),
            next_timer: 0,
            account_blocked: false,
            algos: Algos::new(),
            bar_clock: 0,
            volume: vec![f64::NAN; n],
        };
        Ok(Self {
            state,
            strategy,
            signals: Vec::new(),
        })
    }

    /// The account: cash, positions, marks.
    pub fn portfolio(&self) -> &Portfolio {
        &self.state.portfolio
    }

    /// The instruments.
    pub fn instruments(&self) -> &[Instrument] {
        &self.state.instruments
    }

    /// The order `id`.
    pub fn order(&self, id: OrderId) -> Option<&Order> {
        self.state.oms.get(id)
    }

    /// The market of trading day `day` as the venue needs it (`bars` as in
    /// the day's events; `bar_time` the open and close instants of
    /// intraday bars).
    pub fn market<'a>(
        &'a self,
        day: NaiveDate,
        bars: &'a [Option<Bar>],
        bar_time: Option<(quant_core::UnixNanos, quant_core::UnixNanos)>,
    ) -> MarketState<'a> {
        MarketState {
            date: day,
            instruments: &self.state.instruments,
            bars,
            prev_close: &self.state.prev_close,
            listing_day: &self.state.listing_day,
            bar_time,
        }
    }

    /// The strategy's registry name.
    pub fn strategy_name(&self) -> &str {
        self.strategy.name()
    }

    /// Handles one event; commands for the driver are appended to `out`.
    ///
    /// # Errors
    /// [`Error::Feed`] for bars of another number of instruments;
    /// [`Error::Strategy`] for a strategy order outside the universe;
    /// [`Error::UnknownOrder`] / [`Error::Core`] for a report the order
    /// book cannot take (see [`quant_exec::oms`]).
    pub fn handle(&mut self, event: Event<'_>, out: &mut Vec<Command>) -> Result<()> {
        match event {
            Event::SessionOpen { day, bars } => self.on_open(day, bars),
            Event::Bars {
                day,
                time,
                bars,
                history,
                calendar,
            } => {
                let equity = &mut self.state.equity;
                if equity.len() == equity.capacity() {
                    // room for the rest of the calendar's days at once, so
                    // that the curve does not grow on the per-bar path
                    let left = calendar.days().len().saturating_sub(equity.len());
                    equity.reserve(left.max(1));
                }
                self.on_bars(day, time, bars, history, calendar, out)
            }
            Event::Report(r) => self.on_report(r, out),
            Event::SessionClose { day, benchmark } => {
                if !self.state.emulator.is_empty() {
                    let mut ended = Vec::new();
                    self.state.emulator.on_session_close(day, &mut ended);
                    self.emulated(ended, out)?;
                }
                let p = &self.state.portfolio;
                self.state.equity.push(EquityPoint {
                    date: day,
                    equity: p.equity(),
                    cash: p.cash,
                    benchmark,
                });
                Ok(())
            }
            Event::Quote(q) => self.on_quote(&q, out),
            Event::Timer { id, time } => self.on_timer(id, time, out),
            Event::Account(a) => {
                self.on_account(&a, out);
                Ok(())
            }
            Event::Control(c) => self.on_control(c, out),
        }
    }

    fn advance_time(&mut self, time: UnixNanos) {
        if self.state.now.is_none_or(|t| t < time) {
            self.state.now = Some(time);
        }
    }

    fn on_quote(&mut self, q: &Quote, out: &mut Vec<Command>) -> Result<()> {
        let i = q.instrument.get();
        let n = self.state.instruments.len();
        if i >= n {
            return Err(Error::Feed(format!("a quote for instrument {i} of {n}")));
        }
        self.advance_time(q.time);
        let Some(px) = q.price() else {
            return Ok(());
        };
        self.state.portfolio.marks[i] = px;
        if self.state.emulator.is_empty() {
            return Ok(());
        }
        let tick = self.state.instruments[i].tick_size;
        if let Ok(p) = Price::from_f64_tick(px, tick) {
            let mut fired = Vec::new();
            self.state
                .emulator
                .on_quote(q.instrument, p, tick, &mut fired);
            self.emulated(fired, out)?;
        }
        Ok(())
    }

    fn on_timer(&mut self, id: TimerId, time: UnixNanos, out: &mut Vec<Command>) -> Result<()> {
        self.advance_time(time);
        let Some(order) = self.state.timers.remove(&id) else {
            // cancelled before it fired, or not ours: nothing to do
            return Ok(());
        };
        self.state.order_timer.remove(&order);
        let day = self.state.day.unwrap_or(NaiveDate::MIN);
        let waiting = self
            .state
            .oms
            .get(order)
            .is_some_and(|o| o.status == quant_core::OrderStatus::PendingSubmit);
        if waiting {
            self.state.oms.apply(Report::TimedOut { id: order }, day)?;
            out.push(Command::Query(order));
            out.push(Command::Alert {
                day,
                message: format!(
                    "order {order}: no answer from the venue in time; status unknown, queried"
                ),
            });
        }
        Ok(())
    }

    /// Compares a broker's account with the book (see [`Event::Account`]).
    fn on_account(&mut self, a: &AccountSnapshot, out: &mut Vec<Command>) {
        self.advance_time(a.time);
        let day = self.state.day.unwrap_or(NaiveDate::MIN);
        let diffs = account_diffs(a, &self.state.instruments, &self.state.portfolio);
        if diffs.is_empty() {
            if self.state.account_blocked {
                self.state.account_blocked = false;
                out.push(Command::Alert {
                    day,
                    message: "account agrees with the book again: trading resumed".into(),
                });
            }
            return;
        }
        self.state.account_blocked = true;
        out.push(Command::Alert {
            day,
            message: format!(
                "account differs from the book, new orders blocked: {}",
                diffs.join("; ")
            ),
        });
    }

    /// Whether new orders are refused (halted, or the account differs).
    fn blocked(&self) -> bool {
        self.state.halted || self.state.account_blocked
    }

    /// What the emulator handed back: trigger orders go to the venue, local
    /// ends to the book.
    fn emulated(&mut self, steps: Vec<Emulated>, out: &mut Vec<Command>) -> Result<()> {
        for step in steps {
            match step {
                Emulated::Send(o) => {
                    let id = o.id;
                    out.push(Command::Submit(o));
                    self.arm_timer(id, out);
                }
                Emulated::Report(r) => self.on_report(r, out)?,
            }
        }
        Ok(())
    }

    /// A submit timeout for order `id`, when configured and time is known.
    fn arm_timer(&mut self, id: OrderId, out: &mut Vec<Command>) {
        let s = &mut self.state;
        let (Some(ms), Some(now)) = (s.config.ack_timeout_ms, s.now) else {
            return;
        };
        s.next_timer += 1;
        let timer = TimerId(s.next_timer);
        let ms = i64::try_from(ms).unwrap_or(i64::MAX);
        let at = UnixNanos(now.0.saturating_add(ms.saturating_mul(1_000_000)));
        s.timers.insert(timer, id);
        s.order_timer.insert(id, timer);
        out.push(Command::SetTimer { id: timer, at });
    }

    /// Sends `o` to the venue, holds it for emulation, or rejects it as
    /// unsupported ([`quant_exec::emulate::VenueCaps::route`]).
    fn dispatch(&mut self, o: Order, out: &mut Vec<Command>) -> Result<()> {
        let day = self.state.day.unwrap_or(o.created);
        match self.state.config.venue.route(&o) {
            Route::Venue => {
                let id = o.id;
                out.push(Command::Submit(o));
                self.arm_timer(id, out);
            }
            Route::Emulate => {
                if self.state.emulator.hold(&o).is_err() {
                    self.state.oms.apply(
                        Report::Rejected {
                            id: o.id,
                            reason: RejectReason::Unsupported,
                        },
                        day,
                    )?;
                }
            }
            Route::Unsupported => {
                self.state.oms.apply(
                    Report::Rejected {
                        id: o.id,
                        reason: RejectReason::Unsupported,
                    },
                    day,
                )?;
            }
        }
        Ok(())
    }

    /// Cancels order `id`: a held one locally, others at the venue.
    fn cancel_order(&mut self, id: OrderId, day: NaiveDate, out: &mut Vec<Command>) -> Result<()> {
        self.state.oms.request_cancel(id, day)?;
        if self.state.algos.is_parent(id) {
            // the algorithm cancels its children, then the parent
            let actions = self.state.algos.cancel(id);
            return self.algo_actions(actions, day, out);
        }
        match self.state.emulator.cancel(id) {
            CancelRoute::Local(r) => {
                self.state.oms.apply(r, day)?;
            }
            CancelRoute::Venue => out.push(Command::Cancel(id)),
        }
        Ok(())
    }

    fn check_bars(&self, day: NaiveDate, bars: &[Option<Bar>]) -> Result<()> {
        let n = self.state.instruments.len();
        if bars.len() == n {
            Ok(())
        } else {
            Err(Error::Feed(format!(
                "{day}: {} bars for {n} instruments",
                bars.len()
            )))
        }
    }

    fn on_open(&mut self, day: NaiveDate, bars: &[Option<Bar>]) -> Result<()> {
        self.check_bars(day, bars)?;
        let s = &mut self.state;
        s.day = Some(day);
        if let Some(g) = s.gate.as_mut() {
            let open = s
                .equity
                .last()
                .map_or(s.config.initial_cash.to_f64(), |p| p.equity);
            g.on_day_start(day, open);
        }
        for (i, bar) in bars.iter().enumerate() {
            if let Some(b) = bar {
                s.prev_close[i] = if b.pre_close.is_finite() {
                    b.pre_close
                } else {
                    s.portfolio.marks[i]
                };
                let ipo = *s.ipo_in_data[i]
                    .get_or_insert_with(|| s.instruments[i].list_date == Some(b.date));
                if ipo {
                    s.listing_day[i] = Some(s.bars_seen[i]);
                }
                // trading days with a bar (counted once a day, intraday too)
                s.bars_seen[i] += 1;
            } else if s.portfolio.marks[i].is_finite() {
                // intraday: no bar in the day's first slot yet; the price
                // limits of its later bars are on the last close
                s.prev_close[i] = s.portfolio.marks[i];
            }
        }
        s.portfolio.roll_unsettled();
        if s.config.corporate_actions == CorporateActions::CashDividend {
            book_corporate_actions(
                day,
                &s.instruments,
                bars,
                &mut s.portfolio,
                &mut s.dividends,
            );
        }
        Ok(())
    }

    fn on_bars(
        &mut self,
        day: NaiveDate,
        time: Option<quant_core::UnixNanos>,
        bars: &[Option<Bar>],
        history: &dyn quant_strategy::History,
        calendar: &quant_core::TradingCalendar,
        out: &mut Vec<Command>,
    ) -> Result<()> {
        self.check_bars(day, bars)?;
        let n = self.state.instruments.len();
        {
            let s = &mut self.state;
            for (i, bar) in bars.iter().enumerate() {
                if let Some(b) = bar {
                    s.portfolio.marks[i] = b.close;
                    s.volume[i] = b.volume;
                    if let Some(g) = s.gate.as_mut() {
                        g.on_volume(i, b.volume);
                    }
                }
            }
        }
        if let Some(t) = time {
            self.advance_time(t);
        }
        self.state.bar_clock += 1;
        if !self.state.emulator.is_empty() {
            // held stops see the closed bars before anything decided on them
            let mut fired = Vec::new();
            for (i, bar) in bars.iter().enumerate() {
                let Some(b) = bar else { continue };
                let inst = &self.state.instruments[i];
                let idx = InstrumentIndex(i as u32);
                if self.state.emulator.held().any(|o| o.instrument == idx) {
                    self.state
                        .emulator
                        .on_bar(idx, &BarInput::from(b), inst.tick_size, &mut fired);
                }
            }
            self.emulated(fired, out)?;
        }
        if !self.state.algos.is_empty() {
            // running algorithms place the slices due by this bar
            let State {
                algos,
                oms,
                bar_clock,
                ..
            } = &mut self.state;
            let actions = algos.on_bars(*bar_clock, day, bars, &mut |o| oms.create(o, day))?;
            link_children(algos, oms, &actions);
            self.algo_actions(actions, day, out)?;
        }
        let equity = self.state.portfolio.equity();
        if let Some(g) = self.state.gate.as_mut() {
            g.on_fills(&self.state.fills, &mut self.state.risk_events);
            g.on_equity(day, equity, &mut self.state.risk_events);
            if g.must_flatten() {
                for i in 0..n {
                    let s = &self.state;
                    if s.portfolio.positions[i].is_flat()
                        || s.instruments[i].asset_class == AssetClass::Index
                    {
                        continue;
                    }
                    // the breaker's own sells bypass the gate
                    let o = self.new_order(
                        InstrumentIndex(i as u32),
                        Side::Sell,
                        OrderType::Market,
                        OrderQty::AllPosition,
                        day,
                    )?;
                    self.dispatch(o, out)?;
                }
            }
        }
        {
            let s = &self.state;
            let ctx = Context {
                date: day,
                time,
                calendar,
                instruments: &s.instruments,
                bars,
                history,
                positions: &s.portfolio.positions,
                cash: s.portfolio.cash,
                equity,
            };
            self.strategy.on_bar(&ctx, &mut self.signals);
        }
        if let Some(fault) = self.strategy.fault() {
            return Err(Error::Strategy(quant_strategy::Error::Config {
                strategy: self.strategy.name().to_string(),
                message: format!("{day}: {fault}"),
            }));
        }
        let mut signals = std::mem::take(&mut self.signals);
        let result = self.route_signals(&mut signals, day, equity, out);
        signals.clear();
        self.signals = signals;
        result
    }

    fn route_signals(
        &mut self,
        signals: &mut Vec<Signal>,
        day: NaiveDate,
        equity: f64,
        out: &mut Vec<Command>,
    ) -> Result<()> {
        let n = self.state.instruments.len();
        for signal in signals.drain(..) {
            if self.blocked() {
                let why = if self.state.halted {
                    "halted"
                } else {
                    "account differs from the book"
                };
                out.push(Command::Alert {
                    day,
                    message: format!("{why}: a {} signal was not traded", self.strategy.name()),
                });
                continue;
            }
            match signal {
                Signal::Order {
                    instrument,
                    side,
                    qty,
                    order_type,
                } => {
                    if instrument.get() >= n {
                        return Err(Error::Strategy(quant_strategy::Error::Config {
                            strategy: self.strategy.name().to_string(),
                            message: format!(
                                "{day}: an order for instrument {} of {n}",
                                instrument.get()
                            ),
                        }));
                    }
                    // a losing streak scales new buys down, as for rebalances
                    let factor = self.state.gate.as_ref().map_or(1.0, |g| g.size_factor());
                    let qty = if side == Side::Buy && factor < 1.0 {
                        scale_buy(qty, factor, &self.state.instruments[instrument.get()])
                    } else {
                        qty
                    };
                    let o = self.new_order(instrument, side, order_type, qty, day)?;
                    self.send(o, equity, day, out)?;
                }
                Signal::TargetWeights(targets) => self.rebalance(&targets, equity, day, out)?,
                Signal::Place(req) => self.place(req, equity, day, out)?,
            }
        }
        Ok(())
    }

    /// A [`Signal::Place`]: the order with its terms and, for a bracket,
    /// its take-profit and stop-loss children held until it fills.
    fn place(
        &mut self,
        req: quant_strategy::OrderRequest,
        equity: f64,
        day: NaiveDate,
        out: &mut Vec<Command>,
    ) -> Result<()> {
        let n = self.state.instruments.len();
        if req.instrument.get() >= n {
            return Err(Error::Strategy(quant_strategy::Error::Config {
                strategy: self.strategy.name().to_string(),
                message: format!(
                    "{day}: an order for instrument {} of {n}",
                    req.instrument.get()
                ),
            }));
        }
        crate::record::validate_execution(&req.exec, "exec")?;
        let o = self
            .new_order(req.instrument, req.side, req.order_type, req.qty, day)?
            .with_tif(req.tif);
        self.state.oms.set_tif(o.id, req.tif)?;
        if req.exec != quant_core::Execution::Direct {
            return self.send_as(o, Some(req.exec), equity, day, out);
        }
        if req.take_profit.is_some() || req.stop_loss.is_some() {
            let exit = match req.side {
                Side::Buy => Side::Sell,
                Side::Sell => Side::Buy,
            };
            let mut children = Vec::new();
            for ty in [
                req.take_profit.map(OrderType::Limit),
                req.stop_loss.map(OrderType::Stop),
            ]
            .into_iter()
            .flatten()
            {
                let c = self.new_order(
                    req.instrument,
                    exit,
                    ty,
                    OrderQty::Units(Quantity::ZERO),
                    day,
                )?;
                self.state.oms.set_tif(c.id, quant_core::TimeInForce::Gtc)?;
                children.push(c.id);
            }
            self.state.oms.link_bracket(o.id, &children)?;
        }
        self.send(o, equity, day, out)
    }

    /// Adds an order to the book and returns it.
    fn new_order(
        &mut self,
        instrument: InstrumentIndex,
        side: Side,
        order_type: OrderType,
        qty: OrderQty,
        day: NaiveDate,
    ) -> Result<Order> {
        let s = &mut self.state;
        let o = Order::new(
            OrderId(0),
            instrument,
            s.instruments[instrument.get()].symbol.clone(),
            side,
            order_type,
            qty,
            day,
        );
        let id = s.oms.create(o, day)?;
        s.oms.get(id).cloned().ok_or(Error::UnknownOrder(id.0))
    }

    /// Through the risk gate (when configured) to the venue, worked as
    /// the config's [`EngineConfig::execution`] says, or rejected with
    /// [`RejectReason::Risk`] and a risk event.
    fn send(
        &mut self,
        o: Order,
        equity: f64,
        day: NaiveDate,
        out: &mut Vec<Command>,
    ) -> Result<()> {
        self.send_as(o, None, equity, day, out)
    }

    /// [`Engine::send`] with an order's own execution (`Some`: asked for
    /// explicitly, refused when it cannot work the order; `None`: the
    /// config's, which leaves orders it cannot work as they are).
    fn send_as(
        &mut self,
        mut o: Order,
        exec: Option<quant_core::Execution>,
        equity: f64,
        day: NaiveDate,
        out: &mut Vec<Command>,
    ) -> Result<()> {
        let s = &mut self.state;
        if s.config.size_at == crate::record::SizeAt::Decision
            && let OrderQty::Value(v) = o.requested
        {
            let i = o.instrument.get();
            let mark = s.portfolio.marks.get(i).copied().unwrap_or(f64::NAN);
            if let Ok(p) = Price::from_f64_tick(mark, s.instruments[i].tick_size) {
                let units = quant_exec::oms::units_for_value(v.0, p, s.instruments[i].lot_size);
                o.requested = OrderQty::Units(units);
                s.oms.set_requested(o.id, o.requested)?;
            }
        }
        if let Some(g) = s.gate.as_mut()
            && let Some(v) = g.review(&o, &s.instruments, &s.portfolio, equity)
        {
            s.risk_events.push(blocked_event(day, &o, &v));
            s.oms.apply(
                Report::Rejected {
                    id: o.id,
                    reason: RejectReason::Risk,
                },
                day,
            )?;
            return Ok(());
        }
        let explicit = exec.is_some();
        let exec = exec.unwrap_or(s.config.execution);
        if exec == quant_core::Execution::Direct {
            return self.dispatch(o, out);
        }
        self.start_algo(o, exec, explicit, day, out)
    }

    /// Works `o` by execution algorithm `exec` (see [`quant_core::Execution`]):
    /// the order becomes the parent, in units (value, all-cash and
    /// all-position sizes resolved at the decision's mark and position);
    /// one the algorithm cannot work is sent as it is, or, when `explicit`,
    /// rejected `unsupported` with an alert.
    fn start_algo(
        &mut self,
        o: Order,
        exec: quant_core::Execution,
        explicit: bool,
        day: NaiveDate,
        out: &mut Vec<Command>,
    ) -> Result<()> {
        let s = &mut self.state;
        let i = o.instrument.get();
        let inst = &s.instruments[i];
        let mark = s.portfolio.marks.get(i).copied().unwrap_or(f64::NAN);
        let price = Price::from_f64_tick(mark, inst.tick_size).ok();
        let units = match (o.requested, price) {
            (OrderQty::Units(u), _) => Some(u),
            (OrderQty::Value(v), Some(p)) => {
                Some(quant_exec::oms::units_for_value(v.0, p, inst.lot_size))
            }
            (OrderQty::AllCash, Some(p)) => Some(quant_exec::oms::units_for_value(
                s.portfolio.cash.0,
                p,
                inst.lot_size,
            )),
            (OrderQty::AllPosition, _) => Some(s.portfolio.positions[i].sellable),
            _ => None,
        };
        let spec = match exec {
            quant_core::Execution::Direct => None,
            quant_core::Execution::Twap {
                bars,
                slices,
                expire_rest,
                participation,
            } => Some(AlgoSpec::Twap(Twap {
                start: s.bar_clock,
                end: s.bar_clock + u64::from(bars),
                slices,
                at_end: if expire_rest {
                    AtEnd::Expire
                } else {
                    AtEnd::Market
                },
                participation: participation
                    .and_then(|p| quant_exec::fill::Participation::new(p).ok()),
                child_tif: quant_core::TimeInForce::Day,
            })),
            quant_core::Execution::Iceberg { visible } => {
                Some(AlgoSpec::Iceberg(Iceberg { visible }))
            }
        };
        // a partial sell is whole lots (only the whole position sells an odd lot)
        let rules = quant_core::MarketRules::new(quant_core::RuleSet::for_instrument(inst));
        let units = match (o.side, units) {
            (Side::Sell, Some(u)) => {
                Some(rules.round_sell(inst, u, s.portfolio.positions[i].sellable))
            }
            (_, u) => u,
        };
        let parent_units = units.unwrap_or_default();
        let algo = match (units, spec) {
            (Some(u), Some(spec)) if !u.0.is_zero() => {
                let mut parent = o.clone();
                parent.requested = OrderQty::Units(u);
                Algo::new(&parent, spec, &rules, inst).map_err(|e| e.to_string())
            }
            _ => Err(format!(
                "an order of {:?} cannot be sized in units at the decision",
                o.requested
            )),
        };
        let algo = match algo {
            Ok(a) => a,
            Err(why) if explicit => {
                s.oms.apply(
                    Report::Rejected {
                        id: o.id,
                        reason: RejectReason::Unsupported,
                    },
                    day,
                )?;
                out.push(Command::Alert {
                    day,
                    message: format!("order {}: not worked by its algorithm: {why}", o.id),
                });
                return Ok(());
            }
            Err(_) => return self.dispatch(o, out),
        };
        s.oms.set_requested(o.id, OrderQty::Units(parent_units))?;
        let volume = s.volume.get(i).copied().filter(|v| v.is_finite());
        let State {
            algos,
            oms,
            bar_clock,
            ..
        } = &mut self.state;
        let actions = algos.start(algo, *bar_clock, volume, day, &mut |c| oms.create(c, day))?;
        link_children(algos, oms, &actions);
        self.algo_actions(actions, day, out)
    }

    /// Carries out what the algorithms asked for, and what that causes.
    fn algo_actions(
        &mut self,
        actions: Vec<AlgoAction>,
        day: NaiveDate,
        out: &mut Vec<Command>,
    ) -> Result<()> {
        let mut queue: std::collections::VecDeque<AlgoAction> = actions.into();
        while let Some(a) = queue.pop_front() {
            match a {
                AlgoAction::Submit(id) => {
                    let Some(child) = self.state.oms.get(id).cloned() else {
                        continue;
                    };
                    self.dispatch(child, out)?;
                    // refused before it was sent (unsupported): the algorithm learns it
                    if let Some(c) = self.state.oms.get(id)
                        && c.status == quant_core::OrderStatus::Rejected
                    {
                        let r = Report::Rejected {
                            id,
                            reason: c.reason.unwrap_or(RejectReason::Unsupported),
                        };
                        let State { algos, oms, .. } = &mut self.state;
                        let next = algos.on_report(&r, day, &mut |o| oms.create(o, day))?;
                        link_children(algos, oms, &next);
                        queue.extend(next);
                    }
                }
                AlgoAction::Cancel(id) => {
                    if self.state.oms.request_cancel(id, day).is_ok() {
                        out.push(Command::Cancel(id));
                    }
                }
                AlgoAction::Parent(r) => {
                    if let Outcome::Applied(next) = self.state.oms.apply(r, day)? {
                        self.oms_actions(next, day, out)?;
                    }
                }
                AlgoAction::ParentFill(f) => {
                    let next = self.state.oms.apply_parent_fill(f, day)?;
                    self.oms_actions(next, day, out)?;
                }
            }
        }
        Ok(())
    }

    fn rebalance(
        &mut self,
        targets: &[(InstrumentIndex, f64)],
        equity: f64,
        day: NaiveDate,
        out: &mut Vec<Command>,
    ) -> Result<()> {
        let n = self.state.instruments.len();
        let mut weight = vec![0.0; n];
        for &(i, w) in targets {
            if let Some(slot) = weight.get_mut(i.get()) {
                *slot += w;
            }
        }
        let mut buys = Vec::new();
        for (i, w) in weight.iter().enumerate() {
            let (inst_class, lot, mark, held, value) = {
                let s = &self.state;
                let inst = &s.instruments[i];
                (
                    inst.asset_class,
                    inst.lot_size,
                    s.portfolio.marks[i],
                    !s.portfolio.positions[i].is_flat(),
                    s.portfolio.position_value(i),
                )
            };
            if inst_class == AssetClass::Index {
                continue;
            }
            let idx = InstrumentIndex(i as u32);
            if *w <= 0.0 {
                if held {
                    let o = self.new_order(
                        idx,
                        Side::Sell,
                        OrderType::Market,
                        OrderQty::AllPosition,
                        day,
                    )?;
                    self.send(o, equity, day, out)?;
                }
                continue;
            }
            if !(mark.is_finite() && mark > 0.0) {
                continue;
            }
            let delta = w * equity - value;
            let lot_value = mark * quant_core::money::decimal_to_f64(lot);
            // Adjustments smaller than one lot are skipped; a new position
            // below one lot is still sent, so the venue records `below_lot`.
            if delta.abs() < lot_value && (held || delta <= 0.0) {
                continue;
            }
            if delta < 0.0 {
                let units = Decimal::from_f64((-delta / mark).floor()).unwrap_or_default();
                let o = self.new_order(
                    idx,
                    Side::Sell,
                    OrderType::Market,
                    OrderQty::Units(Quantity(units)),
                    day,
                )?;
                self.send(o, equity, day, out)?;
            } else {
                // a losing streak scales new buys down
                let factor = self.state.gate.as_ref().map_or(1.0, |g| g.size_factor());
                if let Ok(v) = Cash::from_f64_cents(delta * factor) {
                    buys.push((idx, v));
                }
            }
        }
        for (idx, v) in buys {
            let o = self.new_order(idx, Side::Buy, OrderType::Market, OrderQty::Value(v), day)?;
            self.send(o, equity, day, out)?;
        }
        Ok(())
    }

    fn on_report(&mut self, report: Report, out: &mut Vec<Command>) -> Result<()> {
        let day = self.state.day.unwrap_or(NaiveDate::MIN);
        if !self.state.order_timer.is_empty()
            && !matches!(report, Report::TimedOut { .. })
            && let Some(t) = self.state.order_timer.remove(&report.order())
        {
            // the venue answered: the submit timeout is no longer wanted
            self.state.timers.remove(&t);
            out.push(Command::CancelTimer(t));
        }
        let for_algos = (!self.state.algos.is_empty()).then(|| report.clone());
        let actions = match self.state.oms.apply(report, day)? {
            Outcome::Applied(a) => a,
            Outcome::Duplicate | Outcome::Stale => return Ok(()),
        };
        self.oms_actions(actions, day, out)?;
        if let Some(r) = for_algos {
            let State { algos, oms, .. } = &mut self.state;
            let next = algos.on_report(&r, day, &mut |o| oms.create(o, day))?;
            link_children(algos, oms, &next);
            self.algo_actions(next, day, out)?;
        }
        Ok(())
    }

    /// Carries out what the order book asked for after a report.
    fn oms_actions(
        &mut self,
        actions: Vec<Action>,
        day: NaiveDate,
        out: &mut Vec<Command>,
    ) -> Result<()> {
        for a in actions {
            match a {
                Action::Book(fill) => {
                    let t1 = self
                        .state
                        .t1
                        .get(fill.instrument.get())
                        .copied()
                        .unwrap_or(false);
                    self.state.portfolio.apply_fill(&fill, t1);
                    self.strategy.on_fill(&fill);
                    self.state.fills.push(fill);
                }
                Action::Cancel(id) => self.cancel_order(id, day, out)?,
                Action::Submit(id) => {
                    if let Some(o) = self.state.oms.get(id) {
                        if self.blocked() {
                            out.push(Command::Alert {
                                day,
                                message: format!("blocked: bracket order {id} was not sent"),
                            });
                        } else {
                            let o = o.clone();
                            self.dispatch(o, out)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn on_control(&mut self, c: Control, out: &mut Vec<Command>) -> Result<()> {
        let day = self.state.day.unwrap_or(NaiveDate::MIN);
        match c {
            Control::Halt => {
                self.state.halted = true;
                let open: Vec<OrderId> = self
                    .state
                    .oms
                    .open()
                    .map(|o| o.id)
                    .filter(|id| self.state.algos.parent_of(*id).is_none())
                    .collect();
                for id in open {
                    // an order already being cancelled is left as it is; an
                    // algorithm's children go with their parent
                    let _ = self.cancel_order(id, day, out);
                }
                out.push(Command::Alert {
                    day,
                    message: "halted: working orders cancelled, new orders refused".into(),
                });
            }
            Control::Resume => {
                self.state.halted = false;
                let accepted = std::mem::take(&mut self.state.account_blocked);
                out.push(Command::Alert {
                    day,
                    message: if accepted {
                        "resumed: the account difference is accepted".into()
                    } else {
                        "resumed".into()
                    },
                });
            }
            Control::Cancel(id) => self.cancel_order(id, day, out)?,
            Control::Replace { id, price, qty } => self.replace(id, price, qty, day, out)?,
        }
        Ok(())
    }

    /// [`Control::Replace`]: the new terms of order `id`, checked here
    /// and sent as [`Command::Replace`] (a held order is changed in place:
    /// its replacement is confirmed at once).
    fn replace(
        &mut self,
        id: OrderId,
        price: Option<Price>,
        qty: Option<Quantity>,
        day: NaiveDate,
        out: &mut Vec<Command>,
    ) -> Result<()> {
        let o = self.state.oms.get(id).ok_or(Error::UnknownOrder(id.0))?;
        let bad = |message: String| Error::Replace { id: id.0, message };
        let order_type = match (o.order_type, price) {
            (t, None) => t,
            (OrderType::Limit(_), Some(p)) => OrderType::Limit(p),
            (OrderType::Stop(_), Some(p)) => OrderType::Stop(p),
            (OrderType::StopLimit { stop, .. }, Some(p)) => OrderType::StopLimit { stop, limit: p },
            (t, Some(_)) => {
                return Err(bad(format!(
                    "a {} order has no price to change",
                    t.as_str()
                )));
            }
        };
        if let Some(p) = price
            && p.0 <= Decimal::ZERO
        {
            return Err(bad(format!("price {p} must be above 0")));
        }
        let requested = match (o.requested, qty) {
            (r, None) => r,
            (_, Some(q)) if q > o.filled => OrderQty::Units(q),
            (_, Some(q)) => {
                return Err(bad(format!(
                    "size {q} must be above the {} units filled",
                    o.filled
                )));
            }
        };
        if self.state.emulator.is_held(id) {
            // not at the venue yet: hold it again with the new terms
            let mut changed = o.clone();
            changed.order_type = order_type;
            changed.requested = requested;
            let _ = self.state.emulator.cancel(id);
            self.state.emulator.hold(&changed)?;
            self.state.oms.set_terms(id, order_type, requested)?;
            return Ok(());
        }
        self.state.oms.request_replace(id, day)?;
        out.push(Command::Replace {
            id,
            order_type,
            requested,
        });
        Ok(())
    }

    /// The run is over (a backtest's last day, after the venue expired
    /// its working orders): orders still open here — held for emulation,
    /// parents of execution algorithms, children the venue never saw —
    /// expire, so every order of the record has ended.
    ///
    /// # Errors
    /// [`Error::Exec`] / [`Error::Core`] when the book refuses an expiry.
    pub fn end_run(&mut self) -> Result<()> {
        let day = self.state.day.unwrap_or(NaiveDate::MIN);
        self.state.algos = Algos::new();
        self.state.emulator = Emulator::new();
        let open: Vec<OrderId> = self.state.oms.open().map(|o| o.id).collect();
        for id in open {
            self.state.oms.apply(Report::Expired { id }, day)?;
        }
        Ok(())
    }

    /// The engine's whole state now (see [`Snapshot`]).
    ///
    /// # Errors
    /// [`Error::Snapshot`] when the state cannot be encoded, or the
    /// strategy cannot save its state.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let mut engine = Vec::new();
        ciborium::into_writer(&self.state, &mut engine)
            .map_err(|e| Error::Snapshot(format!("encoding the engine state: {e}")))?;
        let strategy = self.strategy.save_state()?;
        Ok(Snapshot { engine, strategy })
    }

    /// An engine in the state of `snapshot`, running `strategy` (built from
    /// the same configuration as the snapshotted one; its saved state is
    /// loaded into it).
    ///
    /// # Errors
    /// [`Error::Snapshot`] for a snapshot that does not decode;
    /// [`Error::Strategy`] when the strategy refuses its saved state.
    pub fn restore(snapshot: &Snapshot, mut strategy: Box<dyn Strategy>) -> Result<Self> {
        let state: State = ciborium::from_reader(snapshot.engine.as_slice())
            .map_err(|e| Error::Snapshot(format!("decoding the engine state: {e}")))?;
        strategy.on_start(&state.instruments)?;
        strategy.load_state(&snapshot.strategy)?;
        Ok(Self {
            state,
            strategy,
            signals: Vec::new(),
        })
    }

    /// Everything recorded so far.
    pub fn record(&self) -> RunRecord {
        RunRecord {
            equity: self.state.equity.clone(),
            orders: self.state.oms.orders().to_vec(),
            fills: self.state.fills.clone(),
            dividends: self.state.dividends.clone(),
            risk_events: self.state.risk_events.clone(),
        }
    }

    /// The record, consuming the engine (no copies).
    pub fn into_record(self) -> RunRecord {
        let s = self.state;
        RunRecord {
            equity: s.equity,
            orders: s.oms.into_orders(),
            fills: s.fills,
            dividends: s.dividends,
            risk_events: s.risk_events,
        }
    }
}

fn book_corporate_actions(
    date: NaiveDate,
    instruments: &[Instrument],
    bars: &[Option<Bar>],
    portfolio: &mut Portfolio,
    out: &mut Vec<Dividend>,
) {
    for (i, bar) in bars.iter().enumerate() {
        let Some(b) = bar else { continue };
        let pos = portfolio.positions[i];
        if pos.is_flat() || !b.pre_close.is_finite() || !portfolio.marks[i].is_finite() {
            continue;
        }
        let tick = instruments[i].tick_size;
        let (Ok(prev), Ok(pre)) = (
            Price::from_f64_tick(portfolio.marks[i], tick),
            Price::from_f64_tick(b.pre_close, tick),
        ) else {
            continue;
        };
        let gap = prev.0 - pre.0;
        if gap.abs() * Decimal::TWO <= tick || pre.0.is_zero() {
            continue;
        }
        // checked: prices from the data could make the products overflow
        // `Decimal`; such a gap is not booked (no panic)
        let q = pos.quantity.0;
        let booked = if gap > Decimal::ZERO {
            q.checked_mul(gap).map(|a| (pos.quantity, Cash(a)))
        } else {
            q.checked_mul(prev.0).and_then(|held| {
                let scaled = held.checked_div(pre.0)?.floor();
                let rest = held.checked_sub(scaled.checked_mul(pre.0)?)?;
                Some((Quantity(scaled), Cash(rest)))
            })
        };
        let Some((new_q, amount)) = booked else {
            continue;
        };
        portfolio.cash += amount;
        if new_q != pos.quantity {
            portfolio.set_quantity(i, new_q);
        }
        out.push(Dividend {
            date,
            symbol: instruments[i].symbol.clone(),
            quantity: pos.quantity,
            new_quantity: new_q,
            amount,
        });
    }
}

/// A buy's quantity scaled by a breaker's size `factor` (< 1): values
/// scaled to the cent, units rounded down to whole lots; all-cash buys are
/// left as asked.
fn scale_buy(qty: OrderQty, factor: f64, inst: &Instrument) -> OrderQty {
    match qty {
        OrderQty::Value(v) => {
            Cash::from_f64_cents(v.to_f64() * factor).map_or(qty, OrderQty::Value)
        }
        OrderQty::Units(q) => {
            let lots = Decimal::from_f64(
                (q.to_f64() * factor / quant_core::money::decimal_to_f64(inst.lot_size)).floor(),
            )
            .unwrap_or_default();
            OrderQty::Units(Quantity(lots * inst.lot_size))
        }
        other => other,
    }
}

/// The differences between a broker's account and the book, one line
/// each: cash beyond a cent, a position of another size, a symbol the run
/// does not know.
fn account_diffs(a: &AccountSnapshot, instruments: &[Instrument], p: &Portfolio) -> Vec<String> {
    let mut out = Vec::new();
    let cash_gap = a.cash.0 - p.cash.0;
    if cash_gap.abs() > Decimal::new(1, 2) {
        out.push(format!(
            "cash {} at the broker, {} in the book",
            a.cash, p.cash
        ));
    }
    let mut seen = vec![false; instruments.len()];
    for (sym, q) in &a.positions {
        match instruments.iter().position(|i| &i.symbol == sym) {
            Some(i) => {
                seen[i] = true;
                let ours = p.positions[i].quantity;
                if ours != *q {
                    out.push(format!("{sym}: {q} at the broker, {ours} in the book"));
                }
            }
            None if q.0.is_zero() => {}
            None => out.push(format!(
                "{sym}: {q} at the broker, not an instrument of the run"
            )),
        }
    }
    for (i, inst) in instruments.iter().enumerate() {
        let ours = p.positions[i].quantity;
        if !seen[i] && !ours.0.is_zero() {
            out.push(format!(
                "{}: none at the broker, {ours} in the book",
                inst.symbol
            ));
        }
    }
    out
}

/// Records on each new child order of `actions` the parent it works for.
fn link_children(algos: &Algos, oms: &mut Oms, actions: &[AlgoAction]) {
    for a in actions {
        if let AlgoAction::Submit(c) = a
            && let Some(p) = algos.parent_of(*c)
        {
            oms.set_parent(*c, p);
        }
    }
}
