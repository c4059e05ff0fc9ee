//! Pre-trade checks: each order either passes every configured limit or is
//! blocked with the first [`Violation`] — the rule, the value the order
//! would lead to and the limit.
//!
//! Which checks apply to which side: the exposure limits (position weight,
//! sector weight, gross exposure, number of positions) and the symbol
//! lists apply to **buys** only — a sell never adds risk, and a blocked
//! symbol must stay sellable so that it can be exited. Liquidity, price
//! band and orders per day apply to both sides.
//!
//! Weights are measured after the order fills at `OrderRequest::price`
//! against current equity (cash plus positions at their last prices):
//! buying at the fill price moves cash into the position and leaves equity
//! unchanged before fees, so the checked weight is the weight the
//! portfolio will have.

use std::collections::{BTreeMap, BTreeSet};

use quant_core::Side;
use serde::{Deserialize, Serialize};

use crate::error::{Result, count_in, in_range};
use crate::{MAX_ORDERS_PER_DAY, MAX_POSITIONS};

/// The limits of a strategy or account (the `[risk]` table of a config;
/// every limit optional). Fractions, not percent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskLimits {
    /// Largest value of one position over equity after the order (0.2 =
    /// 20 %).
    pub max_position_weight: Option<f64>,
    /// Largest value of one sector (industry) over equity after the order.
    pub max_sector_weight: Option<f64>,
    /// Most distinct positions held after the order.
    pub max_positions: Option<usize>,
    /// Largest gross exposure (sum of |position values|) over equity after
    /// the order: 1.0 = fully invested without leverage.
    pub max_gross_exposure: Option<f64>,
    /// When set, the only symbols that may be bought.
    pub allowed: Option<BTreeSet<String>>,
    /// Symbols that may not be bought.
    #[serde(default)]
    pub blocked: BTreeSet<String>,
    /// Largest order quantity as a fraction of the symbol's 20-day average
    /// daily volume (shares).
    pub max_adv_fraction: Option<f64>,
    /// Largest distance of a limit price from the last price, as a
    /// fraction of the last price.
    pub price_band: Option<f64>,
    /// Most orders per trading day (both sides).
    pub max_orders_per_day: Option<u32>,
}

impl RiskLimits {
    /// Checks every limit's range.
    ///
    /// # Errors
    /// [`crate::Error::Setting`] naming the key, the value and the range:
    /// weights and fractions in (0, 1] (gross exposure in (0, 10]),
    /// `max_positions` in [1, [`MAX_POSITIONS`]], `max_orders_per_day` in
    /// [1, [`MAX_ORDERS_PER_DAY`]], a symbol both allowed and blocked.
    pub fn validate(&self) -> Result<()> {
        let unit =
            |key, v: Option<f64>| v.map_or(Ok(()), |x| in_range(key, x, f64::MIN_POSITIVE, 1.0));
        unit("max_position_weight", self.max_position_weight)?;
        unit("max_sector_weight", self.max_sector_weight)?;
        unit("max_adv_fraction", self.max_adv_fraction)?;
        unit("price_band", self.price_band)?;
        if let Some(g) = self.max_gross_exposure {
            in_range("max_gross_exposure", g, f64::MIN_POSITIVE, 10.0)?;
        }
        count_in(
            "max_positions",
            self.max_positions
                .map(|n| u64::try_from(n).unwrap_or(u64::MAX)),
            MAX_POSITIONS,
        )?;
        count_in(
            "max_orders_per_day",
            self.max_orders_per_day.map(u64::from),
            MAX_ORDERS_PER_DAY,
        )?;
        if let Some(both) = self
            .allowed
            .as_ref()
            .and_then(|a| a.intersection(&self.blocked).next())
        {
            return Err(crate::Error::Setting {
                key: "blocked",
                value: both.clone(),
                expected: "a symbol cannot be both allowed and blocked".into(),
            });
        }
        Ok(())
    }
}

/// The order to check.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest<'a> {
    /// Symbol.
    pub symbol: &'a str,
    /// Buy or sell.
    pub side: Side,
    /// Quantity, shares (> 0).
    pub quantity: f64,
    /// Expected fill price (the last price for a market order), currency
    /// units.
    pub price: f64,
    /// The limit price of a limit order.
    pub limit_price: Option<f64>,
    /// The symbol's sector or industry, when known.
    pub sector: Option<&'a str>,
}

/// One held position.
#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    /// Quantity, shares (negative for a short).
    pub quantity: f64,
    /// Last price.
    pub price: f64,
    /// Sector or industry, when known.
    pub sector: Option<String>,
}

impl Holding {
    /// Market value, currency units (negative for a short).
    pub fn value(&self) -> f64 {
        self.quantity * self.price
    }
}

