//! Walk-forward analysis: optimise in sample, trade out of sample, repeat.
//!
//! The run's trading calendar is cut into windows of `train_days`
//! in-sample days followed by `test_days` out-of-sample days; the next
//! window starts `test_days` later (rolling) or keeps the first in-sample
//! day and grows (anchored). In each window the grid is swept over the
//! in-sample days only ([`crate::sweep`]), the best set by `sort` is
//! chosen, and that set alone runs over the out-of-sample days. So every
//! out-of-sample day is traded with parameters chosen from days before it.
//!
//! Each out-of-sample run starts flat with the initial cash (indicators
//! warm up on the history before its first day, which is the past). The
//! out-of-sample curves are stitched into one by chaining their daily
//! returns (the first day of each segment, when it starts flat, adds 0),
//! and its metrics stand beside the in-sample averages: the gap between
//! the two is the overfitting the optimisation bought.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use quant_core::Cash;
use quant_engine::{EquityPoint, RunRecord};
use serde::Serialize;

use crate::config::BacktestConfig;
use crate::error::{Error, Result};
use crate::metrics::{Metrics, compute_metrics};
use crate::run::{prepare, run_backtest};
use crate::sweep::{Grid, sort_rows, sweep};

/// Window settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalkForwardConfig {
    /// In-sample trading days per window.
    pub train_days: usize,
    /// Out-of-sample trading days per window.
    pub test_days: usize,
    /// Keep the first in-sample day fixed (growing windows).
    pub anchored: bool,
    /// Metric that picks the in-sample winner (see `sweep::SWEEP_METRICS`).
    pub sort: String,
    /// Sweep threads (0: all cores).
    pub threads: usize,
}

/// One window.
#[derive(Debug, Clone)]
pub struct Window {
    /// First in-sample day.
    pub is_start: NaiveDate,
    /// Last in-sample day.
    pub is_end: NaiveDate,
    /// First out-of-sample day.
    pub oos_start: NaiveDate,
    /// Last out-of-sample day.
    pub oos_end: NaiveDate,
    /// The parameters chosen in sample.
    pub chosen: toml::Table,
    /// Their in-sample metrics.
    pub is_metrics: Metrics,
    /// Their out-of-sample metrics.
    pub oos_metrics: Metrics,
    /// The out-of-sample equity curve.
    pub oos_equity: Vec<(NaiveDate, f64)>,
}

/// The whole analysis.
#[derive(Debug, Clone)]
pub struct WalkForward {
    /// Windows in order.
    pub windows: Vec<Window>,
    /// The stitched out-of-sample curve (date, equity).
    pub stitched: Vec<(NaiveDate, f64)>,
    /// Metrics of the stitched curve.
    pub oos: Metrics,
    /// The config's strategy name (for the report).
    pub strategy: String,
    /// The config's `[goals]`, for the report's goals panel.
    pub goals: Option<crate::config::GoalsSection>,
}

