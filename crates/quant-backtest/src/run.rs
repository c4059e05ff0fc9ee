//! Loading a config's data and running it on the shared event loop.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use quant_core::rules::DatedRate;
use quant_core::{AssetClass, Board, Cash, Instrument, MarketRules, RuleSet, TradingCalendar};
use quant_data::intraday::{IntradaySeries, read_intraday_csv};
use quant_data::{BarSeries, load_series};
use quant_engine::{EngineConfig, RunRecord, run_strategy};
use quant_exec::{SimConfig, SimulatedVenue};

use crate::config::{BacktestConfig, DataFormat, RulesChoice};
use crate::error::{Error, Result};
use crate::feed::{HistoricalClock, HistoricalFeed, RunFeed};
use crate::intraday::IntradayFeed;
use crate::metrics::{Metrics, compute_metrics};

/// Everything a finished backtest produced.
#[derive(Debug, Clone)]
pub struct BacktestResult {
    /// The config that ran.
    pub config: BacktestConfig,
    /// The instruments, indexed as in the records.
    pub instruments: Vec<Instrument>,
    /// Equity curve, orders, fills and corporate actions.
    pub record: RunRecord,
    /// Metrics of the equity curve against the benchmark.
    pub metrics: Metrics,
    /// Benchmark symbol, when one was configured.
    pub benchmark: Option<String>,
}

/// Data loaded for a run, before it starts.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Instruments in universe order.
    pub instruments: Vec<Instrument>,
    /// Their bars.
    pub series: Vec<BarSeries>,
    /// Benchmark bars.
    pub benchmark: Option<BarSeries>,
    /// The trading days of the run.
    pub calendar: TradingCalendar,
    /// Symbol → industry from `data.instruments` (for the risk gate's
    /// sector limit).
    pub sectors: std::collections::BTreeMap<String, String>,
    /// Fundamentals per instrument from `data.fundamentals` (empty lists
    /// without one).
    pub fundamentals: Vec<Vec<quant_strategy::Fundamentals>>,
    /// Intraday bars per instrument when `data.interval` is intraday
    /// (`series` is then empty); empty for daily runs.
    pub intraday: Vec<IntradaySeries>,
}

fn ext(format: DataFormat) -> &'static str {
    match format {
        DataFormat::Csv => "csv",
        DataFormat::Parquet => "parquet",
    }
}

fn cfg_err(cfg: &BacktestConfig, message: String) -> Error {
    Error::Config {
        path: cfg.path.clone(),
        message,
    }
}