/// The portfolio as the checks see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortfolioView {
    /// Cash plus positions at their last prices, currency units.
    pub equity: f64,
    /// Positions by symbol.
    pub positions: BTreeMap<String, Holding>,
    /// Orders already sent today.
    pub orders_today: u32,
}

/// What the market says about the order's symbol.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MarketView {
    /// Last price.
    pub last: f64,
    /// 20-day average daily volume, shares; `None` when unknown (the
    /// liquidity check then blocks when a limit is configured).
    pub adv20: Option<f64>,
}

/// The checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// `max_orders_per_day`.
    OrdersPerDay,
    /// The symbol is in `blocked`.
    Blocked,
    /// `allowed` is set and the symbol is not in it.
    NotAllowed,
    /// `price_band`.
    PriceBand,
    /// `max_adv_fraction`.
    Liquidity,
    /// `max_positions`.
    MaxPositions,
    /// `max_position_weight`.
    PositionWeight,
    /// `max_sector_weight`.
    SectorWeight,
    /// `max_gross_exposure`.
    GrossExposure,
    /// A circuit breaker halts buying (see [`crate::breakers`]).
    Breaker,
}

impl Rule {
    /// The rule's name in outputs (`position_weight`…).
    pub fn name(self) -> &'static str {
        match self {
            Self::OrdersPerDay => "orders_per_day",
            Self::Blocked => "blocked",
            Self::NotAllowed => "not_allowed",
            Self::PriceBand => "price_band",
            Self::Liquidity => "liquidity",
            Self::MaxPositions => "max_positions",
            Self::PositionWeight => "position_weight",
            Self::SectorWeight => "sector_weight",
            Self::GrossExposure => "gross_exposure",
            Self::Breaker => "breaker",
        }
    }
}

/// Why an order is blocked: the rule and the numbers that tripped it.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// The value the order would lead to (a weight, a count, a fraction).
    pub value: f64,
    /// The configured limit.
    pub limit: f64,
    /// A sentence with the symbol and the numbers.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rule.name(), self.detail)
    }
}

/// `value` over `limit`, or not a number (which no limit admits).
fn exceeds(value: f64, limit: f64) -> bool {
    value.is_nan() || value > limit
}

fn violation(rule: Rule, value: f64, limit: f64, detail: String) -> Violation {
    Violation {
        rule,
        value,
        limit,
        detail,
    }
}

