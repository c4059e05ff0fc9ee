//! `quant-backtest`: runs a backtest config and writes its outputs.
//!
//! ```text
//! quant-backtest                                   # runs config/backtest.toml into out/backtest
//! quant-backtest run --config FILE [--out DIR] [--baseline FILE] [--write-baseline FILE]
//! ```
//! Exit codes: 0 success; 1 the run drifted from `--baseline`; 2 an error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use quant_backtest::baseline::Baseline;
use quant_backtest::report::{summary, write_outputs};
use quant_backtest::{BacktestConfig, BacktestResult, run_backtest};

#[derive(Parser, Debug)]
#[command(
    name = "quant-backtest",
    version,
    about = "Event-driven daily backtests with A-share market rules"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a backtest config.
    Run(RunArgs),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Backtest config (TOML).
    #[arg(long, default_value = "config/backtest.toml")]
    config: PathBuf,
    /// Output folder (default: out/<config file stem>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compare the summary with this baseline; exit 1 on drift.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Store the summary as a baseline here.
    #[arg(long)]
    write_baseline: Option<PathBuf>,
    /// Print nothing but errors and drifts.
    #[arg(long, short)]
    quiet: bool,
}

impl Default for RunArgs {
    fn default() -> Self {
        Self {
            config: "config/backtest.toml".into(),
            out: None,
            baseline: None,
            write_baseline: None,
            quiet: false,
        }
    }
}

fn print_table(res: &BacktestResult, out: &Path) {
    let m = &res.metrics;
    let pct = |x: f64| format!("{:>10.2}%", x * 100.0);
    let opt = |x: Option<f64>| x.map_or_else(|| format!("{:>11}", "–"), |v| format!("{v:>11.3}"));
    println!(
        "{} on {} instruments, {} .. {} ({} days)",
        res.config.strategy.name,
        res.instruments.len(),
        m.start,
        m.end,
        m.num_days
    );
    println!("  total return      {}", pct(m.total_return));
    println!("  CAGR              {}", pct(m.cagr));
    println!("  annual volatility {}", pct(m.annual_volatility));
    println!("  max drawdown      {}", pct(m.max_drawdown));
    println!("  Sharpe            {:>11.3}", m.sharpe);
    println!("  Sortino           {:>11.3}", m.sortino);
    println!("  Calmar            {:>11.3}", m.calmar);
    println!("  alpha             {}", opt(m.alpha));
    println!("  beta              {}", opt(m.beta));
    if let Some(b) = m.benchmark_total_return {
        println!("  benchmark return  {}", pct(b));
    }
    println!(
        "  trades            {:>11}   (rejected {}, cut {})",
        m.num_trades, m.num_rejected, m.num_cut
    );
    println!(
        "  win rate          {}",
        m.win_rate.map_or_else(|| format!("{:>11}", "–"), pct)
    );
    println!("  final equity      {:>11.2}", m.final_equity);
    println!("outputs in {}", out.display());
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let cfg = BacktestConfig::load(&args.config)?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("out").join(
            args.config
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    });
    let started = Instant::now();
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len} days ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(cfg.strategy.name.clone());
    let mut shown = args.quiet;
    let res = run_backtest(&cfg, |done, total| {
        if !shown && started.elapsed() > Duration::from_millis(300) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            shown = true;
        }
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .with_context(|| format!("backtest {}", args.config.display()))?;
    bar.finish_and_clear();
    write_outputs(&res, &out)?;
    if !args.quiet {
        print_table(&res, &out);
    }
    let summary = serde_json::to_value(summary(&res))?;
    if let Some(path) = &args.write_baseline {
        Baseline::from_summary(&summary).store(path)?;
        if !args.quiet {
            println!("baseline written to {}", path.display());
        }
    }
    if let Some(path) = &args.baseline {
        let drifts = Baseline::load(path)?.compare(&summary);
        if !drifts.is_empty() {
            eprintln!(
                "{} metric(s) drifted from baseline {}:",
                drifts.len(),
                path.display()
            );
            for d in &drifts {
                eprintln!("  {d}");
            }
            return Ok(ExitCode::from(1));
        }
        if !args.quiet {
            println!("matches baseline {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.cmd {
        Some(Cmd::Run(a)) => a,
        None => RunArgs::default(),
    };
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
