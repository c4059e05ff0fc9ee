//! Backtest configuration files (TOML).
//!
//! Paths inside a config are relative to the config file's folder. The full
//! reference with every key, default and allowed range is `docs/config.md`;
//! unknown keys are errors naming the key, and a value out of its range is
//! an [`Error::Setting`] naming the file, the line, the key and the range
//! (`config.toml:21: costs.commission_rate: must lie in [0, 0.01], got 2`).
//! A file is at most [`MAX_CONFIG_SIZE`] bytes.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use quant_core::rules::DatedRate;
use quant_engine::CorporateActions;
use quant_exec::{FillTiming, ShortfallPolicy, sim};

use crate::error::{Error, Result};
use crate::feed::SignalPrices;

/// Largest config file read: 1 MiB (the shipped ones are under 3 KiB).
pub const MAX_CONFIG_SIZE: u64 = 1 << 20;

/// Allowed range of `backtest.risk_free_rate`: [−0.1, 1] (annual, a
/// fraction; 2 meaning 2 % is a typo).
pub const RISK_FREE_RATE_RANGE: (f64, f64) = (-0.1, 1.0);

/// Allowed range of `goals.cagr`: [−1, 10] (a fraction a year).
pub const GOAL_CAGR_RANGE: (f64, f64) = (-1.0, 10.0);

/// A whole backtest config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestConfig {
    /// `[backtest]`: run settings.
    #[serde(default)]
    pub backtest: RunSection,
    /// `[data]`: where bars come from.
    pub data: DataSection,
    /// `[costs]`: fee overrides.
    #[serde(default)]
    pub costs: CostsSection,
    /// `[strategy]`: which strategy, with which parameters.
    pub strategy: StrategySection,
    /// `[risk]`: pre-trade limits (`[risk.limits]`) and circuit breakers
    /// (`[risk.breakers]`) applied to every order; none when absent.
    pub risk: Option<quant_risk::RiskConfig>,
    /// `[goals]`: targets the report's goals panel measures the run and its
    /// Monte Carlo against; none when absent.
    pub goals: Option<GoalsSection>,
    /// `[paper]`: settings of paper sessions (`quant-paper`, docs/paper.md);
    /// a backtest ignores them.
    pub paper: Option<toml::Table>,
    /// `[journal]`: where a paper or live session keeps its journal
    /// (`quant-paper`); a backtest ignores it.
    pub journal: Option<toml::Table>,
    /// `[alerts]`: alert channels of paper and live sessions
    /// (`quant-paper`, docs/alerts.md); a backtest ignores them.
    pub alerts: Option<toml::Table>,
    /// `[security]`: air-gapped mode of paper and live sessions
    /// (`quant-paper`); a backtest ignores it.
    pub security: Option<toml::Table>,
    /// Folder of the config file (paths are relative to it); set by [`BacktestConfig::load`].
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The config file itself; set by [`BacktestConfig::load`].
    #[serde(skip)]
    pub path: PathBuf,
}

/// `[goals]`: the investor's targets.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalsSection {
    /// CAGR target (fraction; 0.2 = 20 %).
    #[serde(default = "default_goal")]
    pub cagr: f64,
    /// Largest acceptable maximum drawdown (positive fraction).
    #[serde(default = "default_goal")]
    pub max_drawdown: f64,
    /// Monte Carlo paths (daily-return bootstrap) for the panel.
    #[serde(default = "default_paths")]
    pub mc_paths: usize,
    /// Monte Carlo block length in days (1 = independent days).
    #[serde(default = "default_block")]
    pub mc_block: usize,
    /// Monte Carlo seed.
    #[serde(default = "default_block_seed")]
    pub seed: u64,
}

fn default_goal() -> f64 {
    0.2
}
fn default_paths() -> usize {
    2000
}
fn default_block() -> usize {
    1
}
fn default_block_seed() -> u64 {
    1
}

/// Which market rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RulesChoice {
    /// Each instrument's own market (A-share, US or crypto by symbol).
    Auto,
    /// Chinese A-share rules for every instrument.
    CnA,
    /// US rules for every instrument.
    Us,
    /// Crypto rules for every instrument.
    Crypto,
}

