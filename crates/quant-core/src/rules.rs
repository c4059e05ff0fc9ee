//! Market rules and fee schedules as pure functions.
//!
//! The simulated venue, the risk checks and live order entry all call these
//! functions, so that one rule has one implementation. Sources:
//! `shared/docs/protocols/a-share-rules.md` (SSE/SZSE/BSE trading rules,
//! CSDC fee notices, the 2023 stamp-duty halving) and
//! `shared/docs/conventions.md` (fill and cost model).

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::instrument::{AssetClass, Board, Exchange, Instrument};
use crate::money::{Cash, Price, Quantity};
use crate::order::Side;

/// Which market's rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSet {
    /// Chinese A-shares: T+1, board lots, price limits, stamp duty, transfer fee.
    CnA,
    /// US equities: T+0, whole shares, no price limits.
    Us,
    /// Crypto spot: T+0, fractional quantities (1e-8), no price limits.
    Crypto,
}

impl RuleSet {
    /// Parses `cn_a`, `us` or `crypto`.
    ///
    /// # Errors
    /// [`Error::UnknownName`] for any other name.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "cn_a" => Ok(Self::CnA),
            "us" => Ok(Self::Us),
            "crypto" => Ok(Self::Crypto),
            other => Err(Error::UnknownName {
                what: "rule set",
                name: other.to_string(),
                expected: "cn_a, us, crypto",
            }),
        }
    }

    /// The natural rule set of an instrument's exchange.
    pub fn for_instrument(inst: &Instrument) -> Self {
        match inst.exchange {
            Exchange::Sse | Exchange::Szse | Exchange::Bse => Self::CnA,
            Exchange::Us => Self::Us,
            Exchange::Crypto => Self::Crypto,
        }
    }
}

/// A rate (fraction of traded value) in force from a date on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DatedRate {
    /// First trade date the rate applies to.
    pub from: NaiveDate,
    /// Fraction of traded value (0.001 = 0.1%).
    pub rate: Decimal,
}

/// Fees of one order, in account currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fees {
    /// Broker commission, after the per-order minimum.
    pub commission: Cash,
    /// Stamp duty (sells only).
    pub stamp_duty: Cash,
    /// Transfer fee.
    pub transfer_fee: Cash,
}

impl Fees {
    /// Sum of all fees.
    pub fn total(&self) -> Cash {
        self.commission + self.stamp_duty + self.transfer_fee
    }
}

/// A fee schedule: commission with a per-order minimum, stamp duty on sells
/// and a transfer fee on both sides, with rates taken by trade date.
///
/// Per order (conventions.md): commission = max(value × rate, minimum);
/// transfer fee = value × rate; stamp duty = value × rate on sells only;
/// value = quantity × fill price. Fees are not rounded to the cent unless
/// `round_to_cent` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeeSchedule {
    /// Commission as a fraction of value (0.00025 = 0.025%).
    pub commission_rate: Decimal,
    /// Minimum commission per order in account currency (5 CNY for A-share stocks).
    pub min_commission: Decimal,
    /// Stamp-duty rates on sells by date, ascending `from`; before the first `from` no duty.
    pub stamp_duty: Vec<DatedRate>,
    /// Transfer-fee rates (both sides) by date, ascending `from`.
    pub transfer_fee: Vec<DatedRate>,
    /// Round each fee half-up to 0.01 (off by default, so goldens match).
    pub round_to_cent: bool,
}

