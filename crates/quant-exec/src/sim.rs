//! The simulated venue: fills orders against daily bars under market rules.
//!
//! Fill model (`shared/docs/conventions.md`): orders decided at the close of
//! day t fill at the open of the instrument's next bar ([`FillTiming::NextOpen`],
//! default) or at the same bar's close ([`FillTiming::SameClose`]). Slippage
//! in basis points moves the price against the order: buy at
//! `open × (1 + s)` capped at the bar's high, sell at `open × (1 − s)` floored
//! at the bar's low. Orders are day orders: an order that cannot fill on its
//! fill bar is rejected with the reason. Sells are filled before buys so that
//! sale proceeds fund buys (A-share proceeds are usable the same day).
//!
//! Rules (from [`quant_core::rules`]): no bar or zero volume → `suspended`;
//! a buy at or above limit-up → `limit_up`; a sell at or below limit-down →
//! `limit_down`; buys rounded down to lots (`below_lot` when none remain);
//! sells limited to the sellable quantity under T+1 (`t_plus_one`); a buy
//! that cash cannot cover (value + fees) is cut one lot at a time
//! (`insufficient_cash`) or, with [`ShortfallPolicy::Reject`], rejected.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use quant_core::money::decimal_to_f64;
use quant_core::{
    AssetClass, Cash, Fill, Instrument, MarketRules, Order, OrderId, OrderQty, OrderType, Price,
    Quantity, RejectReason, RuleSet, Side, TimeInForce,
};

use crate::portfolio::Portfolio;
use crate::traits::{MarketState, Phase, Venue, VenueEvent};

/// When orders fill relative to the decision bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillTiming {
    /// At the open of the next trading day (default).
    NextOpen,
    /// At the close of the decision day.
    SameClose,
}

/// What to do with a buy that cash cannot fully cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortfallPolicy {
    /// Reduce it one lot at a time until it fits (default).
    Cut,
    /// Reject it with `insufficient_cash`.
    Reject,
}

/// Largest slippage the venue takes: 1,000 basis points (10 %, the A-share
/// main board's daily price limit; the default is 5).
pub const MAX_SLIPPAGE_BPS: Decimal = Decimal::from_parts(1000, 0, 0, false, 0);

/// Largest commission rate: 0.01, 1 % of the traded value (A-share brokers
/// charge 0.01–0.3 %, crypto exchanges 0.1 %); above it is a typo (a
/// percent written as a fraction).
pub const MAX_COMMISSION_RATE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// Largest minimum commission per order: 1,000 currency units (A-shares:
/// 5 CNY).
pub const MAX_MIN_COMMISSION: Decimal = Decimal::from_parts(1000, 0, 0, false, 0);

/// Largest stamp-duty rate: 0.01, 1 % of the value (the A-share duty never
/// exceeded 0.6 %, 1990; 0.05 % since 2023-08-28).
pub const MAX_STAMP_DUTY: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// Largest transfer-fee rate: 0.001, 0.1 % of the value (0.001 % since
/// 2022-04-29).
pub const MAX_TRANSFER_FEE: Decimal = Decimal::from_parts(1, 0, 0, false, 3);

/// `Ok` when `value` lies in `[0, hi]`, else [`crate::Error::Setting`]
/// naming `key`, the value and the range.
pub fn check_cost(key: &str, value: Decimal, hi: Decimal) -> crate::Result<()> {
    if value >= Decimal::ZERO && value <= hi {
        Ok(())
    } else {
        Err(crate::Error::Setting {
            key: key.to_string(),
            value: value.to_string(),
            expected: format!("must lie in [0, {hi}]"),
        })
    }
}

/// Longest order latency [`SimConfig::latency_ms`] takes: one day.
pub const MAX_LATENCY_MS: u64 = 86_400_000;