/// `[backtest]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// First trading day (inclusive); default: the calendar's first.
    pub start: Option<NaiveDate>,
    /// Last trading day (inclusive); default: the calendar's last.
    pub end: Option<NaiveDate>,
    /// Starting cash in account currency (CNY for A-shares). Default 1,000,000.
    #[serde(default = "default_cash")]
    pub initial_cash: Decimal,
    /// `next_open` (default) or `same_close`.
    #[serde(default = "default_fill")]
    pub fill: FillTiming,
    /// Slippage in basis points against the order. Default 5.
    #[serde(default = "default_slippage")]
    pub slippage_bps: Decimal,
    /// `auto` (default), `cn_a`, `us` or `crypto`.
    #[serde(default = "default_rules")]
    pub rules: RulesChoice,
    /// `cut` (default) or `reject` for buys cash cannot cover.
    #[serde(default = "default_shortfall")]
    pub on_cash_shortfall: ShortfallPolicy,
    /// `adjusted` (default: back-adjusted closes) or `raw` signal prices.
    #[serde(default = "default_signal")]
    pub signal_prices: SignalPrices,
    /// `cash_dividend` (default) or `none`.
    #[serde(default = "default_ca")]
    pub corporate_actions: CorporateActions,
    /// Annual risk-free rate (fraction) for Sharpe, Sortino and alpha. Default 0.
    #[serde(default)]
    pub risk_free_rate: f64,
    /// Main-board ST limit change date (±5% → ±10%); default 2025-07-07.
    pub st_limit_change: Option<NaiveDate>,
    /// When a value-sized order becomes a number of units: `fill` (default:
    /// at the fill price, all in) or `decision` (at the decision's close,
    /// whole lots, as a live order must be sized before it is sent).
    #[serde(default)]
    pub size_at: quant_engine::SizeAt,
    /// Largest share of a bar's volume one order takes per bar, a
    /// fraction in (0, 1]; default: no cap.
    pub participation: Option<f64>,
    /// Bars an order waits before it may fill, beyond its fill timing;
    /// default 0, at most 1000.
    #[serde(default)]
    pub latency_bars: u32,
    /// Milliseconds from a decision to the market, on top of
    /// `latency_bars` (intraday bars: an order acts only at a bar open or
    /// close at least this long after its decision); default 0, at most one
    /// day ([`quant_exec::sim::SimConfig::latency_ms`]).
    #[serde(default)]
    pub latency_ms: u64,
    /// `touch` (default) or `through`: whether a resting limit fills when
    /// the price only touches it, or must trade through it.
    #[serde(default)]
    pub limit_fill: quant_exec::fill::LimitFill,
    /// Extra slippage by size over bar volume: `{ k_bps = 10, exponent = 0.5 }`
    /// adds k × (units / volume)^exponent basis points; default none.
    pub impact: Option<ImpactSection>,
    /// How the strategy's orders are worked: `{ algo = "direct" }`
    /// (default), `{ algo = "twap", bars = 3, slices = 3 }` (optional
    /// `expire_rest`, `participation`) or `{ algo = "iceberg", visible =
    /// 1000 }` ([`quant_core::Execution`]).
    #[serde(default)]
    pub execution: quant_core::Execution,
}

/// `[backtest] impact`: slippage growing with the order's share of the
/// bar's volume.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactSection {
    /// Basis points at a whole bar's volume; in [0, 10000].
    pub k_bps: f64,
    /// The exponent on units / volume; in (0, 2] (0.5: square-root impact).
    pub exponent: f64,
}

fn default_cash() -> Decimal {
    Decimal::from(1_000_000)
}
fn default_fill() -> FillTiming {
    FillTiming::NextOpen
}
fn default_slippage() -> Decimal {
    Decimal::from(5)
}
fn default_rules() -> RulesChoice {
    RulesChoice::Auto
}
fn default_shortfall() -> ShortfallPolicy {
    ShortfallPolicy::Cut
}
fn default_signal() -> SignalPrices {
    SignalPrices::Adjusted
}
fn default_ca() -> CorporateActions {
    CorporateActions::CashDividend
}

impl Default for RunSection {
    fn default() -> Self {
        Self {
            start: None,
            end: None,
            initial_cash: default_cash(),
            fill: default_fill(),
            slippage_bps: default_slippage(),
            rules: default_rules(),
            on_cash_shortfall: default_shortfall(),
            signal_prices: default_signal(),
            corporate_actions: default_ca(),
            risk_free_rate: 0.0,
            st_limit_change: None,
            size_at: quant_engine::SizeAt::Fill,
            participation: None,
            latency_bars: 0,
            latency_ms: 0,
            limit_fill: quant_exec::fill::LimitFill::Touch,
            impact: None,
            execution: quant_core::Execution::Direct,
        }
    }
}