/// `q` rounded down to a multiple of `step` (> 0); integer arithmetic when
/// both share a scale (whole shares and lots), decimal division otherwise.
fn floor_to_multiple(q: Decimal, step: Decimal) -> Decimal {
    if q.scale() == step.scale() && !step.is_zero() {
        let (m, l) = (q.mantissa(), step.mantissa());
        return Decimal::from_i128_with_scale(m - m.rem_euclid(l), q.scale());
    }
    (q / step).floor() * step
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// First trade date with the halved A-share stamp duty (0.05%), MoF/STA 2023 No. 39.
pub fn stamp_duty_halving_date() -> NaiveDate {
    date(2023, 8, 28)
}

impl FeeSchedule {
    /// A-share stocks: commission 0.025% with a 5 CNY minimum; stamp duty on
    /// sells 0.1% until 2023-08-27 and 0.05% from 2023-08-28; transfer fee
    /// 0.001% on both sides (the 2022-04-29 CSDC rate, applied to all dates,
    /// as the issue and the golden case specify; give a dated list for the
    /// historic 0.002%).
    pub fn cn_stock() -> Self {
        Self {
            commission_rate: Decimal::new(25, 5),
            min_commission: Decimal::from(5),
            stamp_duty: vec![
                DatedRate {
                    from: NaiveDate::MIN,
                    rate: Decimal::new(1, 3),
                },
                DatedRate {
                    from: stamp_duty_halving_date(),
                    rate: Decimal::new(5, 4),
                },
            ],
            transfer_fee: vec![DatedRate {
                from: NaiveDate::MIN,
                rate: Decimal::new(1, 5),
            }],
            round_to_cent: false,
        }
    }

    /// A-share exchange-traded funds: commission 0.025% with no minimum, no
    /// stamp duty, no transfer fee.
    pub fn cn_fund() -> Self {
        Self {
            commission_rate: Decimal::new(25, 5),
            min_commission: Decimal::ZERO,
            stamp_duty: vec![],
            transfer_fee: vec![],
            round_to_cent: false,
        }
    }

    /// US equities: commission-free (most retail brokers), no duties.
    pub fn us() -> Self {
        Self {
            commission_rate: Decimal::ZERO,
            min_commission: Decimal::ZERO,
            stamp_duty: vec![],
            transfer_fee: vec![],
            round_to_cent: false,
        }
    }

    /// Crypto spot: 0.1% commission (Binance spot base taker rate), no minimum.
    pub fn crypto() -> Self {
        Self {
            commission_rate: Decimal::new(1, 3),
            min_commission: Decimal::ZERO,
            stamp_duty: vec![],
            transfer_fee: vec![],
            round_to_cent: false,
        }
    }

    fn rate_on(rates: &[DatedRate], on: NaiveDate) -> Decimal {
        rates
            .iter()
            .rev()
            .find(|r| r.from <= on)
            .map_or(Decimal::ZERO, |r| r.rate)
    }

    /// Stamp-duty rate on sells traded on `on`.
    pub fn stamp_duty_rate(&self, on: NaiveDate) -> Decimal {
        Self::rate_on(&self.stamp_duty, on)
    }

    /// Transfer-fee rate on `on`.
    pub fn transfer_fee_rate(&self, on: NaiveDate) -> Decimal {
        Self::rate_on(&self.transfer_fee, on)
    }

    /// Fees of one order of notional `value` on trade date `on`.
    pub fn fees(&self, side: Side, on: NaiveDate, value: Cash) -> Fees {
        let round = |c: Cash| {
            if self.round_to_cent {
                Cash(c.0.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
            } else {
                c
            }
        };
        let commission = value
            .times_rate(self.commission_rate)
            .max(Cash(self.min_commission));
        let stamp_duty = match side {
            Side::Sell => value.times_rate(self.stamp_duty_rate(on)),
            Side::Buy => Cash::ZERO,
        };
        let transfer_fee = value.times_rate(self.transfer_fee_rate(on));
        Fees {
            commission: round(commission),
            stamp_duty: round(stamp_duty),
            transfer_fee: round(transfer_fee),
        }
    }

    /// Checks rates are non-negative and dated lists ascending.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &'static str, v: Decimal| Error::InvalidValue {
            what,
            value: v.to_string(),
        };
        if self.commission_rate < Decimal::ZERO {
            return Err(bad("commission_rate", self.commission_rate));
        }
        if self.min_commission < Decimal::ZERO {
            return Err(bad("min_commission", self.min_commission));
        }
        for (what, list) in [
            ("stamp_duty", &self.stamp_duty),
            ("transfer_fee", &self.transfer_fee),
        ] {
            if let Some(r) = list.iter().find(|r| r.rate < Decimal::ZERO) {
                return Err(bad(what, r.rate));
            }
            if list.windows(2).any(|w| w[1].from <= w[0].from) {
                return Err(Error::InvalidValue {
                    what,
                    value: "dates not ascending".into(),
                });
            }
        }
        Ok(())
    }
}

/// Daily price band of one instrument, from the previous close.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PriceLimit {
    /// No limit applies (US, crypto, A-share IPO days under the registration system).
    None,
    /// Limit-up and limit-down prices, rounded to the tick.
    Band {
        /// Highest allowed price.
        up: f64,
        /// Lowest allowed price.
        down: f64,
    },
}

