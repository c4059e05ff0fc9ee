//! `quant-data`: market-data chores.
//!
//! ```text
//! quant-data import --input CSV_DIR --store STORE_DIR [--replace] [--strict]
//! quant-data fetch --market cn --symbol 600519.SH --start 2020-01-01 [--end DATE] [--index] [--replace]
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
//! `STORE_DIR/<same relative path>.parquet`, running the quality pipeline
//! over every file first: rows that break a row rule are quarantined
//! (`STORE/quarantine/…`, reported), or with `--strict` fail the import
//! naming file, line and reason. A file that would drop stored dates or
//! store an empty series is refused unless `--replace`.
//!
//! Every command that writes the store does so in one store-level commit
//! (`quant_data::commit`): killed at any point, the store reads as before
//! the command or, once next opened, as after it; never a mix. The
//! catalog's rows of a command are written in one transaction after the
//! store's commit (see docs/RELIABILITY.md).
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
//! Logs go to stderr, filtered by `RUST_LOG` (default `warn`), as text or
//! JSON (`--log-format json`). Output to a closed pipe stops quietly.
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
use quant_cli::{out, outln};

#[derive(Parser, Debug)]
#[command(
    name = "quant-data",
    version,
    about = "Market data: import, validation and storage"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    #[command(flatten)]
    log: quant_cli::LogArgs,
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
        /// Replace stored series even when the new file lacks stored dates or is empty.
        #[arg(long)]
        replace: bool,
        /// Fail on the first row that breaks a row rule instead of quarantining it.
        #[arg(long)]
        strict: bool,
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
        /// Replace each stored series by what is fetched (it may then lose
        /// dates) instead of merging; an empty result is stored too.
        #[arg(long)]
        replace: bool,
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
    use std::io::Read;
    const MAX: u64 = 16 << 20;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX + 1).read_to_string(&mut text))
        .with_context(|| format!("reading the universe file {}", path.display()))?;
    anyhow::ensure!(
        text.len() as u64 <= MAX,
        "{}: larger than {MAX} bytes: not a universe file",
        path.display()
    );
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

/// `--symbol`s plus the `--universe` file's, in order, each in its normal
/// form (`600519.sh` is `600519.SH`), without repeats.
///
/// # Errors
/// A text that is not a symbol (named, with the reason).
fn symbols_of(net: &Net, symbols: Vec<String>) -> anyhow::Result<Vec<String>> {
    let mut all = symbols;
    if let Some(u) = &net.universe {
        all.extend(universe(u)?);
    }
    let mut all: Vec<String> = all
        .into_iter()
        .map(|s| Ok(quant_core::Symbol::new(s)?.to_string()))
        .collect::<anyhow::Result<_>>()?;
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

/// `fetch` and `update`: one request per symbol through the market's
/// chain, all staged in one store transaction committed at the end (the
/// symbols that failed are simply not in it), then the command's catalog
/// rows in one transaction.
fn fetch(
    net: &Net,
    store: &quant_data::commit::Store,
    requests: Vec<quant_providers::BarRequest>,
    replace: bool,
) -> anyhow::Result<()> {
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
    let mut txn = store.begin()?;
    let mut records = Vec::with_capacity(requests.len());
    let mut report = quant_data::quality::QualityReport::default();
    let mut failures = Vec::new();
    for req in &requests {
        bar.set_message(req.symbol.clone());
        let started = chrono::Utc::now();
        let r = rt.block_on(quant_providers::update::fetch_into_store(
            &chain,
            &mut txn,
            &net.market,
            req,
            net.index,
            cal.as_deref(),
            quant_data::quality::QualityConfig::default(),
            replace,
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
                        &txn,
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
                    bar.suspend(|| outln!("{line}"));
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
                records.push((rec, o.report.issues.clone()));
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
                bar.suspend(|| outln!("{line}"));
                report.extend(o.report);
            }
            Err(e) => {
                let msg = quant_cli::report(&e);
                bar.suspend(|| outln!("{}: failed: {msg}", req.symbol));
                rec.message = msg;
                records.push((rec, Vec::new()));
                failures.push(req.symbol.clone());
            }
        }
    }
    bar.finish_and_clear();
    let committed = txn.commit()?;
    tracing::info!(
        generation = committed.generation,
        files = committed.files.len(),
        "store committed"
    );
    // after the store's commit: the history never claims what did not land
    rt.block_on(catalog.record_updates(&records))?;
    rt.block_on(catalog.close());
    out!("{}", report.render());
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
    // the writer lock first: what is stored cannot change under us
    let store = quant_data::commit::Store::open(&net.store)?;
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
            None => outln!("{s}: up to date"),
        }
    }
    if reqs.is_empty() {
        return Ok(());
    }
    fetch(net, &store, reqs, false)
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
        let is_index = quant_data::quality::is_index_path(f, &name);
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
    // a store is read at one generation
    let _read = quant_data::commit::read_lock(input)?;
    let files = if input.is_dir() {
        let mut f = quant_data::store::files_with_extension(input, "parquet")?;
        f.extend(quant_data::store::files_with_extension(input, "csv")?);
        f
    } else {
        vec![input.to_path_buf()]
    };
    let report = quality_report(&files, cal.as_deref())?;
    outln!("{} files checked", files.len());
    out!("{}", report.render());
    Ok(report.hard() > 0)
}

