//! `quant-data`: market-data chores.
//!
//! ```text
//! quant-data import --input CSV_DIR --store STORE_DIR
//! quant-data fetch --market cn --symbol 600519.SH --start 2020-01-01 [--end DATE] [--index]
//!                  [--store store] [--config config/data.toml] [--calendar BARS.csv] [--offline]
//! quant-data update --market cn [--symbol S …] [--since 2005-01-01] [--store store] [--offline]
//! quant-data validate --input FILE_OR_DIR [--calendar BARS.csv]
//! quant-data list [--store store]
//! quant-data export --market cn --symbol 600519.SH --out OUT.csv|.parquet
//!                   [--adjust none|forward|backward] [--start DATE] [--end DATE] [--index] [--store store]
//! quant-data indicators --input BARS.csv --spec 'RSI(14)' --spec 'MACD(12,26,9)' --out OUT.csv
//! quant-data indicators --list
//! ```
//! `import` converts every daily-bar CSV under `CSV_DIR` into
//! `STORE_DIR/<same relative path>.parquet`, validating every row first; a
//! bad row fails the import naming file, line and reason, and leaves the store
//! as it was.
//!
//! `indicators` computes indicators named by spec (see
//! `quant_indicators::spec`) over one instrument's bars (CSV or Parquet) and
//! writes the input's `date` column plus one column per output, named from
//! the spec (`RSI_14`, `MACD_12_26_9_hist`…), to CSV (17 significant
//! digits, NaN as an empty cell) or Parquet (when OUT ends in `.parquet`).
//! `fetch` asks the market's provider chain of `data.toml` (primary, then
//! backups) for each symbol, runs the validation pipeline, quarantines rows
//! that fail hard (`STORE/quarantine/…`), merges the rest atomically into
//! `STORE/<market>/daily/SYMBOL.parquet` and prints who served and the
//! data-quality report. `update` does the same from the day after each
//! stored symbol's last bar to today. `--offline` refuses all network
//! access. `validate` prints the quality report of stored or CSV bars.
//! `list` shows every stored series (rows, first and last date); `export`
//! writes one of them, raw or forward/backward adjusted from its factors.
//!
//! Exit codes: 0 success, 1 `validate` found rows that fail hard, 2 error
//! (for `fetch`/`update`: at least one symbol failed; the others are
//! stored).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser, Debug)]
#[command(
    name = "quant-data",
    version,
    about = "Market data: import, validation and storage"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Convert a folder of daily-bar CSV files into a Parquet store.
    Import {
        /// Folder of CSV files (searched recursively).
        #[arg(long)]
        input: PathBuf,
        /// Store folder (created if missing).
        #[arg(long)]
        store: PathBuf,
    },
    /// Fetch daily bars from the configured providers into the store.
    Fetch {
        #[command(flatten)]
        net: Net,
        /// Symbols, e.g. 600519.SH; repeat for more.
        #[arg(long = "symbol", required = true)]
        symbols: Vec<String>,
        /// First date (YYYY-MM-DD).
        #[arg(long)]
        start: chrono::NaiveDate,
        /// Last date (YYYY-MM-DD); today (UTC) when absent.
        #[arg(long)]
        end: Option<chrono::NaiveDate>,
    },
    /// Bring stored symbols up to date: fetch only what is missing since each one's last bar.
    Update {
        #[command(flatten)]
        net: Net,
        /// Symbols (default: every symbol stored for the market).
        #[arg(long = "symbol")]
        symbols: Vec<String>,
        /// First date for a symbol with nothing stored yet.
        #[arg(long, default_value = "2005-01-01")]
        since: chrono::NaiveDate,
    },
    /// Print the data-quality report of bar files (CSV or Parquet, a file or a folder).
    Validate {
        /// A bar file or a folder of them (searched recursively).
        #[arg(long)]
        input: PathBuf,
        /// Bars whose dates are the exchange's trading days (gap check), e.g. an index file.
        #[arg(long)]
        calendar: Option<PathBuf>,
    },
    /// List every stored series: market, kind, symbol, rows, first and last date.
    List {
        /// Store folder.
        #[arg(long, default_value = "store")]
        store: PathBuf,
    },
    /// Write one stored series to CSV or Parquet, raw or adjusted.
    Export {
        /// Market folder of the store (cn, us, crypto).
        #[arg(long)]
        market: String,
        /// Symbol.
        #[arg(long)]
        symbol: String,
        /// Output: CSV, or Parquet when the name ends in .parquet.
        #[arg(long)]
        out: PathBuf,
        /// none, forward (qfq) or backward (hfq).
        #[arg(long, default_value = "none")]
        adjust: quant_data::Adjust,
        /// First date.
        #[arg(long)]
        start: Option<chrono::NaiveDate>,
        /// Last date.
        #[arg(long)]
        end: Option<chrono::NaiveDate>,
        /// The symbol is an index.
        #[arg(long)]
        index: bool,
        /// Store folder.
        #[arg(long, default_value = "store")]
        store: PathBuf,
    },
    /// Compute indicators over one instrument's bars and write them as a table.
    Indicators {
        /// Daily bars of one instrument (CSV or Parquet).
        #[arg(long, required_unless_present = "list")]
        input: Option<PathBuf>,
        /// An indicator spec, e.g. 'RSI(14)', 'MACD(12,26,9).hist'; repeat for more.
        #[arg(long = "spec", required_unless_present = "list")]
        specs: Vec<String>,
        /// Output table: CSV, or Parquet when the name ends in .parquet.
        #[arg(long, required_unless_present = "list")]
        out: Option<PathBuf>,
        /// Print every indicator with its parameters, defaults and outputs, then exit.
        #[arg(long)]
        list: bool,
    },
}

