//! `quant-backtest`: runs a backtest config and writes its outputs.
//!
//! ```text
//! quant-backtest                                   # runs config/backtest.toml into out/backtest
//! quant-backtest run --config FILE [--out DIR] [--baseline FILE] [--write-baseline FILE]
//! quant-backtest sweep --config FILE --grid GRID.toml --out DIR [--threads N] [--sort sharpe] [--top 10]
//! quant-backtest monte-carlo --run DIR [--method returns|trades] [--block 1] [--paths 10000] [--seed 1]
//!                            [--target-cagr 0.2] [--max-drawdown 0.2] [--out FILE]
//! quant-backtest walk-forward --config FILE --grid GRID.toml --out DIR [--train 504] [--test 126]
//!                             [--anchored] [--sort sharpe] [--threads N]
//! ```
//! `sweep` runs every parameter combination of the grid file (or a seeded
//! random sample of them; see `quant_backtest::sweep`) in parallel over
//! data loaded once, and writes `sweep.csv` and `sweep.parquet` sorted best
//! first.
//! Logs go to stderr, filtered by `RUST_LOG` (default `warn`), as text or
//! JSON (`--log-format json`); output to a closed pipe stops quietly.
//!
//! Exit codes: 0 success; 1 the run drifted from `--baseline`; 2 an error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quant_cli::outln;

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
    #[command(flatten)]
    log: quant_cli::LogArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a backtest config.
    Run(RunArgs),
    /// Run a config over a grid (or random sample) of strategy parameters, in parallel.
    Sweep(SweepArgs),
    /// Bootstrap a finished run's daily returns or trade order: CAGR and drawdown distributions.
    MonteCarlo(McArgs),
    /// Optimise in sample, trade out of sample, roll forward; stitch the out-of-sample curve.
    WalkForward(WfArgs),
    /// Check strategy files (docs/strategy-files.md) without running them;
    /// exit 1 when one is bad.
    Check(CheckArgs),
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Strategy files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

