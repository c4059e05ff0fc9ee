//! The daily report of a paper (or live) session (`shared/docs/runtime.md`,
//! "Reports, alerts, dashboard"): written after each close and on demand as
//! HTML, JSON and Markdown.
//!
//! [`DailyReport::build`] is a pure function of its [`Inputs`]: no clock
//! reads (the report's instant is [`Inputs::generated_at`]), no network, no
//! files. The same inputs give the same bytes in every format.
//!
//! Conventions (`shared/docs/conventions.md`): returns, weights, exposures
//! and drawdowns are **fractions** (0.05 = 5 %), never percent; money is in
//! the account currency (CNY for A-share accounts); annualised figures use
//! [`TRADING_DAYS_PER_YEAR`] = 252; standard deviations are sample (ddof 1);
//! drawdowns are positive fractions with the starting equity counted as a
//! peak. A figure that is undefined for the inputs (too few days, zero or
//! non-finite equity, nothing to compare) is `None` (JSON `null`, "–" in
//! HTML and Markdown); no input makes [`DailyReport::build`] panic.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};

use quant_core::{Cash, Fill, Order, OrderId, OrderQty, OrderType, Price, Quantity, Side, Symbol};
use quant_engine::{EquityPoint, RiskEvent};
use quant_exec::Portfolio;
use quant_risk::RiskConfig;
use quant_risk::figures::{historical_cvar, historical_var, sample_std, simple_returns};

use crate::error::{Error, Result};

/// Trading days per year for annualisation (empyrical's 252, the same
/// constant as `quant_backtest::metrics::PERIODS_PER_YEAR`).
pub const TRADING_DAYS_PER_YEAR: f64 = quant_backtest::metrics::PERIODS_PER_YEAR;

/// Level of the 1-day historical VaR and CVaR: 0.05, i.e. 95 % confidence
/// (`shared/docs/conventions.md`: VaR(5 %) = 5th percentile of returns).
pub const VAR_LEVEL: f64 = 0.05;

/// `no_signals` is raised when this many paper days in a row (the report's
/// day included) created no order and nothing is planned: 20 trading days,
/// about a month — longer than any shipped rebalance period (weekly,
/// monthly).
pub const NO_SIGNALS_ALERT_DAYS: usize = 20;

/// `turnover_unusual` is raised when the day's turnover exceeds this
/// multiple of the average daily turnover of the previous paper days…
pub const TURNOVER_UNUSUAL_MULTIPLE: f64 = 3.0;

/// …and is above this floor (fraction of equity traded, both sides: 0.10 =
/// 10 % of equity), so that a quiet strategy's small trades raise nothing…
pub const TURNOVER_UNUSUAL_FLOOR: f64 = 0.10;

/// …and at least this many previous paper days exist (the first days of a
/// session build the portfolio, which is not unusual).
pub const TURNOVER_MIN_HISTORY_DAYS: usize = 5;

/// `tracking_breach` is raised when the annualised tracking error of daily
/// returns against the backtest of the same days exceeds 0.05 (5 % a
/// year): paper and backtest run the same engine and fill model, so the
/// difference should be near 0.
pub const TRACKING_ERROR_ALERT: f64 = 0.05;

/// `slippage_breach` is raised when the mean fill slippage against the
/// backtest's model exceeds 20 bps (worse for us).
pub const SLIPPAGE_ALERT_BPS: f64 = 20.0;

/// Where the session's events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// History replayed through the paper runner.
    Replay,
    /// The wall-clock session on live data (paper or live venue).
    Live,
}

impl Mode {
    /// `replay` or `live`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Replay => "replay",
            Self::Live => "live",
        }
    }
}

/// One held position at the report's close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionLine {
    /// Ticker.
    pub symbol: Symbol,
    /// Units held (shares; coins for crypto).
    pub quantity: Quantity,
    /// Units that may be sold next session (T+1).
    pub sellable: Quantity,
    /// Average cost per unit, fees included, CNY (`Position::cost` /
    /// quantity); `None` when undefined.
    pub avg_cost: Option<f64>,
    /// The close the position is marked at, CNY per unit; `None` before the
    /// first bar.
    pub mark: Option<f64>,
    /// quantity × mark, CNY; `None` without a mark.
    pub value: Option<f64>,
}

impl PositionLine {
    /// The non-zero positions of `portfolio`, named by `symbols` (the run's
    /// instruments in index order); positions without a symbol are skipped.
    pub fn from_portfolio(portfolio: &Portfolio, symbols: &[Symbol]) -> Vec<Self> {
        portfolio
            .positions
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.quantity.is_zero())
            .filter_map(|(i, p)| {
                let symbol = symbols.get(i)?.clone();
                let mark = portfolio.marks.get(i).copied().and_then(fin);
                let q = p.quantity.to_f64();
                let avg_cost = p
                    .cost
                    .0
                    .checked_div(p.quantity.0)
                    .map(quant_core::money::decimal_to_f64)
                    .and_then(fin);
                Some(Self {
                    symbol,
                    quantity: p.quantity,
                    sellable: p.sellable,
                    avg_cost,
                    mark,
                    value: mark.and_then(|m| fin(m * q)),
                })
            })
            .collect()
    }
}

/// An order the strategy wants in the next session (a signal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedOrder {
    /// Ticker.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Units, a value in CNY, all cash or the whole position.
    pub quantity: OrderQty,
    /// Market, limit, …
    pub order_type: OrderType,
    /// Why (the strategy's words: "rank 2 of 4", "stop-loss").
    pub reason: String,
}

impl PlannedOrder {
    /// The working (not yet filled or ended) orders created on `date`: the
    /// decisions of that close for the next session, reason "signal".
    pub fn from_orders(orders: &[Order], date: NaiveDate) -> Vec<Self> {
        orders
            .iter()
            .filter(|o| o.created == date && o.parent.is_none() && o.filled.is_zero())
            .filter(|o| o.reason.is_none())
            .map(|o| Self {
                symbol: o.symbol.clone(),
                side: o.side,
                quantity: o.requested,
                order_type: o.order_type,
                reason: "signal".into(),
            })
            .collect()
    }
}