/// Settings of the simulated venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Fill timing.
    pub timing: FillTiming,
    /// Slippage in basis points (5 = 0.05%), applied against the order.
    pub slippage_bps: Decimal,
    /// Shortfall policy for buys.
    pub shortfall: ShortfallPolicy,
    /// Forces one rule set for every instrument (`None` = each instrument's own market).
    pub rules_override: Option<RuleSet>,
    /// Rules and fee schedules per rule set: A-share, US, crypto.
    pub cn_a: MarketRules,
    /// US rules.
    pub us: MarketRules,
    /// Crypto rules.
    pub crypto: MarketRules,
    /// Largest share of a bar's volume one order takes per bar (`None`:
    /// all of it); the rest keeps working (GTC, GTD) or expires (DAY, IOC;
    /// a FOK order is refused).
    #[serde(default)]
    pub participation: Option<crate::fill::Participation>,
    /// Bars an order waits before it can fill, beyond its fill timing
    /// (0 = the next bar).
    #[serde(default)]
    pub latency_bars: u32,
    /// Milliseconds between a decision and the order reaching the market,
    /// on top of `latency_bars`, at most [`MAX_LATENCY_MS`]. On intraday
    /// bars an order decided at a bar's close may act only at a bar open
    /// (or close) at least this long after it; the next bar of a
    /// continuous session opens at once, so any latency moves a next-open
    /// fill to the open after (a lunch break or the night absorbs it). On
    /// daily bars the next open is the next day: latency changes nothing
    /// there, but a same-close order misses the close it was decided at
    /// and fills at the next bar's close.
    #[serde(default)]
    pub latency_ms: u64,
    /// Extra slippage by size over volume, on top of `slippage_bps`
    /// ([`crate::fill::Slippage::VolumeShare`]).
    #[serde(default)]
    pub impact: Option<crate::fill::Slippage>,
    /// When a resting limit counts as reached (touch, or trade through).
    #[serde(default)]
    pub limit_fill: crate::fill::LimitFill,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            participation: None,
            latency_bars: 0,
            latency_ms: 0,
            impact: None,
            limit_fill: crate::fill::LimitFill::Touch,
            timing: FillTiming::NextOpen,
            slippage_bps: Decimal::ZERO,
            shortfall: ShortfallPolicy::Cut,
            rules_override: None,
            cn_a: MarketRules::new(RuleSet::CnA),
            us: MarketRules::new(RuleSet::Us),
            crypto: MarketRules::new(RuleSet::Crypto),
        }
    }
}

impl SimConfig {
    /// Checks every cost setting against its range: `slippage_bps` in
    /// [0, [`MAX_SLIPPAGE_BPS`]] and, for the stock and fund fees of each
    /// rule set, the commission rate in [0, [`MAX_COMMISSION_RATE`]], the
    /// minimum commission in [0, [`MAX_MIN_COMMISSION`]], stamp-duty rates
    /// in [0, [`MAX_STAMP_DUTY`]] and transfer-fee rates in [0,
    /// [`MAX_TRANSFER_FEE`]], the dated lists ascending.
    ///
    /// # Errors
    /// [`crate::Error::Setting`] naming the key (`slippage_bps`,
    /// `cn_a.stock_fees.commission_rate`…), the value and the range.
    pub fn validate(&self) -> crate::Result<()> {
        check_cost("slippage_bps", self.slippage_bps, MAX_SLIPPAGE_BPS)?;
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(crate::Error::Setting {
                key: "latency_ms".into(),
                value: self.latency_ms.to_string(),
                expected: format!("must lie in [0, {MAX_LATENCY_MS}] milliseconds"),
            });
        }
        for (set, rules) in [
            ("cn_a", &self.cn_a),
            ("us", &self.us),
            ("crypto", &self.crypto),
        ] {
            for (kind, fees) in [
                ("stock_fees", &rules.stock_fees),
                ("fund_fees", &rules.fund_fees),
            ] {
                let key = |k: &str| format!("{set}.{kind}.{k}");
                check_cost(
                    &key("commission_rate"),
                    fees.commission_rate,
                    MAX_COMMISSION_RATE,
                )?;
                check_cost(
                    &key("min_commission"),
                    fees.min_commission,
                    MAX_MIN_COMMISSION,
                )?;
                for r in &fees.stamp_duty {
                    check_cost(&key("stamp_duty"), r.rate, MAX_STAMP_DUTY)?;
                }
                for r in &fees.transfer_fee {
                    check_cost(&key("transfer_fee"), r.rate, MAX_TRANSFER_FEE)?;
                }
                fees.validate().map_err(|e| crate::Error::Setting {
                    key: format!("{set}.{kind}"),
                    value: e.to_string(),
                    expected: "dated rates in ascending date order".into(),
                })?;
            }
        }
        Ok(())
    }

    /// The rules that apply to an instrument.
    pub fn rules_for(&self, inst: &Instrument) -> &MarketRules {
        match self
            .rules_override
            .unwrap_or_else(|| RuleSet::for_instrument(inst))
        {
            RuleSet::CnA => &self.cn_a,
            RuleSet::Us => &self.us,
            RuleSet::Crypto => &self.crypto,
        }
    }
}

