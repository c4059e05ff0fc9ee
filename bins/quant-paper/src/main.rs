//! `quant-paper`: paper trading sessions on the one engine.
//!
//! ```text
//! quant-paper run --config FILE [--strategy FILE] --state DIR --replay --from YYYY-MM-DD --to YYYY-MM-DD [--speed max|N]
//! quant-paper run --state DIR                      # resume the session in DIR
//! quant-paper status --state DIR [--json]
//! quant-paper export --state DIR --out OUT         # trades.csv, orders.csv, equity.csv as quant-backtest writes them
//! quant-paper report --state DIR --out OUT [--date YYYY-MM-DD]   # the daily report: HTML, JSON, Markdown
//! ```
//! SIGINT/SIGTERM stop a session between two trading days, after a
//! snapshot; `run --state DIR` goes on from there. A SIGKILL loses nothing
//! either: every event and command is in the journal before it takes
//! effect, and the resumed session re-runs from the last snapshot
//! (docs/paper.md).
//!
//! Exit codes: 0 success (finished, or stopped on request); 2 an error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use quant_cli::outln;
use quant_runtime::paper::{self, Observer, Outcome, Speed, StartOptions};

#[derive(Parser, Debug)]
#[command(
    name = "quant-paper",
    version,
    about = "Paper trading on the one engine: replay, resume, status, export"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    #[command(flatten)]
    log: quant_cli::LogArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Start a session (--config) or resume the one in --state.
    Run(RunArgs),
    /// Mode, equity, cash, positions, working orders, last_seq, health.
    Status(StatusArgs),
    /// trades.csv, orders.csv and equity.csv in exactly quant-backtest's format.
    Export(ExportArgs),
    /// The daily report of a day (default: the last): report-DATE.html, .json, .md.
    Report(ReportArgs),
}

#[derive(clap::Args, Debug)]
struct ReportArgs {
    /// The session's state dir.
    #[arg(long)]
    state: PathBuf,
    /// Folder to write the report to.
    #[arg(long)]
    out: PathBuf,
    /// The trading day (YYYY-MM-DD; default: the session's last).
    #[arg(long)]
    date: Option<NaiveDate>,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The run config of a new session (omit to resume the one in --state).
    #[arg(long)]
    config: Option<PathBuf>,
    /// A declarative strategy file to run instead of the config's strategy.
    #[arg(long, requires = "config")]
    strategy: Option<PathBuf>,
    /// The session's state dir (journal, config copy, reports).
    #[arg(long)]
    state: PathBuf,
    /// Replay stored history instead of trading on the wall clock.
    #[arg(long, requires = "config")]
    replay: bool,
    /// First day of the replay (YYYY-MM-DD; default: the config's start).
    #[arg(long, requires = "replay")]
    from: Option<NaiveDate>,
    /// Last day of the replay (YYYY-MM-DD; default: the config's end).
    #[arg(long, requires = "replay")]
    to: Option<NaiveDate>,
    /// Replay speed: max, or N time steps a second.
    #[arg(long, default_value = "max", requires = "replay")]
    speed: String,
    /// No progress line on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args, Debug)]
struct StatusArgs {
    /// The session's state dir.
    #[arg(long)]
    state: PathBuf,
    /// One JSON object (keys mode, status, equity, cash, positions, working_orders, last_seq, health…).
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct ExportArgs {
    /// The session's state dir.
    #[arg(long)]
    state: PathBuf,
    /// Folder to write the files to.
    #[arg(long)]
    out: PathBuf,
}

/// A progress line every 50 days on stderr.
struct Progress {
    quiet: bool,
}

impl Observer for Progress {
    fn day(&mut self, day: NaiveDate, done: usize, total: usize, seq: u64) {
        if !self.quiet && (done.is_multiple_of(50) || done == total) {
            eprintln!("{day}: day {done} of {total}, journal seq {seq}");
        }
    }
}

fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing the signal handler")?;
    }
    let opts = StartOptions {
        state: a.state.clone(),
        config: a.config,
        strategy: a.strategy,
        replay: a.replay,
        from: a.from,
        to: a.to,
        speed: Speed::parse(&a.speed)?,
    };
    let outcome = paper::run(&opts, &stop, &mut Progress { quiet: a.quiet })?;
    match outcome {
        Outcome::Finished { days } => {
            outln!(
                "finished: {days} trading days; state in {}",
                a.state.display()
            );
        }
        Outcome::Stopped { days } => {
            outln!(
                "stopped after {days} trading days; resume with: quant-paper run --state {}",
                a.state.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status(a: StatusArgs) -> anyhow::Result<ExitCode> {
    let st = paper::status(&a.state)?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&st)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!("session   {} ({}, {})", st.session_id, st.mode, st.status);
    outln!("strategy  {}", st.strategy);
    outln!(
        "air-gapped {}",
        if st.air_gapped {
            "yes (during sessions only allow_hosts are reached)"
        } else {
            "no"
        }
    );
    match (st.date, st.equity, &st.cash) {
        (Some(d), Some(e), Some(c)) => {
            outln!("as of     {d} (day {})", st.days);
            outln!("equity    {e:.2}");
            outln!("cash      {c}");
        }
        _ => outln!("no trading day yet"),
    }
    outln!("positions {}", st.positions.len());
    for p in &st.positions {
        outln!(
            "  {:<12} {:>12} (sellable {}) {}",
            p.symbol,
            p.quantity,
            p.sellable,
            p.value.map(|v| format!("{v:.2}")).unwrap_or_default()
        );
    }
    outln!("working orders {}", st.working_orders);
    outln!("last_seq  {}", st.last_seq);
    outln!("journal   {}", st.journal);
    outln!(
        "health    {} alert deliveries pending, {} given up, read model {} entries behind",
        st.health.undelivered_alerts,
        st.health.failed_alerts,
        st.health.read_model_lag
    );
    Ok(ExitCode::SUCCESS)
}

fn export(a: ExportArgs) -> anyhow::Result<ExitCode> {
    for p in paper::export(&a.state, &a.out)? {
        outln!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn report(a: ReportArgs) -> anyhow::Result<ExitCode> {
    for p in paper::report(&a.state, &a.out, a.date)? {
        outln!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    quant_cli::init_tracing(cli.log.log_format);
    let result = match cli.cmd {
        Cmd::Run(a) => run(a),
        Cmd::Status(a) => status(a),
        Cmd::Export(a) => export(a),
        Cmd::Report(a) => report(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => quant_cli::fail(cli.log.log_format, e.as_ref()),
    }
}
