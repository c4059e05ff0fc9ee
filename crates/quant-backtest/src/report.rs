//! Output files of a run: `summary.json`, `equity.csv`, `trades.csv`,
//! `orders.csv`, `corporate_actions.csv`, `risk_events.csv` and a
//! self-contained `report.html`.
//!
//! Every file is a pure function of the run, with no time stamps or
//! absolute paths, so the same run twice writes byte-identical files.
//! Numbers are written in Rust's shortest round-trip form (`f64`) or as
//! exact decimals (cash, prices, fees).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::Datelike;
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use plotters::prelude::*;
use serde::Serialize;

use quant_core::OrderQty;

use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::run::BacktestResult;

/// The content of `summary.json`: the metrics at top level plus what ran.
#[derive(Debug, Clone, Serialize)]
pub struct Summary<'a> {
    /// Strategy name.
    pub strategy: &'a str,
    /// Config file name (no folder, so the file does not depend on where it ran).
    pub config: String,
    /// Benchmark symbol.
    pub benchmark: Option<&'a str>,
    /// Instruments in the universe.
    pub num_instruments: usize,
    /// Orders the risk gate blocked (only when `[risk]` is configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_blocked_orders: Option<usize>,
    /// Circuit-breaker trips (only when `[risk]` is configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_trips: Option<usize>,
    /// The metrics.
    #[serde(flatten)]
    pub metrics: &'a Metrics,
}

/// Builds the summary of a result.
pub fn summary(res: &BacktestResult) -> Summary<'_> {
    Summary {
        strategy: &res.config.strategy.name,
        config: res
            .config
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        benchmark: res.benchmark.as_deref(),
        num_instruments: res.instruments.len(),
        risk_blocked_orders: res.config.risk.as_ref().map(|_| {
            res.record
                .risk_events
                .iter()
                .filter(|e| e.kind == quant_engine::RiskEventKind::Blocked)
                .count()
        }),
        breaker_trips: res.config.risk.as_ref().map(|_| {
            res.record
                .risk_events
                .iter()
                .filter(|e| e.kind == quant_engine::RiskEventKind::Trip)
                .count()
        }),
        metrics: &res.metrics,
    }
}

fn out_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn num(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        String::new()
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| out_err(path, e))
}

/// Writes every output file into `dir` (created if missing) and returns their paths.
///
/// # Errors
/// [`Error::Output`] naming the file that could not be written.
pub fn write_outputs(res: &BacktestResult, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| out_err(dir, e))?;
    let mut written = Vec::new();
    let mut put = |name: &str, text: String| -> Result<()> {
        let p = dir.join(name);
        write_file(&p, &text)?;
        written.push(p);
        Ok(())
    };
    let json = serde_json::to_string_pretty(&summary(res))
        .map_err(|e| out_err(&dir.join("summary.json"), e))?;
    put("summary.json", json + "\n")?;
    put("equity.csv", equity_csv(res))?;
    put("trades.csv", trades_csv(res))?;
    put("orders.csv", orders_csv(res))?;
    put("corporate_actions.csv", corporate_actions_csv(res))?;
    put("risk_events.csv", risk_events_csv(res))?;
    put("report.html", report_html(res)?)?;
    Ok(written)
}

/// `date,equity,cash,benchmark`, one row per trading day.
pub fn equity_csv(res: &BacktestResult) -> String {
    let mut s = String::from("date,equity,cash,benchmark\n");
    for p in &res.record.equity {
        let _ = writeln!(
            s,
            "{},{},{},{}",
            p.date,
            num(p.equity),
            p.cash,
            num(p.benchmark)
        );
    }
    s
}