/// Units that `value` buys at `price`, before lot rounding: whole units
/// floor(value / price) for instruments traded in whole units (estimated in
/// `f64`, corrected exactly in decimal), the exact quotient for fractional
/// ones (`lot_size` below 1, e.g. crypto).
fn units_for_value(value: Cash, price: Price, lot_size: Decimal) -> Quantity {
    let (v, p) = (value.0, price.0);
    if p <= Decimal::ZERO || v <= Decimal::ZERO {
        return Quantity::ZERO;
    }
    let est = (value.to_f64() / price.to_f64()).floor();
    if lot_size < Decimal::ONE || !(est.is_finite() && est < 9.0e15) {
        return Quantity(v / p);
    }
    let mut q = Decimal::from(est as i64);
    while q > Decimal::ZERO && q * p > v {
        q -= Decimal::ONE;
    }
    while (q + Decimal::ONE) * p <= v {
        q += Decimal::ONE;
    }
    Quantity(q)
}

/// How far a working order has come at the venue (the venue's private
/// view; the OMS keeps the order's own record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Working {
    /// The order as the venue works it: a value order becomes the units it
    /// bought at its first fill, a partly filled one its remaining units,
    /// a triggered stop-limit a limit order.
    order: Order,
    /// The bar (count of open phases) the order was submitted in.
    submitted: u64,
    /// Whether a first fill attempt was made (DAY, IOC and FOK orders get
    /// one; GTC and GTD orders rest after it).
    tried: bool,
    /// A trailing stop's best price and level so far.
    trail: Option<crate::fill::TrailState>,
    /// Units filled so far (the order's `requested` is what is left).
    #[serde(default)]
    done: Quantity,
    /// The instant from which the order may act (decision + latency), on
    /// intraday bars with `latency_ms`.
    #[serde(default)]
    live_at: Option<quant_core::UnixNanos>,
}

/// The simulated venue; see the module docs. Serialisable: a paper
/// session snapshots its working orders with the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatedVenue {
    config: SimConfig,
    queue: Vec<Working>,
    slip: Decimal,
    /// Open phases seen (the bar clock of latency).
    bar: u64,
    /// The open and close instants of the latest intraday bar seen.
    #[serde(default)]
    bar_time: Option<(quant_core::UnixNanos, quant_core::UnixNanos)>,
    /// Scratch of a phase, empty between calls (kept for its capacity, so
    /// that filling the queue allocates nothing once warm): the queue
    /// being worked through.
    #[serde(skip)]
    spare: Vec<Working>,
    /// Scratch of a phase: sells filled in it (instrument, quantity).
    #[serde(skip)]
    sold: Vec<(usize, Quantity)>,
}

/// What one attempt at filling an order on a bar gave.
enum Attempt {
    /// Filled (all of what is left, or part of it).
    Filled {
        fill: Fill,
        cut: Option<RejectReason>,
        complete: bool,
    },
    /// Not on this bar (limit or stop not reached, suspended, price limit,
    /// no cash or T+1 yet, volume cap): a resting order waits, a DAY order
    /// is refused with the reason.
    Wait(RejectReason),
    /// Never (no position, below one lot, not tradable, unsupported).
    Refuse(RejectReason),
}