/// Options shared by `fetch` and `update`.
#[derive(clap::Args, Debug)]
struct Net {
    /// Market whose provider chain to use (a `[markets.NAME]` table: cn, us, crypto).
    #[arg(long)]
    market: String,
    /// Store folder.
    #[arg(long, default_value = "store")]
    store: PathBuf,
    /// Provider configuration.
    #[arg(long, default_value = "config/data.toml")]
    config: PathBuf,
    /// Bars whose dates are the exchange's trading days (gap check), e.g. an index file.
    #[arg(long)]
    calendar: Option<PathBuf>,
    /// The symbols are indices (stored under STORE/<market>/index).
    #[arg(long)]
    index: bool,
    /// Refuse all network access.
    #[arg(long)]
    offline: bool,
}

fn calendar(path: Option<&Path>) -> anyhow::Result<Option<Vec<chrono::NaiveDate>>> {
    path.map(|p| Ok(quant_data::load_series(p)?.dates))
        .transpose()
}

/// `fetch` and `update`: one request per symbol through the market's chain.
fn fetch(net: &Net, requests: Vec<quant_providers::BarRequest>) -> anyhow::Result<()> {
    let cfg = quant_providers::DataConfig::from_file(&net.config)?;
    let chain = cfg.chain(&net.market, net.offline)?;
    let cal = calendar(net.calendar.as_deref())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let bar = ProgressBar::new(requests.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("fetching [{bar:40}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut report = quant_data::quality::QualityReport::default();
    let mut failures = Vec::new();
    for req in &requests {
        bar.set_message(req.symbol.clone());
        let r = rt.block_on(quant_providers::update::fetch_into_store(
            &chain,
            &net.store,
            &net.market,
            req,
            net.index,
            cal.as_deref(),
            quant_data::quality::QualityConfig::default(),
        ));
        bar.inc(1);
        match r {
            Ok(o) => {
                let line = format!(
                    "{}: {} bars {}..{} from {}{}; {} stored in {}{}",
                    o.symbol,
                    o.fetched,
                    req.start,
                    req.end,
                    o.provider,
                    if o.failed.is_empty() {
                        String::new()
                    } else {
                        let f: Vec<String> =
                            o.failed.iter().map(|(p, e)| format!("{p}: {e}")).collect();
                        format!(" (after {})", f.join("; "))
                    },
                    o.stored,
                    o.path.display(),
                    if o.quarantined > 0 {
                        format!(", {} quarantined", o.quarantined)
                    } else {
                        String::new()
                    }
                );
                // println on the bar is silent when stdout is not a terminal
                bar.suspend(|| println!("{line}"));
                report.extend(o.report);
            }
            Err(e) => {
                bar.suspend(|| println!("{}: failed: {e}", req.symbol));
                failures.push(req.symbol.clone());
            }
        }
    }
    bar.finish_and_clear();
    print!("{}", report.render());
    if failures.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "{} of {} symbols failed: {}",
            failures.len(),
            requests.len(),
            failures.join(", ")
        ))
    }
}