/// Runs every configured check on `order`; the first failing one (in
/// [`Rule`] order) blocks it.
///
/// # Errors
/// The [`Violation`] that blocks the order.
pub fn check(
    limits: &RiskLimits,
    order: &OrderRequest<'_>,
    portfolio: &PortfolioView,
    market: &MarketView,
) -> Result<(), Violation> {
    let sym = order.symbol;
    if let Some(max) = limits.max_orders_per_day {
        let n = portfolio.orders_today.saturating_add(1);
        if n > max {
            return Err(violation(
                Rule::OrdersPerDay,
                f64::from(n),
                f64::from(max),
                format!("{sym}: order {n} of the day, at most {max}"),
            ));
        }
    }
    let buy = order.side == Side::Buy;
    if buy && limits.blocked.contains(sym) {
        return Err(violation(
            Rule::Blocked,
            1.0,
            0.0,
            format!("{sym} is blocked"),
        ));
    }
    if buy && limits.allowed.as_ref().is_some_and(|a| !a.contains(sym)) {
        return Err(violation(
            Rule::NotAllowed,
            1.0,
            0.0,
            format!("{sym} is not in the allowed list"),
        ));
    }
    if let (Some(band), Some(lp)) = (limits.price_band, order.limit_price) {
        let off = (lp - market.last).abs() / market.last;
        if exceeds(off, band) {
            return Err(violation(
                Rule::PriceBand,
                off,
                band,
                format!(
                    "{sym}: limit {lp} is {:.2}% from the last price {} (band {:.2}%)",
                    off * 100.0,
                    market.last,
                    band * 100.0
                ),
            ));
        }
    }
    if let Some(frac) = limits.max_adv_fraction {
        let share = market
            .adv20
            .map_or(f64::INFINITY, |adv| order.quantity / adv);
        if exceeds(share, frac) {
            return Err(violation(
                Rule::Liquidity,
                share,
                frac,
                match market.adv20 {
                    Some(adv) => format!(
                        "{sym}: {} shares are {:.2}% of the 20-day average volume {adv} (at most {:.2}%)",
                        order.quantity,
                        share * 100.0,
                        frac * 100.0
                    ),
                    None => format!("{sym}: no 20-day average volume to check liquidity against"),
                },
            ));
        }
    }
    if !buy {
        return Ok(());
    }
    let held = portfolio.positions.get(sym);
    let new_position = held.is_none_or(|h| h.quantity == 0.0);
    if let Some(max) = limits.max_positions {
        let open = portfolio
            .positions
            .values()
            .filter(|h| h.quantity != 0.0)
            .count();
        let after = open + usize::from(new_position);
        if after > max {
            return Err(violation(
                Rule::MaxPositions,
                after as f64,
                max as f64,
                format!("{sym}: a new position would make {after}, at most {max}"),
            ));
        }
    }
    let added = order.quantity * order.price;
    let equity = portfolio.equity;
    if let Some(max) = limits.max_position_weight {
        let value = held.map_or(0.0, Holding::value) + added;
        let w = value / equity;
        if exceeds(w, max) {
            return Err(violation(
                Rule::PositionWeight,
                w,
                max,
                format!(
                    "{sym}: position {value:.2} would be {:.2}% of equity {equity:.2} (at most {:.2}%)",
                    w * 100.0,
                    max * 100.0
                ),
            ));
        }
    }
    if let (Some(max), Some(sector)) = (limits.max_sector_weight, order.sector) {
        let value: f64 = portfolio
            .positions
            .iter()
            .filter(|(s, h)| h.sector.as_deref() == Some(sector) || s.as_str() == sym)
            .map(|(_, h)| h.value())
            .sum::<f64>()
            + added;
        let w = value / equity;
        if exceeds(w, max) {
            return Err(violation(
                Rule::SectorWeight,
                w,
                max,
                format!(
                    "{sym}: sector {sector} would be {:.2}% of equity (at most {:.2}%)",
                    w * 100.0,
                    max * 100.0
                ),
            ));
        }
    }
    if let Some(max) = limits.max_gross_exposure {
        let gross: f64 = portfolio
            .positions
            .iter()
            .map(|(s, h)| {
                let v = h.value();
                if s == sym { (v + added).abs() } else { v.abs() }
            })
            .sum::<f64>()
            + if held.is_none() { added.abs() } else { 0.0 };
        let g = gross / equity;
        if exceeds(g, max) {
            return Err(violation(
                Rule::GrossExposure,
                g,
                max,
                format!(
                    "{sym}: gross exposure would be {:.2}% of equity (at most {:.2}%)",
                    g * 100.0,
                    max * 100.0
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> PortfolioView {
        // equity 100,000: 40,000 cash, 600519.SH 30,000 (白酒), 000858.SZ
        // 20,000 (白酒), 600036.SH 10,000 (银行)
        let h = |q: f64, p: f64, s: &str| Holding {
            quantity: q,
            price: p,
            sector: Some(s.into()),
        };
        PortfolioView {
            equity: 100_000.0,
            positions: BTreeMap::from([
                ("600519.SH".into(), h(20.0, 1500.0, "白酒")),
                ("000858.SZ".into(), h(200.0, 100.0, "白酒")),
                ("600036.SH".into(), h(250.0, 40.0, "银行")),
            ]),
            orders_today: 3,
        }
    }

    fn buy<'a>(sym: &'a str, q: f64, p: f64, sector: &'a str) -> OrderRequest<'a> {
        OrderRequest {
            symbol: sym,
            side: Side::Buy,
            quantity: q,
            price: p,
            limit_price: None,
            sector: Some(sector),
        }
    }

    const MKT: MarketView = MarketView {
        last: 40.0,
        adv20: Some(1_000_000.0),
    };

    #[test]
    fn position_weight_counts_what_is_held() {
        let limits = RiskLimits {
            max_position_weight: Some(0.35),
            ..Default::default()
        };
        // 30,000 + 100 × 40 = 34,000 → 34 %: passes
        assert!(
            check(
                &limits,
                &buy("600519.SH", 100.0, 40.0, "白酒"),
                &book(),
                &MKT
            )
            .is_ok()
        );
        // 30,000 + 200 × 40 = 38,000 → 38 % > 35 %
        let v = check(
            &limits,
            &buy("600519.SH", 200.0, 40.0, "白酒"),
            &book(),
            &MKT,
        )
        .unwrap_err();
        assert_eq!(v.rule, Rule::PositionWeight);
        assert!((v.value - 0.38).abs() < 1e-12 && v.limit == 0.35, "{v}");
        assert!(v.detail.contains("38.00%"), "{v}");
    }

    #[test]
    fn sector_weight_sums_the_sector() {
        let limits = RiskLimits {
            max_sector_weight: Some(0.6),
            ..Default::default()
        };
        // 白酒 holds 50,000; + 10,000 = 60 %: passes; + 10,040 fails
        assert!(
            check(
                &limits,
                &buy("000568.SZ", 100.0, 100.0, "白酒"),
                &book(),
                &MKT
            )
            .is_ok()
        );
        let v = check(
            &limits,
            &buy("000568.SZ", 100.4, 100.0, "白酒"),
            &book(),
            &MKT,
        )
        .unwrap_err();
        assert_eq!(v.rule, Rule::SectorWeight);
        assert!((v.value - 0.6004).abs() < 1e-12);
        // another sector is not counted
        assert!(
            check(
                &limits,
                &buy("601398.SH", 100.0, 100.0, "银行"),
                &book(),
                &MKT
            )
            .is_ok()
        );
    }

    #[test]
    fn positions_gross_lists_band_liquidity_and_count() {
        let b = book();
        let l = RiskLimits {
            max_positions: Some(3),
            ..Default::default()
        };
        assert_eq!(
            check(&l, &buy("601398.SH", 100.0, 5.0, "银行"), &b, &MKT)
                .unwrap_err()
                .rule,
            Rule::MaxPositions
        );
        // adding to a held one is not a new position
        assert!(check(&l, &buy("600036.SH", 100.0, 40.0, "银行"), &b, &MKT).is_ok());

        let l = RiskLimits {
            max_gross_exposure: Some(0.65),
            ..Default::default()
        };
        // gross 60,000 + 5,000 = 65 %: passes; + 5,040 fails
        assert!(check(&l, &buy("601398.SH", 1000.0, 5.0, "银行"), &b, &MKT).is_ok());
        let v = check(&l, &buy("601398.SH", 1008.0, 5.0, "银行"), &b, &MKT).unwrap_err();
        assert_eq!(v.rule, Rule::GrossExposure);
        assert!((v.value - 0.6504).abs() < 1e-12);

        let l = RiskLimits {
            blocked: BTreeSet::from(["600519.SH".to_string()]),
            allowed: Some(BTreeSet::from(["600519.SH".into(), "600036.SH".into()])),
            ..Default::default()
        };
        assert!(l.validate().is_err(), "allowed and blocked at once");
        let l = RiskLimits {
            blocked: BTreeSet::from(["600519.SH".to_string()]),
            ..Default::default()
        };
        assert_eq!(
            check(&l, &buy("600519.SH", 1.0, 1.0, "白酒"), &b, &MKT)
                .unwrap_err()
                .rule,
            Rule::Blocked
        );
        // a blocked symbol can still be sold
        let mut sell = buy("600519.SH", 10.0, 1500.0, "白酒");
        sell.side = Side::Sell;
        assert!(check(&l, &sell, &b, &MKT).is_ok());
        let l = RiskLimits {
            allowed: Some(BTreeSet::from(["600036.SH".to_string()])),
            ..Default::default()
        };
        assert_eq!(
            check(&l, &buy("600519.SH", 1.0, 1.0, "白酒"), &b, &MKT)
                .unwrap_err()
                .rule,
            Rule::NotAllowed
        );

        let l = RiskLimits {
            price_band: Some(0.02),
            max_adv_fraction: Some(0.01),
            max_orders_per_day: Some(4),
            ..Default::default()
        };
        let mut o = buy("600036.SH", 10_000.0, 40.0, "银行");
        o.limit_price = Some(40.8); // exactly 2 %
        assert!(check(&l, &o, &b, &MKT).is_ok());
        o.limit_price = Some(40.9);
        let v = check(&l, &o, &b, &MKT).unwrap_err();
        assert_eq!(v.rule, Rule::PriceBand);
        assert!((v.value - 0.0225).abs() < 1e-12);
        o.limit_price = None;
        o.quantity = 10_001.0; // 1.0001 % of ADV
        assert_eq!(check(&l, &o, &b, &MKT).unwrap_err().rule, Rule::Liquidity);
        let unknown = MarketView {
            last: 40.0,
            adv20: None,
        };
        o.quantity = 100.0;
        assert_eq!(
            check(&l, &o, &b, &unknown).unwrap_err().rule,
            Rule::Liquidity
        );
        let mut busy = b.clone();
        busy.orders_today = 4;
        let v = check(&l, &o, &busy, &MKT).unwrap_err();
        assert_eq!((v.rule, v.value, v.limit), (Rule::OrdersPerDay, 5.0, 4.0));
    }

    #[test]
    fn limits_are_validated_and_parsed_strictly() {
        let l: RiskLimits =
            toml::from_str("max_position_weight = 0.2\nmax_positions = 10\n").unwrap();
        assert!(l.validate().is_ok());
        let l: RiskLimits = toml::from_str("max_position_weight = 20.0\n").unwrap();
        let e = l.validate().unwrap_err().to_string();
        assert!(e.contains("max_position_weight") && e.contains("20"), "{e}");
        assert!(toml::from_str::<RiskLimits>("max_weight = 0.2\n").is_err());
    }
}
