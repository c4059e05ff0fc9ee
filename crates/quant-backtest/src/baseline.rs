//! Regression baselines: a stored summary and per-metric tolerances.
//!
//! A baseline file is JSON:
//! ```json
//! { "tolerance": { "relative": 1e-9, "absolute": 1e-12,
//!                  "metrics": { "sharpe": { "relative": 1e-6, "absolute": 0 } } },
//!   "metrics": { "total_return": 0.18, "num_trades": 74, "start": "2015-01-05", … } }
//! ```
//! Every scalar of `metrics` is checked: numbers pass when
//! |actual − baseline| ≤ max(absolute, relative × |baseline|) with the
//! metric's own tolerance or the default; strings, booleans and nulls must be
//! equal. A metric missing from the run is a drift.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// A tolerance for one number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    /// Relative tolerance (fraction of the baseline value).
    #[serde(default)]
    pub relative: f64,
    /// Absolute tolerance.
    #[serde(default)]
    pub absolute: f64,
}

/// Default and per-metric tolerances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tolerances {
    /// Default relative tolerance.
    pub relative: f64,
    /// Default absolute tolerance.
    pub absolute: f64,
    /// Overrides by metric name.
    #[serde(default)]
    pub metrics: BTreeMap<String, Tolerance>,
}

impl Default for Tolerances {
    fn default() -> Self {
        Self {
            relative: 1e-9,
            absolute: 1e-12,
            metrics: BTreeMap::new(),
        }
    }
}

/// A stored baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Tolerances.
    #[serde(default)]
    pub tolerance: Tolerances,
    /// Scalar metrics by name.
    pub metrics: BTreeMap<String, Value>,
}

/// One metric that moved beyond its tolerance.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    /// Metric name.
    pub metric: String,
    /// Value in the baseline.
    pub baseline: Value,
    /// Value in this run (`null` when missing).
    pub actual: Value,
    /// Allowed absolute difference (numbers only).
    pub allowed: Option<f64>,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.allowed {
            Some(a) => write!(
                f,
                "{}: baseline {} → now {} (allowed ±{a:e})",
                self.metric, self.baseline, self.actual
            ),
            None => write!(
                f,
                "{}: baseline {} → now {}",
                self.metric, self.baseline, self.actual
            ),
        }
    }
}

/// Scalar entries of a summary (a JSON object); arrays and objects are skipped.
pub fn scalars(summary: &Value) -> BTreeMap<String, Value> {
    summary
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_array() && !v.is_object())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

impl Baseline {
    /// A baseline of `summary` with default tolerances.
    pub fn from_summary(summary: &Value) -> Self {
        Self {
            tolerance: Tolerances::default(),
            metrics: scalars(summary),
        }
    }

    /// Reads a baseline file.
    ///
    /// # Errors
    /// [`Error::Baseline`] when unreadable or not a baseline.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Baseline {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| Error::Baseline {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Writes the baseline as pretty JSON. An existing file's tolerances are kept.
    ///
    /// # Errors
    /// [`Error::Baseline`] when the file cannot be written.
    pub fn store(&self, path: &Path) -> Result<()> {
        let mut out = self.clone();
        if let Ok(old) = Self::load(path) {
            out.tolerance = old.tolerance;
        }
        let text = serde_json::to_string_pretty(&out).map_err(|e| Error::Baseline {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Baseline {
                path: dir.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        std::fs::write(path, text + "\n").map_err(|e| Error::Baseline {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Every metric of the baseline that `summary` moved beyond tolerance.
    pub fn compare(&self, summary: &Value) -> Vec<Drift> {
        let now = scalars(summary);
        let mut drifts = Vec::new();
        for (name, base) in &self.metrics {
            let actual = now.get(name).cloned().unwrap_or(Value::Null);
            match (base.as_f64(), actual.as_f64()) {
                (Some(b), Some(a)) => {
                    let t = self
                        .tolerance
                        .metrics
                        .get(name)
                        .copied()
                        .unwrap_or(Tolerance {
                            relative: self.tolerance.relative,
                            absolute: self.tolerance.absolute,
                        });
                    let allowed = t.absolute.max(t.relative * b.abs());
                    if (a - b).abs() > allowed || a.is_nan() != b.is_nan() {
                        drifts.push(Drift {
                            metric: name.clone(),
                            baseline: base.clone(),
                            actual,
                            allowed: Some(allowed),
                        });
                    }
                }
                _ => {
                    if *base != actual {
                        drifts.push(Drift {
                            metric: name.clone(),
                            baseline: base.clone(),
                            actual,
                            allowed: None,
                        });
                    }
                }
            }
        }
        drifts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drifts_are_reported_per_metric() {
        let base: Value = serde_json::json!({"sharpe": 1.0, "num_trades": 10, "start": "2015-01-05", "monthly_returns": []});
        let mut b = Baseline::from_summary(&base);
        assert!(!b.metrics.contains_key("monthly_returns"));
        b.tolerance.metrics.insert(
            "sharpe".into(),
            Tolerance {
                relative: 0.01,
                absolute: 0.0,
            },
        );
        assert!(b.compare(&base).is_empty());
        let now = serde_json::json!({"sharpe": 1.005, "num_trades": 11, "start": "2015-01-05"});
        let d = b.compare(&now);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].metric, "num_trades");
        let now = serde_json::json!({"sharpe": 1.02, "num_trades": 10});
        let names: Vec<_> = b.compare(&now).into_iter().map(|d| d.metric).collect();
        assert_eq!(names, vec!["sharpe", "start"]);
    }
}