/// `import`: every bar file under `input` into `store` in one commit,
/// then the quality pipeline's report (quarantined rows and warnings).
fn import(
    input: &Path,
    store: &Path,
    cal: Option<&Path>,
    replace: bool,
    strict: bool,
) -> anyhow::Result<()> {
    let cal = calendar(cal)?;
    let started = Instant::now();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("validating [{bar:40}] {pos}/{len} files")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let options = quant_data::store::ImportOptions {
        replace,
        strict,
        calendar: cal.as_deref(),
        quality: quant_data::quality::QualityConfig::default(),
    };
    let r = quant_data::import_dir(input, store, &options, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let rep = r?;
    outln!(
        "imported {} files, {} bars into {} in {:.2?} (store generation {})",
        rep.files.len(),
        rep.rows,
        store.display(),
        started.elapsed(),
        rep.generation
    );
    if rep.quarantined > 0 {
        outln!(
            "{} rows quarantined (not stored; see {})",
            rep.quarantined,
            store.join("quarantine").display()
        );
    }
    out!("{}", rep.report.render());
    Ok(())
}

/// `list`: one line per stored series.
fn list(store: &Path) -> anyhow::Result<()> {
    let _read = quant_data::commit::read_lock(store)?;
    let files = quant_data::store::files_with_extension(store, "parquet")?;
    outln!(
        "{:<8} {:<6} {:<12} {:>7}  {:<10}  {:<10}",
        "market",
        "kind",
        "symbol",
        "rows",
        "first",
        "last"
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
        outln!(
            "{market:<8} {kind:<6} {:<12} {:>7}  {:<10}  {:<10}",
            s.symbol.as_ref().map_or("", |s| s.as_str()),
            s.len(),
            day(s.dates.first()),
            day(s.dates.last())
        );
    }
    outln!("{} series", files.len());
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
    let symbol = quant_core::Symbol::new(symbol)?.to_string();
    let symbol = symbol.as_str();
    let path = store.join(quant_providers::update::stored_rel(market, symbol, index)?);
    let _read = quant_data::commit::read_lock(store)?;
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
    outln!(
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
    outln!(
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
            outln!("catalog {}", c.url());
            outln!("instruments      {:>9}", n.instruments);
            outln!("trading_calendar {:>9}", n.calendar_days);
            outln!("adj_factors      {:>9}", n.adj_factors);
            outln!("fundamentals     {:>9}", n.fundamentals);
            outln!("update_history   {:>9}", n.updates);
            outln!("quality_log      {:>9}", n.quality_issues);
            c.close().await;
            Ok(())
        }),
        CatalogCmd::History { at, symbol, limit } => rt.block_on(async {
            let c = open_catalog(&at.store, at.catalog.as_deref()).await?;
            let rows = c.update_history(symbol.as_deref(), limit).await?;
            outln!(
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
                outln!(
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
                    outln!(
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
                outln!("{} issues", log.len());
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
            outln!("{n} instruments {}", served(&s.provider, &s.failed));
        }
        Reference::Calendar => {
            let s = chain.trading_calendar(exchange, start, end).await?;
            let n = c.upsert_calendar(exchange, &s.data).await?;
            let open = s.data.iter().filter(|d| d.is_open).count();
            outln!(
                "{n} calendar days of {exchange} ({open} open) {}",
                served(&s.provider, &s.failed)
            );
        }
        Reference::AdjFactors | Reference::Fundamentals => {
            anyhow::ensure!(!symbols.is_empty(), "name symbols with --symbol");
            // everything is fetched first, then written in one transaction:
            // the command lands whole or not at all
            let mut factors = Vec::new();
            let mut basics = Vec::new();
            for symbol in symbols {
                let req = quant_providers::BarRequest {
                    symbol: symbol.clone(),
                    start,
                    end,
                };
                if matches!(what, Reference::AdjFactors) {
                    let s = chain.adj_factors(&req).await?;
                    outln!(
                        "{symbol}: {} adj factors {}",
                        s.data.len(),
                        served(&s.provider, &s.failed)
                    );
                    factors.push((symbol.clone(), s.data));
                } else {
                    let s = chain.daily_basic(&req).await?;
                    outln!(
                        "{symbol}: {} daily valuation rows {}",
                        s.data.len(),
                        served(&s.provider, &s.failed)
                    );
                    basics.extend(s.data);
                }
            }
            let n = if matches!(what, Reference::AdjFactors) {
                c.upsert_adj_factors_of(&factors).await?
            } else {
                c.upsert_fundamentals(&basics).await?
            };
            outln!("{n} rows written to the catalog in one transaction");
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
            outln!(
                "note: the catalog is in PostgreSQL; back it up with pg_dump (not in this archive)"
            );
        }
    }
    let skip = |rel: &Path| {
        rel.to_str()
            .is_some_and(|r| r == "catalog.sqlite" || r.starts_with("catalog.sqlite-"))
    };
    let rep = quant_data::backup::backup(store, out, skip, &extra)?;
    outln!(
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
    outln!(
        "restored {} files ({} series, {} bars, all validated) into {}",
        rep.files,
        rep.series,
        rep.rows,
        store.display()
    );
    if let Some(old) = rep.replaced {
        outln!("the previous store is kept at {}", old.display());
    }
    Ok(())
}

/// `fetch`: the named symbols over one range.
fn fetch_cmd(
    net: &Net,
    symbols: Vec<String>,
    (start, end): (chrono::NaiveDate, Option<chrono::NaiveDate>),
    replace: bool,
) -> anyhow::Result<()> {
    let end = end.unwrap_or_else(|| chrono::Utc::now().date_naive());
    anyhow::ensure!(start <= end, "--start {start} is after --end {end}");
    let reqs = symbols_of(net, symbols)?
        .into_iter()
        .map(|symbol| quant_providers::BarRequest { symbol, start, end })
        .collect();
    let store = quant_data::commit::Store::open(&net.store)?;
    fetch(net, &store, reqs, replace)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    quant_cli::init_tracing(cli.log.log_format);
    let result = match cli.cmd {
        Cmd::Import {
            input,
            store,
            calendar,
            replace,
            strict,
        } => import(&input, &store, calendar.as_deref(), replace, strict),
        Cmd::Fetch {
            net,
            symbols,
            start,
            end,
            replace,
        } => fetch_cmd(&net, symbols, (start, end), replace),
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
                outln!("{line}");
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
        Err(e) => quant_cli::fail(cli.log.log_format, e.as_ref()),
    }
}
