//! The event loop: trading days → strategy calls → orders → fills → portfolio.
//!
//! For each trading day the [`Clock`] yields, in this order:
//! 1. the [`DataFeed`] advances to the day and lends its bars (history now ends today);
//! 2. positions roll (T+1 units bought yesterday become sellable);
//! 3. corporate actions on ex-dates are booked ([`CorporateActions`]);
//! 4. the venue acts at the open (next-open fills of yesterday's orders);
//! 5. positions are marked at today's close (suspended instruments keep
//!    their last close);
//! 6. the strategy decides at the close; its signals become orders;
//! 7. the venue acts at the close (same-close fills);
//! 8. an equity point `cash + Σ quantity × close` is recorded.
//!
//! At the end of the run, working orders expire.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::{Deserialize, Serialize};

use quant_core::{
    AssetClass, Bar, Cash, Fill, InstrumentIndex, Order, OrderEvent, OrderId, OrderQty, OrderType,
    Price, Quantity, RejectReason, Side, Symbol,
};
use quant_strategy::{Context, Signal, Strategy};

use crate::error::{Error, Result};
use crate::portfolio::Portfolio;
use crate::risk::{RiskEvent, RiskGate, blocked_event};
use crate::traits::{Clock, DataFeed, MarketState, Phase, Venue, VenueEvent};

/// How ex-dates (a bar whose `pre_close` differs from the previous close by
/// more than half a tick) change a held position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorporateActions {
    /// Nothing is booked: the position keeps its raw quantity and loses the
    /// ex-date gap (the golden case).
    None,
    /// The position keeps its value (default): a drop is credited as a cash
    /// dividend of quantity × (previous close − pre_close); a rise (unit
    /// consolidation, reverse split) scales the quantity down by
    /// previous close / pre_close (whole units), the remainder paid in cash.
    CashDividend,
}

/// Largest starting cash the engine takes: 10¹⁵ currency units (far above
/// any account; money stays exact in `rust_decimal` below it).
pub const MAX_INITIAL_CASH: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// Settings of the event loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Starting cash in account currency.
    pub initial_cash: Cash,
    /// Ex-date treatment.
    pub corporate_actions: CorporateActions,
    /// Pre-trade checks and circuit breakers applied to every order
    /// (`None`: none; see [`crate::risk`]).
    #[serde(default)]
    pub risk: Option<quant_risk::RiskConfig>,
}

/// One point of the daily equity curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// Trading day.
    pub date: NaiveDate,
    /// Cash + Σ quantity × close, account currency.
    pub equity: f64,
    /// Cash, account currency (exact).
    pub cash: Cash,
    /// Benchmark close (index points), NaN when none.
    pub benchmark: f64,
}

/// A corporate action booked on a held position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dividend {
    /// Ex-date.
    pub date: NaiveDate,
    /// Ticker.
    pub symbol: Symbol,
    /// Units held before the action.
    pub quantity: Quantity,
    /// Units held after (differs for consolidations).
    pub new_quantity: Quantity,
    /// Cash credited, account currency.
    pub amount: Cash,
}

/// Everything a run records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunRecord {
    /// The daily equity curve.
    pub equity: Vec<EquityPoint>,
    /// Every order with its final status and reason, by id.
    pub orders: Vec<Order>,
    /// Every fill, in order.
    pub fills: Vec<Fill>,
    /// Corporate actions booked.
    pub dividends: Vec<Dividend>,
    /// Orders blocked by the risk gate and breaker trips, in order.
    pub risk_events: Vec<RiskEvent>,
}

/// The event loop; see the module docs.
pub struct Engine {
    config: EngineConfig,
}

fn apply_order_event(
    orders: &mut [Order],
    id: OrderId,
    event: OrderEvent,
    date: NaiveDate,
) -> Result<&mut Order> {
    let o = usize::try_from(id.0)
        .ok()
        .and_then(|k| k.checked_sub(1))
        .and_then(|k| orders.get_mut(k))
        .ok_or(Error::UnknownOrder(id.0))?;
    o.apply(event, date)?;
    Ok(o)
}

/// Where new orders go: through the risk gate (when configured) to the
/// venue, or rejected with [`RejectReason::Risk`] and a risk event.
struct Outbox<'a> {
    record: &'a mut RunRecord,
    gate: Option<&'a mut RiskGate>,
    events: &'a mut Vec<VenueEvent>,
}