impl PriceLimit {
    /// True when a buy at `price` would be at or above limit-up.
    pub fn blocks_buy(&self, price: f64) -> bool {
        matches!(*self, Self::Band { up, .. } if price >= up - 1e-9)
    }

    /// True when a sell at `price` would be at or below limit-down.
    pub fn blocks_sell(&self, price: f64) -> bool {
        matches!(*self, Self::Band { down, .. } if price <= down + 1e-9)
    }
}

/// Market-rule parameters with effective dates, and the pure rule functions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketRules {
    /// Which rule set applies.
    pub rule_set: RuleSet,
    /// Fee schedule for stocks (and crypto/US instruments).
    pub stock_fees: FeeSchedule,
    /// Fee schedule for exchange-traded funds.
    pub fund_fees: FeeSchedule,
    /// First day main-board ST stocks moved from ±5% to ±10% (the 2025 change;
    /// SSE/SZSE proposal of 2025-06-27, in force from 2025-07-07 here; configurable).
    pub st_limit_change: NaiveDate,
}

impl MarketRules {
    /// The default rules and fee schedules of a rule set.
    pub fn new(rule_set: RuleSet) -> Self {
        let (stock_fees, fund_fees) = match rule_set {
            RuleSet::CnA => (FeeSchedule::cn_stock(), FeeSchedule::cn_fund()),
            RuleSet::Us => (FeeSchedule::us(), FeeSchedule::us()),
            RuleSet::Crypto => (FeeSchedule::crypto(), FeeSchedule::crypto()),
        };
        Self {
            rule_set,
            stock_fees,
            fund_fees,
            st_limit_change: date(2025, 7, 7),
        }
    }

    /// The fee schedule for an instrument.
    pub fn fee_schedule(&self, inst: &Instrument) -> &FeeSchedule {
        if inst.asset_class == AssetClass::Etf {
            &self.fund_fees
        } else {
            &self.stock_fees
        }
    }

    /// Fees of an order of `quantity` at `price` on `on`.
    pub fn fees(
        &self,
        inst: &Instrument,
        side: Side,
        on: NaiveDate,
        price: Price,
        quantity: Quantity,
    ) -> Fees {
        self.fee_schedule(inst).fees(side, on, price * quantity)
    }

    /// True when units bought today cannot be sold until the next trading day.
    ///
    /// A-share stocks and equity ETFs are T+1. SSE bond/money-market (511),
    /// cross-border (513) and gold (518) ETFs are T+0 (当日回转). SZSE funds
    /// are treated as T+1 (the exchange's T+0 list mixes 159xxx codes).
    pub fn t_plus_one(&self, inst: &Instrument) -> bool {
        if self.rule_set != RuleSet::CnA {
            return false;
        }
        match inst.asset_class {
            AssetClass::Stock => true,
            AssetClass::Etf => {
                let code = inst.symbol.code();
                !(inst.exchange == Exchange::Sse
                    && matches!(&code[..3.min(code.len())], "511" | "513" | "518"))
            }
            AssetClass::Index | AssetClass::Crypto => false,
        }
    }

    /// Rounds a buy quantity down to what the market accepts: A-share board
    /// lots of 100 (STAR: at least 200, then 1-share steps; BSE: at least 100,
    /// then 1-share steps); US whole shares; crypto multiples of `lot_size`.
    /// Returns zero when nothing valid remains.
    pub fn round_buy(&self, inst: &Instrument, qty: Quantity) -> Quantity {
        let q = qty.0;
        if q <= Decimal::ZERO {
            return Quantity::ZERO;
        }
        let out = match self.rule_set {
            RuleSet::CnA => match inst.board {
                Board::Star if inst.asset_class == AssetClass::Stock => {
                    let whole = q.floor();
                    if whole < Decimal::from(200) {
                        Decimal::ZERO
                    } else {
                        whole
                    }
                }
                Board::Bse if inst.asset_class == AssetClass::Stock => {
                    let whole = q.floor();
                    if whole < Decimal::from(100) {
                        Decimal::ZERO
                    } else {
                        whole
                    }
                }
                _ => floor_to_multiple(q, inst.lot_size),
            },
            RuleSet::Us => q.floor(),
            RuleSet::Crypto => floor_to_multiple(q, inst.lot_size),
        };
        Quantity(out)
    }