/// `update`: an incremental request per symbol (all stored ones by default).
fn update(net: &Net, symbols: Vec<String>, since: chrono::NaiveDate) -> anyhow::Result<()> {
    let symbols = if symbols.is_empty() {
        quant_providers::update::stored_symbols(&net.store, &net.market, net.index)?
    } else {
        symbols
    };
    anyhow::ensure!(
        !symbols.is_empty(),
        "nothing stored for market {} in {}; name symbols with --symbol",
        net.market,
        net.store.display()
    );
    let today = chrono::Utc::now().date_naive();
    let mut reqs = Vec::new();
    for s in &symbols {
        match quant_providers::update::incremental_request(
            &net.store,
            &net.market,
            s,
            net.index,
            since,
            today,
        )? {
            Some(r) => reqs.push(r),
            None => println!("{s}: up to date"),
        }
    }
    if reqs.is_empty() {
        return Ok(());
    }
    fetch(net, reqs)
}

/// `validate`: the quality report of every bar file under `input`; `true`
/// when some row fails hard.
fn validate(input: &Path, cal: Option<&Path>) -> anyhow::Result<bool> {
    let cal = calendar(cal)?;
    let files = if input.is_dir() {
        let mut f = quant_data::store::files_with_extension(input, "parquet")?;
        f.extend(quant_data::store::files_with_extension(input, "csv")?);
        f
    } else {
        vec![input.to_path_buf()]
    };
    let rules = quant_core::MarketRules::new(quant_core::RuleSet::CnA);
    let mut report = quant_data::quality::QualityReport::default();
    for f in &files {
        let s = if f.extension().is_some_and(|e| e == "csv") {
            quant_data::csv_io::read_csv_unchecked(f)?
        } else {
            quant_data::load_series(f)?
        };
        let symbol = s.symbol.clone();
        let inst = symbol
            .clone()
            .and_then(|sym| quant_core::Instrument::infer(sym, false).ok())
            .filter(quant_core::Instrument::is_cn);
        let ctx = quant_data::quality::CheckContext {
            instrument: inst.as_ref(),
            rules: inst.as_ref().map(|_| &rules),
            calendar: cal.as_deref(),
            config: quant_data::quality::QualityConfig::default(),
        };
        let bars: Vec<_> = (0..s.len()).map(|i| s.bar(i)).collect();
        let name = symbol.map_or_else(|| f.display().to_string(), |s| s.as_str().to_string());
        report.extend(quant_data::quality::check_series(&name, &bars, &ctx).report);
    }
    println!("{} files checked", files.len());
    print!("{}", report.render());
    Ok(report.hard() > 0)
}

/// `list`: one line per stored series.
fn list(store: &Path) -> anyhow::Result<()> {
    let files = quant_data::store::files_with_extension(store, "parquet")?;
    println!(
        "{:<8} {:<6} {:<12} {:>7}  {:<10}  {:<10}",
        "market", "kind", "symbol", "rows", "first", "last"
    );
    for f in &files {
        let rel = f.strip_prefix(store).unwrap_or(f);
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if parts.first().is_some_and(|p| p == "quarantine") {
            continue;
        }
        let s = quant_data::load_series(f)?;
        let (market, kind) = match parts.as_slice() {
            [m, k, _] => (m.as_str(), k.as_str()),
            _ => ("", ""),
        };
        let day = |d: Option<&chrono::NaiveDate>| d.map_or_else(String::new, ToString::to_string);
        println!(
            "{market:<8} {kind:<6} {:<12} {:>7}  {:<10}  {:<10}",
            s.symbol.as_ref().map_or("", |s| s.as_str()),
            s.len(),
            day(s.dates.first()),
            day(s.dates.last())
        );
    }
    println!("{} series", files.len());
    Ok(())
}