/// `date,symbol,side,quantity,price,commission,stamp_duty,transfer_fee`, one row per fill;
/// intraday runs (fills that carry their instant) add a last column
/// `time`: the exchange-local time of the fill (`HH:MM`, the open or the
/// close of the bar it filled on; UTC for crypto).
pub fn trades_csv(res: &BacktestResult) -> String {
    let timed = res.record.fills.iter().any(|f| f.time.is_some());
    let mut s = String::from("date,symbol,side,quantity,price,commission,stamp_duty,transfer_fee");
    s.push_str(if timed { ",time\n" } else { "\n" });
    for f in &res.record.fills {
        let _ = write!(
            s,
            "{},{},{},{},{},{},{},{}",
            f.date,
            f.symbol,
            f.side.as_str(),
            f.quantity,
            f.price,
            f.commission,
            f.stamp_duty,
            f.transfer_fee
        );
        if timed {
            let local = f
                .time
                .map(|t| match res.instruments.get(f.instrument.get()) {
                    Some(i) => t.local(&i.exchange.timezone()),
                    None => t.local(&chrono::Utc),
                });
            match local {
                Some(t) => {
                    let _ = write!(s, ",{}", t.format("%H:%M"));
                }
                None => s.push(','),
            }
        }
        s.push('\n');
    }
    s
}

fn requested_text(q: &OrderQty) -> String {
    match q {
        OrderQty::Units(u) => format!("units:{u}"),
        OrderQty::Value(v) => format!("value:{v}"),
        OrderQty::AllCash => "all_cash".into(),
        OrderQty::AllPosition => "all_position".into(),
    }
}

/// `id,created,updated,symbol,side,type,tif,limit_price,stop_price,requested,filled,avg_price,status,reason`:
/// every order with its final status and, when rejected or cut, the reason;
/// runs whose orders are worked by an execution algorithm add a last column
/// `parent`: the id of the order a slice or clip works for (empty for the
/// strategy's own orders).
pub fn orders_csv(res: &BacktestResult) -> String {
    let sliced = res.record.orders.iter().any(|o| o.parent.is_some());
    let mut s = String::from(
        "id,created,updated,symbol,side,type,tif,limit_price,stop_price,requested,filled,avg_price,status,reason",
    );
    s.push_str(if sliced { ",parent\n" } else { "\n" });
    let opt = |p: Option<quant_core::Price>| p.map_or_else(String::new, |p| p.to_string());
    for o in &res.record.orders {
        let stop = match o.order_type {
            quant_core::OrderType::TrailingStop(t) => match t {
                quant_core::Trail::Amount(a) => format!("trail:{a}"),
                quant_core::Trail::Fraction(f) => format!("trail:{f}"),
            },
            ty => opt(ty.stop_price()),
        };
        let tif = match o.tif {
            quant_core::TimeInForce::Gtd(d) => format!("GTD:{d}"),
            t => t.as_str().to_string(),
        };
        let _ = write!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            o.id,
            o.created,
            o.updated,
            o.symbol,
            o.side.as_str(),
            o.order_type.as_str(),
            tif,
            opt(o.order_type.limit_price()),
            stop,
            requested_text(&o.requested),
            o.filled,
            opt(o.avg_price),
            o.status.as_str(),
            o.reason.map_or("", |r| r.as_str())
        );
        if sliced {
            s.push(',');
            if let Some(p) = o.parent {
                let _ = write!(s, "{p}");
            }
        }
        s.push('\n');
    }
    s
}

/// `date,symbol,quantity,new_quantity,amount`: corporate actions booked on held positions.
pub fn corporate_actions_csv(res: &BacktestResult) -> String {
    let mut s = String::from("date,symbol,quantity,new_quantity,amount\n");
    for d in &res.record.dividends {
        let _ = writeln!(
            s,
            "{},{},{},{},{}",
            d.date, d.symbol, d.quantity, d.new_quantity, d.amount
        );
    }
    s
}

/// The goals panel: each target against the in-sample figures (a plain
/// run's own), the out-of-sample figures when there are any (a
/// walk-forward's stitched curve), and a Monte Carlo of daily returns
/// (`[goals]`).
#[derive(Debug, Clone, Serialize)]
pub struct GoalsPanel {
    /// Monte Carlo paths.
    pub paths: usize,
    /// Block length in days.
    pub block: usize,
    /// What the first figure column is (`This run`, `In sample (mean of
    /// 6 windows)`).
    pub run_label: String,
    /// Whose daily returns the Monte Carlo resamples.
    pub mc_of: String,
    /// Whether rows carry out-of-sample figures.
    pub has_oos: bool,
    /// Rows: goal, in-sample and out-of-sample figures, MC p5, p50, p95,
    /// P(met).
    pub rows: Vec<GoalRow>,
    /// Chance that a path meets both goals.
    pub p_both: String,
}