/// Whether `reason` may change on a later bar.
fn transient(reason: RejectReason) -> bool {
    matches!(
        reason,
        RejectReason::LimitNotReached
            | RejectReason::Suspended
            | RejectReason::LimitUp
            | RejectReason::LimitDown
            | RejectReason::InsufficientCash
            | RejectReason::TPlusOne
            | RejectReason::VolumeCap
            | RejectReason::NotTriggered
    )
}

impl SimulatedVenue {
    /// A venue with `config`.
    pub fn new(config: SimConfig) -> Self {
        let slip = config.slippage_bps / Decimal::from(10_000);
        Self {
            config,
            queue: Vec::new(),
            slip,
            bar: 0,
            bar_time: None,
            spare: Vec::new(),
            sold: Vec::new(),
        }
    }

    /// The venue's settings.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Works the queue at the open (`at_open`) or the close of the market's
    /// day.
    fn fill_queue(
        &mut self,
        at_open: bool,
        market: &MarketState<'_>,
        portfolio: &Portfolio,
        events: &mut Vec<VenueEvent>,
    ) {
        if self.queue.is_empty() {
            return;
        }
        // work through the queue while the orders that stay go back into
        // it; both buffers keep their capacity from phase to phase
        let mut queue = std::mem::take(&mut self.queue);
        std::mem::swap(&mut self.queue, &mut self.spare);
        // sells first, then buys; each side in submission order
        queue.sort_by_key(|w| (w.order.side == Side::Buy, w.order.id));
        let mut cash = portfolio.cash;
        let mut sold = std::mem::take(&mut self.sold);
        sold.clear();
        for mut w in queue.drain(..) {
            if !self.acts_now(&w, at_open) {
                self.queue.push(w);
                continue;
            }
            w.tried = true;
            let tif = w.order.tif;
            let resting = matches!(tif, TimeInForce::Gtc | TimeInForce::Gtd(_));
            match self.attempt(&mut w, at_open, market, portfolio, cash, &sold) {
                Attempt::Filled {
                    fill,
                    cut,
                    complete,
                } => {
                    cash += fill.cash_flow();
                    if fill.side == Side::Sell {
                        sold.push((fill.instrument.get(), fill.quantity));
                    }
                    if complete {
                        events.push(VenueEvent::Filled { fill, cut });
                    } else {
                        let left = w.order.leaves().unwrap_or(Quantity::ZERO) - fill.quantity;
                        w.order.requested = OrderQty::Units(left);
                        w.done += fill.quantity;
                        w.order.filled = Quantity::ZERO;
                        let id = w.order.id;
                        events.push(VenueEvent::PartiallyFilled { fill });
                        if resting {
                            self.queue.push(w);
                        } else {
                            // DAY and IOC orders do not rest: the rest expires
                            events.push(VenueEvent::Expired(id));
                        }
                    }
                }
                Attempt::Wait(reason) if resting && transient(reason) => self.queue.push(w),
                Attempt::Wait(reason) | Attempt::Refuse(reason) => {
                    events.push(VenueEvent::Rejected(w.order.id, reason));
                }
            }
        }
        self.spare = queue;
        sold.clear();
        self.sold = sold;
        // at the close, tried orders whose time in force ends today expire
        if !at_open {
            let day = market.date;
            self.queue.retain(|w| {
                let gone = w.tried && !w.order.tif.valid_after_close(w.order.created, day);
                if gone {
                    events.push(VenueEvent::Expired(w.order.id));
                }
                !gone
            });
        }
    }

