//! `quant-data`: market-data chores.
//!
//! ```text
//! quant-data import --input CSV_DIR --store STORE_DIR
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
//! Exit codes: 0 success, 2 error.

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