/// One row of the goals panel (numbers formatted as percent).
#[derive(Debug, Clone, Serialize)]
pub struct GoalRow {
    /// `CAGR ≥ 20.00%`.
    pub goal: String,
    /// The run's (in-sample) figure.
    pub run: String,
    /// Whether it meets the goal.
    pub met: bool,
    /// The out-of-sample figure, if any.
    pub oos: Option<String>,
    /// Whether that meets the goal.
    pub oos_met: Option<bool>,
    /// Monte Carlo 5th percentile.
    pub p5: String,
    /// Median.
    pub p50: String,
    /// 95th percentile.
    pub p95: String,
    /// Share of paths meeting it.
    pub chance: String,
}

/// CAGR and maximum drawdown (positive fraction) of one set of figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoalFigures {
    /// Compound annual growth rate, fraction.
    pub cagr: f64,
    /// Maximum drawdown, positive fraction.
    pub max_drawdown: f64,
}

/// Builds a goals panel: `run` (labelled `run_label`) and optional `oos`
/// figures against `g`, with a seeded Monte Carlo of the daily returns of
/// `mc_equity` (described as `mc_of`).
///
/// # Errors
/// [`Error::Config`] for Monte Carlo settings it refuses or a curve too
/// short to resample.
pub fn goals_panel(
    g: &crate::config::GoalsSection,
    run: GoalFigures,
    run_label: &str,
    oos: Option<GoalFigures>,
    mc_equity: &[f64],
    mc_of: &str,
) -> Result<GoalsPanel> {
    use crate::montecarlo::{McConfig, Method, RunData, monte_carlo};
    let mc = monte_carlo(
        &RunData {
            equity: mc_equity.to_vec(),
            round_trips: Vec::new(),
        },
        McConfig {
            method: Method::Returns { block: g.mc_block },
            paths: g.mc_paths,
            seed: g.seed,
            target_cagr: g.cagr,
            max_drawdown: g.max_drawdown,
        },
    )?;
    let pct = |x: f64| format!("{:.2}%", x * 100.0);
    // one row per goal: its figure, whether a value meets it, the Monte
    // Carlo distribution of that figure and the share of paths meeting it
    let row = |goal: String,
               figure: fn(&GoalFigures) -> f64,
               met: &dyn Fn(f64) -> bool,
               dist: &crate::montecarlo::Distribution,
               chance: f64| GoalRow {
        goal,
        run: pct(figure(&run)),
        met: met(figure(&run)),
        oos: oos.as_ref().map(|o| pct(figure(o))),
        oos_met: oos.as_ref().map(|o| met(figure(o))),
        p5: pct(dist.p5),
        p50: pct(dist.p50),
        p95: pct(dist.p95),
        chance: pct(chance),
    };
    Ok(GoalsPanel {
        paths: g.mc_paths,
        block: g.mc_block,
        run_label: run_label.to_string(),
        mc_of: mc_of.to_string(),
        has_oos: oos.is_some(),
        rows: vec![
            row(
                format!("CAGR ≥ {}", pct(g.cagr)),
                |f| f.cagr,
                &|x| x >= g.cagr,
                &mc.cagr,
                mc.p_cagr,
            ),
            row(
                format!("max drawdown ≤ {}", pct(g.max_drawdown)),
                |f| f.max_drawdown,
                &|x| x <= g.max_drawdown,
                &mc.max_drawdown,
                mc.p_drawdown,
            ),
        ],
        p_both: pct(mc.p_both),
    })
}

