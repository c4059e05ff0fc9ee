//! Test data: the shipped fixtures and the TA-Lib goldens.

use std::collections::HashMap;
use std::path::PathBuf;

pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// A CSV as named f64 columns (empty cell = NaN) plus its `date` column.
pub struct Table {
    pub dates: Vec<String>,
    pub cols: HashMap<String, Vec<f64>>,
    pub order: Vec<String>,
}

impl Table {
    pub fn col(&self, name: &str) -> &[f64] {
        self.cols
            .get(name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
}

pub fn read_table(path: &std::path::Path) -> Table {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let mut dates = Vec::new();
    let mut cols: HashMap<String, Vec<f64>> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for (h, v) in headers.iter().zip(rec.iter()) {
            if h == "date" {
                dates.push(v.to_string());
            } else {
                let x = if v.is_empty() {
                    f64::NAN
                } else {
                    v.parse().unwrap()
                };
                cols.entry(h.clone()).or_default().push(x);
            }
        }
    }
    let order = headers.into_iter().filter(|h| h != "date").collect();
    Table { dates, cols, order }
}

/// Asserts `got` matches `want`: NaN exactly where TA-Lib has none, values
/// to 1e-9 relative or `abs_floor` absolute.
pub fn assert_close(name: &str, got: &[f64], want: &[f64], abs_floor: f64) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if w.is_nan() || g.is_nan() {
            assert!(
                w.is_nan() && g.is_nan(),
                "{name}[{i}]: got {g}, TA-Lib {w} (NaN positions differ)"
            );
            continue;
        }
        let tol = (1e-9 * w.abs()).max(abs_floor);
        assert!(
            (g - w).abs() <= tol,
            "{name}[{i}]: got {g:.17}, TA-Lib {w:.17} (diff {:e}, tol {tol:e})",
            (g - w).abs()
        );
    }
}

/// The absolute floor for series that cross zero: 1e-9 × median |value|.
pub fn zero_crossing_floor(want: &[f64]) -> f64 {
    let mut v: Vec<f64> = want
        .iter()
        .filter(|x| !x.is_nan())
        .map(|x| x.abs())
        .collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        0.0
    } else {
        1e-9 * v[v.len() / 2]
    }
}
