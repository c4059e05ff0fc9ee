//! Stored forms and reading rows back: every unreadable value is an
//! [`Error::Corrupt`] naming table, row and column.

use std::str::FromStr;

use chrono::NaiveDate;
use quant_core::Symbol;
use rust_decimal::Decimal;
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use crate::error::{Error, Result};

/// Rows per multi-row `INSERT` (at most 13 columns: 6,500 bound values,
/// under SQLite's 32,766 and PostgreSQL's 65,535).
pub(crate) const CHUNK: usize = 500;

/// `($1, $2), ($3, $4)…`: `rows` groups of `cols` numbered placeholders,
/// numbered in order of appearance (SQLite numbers `$N` parameters by
/// first appearance, PostgreSQL by N: in order both agree).
pub(crate) fn placeholders(rows: usize, cols: usize) -> String {
    placeholders_nan(rows, cols, &[])
}

/// [`placeholders`] with the columns at the 0-based indices `reals`
/// (`f64`s) written [`nan_null`].
pub(crate) fn placeholders_nan(rows: usize, cols: usize, reals: &[usize]) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            let n = r * cols + c + 1;
            if reals.contains(&c) {
                s.push_str(&nan_null(n));
            } else {
                s.push('$');
                s.push_str(&n.to_string());
            }
        }
        s.push(')');
    }
    s
}

/// How an `f64` parameter `$n` is written: `NULLIF($n, 'NaN')`, so that a
/// NaN is stored as NULL on both back ends (SQLite stores a bound NaN as
/// NULL itself; PostgreSQL would keep it, and treats NaN as equal to
/// NaN). An `f64` is always bound as a value, never as a NULL: sqlx 0.9's
/// `Any` driver sends a NULL `f64` to PostgreSQL typed as `float4`, and
/// the statement it caches with that type then refuses the next
/// non-NULL `f64` ("incorrect binary data format in bind parameter").
pub(crate) fn nan_null(n: usize) -> String {
    format!("NULLIF(${n}, 'NaN')")
}

/// `$from, $from+1, …` (`n` placeholders), for `IN (…)` lists.
pub(crate) fn list(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A date as stored: `YYYY-MM-DD`.
pub(crate) fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A decimal as stored: `rust_decimal`'s text with its scale (`1.50`
/// stays `1.50`), read back exactly.
pub(crate) fn dec(d: Decimal) -> String {
    d.to_string()
}

/// A `u64` (seq, order id) as a BIGINT.
///
/// # Errors
/// [`Error::Invalid`] above 2⁶³ − 1.
pub(crate) fn big(n: u64, table: &'static str, what: &str) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::Invalid {
        table,
        key: what.to_string(),
        message: format!("{n} is beyond the largest storable 9223372036854775807"),
    })
}

/// `url` with any password replaced by `***`, for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// One row being read: its table and key, for errors.
pub(crate) struct Cells<'r> {
    pub(crate) row: &'r AnyRow,
    pub(crate) table: &'static str,
    pub(crate) key: String,
}

impl<'r> Cells<'r> {
    /// Wraps `row` of `table`; the key is filled in once read.
    pub(crate) fn new(row: &'r AnyRow, table: &'static str) -> Self {
        Self {
            row,
            table,
            key: String::new(),
        }
    }

    fn corrupt(&self, column: &'static str, value: String, expected: &'static str) -> Error {
        Error::Corrupt {
            table: self.table,
            key: self.key.clone(),
            column,
            value,
            expected,
        }
    }

    /// A column as `T`.
    pub(crate) fn get<T>(&self, column: &'static str) -> Result<T>
    where
        T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
    {
        self.row
            .try_get(column)
            .map_err(|e| self.corrupt(column, e.to_string(), std::any::type_name::<T>()))
    }

    /// A BIGINT that must be ≥ 0.
    pub(crate) fn u64(&self, column: &'static str) -> Result<u64> {
        let v: i64 = self.get(column)?;
        u64::try_from(v).map_err(|_| self.corrupt(column, v.to_string(), "a count ≥ 0"))
    }

    /// A nullable BIGINT that must be ≥ 0.
    pub(crate) fn opt_u64(&self, column: &'static str) -> Result<Option<u64>> {
        let v: Option<i64> = self.get(column)?;
        v.map(|v| u64::try_from(v).map_err(|_| self.corrupt(column, v.to_string(), "a count ≥ 0")))
            .transpose()
    }

    /// A `YYYY-MM-DD` text.
    pub(crate) fn date(&self, column: &'static str) -> Result<NaiveDate> {
        let t: String = self.get(column)?;
        NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map_err(|_| self.corrupt(column, t, "a date YYYY-MM-DD"))
    }

    /// A decimal text.
    pub(crate) fn dec(&self, column: &'static str) -> Result<Decimal> {
        let t: String = self.get(column)?;
        Decimal::from_str(&t).map_err(|_| self.corrupt(column, t, "a decimal number"))
    }

    /// A nullable decimal text.
    pub(crate) fn opt_dec(&self, column: &'static str) -> Result<Option<Decimal>> {
        let t: Option<String> = self.get(column)?;
        t.map(|t| Decimal::from_str(&t).map_err(|_| self.corrupt(column, t, "a decimal number")))
            .transpose()
    }

    /// A nullable REAL, NULL read as NaN.
    pub(crate) fn real(&self, column: &'static str) -> Result<f64> {
        let v: Option<f64> = self.get(column)?;
        Ok(v.unwrap_or(f64::NAN))
    }

    /// A symbol text.
    pub(crate) fn symbol(&self, column: &'static str) -> Result<Symbol> {
        let t: String = self.get(column)?;
        Symbol::new(t.clone()).map_err(|_| self.corrupt(column, t, "a symbol"))
    }

    /// A text that must be one of `names`, mapped by `parse`.
    pub(crate) fn pick<T>(
        &self,
        column: &'static str,
        expected: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T> {
        let t: String = self.get(column)?;
        parse(&t).ok_or_else(|| self.corrupt(column, t, expected))
    }

    /// A JSON text decoded as `T`.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        &self,
        column: &'static str,
        expected: &'static str,
    ) -> Result<T> {
        let t: String = self.get(column)?;
        serde_json::from_str(&t).map_err(|e| self.corrupt(column, format!("{t} ({e})"), expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_value_in_order() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 1), "($1)");
        assert_eq!(list(3, 2), "$3, $4");
        assert_eq!(
            placeholders_nan(2, 2, &[1]),
            "($1, NULLIF($2, 'NaN')), ($3, NULLIF($4, 'NaN'))"
        );
    }

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://u:secret@127.0.0.1:5432/test"),
            "postgres://u:***@127.0.0.1:5432/test"
        );
        assert_eq!(
            redact("postgres://u@127.0.0.1/test"),
            "postgres://u@127.0.0.1/test"
        );
        assert_eq!(redact("sqlite:/a/journal.db"), "sqlite:/a/journal.db");
    }

    #[test]
    fn stored_forms_are_exact() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap_or_default();
        assert_eq!(day(d), "2024-01-02");
        let x = Decimal::from_str("1.50").unwrap_or_default();
        assert_eq!(dec(x), "1.50");
        assert_eq!(Decimal::from_str(&dec(x)).ok(), Some(x));
        assert!(big(u64::MAX, "journal", "seq").is_err());
        assert_eq!(big(7, "journal", "seq").ok(), Some(7));
    }
}