    /// Whether `w` acts at this phase: market and limit orders take their
    /// first attempt by the fill timing (the next open, or the decision
    /// close); stops, stop-limits, trailing stops, resting orders and
    /// market-on-open orders act at the open against the whole bar;
    /// market-on-close orders at the close. Latency delays the first bar.
    fn acts_now(&self, w: &Working, at_open: bool) -> bool {
        if let (Some(live), Some((open, close))) = (w.live_at, self.bar_time)
            && (if at_open { open } else { close }) < live
        {
            return false;
        }
        let mut latency = u64::from(self.config.latency_bars);
        if self.config.latency_ms > 0 && w.live_at.is_none() {
            // daily bars: the decision's close has passed
            latency += 1;
        }
        // the first bar after the one the order was decided in
        let next = w.submitted.saturating_add(1).saturating_add(latency);
        let same_close = self.config.timing == FillTiming::SameClose;
        let next_daily = if w.live_at.is_none() && self.config.latency_ms > 0 {
            // a next-open order is not delayed by less than a night
            next - 1
        } else {
            next
        };
        match w.order.order_type {
            OrderType::MarketOnClose => !at_open && self.bar >= next_daily,
            OrderType::Market | OrderType::Limit(_) if !w.tried && same_close => {
                !at_open && self.bar >= w.submitted.saturating_add(latency)
            }
            _ => at_open && self.bar >= next_daily,
        }
    }