    /// The step by which an unaffordable buy is reduced (one lot; one share
    /// above the STAR/BSE minimum).
    pub fn buy_step(&self, inst: &Instrument) -> Quantity {
        match (self.rule_set, inst.board, inst.asset_class) {
            (RuleSet::CnA, Board::Star | Board::Bse, AssetClass::Stock) => Quantity(Decimal::ONE),
            (RuleSet::CnA, _, _) => Quantity(inst.lot_size),
            (RuleSet::Us, _, _) => Quantity(Decimal::ONE),
            (RuleSet::Crypto, _, _) => Quantity(inst.lot_size),
        }
    }

    /// Rounds a sell quantity: a sell of the whole sellable position may
    /// include an odd lot (A-shares); a partial sell is rounded down to lots.
    /// Never more than `sellable`.
    pub fn round_sell(&self, inst: &Instrument, qty: Quantity, sellable: Quantity) -> Quantity {
        if qty >= sellable {
            return sellable;
        }
        let rounded = self.round_buy(inst, qty);
        // STAR/BSE minimum applies to buys; a partial sell must still leave
        // a valid remainder, but one-share steps are allowed above the minimum.
        rounded.min(sellable)
    }

    /// Price-limit percentage (fraction) for an A-share instrument on `on`;
    /// `None` for markets without limits.
    ///
    /// Main board ±10% (ST ±5% before [`Self::st_limit_change`]); ChiNext ±20%
    /// from 2020-08-24 (±10%, ST ±5%, before); STAR ±20%; BSE ±30%; funds ±10%.
    pub fn limit_pct(&self, inst: &Instrument, on: NaiveDate) -> Option<f64> {
        if self.rule_set != RuleSet::CnA || inst.asset_class == AssetClass::Index {
            return None;
        }
        if inst.asset_class == AssetClass::Etf {
            return Some(0.10);
        }
        let chinext_reform = date(2020, 8, 24);
        Some(match inst.board {
            Board::Star => 0.20,
            Board::Bse => 0.30,
            Board::ChiNext if on >= chinext_reform => 0.20,
            Board::Main | Board::ChiNext | Board::Other => {
                if inst.st && on < self.st_limit_change {
                    0.05
                } else {
                    0.10
                }
            }
        })
    }

    /// The price band on `on` from the reference previous close `prev_close`
    /// (the exchange's `pre_close`, which on an ex-date is the ex-rights
    /// reference price). `listing_day` is the 0-based trading-day count since
    /// listing when known (0 = the IPO day).
    ///
    /// Limit prices are prev_close × (1 ± pct) rounded half-up to the tick.
    /// IPOs: STAR, ChiNext from 2020-08-24 and main-board listings from
    /// 2023-04-10 have no limit for their first 5 trading days; earlier
    /// main-board and ChiNext IPO days are capped at +44% / −36%; BSE has no
    /// limit on its first day.
    pub fn price_limit(
        &self,
        inst: &Instrument,
        on: NaiveDate,
        prev_close: f64,
        listing_day: Option<usize>,
    ) -> PriceLimit {
        let Some(pct) = self.limit_pct(inst, on) else {
            return PriceLimit::None;
        };
        if !(prev_close.is_finite() && prev_close > 0.0) {
            return PriceLimit::None;
        }
        let (up_pct, down_pct) = match listing_day {
            Some(day) if day < 5 && inst.asset_class == AssetClass::Stock => {
                let registration = match inst.board {
                    Board::Star => true,
                    Board::ChiNext => on >= date(2020, 8, 24),
                    Board::Main | Board::Other => {
                        inst.list_date.is_some_and(|d| d >= date(2023, 4, 10))
                    }
                    Board::Bse => day == 0,
                };
                if registration {
                    return PriceLimit::None;
                }
                if day == 0 { (0.44, 0.36) } else { (pct, pct) }
            }
            _ => (pct, pct),
        };
        let tick = crate::money::decimal_to_f64(inst.tick_size);
        let snap = |x: f64| ((x / tick) + 0.5 + 1e-9).floor() * tick;
        PriceLimit::Band {
            up: snap(prev_close * (1.0 + up_pct)),
            down: snap(prev_close * (1.0 - down_pct)),
        }
    }