/// `export`: one stored series, sliced and adjusted, to CSV or Parquet.
#[allow(clippy::too_many_arguments)]
fn export(
    store: &Path,
    market: &str,
    symbol: &str,
    index: bool,
    range: (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
    adjust: quant_data::Adjust,
    out: &Path,
) -> anyhow::Result<()> {
    let path = quant_providers::update::stored_path(store, market, symbol, index);
    anyhow::ensure!(
        path.is_file(),
        "{} is not stored ({} does not exist)",
        symbol,
        path.display()
    );
    let s = quant_data::load_series(&path)?;
    let s = s.slice_dates(
        range.0.unwrap_or(chrono::NaiveDate::MIN),
        range.1.unwrap_or(chrono::NaiveDate::MAX),
    );
    let s = s.adjusted(adjust);
    if out.extension().is_some_and(|e| e == "parquet") {
        quant_data::parquet_io::write_parquet(out, &s)?;
    } else {
        quant_data::csv_io::write_csv(out, &s)?;
    }
    println!(
        "wrote {} bars of {symbol} ({adjust:?}) to {}",
        s.len(),
        out.display()
    );
    Ok(())
}

/// `indicators`: parse every spec first (a bad one fails before any work),
/// compute, write.
fn indicators(input: &Path, specs: &[String], out: &Path) -> anyhow::Result<()> {
    let parsed = specs
        .iter()
        .map(|s| quant_indicators::parse_spec(s))
        .collect::<Result<Vec<_>, _>>()?;
    let bars = quant_data::load_series(input)?;
    let cols = quant_indicators::spec::Columns {
        open: Some(&bars.open),
        high: Some(&bars.high),
        low: Some(&bars.low),
        close: Some(&bars.close),
        volume: Some(&bars.volume),
    };
    let mut table = Vec::new();
    for spec in &parsed {
        let computed = spec.compute(&cols).with_context(|| {
            format!("{}: {spec_text}", input.display(), spec_text = spec.text())
        })?;
        table.extend(computed);
    }
    quant_data::write_table(out, &bars.dates, &table)?;
    println!(
        "wrote {} columns × {} rows to {}",
        table.len(),
        bars.dates.len(),
        out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Import { input, store } => {
            let started = Instant::now();
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("validating [{bar:40}] {pos}/{len} files")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let r = quant_data::import_csv_dir(&input, &store, |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            });
            bar.finish_and_clear();
            r.map_err(anyhow::Error::from).map(|rep| {
                println!(
                    "imported {} files, {} bars into {} in {:.2?}",
                    rep.files.len(),
                    rep.rows,
                    store.display(),
                    started.elapsed()
                );
            })
        }
        Cmd::Fetch {
            net,
            symbols,
            start,
            end,
        } => {
            let end = end.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let reqs = symbols
                .into_iter()
                .map(|symbol| quant_providers::BarRequest { symbol, start, end })
                .collect();
            fetch(&net, reqs)
        }
        Cmd::Update {
            net,
            symbols,
            since,
        } => update(&net, symbols, since),
        Cmd::Validate { input, calendar } => match validate(&input, calendar.as_deref()) {
            Ok(true) => return ExitCode::from(1),
            other => other.map(|_| ()),
        },
        Cmd::List { store } => list(&store),
        Cmd::Export {
            market,
            symbol,
            out,
            adjust,
            start,
            end,
            index,
            store,
        } => export(&store, &market, &symbol, index, (start, end), adjust, &out),
        Cmd::Indicators { list: true, .. } => {
            for line in quant_indicators::available() {
                println!("{line}");
            }
            Ok(())
        }
        Cmd::Indicators {
            input: Some(input),
            specs,
            out: Some(out),
            ..
        } => indicators(&input, &specs, &out),
        Cmd::Indicators { .. } => Err(anyhow::anyhow!(
            "indicators needs --input, --spec and --out"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