/// File format of the bar store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    /// `SYMBOL.csv` files in the `shared/data` layout.
    Csv,
    /// `SYMBOL.parquet` files made by `quant-data import`.
    Parquet,
}

/// `[data]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Root folder of the bar files, relative to the config file.
    pub root: PathBuf,
    /// `csv` (default) or `parquet`.
    #[serde(default = "default_format")]
    pub format: DataFormat,
    /// Instruments: paths under `root` without extension (`cn/daily/600519.SH`),
    /// or a folder with `/*` for every file in it (`cn/daily/*`).
    pub universe: Vec<String>,
    /// Benchmark path under `root` without extension (`cn/index/000300.SH`).
    pub benchmark: Option<String>,
    /// Calendar source: `benchmark` (default) or a path under `root` without
    /// extension whose dates are the trading days (an index file).
    pub calendar: Option<String>,
    /// Optional instrument master (CSV with `symbol`, `board`, optional
    /// `list_date` and `st` columns), path under `root`.
    pub instruments: Option<String>,
    /// Optional point-in-time fundamentals (CSV, path under `root`): one
    /// row per symbol and date with any of `pe` (or `pe_ttm`), `pb`, `roe`
    /// (fraction), `total_mv` (or `total_mcap`), `float_mv` (or
    /// `float_mcap`, `circ_mv`); market values in quote currency. A
    /// strategy sees the newest row dated on or before each day.
    pub fundamentals: Option<String>,
    /// Bar length of the universe's files: `1d` (the default: daily bar
    /// files) or an intraday interval (`1m`, `5m`, `15m`, `30m`, `1h`)
    /// whose files hold `datetime,open,high,low,close,volume[,amount]`
    /// rows ([`quant_data::intraday`]). Intraday runs walk every bar of
    /// every trading day; the calendar defaults to the bars' own trading
    /// days when neither `benchmark` nor `calendar` is set.
    pub interval: Option<quant_core::Interval>,
}

impl DataSection {
    /// The intraday interval of the run, `None` for daily bars.
    pub fn intraday(&self) -> Option<quant_core::Interval> {
        self.interval.filter(|i| *i != quant_core::Interval::D1)
    }
}

fn default_format() -> DataFormat {
    DataFormat::Csv
}

/// `[costs]`: overrides of the default fee schedules (all optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostsSection {
    /// Stock commission rate (fraction; default 0.00025 for A-shares).
    pub commission_rate: Option<Decimal>,
    /// Stock minimum commission per order (default 5 CNY).
    pub min_commission: Option<Decimal>,
    /// Stamp duty on sells by date (default 0.001, then 0.0005 from 2023-08-28).
    pub stamp_duty: Option<Vec<DatedRate>>,
    /// Transfer fee rate on both sides (default 0.00001), or use `transfer_fee` for a dated list.
    pub transfer_fee_rate: Option<Decimal>,
    /// Transfer fee by date (overrides `transfer_fee_rate`).
    pub transfer_fee: Option<Vec<DatedRate>>,
    /// Fund (ETF) commission rate (default 0.00025).
    pub fund_commission_rate: Option<Decimal>,
    /// Fund minimum commission (default 0).
    pub fund_min_commission: Option<Decimal>,
    /// Round each fee to the cent (default false).
    #[serde(default)]
    pub round_to_cent: bool,
}

/// `[strategy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategySection {
    /// Registry name (`sma_cross`, `momentum_rotation`, …,
    /// [`quant_strategy::registry::BUILTINS`]); with `file`, the file's
    /// `[strategy] name` (set on load).
    #[serde(default)]
    pub name: String,
    /// Parameters of that strategy.
    #[serde(default)]
    pub params: toml::Table,
    /// A declarative strategy file (`docs/strategy-files.md`), relative to
    /// the config file; instead of `name` and `params`.
    pub file: Option<PathBuf>,
    /// The loaded strategy file; set by [`BacktestConfig::load`].
    #[serde(skip)]
    pub loaded: Option<quant_strategy::rules::file::StrategyFile>,
}

impl StrategySection {
    /// Builds the configured strategy.
    ///
    /// # Errors
    /// The registry's or the strategy file's error.
    pub fn build(&self) -> quant_strategy::Result<Box<dyn quant_strategy::Strategy>> {
        match &self.loaded {
            Some(f) => f.build(),
            None => quant_strategy::build(&self.name, self.params.clone()),
        }
    }
}

