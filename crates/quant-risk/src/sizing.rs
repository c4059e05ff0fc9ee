//! Position sizing: how many shares a new position gets, always rounded
//! down to what the market accepts (A-share board lots, STAR/BSE minimums,
//! whole US shares, crypto steps) by `quant-core`'s
//! [`MarketRules::round_buy`].
//!
//! | rule | shares before rounding | source |
//! |---|---|---|
//! | fixed fraction `f` | `f · equity / price` | — |
//! | volatility target, ATR | `risk · equity / (k · ATR)`: a `k`·ATR move loses `risk` of equity | Van Tharp, position sizing by volatility |
//! | volatility target, stddev | `risk · equity / (k · σ · price)`, `σ` the daily return standard deviation | — |
//! | Kelly | `min(c · f*, 1) · equity / price`, `f* = p − (1 − p)/b`, 0 when `f* ≤ 0` | Kelly (1956); `c` ≤ 1 is the share of full Kelly |
//! | equal weight over `n` | `equity / (n · price)` | — |

use quant_core::{Instrument, MarketRules, Quantity};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::Deserialize;

use crate::error::{Result, count_in, in_range};
use crate::{MAX_MULTIPLE, MAX_POSITIONS};

/// A sizing rule (the `[sizing]` table: `method = "…"` plus its fields).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Sizing {
    /// A fixed fraction of equity per position.
    FixedFraction {
        /// Fraction of equity, (0, 1].
        fraction: f64,
    },
    /// Risk a fixed fraction of equity on a move of `multiple` × ATR.
    AtrTarget {
        /// Fraction of equity at risk per trade, (0, 0.2].
        risk_per_trade: f64,
        /// ATR multiples to the stop (> 0).
        multiple: f64,
    },
    /// Risk a fixed fraction of equity on a move of `multiple` daily
    /// standard deviations of return.
    StddevTarget {
        /// Fraction of equity at risk per trade, (0, 0.2].
        risk_per_trade: f64,
        /// Standard deviations to the stop (> 0).
        multiple: f64,
    },
    /// The Kelly fraction, capped.
    Kelly {
        /// Probability of a winning trade, (0, 1).
        win_rate: f64,
        /// Average win over average loss (> 0).
        payoff: f64,
        /// Share of full Kelly to bet, (0, 1] (half Kelly = 0.5).
        cap: f64,
    },
    /// Equity split equally over `positions` positions.
    EqualWeight {
        /// Number of positions (≥ 1).
        positions: u32,
    },
}