/// Expands `data.universe` into files, in order, without duplicates.
///
/// # Errors
/// [`Error::Config`] naming the entry when a file or folder does not exist
/// or a folder holds no file of the format.
pub fn universe_files(cfg: &BacktestConfig) -> Result<Vec<PathBuf>> {
    let e = ext(cfg.data.format);
    let mut out: Vec<PathBuf> = Vec::new();
    for entry in &cfg.data.universe {
        if let Some(dir) = entry.strip_suffix("/*") {
            let dir_path = cfg.data_path(dir);
            let rd = std::fs::read_dir(&dir_path).map_err(|err| {
                cfg_err(
                    cfg,
                    format!(
                        "data.universe entry `{entry}`: {}: {err}",
                        dir_path.display()
                    ),
                )
            })?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(|d| d.ok().map(|d| d.path()))
                .filter(|p| p.extension().is_some_and(|x| x == e))
                .collect();
            if files.is_empty() {
                return Err(cfg_err(
                    cfg,
                    format!(
                        "data.universe entry `{entry}`: no .{e} files in {}",
                        dir_path.display()
                    ),
                ));
            }
            files.sort();
            out.extend(files);
        } else {
            let p = cfg.data_path(&format!("{entry}.{e}"));
            if !p.is_file() {
                return Err(cfg_err(
                    cfg,
                    format!("data.universe entry `{entry}`: no file {}", p.display()),
                ));
            }
            out.push(p);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

#[derive(Debug, Deserialize)]
struct MasterRow {
    symbol: String,
    board: Option<String>,
    list_date: Option<String>,
    st: Option<String>,
    industry: Option<String>,
}

/// Applies `data.instruments` (board, list date, ST) to `instruments` and
/// returns symbol → industry.
fn apply_master(
    cfg: &BacktestConfig,
    path: &Path,
    instruments: &mut [Instrument],
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut sectors = std::collections::BTreeMap::new();
    let mut rdr = csv::Reader::from_path(path)
        .map_err(|e| cfg_err(cfg, format!("data.instruments: {}: {e}", path.display())))?;
    for (n, row) in rdr.deserialize::<MasterRow>().enumerate() {
        let line = n + 2;
        let row = row.map_err(|e| {
            cfg_err(
                cfg,
                format!("data.instruments: {}:{line}: {e}", path.display()),
            )
        })?;
        let Some(inst) = instruments
            .iter_mut()
            .find(|i| i.symbol.as_str() == row.symbol)
        else {
            continue;
        };
        if let Some(b) = row.board.as_deref().filter(|b| !b.is_empty()) {
            let board = Board::parse(b).map_err(|e| {
                cfg_err(
                    cfg,
                    format!("data.instruments: {}:{line}: {e}", path.display()),
                )
            })?;
            if inst.asset_class == AssetClass::Stock {
                inst.board = board;
            }
        }
        if let Some(d) = row.list_date.as_deref().filter(|d| !d.is_empty()) {
            inst.list_date = Some(d.parse::<NaiveDate>().map_err(|e| {
                cfg_err(
                    cfg,
                    format!(
                        "data.instruments: {}:{line}: list_date `{d}`: {e}",
                        path.display()
                    ),
                )
            })?);
        }
        if let Some(s) = row.st.as_deref() {
            inst.st = matches!(s.trim(), "1" | "true" | "True" | "TRUE" | "yes");
        }
        if let Some(ind) = row.industry.filter(|i| !i.is_empty()) {
            sectors.insert(row.symbol, ind);
        }
    }
    Ok(sectors)
}

/// One row of `data.fundamentals`.
#[derive(Debug, serde::Deserialize)]
struct FundamentalsRow {
    date: String,
    symbol: String,
    #[serde(default, alias = "pe_ttm")]
    pe: Option<f64>,
    #[serde(default)]
    pb: Option<f64>,
    #[serde(default)]
    roe: Option<f64>,
    #[serde(default, alias = "total_mcap")]
    total_mv: Option<f64>,
    #[serde(default, alias = "float_mcap", alias = "circ_mv")]
    float_mv: Option<f64>,
}

/// Reads `data.fundamentals` into one list per instrument (rows of other
/// symbols are skipped; empty cells are unknown).
fn load_fundamentals(
    cfg: &BacktestConfig,
    path: &Path,
    instruments: &[Instrument],
) -> Result<Vec<Vec<quant_strategy::Fundamentals>>> {
    let index: std::collections::HashMap<&str, usize> = instruments
        .iter()
        .enumerate()
        .map(|(i, inst)| (inst.symbol.as_str(), i))
        .collect();
    let mut out = vec![Vec::new(); instruments.len()];
    let at = |line: usize, e: &dyn std::fmt::Display| {
        cfg_err(
            cfg,
            format!("data.fundamentals: {}:{line}: {e}", path.display()),
        )
    };
    let mut rdr = csv::Reader::from_path(path).map_err(|e| at(1, &e))?;
    for (n, row) in rdr.deserialize::<FundamentalsRow>().enumerate() {
        let line = n + 2;
        let row = row.map_err(|e| at(line, &e))?;
        let Some(&i) = index.get(row.symbol.as_str()) else {
            continue;
        };
        let date = row
            .date
            .parse::<NaiveDate>()
            .map_err(|e| at(line, &format!("date `{}`: {e}", row.date)))?;
        let v = |x: Option<f64>| x.unwrap_or(f64::NAN);
        out[i].push(quant_strategy::Fundamentals {
            date,
            pe: v(row.pe),
            pb: v(row.pb),
            roe: v(row.roe),
            total_mv: v(row.total_mv),
            float_mv: v(row.float_mv),
        });
    }
    Ok(out)
}

/// Loads the instruments, bars, benchmark and calendar of a config.
///
/// # Errors
/// [`Error::Config`] for missing files, mixed currencies or an empty
/// calendar; [`Error::Data`] for files that fail validation.
pub fn prepare(cfg: &BacktestConfig) -> Result<Prepared> {
    let files = universe_files(cfg)?;
    // data in a store is read at one generation (no commit publishes
    // while the files load); a plain folder needs no lock
    let _read = match files.first() {
        Some(f) => quant_data::commit::read_lock(f)?,
        None => None,
    };
    let mut instruments = Vec::with_capacity(files.len());
    let mut series = Vec::with_capacity(files.len());
    let mut intraday = Vec::new();
    for f in &files {
        if let Some(interval) = cfg.data.intraday() {
            let sym = quant_data::csv_io::symbol_from_path(f)?;
            let inst = Instrument::infer(sym, false)
                .map_err(|e| cfg_err(cfg, format!("{}: {e}", f.display())))?;
            let s = read_intraday_csv(f, inst.exchange)?;
            if s.interval != interval {
                return Err(cfg_err(
                    cfg,
                    format!(
                        "data.interval is {interval} but {} holds {} bars",
                        f.display(),
                        s.interval
                    ),
                ));
            }
            instruments.push(inst);
            intraday.push(s);
            continue;
        }
        let s = load_series(f)?;
        let sym = s
            .symbol
            .clone()
            .ok_or_else(|| cfg_err(cfg, format!("{}: no symbol", f.display())))?;
        let inst = Instrument::infer(sym, false)
            .map_err(|e| cfg_err(cfg, format!("{}: {e}", f.display())))?;
        instruments.push(inst);
        series.push(s);
    }
    let sectors = match &cfg.data.instruments {
        Some(m) => apply_master(cfg, &cfg.data_path(m), &mut instruments)?,
        None => std::collections::BTreeMap::new(),
    };
    if let Some(first) = instruments.first()
        && let Some(other) = instruments.iter().find(|i| i.currency != first.currency)
    {
        {
            return Err(cfg_err(
                cfg,
                format!(
                    "data.universe mixes currencies ({} is {}, {} is {}); one account holds one currency",
                    first.symbol, first.currency, other.symbol, other.currency
                ),
            ));
        }
    }
    let e = ext(cfg.data.format);
    let benchmark = match &cfg.data.benchmark {
        Some(b) => Some(load_series(&cfg.data_path(&format!("{b}.{e}")))?),
        None => None,
    };
    let calendar_days = match cfg.data.calendar.as_deref() {
        None | Some("benchmark") if benchmark.is_none() && !intraday.is_empty() => {
            // intraday without a calendar source: the bars' trading days
            let mut days: Vec<NaiveDate> = intraday
                .iter()
                .flat_map(|s| (0..s.len()).filter_map(|k| s.trading_day(k)))
                .collect();
            days.sort_unstable();
            days.dedup();
            days
        }
        None | Some("benchmark") => benchmark
            .as_ref()
            .map(|b| b.dates.clone())
            .unwrap_or_default(),
        Some(path) => load_series(&cfg.data_path(&format!("{path}.{e}")))?.dates,
    };
    let calendar = TradingCalendar::new(calendar_days)
        .map_err(|err| cfg_err(cfg, format!("data.calendar: {err}")))?
        .between(cfg.backtest.start, cfg.backtest.end);
    if calendar.len() < 2 {
        return Err(cfg_err(cfg, "the calendar holds fewer than two trading days between backtest.start and backtest.end".into()));
    }
    let fundamentals = match &cfg.data.fundamentals {
        Some(f) => load_fundamentals(cfg, &cfg.data_path(f), &instruments)?,
        None => vec![Vec::new(); instruments.len()],
    };
    Ok(Prepared {
        instruments,
        series,
        benchmark,
        calendar,
        sectors,
        fundamentals,
        intraday,
    })
}

/// The simulated venue's settings from a config.
pub fn sim_config(cfg: &BacktestConfig) -> SimConfig {
    let rules_override = match cfg.backtest.rules {
        RulesChoice::Auto => None,
        RulesChoice::CnA => Some(RuleSet::CnA),
        RulesChoice::Us => Some(RuleSet::Us),
        RulesChoice::Crypto => Some(RuleSet::Crypto),
    };
    let b = &cfg.backtest;
    let mut sim = SimConfig {
        timing: b.fill,
        slippage_bps: b.slippage_bps,
        shortfall: b.on_cash_shortfall,
        rules_override,
        participation: b
            .participation
            .and_then(|p| quant_exec::fill::Participation::new(p).ok()),
        latency_bars: b.latency_bars,
        latency_ms: b.latency_ms,
        limit_fill: b.limit_fill,
        impact: b.impact.map(|i| quant_exec::fill::Slippage::VolumeShare {
            k_bps: i.k_bps,
            exponent: i.exponent,
        }),
        ..SimConfig::default()
    };
    let c = &cfg.costs;
    let target: &mut MarketRules = match rules_override.unwrap_or(RuleSet::CnA) {
        RuleSet::CnA => &mut sim.cn_a,
        RuleSet::Us => &mut sim.us,
        RuleSet::Crypto => &mut sim.crypto,
    };
    if let Some(d) = cfg.backtest.st_limit_change {
        target.st_limit_change = d;
    }
    let s = &mut target.stock_fees;
    if let Some(v) = c.commission_rate {
        s.commission_rate = v;
    }
    if let Some(v) = c.min_commission {
        s.min_commission = v;
    }
    if let Some(v) = &c.stamp_duty {
        s.stamp_duty.clone_from(v);
    }
    if let Some(v) = c.transfer_fee_rate {
        s.transfer_fee = vec![DatedRate {
            from: NaiveDate::MIN,
            rate: v,
        }];
    }
    if let Some(v) = &c.transfer_fee {
        s.transfer_fee.clone_from(v);
    }
    s.round_to_cent = c.round_to_cent;
    let f = &mut target.fund_fees;
    if let Some(v) = c.fund_commission_rate {
        f.commission_rate = v;
    }
    if let Some(v) = c.fund_min_commission {
        f.min_commission = v;
    }
    f.round_to_cent = c.round_to_cent;
    sim
}

/// Runs a config end to end: load, simulate, compute metrics. `progress`
/// is called with (days done, days total).
///
/// # Errors
/// Any load, strategy or engine error; [`Error::Config`] for bad fee values.
pub fn run_backtest(
    cfg: &BacktestConfig,
    progress: impl FnMut(usize, usize),
) -> Result<BacktestResult> {
    run_prepared(cfg, prepare(cfg)?, progress)
}

/// [`run_backtest`] on data already loaded by [`prepare`] (a sweep loads
/// once and runs many parameter sets).
///
/// # Errors
/// Any strategy or engine error; [`Error::Config`] for bad fee values.
pub fn run_prepared(
    cfg: &BacktestConfig,
    prepared: Prepared,
    mut progress: impl FnMut(usize, usize),
) -> Result<BacktestResult> {
    let instruments = prepared.instruments.clone();
    let mut session = Session::new(cfg, prepared)?;
    let strategy = cfg.strategy.build()?;
    let total = session.days;
    let record = run_strategy(
        session.engine,
        &mut session.clock,
        &mut session.feed,
        &mut session.venue,
        strategy,
        |d| progress(d, total),
    )?;
    Ok(result(cfg, instruments, record))
}

/// The pieces of a run of a config, before its first day: what
/// [`run_prepared`] drives to the end, and what a caller that stops
/// between days (to snapshot the engine and the venue, and resume) drives
/// itself with [`quant_engine::Stepper`]. The engine is built over the
/// feed's instruments with the venue's settlement rule
/// ([`quant_exec::Venue::t_plus_one`]), as [`quant_engine::run_strategy`]
/// builds it.
#[derive(Debug)]
pub struct Session {
    /// The run's trading days, none yielded yet.
    pub clock: HistoricalClock,
    /// Bars, history and fundamentals, on no day yet.
    pub feed: RunFeed,
    /// The simulated venue with the config's fills, slippage and fees.
    pub venue: SimulatedVenue,
    /// The engine's settings: cash, corporate actions, risk (its sector
    /// map from `data.instruments`).
    pub engine: EngineConfig,
    /// Number of trading days.
    pub days: usize,
}

impl Session {
    /// The pieces of a run of `cfg` on `prepared`.
    ///
    /// # Errors
    /// [`Error::Config`] for venue settings out of range (bad fee values).
    pub fn new(cfg: &BacktestConfig, prepared: Prepared) -> Result<Self> {
        let sim = sim_config(cfg);
        // the venue's own ranges (the config's were checked with their lines
        // on parse; this catches a config changed in memory)
        sim.validate()
            .map_err(|e| cfg_err(cfg, format!("costs: {e}")))?;
        let days = prepared.calendar.len();
        let clock = HistoricalClock::new(&prepared.calendar);
        let sectors = prepared.sectors;
        let feed = if prepared.intraday.is_empty() {
            RunFeed::Daily(
                HistoricalFeed::new(
                    prepared.instruments,
                    prepared.series,
                    prepared.benchmark,
                    cfg.backtest.signal_prices,
                    &prepared.calendar,
                )
                .with_fundamentals(prepared.fundamentals),
            )
        } else {
            RunFeed::Intraday(
                IntradayFeed::new(
                    prepared.instruments,
                    prepared.intraday,
                    prepared.benchmark,
                    &prepared.calendar,
                )
                .map_err(|e| cfg_err(cfg, format!("data.universe: {e}")))?,
            )
        };
        let engine = EngineConfig {
            initial_cash: Cash(cfg.backtest.initial_cash),
            corporate_actions: cfg.backtest.corporate_actions,
            size_at: cfg.backtest.size_at,
            execution: cfg.backtest.execution,
            risk: cfg.risk.clone().map(|mut r| {
                r.sectors = sectors;
                r
            }),
            ..Default::default()
        };
        Ok(Self {
            clock,
            feed,
            venue: SimulatedVenue::new(sim),
            engine,
            days,
        })
    }
}

/// The result of a run of `cfg` over `instruments` that recorded `record`:
/// metrics at the config's risk-free rate, the benchmark's symbol.
pub fn result(
    cfg: &BacktestConfig,
    instruments: Vec<Instrument>,
    record: RunRecord,
) -> BacktestResult {
    let metrics = compute_metrics(&record, cfg.backtest.risk_free_rate);
    let benchmark = cfg
        .data
        .benchmark
        .as_ref()
        .map(|b| b.rsplit('/').next().unwrap_or(b).to_string());
    BacktestResult {
        config: cfg.clone(),
        instruments,
        record,
        metrics,
        benchmark,
    }
}