impl BacktestConfig {
    /// Reads and parses a config file.
    ///
    /// # Errors
    /// [`Error::Io`] when unreadable; [`Error::Config`] for a file over
    /// [`MAX_CONFIG_SIZE`] bytes or with the TOML error (line, column and
    /// key) when malformed; [`Error::Setting`] (file, line, key, range)
    /// when a value is out of range ([`BacktestConfig::parse`]); the
    /// strategy file's error when it is bad.
    pub fn load(path: &Path) -> Result<Self> {
        let size = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .len();
        if size > MAX_CONFIG_SIZE {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!(
                    "the file is {size} bytes; a config has at most {MAX_CONFIG_SIZE} (1 MiB)"
                ),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut cfg = Self::parse(&text, path)?;
        cfg.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        cfg.path = path.to_path_buf();
        if let Some(file) = cfg.strategy.file.clone() {
            cfg.use_strategy_file(&cfg.base_dir.join(file))?;
        }
        Ok(cfg)
    }

    /// Runs the strategy of the declarative strategy file at `path`
    /// (resolved by the caller) instead of the configured one: its name
    /// becomes `strategy.name`, and its `[risk]` becomes the run's when the
    /// config has none.
    ///
    /// # Errors
    /// The strategy file's error (file, line and key); [`Error::Config`]
    /// when the config also has `[strategy.params]`, or `[risk]` is in both.
    pub fn use_strategy_file(&mut self, path: &Path) -> Result<()> {
        let bad = |m: String| {
            Err(Error::Config {
                path: self.path.clone(),
                message: m,
            })
        };
        if !self.strategy.params.is_empty() {
            return bad(format!(
                "strategy.params does not apply to the strategy file {}; set the values in the file",
                path.display()
            ));
        }
        let file = quant_strategy::rules::file::StrategyFile::load(path)?;
        // an interval finer than the run's bars is refused now, not at the first bar
        file.check_interval(self.data.interval.unwrap_or(quant_core::Interval::D1))?;
        if let Some(r) = file.risk() {
            if self.risk.is_some() {
                return bad(format!(
                    "[risk] is set both here and in the strategy file {}; keep one",
                    path.display()
                ));
            }
            self.risk = Some(r.clone());
        }
        self.strategy.name = file.name().to_string();
        self.strategy.file = Some(path.to_path_buf());
        self.strategy.loaded = Some(file);
        Ok(())
    }

    /// Parses config text; `path` is used in messages.
    ///
    /// Every key is checked against its range (`docs/config.md`), and a
    /// built-in strategy is built once with its `[strategy.params]` so that
    /// its own checks run now.
    ///
    /// # Errors
    /// [`Error::Config`] with the TOML error (line, column and key) for
    /// malformed text, an unknown key or a value of the wrong type;
    /// [`Error::Setting`] naming the file, the line, the key and the
    /// allowed range for a value out of range or at odds with another.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        if text.len() as u64 > MAX_CONFIG_SIZE {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!(
                    "the text is {} bytes; a config has at most {MAX_CONFIG_SIZE} (1 MiB)",
                    text.len()
                ),
            });
        }
        let cfg: Self = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.check(&Keys::new(text, path))?;
        Ok(cfg)
    }

    /// The range checks of [`BacktestConfig::parse`].
    fn check(&self, at: &Keys<'_>) -> Result<()> {
        let b = &self.backtest;
        let cash = b.initial_cash;
        if !(cash > Decimal::ZERO && cash <= quant_engine::record::MAX_INITIAL_CASH) {
            return Err(at.bad(
                "backtest.initial_cash",
                format!(
                    "must be positive and at most {}, got {cash}",
                    quant_engine::record::MAX_INITIAL_CASH
                ),
            ));
        }
        at.cost(
            "backtest.slippage_bps",
            b.slippage_bps,
            sim::MAX_SLIPPAGE_BPS,
        )?;
        at.real(
            "backtest.risk_free_rate",
            b.risk_free_rate,
            RISK_FREE_RATE_RANGE,
        )?;
        if let Some(p) = b.participation
            && !(p > 0.0 && p <= 1.0)
        {
            return Err(at.bad(
                "backtest.participation",
                format!("must lie in (0, 1] (a fraction of the bar's volume), got {p}"),
            ));
        }
        if b.latency_ms > quant_exec::sim::MAX_LATENCY_MS {
            return Err(at.bad(
                "backtest.latency_ms",
                format!(
                    "must lie in [0, {}] milliseconds, got {}",
                    quant_exec::sim::MAX_LATENCY_MS,
                    b.latency_ms
                ),
            ));
        }
        if b.latency_bars > 1000 {
            return Err(at.bad(
                "backtest.latency_bars",
                format!("must lie in [0, 1000], got {}", b.latency_bars),
            ));
        }
        if let Some(i) = b.impact {
            if !(0.0..=10_000.0).contains(&i.k_bps) {
                return Err(at.bad(
                    "backtest.impact.k_bps",
                    format!("must lie in [0, 10000] basis points, got {}", i.k_bps),
                ));
            }
            if !(i.exponent > 0.0 && i.exponent <= 2.0) {
                return Err(at.bad(
                    "backtest.impact.exponent",
                    format!("must lie in (0, 2], got {}", i.exponent),
                ));
            }
        }
        if let Err(e) = quant_engine::record::validate_execution(&b.execution, "backtest.execution")
        {
            let (key, msg) = match &e {
                quant_engine::Error::Setting {
                    key,
                    value,
                    expected,
                } => (key.clone(), format!("{value}: {expected}")),
                other => ("backtest.execution".to_string(), other.to_string()),
            };
            return Err(at.bad(&key, msg));
        }
        if let (Some(s), Some(e)) = (b.start, b.end)
            && e < s
        {
            return Err(at.bad("backtest.end", format!("{e} is before backtest.start {s}")));
        }
        let d = &self.data;
        if d.universe.is_empty() {
            return Err(at.bad("data.universe", "lists no instrument".into()));
        }
        if let Some(k) = d.universe.iter().position(|u| u.trim().is_empty()) {
            return Err(at.bad(&format!("data.universe[{k}]"), "is empty".into()));
        }
        if d.intraday().is_some() && d.format != DataFormat::Csv {
            return Err(at.bad(
                "data.format",
                "intraday bars (data.interval) are read from csv files".into(),
            ));
        }
        if d.intraday().is_none()
            && d.benchmark.is_none()
            && d.calendar.as_deref().is_none_or(|c| c == "benchmark")
        {
            return Err(at.bad(
                "data.calendar",
                "defaults to the benchmark: set data.benchmark or data.calendar".into(),
            ));
        }
        self.check_costs(at)?;
        let s = &self.strategy;
        if s.file.is_some() != s.name.is_empty() {
            return Err(at.bad(
                "strategy",
                "needs either `name` (a built-in) or `file` (a strategy file)".into(),
            ));
        }
        if s.file.is_none()
            && let Err(e) = quant_strategy::build(&s.name, s.params.clone())
        {
            let key = match (&e, e.param_key()) {
                (quant_strategy::Error::UnknownStrategy { .. }, _) => "strategy.name".into(),
                (_, Some(k)) => format!("strategy.params.{k}"),
                (_, None) => "strategy.params".into(),
            };
            return Err(at.bad(&key, e.to_string()));
        }
        if let Some(Err(e)) = self.risk.as_ref().map(quant_risk::RiskConfig::validate) {
            return Err(at.risk(e));
        }
        if let Some(g) = &self.goals {
            at.real("goals.cagr", g.cagr, GOAL_CAGR_RANGE)?;
            if !(g.max_drawdown > 0.0 && g.max_drawdown <= 1.0) {
                return Err(at.bad(
                    "goals.max_drawdown",
                    format!("must lie in (0, 1], got {:?}", g.max_drawdown),
                ));
            }
            at.count("goals.mc_paths", g.mc_paths, crate::montecarlo::MAX_PATHS)?;
            at.count("goals.mc_block", g.mc_block, crate::montecarlo::MAX_BLOCK)?;
        }
        Ok(())
    }

    /// `[costs]`: each rate and minimum in its range, dated lists
    /// ascending.
    fn check_costs(&self, at: &Keys<'_>) -> Result<()> {
        let c = &self.costs;
        for (key, v, hi) in [
            (
                "costs.commission_rate",
                c.commission_rate,
                sim::MAX_COMMISSION_RATE,
            ),
            (
                "costs.min_commission",
                c.min_commission,
                sim::MAX_MIN_COMMISSION,
            ),
            (
                "costs.transfer_fee_rate",
                c.transfer_fee_rate,
                sim::MAX_TRANSFER_FEE,
            ),
            (
                "costs.fund_commission_rate",
                c.fund_commission_rate,
                sim::MAX_COMMISSION_RATE,
            ),
            (
                "costs.fund_min_commission",
                c.fund_min_commission,
                sim::MAX_MIN_COMMISSION,
            ),
        ] {
            if let Some(v) = v {
                at.cost(key, v, hi)?;
            }
        }
        for (table, list, hi) in [
            ("costs.stamp_duty", &c.stamp_duty, sim::MAX_STAMP_DUTY),
            ("costs.transfer_fee", &c.transfer_fee, sim::MAX_TRANSFER_FEE),
        ] {
            let Some(list) = list else { continue };
            for (k, r) in list.iter().enumerate() {
                at.cost(&format!("{table}[{k}].rate"), r.rate, hi)?;
                if k > 0 && list[k - 1].from >= r.from {
                    return Err(at.bad(
                        &format!("{table}[{k}].from"),
                        format!(
                            "{} is not after the previous entry's {}: dates must ascend",
                            r.from,
                            list[k - 1].from
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A path under `data.root`, resolved against the config file's folder.
    pub fn data_path(&self, rel: &str) -> PathBuf {
        self.base_dir.join(&self.data.root).join(rel)
    }
}

/// Finds the lines of keys in a config's text for [`Error::Setting`].
struct Keys<'a> {
    text: &'a str,
    path: &'a Path,
    doc: Option<toml::Spanned<toml::de::DeTable<'a>>>,
}

impl<'a> Keys<'a> {
    fn new(text: &'a str, path: &'a Path) -> Self {
        Self {
            text,
            path,
            doc: toml::de::DeTable::parse(text).ok(),
        }
    }

    /// The span of the value at a dotted key with optional array indices
    /// (`costs.stamp_duty[1].rate`), when it is written.
    fn span(&self, dotted: &str) -> Option<std::ops::Range<usize>> {
        let doc = self.doc.as_ref()?;
        let mut cur: Option<&toml::Spanned<toml::de::DeValue<'_>>> = None;
        for part in dotted.split('.') {
            let (name, idx) = match part.split_once('[') {
                Some((name, i)) => (name, Some(i.strip_suffix(']')?.parse::<usize>().ok()?)),
                None => (part, None),
            };
            let mut v = match cur {
                None => doc.get_ref().get(name)?,
                Some(c) => c.get_ref().get(name)?,
            };
            if let Some(i) = idx {
                v = v.get_ref().get(i)?;
            }
            cur = Some(v);
        }
        cur.map(toml::Spanned::span)
    }

    /// The 1-based line of the value at `dotted`, else of its nearest
    /// written parent (`costs.stamp_duty[1]`, `costs`); 0 when none is.
    fn line(&self, dotted: &str) -> usize {
        let mut key = dotted;
        loop {
            if let Some(s) = self.span(key) {
                let bytes = self.text.as_bytes();
                let upto = bytes.get(..s.start).unwrap_or(bytes);
                return upto.iter().filter(|&&b| b == b'\n').count() + 1;
            }
            match key.rfind(['.', '[']) {
                Some(i) => key = &key[..i],
                None => return 0,
            }
        }
    }

    /// [`Error::Setting`] for `key`.
    fn bad(&self, key: &str, message: String) -> Error {
        Error::Setting {
            path: self.path.to_path_buf(),
            line: self.line(key),
            key: key.to_string(),
            message,
        }
    }

    /// A decimal cost in `[0, hi]`.
    fn cost(&self, key: &str, v: Decimal, hi: Decimal) -> Result<()> {
        if v >= Decimal::ZERO && v <= hi {
            Ok(())
        } else {
            Err(self.bad(key, format!("must lie in [0, {hi}], got {v}")))
        }
    }

    /// A finite real in `[lo, hi]`.
    fn real(&self, key: &str, v: f64, (lo, hi): (f64, f64)) -> Result<()> {
        if v.is_finite() && v >= lo && v <= hi {
            Ok(())
        } else {
            Err(self.bad(key, format!("must lie in [{lo}, {hi}], got {v:?}")))
        }
    }

    /// A count in `[1, hi]`.
    fn count(&self, key: &str, v: usize, hi: usize) -> Result<()> {
        if (1..=hi).contains(&v) {
            Ok(())
        } else {
            Err(self.bad(key, format!("must be an integer in [1, {hi}], got {v}")))
        }
    }

    /// A `[risk]` setting `quant-risk` refuses, under its table's key.
    fn risk(&self, e: quant_risk::Error) -> Error {
        let key = match &e {
            quant_risk::Error::Setting { key, .. } => ["limits", "breakers"]
                .iter()
                .map(|t| format!("risk.{t}.{key}"))
                .find(|k| self.span(k).is_some())
                .unwrap_or_else(|| "risk".into()),
            _ => "risk".into(),
        };
        self.bad(&key, e.to_string())
    }
}