impl Sizing {
    /// Checks the ranges: `fraction` and `cap` in (0, 1], `risk_per_trade`
    /// in (0, 0.2], `win_rate` in (0, 1), `multiple` and `payoff` in (0,
    /// [`MAX_MULTIPLE`]], `positions` in [1, [`MAX_POSITIONS`]].
    ///
    /// # Errors
    /// [`crate::Error::Setting`] naming the key, the value and the range.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Self::FixedFraction { fraction } => {
                in_range("sizing.fraction", fraction, f64::MIN_POSITIVE, 1.0)
            }
            Self::AtrTarget {
                risk_per_trade,
                multiple,
            }
            | Self::StddevTarget {
                risk_per_trade,
                multiple,
            } => {
                in_range(
                    "sizing.risk_per_trade",
                    risk_per_trade,
                    f64::MIN_POSITIVE,
                    0.2,
                )?;
                in_range("sizing.multiple", multiple, f64::MIN_POSITIVE, MAX_MULTIPLE)
            }
            Self::Kelly {
                win_rate,
                payoff,
                cap,
            } => {
                in_range(
                    "sizing.win_rate",
                    win_rate,
                    f64::MIN_POSITIVE,
                    1.0 - f64::EPSILON,
                )?;
                in_range("sizing.payoff", payoff, f64::MIN_POSITIVE, MAX_MULTIPLE)?;
                in_range("sizing.cap", cap, f64::MIN_POSITIVE, 1.0)
            }
            Self::EqualWeight { positions } => count_in(
                "sizing.positions",
                Some(u64::from(positions)),
                MAX_POSITIONS,
            ),
        }
    }

    /// The full Kelly fraction `p − (1 − p)/b` (may be ≤ 0: no edge).
    pub fn kelly_fraction(win_rate: f64, payoff: f64) -> f64 {
        win_rate - (1.0 - win_rate) / payoff
    }

    /// Shares before lot rounding for `equity` at `price`. `volatility`
    /// is the ATR (price units) for [`Sizing::AtrTarget`] and the daily
    /// return standard deviation (fraction) for [`Sizing::StddevTarget`];
    /// ignored otherwise. 0 when the rule gives nothing (no edge, no
    /// volatility, a non-positive price).
    pub fn shares(&self, equity: f64, price: f64, volatility: Option<f64>) -> f64 {
        if !(price > 0.0 && equity > 0.0) {
            return 0.0;
        }
        let raw = match *self {
            Self::FixedFraction { fraction } => fraction * equity / price,
            Self::AtrTarget {
                risk_per_trade,
                multiple,
            } => match volatility {
                Some(atr) if atr > 0.0 => risk_per_trade * equity / (multiple * atr),
                _ => 0.0,
            },
            Self::StddevTarget {
                risk_per_trade,
                multiple,
            } => match volatility {
                Some(sd) if sd > 0.0 => risk_per_trade * equity / (multiple * sd * price),
                _ => 0.0,
            },
            Self::Kelly {
                win_rate,
                payoff,
                cap,
            } => {
                let f = Self::kelly_fraction(win_rate, payoff);
                if f <= 0.0 {
                    0.0
                } else {
                    (cap * f).min(1.0) * equity / price
                }
            }
            Self::EqualWeight { positions } => equity / (f64::from(positions.max(1)) * price),
        };
        if raw.is_finite() { raw.max(0.0) } else { 0.0 }
    }

    /// [`Sizing::shares`] scaled by `factor` (a breaker's size factor) and
    /// rounded down to the market's lots for `inst`.
    pub fn quantity(
        &self,
        rules: &MarketRules,
        inst: &Instrument,
        equity: f64,
        price: f64,
        volatility: Option<f64>,
        factor: f64,
    ) -> Quantity {
        let shares = self.shares(equity, price, volatility) * factor;
        let q = Decimal::from_f64(shares).unwrap_or(Decimal::ZERO);
        rules.round_buy(inst, Quantity(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quant_core::{RuleSet, Symbol};

    fn inst(sym: &str) -> Instrument {
        Instrument::infer(Symbol::new(sym).unwrap(), false).unwrap()
    }

    #[test]
    fn each_rule_by_hand() {
        // 1,000,000 equity, price 25
        let ff = Sizing::FixedFraction { fraction: 0.1 };
        assert!((ff.shares(1e6, 25.0, None) - 4000.0).abs() < 1e-9);
        // 1 % risk on 2 × ATR 0.8 → 10,000 / 1.6 = 6,250 shares
        let atr = Sizing::AtrTarget {
            risk_per_trade: 0.01,
            multiple: 2.0,
        };
        assert!((atr.shares(1e6, 25.0, Some(0.8)) - 6250.0).abs() < 1e-9);
        assert_eq!(atr.shares(1e6, 25.0, None), 0.0);
        // σ 2 %: 1 σ move is 0.5 CNY; 10,000 / (2 × 0.5) = 10,000 shares
        let sd = Sizing::StddevTarget {
            risk_per_trade: 0.01,
            multiple: 2.0,
        };
        assert!((sd.shares(1e6, 25.0, Some(0.02)) - 10_000.0).abs() < 1e-9);
        // Kelly p 0.55, b 1.5: f* = 0.55 − 0.45/1.5 = 0.25; half → 0.125
        let k = Sizing::Kelly {
            win_rate: 0.55,
            payoff: 1.5,
            cap: 0.5,
        };
        assert!((Sizing::kelly_fraction(0.55, 1.5) - 0.25).abs() < 1e-15);
        assert!((k.shares(1e6, 25.0, None) - 5000.0).abs() < 1e-9);
        let no_edge = Sizing::Kelly {
            win_rate: 0.4,
            payoff: 1.0,
            cap: 1.0,
        };
        assert_eq!(no_edge.shares(1e6, 25.0, None), 0.0);
        let ew = Sizing::EqualWeight { positions: 8 };
        assert!((ew.shares(1e6, 25.0, None) - 5000.0).abs() < 1e-9);
    }

    #[test]
    fn quantities_round_to_the_markets_lots() {
        let rules = MarketRules::new(RuleSet::CnA);
        let ff = Sizing::FixedFraction { fraction: 0.1 };
        // 100,000 × 0.1 / 37 = 270.27 → 200 shares (lots of 100)
        let q = ff.quantity(&rules, &inst("600036.SH"), 100_000.0, 37.0, None, 1.0);
        assert_eq!(q, Quantity(Decimal::from(200)));
        // STAR: 270 shares (≥ 200, then 1-share steps)
        let q = ff.quantity(&rules, &inst("688981.SH"), 100_000.0, 37.0, None, 1.0);
        assert_eq!(q, Quantity(Decimal::from(270)));
        // a halving breaker: 135 → below STAR's 200 minimum → nothing
        let q = ff.quantity(&rules, &inst("688981.SH"), 100_000.0, 37.0, None, 0.5);
        assert_eq!(q, Quantity::ZERO);
    }

    #[test]
    fn configs_parse_and_validate() {
        let s: Sizing =
            toml::from_str("method = \"atr_target\"\nrisk_per_trade = 0.01\nmultiple = 3.0\n")
                .unwrap();
        assert!(s.validate().is_ok());
        let s: Sizing =
            toml::from_str("method = \"kelly\"\nwin_rate = 0.5\npayoff = 2.0\ncap = 1.5\n")
                .unwrap();
        assert!(s.validate().unwrap_err().to_string().contains("sizing.cap"));
        assert!(toml::from_str::<Sizing>("method = \"martingale\"\n").is_err());
    }
}
