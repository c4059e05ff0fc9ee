//! Risk controls used identically by backtest, paper and live trading.
//!
//! - [`checks`]: pre-trade checks, each giving pass or a [`Violation`]
//!   with the rule and the numbers that tripped it — position, sector and
//!   gross-exposure weights, number of positions, allowed and blocked
//!   symbols, liquidity against the 20-day average volume, price band,
//!   orders per day;
//! - [`breakers`]: portfolio circuit breakers — daily loss limit, maximum
//!   drawdown from peak (halts buys, optionally flattens), losing-streak
//!   throttle — with every trip recorded;
//! - [`sizing`]: fixed fraction, volatility target (ATR or standard
//!   deviation), capped Kelly, equal weight; always rounded to the
//!   market's lots by `quant-core`'s rules;
//! - [`exits`]: fixed stop-loss and take-profit, ATR chandelier trailing
//!   stop, time stop, take-profit at an R-multiple;
//! - [`figures`]: historical and parametric VaR and CVaR, beta and the
//!   correlation matrix.
//!
//! Units: weights, exposures and returns are fractions (0.2 = 20 %), not
//! percent; prices and money in the instrument's currency as `f64` (risk
//! arithmetic is analytics; orders carry their exact decimal prices);
//! quantities in shares (coins for crypto).
//!
//! Synchronous and free of I/O; depends on `quant-core` only.

pub mod breakers;
pub mod checks;
pub mod error;
pub mod exits;
pub mod figures;
pub mod sizing;

pub use breakers::{BreakerConfig, BreakerKind, Breakers, Trip};
pub use checks::{Holding, MarketView, OrderRequest, PortfolioView, RiskLimits, Rule, Violation};
pub use error::{Error, Result};
pub use exits::{ExitReason, ExitRules, ExitSignal, OpenTrade};
pub use sizing::Sizing;

use serde::{Deserialize, Serialize};

/// Largest count of bars or trading days a setting takes
/// (`cooldown_days`, `exits.time_stop_bars`): 100,000, four centuries of
/// daily bars.
pub const MAX_DAYS: u64 = 100_000;

/// Largest number of positions a setting takes (`max_positions`,
/// `sizing.positions`): 10,000.
pub const MAX_POSITIONS: u64 = 10_000;

/// Largest `max_orders_per_day`: 100,000.
pub const MAX_ORDERS_PER_DAY: u64 = 100_000;

/// Largest `losing_streak`: 1,000 losing round trips in a row.
pub const MAX_STREAK: u64 = 1_000;

/// Largest multiple a setting takes (`exits.take_profit`, `exits.r_multiple`,
/// `exits.chandelier_atr`, `sizing.multiple`, `sizing.payoff`): 100.
pub const MAX_MULTIPLE: f64 = 100.0;

/// The risk settings of a run or account (the `[risk]` table): pre-trade
/// limits in `[risk.limits]`, circuit breakers in `[risk.breakers]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Pre-trade limits.
    #[serde(default)]
    pub limits: RiskLimits,
    /// Circuit breakers.
    #[serde(default)]
    pub breakers: BreakerConfig,
    /// Symbol → sector (industry) for `max_sector_weight`; filled by the
    /// runner from instrument metadata, not from the config file (a
    /// human-readable format naming it, TOML or JSON, is refused). Binary
    /// formats (an engine snapshot in CBOR) keep it, so that a restored
    /// session checks sectors as the saved one did.
    #[serde(
        default,
        skip_serializing_if = "std::collections::BTreeMap::is_empty",
        deserialize_with = "sectors_from_snapshots"
    )]
    pub sectors: std::collections::BTreeMap<String, String>,
}

/// Reads [`RiskConfig::sectors`] from a binary format only.
fn sectors_from_snapshots<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<std::collections::BTreeMap<String, String>, D::Error> {
    if d.is_human_readable() {
        return Err(serde::de::Error::custom(
            "`sectors` is not a setting: sectors come from the industry column of data.instruments",
        ));
    }
    std::collections::BTreeMap::deserialize(d)
}

impl RiskConfig {
    /// Checks every setting's range.
    ///
    /// # Errors
    /// [`Error::Setting`] naming the key.
    pub fn validate(&self) -> Result<()> {
        self.limits.validate()?;
        self.breakers.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sectors_are_kept_by_snapshots_and_refused_in_config_files() {
        let cfg = RiskConfig {
            limits: RiskLimits {
                max_sector_weight: Some(0.5),
                ..RiskLimits::default()
            },
            sectors: [("600036.SH", "银行"), ("601398.SH", "银行")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            ..RiskConfig::default()
        };
        let mut bytes = Vec::new();
        ciborium::into_writer(&cfg, &mut bytes).unwrap();
        let back: RiskConfig = ciborium::from_reader(bytes.as_slice()).unwrap();
        assert_eq!(back, cfg);
        // no sectors: nothing is written for them
        let v = ciborium::Value::serialized(&RiskConfig::default()).unwrap();
        let keys: Vec<_> = v
            .as_map()
            .unwrap()
            .iter()
            .filter_map(|(k, _)| k.as_text())
            .collect();
        assert_eq!(keys, ["limits", "breakers"]);
        assert_eq!(
            v.deserialized::<RiskConfig>().unwrap(),
            RiskConfig::default()
        );
        let e = toml::from_str::<RiskConfig>("[sectors]\n\"600036.SH\" = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`sectors` is not a setting"), "{e}");
        let ok: RiskConfig = toml::from_str("[limits]\nmax_sector_weight = 0.5\n").unwrap();
        assert!(ok.sectors.is_empty());
    }
}
