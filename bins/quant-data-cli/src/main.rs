//! `quant-data`: market-data chores.
//!
//! ```text
//! quant-data import --input CSV_DIR --store STORE_DIR
//! ```
//! `import` converts every daily-bar CSV under `CSV_DIR` into
//! `STORE_DIR/<same relative path>.parquet`, validating every row first; a
//! bad row fails the import naming file, line and reason, and leaves the store
//! as it was. Exit codes: 0 success, 2 error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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
            r.map(|rep| {
                println!(
                    "imported {} files, {} bars into {} in {:.2?}",
                    rep.files.len(),
                    rep.rows,
                    store.display(),
                    started.elapsed()
                );
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