/// The session's system health, as the runner knows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// When the data were last updated.
    pub last_data_update: Option<DateTime<Utc>>,
    /// Lag of the live feed behind the venue, seconds (`None`: no feed).
    pub feed_lag_secs: Option<f64>,
    /// Errors of the day (data update, feed, journal, alerts), in order.
    pub errors: Vec<String>,
    /// Sequence number of the journal's last entry.
    pub last_seq: u64,
    /// Whether the session runs air-gapped (`[security] air_gapped`).
    pub air_gapped: bool,
    /// The journal's back end and place (`sqlite:state/journal.db`), no
    /// secrets.
    pub journal: String,
}

/// Data quality of the day's update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataQuality {
    /// Symbols updated.
    pub symbols: usize,
    /// Rows (bars) written.
    pub rows: usize,
    /// Problems found (gaps, bad prices, stale symbols), one sentence each.
    pub issues: Vec<String>,
}

/// A backtest of the same days, to track the paper session against.
#[derive(Debug, Clone, Copy)]
pub struct Benchmark<'a> {
    /// The backtest's daily equity curve.
    pub equity: &'a [EquityPoint],
    /// The backtest's fills (the fill model's prices).
    pub fills: &'a [Fill],
}

/// Everything a daily report is computed from. Every instant is given;
/// nothing is read from the clock.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The report's trading day.
    pub date: NaiveDate,
    /// Replay or live.
    pub mode: Mode,
    /// Strategy name.
    pub strategy: &'a str,
    /// The config's file name (no folder).
    pub config: &'a str,
    /// The paper session's daily equity curve; points after `date` are
    /// ignored.
    pub equity: &'a [EquityPoint],
    /// The session's fills; those after `date` are ignored.
    pub fills: &'a [Fill],
    /// The session's orders with their current status.
    pub orders: &'a [Order],
    /// Positions held at the close of `date`.
    pub positions: &'a [PositionLine],
    /// The session's risk events; the report lists those of `date`.
    pub risk_events: &'a [RiskEvent],
    /// The risk settings in force (`None`: no `[risk]`), for "limits used".
    pub limits: Option<&'a RiskConfig>,
    /// A backtest of the same days, for strategy health.
    pub backtest: Option<Benchmark<'a>>,
    /// The next session's planned orders.
    pub planned: Vec<PlannedOrder>,
    /// System health.
    pub health: Health,
    /// Data quality of the day's update (`None`: no update ran).
    pub data_quality: Option<DataQuality>,
    /// When the report is made.
    pub generated_at: DateTime<Utc>,
}

/// Portfolio value and returns at the report's close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    /// The equity point the figures are of (the last at or before the
    /// report's day; `None` for an empty curve).
    pub equity_date: Option<NaiveDate>,
    /// Equity = cash + Σ quantity × close, CNY.
    pub equity: Option<f64>,
    /// Cash, CNY (exact).
    pub cash: Option<Cash>,
    /// Equity today − equity on the previous paper day, CNY.
    pub daily_pnl: Option<f64>,
    /// equity today / equity on the previous paper day − 1 (fraction).
    pub daily_return: Option<f64>,
    /// equity today / equity on the first paper day − 1 (fraction).
    pub cumulative_return: Option<f64>,
    /// Maximum drawdown of the curve so far, a positive fraction
    /// (`quant_backtest::metrics::max_drawdown`).
    pub max_drawdown: Option<f64>,
    /// 1 − equity today / running peak, a positive fraction (0 at a peak).
    pub current_drawdown: Option<f64>,
}

/// One risk limit and how much of it is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitUse {
    /// The setting (`limits.max_position_weight`, `breakers.max_drawdown`…).
    pub rule: String,
    /// The figure it limits now (fraction, or a count for positions and
    /// orders); `None` when undefined.
    pub used: Option<f64>,
    /// The configured limit, same units.
    pub limit: f64,
    /// used / limit (1.0 = at the limit).
    pub ratio: Option<f64>,
}

/// Risk figures at the report's close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskFigures {
    /// 1-day 95 % historical VaR of the daily returns so far, a return
    /// (negative for a loss; `quant_risk::figures::historical_var`).
    pub var_95: Option<f64>,
    /// 1-day 95 % historical CVaR (expected shortfall), a return
    /// (`quant_risk::figures::historical_cvar`).
    pub cvar_95: Option<f64>,
    /// Σ |position value| / equity (fraction).
    pub gross_exposure: Option<f64>,
    /// Σ position value / equity (fraction).
    pub net_exposure: Option<f64>,
    /// Largest |position value| / equity (fraction).
    pub largest_position_weight: Option<f64>,
    /// The symbol of the largest position.
    pub largest_position: Option<Symbol>,
    /// Positions held.
    pub num_positions: usize,
    /// Each configured limit and its use (empty without `[risk]`).
    pub limits: Vec<LimitUse>,
}

/// A position of the report with its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionRow {
    /// The position.
    pub position: PositionLine,
    /// value / equity (fraction).
    pub weight: Option<f64>,
    /// value − avg_cost × quantity, CNY.
    pub unrealised_pnl: Option<f64>,
}

/// A fill of the report's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRow {
    /// The order filled.
    pub order_id: OrderId,
    /// Ticker.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Units filled.
    pub quantity: Quantity,
    /// Fill price, CNY per unit.
    pub price: Price,
    /// quantity × price, CNY (exact); `None` on overflow.
    pub value: Option<Cash>,
    /// Commission + stamp duty + transfer fee, CNY (exact); `None` on
    /// overflow.
    pub fees: Option<Cash>,
}