impl Outbox<'_> {
    fn submit<V: Venue>(
        &mut self,
        o: Order,
        instruments: &[quant_core::Instrument],
        portfolio: &Portfolio,
        equity: f64,
        venue: &mut V,
        date: NaiveDate,
    ) -> Result<()> {
        if let Some(g) = self.gate.as_deref_mut()
            && let Some(v) = g.review(&o, instruments, portfolio, equity)
        {
            self.record.risk_events.push(blocked_event(date, &o, &v));
            let stored =
                apply_order_event(&mut self.record.orders, o.id, OrderEvent::Reject, date)?;
            stored.reason = Some(RejectReason::Risk);
            return Ok(());
        }
        venue.submit(&o, self.events);
        Ok(())
    }
}

impl EngineConfig {
    /// Checks the settings: `initial_cash` in (0, [`MAX_INITIAL_CASH`]],
    /// the risk settings as `quant-risk` checks them.
    ///
    /// # Errors
    /// [`Error::Setting`] naming `initial_cash`, or [`Error::Risk`] naming
    /// the risk key, with the value and the range.
    pub fn validate(&self) -> Result<()> {
        let cash = self.initial_cash.0;
        if !(cash > Decimal::ZERO && cash <= MAX_INITIAL_CASH) {
            return Err(Error::Setting {
                key: "initial_cash".into(),
                value: cash.to_string(),
                expected: format!("must lie in (0, {MAX_INITIAL_CASH}]"),
            });
        }
        if let Some(r) = &self.risk {
            r.validate()?;
        }
        Ok(())
    }
}

impl Engine {
    /// An engine with `config`.
    pub fn new(config: EngineConfig) -> Self {
        Self { config }
    }