/// Runs the analysis of `cfg` over `grid`.
///
/// # Errors
/// [`Error::Config`] when the calendar is too short for one window or a
/// window's sweep has no successful set; load and run errors otherwise.
pub fn walk_forward(
    cfg: &BacktestConfig,
    grid: &Grid,
    wf: &WalkForwardConfig,
) -> Result<WalkForward> {
    let bad = |m: String| Error::Config {
        path: cfg.path.clone(),
        message: format!("walk-forward: {m}"),
    };
    if let Some(f) = &cfg.strategy.file {
        return Err(bad(format!(
            "it varies [strategy.params]; the strategy file {} has none (use a built-in strategy)",
            f.display()
        )));
    }
    if wf.train_days < 2 || wf.test_days < 2 {
        return Err(bad(
            "train and test windows need at least 2 days each".into()
        ));
    }
    let days = prepare(cfg)?.calendar.days().to_vec();
    // saturating: windows of usize::MAX days are too long, not an overflow
    if days.len() < wf.train_days.saturating_add(wf.test_days) {
        return Err(bad(format!(
            "{} trading days are fewer than one window of {} + {}",
            days.len(),
            wf.train_days,
            wf.test_days
        )));
    }
    let mut windows = Vec::new();
    let mut k = 0;
    while k + wf.train_days + 1 < days.len() {
        let is_from = if wf.anchored { 0 } else { k };
        let is_to = k + wf.train_days - 1;
        let oos_from = is_to + 1;
        let oos_to = (oos_from + wf.test_days - 1).min(days.len() - 1);
        if oos_to <= oos_from {
            break;
        }
        let mut is_cfg = cfg.clone();
        is_cfg.backtest.start = Some(days[is_from]);
        is_cfg.backtest.end = Some(days[is_to]);
        let mut rows = sweep(&is_cfg, grid, wf.threads, |_| {})?;
        sort_rows(&mut rows, &wf.sort).map_err(bad)?;
        let best = rows.iter().find(|r| r.metrics.is_some()).ok_or_else(|| {
            bad(format!(
                "no parameter set ran in sample {}..{}",
                days[is_from], days[is_to]
            ))
        })?;
        let mut oos_cfg = cfg.clone();
        oos_cfg.backtest.start = Some(days[oos_from]);
        oos_cfg.backtest.end = Some(days[oos_to]);
        for (p, v) in &best.params {
            oos_cfg.strategy.params.insert(p.clone(), v.clone());
        }
        let oos = run_backtest(&oos_cfg, |_, _| {})?;
        windows.push(Window {
            is_start: days[is_from],
            is_end: days[is_to],
            oos_start: days[oos_from],
            oos_end: days[oos_to],
            chosen: best.params.clone(),
            is_metrics: best
                .metrics
                .clone()
                .ok_or_else(|| bad("no in-sample metrics".into()))?,
            oos_metrics: oos.metrics.clone(),
            oos_equity: oos
                .record
                .equity
                .iter()
                .map(|p| (p.date, p.equity))
                .collect(),
        });
        k += wf.test_days;
    }
    let initial = quant_core::money::decimal_to_f64(cfg.backtest.initial_cash);
    let mut stitched: Vec<(NaiveDate, f64)> = Vec::new();
    let mut level = initial;
    for w in &windows {
        for (i, &(d, e)) in w.oos_equity.iter().enumerate() {
            if i > 0 {
                level *= e / w.oos_equity[i - 1].1;
            }
            stitched.push((d, level));
        }
    }
    let record = RunRecord {
        equity: stitched
            .iter()
            .map(|&(date, equity)| EquityPoint {
                date,
                equity,
                cash: Cash::ZERO,
                benchmark: f64::NAN,
            })
            .collect(),
        ..RunRecord::default()
    };
    if record.equity.len() < 2 {
        return Err(bad("the out-of-sample curve has fewer than two days".into()));
    }
    let oos = compute_metrics(&record, cfg.backtest.risk_free_rate);
    Ok(WalkForward {
        windows,
        stitched,
        oos,
        strategy: cfg.strategy.name.clone(),
        goals: cfg.goals,
    })
}

