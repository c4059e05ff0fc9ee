//! Parameter sweeps: one config, many strategy parameter sets, run in
//! parallel on all cores (rayon) over data loaded once.
//!
//! A grid file (TOML) lists values per parameter; every combination runs
//! (`mode = "grid"`, the default), or `samples` combinations drawn without
//! replacement with a seeded generator (`mode = "random"`):
//!
//! ```toml
//! mode = "grid"          # or "random"
//! samples = 200          # random mode: how many combinations
//! seed = 7               # random mode: the same seed draws the same sets
//! [params]
//! fast = [5, 10, 15, 20]
//! slow = [30, 60, 90]
//! ```
//!
//! A set the strategy refuses (say `fast ≥ slow`) becomes a row with its
//! error instead of stopping the sweep. Rows are sorted by a metric, best
//! first (`max_drawdown` and `annual_volatility` ascending, the others
//! descending), ties kept in combination order; the same sweep gives the
//! same rows whatever the thread count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::SeedableRng;
use rand::seq::IndexedRandom;
use rayon::prelude::*;
use serde::Deserialize;

use crate::config::BacktestConfig;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::run::{prepare, run_prepared};

/// The metrics a sweep reports per row, in column order.
pub const SWEEP_METRICS: [&str; 13] = [
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "win_rate",
    "num_trades",
    "num_round_trips",
    "turnover",
    "exposure",
    "final_equity",
];

/// How combinations are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Every combination.
    #[default]
    Grid,
    /// `samples` combinations drawn without replacement.
    Random,
}

/// Most combinations a grid may have: 1,000,000 (each is a run; they are
/// listed in memory before the first one starts).
pub const MAX_COMBINATIONS: usize = 1_000_000;

/// A grid file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// Grid or random search.
    #[serde(default)]
    pub mode: Mode,
    /// Random mode: number of combinations.
    pub samples: Option<usize>,
    /// Random mode: generator seed.
    #[serde(default)]
    pub seed: u64,
    /// Values per strategy parameter.
    pub params: BTreeMap<String, Vec<toml::Value>>,
}