    /// The largest buy quantity, at most `wanted` (already lot-rounded) or,
    /// when `wanted` is `None`, as much as cash allows, whose value plus fees
    /// `cash` covers at `price` on `on`. Follows conventions.md: start from
    /// floor(cash / (price × (1 + commission rate + transfer rate))) rounded
    /// to lots, then reduce one step at a time while value + fees > cash.
    /// Returns zero when not even the smallest lot fits.
    pub fn affordable_buy(
        &self,
        inst: &Instrument,
        on: NaiveDate,
        price: Price,
        cash: Cash,
        wanted: Option<Quantity>,
    ) -> Quantity {
        if price.0 <= Decimal::ZERO || cash.0 <= Decimal::ZERO {
            return Quantity::ZERO;
        }
        let sched = self.fee_schedule(inst);
        let fits =
            |q: Quantity| price * q + self.fees(inst, Side::Buy, on, price, q).total() <= cash;
        // The answer is the largest affordable lot multiple ≤ wanted: value ×
        // (1 + commission + transfer rates) ≤ cost, so the estimate below is
        // an upper bound up to f64 rounding; search from it in both
        // directions, checking each candidate exactly in decimal.
        let rate = sched.commission_rate + sched.transfer_fee_rate(on);
        let gross = price.to_f64() * (1.0 + crate::money::decimal_to_f64(rate));
        let step = self.buy_step(inst);
        let steps = (cash.to_f64() / gross / step.to_f64()).floor();
        if !(0.0..9.0e15).contains(&steps) {
            return Quantity::ZERO;
        }
        let estimate = Quantity(Decimal::from(steps as i64) * step.0);
        let cap = wanted.map(|w| self.round_buy(inst, w));
        let mut q = self.round_buy(inst, estimate);
        if let Some(c) = cap {
            q = q.min(c);
        }
        while !q.is_zero() && !fits(q) {
            q = self.round_buy(inst, q - step);
        }
        loop {
            let next = self.round_buy(inst, q + step);
            if next <= q || cap.is_some_and(|c| next > c) || !fits(next) {
                break;
            }
            q = next;
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::Symbol;
    use rust_decimal_macros::dec;

    fn inst(s: &str) -> Instrument {
        Instrument::infer(Symbol::new(s).unwrap(), false).unwrap()
    }
    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn q(n: i64) -> Quantity {
        Quantity::from_units(n)
    }

    #[test]
    fn lot_rounding() {
        let r = MarketRules::new(RuleSet::CnA);
        assert_eq!(r.round_buy(&inst("600036.SH"), q(6499)), q(6400));
        assert_eq!(r.round_buy(&inst("600036.SH"), q(99)), q(0));
        assert_eq!(r.round_buy(&inst("688981.SH"), q(199)), q(0));
        assert_eq!(r.round_buy(&inst("688981.SH"), q(201)), q(201));
        // odd lots may be sold when the whole position goes
        assert_eq!(r.round_sell(&inst("600036.SH"), q(1000), q(150)), q(150));
        assert_eq!(r.round_sell(&inst("600036.SH"), q(120), q(150)), q(100));
        let c = MarketRules::new(RuleSet::Crypto);
        assert_eq!(
            c.round_buy(&inst("BTC-USDT"), Quantity(dec!(0.123456789))),
            Quantity(dec!(0.12345678))
        );
        let u = MarketRules::new(RuleSet::Us);
        assert_eq!(u.round_buy(&inst("SPY"), Quantity(dec!(7.9))), q(7));
    }

    #[test]
    fn price_limits_by_board() {
        let r = MarketRules::new(RuleSet::CnA);
        let on = d("2021-06-01");
        assert_eq!(
            r.price_limit(&inst("600036.SH"), on, 10.0, None),
            PriceLimit::Band {
                up: 11.0,
                down: 9.0
            }
        );
        let PriceLimit::Band { up, down } = r.price_limit(&inst("300750.SZ"), on, 10.0, None)
        else {
            panic!()
        };
        assert!((up - 12.0).abs() < 1e-9 && (down - 8.0).abs() < 1e-9);
        let PriceLimit::Band { up, .. } =
            r.price_limit(&inst("300750.SZ"), d("2020-08-21"), 10.0, None)
        else {
            panic!()
        };
        assert!((up - 11.0).abs() < 1e-9);
        let mut st = inst("600001.SH");
        st.st = true;
        let PriceLimit::Band { up, .. } = r.price_limit(&st, on, 10.0, None) else {
            panic!()
        };
        assert!((up - 10.5).abs() < 1e-9);
        let PriceLimit::Band { up, .. } = r.price_limit(&st, d("2025-08-01"), 10.0, None) else {
            panic!()
        };
        assert!((up - 11.0).abs() < 1e-9);
        let PriceLimit::Band { up, .. } = r.price_limit(&inst("830799.BJ"), on, 10.0, None) else {
            panic!()
        };
        assert!((up - 13.0).abs() < 1e-9);
        // half-up rounding to the tick: 18.21 × 1.1 = 20.031 → 20.03
        let PriceLimit::Band { up, .. } = r.price_limit(&inst("600036.SH"), on, 18.21, None) else {
            panic!()
        };
        assert!((up - 20.03).abs() < 1e-9);
        // ChiNext IPO day before the reform: +44%
        let PriceLimit::Band { up, .. } =
            r.price_limit(&inst("300750.SZ"), d("2018-06-11"), 25.14, Some(0))
        else {
            panic!()
        };
        assert!((up - 36.20).abs() < 1e-9);
        assert_eq!(
            r.price_limit(&inst("688981.SH"), on, 10.0, Some(2)),
            PriceLimit::None
        );
        assert_eq!(
            MarketRules::new(RuleSet::Us).price_limit(&inst("SPY"), on, 10.0, None),
            PriceLimit::None
        );
    }

    #[test]
    fn stamp_duty_switches_on_2023_08_28() {
        let f = FeeSchedule::cn_stock();
        let v = Cash(dec!(100000));
        assert_eq!(
            f.fees(Side::Sell, d("2023-08-25"), v).stamp_duty,
            Cash(dec!(100))
        );
        assert_eq!(
            f.fees(Side::Sell, d("2023-08-28"), v).stamp_duty,
            Cash(dec!(50))
        );
        assert_eq!(f.fees(Side::Buy, d("2023-08-28"), v).stamp_duty, Cash::ZERO);
    }

    #[test]
    fn minimum_commission_bites_on_small_orders() {
        let f = FeeSchedule::cn_stock();
        // 100 shares × 10 CNY = 1000 CNY: 0.025% = 0.25 CNY < 5 CNY minimum
        let fees = f.fees(Side::Buy, d("2021-01-04"), Cash(dec!(1000)));
        assert_eq!(fees.commission, Cash(dec!(5)));
        assert_eq!(fees.transfer_fee, Cash(dec!(0.01)));
        let fees = f.fees(Side::Buy, d("2021-01-04"), Cash(dec!(100000)));
        assert_eq!(fees.commission, Cash(dec!(25)));
    }

    #[test]
    fn affordability_reduces_lot_by_lot() {
        let r = MarketRules::new(RuleSet::CnA);
        let i = inst("600036.SH");
        // 1005 CNY at 10.00: 100 shares cost 1000 + 5 + 0.01 = 1005.01 > 1005 → nothing
        assert_eq!(
            r.affordable_buy(&i, d("2021-01-04"), Price(dec!(10)), Cash(dec!(1005)), None),
            q(0)
        );
        assert_eq!(
            r.affordable_buy(
                &i,
                d("2021-01-04"),
                Price(dec!(10)),
                Cash(dec!(1005.01)),
                None
            ),
            q(100)
        );
        assert_eq!(
            r.affordable_buy(
                &i,
                d("2021-01-04"),
                Price(dec!(10)),
                Cash(dec!(10000)),
                None
            ),
            q(900)
        );
        assert_eq!(
            r.affordable_buy(
                &i,
                d("2021-01-04"),
                Price(dec!(10)),
                Cash(dec!(10000)),
                Some(q(300))
            ),
            q(300)
        );
    }

    #[test]
    fn t_plus_one_by_product() {
        let r = MarketRules::new(RuleSet::CnA);
        assert!(r.t_plus_one(&inst("600036.SH")));
        assert!(r.t_plus_one(&inst("510300.SH")));
        assert!(!r.t_plus_one(&inst("518880.SH")));
        assert!(!r.t_plus_one(&inst("511010.SH")));
        assert!(!MarketRules::new(RuleSet::Us).t_plus_one(&inst("SPY")));
    }
}