/// An order created or changed on the report's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    /// Order id.
    pub id: OrderId,
    /// Ticker.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// `market`, `limit`…
    pub order_type: String,
    /// What was asked (`units:100`, `value:50000`, `all_cash`, `all_position`).
    pub requested: String,
    /// Units filled so far.
    pub filled: Quantity,
    /// Current status (`filled`, `rejected`…).
    pub status: String,
    /// Why it was rejected or cut.
    pub reason: Option<String>,
    /// Decision day.
    pub created: NaiveDate,
    /// Day of the last change.
    pub updated: NaiveDate,
}

/// A risk event of the report's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskEventRow {
    /// `blocked`, `trip`, `release`.
    pub kind: String,
    /// The order's symbol (blocked orders).
    pub symbol: Option<Symbol>,
    /// The rule or breaker.
    pub rule: String,
    /// The value that tripped it (fraction or count).
    pub value: Option<f64>,
    /// The configured limit.
    pub limit: Option<f64>,
    /// A sentence with the numbers.
    pub detail: String,
}

/// System health in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// When the data were last updated.
    pub last_data_update: Option<DateTime<Utc>>,
    /// generated_at − last_data_update, seconds.
    pub data_age_secs: Option<f64>,
    /// Feed lag, seconds.
    pub feed_lag_secs: Option<f64>,
    /// Errors of the day.
    pub errors: Vec<String>,
    /// Last journal sequence number.
    pub last_seq: u64,
    /// Air-gapped session.
    pub air_gapped: bool,
    /// Journal back end.
    pub journal: String,
}

/// Paper against a backtest of the same days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyHealth {
    /// Paper-trading days so far (equity points up to the report's day).
    pub paper_days: usize,
    /// Days of the backtest up to the report's day (`None`: no backtest).
    pub backtest_days: Option<usize>,
    /// Days on which both have a daily return (the tracking sample).
    pub common_days: usize,
    /// Tracking error of daily returns: sample std (ddof 1) of
    /// (paper − backtest) daily returns on common days × √252, annualised
    /// fraction (`shared/docs/conventions.md`); `None` with fewer than 2.
    pub tracking_error: Option<f64>,
    /// Cumulative return of the paper minus the backtest's over the same
    /// days (fraction).
    pub return_gap: Option<f64>,
    /// Mean signed slippage of paper fills against the backtest's fills of
    /// the same (date, symbol, side), in basis points of the backtest's
    /// price, positive = worse for us: buys (paper VWAP / model VWAP − 1) ×
    /// 10⁴, sells (1 − paper / model) × 10⁴, averaged over matched keys;
    /// `None` when nothing matches.
    pub slippage_bps: Option<f64>,
    /// (date, symbol, side) keys matched for `slippage_bps`.
    pub slippage_matched: usize,
    /// Turnover of the report's day: Σ |fill value| (both sides) / equity
    /// (fraction).
    pub turnover_today: Option<f64>,
    /// Mean over paper days of that day's turnover (fraction per day).
    pub turnover_avg_daily: Option<f64>,
}

/// Flags worth an alert, with the thresholds of this module's constants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flags {
    /// Paper days in a row, the report's day included, with no order
    /// created (0 when orders are planned).
    pub no_signals_days: usize,
    /// `no_signals_days` ≥ [`NO_SIGNALS_ALERT_DAYS`].
    pub no_signals: bool,
    /// Today's turnover > [`TURNOVER_UNUSUAL_MULTIPLE`] × the average of
    /// the previous days and > [`TURNOVER_UNUSUAL_FLOOR`], after
    /// [`TURNOVER_MIN_HISTORY_DAYS`] days.
    pub turnover_unusual: bool,
    /// Tracking error > [`TRACKING_ERROR_ALERT`].
    pub tracking_breach: bool,
    /// Slippage > [`SLIPPAGE_ALERT_BPS`].
    pub slippage_breach: bool,
    /// A limit used at or beyond 100 %.
    pub limit_reached: bool,
    /// Errors in the health section.
    pub errors: bool,
    /// One sentence per raised flag.
    pub messages: Vec<String>,
}

/// The daily report: every figure computed, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyReport {
    /// The report's trading day.
    pub date: NaiveDate,
    /// Replay or live.
    pub mode: Mode,
    /// Strategy name.
    pub strategy: String,
    /// Config name.
    pub config: String,
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// Value and returns.
    pub performance: Performance,
    /// Risk figures and limits used.
    pub risk: RiskFigures,
    /// Positions with weights, by symbol.
    pub positions: Vec<PositionRow>,
    /// Fills of the day, in order.
    pub trades: Vec<TradeRow>,
    /// Orders created or changed on the day, by id.
    pub orders: Vec<OrderRow>,
    /// Risk events of the day.
    pub risk_events: Vec<RiskEventRow>,
    /// The next session's planned orders.
    pub planned: Vec<PlannedOrder>,
    /// System health.
    pub health: HealthReport,
    /// Data quality of the day's update.
    pub data_quality: Option<DataQuality>,
    /// Paper against the backtest.
    pub strategy_health: StrategyHealth,
    /// Flags worth an alert.
    pub flags: Flags,
}

