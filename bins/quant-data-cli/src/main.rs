//! `quant-data`: market-data chores.
//!
//! ```text
//! quant-data import --input CSV_DIR --store STORE_DIR
//! quant-data fetch --market cn --symbol 600519.SH --start 2020-01-01 [--end DATE] [--index]
//!                  [--store store] [--config config/data.toml] [--calendar BARS.csv] [--offline]
//!                  [--cross-check] [--catalog URL]
//! quant-data update --market cn [--symbol S …] [--since 2005-01-01] [--store store] [--offline]
//! quant-data validate --input FILE_OR_DIR [--calendar BARS.csv]
//! quant-data list [--store store]
//! quant-data export --market cn --symbol 600519.SH --out OUT.csv|.parquet
//!                   [--adjust none|forward|backward] [--start DATE] [--end DATE] [--index] [--store store]
//! quant-data indicators --input BARS.csv --spec 'RSI(14)' --spec 'MACD(12,26,9)' --out OUT.csv
//! quant-data indicators --list
//! quant-data catalog status|history|quality [--store store] [--catalog URL] [--symbol S]
//! quant-data catalog fetch --market cn --what stocks|calendar|adj-factors|fundamentals [--symbol S …]
//! quant-data backup --out FILE.tar.zst [--store store]
//! quant-data restore --archive FILE.tar.zst [--store store] [--replace]
//! ```
//! `import` converts every daily-bar CSV or Parquet file under `CSV_DIR` into
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
//! Every fetch is recorded in the SQL catalog (`--catalog URL`; default
//! `sqlite:STORE/catalog.sqlite`): `update_history` and its issues in
//! `quality_log`. `catalog fetch` brings reference data (stock list,
//! calendar, adj factors, daily valuation) into it. `backup` archives the
//! store with a consistent catalog snapshot; `restore` validates every bar
//! file before it moves the store into place.
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
    /// Import a folder of daily-bar files (CSV or Parquet) into a Parquet store.
    Import {
        /// Folder of CSV and/or Parquet bar files (searched recursively).
        #[arg(long)]
        input: PathBuf,
        /// Store folder (created if missing).
        #[arg(long)]
        store: PathBuf,
        /// Bars whose dates are the exchange's trading days (gap check), e.g. an index file.
        #[arg(long)]
        calendar: Option<PathBuf>,
    },
    /// Fetch daily bars from the configured providers into the store.
    Fetch {
        #[command(flatten)]
        net: Net,
        /// Symbols, e.g. 600519.SH; repeat for more (or --universe FILE).
        #[arg(long = "symbol", required_unless_present = "universe")]
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
    /// Catalog chores: status, update history, quality log, reference data.
    #[command(subcommand)]
    Catalog(CatalogCmd),
    /// Archive the whole store (bars, quarantine, a catalog snapshot) into one .tar.zst.
    Backup {
        /// Store folder.
        #[arg(long, default_value = "store")]
        store: PathBuf,
        /// The archive to write.
        #[arg(long)]
        out: PathBuf,
        /// The catalog to snapshot when it is not STORE/catalog.sqlite.
        #[arg(long)]
        catalog: Option<String>,
    },
    /// Restore a store from a backup archive (every bar file is validated first).
    Restore {
        /// The archive.
        #[arg(long)]
        archive: PathBuf,
        /// Store folder to restore into.
        #[arg(long, default_value = "store")]
        store: PathBuf,
        /// Keep an existing store aside as STORE.replaced-<time> and restore.
        #[arg(long)]
        replace: bool,
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
    /// A file of symbols to work on (one per line, `#` comments; or a CSV
    /// with a `symbol` column such as fixtures/cn/meta/instruments.csv),
    /// added to any --symbol.
    #[arg(long)]
    universe: Option<PathBuf>,
    /// Ask a second provider of the chain for the same bars and report
    /// where it disagrees with what was stored (dates, closes beyond 0.5 %).
    #[arg(long)]
    cross_check: bool,
    /// SQL catalog (update history, quality log): sqlite:PATH or
    /// postgres://…; default sqlite:STORE/catalog.sqlite.
    #[arg(long)]
    catalog: Option<String>,
}

/// Where the SQL catalog is.
#[derive(clap::Args, Debug)]
struct CatalogAt {
    /// Store folder (the default catalog is STORE/catalog.sqlite).
    #[arg(long, default_value = "store")]
    store: PathBuf,
    /// sqlite:PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long)]
    catalog: Option<String>,
}

/// `catalog` subcommands.
#[derive(Subcommand, Debug)]
enum CatalogCmd {
    /// Row counts of every catalog table.
    Status {
        #[command(flatten)]
        at: CatalogAt,
    },
    /// The newest fetches: who served, rows, outcome.
    History {
        #[command(flatten)]
        at: CatalogAt,
        /// Only this symbol.
        #[arg(long)]
        symbol: Option<String>,
        /// How many rows.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Logged data-quality issues.
    Quality {
        #[command(flatten)]
        at: CatalogAt,
        /// Only this symbol.
        #[arg(long)]
        symbol: Option<String>,
        /// Only this rule (bad_row, duplicate, gap, zero_volume, limit_breach, stale_price, disagreement).
        #[arg(long)]
        rule: Option<String>,
    },
    /// Fetch reference data into the catalog through the market's providers.
    Fetch {
        #[command(flatten)]
        net: Net,
        /// stocks (instrument list), calendar, adj-factors or fundamentals.
        #[arg(long)]
        what: Reference,
        /// Exchange for the calendar (SSE, SZSE, BSE).
        #[arg(long, default_value = "SSE")]
        exchange: String,
        /// Symbols for adj-factors and fundamentals; repeat for more.
        #[arg(long = "symbol")]
        symbols: Vec<String>,
        /// First date.
        #[arg(long, default_value = "2005-01-01")]
        start: chrono::NaiveDate,
        /// Last date; today (UTC) when absent.
        #[arg(long)]
        end: Option<chrono::NaiveDate>,
    },
}

/// Reference data `catalog fetch` can bring in.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Reference {
    /// The instrument list (listed, delisted, paused).
    Stocks,
    /// The exchange's trading calendar.
    Calendar,
    /// Cumulative adjustment factors.
    AdjFactors,
    /// Daily valuation figures (PE, PB, market cap, turnover).
    Fundamentals,
}

/// Symbols of a universe file: one per line (blank lines and `#`
/// comments skipped), or the `symbol` column of a CSV with a header.
fn universe(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the universe file {}", path.display()))?;
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let Some(first) = lines.next() else {
        anyhow::bail!("{}: no symbols", path.display());
    };
    let header: Vec<&str> = first.split(',').map(str::trim).collect();
    let out: Vec<String> = if let Some(col) = header.iter().position(|h| *h == "symbol") {
        lines
            .enumerate()
            .map(|(i, l)| {
                l.split(',')
                    .nth(col)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .with_context(|| format!("{}:{}: no symbol", path.display(), i + 2))
            })
            .collect::<anyhow::Result<_>>()?
    } else {
        std::iter::once(first)
            .chain(lines)
            .map(str::to_string)
            .collect()
    };
    Ok(out)
}

/// `--symbol`s plus the `--universe` file's, in order, without repeats.
fn symbols_of(net: &Net, symbols: Vec<String>) -> anyhow::Result<Vec<String>> {
    let mut all = symbols;
    if let Some(u) = &net.universe {
        all.extend(universe(u)?);
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|s| seen.insert(s.clone()));
    Ok(all)
}

/// The catalog URL: `--catalog`, else `sqlite:STORE/catalog.sqlite`.
fn catalog_url(store: &Path, catalog: Option<&str>) -> String {
    catalog.map_or_else(
        || format!("sqlite:{}", store.join("catalog.sqlite").display()),
        str::to_string,
    )
}

/// Opens the catalog (creating the store folder for the default SQLite
/// file).
async fn open_catalog(
    store: &Path,
    catalog: Option<&str>,
) -> anyhow::Result<quant_catalog::Catalog> {
    if catalog.is_none() {
        std::fs::create_dir_all(store)
            .with_context(|| format!("creating the store folder {}", store.display()))?;
    }
    Ok(quant_catalog::Catalog::connect(&catalog_url(store, catalog)).await?)
}

fn current_thread() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
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
    let rt = current_thread()?;
    let catalog = rt.block_on(open_catalog(&net.store, net.catalog.as_deref()))?;
    let kind = if net.index { "index" } else { "daily" };
    let bar = ProgressBar::new(requests.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("fetching [{bar:40}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut report = quant_data::quality::QualityReport::default();
    let mut failures = Vec::new();
    for req in &requests {
        bar.set_message(req.symbol.clone());
        let started = chrono::Utc::now();
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
        let mut rec = quant_catalog::UpdateRecord {
            id: 0,
            started_at: started,
            finished_at: chrono::Utc::now(),
            market: net.market.clone(),
            kind: kind.to_string(),
            symbol: req.symbol.clone(),
            requested_start: req.start,
            requested_end: req.end,
            provider: None,
            status: quant_catalog::UpdateStatus::Failed,
            rows_fetched: 0,
            rows_stored: 0,
            rows_quarantined: 0,
            last_date: None,
            message: String::new(),
        };
        match r {
            Ok(mut o) => {
                if net.cross_check {
                    let second = rt.block_on(quant_providers::update::cross_check(
                        &chain,
                        &o.provider,
                        &net.store,
                        &net.market,
                        req,
                        net.index,
                        quant_data::quality::QualityConfig::default(),
                    ))?;
                    let line = match second {
                        Some((who, rep)) => {
                            let line = format!(
                                "{}: cross-checked against {who}: {} disagreements",
                                req.symbol,
                                rep.issues.len()
                            );
                            o.report.extend(rep);
                            line
                        }
                        None => format!("{}: no second provider answered", req.symbol),
                    };
                    bar.suspend(|| println!("{line}"));
                }
                rec.provider = Some(o.provider.clone());
                rec.status = quant_catalog::UpdateStatus::Ok;
                rec.rows_fetched = o.fetched as u64;
                rec.rows_stored = o.stored as u64;
                rec.rows_quarantined = o.quarantined as u64;
                rec.last_date = o.last_date;
                rec.message = o
                    .failed
                    .iter()
                    .map(|(p, e)| format!("{p}: {e}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                rt.block_on(catalog.record_update(&rec, &o.report.issues))?;
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
                rec.message = e.to_string();
                rt.block_on(catalog.record_update(&rec, &[]))?;
                failures.push(req.symbol.clone());
            }
        }
    }
    bar.finish_and_clear();
    rt.block_on(catalog.close());
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

/// `update`: an incremental request per symbol (`--symbol`s and the
/// `--universe` file's; all stored ones by default).
fn update(net: &Net, symbols: Vec<String>, since: chrono::NaiveDate) -> anyhow::Result<()> {
    let symbols = symbols_of(net, symbols)?;
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

/// The quality pipeline's report over bar files (CSV read without the row
/// rules, so that bad rows are reported rather than fatal; Parquet).
fn quality_report(
    files: &[PathBuf],
    cal: Option<&[chrono::NaiveDate]>,
) -> anyhow::Result<quant_data::quality::QualityReport> {
    let mut report = quant_data::quality::QualityReport::default();
    for f in files {
        let s = if f.extension().is_some_and(|e| e == "csv") {
            quant_data::csv_io::read_csv_unchecked(f)?
        } else {
            quant_data::load_series(f)?
        };
        let name = s
            .symbol
            .as_ref()
            .map_or_else(|| f.display().to_string(), |s| s.as_str().to_string());
        // store and shared/data layout: indices live under an `index` folder
        // (no price limit applies to them); SSE index codes 000xxx.SH and
        // SZSE 399xxx.SZ are no stock's
        let is_index = f.components().any(|c| c.as_os_str() == "index")
            || (name.starts_with("000") && name.ends_with(".SH"))
            || (name.starts_with("399") && name.ends_with(".SZ"));
        let bars: Vec<_> = (0..s.len()).map(|i| s.bar(i)).collect();
        let config = quant_data::quality::QualityConfig::default();
        report
            .extend(quant_data::quality::check_symbol(&name, is_index, &bars, cal, config).report);
    }
    Ok(report)
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
    let report = quality_report(&files, cal.as_deref())?;
    println!("{} files checked", files.len());
    print!("{}", report.render());
    Ok(report.hard() > 0)
}

/// `import`: every CSV under `input` into `store` (all or nothing), then
/// the quality pipeline's warnings over what was imported.
fn import(input: &Path, store: &Path, cal: Option<&Path>) -> anyhow::Result<()> {
    let cal = calendar(cal)?;
    let started = Instant::now();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("validating [{bar:40}] {pos}/{len} files")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let r = quant_data::import_dir(input, store, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let rep = r?;
    println!(
        "imported {} files, {} bars into {} in {:.2?}",
        rep.files.len(),
        rep.rows,
        store.display(),
        started.elapsed()
    );
    // rows failing the row rules already failed the import: what is left
    // are warnings (gaps, suspensions, limit breaches, stale prices)
    let written: Vec<PathBuf> = rep.files.iter().map(|f| store.join(f)).collect();
    print!("{}", quality_report(&written, cal.as_deref())?.render());
    Ok(())
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

/// `catalog …`.
fn catalog_cmd(cmd: CatalogCmd) -> anyhow::Result<()> {
    let rt = current_thread()?;
    match cmd {
        CatalogCmd::Status { at } => rt.block_on(async {
            let c = open_catalog(&at.store, at.catalog.as_deref()).await?;
            let n = c.counts().await?;
            println!("catalog {}", c.url());
            println!("instruments      {:>9}", n.instruments);
            println!("trading_calendar {:>9}", n.calendar_days);
            println!("adj_factors      {:>9}", n.adj_factors);
            println!("fundamentals     {:>9}", n.fundamentals);
            println!("update_history   {:>9}", n.updates);
            println!("quality_log      {:>9}", n.quality_issues);
            c.close().await;
            Ok(())
        }),
        CatalogCmd::History { at, symbol, limit } => rt.block_on(async {
            let c = open_catalog(&at.store, at.catalog.as_deref()).await?;
            let rows = c.update_history(symbol.as_deref(), limit).await?;
            println!(
                "{:>5}  {:<20}  {:<6} {:<6} {:<12} {:<10} {:<6} {:>7} {:>7} {:>5}  {:<10}  note",
                "id",
                "started (UTC)",
                "market",
                "kind",
                "symbol",
                "provider",
                "status",
                "fetched",
                "stored",
                "quar",
                "last"
            );
            for u in &rows {
                println!(
                    "{:>5}  {:<20}  {:<6} {:<6} {:<12} {:<10} {:<6} {:>7} {:>7} {:>5}  {:<10}  {}",
                    u.id,
                    u.started_at.format("%Y-%m-%d %H:%M:%S"),
                    u.market,
                    u.kind,
                    u.symbol,
                    u.provider.as_deref().unwrap_or("-"),
                    u.status.name(),
                    u.rows_fetched,
                    u.rows_stored,
                    u.rows_quarantined,
                    u.last_date
                        .map_or_else(|| "-".to_string(), |d| d.to_string()),
                    u.message
                );
            }
            c.close().await;
            Ok(())
        }),
        CatalogCmd::Quality { at, symbol, rule } => {
            let rule = rule
                .map(|r| {
                    quant_data::quality::Rule::from_name(&r).ok_or_else(|| {
                        let names: Vec<&str> = quant_data::quality::Rule::ALL
                            .iter()
                            .map(|r| r.name())
                            .collect();
                        anyhow::anyhow!("unknown rule `{r}`; rules: {}", names.join(", "))
                    })
                })
                .transpose()?;
            rt.block_on(async {
                let c = open_catalog(&at.store, at.catalog.as_deref()).await?;
                let log = c.quality_log(symbol.as_deref(), rule).await?;
                for e in &log {
                    println!(
                        "{}  {:<12} {:<13} {}  {}{}",
                        e.recorded_at.format("%Y-%m-%d %H:%M:%S"),
                        e.issue.symbol,
                        e.issue.rule.name(),
                        e.issue.date,
                        e.issue.detail,
                        e.update_id
                            .map_or_else(String::new, |id| format!("  (update {id})"))
                    );
                }
                println!("{} issues", log.len());
                c.close().await;
                Ok(())
            })
        }
        CatalogCmd::Fetch {
            net,
            what,
            exchange,
            symbols,
            start,
            end,
        } => {
            let end = end.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let cfg = quant_providers::DataConfig::from_file(&net.config)?;
            let chain = cfg.chain(&net.market, net.offline)?;
            let symbols = symbols_of(&net, symbols)?;
            rt.block_on(fetch_reference(
                &net,
                &chain,
                what,
                &exchange,
                &symbols,
                (start, end),
            ))
        }
    }
}

/// `catalog fetch`: reference data through the chain into the catalog.
async fn fetch_reference(
    net: &Net,
    chain: &quant_providers::Failover,
    what: Reference,
    exchange: &str,
    symbols: &[String],
    (start, end): (chrono::NaiveDate, chrono::NaiveDate),
) -> anyhow::Result<()> {
    let c = open_catalog(&net.store, net.catalog.as_deref()).await?;
    let served = |provider: &str, failed: &[(String, String)]| {
        if failed.is_empty() {
            format!("from {provider}")
        } else {
            let f: Vec<String> = failed.iter().map(|(p, e)| format!("{p}: {e}")).collect();
            format!("from {provider} (after {})", f.join("; "))
        }
    };
    match what {
        Reference::Stocks => {
            let s = chain.stock_list().await?;
            let n = c.upsert_instruments(&s.data).await?;
            println!("{n} instruments {}", served(&s.provider, &s.failed));
        }
        Reference::Calendar => {
            let s = chain.trading_calendar(exchange, start, end).await?;
            let n = c.upsert_calendar(exchange, &s.data).await?;
            let open = s.data.iter().filter(|d| d.is_open).count();
            println!(
                "{n} calendar days of {exchange} ({open} open) {}",
                served(&s.provider, &s.failed)
            );
        }
        Reference::AdjFactors | Reference::Fundamentals => {
            anyhow::ensure!(!symbols.is_empty(), "name symbols with --symbol");
            for symbol in symbols {
                let req = quant_providers::BarRequest {
                    symbol: symbol.clone(),
                    start,
                    end,
                };
                if matches!(what, Reference::AdjFactors) {
                    let s = chain.adj_factors(&req).await?;
                    let n = c.upsert_adj_factors(symbol, &s.data).await?;
                    println!(
                        "{symbol}: {n} adj factors {}",
                        served(&s.provider, &s.failed)
                    );
                } else {
                    let s = chain.daily_basic(&req).await?;
                    let n = c.upsert_fundamentals(&s.data).await?;
                    println!(
                        "{symbol}: {n} daily valuation rows {}",
                        served(&s.provider, &s.failed)
                    );
                }
            }
        }
    }
    c.close().await;
    Ok(())
}

/// `backup`: the store with a consistent snapshot of its SQLite catalog.
fn backup(store: &Path, out: &Path, catalog: Option<&str>) -> anyhow::Result<()> {
    let started = Instant::now();
    let live = store.join("catalog.sqlite");
    let snapshot_dir = tempfile::tempdir()?;
    let snapshot = snapshot_dir.path().join("catalog.sqlite");
    let url = match catalog {
        Some(u) => Some(u.to_string()),
        None if live.is_file() => Some(catalog_url(store, None)),
        None => None,
    };
    let mut extra = Vec::new();
    if let Some(url) = url {
        let rt = current_thread()?;
        let snapped = rt.block_on(async {
            let c = quant_catalog::Catalog::connect(&url).await?;
            let r = if c.backend() == quant_catalog::Backend::Sqlite {
                c.snapshot_sqlite(&snapshot).await.map(|()| true)
            } else {
                Ok(false)
            };
            c.close().await;
            anyhow::Ok(r?)
        })?;
        if snapped {
            extra.push((PathBuf::from("catalog.sqlite"), snapshot.clone()));
        } else {
            println!(
                "note: the catalog is in PostgreSQL; back it up with pg_dump (not in this archive)"
            );
        }
    }
    let skip = |rel: &Path| {
        rel.to_str()
            .is_some_and(|r| r == "catalog.sqlite" || r.starts_with("catalog.sqlite-"))
    };
    let rep = quant_data::backup::backup(store, out, skip, &extra)?;
    println!(
        "backed up {} files ({} bytes) of {} into {} ({} bytes) in {:.2?}",
        rep.files,
        rep.bytes,
        store.display(),
        out.display(),
        rep.archive_bytes,
        started.elapsed()
    );
    Ok(())
}

/// `restore`.
fn restore(archive: &Path, store: &Path, replace: bool) -> anyhow::Result<()> {
    let rep = quant_data::backup::restore(archive, store, replace)?;
    println!(
        "restored {} files ({} series, {} bars, all validated) into {}",
        rep.files,
        rep.series,
        rep.rows,
        store.display()
    );
    if let Some(old) = rep.replaced {
        println!("the previous store is kept at {}", old.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Import {
            input,
            store,
            calendar,
        } => import(&input, &store, calendar.as_deref()),
        Cmd::Fetch {
            net,
            symbols,
            start,
            end,
        } => {
            let end = end.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let reqs = match symbols_of(&net, symbols) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return ExitCode::from(2);
                }
            };
            let reqs = reqs
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
        Cmd::Catalog(c) => catalog_cmd(c),
        Cmd::Backup {
            store,
            out,
            catalog,
        } => backup(&store, &out, catalog.as_deref()),
        Cmd::Restore {
            archive,
            store,
            replace,
        } => restore(&archive, &store, replace),
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