    /// Runs the loop until the clock ends. `on_day` is called after each day
    /// with the number of days done (for progress bars).
    ///
    /// # Errors
    /// [`Error::Setting`] or [`Error::Risk`] for settings out of range
    /// ([`EngineConfig::validate`], checked first), [`Error::Strategy`]
    /// when the strategy refuses the universe or orders an instrument
    /// outside it, [`Error::Feed`] when the feed fails or lends a day's
    /// bars for another number of instruments, [`Error::UnknownOrder`] /
    /// [`Error::Core`] when the venue breaks the order state machine.
    pub fn run<C: Clock, F: DataFeed, V: Venue>(
        &self,
        clock: &mut C,
        feed: &mut F,
        venue: &mut V,
        strategy: &mut dyn Strategy,
        mut on_day: impl FnMut(usize),
    ) -> Result<RunRecord> {
        self.config.validate()?;
        let instruments = feed.instruments().to_vec();
        let n = instruments.len();
        strategy.on_start(&instruments)?;
        let t1: Vec<bool> = instruments.iter().map(|i| venue.t_plus_one(i)).collect();
        let mut portfolio = Portfolio::new(self.config.initial_cash, n);
        let mut prev_close = vec![f64::NAN; n];
        let mut listing_day: Vec<Option<usize>> = vec![None; n];
        // decided at each instrument's first bar: is it its listing day (IPO rules apply)?
        let mut ipo_in_data: Vec<Option<bool>> = vec![None; n];
        let mut bars_seen = vec![0usize; n];
        let mut record = RunRecord::default();
        let mut gate = self
            .config
            .risk
            .clone()
            .map(|cfg| RiskGate::new(cfg, n, self.config.initial_cash.to_f64()));
        let mut events = Vec::new();
        let mut signals = Vec::new();
        let mut days = 0usize;
        let mut last_date = None;

        while let Some(date) = clock.next_session() {
            feed.advance(date)?;
            let bars = feed.bars();
            if bars.len() != n {
                return Err(Error::Feed(format!(
                    "{date}: {} bars for {n} instruments",
                    bars.len()
                )));
            }
            if let Some(g) = gate.as_mut() {
                let open = record
                    .equity
                    .last()
                    .map_or(self.config.initial_cash.to_f64(), |p| p.equity);
                g.on_day_start(date, open);
            }
            for i in 0..n {
                if let Some(b) = &bars[i] {
                    prev_close[i] = if b.pre_close.is_finite() {
                        b.pre_close
                    } else {
                        portfolio.marks[i]
                    };
                    let ipo = *ipo_in_data[i]
                        .get_or_insert_with(|| instruments[i].list_date == Some(b.date));
                    if ipo {
                        listing_day[i] = Some(bars_seen[i]);
                    }
                }
            }
            portfolio.roll_unsettled();
            if self.config.corporate_actions == CorporateActions::CashDividend {
                self.book_corporate_actions(
                    date,
                    &instruments,
                    bars,
                    &mut portfolio,
                    &mut record.dividends,
                );
            }
            let market = MarketState {
                date,
                instruments: &instruments,
                bars,
                prev_close: &prev_close,
                listing_day: &listing_day,
            };
            venue.on_phase(Phase::Open, &market, &portfolio, &mut events);
            Self::apply_events(
                &mut events,
                &mut record,
                &mut portfolio,
                &t1,
                strategy,
                date,
            )?;

            for i in 0..n {
                if let Some(b) = &bars[i] {
                    portfolio.marks[i] = b.close;
                    bars_seen[i] += 1;
                    if let Some(g) = gate.as_mut() {
                        g.on_volume(i, b.volume);
                    }
                }
            }
            let equity = portfolio.equity();
            if let Some(g) = gate.as_mut() {
                g.on_fills(&record.fills, &mut record.risk_events);
                g.on_equity(date, equity, &mut record.risk_events);
                if g.must_flatten() {
                    for (i, p) in portfolio.positions.iter().enumerate() {
                        if p.is_flat() || instruments[i].asset_class == AssetClass::Index {
                            continue;
                        }
                        let o = Self::new_order(
                            &mut record.orders,
                            &instruments,
                            InstrumentIndex(i as u32),
                            Side::Sell,
                            OrderType::Market,
                            OrderQty::AllPosition,
                            date,
                        );
                        venue.submit(&o, &mut events);
                    }
                }
            }
            {
                let ctx = Context {
                    date,
                    calendar: feed.calendar(),
                    instruments: &instruments,
                    bars,
                    history: feed.history(),
                    positions: &portfolio.positions,
                    cash: portfolio.cash,
                    equity,
                };
                strategy.on_bar(&ctx, &mut signals);
            }
            for signal in signals.drain(..) {
                match signal {
                    Signal::Order {
                        instrument,
                        side,
                        qty,
                        order_type,
                    } => {
                        if instrument.get() >= n {
                            return Err(Error::Strategy(quant_strategy::Error::Config {
                                strategy: strategy.name().to_string(),
                                message: format!(
                                    "{date}: an order for instrument {} of {n}",
                                    instrument.get()
                                ),
                            }));
                        }
                        // a losing streak scales new buys down, as for rebalances
                        let factor = gate.as_ref().map_or(1.0, |g| g.size_factor());
                        let qty = if side == Side::Buy && factor < 1.0 {
                            scale_buy(qty, factor, &instruments[instrument.get()])
                        } else {
                            qty
                        };
                        let o = Self::new_order(
                            &mut record.orders,
                            &instruments,
                            instrument,
                            side,
                            order_type,
                            qty,
                            date,
                        );
                        let mut out = Outbox {
                            record: &mut record,
                            gate: gate.as_mut(),
                            events: &mut events,
                        };
                        out.submit(o, &instruments, &portfolio, equity, venue, date)?;
                    }
                    Signal::TargetWeights(targets) => {
                        let mut out = Outbox {
                            record: &mut record,
                            gate: gate.as_mut(),
                            events: &mut events,
                        };
                        Self::rebalance(
                            &targets,
                            &instruments,
                            &portfolio,
                            equity,
                            date,
                            venue,
                            &mut out,
                        )?;
                    }
                }
            }
            Self::apply_events(
                &mut events,
                &mut record,
                &mut portfolio,
                &t1,
                strategy,
                date,
            )?;
            venue.on_phase(Phase::Close, &market, &portfolio, &mut events);
            Self::apply_events(
                &mut events,
                &mut record,
                &mut portfolio,
                &t1,
                strategy,
                date,
            )?;

            record.equity.push(EquityPoint {
                date,
                equity: portfolio.equity(),
                cash: portfolio.cash,
                benchmark: feed.benchmark_close(),
            });
            days += 1;
            last_date = Some(date);
            on_day(days);
        }
        if let Some(date) = last_date {
            venue.expire_all(&mut events);
            Self::apply_events(
                &mut events,
                &mut record,
                &mut portfolio,
                &t1,
                strategy,
                date,
            )?;
        }
        Ok(record)
    }

    fn new_order(
        orders: &mut Vec<Order>,
        instruments: &[quant_core::Instrument],
        instrument: InstrumentIndex,
        side: Side,
        order_type: OrderType,
        qty: OrderQty,
        date: NaiveDate,
    ) -> Order {
        let id = OrderId(orders.len() as u64 + 1);
        let o = Order::new(
            id,
            instrument,
            instruments[instrument.get()].symbol.clone(),
            side,
            order_type,
            qty,
            date,
        );
        orders.push(o.clone());
        o
    }