    /// One attempt at filling `w` on today's bar.
    fn attempt(
        &self,
        w: &mut Working,
        at_open: bool,
        market: &MarketState<'_>,
        portfolio: &Portfolio,
        cash: Cash,
        sold: &[(usize, Quantity)],
    ) -> Attempt {
        use crate::fill::{TickBar, Trigger};
        let i = w.order.instrument.get();
        let Some(inst) = market.instruments.get(i) else {
            return Attempt::Refuse(RejectReason::NotTradable);
        };
        let bar = match market.bars.get(i).copied().flatten() {
            Some(b) if !b.is_suspended() => b,
            _ => return Attempt::Wait(RejectReason::Suspended),
        };
        // the price the order trades at as a market order, if it does today
        let reference = match w.order.order_type {
            OrderType::Market | OrderType::Limit(_) => {
                if at_open {
                    bar.open
                } else {
                    bar.close
                }
            }
            OrderType::MarketOnOpen => bar.open,
            OrderType::MarketOnClose => bar.close,
            OrderType::Stop(_) | OrderType::StopLimit { .. } | OrderType::TrailingStop(_) => {
                let Ok(tb) = TickBar::new(&crate::fill::BarInput::from(&bar), inst.tick_size)
                else {
                    return Attempt::Wait(RejectReason::Suspended);
                };
                let side = w.order.side;
                let trig = match w.order.order_type {
                    OrderType::Stop(p) => crate::fill::stop_trigger(side, p, &tb),
                    OrderType::StopLimit { stop, limit } => crate::fill::stop_limit_trigger(
                        side,
                        stop,
                        limit,
                        &tb,
                        self.config.limit_fill,
                    ),
                    OrderType::TrailingStop(trail) => {
                        let state = match w.trail {
                            Some(s) => s,
                            None => match crate::fill::TrailState::new(
                                side,
                                trail,
                                tb.open(),
                                inst.tick_size,
                            ) {
                                Ok(s) => s,
                                Err(_) => return Attempt::Refuse(RejectReason::Unsupported),
                            },
                        };
                        let t = crate::fill::trailing_stop_trigger(side, &state, &tb);
                        w.trail = Some(crate::fill::trail_after_bar(state, side, &tb));
                        t
                    }
                    _ => Trigger::Pending,
                };
                match trig {
                    Trigger::Fill(p) => {
                        if let OrderType::StopLimit { limit, .. } = w.order.order_type {
                            w.order.order_type = OrderType::Limit(limit);
                        }
                        decimal_to_f64(p.0)
                    }
                    Trigger::Triggered => {
                        // a stop-limit whose limit this bar could not reach
                        if let OrderType::StopLimit { limit, .. } = w.order.order_type {
                            w.order.order_type = OrderType::Limit(limit);
                        }
                        return Attempt::Wait(RejectReason::LimitNotReached);
                    }
                    Trigger::Pending => return Attempt::Wait(RejectReason::NotTriggered),
                }
            }
        };
        match self.try_fill(&w.order, reference, at_open, market, portfolio, cash, sold) {
            Ok((mut fill, cut)) => {
                let mut complete = true;
                if let Some(p) = self.config.participation {
                    let rules = self.config.rules_for(inst);
                    let lot_side = match fill.side {
                        Side::Buy => crate::fill::LotSide::Buy,
                        Side::Sell => crate::fill::LotSide::Sell {
                            sellable: fill.quantity,
                        },
                    };
                    let cap = crate::fill::max_fill_units(
                        fill.quantity,
                        bar.volume,
                        p,
                        rules,
                        inst,
                        lot_side,
                    );
                    if cap.is_zero() {
                        return Attempt::Wait(RejectReason::VolumeCap);
                    }
                    if cap < fill.quantity {
                        if w.order.tif == TimeInForce::Fok {
                            return Attempt::Refuse(RejectReason::NotWhole);
                        }
                        // the first fill fixes a value order's units
                        if w.order.leaves().is_none() {
                            w.order.requested = OrderQty::Units(fill.quantity);
                        }
                        let fees = rules.fees(inst, fill.side, market.date, fill.price, cap);
                        fill.quantity = cap;
                        fill.commission = fees.commission;
                        fill.stamp_duty = fees.stamp_duty;
                        fill.transfer_fee = fees.transfer_fee;
                        complete = false;
                    }
                }
                Attempt::Filled {
                    fill,
                    cut,
                    complete,
                }
            }
            Err(reason) if transient(reason) => Attempt::Wait(reason),
            Err(reason) => Attempt::Refuse(reason),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn try_fill(
        &self,
        order: &Order,
        reference: f64,
        at_open: bool,
        market: &MarketState<'_>,
        portfolio: &Portfolio,
        cash: Cash,
        sold: &[(usize, Quantity)],
    ) -> Result<(Fill, Option<RejectReason>), RejectReason> {
        let i = order.instrument.get();
        let inst = &market.instruments[i];
        if inst.asset_class == AssetClass::Index {
            return Err(RejectReason::NotTradable);
        }
        let bar = match market.bars[i] {
            Some(b) if !b.is_suspended() => b,
            _ => return Err(RejectReason::Suspended),
        };
        let rules = self.config.rules_for(inst);
        let limit = rules.price_limit(
            inst,
            market.date,
            market.prev_close[i],
            market.listing_day[i],
        );
        match order.side {
            Side::Buy if limit.blocks_buy(reference) => return Err(RejectReason::LimitUp),
            Side::Sell if limit.blocks_sell(reference) => return Err(RejectReason::LimitDown),
            _ => {}
        }
        let tick = inst.tick_size;
        let px = |x: f64| Price::from_f64_tick(x, tick).map_err(|_| RejectReason::Suspended);
        let ref_px = px(reference)?;
        // the bar's high and low are only converted when they bind (or a limit needs them)
        let is_limit = matches!(order.order_type, OrderType::Limit(_));
        let impact = self.impact_bps(order, bar.volume);
        // checked: a slippage no validation bounded (a venue built from an
        // unchecked config) overflows to the bar's high (buys) or low
        // (sells), where the price is capped anyway, never a panic
        let price = match order.side {
            Side::Buy => match Decimal::ONE
                .checked_add(self.slip)
                .and_then(|f| f.checked_add(impact))
                .and_then(|f| ref_px.0.checked_mul(f))
            {
                Some(p) if !(is_limit || decimal_to_f64(p) >= bar.high) => p,
                Some(p) => p.min(px(bar.high)?.0),
                None => px(bar.high)?.0,
            },
            Side::Sell => match Decimal::ONE
                .checked_sub(self.slip)
                .and_then(|f| f.checked_sub(impact))
                .and_then(|f| ref_px.0.checked_mul(f))
            {
                Some(p) if !(is_limit || decimal_to_f64(p) <= bar.low) => p,
                Some(p) => p.max(px(bar.low)?.0),
                None => px(bar.low)?.0,
            },
        };
        let mut price = Price(price);
        if let OrderType::Limit(lim) = order.order_type {
            let (high, low) = (px(bar.high)?, px(bar.low)?);
            match order.side {
                Side::Buy if price > lim => {
                    if low > lim {
                        return Err(RejectReason::LimitNotReached);
                    }
                    price = lim;
                }
                Side::Sell if price < lim => {
                    if high < lim {
                        return Err(RejectReason::LimitNotReached);
                    }
                    price = lim;
                }
                _ => {}
            }
        }
        let mut cut = None;
        let quantity = match order.side {
            Side::Buy => {
                let wanted = match order.requested {
                    OrderQty::Units(q) => Some(rules.round_buy(inst, q)),
                    OrderQty::Value(v) => {
                        Some(rules.round_buy(inst, units_for_value(v, price, inst.lot_size)))
                    }
                    OrderQty::AllCash => None,
                    OrderQty::AllPosition => return Err(RejectReason::NoPosition),
                };
                if wanted.is_some_and(Quantity::is_zero) {
                    return Err(RejectReason::BelowLot);
                }
                let q = rules.affordable_buy(inst, market.date, price, cash, wanted);
                if q.is_zero() {
                    return Err(RejectReason::InsufficientCash);
                }
                if wanted.is_some_and(|w| q < w) {
                    if self.config.shortfall == ShortfallPolicy::Reject {
                        return Err(RejectReason::InsufficientCash);
                    }
                    cut = Some(RejectReason::InsufficientCash);
                } else if matches!(order.requested, OrderQty::Units(u) if q < u) {
                    cut = Some(RejectReason::LotRounding);
                }
                q
            }
            Side::Sell => {
                let pos = &portfolio.positions[i];
                let already = sold
                    .iter()
                    .filter(|(j, _)| *j == i)
                    .fold(Quantity::ZERO, |a, (_, q)| a + *q);
                let held = pos.quantity - already;
                let sellable = pos.sellable - already;
                if held.is_zero() {
                    return Err(RejectReason::NoPosition);
                }
                if sellable.is_zero() {
                    return Err(RejectReason::TPlusOne);
                }
                let asked = match order.requested {
                    OrderQty::Units(q) => q,
                    OrderQty::AllPosition => held,
                    OrderQty::Value(v) => units_for_value(v, price, inst.lot_size),
                    OrderQty::AllCash => return Err(RejectReason::NoPosition),
                };
                if asked > sellable {
                    cut = Some(if asked > held {
                        RejectReason::NoPosition
                    } else {
                        RejectReason::TPlusOne
                    });
                }
                let q = rules.round_sell(inst, asked, sellable);
                if q.is_zero() {
                    return Err(RejectReason::BelowLot);
                }
                q
            }
        };
        let fees = rules.fees(inst, order.side, market.date, price, quantity);
        let fill = Fill {
            order_id: order.id,
            date: market.date,
            time: market
                .bar_time
                .map(|(open, close)| if at_open { open } else { close }),
            instrument: order.instrument,
            symbol: order.symbol.clone(),
            side: order.side,
            quantity,
            price,
            commission: fees.commission,
            stamp_duty: fees.stamp_duty,
            transfer_fee: fees.transfer_fee,
        };
        if (cash + fill.cash_flow()).is_negative() {
            // a tiny sell whose minimum commission exceeds its value and all cash
            return Err(RejectReason::InsufficientCash);
        }
        Ok((fill, cut))
    }
}

impl SimulatedVenue {
    /// The extra slippage (a fraction) of `order` by its size over the
    /// bar's volume ([`SimConfig::impact`]), estimated from its units (or
    /// its value at the reference mark); 0 without an impact model.
    fn impact_bps(&self, order: &Order, volume: f64) -> Decimal {
        let Some(model) = self.config.impact else {
            return Decimal::ZERO;
        };
        let units = match order.requested {
            OrderQty::Units(q) => q,
            _ => return Decimal::ZERO,
        };
        let bps = model.bps(units, volume);
        Decimal::from_f64_retain(bps / 10_000.0).unwrap_or_default()
    }
}

impl Venue for SimulatedVenue {
    fn submit(&mut self, order: &Order, events: &mut Vec<VenueEvent>) {
        if let OrderType::TrailingStop(t) = order.order_type
            && crate::fill::validate_trail(&t).is_err()
        {
            events.push(VenueEvent::Rejected(order.id, RejectReason::Unsupported));
            return;
        }
        self.queue.push(Working {
            order: order.clone(),
            submitted: self.bar,
            tried: false,
            trail: None,
            done: Quantity::ZERO,
            live_at: match (self.config.latency_ms, self.bar_time) {
                (0, _) | (_, None) => None,
                (ms, Some((_, close))) => {
                    let ns = i64::try_from(ms)
                        .unwrap_or(i64::MAX)
                        .saturating_mul(1_000_000);
                    Some(quant_core::UnixNanos(close.0.saturating_add(ns)))
                }
            },
        });
        events.push(VenueEvent::Accepted(order.id));
    }

    /// Replaces a working order's prices (the same kind of order) and,
    /// for a units order, its total size (above what has filled; the rest
    /// works on). A new trail restarts the trailing stop from the next bar's
    /// open. Refused (`ReplaceRejected`) for an order not working, another
    /// kind of order, a value size, or a total not above the filled units.
    fn replace(
        &mut self,
        id: OrderId,
        order_type: OrderType,
        requested: OrderQty,
        events: &mut Vec<VenueEvent>,
    ) {
        let Some(w) = self.queue.iter_mut().find(|w| w.order.id == id) else {
            events.push(VenueEvent::ReplaceRejected(id));
            return;
        };
        let same_kind =
            std::mem::discriminant(&w.order.order_type) == std::mem::discriminant(&order_type);
        let valid_trail = match order_type {
            OrderType::TrailingStop(t) => crate::fill::validate_trail(&t).is_ok(),
            _ => true,
        };
        let left = match requested {
            OrderQty::Units(total) if total > w.done => Some(total - w.done),
            _ => None,
        };
        let (true, true, Some(left)) = (same_kind, valid_trail, left) else {
            events.push(VenueEvent::ReplaceRejected(id));
            return;
        };
        if w.order.order_type != order_type {
            w.trail = None;
        }
        w.order.order_type = order_type;
        w.order.requested = OrderQty::Units(left);
        events.push(VenueEvent::Replaced {
            id,
            order_type,
            requested,
        });
    }

    /// The simulated venue answers at once: a working order is accepted
    /// (or partly filled); one it no longer works is not known here (its
    /// own events said how it ended), so nothing is pushed.
    fn query(&mut self, id: OrderId, events: &mut Vec<VenueEvent>) {
        if let Some(w) = self.queue.iter().find(|w| w.order.id == id) {
            let status = if w.done > Quantity::ZERO {
                quant_core::OrderStatus::PartiallyFilled
            } else {
                quant_core::OrderStatus::Accepted
            };
            events.push(VenueEvent::Status(id, status));
        }
    }

    fn on_phase(
        &mut self,
        phase: Phase,
        market: &MarketState<'_>,
        portfolio: &Portfolio,
        events: &mut Vec<VenueEvent>,
    ) {
        self.bar_time = market.bar_time;
        match phase {
            Phase::Open => {
                self.bar += 1;
                self.fill_queue(true, market, portfolio, events);
            }
            Phase::Close => self.fill_queue(false, market, portfolio, events),
        }
    }

    fn cancel(&mut self, id: OrderId, events: &mut Vec<VenueEvent>) {
        if let Some(k) = self.queue.iter().position(|w| w.order.id == id) {
            self.queue.remove(k);
            events.push(VenueEvent::Cancelled(id));
        }
    }

    fn open_orders(&self) -> usize {
        self.queue.len()
    }

    fn expire_all(&mut self, events: &mut Vec<VenueEvent>) {
        events.extend(
            self.queue
                .drain(..)
                .map(|w| VenueEvent::Expired(w.order.id)),
        );
    }

    fn t_plus_one(&self, inst: &Instrument) -> bool {
        self.config.rules_for(inst).t_plus_one(inst)
    }
}