impl Grid {
    /// Reads and checks a grid file.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file: unreadable, over 1 MiB, bad TOML,
    /// unknown keys, an empty value list, more than [`MAX_COMBINATIONS`]
    /// combinations, random mode without `samples`.
    pub fn load(path: &Path) -> Result<Self> {
        let bad = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        let size = std::fs::metadata(path)
            .map_err(|e| bad(e.to_string()))?
            .len();
        if size > crate::config::MAX_CONFIG_SIZE {
            return Err(bad(format!(
                "the file is {size} bytes; a grid has at most {} (1 MiB)",
                crate::config::MAX_CONFIG_SIZE
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let g: Self = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if g.params.is_empty() {
            return Err(bad("[params] names no parameter".into()));
        }
        if let Some((k, _)) = g.params.iter().find(|(_, v)| v.is_empty()) {
            return Err(bad(format!("params.{k} lists no value")));
        }
        let combinations = g
            .params
            .values()
            .try_fold(1usize, |n, v| n.checked_mul(v.len()))
            .filter(|&n| n <= MAX_COMBINATIONS);
        if combinations.is_none() {
            return Err(bad(format!(
                "[params] makes more than {MAX_COMBINATIONS} combinations; use fewer values (or mode = \"random\" over fewer)"
            )));
        }
        if g.mode == Mode::Random && g.samples.is_none_or(|n| n == 0) {
            return Err(bad("random mode needs samples ≥ 1".into()));
        }
        Ok(g)
    }

    /// Every combination, the first parameter (by name) varying slowest.
    pub fn all(&self) -> Vec<toml::Table> {
        let mut out = vec![toml::Table::new()];
        for (k, values) in &self.params {
            out = out
                .into_iter()
                .flat_map(|t| {
                    values.iter().map(move |v| {
                        let mut t = t.clone();
                        t.insert(k.clone(), v.clone());
                        t
                    })
                })
                .collect();
        }
        out
    }

    /// The combinations to run: all of them, or a seeded sample (in grid
    /// order) in random mode.
    pub fn combinations(&self) -> Vec<toml::Table> {
        let all = self.all();
        match (self.mode, self.samples) {
            (Mode::Random, Some(n)) if n < all.len() => {
                let mut rng = rand::rngs::StdRng::seed_from_u64(self.seed);
                let idx: Vec<usize> = (0..all.len()).collect();
                let mut pick: Vec<usize> = idx.choose_multiple(&mut rng, n).copied().collect();
                pick.sort_unstable();
                pick.into_iter().map(|i| all[i].clone()).collect()
            }
            _ => all,
        }
    }
}

/// One parameter set's outcome.
#[derive(Debug, Clone)]
pub struct SweepRow {
    /// Position in the combination list.
    pub index: usize,
    /// The parameters that varied.
    pub params: toml::Table,
    /// The metrics; `None` when the run failed.
    pub metrics: Option<Metrics>,
    /// Why the run failed.
    pub error: Option<String>,
}

impl SweepRow {
    /// The value of one of [`SWEEP_METRICS`] (NaN when absent).
    pub fn metric(&self, name: &str) -> f64 {
        let Some(m) = &self.metrics else {
            return f64::NAN;
        };
        #[allow(clippy::cast_precision_loss)] // counts far below 2^53
        match name {
            "total_return" => m.total_return,
            "cagr" => m.cagr,
            "annual_volatility" => m.annual_volatility,
            "sharpe" => m.sharpe,
            "sortino" => m.sortino,
            "max_drawdown" => m.max_drawdown,
            "calmar" => m.calmar,
            "win_rate" => m.win_rate.unwrap_or(f64::NAN),
            "num_trades" => m.num_trades as f64,
            "num_round_trips" => m.num_round_trips as f64,
            "turnover" => m.turnover,
            "exposure" => m.exposure,
            "final_equity" => m.final_equity,
            _ => f64::NAN,
        }
    }
}

/// Runs `cfg` once per combination of `grid` on `threads` threads
/// (0: all cores), data loaded once. `progress` is called with the number
/// of runs done.
///
/// # Errors
/// [`Error::Config`] when the data cannot be loaded or the thread pool
/// cannot start; a failing parameter set is a row with its error instead.
pub fn sweep(
    cfg: &BacktestConfig,
    grid: &Grid,
    threads: usize,
    progress: impl Fn(usize) + Sync,
) -> Result<Vec<SweepRow>> {
    if let Some(f) = &cfg.strategy.file {
        return Err(Error::Config {
            path: cfg.path.clone(),
            message: format!(
                "sweep varies [strategy.params]; the strategy file {} has none (use a built-in strategy)",
                f.display()
            ),
        });
    }
    let prepared = Arc::new(prepare(cfg)?);
    let combos = grid.combinations();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Config {
            path: cfg.path.clone(),
            message: format!("sweep thread pool: {e}"),
        })?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let rows = pool.install(|| {
        combos
            .par_iter()
            .enumerate()
            .map(|(index, params)| {
                let mut c = cfg.clone();
                for (k, v) in params {
                    c.strategy.params.insert(k.clone(), v.clone());
                }
                let r = run_prepared(&c, (*prepared).clone(), |_, _| {});
                progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                match r {
                    Ok(res) => SweepRow {
                        index,
                        params: params.clone(),
                        metrics: Some(res.metrics),
                        error: None,
                    },
                    Err(e) => SweepRow {
                        index,
                        params: params.clone(),
                        metrics: None,
                        error: Some(e.to_string()),
                    },
                }
            })
            .collect::<Vec<_>>()
    });
    Ok(rows)
}

/// Whether a smaller value of `metric` is better.
fn lower_is_better(metric: &str) -> bool {
    matches!(metric, "max_drawdown" | "annual_volatility")
}

/// Sorts `rows` best first by `metric` (one of [`SWEEP_METRICS`]); failed
/// runs and NaN last; ties in combination order.
///
/// # Errors
/// A message listing the metric names when `metric` is not one of them.
pub fn sort_rows(rows: &mut [SweepRow], metric: &str) -> std::result::Result<(), String> {
    if !SWEEP_METRICS.contains(&metric) {
        return Err(format!(
            "unknown sort metric `{metric}`; one of: {}",
            SWEEP_METRICS.join(", ")
        ));
    }
    let low = lower_is_better(metric);
    rows.sort_by(|a, b| {
        let (x, y) = (a.metric(metric), b.metric(metric));
        let key = |v: f64| {
            if v.is_nan() {
                f64::INFINITY
            } else if low {
                v
            } else {
                -v
            }
        };
        key(x).total_cmp(&key(y)).then(a.index.cmp(&b.index))
    });
    Ok(())
}

/// Renders a TOML value as a table cell (strings without quotes).
fn cell(v: Option<&toml::Value>) -> String {
    match v {
        Some(toml::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

/// The rows as CSV: `rank`, the parameters, [`SWEEP_METRICS`], `error`;
/// numbers with full precision, empty for none.
pub fn sweep_csv(rows: &[SweepRow], params: &[String]) -> String {
    let mut s = String::from("rank");
    for p in params {
        let _ = write!(s, ",{p}");
    }
    for m in SWEEP_METRICS {
        let _ = write!(s, ",{m}");
    }
    s.push_str(",error\n");
    for (rank, r) in rows.iter().enumerate() {
        let _ = write!(s, "{}", rank + 1);
        for p in params {
            let _ = write!(s, ",{}", cell(r.params.get(p)));
        }
        for m in SWEEP_METRICS {
            let v = r.metric(m);
            if v.is_finite() {
                let _ = write!(s, ",{v}");
            } else {
                s.push(',');
            }
        }
        let _ = writeln!(
            s,
            ",{}",
            r.error
                .as_deref()
                .map(|e| format!("\"{}\"", e.replace('"', "\"\"")))
                .unwrap_or_default()
        );
    }
    s
}

/// Writes `sweep.csv` and `sweep.parquet` (parameters as text, metrics as
/// doubles, NaN for none) into `dir`; returns their paths.
///
/// # Errors
/// [`Error::Output`] naming the file.
pub fn write_sweep(rows: &[SweepRow], params: &[String], dir: &Path) -> Result<Vec<PathBuf>> {
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
    use arrow_schema::{DataType, Field, Schema};
    let out_err = |p: &Path, e: &dyn std::fmt::Display| Error::Output {
        path: p.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| out_err(dir, &e))?;
    let csv_path = dir.join("sweep.csv");
    std::fs::write(&csv_path, sweep_csv(rows, params)).map_err(|e| out_err(&csv_path, &e))?;

    let pq_path = dir.join("sweep.parquet");
    let mut fields = vec![Field::new("rank", DataType::UInt32, false)];
    let mut cols: Vec<ArrayRef> = vec![Arc::new(UInt32Array::from_iter_values(
        (1..=rows.len()).map(|r| u32::try_from(r).unwrap_or(u32::MAX)),
    ))];
    for p in params {
        fields.push(Field::new(p.as_str(), DataType::Utf8, false));
        cols.push(Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| cell(r.params.get(p))),
        )));
    }
    for m in SWEEP_METRICS {
        fields.push(Field::new(m, DataType::Float64, false));
        cols.push(Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.metric(m)),
        )));
    }
    fields.push(Field::new("error", DataType::Utf8, true));
    cols.push(Arc::new(StringArray::from_iter(
        rows.iter().map(|r| r.error.clone()),
    )));
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| out_err(&pq_path, &e))?;
    let file = std::fs::File::create(&pq_path).map_err(|e| out_err(&pq_path, &e))?;
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None)
        .map_err(|e| out_err(&pq_path, &e))?;
    w.write(&batch).map_err(|e| out_err(&pq_path, &e))?;
    w.close().map_err(|e| out_err(&pq_path, &e))?;
    Ok(vec![csv_path, pq_path])
}