    fn rebalance<V: Venue>(
        targets: &[(InstrumentIndex, f64)],
        instruments: &[quant_core::Instrument],
        portfolio: &Portfolio,
        equity: f64,
        date: NaiveDate,
        venue: &mut V,
        out: &mut Outbox<'_>,
    ) -> Result<()> {
        let mut weight = vec![0.0; instruments.len()];
        for &(i, w) in targets {
            if let Some(slot) = weight.get_mut(i.get()) {
                *slot += w;
            }
        }
        let mut buys = Vec::new();
        for (i, inst) in instruments.iter().enumerate() {
            if inst.asset_class == AssetClass::Index {
                continue;
            }
            let mark = portfolio.marks[i];
            let held = !portfolio.positions[i].is_flat();
            let idx = InstrumentIndex(i as u32);
            if weight[i] <= 0.0 {
                if held {
                    let o = Self::new_order(
                        &mut out.record.orders,
                        instruments,
                        idx,
                        Side::Sell,
                        OrderType::Market,
                        OrderQty::AllPosition,
                        date,
                    );
                    out.submit(o, instruments, portfolio, equity, venue, date)?;
                }
                continue;
            }
            if !(mark.is_finite() && mark > 0.0) {
                continue;
            }
            let delta = weight[i] * equity - portfolio.position_value(i);
            let lot_value = mark * quant_core::money::decimal_to_f64(inst.lot_size);
            // Adjustments smaller than one lot are skipped; a new position
            // below one lot is still sent, so the venue records `below_lot`.
            if delta.abs() < lot_value && (held || delta <= 0.0) {
                continue;
            }
            if delta < 0.0 {
                let units = Decimal::from_f64((-delta / mark).floor()).unwrap_or_default();
                let o = Self::new_order(
                    &mut out.record.orders,
                    instruments,
                    idx,
                    Side::Sell,
                    OrderType::Market,
                    OrderQty::Units(Quantity(units)),
                    date,
                );
                out.submit(o, instruments, portfolio, equity, venue, date)?;
            } else {
                // a losing streak scales new buys down
                let factor = out.gate.as_ref().map_or(1.0, |g| g.size_factor());
                if let Ok(v) = Cash::from_f64_cents(delta * factor) {
                    buys.push((idx, v));
                }
            }
        }
        for (idx, v) in buys {
            let o = Self::new_order(
                &mut out.record.orders,
                instruments,
                idx,
                Side::Buy,
                OrderType::Market,
                OrderQty::Value(v),
                date,
            );
            out.submit(o, instruments, portfolio, equity, venue, date)?;
        }
        Ok(())
    }

    fn book_corporate_actions(
        &self,
        date: NaiveDate,
        instruments: &[quant_core::Instrument],
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
            // checked: prices from the data could make the products
            // overflow `Decimal`; such a gap is not booked (no panic)
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

    fn apply_events(
        events: &mut Vec<VenueEvent>,
        record: &mut RunRecord,
        portfolio: &mut Portfolio,
        t1: &[bool],
        strategy: &mut dyn Strategy,
        date: NaiveDate,
    ) -> Result<()> {
        for ev in events.drain(..) {
            match ev {
                VenueEvent::Accepted(id) => {
                    apply_order_event(&mut record.orders, id, OrderEvent::Accept, date)?;
                }
                VenueEvent::Rejected(id, reason) => {
                    let o = apply_order_event(&mut record.orders, id, OrderEvent::Reject, date)?;
                    o.reason = Some(reason);
                }
                VenueEvent::Expired(id) => {
                    let o = apply_order_event(&mut record.orders, id, OrderEvent::Expire, date)?;
                    o.reason = Some(RejectReason::Expired);
                }
                VenueEvent::Filled { fill, cut } => {
                    let o = apply_order_event(
                        &mut record.orders,
                        fill.order_id,
                        OrderEvent::Fill,
                        date,
                    )?;
                    o.filled += fill.quantity;
                    o.reason = cut;
                    portfolio.apply_fill(&fill, t1[fill.instrument.get()]);
                    strategy.on_fill(&fill);
                    record.fills.push(fill);
                }
            }
        }
        Ok(())
    }
}

/// A buy's quantity scaled by a breaker's size `factor` (< 1): values
/// scaled to the cent, units rounded down to whole lots; all-cash buys are
/// left as asked.
fn scale_buy(qty: OrderQty, factor: f64, inst: &quant_core::Instrument) -> OrderQty {
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