/// `Some(x)` when finite.
fn fin(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Σ |quantity × price| of fills, `f64` CNY (analytics).
fn fill_value_f64(f: &Fill) -> f64 {
    (f.quantity.to_f64() * f.price.to_f64()).abs()
}

fn checked_value(f: &Fill) -> Option<Cash> {
    f.price.0.checked_mul(f.quantity.0).map(Cash)
}

fn checked_fees(f: &Fill) -> Option<Cash> {
    f.commission
        .0
        .checked_add(f.stamp_duty.0)?
        .checked_add(f.transfer_fee.0)
        .map(Cash)
}

/// Daily returns by date of a curve: for each point after the first,
/// equity / previous equity − 1, finite ones only.
fn returns_by_date(curve: &[EquityPoint]) -> BTreeMap<NaiveDate, f64> {
    curve
        .windows(2)
        .filter_map(|w| fin(w[1].equity / w[0].equity - 1.0).map(|r| (w[1].date, r)))
        .collect()
}

/// (date, symbol, side) → (Σ quantity, Σ quantity × price) of fills up to `date`.
fn vwap_keys(fills: &[Fill], date: NaiveDate) -> BTreeMap<(NaiveDate, String, bool), (f64, f64)> {
    let mut m: BTreeMap<_, (f64, f64)> = BTreeMap::new();
    for f in fills.iter().filter(|f| f.date <= date) {
        let e = m
            .entry((f.date, f.symbol.to_string(), f.side == Side::Buy))
            .or_default();
        e.0 += f.quantity.to_f64();
        e.1 += f.quantity.to_f64() * f.price.to_f64();
    }
    m
}

fn qty_text(q: &OrderQty) -> String {
    match q {
        OrderQty::Units(u) => format!("units:{u}"),
        OrderQty::Value(v) => format!("value:{v}"),
        OrderQty::AllCash => "all_cash".into(),
        OrderQty::AllPosition => "all_position".into(),
    }
}

fn type_text(t: &OrderType) -> String {
    match t.limit_price() {
        Some(p) => format!("{} {p}", t.as_str()),
        None => t.as_str().to_string(),
    }
}

impl DailyReport {
    /// Computes every figure of the report for `inputs.date`.
    pub fn build(inputs: &Inputs<'_>) -> Self {
        let date = inputs.date;
        let curve: Vec<EquityPoint> = inputs
            .equity
            .iter()
            .filter(|p| p.date <= date)
            .cloned()
            .collect();
        let values: Vec<f64> = curve.iter().map(|p| p.equity).collect();
        let last = curve.last();
        let equity = last.and_then(|p| fin(p.equity));
        let prev = curve.len().checked_sub(2).and_then(|i| curve.get(i));
        let daily_pnl = match (last, prev) {
            (Some(l), Some(p)) => fin(l.equity - p.equity),
            _ => None,
        };
        let daily_return = match (last, prev) {
            (Some(l), Some(p)) => fin(l.equity / p.equity - 1.0),
            _ => None,
        };
        let cumulative_return = match (last, curve.first()) {
            (Some(l), Some(f)) => fin(l.equity / f.equity - 1.0),
            _ => None,
        };
        let max_drawdown = if values.is_empty() {
            None
        } else {
            fin(quant_backtest::metrics::max_drawdown(&values).0)
        };
        let peak = values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        let current_drawdown = match equity {
            Some(e) if peak > 0.0 => fin((1.0 - e / peak).max(0.0)),
            _ => None,
        };
        let performance = Performance {
            equity_date: last.map(|p| p.date),
            equity,
            cash: last.map(|p| p.cash),
            daily_pnl,
            daily_return,
            cumulative_return,
            max_drawdown,
            current_drawdown,
        };

        // risk figures
        let returns: Vec<f64> = simple_returns(&values)
            .into_iter()
            .filter(|r| r.is_finite())
            .collect();
        let var_95 = historical_var(&returns, VAR_LEVEL).ok().and_then(fin);
        let cvar_95 = historical_cvar(&returns, VAR_LEVEL).ok().and_then(fin);
        let eq_pos = equity.filter(|e| *e > 0.0);
        let weight = |v: f64| eq_pos.and_then(|e| fin(v / e));
        let mut positions: Vec<PositionRow> = inputs
            .positions
            .iter()
            .filter(|p| !p.quantity.is_zero())
            .map(|p| {
                let value = p.value.and_then(fin);
                PositionRow {
                    position: PositionLine {
                        avg_cost: p.avg_cost.and_then(fin),
                        mark: p.mark.and_then(fin),
                        value,
                        ..p.clone()
                    },
                    weight: value.and_then(weight),
                    unrealised_pnl: match (value, p.avg_cost) {
                        (Some(v), Some(c)) => fin(v - c * p.quantity.to_f64()),
                        _ => None,
                    },
                }
            })
            .collect();
        positions.sort_by(|a, b| a.position.symbol.as_str().cmp(b.position.symbol.as_str()));
        let all_valued = positions.iter().all(|p| p.position.value.is_some());
        let gross = positions
            .iter()
            .filter_map(|p| p.position.value)
            .map(f64::abs)
            .sum::<f64>();
        let net = positions
            .iter()
            .filter_map(|p| p.position.value)
            .sum::<f64>();
        let (gross_exposure, net_exposure) = if all_valued {
            (weight(gross), weight(net))
        } else {
            (None, None)
        };
        let largest = positions
            .iter()
            .filter_map(|p| p.weight.map(|w| (w.abs(), &p.position.symbol)))
            .fold(None::<(f64, &Symbol)>, |acc, x| match acc {
                Some(a) if a.0 >= x.0 => Some(a),
                _ => Some(x),
            });
        let largest_position_weight = match largest {
            Some((w, _)) => Some(w),
            None if positions.is_empty() => eq_pos.map(|_| 0.0),
            None => None,
        };
        let orders_today = inputs.orders.iter().filter(|o| o.created == date).count();
        let mut limits = Vec::new();
        if let Some(cfg) = inputs.limits {
            let mut push = |rule: &str, used: Option<f64>, limit: Option<f64>| {
                if let Some(limit) = limit {
                    let ratio = used.and_then(|u| if limit > 0.0 { fin(u / limit) } else { None });
                    limits.push(LimitUse {
                        rule: rule.into(),
                        used,
                        limit,
                        ratio,
                    });
                }
            };
            let l = &cfg.limits;
            push(
                "limits.max_position_weight",
                largest_position_weight,
                l.max_position_weight,
            );
            if !cfg.sectors.is_empty() {
                let mut by_sector: BTreeMap<&str, f64> = BTreeMap::new();
                for p in &positions {
                    if let (Some(s), Some(w)) =
                        (cfg.sectors.get(p.position.symbol.as_str()), p.weight)
                    {
                        *by_sector.entry(s.as_str()).or_default() += w.abs();
                    }
                }
                let most = by_sector.values().copied().fold(0.0, f64::max);
                push(
                    "limits.max_sector_weight",
                    eq_pos.map(|_| most),
                    l.max_sector_weight,
                );
            }
            push(
                "limits.max_gross_exposure",
                gross_exposure,
                l.max_gross_exposure,
            );
            push(
                "limits.max_positions",
                Some(positions.len() as f64),
                l.max_positions.map(|n| n as f64),
            );
            push(
                "limits.max_orders_per_day",
                Some(orders_today as f64),
                l.max_orders_per_day.map(f64::from),
            );
            let b = &cfg.breakers;
            push("breakers.max_drawdown", current_drawdown, b.max_drawdown);
            push(
                "breakers.daily_loss_limit",
                daily_return.map(|r| (-r).max(0.0)),
                b.daily_loss_limit,
            );
        }
        let risk = RiskFigures {
            var_95,
            cvar_95,
            gross_exposure,
            net_exposure,
            largest_position_weight,
            largest_position: largest.map(|(_, s)| s.clone()),
            num_positions: positions.len(),
            limits,
        };

        let trades: Vec<TradeRow> = inputs
            .fills
            .iter()
            .filter(|f| f.date == date)
            .map(|f| TradeRow {
                order_id: f.order_id,
                symbol: f.symbol.clone(),
                side: f.side,
                quantity: f.quantity,
                price: f.price,
                value: checked_value(f),
                fees: checked_fees(f),
            })
            .collect();
        let mut orders: Vec<OrderRow> = inputs
            .orders
            .iter()
            .filter(|o| o.created == date || o.updated == date)
            .map(|o| OrderRow {
                id: o.id,
                symbol: o.symbol.clone(),
                side: o.side,
                order_type: type_text(&o.order_type),
                requested: qty_text(&o.requested),
                filled: o.filled,
                status: o.status.as_str().to_string(),
                reason: o.reason.map(|r| r.as_str().to_string()),
                created: o.created,
                updated: o.updated,
            })
            .collect();
        orders.sort_by_key(|o| o.id);
        let risk_events = inputs
            .risk_events
            .iter()
            .filter(|e| e.date == date)
            .map(|e| RiskEventRow {
                kind: e.kind.as_str().to_string(),
                symbol: e.symbol.clone(),
                rule: e.rule.clone(),
                value: fin(e.value),
                limit: fin(e.limit),
                detail: e.detail.clone(),
            })
            .collect();

        let h = &inputs.health;
        let health = HealthReport {
            last_data_update: h.last_data_update,
            data_age_secs: h
                .last_data_update
                .map(|t| (inputs.generated_at - t).num_milliseconds() as f64 / 1000.0),
            feed_lag_secs: h.feed_lag_secs.and_then(fin),
            errors: h.errors.clone(),
            last_seq: h.last_seq,
            air_gapped: h.air_gapped,
            journal: h.journal.clone(),
        };

        let strategy_health = strategy_health(inputs, &curve);
        let flags = flags(inputs, &curve, &strategy_health, &risk, &health);
        Self {
            date,
            mode: inputs.mode,
            strategy: inputs.strategy.to_string(),
            config: inputs.config.to_string(),
            generated_at: inputs.generated_at,
            performance,
            risk,
            positions,
            trades,
            orders,
            risk_events,
            planned: inputs.planned.clone(),
            health,
            data_quality: inputs.data_quality.clone(),
            strategy_health,
            flags,
        }
    }
}

/// Traded value (Σ |quantity × price|, both sides) per date, CNY.
fn traded_by_date(fills: &[Fill], date: NaiveDate) -> BTreeMap<NaiveDate, f64> {
    let mut m: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for f in fills.iter().filter(|f| f.date <= date) {
        *m.entry(f.date).or_default() += fill_value_f64(f);
    }
    m
}

/// Turnover of each paper day: traded value / equity (`None` where equity
/// is not positive).
fn daily_turnover(curve: &[EquityPoint], traded: &BTreeMap<NaiveDate, f64>) -> Vec<Option<f64>> {
    curve
        .iter()
        .map(|p| {
            let t = traded.get(&p.date).copied().unwrap_or(0.0);
            if p.equity > 0.0 {
                fin(t / p.equity)
            } else {
                None
            }
        })
        .collect()
}

fn mean_of(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        None
    } else {
        fin(xs.iter().sum::<f64>() / xs.len() as f64)
    }
}

