//! Reading stored rows back into their types; every unreadable value is
//! an [`Error::Corrupt`] naming table, row and column.

use chrono::{DateTime, NaiveDate, Utc};
use quant_data::quality::{Issue, Rule};
use quant_data::reference::{DailyBasic, ListStatus, ListedInstrument};
use sqlx::any::AnyRow;

use crate::{Error, QualityEntry, Result, UpdateRecord, UpdateStatus, get};

/// The columns of `fundamentals`, in [`DailyBasic`]'s field order.
pub(crate) const FUNDAMENTAL_COLUMNS: [&str; 12] = [
    "symbol",
    "date",
    "close",
    "turnover_rate",
    "pe",
    "pe_ttm",
    "pb",
    "dv_ttm",
    "total_share",
    "float_share",
    "total_mv",
    "circ_mv",
];

/// A stored `YYYY-MM-DD`.
pub(crate) fn parse_day(
    text: &str,
    table: &'static str,
    key: &str,
    column: &'static str,
) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| Error::Corrupt {
        table,
        key: key.to_string(),
        column,
        value: text.to_string(),
        expected: "a date YYYY-MM-DD",
    })
}

/// A stored RFC 3339 instant.
fn parse_instant(
    text: &str,
    table: &'static str,
    key: &str,
    column: &'static str,
) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::Corrupt {
            table,
            key: key.to_string(),
            column,
            value: text.to_string(),
            expected: "an RFC 3339 instant",
        })
}

/// A date column.
pub(crate) fn date(
    row: &AnyRow,
    table: &'static str,
    key: &str,
    column: &'static str,
) -> Result<NaiveDate> {
    parse_day(&get::<String>(row, column, table)?, table, key, column)
}

/// A nullable date column.
fn opt_date(
    row: &AnyRow,
    table: &'static str,
    key: &str,
    column: &'static str,
) -> Result<Option<NaiveDate>> {
    get::<Option<String>>(row, column, table)?
        .map(|t| parse_day(&t, table, key, column))
        .transpose()
}

/// An integer column.
pub(crate) fn int(row: &AnyRow, column: &'static str, table: &'static str) -> Result<i64> {
    get(row, column, table)
}

/// A float column.
pub(crate) fn float(row: &AnyRow, column: &'static str, table: &'static str) -> Result<f64> {
    get(row, column, table)
}

/// A row count column.
fn rows_count(row: &AnyRow, column: &'static str, key: &str) -> Result<u64> {
    let n = int(row, column, "update_history")?;
    u64::try_from(n).map_err(|_| Error::Corrupt {
        table: "update_history",
        key: key.to_string(),
        column,
        value: n.to_string(),
        expected: "a row count ≥ 0",
    })
}

/// One `instruments` row.
pub(crate) fn instrument(row: &AnyRow) -> Result<ListedInstrument> {
    const T: &str = "instruments";
    let symbol: String = get(row, "symbol", T)?;
    let status: String = get(row, "status", T)?;
    Ok(ListedInstrument {
        name: get(row, "name", T)?,
        exchange: get(row, "exchange", T)?,
        market: get(row, "board", T)?,
        industry: get(row, "industry", T)?,
        list_date: opt_date(row, T, &symbol, "list_date")?,
        delist_date: opt_date(row, T, &symbol, "delist_date")?,
        status: ListStatus::from_code(&status).ok_or_else(|| Error::Corrupt {
            table: T,
            key: symbol.clone(),
            column: "status",
            value: status.clone(),
            expected: "L, D or P",
        })?,
        symbol,
    })
}

/// One `fundamentals` row.
pub(crate) fn fundamentals(row: &AnyRow) -> Result<DailyBasic> {
    const T: &str = "fundamentals";
    let symbol: String = get(row, "symbol", T)?;
    let f = |c: &'static str| get::<Option<f64>>(row, c, T);
    Ok(DailyBasic {
        date: date(row, T, &symbol, "date")?,
        close: f("close")?,
        turnover_rate: f("turnover_rate")?,
        pe: f("pe")?,
        pe_ttm: f("pe_ttm")?,
        pb: f("pb")?,
        dv_ttm: f("dv_ttm")?,
        total_share: f("total_share")?,
        float_share: f("float_share")?,
        total_mv: f("total_mv")?,
        circ_mv: f("circ_mv")?,
        symbol,
    })
}

/// One `update_history` row.
pub(crate) fn update(row: &AnyRow) -> Result<UpdateRecord> {
    const T: &str = "update_history";
    let id = int(row, "id", T)?;
    let key = format!("id {id}");
    let status: String = get(row, "status", T)?;
    Ok(UpdateRecord {
        id,
        started_at: parse_instant(&get::<String>(row, "started_at", T)?, T, &key, "started_at")?,
        finished_at: parse_instant(
            &get::<String>(row, "finished_at", T)?,
            T,
            &key,
            "finished_at",
        )?,
        market: get(row, "market", T)?,
        kind: get(row, "kind", T)?,
        symbol: get(row, "symbol", T)?,
        requested_start: date(row, T, &key, "requested_start")?,
        requested_end: date(row, T, &key, "requested_end")?,
        provider: get(row, "provider", T)?,
        status: match status.as_str() {
            "ok" => UpdateStatus::Ok,
            "failed" => UpdateStatus::Failed,
            _ => {
                return Err(Error::Corrupt {
                    table: T,
                    key,
                    column: "status",
                    value: status,
                    expected: "ok or failed",
                });
            }
        },
        rows_fetched: rows_count(row, "rows_fetched", &key)?,
        rows_stored: rows_count(row, "rows_stored", &key)?,
        rows_quarantined: rows_count(row, "rows_quarantined", &key)?,
        last_date: opt_date(row, T, &key, "last_date")?,
        message: get(row, "message", T)?,
    })
}

/// One `quality_log` row.
pub(crate) fn quality(row: &AnyRow) -> Result<QualityEntry> {
    const T: &str = "quality_log";
    let id = int(row, "id", T)?;
    let key = format!("id {id}");
    let rule: String = get(row, "rule", T)?;
    Ok(QualityEntry {
        id,
        update_id: get(row, "update_id", T)?,
        recorded_at: parse_instant(
            &get::<String>(row, "recorded_at", T)?,
            T,
            &key,
            "recorded_at",
        )?,
        issue: Issue {
            symbol: get(row, "symbol", T)?,
            rule: Rule::from_name(&rule).ok_or_else(|| Error::Corrupt {
                table: T,
                key: key.clone(),
                column: "rule",
                value: rule.clone(),
                expected: "a quality rule name",
            })?,
            date: date(row, T, &key, "date")?,
            detail: get(row, "detail", T)?,
        },
    })
}
