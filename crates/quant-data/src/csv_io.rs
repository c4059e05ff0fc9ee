//! The daily-bar CSV layout of `shared/data/`.
//!
//! Header row, then one row per trading day, ascending:
//! `date,open,high,low,close[,pre_close],volume[,amount][,adj_factor]` in any
//! column order. `date` is `YYYY-MM-DD`. Required: date, open, high, low,
//! close, volume. Optional: pre_close (NaN when absent), amount (NaN),
//! adj_factor (1.0). Other columns are ignored. Every row is validated with
//! [`crate::validate::check_bar`]; the first bad row fails the whole file
//! with its line number.

use std::path::Path;

use chrono::NaiveDate;
use quant_core::{Bar, Symbol};

use crate::error::{Error, Result};
use crate::series::{BAR_COLUMNS, BarSeries};
use crate::validate::check_bar;

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    };
    NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)
}

/// Symbol from a file name: the stem (`600519.SH.csv` → `600519.SH`).
///
/// # Errors
/// [`Error::Symbol`] when the stem is not a valid symbol.
pub fn symbol_from_path(path: &Path) -> Result<Symbol> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    Symbol::new(stem).map_err(|source| Error::Symbol {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads and validates a daily-bar CSV file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened, [`Error::MissingColumn`],
/// [`Error::Csv`] for malformed CSV and [`Error::BadRow`] naming the line and
/// reason for the first row that fails to parse or validate.
pub fn read_csv(path: &Path) -> Result<BarSeries> {
    read(path, true)
}

/// Reads a daily-bar CSV file without the row rules (dates may repeat or go
/// backwards, prices may be inconsistent): for the quality report, which
/// wants every problem, not the first. Fields must still parse.
///
/// # Errors
/// As [`read_csv`], except [`Error::BadRow`] only for unparseable fields.
pub fn read_csv_unchecked(path: &Path) -> Result<BarSeries> {
    read(path, false)
}

fn read(path: &Path, validate: bool) -> Result<BarSeries> {
    let symbol = symbol_from_path(path)?;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(std::io::BufReader::new(file));
    let headers = rdr
        .byte_headers()
        .map_err(|source| Error::Csv {
            path: path.to_path_buf(),
            source,
        })?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h == name.as_bytes());
    let have = || {
        headers
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect::<Vec<_>>()
            .join(",")
    };
    let need = |name: &'static str| {
        find(name).ok_or_else(|| Error::MissingColumn {
            path: path.to_path_buf(),
            column: name,
            have: have(),
        })
    };
    let (c_date, c_open, c_high, c_low, c_close, c_vol) = (
        need("date")?,
        need("open")?,
        need("high")?,
        need("low")?,
        need("close")?,
        need("volume")?,
    );
    let (c_pre, c_amount, c_adj) = (find("pre_close"), find("amount"), find("adj_factor"));

    let mut out = BarSeries {
        symbol: Some(symbol),
        ..BarSeries::default()
    };
    let mut rec = csv::ByteRecord::new();
    let mut line: u64 = 1;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(source) => {
                return Err(Error::Csv {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        line += 1;
        let bad = |reason: String| Error::BadRow {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let field = |i: usize| {
            std::str::from_utf8(rec.get(i).unwrap_or_default())
                .unwrap_or("")
                .trim()
        };
        let num = |i: usize, name: &str| -> Result<f64> {
            let s = field(i);
            if s.is_empty() {
                return Err(bad(format!("{name} is empty")));
            }
            s.parse::<f64>()
                .map_err(|_| bad(format!("{name} `{s}` is not a number")))
        };
        let opt = |c: Option<usize>, name: &str, default: f64| -> Result<f64> {
            match c {
                Some(i) if !field(i).is_empty() => num(i, name),
                _ => Ok(default),
            }
        };
        let date_text = field(c_date);
        let date = parse_date(date_text)
            .ok_or_else(|| bad(format!("date `{date_text}` is not YYYY-MM-DD")))?;
        let bar = Bar {
            date,
            open: num(c_open, "open")?,
            high: num(c_high, "high")?,
            low: num(c_low, "low")?,
            close: num(c_close, "close")?,
            pre_close: opt(c_pre, "pre_close", f64::NAN)?,
            volume: num(c_vol, "volume")?,
            amount: opt(c_amount, "amount", f64::NAN)?,
            adj_factor: opt(c_adj, "adj_factor", 1.0)?,
        };
        if validate {
            check_bar(&bar, out.dates.last().copied()).map_err(bad)?;
        }
        out.push(&bar);
    }
    Ok(out)
}

/// Writes a series in the CSV layout above (all nine columns; NaN as an
/// empty cell; shortest round-trip formatting of every number).
///
/// # Errors
/// [`Error::Io`] / [`Error::Csv`] on write failure.
pub fn write_csv(path: &Path, s: &BarSeries) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|source| Error::Csv {
        path: path.to_path_buf(),
        source,
    })?;
    let wrap = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    w.write_record(BAR_COLUMNS).map_err(wrap)?;
    let f = |x: f64| {
        if x.is_nan() {
            String::new()
        } else {
            x.to_string()
        }
    };
    for i in 0..s.len() {
        w.write_record([
            s.dates[i].to_string(),
            f(s.open[i]),
            f(s.high[i]),
            f(s.low[i]),
            f(s.close[i]),
            f(s.pre_close[i]),
            f(s.volume[i]),
            f(s.amount[i]),
            f(s.adj_factor[i]),
        ])
        .map_err(wrap)?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    #[test]
    fn reads_index_layout_without_optional_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "000300.SH.csv",
            "date,open,high,low,close,volume,amount\n2015-01-05,3566.089,3669.042,3551.51,3641.541,45119809800,519849817448\n",
        );
        let s = read_csv(&p).unwrap();
        assert_eq!(s.len(), 1);
        assert!(s.pre_close[0].is_nan());
        assert_eq!(s.adj_factor[0], 1.0);
        assert_eq!(s.symbol.unwrap().as_str(), "000300.SH");
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let head = "date,open,high,low,close,volume\n";
        let ok = "2015-01-05,10,11,9,10,100\n";
        let cases = [
            (
                "2015-01-06,10,11,9,abc,100\n",
                "close `abc` is not a number",
            ),
            ("2015-01-05,10,11,9,10,100\n", "duplicate date"),
            ("2015-01-06,10,11,10.5,10,100\n", "low 10.5 is above"),
            ("2015-01-06,10,11,9,10,-5\n", "volume"),
            ("2015-01-06,NaN,11,9,10,5\n", "open is not a finite number"),
            ("2015/01/06,10,11,9,10,5\n", "is not YYYY-MM-DD"),
        ];
        for (row, want) in cases {
            let p = write(dir.path(), "X.csv", &format!("{head}{ok}{row}"));
            let err = read_csv(&p).unwrap_err().to_string();
            assert!(err.contains("X.csv:3:"), "{err}");
            assert!(err.contains(want), "{err} should contain {want}");
        }
        let p = write(dir.path(), "Y.csv", "date,open,high,low,volume\n");
        assert!(
            read_csv(&p)
                .unwrap_err()
                .to_string()
                .contains("missing column `close`")
        );
    }

    #[test]
    fn csv_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "600036.SH.csv",
            "date,open,high,low,close,pre_close,volume,amount,adj_factor\n2015-01-05,16.56,17.07,16.25,16.68,16.59,500187128,8302084428,3.57544889\n",
        );
        let s = read_csv(&p).unwrap();
        let q = dir.path().join("600036.SH.out.csv");
        write_csv(&q, &s).unwrap();
        let mut t = read_csv(&q).unwrap();
        t.symbol = s.symbol.clone();
        assert_eq!(s, t);
    }
}