fn strategy_health(inputs: &Inputs<'_>, curve: &[EquityPoint]) -> StrategyHealth {
    let date = inputs.date;
    let traded = traded_by_date(inputs.fills, date);
    let turnover = daily_turnover(curve, &traded);
    let turnover_today = match curve.last() {
        Some(p) if p.date == date => turnover.last().copied().flatten(),
        _ => None,
    };
    let known: Vec<f64> = turnover.iter().flatten().copied().collect();
    let turnover_avg_daily = mean_of(&known);

    let (mut backtest_days, mut common_days, mut tracking_error, mut return_gap) =
        (None, 0, None, None);
    let (mut slippage_bps, mut slippage_matched) = (None, 0);
    if let Some(b) = &inputs.backtest {
        let bcurve: Vec<EquityPoint> = b
            .equity
            .iter()
            .filter(|p| p.date <= date)
            .cloned()
            .collect();
        backtest_days = Some(bcurve.len());
        let pr = returns_by_date(curve);
        let br = returns_by_date(&bcurve);
        let mut diffs = Vec::new();
        let (mut gp, mut gb) = (1.0, 1.0);
        for (d, r) in &pr {
            if let Some(rb) = br.get(d) {
                diffs.push(r - rb);
                gp *= 1.0 + r;
                gb *= 1.0 + rb;
            }
        }
        common_days = diffs.len();
        if diffs.len() >= 2 {
            tracking_error = fin(sample_std(&diffs) * TRADING_DAYS_PER_YEAR.sqrt());
        }
        if !diffs.is_empty() {
            return_gap = fin(gp - gb);
        }
        let paper = vwap_keys(inputs.fills, date);
        let model = vwap_keys(b.fills, date);
        let mut bps = Vec::new();
        for (k, (pq, pv)) in &paper {
            if let Some((mq, mv)) = model.get(k) {
                let (p, m) = (pv / pq, mv / mq);
                if !(p.is_finite() && m.is_finite() && m > 0.0) {
                    continue;
                }
                let rel = if k.2 { p / m - 1.0 } else { 1.0 - p / m };
                if let Some(x) = fin(rel * 1e4) {
                    bps.push(x);
                }
            }
        }
        slippage_matched = bps.len();
        slippage_bps = mean_of(&bps);
    }
    StrategyHealth {
        paper_days: curve.len(),
        backtest_days,
        common_days,
        tracking_error,
        return_gap,
        slippage_bps,
        slippage_matched,
        turnover_today,
        turnover_avg_daily,
    }
}

