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
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    read_from(std::io::BufReader::new(file), path, validate)
}

/// Reads daily bars in the CSV layout above from any reader; `path` names
/// the source in errors and gives the symbol (its file stem). With
/// `validate`, every row must pass [`check_bar`] (as [`read_csv`]);
/// without, only the fields must parse (as [`read_csv_unchecked`]).
///
/// Never panics, whatever the bytes: invalid UTF-8, short rows, huge or
/// non-numeric fields are errors naming the line and column.
///
/// # Errors
/// As [`read_csv`].
pub fn read_from(reader: impl std::io::Read, path: &Path, validate: bool) -> Result<BarSeries> {
    let symbol = symbol_from_path(path)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
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
        // the record's own line (a quoted field may span lines)
        line = rec.position().map_or(line + 1, csv::Position::line);
        let row = Row {
            path,
            line,
            rec: &rec,
        };
        let date_text = row.text(c_date, "date")?;
        let date = parse_date(date_text).ok_or_else(|| {
            row.bad(
                c_date,
                "date",
                format!("`{}` is not YYYY-MM-DD", clip(date_text)),
            )
        })?;
        let bar = Bar {
            date,
            open: row.num(c_open, "open")?,
            high: row.num(c_high, "high")?,
            low: row.num(c_low, "low")?,
            close: row.num(c_close, "close")?,
            pre_close: row.opt(c_pre, "pre_close", f64::NAN)?,
            volume: row.num(c_vol, "volume")?,
            amount: row.opt(c_amount, "amount", f64::NAN)?,
            adj_factor: row.opt(c_adj, "adj_factor", 1.0)?,
        };
        if validate {
            check_bar(&bar, out.dates.last().copied()).map_err(|reason| Error::BadRow {
                path: path.to_path_buf(),
                line,
                column: None,
                reason,
            })?;
        }
        out.push(&bar);
    }
    Ok(out)
}

/// At most 40 characters of outside text, for messages.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

/// One CSV record being parsed, for field access with located errors.
struct Row<'a> {
    path: &'a Path,
    line: u64,
    rec: &'a csv::ByteRecord,
}

impl Row<'_> {
    fn bad(&self, col: usize, name: &str, reason: String) -> Error {
        Error::BadRow {
            path: self.path.to_path_buf(),
            line: self.line,
            column: Some(format!("{} ({name})", col + 1)),
            reason,
        }
    }

    /// The trimmed text of field `col`; a missing field (short row) is
    /// empty; invalid UTF-8 is an error, never a default.
    fn text(&self, col: usize, name: &str) -> Result<&str> {
        let raw = self.rec.get(col).unwrap_or_default();
        std::str::from_utf8(raw).map(str::trim).map_err(|e| {
            self.bad(
                col,
                name,
                format!(
                    "invalid UTF-8 at byte {} of the field ({:?})",
                    e.valid_up_to() + 1,
                    String::from_utf8_lossy(raw)
                ),
            )
        })
    }

    /// A required number.
    fn num(&self, col: usize, name: &str) -> Result<f64> {
        let s = self.text(col, name)?;
        if s.is_empty() {
            return Err(self.bad(col, name, format!("{name} is empty")));
        }
        s.parse::<f64>()
            .map_err(|_| self.bad(col, name, format!("{name} `{}` is not a number", clip(s))))
    }

    /// An optional number: `default` when the column is absent or the
    /// field is empty.
    fn opt(&self, col: Option<usize>, name: &str, default: f64) -> Result<f64> {
        match col {
            Some(i) if !self.text(i, name)?.is_empty() => self.num(i, name),
            _ => Ok(default),
        }
    }
}

/// Writes a series in the CSV layout above (all nine columns; NaN as an
/// empty cell; shortest round-trip formatting of every number).
///
/// The file is whole or absent ([`crate::commit::write_file_atomic`]).
///
/// # Errors
/// [`Error::Io`] / [`Error::Csv`] on write failure.
pub fn write_csv(path: &Path, s: &BarSeries) -> Result<()> {
    crate::commit::write_file_atomic(path, |out| write_csv_to(out, path, s))
}

/// [`write_csv`] to any writer; `path` names it in errors.
fn write_csv_to(out: &mut dyn std::io::Write, path: &Path, s: &BarSeries) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
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
            assert!(err.contains("X.csv:3"), "{err}");
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

    /// Invalid UTF-8 in any field, required or optional, is an error
    /// naming file, line and column; never a default or an empty value.
    #[test]
    fn invalid_utf8_is_located_not_defaulted() {
        let dir = tempfile::tempdir().unwrap();
        let head = b"date,open,high,low,close,pre_close,volume,amount,adj_factor\n";
        let ok = b"2015-01-05,10,11,9,10,10,100,1000,1.5\n";
        // (bad row, column number, column name)
        let rows: [(&[u8], &str); 4] = [
            (
                b"2015-01-06,10,11,9,1\xff0,10,100,1000,1.5\n",
                "column 5 (close)",
            ),
            (
                b"2015-01-06,10,11,9,10,\xff,100,1000,1.5\n",
                "column 6 (pre_close)",
            ),
            (
                b"2015-01-06,10,11,9,10,10,100,10\xc300,1.5\n",
                "column 8 (amount)",
            ),
            (
                b"2015-01-06,10,11,9,10,10,100,1000,1.\xfe5\n",
                "column 9 (adj_factor)",
            ),
        ];
        for (row, col) in rows {
            let p = dir.path().join("X.csv");
            std::fs::write(&p, [&head[..], ok, row].concat()).unwrap();
            for checked in [true, false] {
                let err = read(&p, checked).unwrap_err().to_string();
                assert!(err.contains("X.csv:3: column"), "{err}");
                assert!(err.contains(col), "{err} should name {col}");
                assert!(err.contains("invalid UTF-8"), "{err}");
            }
        }
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
