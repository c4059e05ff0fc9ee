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
    AssetClass, Cash, Fill, Instrument, MarketRules, Order, OrderQty, OrderType, Price, Quantity,
    RejectReason, RuleSet, Side,
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
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
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

/// The simulated venue; see the module docs. Serialisable: a paper
/// session snapshots its working orders with the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatedVenue {
    config: SimConfig,
    queue: Vec<Order>,
    slip: Decimal,
}

impl SimulatedVenue {
    /// A venue with `config`.
    pub fn new(config: SimConfig) -> Self {
        let slip = config.slippage_bps / Decimal::from(10_000);
        Self {
            config,
            queue: Vec::new(),
            slip,
        }
    }

    /// The venue's settings.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

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
        let mut queue = std::mem::take(&mut self.queue);
        // sells first, then buys; each side in submission order
        queue.sort_by_key(|o| (o.side == Side::Buy, o.id));
        let mut cash = portfolio.cash;
        let mut sold: Vec<(usize, Quantity)> = Vec::new();
        for order in &queue {
            match self.try_fill(order, at_open, market, portfolio, cash, &sold) {
                Ok((fill, cut)) => {
                    cash += fill.cash_flow();
                    if fill.side == Side::Sell {
                        sold.push((fill.instrument.get(), fill.quantity));
                    }
                    events.push(VenueEvent::Filled { fill, cut });
                }
                Err(reason) => events.push(VenueEvent::Rejected(order.id, reason)),
            }
        }
    }

    fn try_fill(
        &self,
        order: &Order,
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
        let reference = if at_open { bar.open } else { bar.close };
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
        // checked: a slippage no validation bounded (a venue built from an
        // unchecked config) overflows to the bar's high (buys) or low
        // (sells), where the price is capped anyway, never a panic
        let price = match order.side {
            Side::Buy => match Decimal::ONE
                .checked_add(self.slip)
                .and_then(|f| ref_px.0.checked_mul(f))
            {
                Some(p) if !(is_limit || decimal_to_f64(p) >= bar.high) => p,
                Some(p) => p.min(px(bar.high)?.0),
                None => px(bar.high)?.0,
            },
            Side::Sell => match Decimal::ONE
                .checked_sub(self.slip)
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

impl Venue for SimulatedVenue {
    fn submit(&mut self, order: &Order, events: &mut Vec<VenueEvent>) {
        // this venue fills market and limit day orders; the others need
        // the OMS's emulation
        if !matches!(order.order_type, OrderType::Market | OrderType::Limit(_)) {
            events.push(VenueEvent::Rejected(order.id, RejectReason::Unsupported));
            return;
        }
        self.queue.push(order.clone());
        events.push(VenueEvent::Accepted(order.id));
    }

    fn on_phase(
        &mut self,
        phase: Phase,
        market: &MarketState<'_>,
        portfolio: &Portfolio,
        events: &mut Vec<VenueEvent>,
    ) {
        match (phase, self.config.timing) {
            (Phase::Open, FillTiming::NextOpen) => self.fill_queue(true, market, portfolio, events),
            (Phase::Close, FillTiming::SameClose) => {
                self.fill_queue(false, market, portfolio, events)
            }
            _ => {}
        }
    }

    fn open_orders(&self) -> usize {
        self.queue.len()
    }

    fn expire_all(&mut self, events: &mut Vec<VenueEvent>) {
        events.extend(self.queue.drain(..).map(|o| VenueEvent::Expired(o.id)));
    }

    fn t_plus_one(&self, inst: &Instrument) -> bool {
        self.config.rules_for(inst).t_plus_one(inst)
    }
}
