//! The engine's settings and what a run records.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use quant_core::{Cash, Fill, Order, Quantity, Symbol};

use crate::error::{Error, Result};
use crate::risk::RiskEvent;

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

/// When a value-sized order (`OrderQty::Value`) becomes a number of units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeAt {
    /// The venue sizes it at the fill price (a backtest's all-in
    /// semantics: the golden case, every baseline).
    #[default]
    Fill,
    /// The engine sizes it at the decision: value / the decision's close,
    /// rounded down to whole lots — as a live order must be, since a
    /// broker needs a number before the open.
    Decision,
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
    /// When a value-sized order becomes units (see [`SizeAt`]).
    #[serde(default)]
    pub size_at: SizeAt,
    /// Pre-trade checks and circuit breakers applied to every order
    /// (`None`: none; see [`crate::risk`]).
    #[serde(default)]
    pub risk: Option<quant_risk::RiskConfig>,
    /// The order types and times in force the venue takes natively
    /// (default: everything, as the simulated venue). Stops, stop-limits
    /// and trailing stops it lacks are held and triggered by the engine
    /// ([`quant_exec::emulate`]); other orders it lacks are rejected
    /// `unsupported` before they are sent.
    #[serde(default)]
    pub venue: quant_exec::emulate::VenueCaps,
    /// How long a submitted order waits for the venue's first answer, in
    /// milliseconds of event time, before it is marked timed out
    /// (`Unknown`) and its status is queried ([`crate::Command::Query`]);
    /// `None` (default): no such timers — the simulated venue answers at
    /// once. Needs events that carry instants (intraday bars, quotes).
    #[serde(default)]
    pub ack_timeout_ms: Option<u64>,
    /// How the strategy's orders are worked unless an order says otherwise
    /// ([`quant_core::Execution`]; default: each sent as it is). A TWAP or
    /// an iceberg works every market (and, for an iceberg, limit) order it
    /// can; orders it cannot work (stops, auctions) are sent as they are.
    #[serde(default)]
    pub execution: quant_core::Execution,
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

impl Default for EngineConfig {
    /// 1,000,000 of starting cash, cash dividends booked, value orders
    /// sized at the fill, no risk gate, every order type native, no submit
    /// timeout.
    fn default() -> Self {
        Self {
            initial_cash: Cash(Decimal::from(1_000_000)),
            corporate_actions: CorporateActions::CashDividend,
            size_at: SizeAt::Fill,
            risk: None,
            venue: quant_exec::emulate::VenueCaps::simulated(),
            ack_timeout_ms: None,
            execution: quant_core::Execution::Direct,
        }
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
        validate_execution(&self.execution, "execution")?;
        Ok(())
    }
}

/// Checks an [`quant_core::Execution`]'s settings: a TWAP's `bars` ≥ 1,
/// `slices` in 1..=`bars`, `participation` in (0, 1]; an iceberg's
/// `visible` above 0. `key` names the setting in errors.
///
/// # Errors
/// [`Error::Setting`] naming `key.bars`, `key.slices`, `key.participation`
/// or `key.visible`.
pub fn validate_execution(e: &quant_core::Execution, key: &str) -> Result<()> {
    let bad = |k: &str, value: String, expected: &str| Error::Setting {
        key: format!("{key}.{k}"),
        value,
        expected: expected.into(),
    };
    match *e {
        quant_core::Execution::Direct => Ok(()),
        quant_core::Execution::Twap {
            bars,
            slices,
            participation,
            ..
        } => {
            if bars == 0 {
                return Err(bad("bars", bars.to_string(), "must be at least 1"));
            }
            if slices == 0 || slices > bars {
                return Err(bad(
                    "slices",
                    slices.to_string(),
                    &format!("must lie in [1, bars = {bars}]"),
                ));
            }
            if let Some(p) = participation
                && !(p > 0.0 && p <= 1.0)
            {
                return Err(bad("participation", p.to_string(), "must lie in (0, 1]"));
            }
            Ok(())
        }
        quant_core::Execution::Iceberg { visible } => {
            if visible.0 <= Decimal::ZERO {
                return Err(bad("visible", visible.to_string(), "must be above 0 units"));
            }
            Ok(())
        }
    }
}