fn cell(v: Option<&toml::Value>) -> String {
    match v {
        Some(toml::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

/// Writes `walk_forward.csv` (a row per window: dates, chosen parameters,
/// in- and out-of-sample CAGR, Sharpe and maximum drawdown),
/// `oos_equity.csv` (the stitched curve), `walk_forward.json` (the
/// stitched out-of-sample metrics beside the in-sample means) and
/// `walk_forward.html` (the comparison, the goals panel with in-sample,
/// out-of-sample and Monte Carlo figures when the config has `[goals]`,
/// the windows and the stitched curve) into `dir`.
///
/// # Errors
/// [`Error::Output`] naming the file.
pub fn write_walk_forward(wf: &WalkForward, params: &[String], dir: &Path) -> Result<Vec<PathBuf>> {
    let err = |p: &Path, e: &dyn std::fmt::Display| Error::Output {
        path: p.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, &e))?;
    let mut s = String::from("window,is_start,is_end,oos_start,oos_end");
    for p in params {
        let _ = write!(s, ",{p}");
    }
    s.push_str(",is_cagr,is_sharpe,is_max_drawdown,oos_cagr,oos_sharpe,oos_max_drawdown\n");
    for (i, w) in wf.windows.iter().enumerate() {
        let _ = write!(
            s,
            "{},{},{},{},{}",
            i + 1,
            w.is_start,
            w.is_end,
            w.oos_start,
            w.oos_end
        );
        for p in params {
            let _ = write!(s, ",{}", cell(w.chosen.get(p)));
        }
        let (a, b) = (&w.is_metrics, &w.oos_metrics);
        let _ = writeln!(
            s,
            ",{},{},{},{},{},{}",
            a.cagr, a.sharpe, a.max_drawdown, b.cagr, b.sharpe, b.max_drawdown
        );
    }
    let p1 = dir.join("walk_forward.csv");
    std::fs::write(&p1, s).map_err(|e| err(&p1, &e))?;
    let mut e = String::from("date,equity\n");
    for (d, v) in &wf.stitched {
        let _ = writeln!(e, "{d},{v}");
    }
    let p2 = dir.join("oos_equity.csv");
    std::fs::write(&p2, e).map_err(|x| err(&p2, &x))?;
    let p3 = dir.join("walk_forward.json");
    let json = serde_json::to_string_pretty(&side_by_side(wf)).map_err(|x| err(&p3, &x))?;
    std::fs::write(&p3, json + "\n").map_err(|x| err(&p3, &x))?;
    let p4 = dir.join("walk_forward.html");
    std::fs::write(&p4, render_html(wf, params)?).map_err(|x| err(&p4, &x))?;
    Ok(vec![p1, p2, p3, p4])
}

const TEMPLATE: &str = include_str!("walk_forward.html.j2");

/// The walk-forward report page.
fn render_html(wf: &WalkForward, params: &[String]) -> Result<String> {
    use crate::report::{GoalFigures, chart_err, goals_panel, line_chart};
    let sbs = side_by_side(wf);
    let pct = |x: f64| format!("{:.2}%", x * 100.0);
    let curve: Vec<f64> = wf.stitched.iter().map(|(_, v)| *v).collect();
    let goals = match &wf.goals {
        Some(g) => Some(goals_panel(
            g,
            GoalFigures {
                cagr: sbs.is_cagr,
                max_drawdown: sbs.is_max_drawdown,
            },
            &format!("In sample (mean of {} windows)", sbs.windows),
            Some(GoalFigures {
                cagr: sbs.oos_cagr,
                max_drawdown: sbs.oos_max_drawdown,
            }),
            &curve,
            "the stitched out-of-sample daily returns",
        )?),
        None => None,
    };
    let dates: Vec<String> = wf.stitched.iter().map(|(d, _)| d.to_string()).collect();
    let curve_svg = line_chart(
        "Stitched out-of-sample equity",
        &dates,
        &[(
            "out of sample",
            plotters::style::RGBColor(31, 119, 180),
            curve,
        )],
        false,
    )?;
    let windows: Vec<Vec<String>> = wf
        .windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let mut row = vec![
                (i + 1).to_string(),
                format!("{} .. {}", w.is_start, w.is_end),
                format!("{} .. {}", w.oos_start, w.oos_end),
            ];
            row.extend(params.iter().map(|p| cell(w.chosen.get(p))));
            row.extend([
                pct(w.is_metrics.cagr),
                pct(w.oos_metrics.cagr),
                pct(w.is_metrics.max_drawdown),
                pct(w.oos_metrics.max_drawdown),
                format!("{:.2}", w.is_metrics.sharpe),
                format!("{:.2}", w.oos_metrics.sharpe),
            ]);
            row
        })
        .collect();
    let side = vec![
        ("CAGR", pct(sbs.is_cagr), pct(sbs.oos_cagr)),
        (
            "max drawdown",
            pct(sbs.is_max_drawdown),
            pct(sbs.oos_max_drawdown),
        ),
        (
            "Sharpe",
            format!("{:.2}", sbs.is_sharpe),
            format!("{:.2}", sbs.oos_sharpe),
        ),
    ];
    let mut env = minijinja::Environment::new();
    env.add_template("goals.html", crate::report::GOALS_TEMPLATE)
        .map_err(chart_err)?;
    env.add_template("walk_forward.html", TEMPLATE)
        .map_err(chart_err)?;
    let tmpl = env.get_template("walk_forward.html").map_err(chart_err)?;
    tmpl.render(minijinja::context! {
        strategy => wf.strategy.clone(),
        start => wf.stitched.first().map(|(d, _)| d.to_string()).unwrap_or_default(),
        end => wf.stitched.last().map(|(d, _)| d.to_string()).unwrap_or_default(),
        side => minijinja::Value::from(minijinja::value::Serde(&side)),
        params => minijinja::Value::from(minijinja::value::Serde(params)),
        windows => minijinja::Value::from(minijinja::value::Serde(&windows)),
        curve_svg => minijinja::Value::from_safe_string(curve_svg),
        goals => goals.map(|g| minijinja::Value::from(minijinja::value::Serde(&g))),
    })
    .map_err(chart_err)
}

/// In-sample means and out-of-sample figures, side by side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SideBySide {
    /// Windows.
    pub windows: usize,
    /// Mean in-sample CAGR of the chosen sets.
    pub is_cagr: f64,
    /// Stitched out-of-sample CAGR.
    pub oos_cagr: f64,
    /// Mean in-sample Sharpe.
    pub is_sharpe: f64,
    /// Stitched out-of-sample Sharpe.
    pub oos_sharpe: f64,
    /// Mean in-sample maximum drawdown.
    pub is_max_drawdown: f64,
    /// Stitched out-of-sample maximum drawdown.
    pub oos_max_drawdown: f64,
}

/// The comparison `walk_forward.json` holds.
pub fn side_by_side(wf: &WalkForward) -> SideBySide {
    let n = wf.windows.len().max(1) as f64;
    let mean =
        |f: &dyn Fn(&Metrics) -> f64| wf.windows.iter().map(|w| f(&w.is_metrics)).sum::<f64>() / n;
    SideBySide {
        windows: wf.windows.len(),
        is_cagr: mean(&|m| m.cagr),
        oos_cagr: wf.oos.cagr,
        is_sharpe: mean(&|m| m.sharpe),
        oos_sharpe: wf.oos.sharpe,
        is_max_drawdown: mean(&|m| m.max_drawdown),
        oos_max_drawdown: wf.oos.max_drawdown,
    }
}