fn check(a: CheckArgs) -> anyhow::Result<ExitCode> {
    let mut bad = 0;
    for f in &a.files {
        match quant_backtest::StrategyFile::load(f).and_then(|s| {
            let inds = s.indicators()?;
            Ok((s, inds))
        }) {
            Ok((s, inds)) => {
                let spec = &s.spec;
                outln!(
                    "ok {}: `{}`, {} signals (threshold {} of {}), {} entry and {} exit conditions, up to {} positions; indicators: {}",
                    f.display(),
                    s.name(),
                    spec.signals.len(),
                    spec.entry.threshold.get_ref(),
                    spec.signals.iter().map(|x| x.weight.get_ref()).sum::<f64>(),
                    spec.entry.when.len(),
                    spec.exit.when.len(),
                    spec.entry.max_positions,
                    inds.join(", ")
                );
            }
            Err(e) => {
                bad += 1;
                eprintln!("error: {}", quant_cli::report(&e));
            }
        }
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(clap::Args, Debug)]
struct WfArgs {
    #[command(flatten)]
    grid: GridRun,
    /// In-sample trading days per window.
    #[arg(long, default_value_t = 504)]
    train: usize,
    /// Out-of-sample trading days per window.
    #[arg(long, default_value_t = 126)]
    test: usize,
    /// Keep the first in-sample day (growing windows) instead of rolling.
    #[arg(long)]
    anchored: bool,
}

/// `walk-forward`: windows, side-by-side table, files.
fn walk_forward(a: WfArgs) -> anyhow::Result<ExitCode> {
    use quant_backtest::sweep::Grid;
    use quant_backtest::walkforward::{
        WalkForwardConfig, side_by_side, walk_forward, write_walk_forward,
    };
    let g = &a.grid;
    let cfg = BacktestConfig::load(&g.config)?;
    let grid = Grid::load(&g.grid)?;
    let started = Instant::now();
    let wf = WalkForwardConfig {
        train_days: a.train,
        test_days: a.test,
        anchored: a.anchored,
        sort: g.sort.clone(),
        threads: g.threads,
    };
    let res = walk_forward(&cfg, &grid, &wf)?;
    let params: Vec<String> = grid.params.keys().cloned().collect();
    outln!(
        "{} windows ({} in / {} out of sample, {}) in {:.2?}",
        res.windows.len(),
        a.train,
        a.test,
        if a.anchored { "anchored" } else { "rolling" },
        started.elapsed()
    );
    for (i, w) in res.windows.iter().enumerate() {
        let chosen: Vec<String> = params
            .iter()
            .map(|p| {
                format!(
                    "{p}={}",
                    w.chosen
                        .get(p)
                        .map_or_else(String::new, ToString::to_string)
                )
            })
            .collect();
        outln!(
            "{:>3}  IS {}..{}  OOS {}..{}  {:<24} IS sharpe {:>6.2}  OOS sharpe {:>6.2}",
            i + 1,
            w.is_start,
            w.is_end,
            w.oos_start,
            w.oos_end,
            chosen.join(" "),
            w.is_metrics.sharpe,
            w.oos_metrics.sharpe
        );
    }
    let s = side_by_side(&res);
    outln!("{:<14}{:>14}{:>16}", "", "in sample", "out of sample");
    outln!(
        "{:<14}{:>13.2}%{:>15.2}%",
        "CAGR",
        s.is_cagr * 100.0,
        s.oos_cagr * 100.0
    );
    outln!(
        "{:<14}{:>14.3}{:>16.3}",
        "Sharpe",
        s.is_sharpe,
        s.oos_sharpe
    );
    outln!(
        "{:<14}{:>13.2}%{:>15.2}%",
        "max drawdown",
        s.is_max_drawdown * 100.0,
        s.oos_max_drawdown * 100.0
    );
    for f in write_walk_forward(&res, &params, &g.out)? {
        outln!("wrote {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// What `monte-carlo` resamples.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum McMethod {
    /// Daily returns (in blocks of --block days).
    Returns,
    /// Round-trip profits.
    Trades,
}

#[derive(clap::Args, Debug)]
struct McArgs {
    /// A finished run's output folder (equity.csv, trades.csv, corporate_actions.csv).
    #[arg(long)]
    run: PathBuf,
    /// What to resample.
    #[arg(long, value_enum, default_value = "returns")]
    method: McMethod,
    /// Block length in days for --method returns (1 = i.i.d.).
    #[arg(long, default_value_t = 1)]
    block: usize,
    /// Number of paths.
    #[arg(long, default_value_t = 10_000)]
    paths: usize,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// CAGR target (fraction).
    #[arg(long, default_value_t = 0.2)]
    target_cagr: f64,
    /// Drawdown limit (positive fraction).
    #[arg(long, default_value_t = 0.2)]
    max_drawdown: f64,
    /// Where to write the JSON result (default RUN/monte_carlo.json).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `monte-carlo`: the distribution table and monte_carlo.json.
fn monte_carlo(a: McArgs) -> anyhow::Result<ExitCode> {
    use quant_backtest::montecarlo::{McConfig, Method, load_run, monte_carlo};
    let data = load_run(&a.run)?;
    let cfg = McConfig {
        method: match a.method {
            McMethod::Returns => Method::Returns { block: a.block },
            McMethod::Trades => Method::Trades,
        },
        paths: a.paths,
        seed: a.seed,
        target_cagr: a.target_cagr,
        max_drawdown: a.max_drawdown,
    };
    let r = monte_carlo(&data, cfg)?;
    let pct = |x: f64| format!("{:>9.2}%", x * 100.0);
    outln!(
        "{} paths resampling {} {} (seed {})",
        a.paths,
        r.sample_size,
        match cfg.method {
            Method::Returns { block: 1 } => "daily returns".to_string(),
            Method::Returns { block } => format!("daily returns in {block}-day blocks"),
            Method::Trades => "round trips".to_string(),
        },
        a.seed
    );
    outln!(
        "{:<14}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}",
        "",
        "run",
        "p5",
        "p25",
        "p50",
        "p75",
        "p95",
        "mean"
    );
    for (name, obs, d) in [
        ("CAGR", r.observed_cagr, r.cagr),
        ("max drawdown", r.observed_max_drawdown, r.max_drawdown),
    ] {
        outln!(
            "{name:<14}{}{}{}{}{}{}{}",
            pct(obs),
            pct(d.p5),
            pct(d.p25),
            pct(d.p50),
            pct(d.p75),
            pct(d.p95),
            pct(d.mean)
        );
    }
    outln!(
        "P(CAGR ≥ {:.0}%) = {:.1}%   P(drawdown ≤ {:.0}%) = {:.1}%   P(both) = {:.1}%",
        a.target_cagr * 100.0,
        r.p_cagr * 100.0,
        a.max_drawdown * 100.0,
        r.p_drawdown * 100.0,
        r.p_both * 100.0
    );
    let out = a.out.unwrap_or_else(|| a.run.join("monte_carlo.json"));
    std::fs::write(&out, serde_json::to_string_pretty(&r)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    outln!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
struct SweepArgs {
    #[command(flatten)]
    grid: GridRun,
    /// Rows to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
}

/// What `sweep` and `walk-forward` share.
#[derive(clap::Args, Debug)]
struct GridRun {
    /// Backtest config (TOML); its [strategy.params] are the defaults.
    #[arg(long)]
    config: PathBuf,
    /// Grid file: [params] name = [values…]; mode = "grid" | "random", samples, seed.
    #[arg(long)]
    grid: PathBuf,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Metric to sort (or choose) by, best first.
    #[arg(long, default_value = "sharpe")]
    sort: String,
}

/// `sweep`: parallel runs, sorted table, CSV and Parquet.
fn sweep(a: SweepArgs) -> anyhow::Result<ExitCode> {
    use quant_backtest::sweep::{Grid, SWEEP_METRICS, sort_rows, sweep, write_sweep};
    let g = &a.grid;
    let cfg = BacktestConfig::load(&g.config)?;
    let grid = Grid::load(&g.grid)?;
    let n = grid.combinations().len();
    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template("sweeping [{bar:40}] {pos}/{len} runs {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut rows = sweep(&cfg, &grid, g.threads, |done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let wall = started.elapsed();
    sort_rows(&mut rows, &g.sort).map_err(anyhow::Error::msg)?;
    let params: Vec<String> = grid.params.keys().cloned().collect();
    let files = write_sweep(&rows, &params, &g.out)?;
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    outln!(
        "{n} runs in {wall:.2?} on {} threads ({failed} failed); sorted by {}",
        if g.threads == 0 {
            "all".to_string()
        } else {
            g.threads.to_string()
        },
        g.sort
    );
    let shown = ["cagr", "sharpe", "max_drawdown", "num_round_trips"];
    let mut head = format!("{:>4}", "rank");
    for p in &params {
        head.push_str(&format!("  {p:>10}"));
    }
    for m in shown {
        head.push_str(&format!("  {m:>15}"));
    }
    outln!("{head}");
    for (i, r) in rows.iter().take(a.top).enumerate() {
        let mut line = format!("{:>4}", i + 1);
        for p in &params {
            let v = r.params.get(p).map_or_else(String::new, |v| match v {
                toml::Value::String(s) => s.clone(),
                v => v.to_string(),
            });
            line.push_str(&format!("  {v:>10}"));
        }
        match &r.error {
            Some(e) => line.push_str(&format!("  error: {e}")),
            None => {
                for m in shown {
                    let v = r.metric(m);
                    if m.starts_with("num_") {
                        line.push_str(&format!("  {v:>15.0}"));
                    } else {
                        line.push_str(&format!("  {v:>15.4}"));
                    }
                }
            }
        }
        outln!("{line}");
    }
    debug_assert!(shown.iter().all(|m| SWEEP_METRICS.contains(m)));
    for f in files {
        outln!("wrote {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Backtest config (TOML).
    #[arg(long, default_value = "config/backtest.toml")]
    config: PathBuf,
    /// Run this declarative strategy file (docs/strategy-files.md) instead
    /// of the config's [strategy], on the config's data and costs.
    #[arg(long)]
    strategy: Option<PathBuf>,
    /// Output folder (default: out/<strategy or config file stem>).
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
            strategy: None,
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
    outln!(
        "{} on {} instruments, {} .. {} ({} days)",
        res.config.strategy.name,
        res.instruments.len(),
        m.start,
        m.end,
        m.num_days
    );
    outln!("  total return      {}", pct(m.total_return));
    outln!("  CAGR              {}", pct(m.cagr));
    outln!("  annual volatility {}", pct(m.annual_volatility));
    outln!("  max drawdown      {}", pct(m.max_drawdown));
    outln!("  Sharpe            {:>11.3}", m.sharpe);
    outln!("  Sortino           {:>11.3}", m.sortino);
    outln!("  Calmar            {:>11.3}", m.calmar);
    outln!("  alpha             {}", opt(m.alpha));
    outln!("  beta              {}", opt(m.beta));
    if let Some(b) = m.benchmark_total_return {
        outln!("  benchmark return  {}", pct(b));
    }
    outln!(
        "  trades            {:>11}   (rejected {}, cut {})",
        m.num_trades,
        m.num_rejected,
        m.num_cut
    );
    outln!(
        "  win rate          {}",
        m.win_rate.map_or_else(|| format!("{:>11}", "–"), pct)
    );
    outln!("  final equity      {:>11.2}", m.final_equity);
    outln!("outputs in {}", out.display());
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = BacktestConfig::load(&args.config)?;
    if let Some(file) = &args.strategy {
        cfg.strategy.name.clear();
        cfg.strategy.params.clear();
        cfg.use_strategy_file(file)?;
    }
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("out").join(
            args.strategy
                .as_ref()
                .unwrap_or(&args.config)
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
            outln!("baseline written to {}", path.display());
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
            outln!("matches baseline {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    quant_cli::init_tracing(cli.log.log_format);
    let result = match cli.cmd {
        Some(Cmd::Run(a)) => run(a),
        Some(Cmd::Sweep(a)) => sweep(a),
        Some(Cmd::MonteCarlo(a)) => monte_carlo(a),
        Some(Cmd::WalkForward(a)) => walk_forward(a),
        Some(Cmd::Check(a)) => check(a),
        None => run(RunArgs::default()),
    };
    match result {
        Ok(code) => code,
        Err(e) => quant_cli::fail(cli.log.log_format, e.as_ref()),
    }
}