/// Computes the goals panel of `res`: the run's figures and a seeded
/// Monte Carlo of its daily returns (see [`crate::montecarlo`]); `None`
/// without `[goals]`.
///
/// # Errors
/// As [`goals_panel`].
pub fn goals_rows(res: &BacktestResult) -> Result<Option<GoalsPanel>> {
    let Some(g) = res.config.goals else {
        return Ok(None);
    };
    let m = &res.metrics;
    let equity: Vec<f64> = res.record.equity.iter().map(|p| p.equity).collect();
    goals_panel(
        &g,
        GoalFigures {
            cagr: m.cagr,
            max_drawdown: m.max_drawdown,
        },
        "This run",
        None,
        &equity,
        "this run's daily returns",
    )
    .map(Some)
}

/// `date,kind,symbol,order_id,rule,value,limit,detail`: every order the
/// risk gate blocked and every circuit-breaker trip and release (header
/// only without `[risk]`). `detail` is quoted.
pub fn risk_events_csv(res: &BacktestResult) -> String {
    let mut s = String::from("date,kind,symbol,order_id,rule,value,limit,detail\n");
    for e in &res.record.risk_events {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},\"{}\"",
            e.date,
            e.kind.as_str(),
            e.symbol.as_ref().map_or("", |x| x.as_str()),
            e.order.map_or_else(String::new, |o| o.0.to_string()),
            e.rule,
            num(e.value),
            num(e.limit),
            e.detail.replace('"', "\"\"")
        );
    }
    s
}

pub(crate) fn chart_err(e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: PathBuf::from("report.html"),
        message: format!("chart: {e}"),
    }
}

/// An SVG line chart of one or two series against trading-day index, with
/// date labels on the x axis.
pub(crate) fn line_chart(
    title: &str,
    dates: &[String],
    series: &[(&str, RGBColor, Vec<f64>)],
    percent: bool,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let finite = series
            .iter()
            .flat_map(|s| s.2.iter().copied())
            .filter(|x| x.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let (lo, hi) = if lo.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (lo.min(0.0), lo.max(0.0) + 1.0)
        };
        let pad = (hi - lo) * 0.05;
        let n = dates.len().max(2);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..(n - 1) as f64, (lo - pad)..(hi + pad))
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&|x| dates.get(x.round() as usize).cloned().unwrap_or_default())
            .y_label_formatter(&|y| {
                if percent {
                    format!("{:.0}%", y * 100.0)
                } else {
                    format!("{y:.0}")
                }
            })
            .draw()
            .map_err(chart_err)?;
        for (name, color, values) in series {
            let color = *color;
            let pts: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, v)| (i as f64, *v))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(chart_err)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

#[derive(Serialize)]
struct MonthRow {
    year: i32,
    months: Vec<Option<f64>>,
    total: f64,
}

const TEMPLATE: &str = include_str!("report.html.j2");
/// The goals panel, shared by the run and walk-forward reports.
pub(crate) const GOALS_TEMPLATE: &str = include_str!("goals.html.j2");

