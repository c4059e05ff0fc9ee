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
    /// runner from instrument metadata, not from the config file.
    #[serde(skip)]
    pub sectors: std::collections::BTreeMap<String, String>,
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