fn flags(
    inputs: &Inputs<'_>,
    curve: &[EquityPoint],
    sh: &StrategyHealth,
    risk: &RiskFigures,
    health: &HealthReport,
) -> Flags {
    let mut messages = Vec::new();
    let signal_days: std::collections::BTreeSet<NaiveDate> =
        inputs.orders.iter().map(|o| o.created).collect();
    let no_signals_days = if inputs.planned.is_empty() {
        curve
            .iter()
            .rev()
            .take_while(|p| !signal_days.contains(&p.date))
            .count()
    } else {
        0
    };
    let no_signals = no_signals_days >= NO_SIGNALS_ALERT_DAYS;
    if no_signals {
        messages.push(format!(
            "no signals for {no_signals_days} trading days (alert at {NO_SIGNALS_ALERT_DAYS})"
        ));
    }
    // today's turnover against the previous days'
    let traded = traded_by_date(inputs.fills, inputs.date);
    let turnover = daily_turnover(curve, &traded);
    let prior: Vec<f64> = match turnover.split_last() {
        Some((_, rest)) => rest.iter().flatten().copied().collect(),
        None => Vec::new(),
    };
    let turnover_unusual = match (sh.turnover_today, mean_of(&prior)) {
        (Some(t), Some(avg)) if prior.len() >= TURNOVER_MIN_HISTORY_DAYS => {
            t > TURNOVER_UNUSUAL_FLOOR && t > TURNOVER_UNUSUAL_MULTIPLE * avg
        }
        _ => false,
    };
    if turnover_unusual {
        messages.push(format!(
            "turnover today {} of equity, above {TURNOVER_UNUSUAL_MULTIPLE} × the daily average {}",
            pct(sh.turnover_today),
            pct(mean_of(&prior))
        ));
    }
    let tracking_breach = sh.tracking_error.is_some_and(|t| t > TRACKING_ERROR_ALERT);
    if tracking_breach {
        messages.push(format!(
            "tracking error against the backtest {} a year, above {}",
            pct(sh.tracking_error),
            pct(Some(TRACKING_ERROR_ALERT))
        ));
    }
    let slippage_breach = sh.slippage_bps.is_some_and(|s| s > SLIPPAGE_ALERT_BPS);
    if slippage_breach {
        messages.push(format!(
            "fill slippage against the model {}, above {SLIPPAGE_ALERT_BPS} bps",
            bps(sh.slippage_bps)
        ));
    }
    let reached: Vec<&LimitUse> = risk
        .limits
        .iter()
        .filter(|l| l.ratio.is_some_and(|r| r >= 1.0))
        .collect();
    for l in &reached {
        messages.push(format!(
            "{} at {} of its limit",
            l.rule,
            pct(l.ratio.map(|r| r.min(1e6)))
        ));
    }
    let errors = !health.errors.is_empty();
    if errors {
        messages.push(format!("{} error(s) today", health.errors.len()));
    }
    Flags {
        no_signals_days,
        no_signals,
        turnover_unusual,
        tracking_breach,
        slippage_breach,
        limit_reached: !reached.is_empty(),
        errors,
        messages,
    }
}

// ---------------------------------------------------------------- rendering

const DASH: &str = "–";

/// A money amount, 2 decimals, CNY.
fn money(x: Option<f64>) -> String {
    x.map_or(DASH.into(), |x| format!("{x:.2}"))
}

/// A fraction as percent, 2 decimals.
fn pct(x: Option<f64>) -> String {
    x.map_or(DASH.into(), |x| format!("{:.2}%", x * 100.0))
}

/// Basis points, 1 decimal.
fn bps(x: Option<f64>) -> String {
    x.map_or(DASH.into(), |x| format!("{x:.1} bps"))
}

/// A plain number, 4 decimals.
fn num(x: Option<f64>) -> String {
    x.map_or(DASH.into(), |x| format!("{x:.4}"))
}

fn opt<T: ToString>(x: Option<T>) -> String {
    x.map_or(DASH.into(), |x| x.to_string())
}

/// A titled part of the rendered report: key–value rows and/or a table.
#[derive(Debug, Serialize)]
struct Section {
    title: String,
    rows: Vec<(String, String)>,
    head: Vec<String>,
    table: Vec<Vec<String>>,
    /// Shown when the table is empty.
    empty: String,
}

fn section(title: &str) -> Section {
    Section {
        title: title.into(),
        rows: Vec::new(),
        head: Vec::new(),
        table: Vec::new(),
        empty: String::new(),
    }
}