/// Renders the self-contained HTML report (inline SVG charts and CSS, no
/// scripts, no network).
///
/// # Errors
/// [`Error::Output`] when a chart or the template fails to render.
pub fn report_html(res: &BacktestResult) -> Result<String> {
    let eq = &res.record.equity;
    let dates: Vec<String> = eq.iter().map(|p| p.date.to_string()).collect();
    let equity: Vec<f64> = eq.iter().map(|p| p.equity).collect();
    let first_bench = eq.iter().map(|p| p.benchmark).find(|b| b.is_finite());
    let mut series = vec![("strategy", RGBColor(31, 119, 180), equity.clone())];
    if let Some(b0) = first_bench {
        let scaled = eq.iter().map(|p| p.benchmark / b0 * equity[0]).collect();
        series.push((
            res.benchmark.as_deref().unwrap_or("benchmark"),
            RGBColor(255, 127, 14),
            scaled,
        ));
    }
    let equity_svg = line_chart(
        "Equity vs benchmark (benchmark scaled to initial equity)",
        &dates,
        &series,
        false,
    )?;
    let mut peak = f64::NEG_INFINITY;
    let dd: Vec<f64> = equity
        .iter()
        .map(|&e| {
            peak = peak.max(e);
            e / peak - 1.0
        })
        .collect();
    let dd_svg = line_chart(
        "Drawdown",
        &dates,
        &[("drawdown", RGBColor(214, 39, 40), dd)],
        true,
    )?;

    let mut rows: Vec<MonthRow> = Vec::new();
    for m in &res.metrics.monthly_returns {
        if rows.last().is_none_or(|r| r.year != m.year) {
            rows.push(MonthRow {
                year: m.year,
                months: vec![None; 12],
                total: 0.0,
            });
        }
        if let Some(r) = rows.last_mut() {
            r.months[(m.month - 1) as usize] = Some(m.ret);
        }
    }
    for r in &mut rows {
        r.total = r
            .months
            .iter()
            .flatten()
            .fold(1.0, |acc, x| acc * (1.0 + x))
            - 1.0;
    }
    let metrics = serde_json::to_value(&res.metrics).map_err(chart_err)?;
    let metric_rows: Vec<(String, String)> = metrics
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "monthly_returns")
                .map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::Number(n) => n.as_f64().map_or(n.to_string(), |f| {
                            if f.fract() == 0.0 && f.abs() < 1e15 {
                                format!("{f:.0}")
                            } else {
                                format!("{f:.6}")
                            }
                        }),
                        serde_json::Value::Null => "–".into(),
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    let trades: Vec<Vec<String>> = res
        .record
        .fills
        .iter()
        .map(|f| {
            vec![
                f.date.to_string(),
                f.symbol.to_string(),
                f.side.as_str().to_string(),
                f.quantity.to_string(),
                f.price.0.round_dp(4).to_string(),
                f.total_fees().0.round_dp(2).to_string(),
            ]
        })
        .collect();
    let rejected: Vec<Vec<String>> = res
        .record
        .orders
        .iter()
        .filter(|o| o.reason.is_some())
        .map(|o| {
            vec![
                o.created.to_string(),
                o.updated.to_string(),
                o.symbol.to_string(),
                o.side.as_str().to_string(),
                o.status.as_str().to_string(),
                o.reason.map_or("", |r| r.as_str()).to_string(),
            ]
        })
        .collect();
    let risk_events: Vec<Vec<String>> = res
        .record
        .risk_events
        .iter()
        .map(|e| {
            vec![
                e.date.to_string(),
                e.kind.as_str().to_string(),
                e.symbol
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                e.rule.clone(),
                format!("{:.4}", e.value),
                format!("{:.4}", e.limit),
                e.detail.clone(),
            ]
        })
        .collect();
    let m = &res.metrics;
    let goals = goals_rows(res)?;
    let mut env = Environment::new();
    env.add_filter("pct", |x: Option<f64>| {
        x.map_or(String::new(), |x| format!("{:.2}%", x * 100.0))
    });
    env.add_template("goals.html", GOALS_TEMPLATE)
        .map_err(chart_err)?;
    env.add_template("report.html", TEMPLATE)
        .map_err(chart_err)?;
    let tmpl = env.get_template("report.html").map_err(chart_err)?;
    tmpl.render(context! {
        strategy => res.config.strategy.name.clone(),
        benchmark => res.benchmark.clone(),
        start => m.start.to_string(),
        end => m.end.to_string(),
        years => (m.end.year() - m.start.year()) + 1,
        headline => Value::from(Serde(vec![
            ("Total return", format!("{:.2}%", m.total_return * 100.0)),
            ("CAGR", format!("{:.2}%", m.cagr * 100.0)),
            ("Max drawdown", format!("{:.2}%", m.max_drawdown * 100.0)),
            ("Sharpe", format!("{:.2}", m.sharpe)),
            ("Final equity", format!("{:.2}", m.final_equity)),
            ("Trades", m.num_trades.to_string()),
        ])),
        equity_svg => Value::from_safe_string(equity_svg),
        drawdown_svg => Value::from_safe_string(dd_svg),
        month_rows => Value::from(Serde(&rows)),
        metric_rows => Value::from(Serde(&metric_rows)),
        trades => Value::from(Serde(&trades)),
        rejected => Value::from(Serde(&rejected)),
        risk_configured => res.config.risk.is_some(),
        risk_events => Value::from(Serde(&risk_events)),
        goals => goals.map(|g| Value::from(Serde(g))),
    })
    .map_err(chart_err)
}