fn kv(rows: &[(&str, String)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

fn heads(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| (*s).to_string()).collect()
}

const HTML_TEMPLATE: &str = include_str!("../templates/daily.html");

impl DailyReport {
    fn sections(&self) -> Vec<Section> {
        let p = &self.performance;
        let r = &self.risk;
        let sh = &self.strategy_health;
        let mut out = Vec::new();

        let mut s = section("Performance");
        s.rows = kv(&[
            ("Equity (CNY)", money(p.equity)),
            ("Cash (CNY)", opt(p.cash)),
            ("Daily P&L (CNY)", money(p.daily_pnl)),
            ("Daily return", pct(p.daily_return)),
            ("Cumulative return", pct(p.cumulative_return)),
            ("Max drawdown", pct(p.max_drawdown)),
            ("Current drawdown", pct(p.current_drawdown)),
            ("Equity as of", opt(p.equity_date)),
        ]);
        out.push(s);

        let mut s = section("Risk");
        s.rows = kv(&[
            ("1-day VaR 95% (historical)", pct(r.var_95)),
            ("1-day CVaR 95% (historical)", pct(r.cvar_95)),
            ("Gross exposure", pct(r.gross_exposure)),
            ("Net exposure", pct(r.net_exposure)),
            ("Largest position weight", pct(r.largest_position_weight)),
            ("Largest position", opt(r.largest_position.as_ref())),
            ("Positions", r.num_positions.to_string()),
        ]);
        s.head = heads(&["Limit", "Used", "Limit value", "Used / limit"]);
        s.table = r
            .limits
            .iter()
            .map(|l| {
                let counted = l.rule.ends_with("max_positions") || l.rule.ends_with("per_day");
                let f = |x: Option<f64>| if counted { opt(x) } else { pct(x) };
                vec![l.rule.clone(), f(l.used), f(Some(l.limit)), pct(l.ratio)]
            })
            .collect();
        s.empty = "no risk limits configured".into();
        out.push(s);

        let mut s = section("Positions");
        s.head = heads(&[
            "Symbol",
            "Quantity",
            "Sellable",
            "Avg cost",
            "Mark",
            "Value (CNY)",
            "Weight",
            "Unrealised P&L (CNY)",
        ]);
        s.table = self
            .positions
            .iter()
            .map(|p| {
                let l = &p.position;
                vec![
                    l.symbol.to_string(),
                    l.quantity.to_string(),
                    l.sellable.to_string(),
                    num(l.avg_cost),
                    num(l.mark),
                    money(l.value),
                    pct(p.weight),
                    money(p.unrealised_pnl),
                ]
            })
            .collect();
        s.empty = "no positions".into();
        out.push(s);

        let mut s = section("Trades");
        s.head = heads(&[
            "Order",
            "Symbol",
            "Side",
            "Quantity",
            "Price",
            "Value (CNY)",
            "Fees (CNY)",
        ]);
        s.table = self
            .trades
            .iter()
            .map(|t| {
                vec![
                    t.order_id.to_string(),
                    t.symbol.to_string(),
                    t.side.as_str().into(),
                    t.quantity.to_string(),
                    t.price.to_string(),
                    opt(t.value.map(|v| Cash(v.0.round_dp(2)))),
                    opt(t.fees.map(|v| Cash(v.0.round_dp(2)))),
                ]
            })
            .collect();
        s.empty = "no trades".into();
        out.push(s);

        let mut s = section("Orders");
        s.head = heads(&[
            "Id",
            "Symbol",
            "Side",
            "Type",
            "Requested",
            "Filled",
            "Status",
            "Reason",
            "Created",
            "Updated",
        ]);
        s.table = self
            .orders
            .iter()
            .map(|o| {
                vec![
                    o.id.to_string(),
                    o.symbol.to_string(),
                    o.side.as_str().into(),
                    o.order_type.clone(),
                    o.requested.clone(),
                    o.filled.to_string(),
                    o.status.clone(),
                    opt(o.reason.as_ref()),
                    o.created.to_string(),
                    o.updated.to_string(),
                ]
            })
            .collect();
        s.empty = "no orders".into();
        out.push(s);

        let mut s = section("Risk events");
        s.head = heads(&["Kind", "Symbol", "Rule", "Value", "Limit", "Detail"]);
        s.table = self
            .risk_events
            .iter()
            .map(|e| {
                vec![
                    e.kind.clone(),
                    opt(e.symbol.as_ref()),
                    e.rule.clone(),
                    num(e.value),
                    num(e.limit),
                    e.detail.clone(),
                ]
            })
            .collect();
        s.empty = "no risk events".into();
        out.push(s);

        let mut s = section("Next session: planned orders");
        s.head = heads(&["Symbol", "Side", "Quantity", "Type", "Reason"]);
        s.table = self
            .planned
            .iter()
            .map(|o| {
                vec![
                    o.symbol.to_string(),
                    o.side.as_str().into(),
                    qty_text(&o.quantity),
                    type_text(&o.order_type),
                    o.reason.clone(),
                ]
            })
            .collect();
        s.empty = "no planned orders".into();
        out.push(s);

        let h = &self.health;
        let mut s = section("System health");
        s.rows = kv(&[
            (
                "Last data update",
                opt(h.last_data_update.map(|t| t.to_rfc3339())),
            ),
            (
                "Data age (s)",
                h.data_age_secs.map_or(DASH.into(), |x| format!("{x:.0}")),
            ),
            (
                "Feed lag (s)",
                h.feed_lag_secs.map_or(DASH.into(), |x| format!("{x:.3}")),
            ),
            ("Errors", h.errors.len().to_string()),
            ("Last journal seq", h.last_seq.to_string()),
            ("Air-gapped", h.air_gapped.to_string()),
            ("Journal", h.journal.clone()),
        ]);
        s.head = heads(&["Error"]);
        s.table = h.errors.iter().map(|e| vec![e.clone()]).collect();
        s.empty = "no errors".into();
        out.push(s);

        let mut s = section("Data quality");
        match &self.data_quality {
            Some(dq) => {
                s.rows = kv(&[
                    ("Symbols updated", dq.symbols.to_string()),
                    ("Rows", dq.rows.to_string()),
                    ("Issues", dq.issues.len().to_string()),
                ]);
                s.head = heads(&["Issue"]);
                s.table = dq.issues.iter().map(|e| vec![e.clone()]).collect();
                s.empty = "no issues".into();
            }
            None => s.empty = "no data update today".into(),
        }
        out.push(s);

        let mut s = section("Strategy health (paper against the backtest)");
        s.rows = kv(&[
            ("Paper days", sh.paper_days.to_string()),
            ("Backtest days", opt(sh.backtest_days)),
            ("Common return days", sh.common_days.to_string()),
            ("Tracking error (annualised)", pct(sh.tracking_error)),
            ("Return gap (paper − backtest)", pct(sh.return_gap)),
            ("Fill slippage vs model", bps(sh.slippage_bps)),
            ("Matched fills", sh.slippage_matched.to_string()),
            ("Turnover today", pct(sh.turnover_today)),
            ("Average daily turnover", pct(sh.turnover_avg_daily)),
            (
                "Days without signals",
                self.flags.no_signals_days.to_string(),
            ),
        ]);
        out.push(s);
        out
    }

    /// The report as pretty JSON (keys in the structs' field order, numbers
    /// in Rust's shortest round-trip form), ending in a newline; parses back
    /// with `serde_json::from_str` to an equal report.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).map_or_else(
            |e| format!("{{\"error\": {:?}}}", e.to_string()),
            |s| s + "\n",
        )
    }

    fn title(&self) -> String {
        format!("Daily report: {} — {}", self.strategy, self.date)
    }

    fn subtitle(&self) -> String {
        format!(
            "{} · config {} · generated {}",
            self.mode.as_str(),
            self.config,
            self.generated_at.to_rfc3339()
        )
    }

    /// The report as Markdown (GitHub tables; `|` in text escaped).
    pub fn to_markdown(&self) -> String {
        fn cell(s: &str) -> String {
            s.replace('\\', "\\\\")
                .replace('|', "\\|")
                .replace(['\n', '\r'], " ")
        }
        let mut md = String::new();
        let _ = writeln!(md, "# {}\n", cell(&self.title()));
        let _ = writeln!(md, "{}\n", cell(&self.subtitle()));
        if !self.flags.messages.is_empty() {
            let _ = writeln!(md, "## Alerts\n");
            for m in &self.flags.messages {
                let _ = writeln!(md, "- {}", cell(m));
            }
            md.push('\n');
        }
        for s in self.sections() {
            let _ = writeln!(md, "## {}\n", s.title);
            if !s.rows.is_empty() {
                md.push_str("| | |\n|---|---:|\n");
                for (k, v) in &s.rows {
                    let _ = writeln!(md, "| {} | {} |", cell(k), cell(v));
                }
                md.push('\n');
            }
            if !s.head.is_empty() {
                if s.table.is_empty() {
                    let _ = writeln!(md, "_{}_\n", s.empty);
                } else {
                    let _ = writeln!(
                        md,
                        "| {} |",
                        s.head
                            .iter()
                            .map(|h| cell(h))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                    let _ = writeln!(md, "|{}", "---|".repeat(s.head.len()));
                    for row in &s.table {
                        let _ = writeln!(
                            md,
                            "| {} |",
                            row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                        );
                    }
                    md.push('\n');
                }
            } else if s.rows.is_empty() {
                let _ = writeln!(md, "_{}_\n", s.empty);
            }
        }
        md
    }

    /// Renders the self-contained HTML page (inline CSS, no scripts, no
    /// external resources).
    ///
    /// # Errors
    /// The template engine's error (a bug of the template).
    fn try_html(&self) -> std::result::Result<String, minijinja::Error> {
        let mut env = Environment::new();
        env.add_template("daily.html", HTML_TEMPLATE)?;
        let tmpl = env.get_template("daily.html")?;
        tmpl.render(context! {
            title => self.title(),
            subtitle => self.subtitle(),
            alerts => Value::from(Serde(&self.flags.messages)),
            cards => Value::from(Serde(vec![
                ("Equity (CNY)", money(self.performance.equity)),
                ("Daily P&L (CNY)", money(self.performance.daily_pnl)),
                ("Daily return", pct(self.performance.daily_return)),
                ("Drawdown", pct(self.performance.current_drawdown)),
                ("VaR 95%", pct(self.risk.var_95)),
                ("Paper days", self.strategy_health.paper_days.to_string()),
            ])),
            sections => Value::from(Serde(self.sections())),
        })
    }

    /// The report as one self-contained HTML page (template
    /// `templates/daily.html`, inline CSS, no scripts, no network). Should
    /// the template fail (a bug), a minimal page naming the error.
    pub fn to_html(&self) -> String {
        self.try_html().unwrap_or_else(|e| {
            let msg = e
                .to_string()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>report</title></head><body><pre>{msg}</pre></body></html>\n"
            )
        })
    }

    /// File names of the report: `report-YYYY-MM-DD.{html,json,md}`.
    pub fn file_names(&self) -> [String; 3] {
        ["html", "json", "md"].map(|ext| format!("report-{}.{ext}", self.date))
    }

    /// Writes `report-YYYY-MM-DD.html`, `.json` and `.md` into `dir`
    /// (created if missing), each atomically: a temporary file in `dir`
    /// written and fsynced, renamed over the target, then the directory
    /// fsynced. Returns the paths written.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file or directory; [`Error::Report`] naming
    /// the HTML file when the template fails.
    pub fn write_all(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let [html_name, json_name, md_name] = self.file_names();
        let html = self.try_html().map_err(|e| Error::Report {
            path: dir.join(&html_name),
            message: e.to_string(),
        })?;
        let mut written = Vec::new();
        for (name, text) in [
            (html_name, html),
            (json_name, self.to_json()),
            (md_name, self.to_markdown()),
        ] {
            let path = dir.join(&name);
            write_atomic(dir, &name, &path, text.as_bytes())?;
            written.push(path);
        }
        let d = std::fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
        d.sync_all().map_err(|e| Error::io(dir, e))?;
        Ok(written)
    }
}

fn write_atomic(dir: &Path, name: &str, path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests;
