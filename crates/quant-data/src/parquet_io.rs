//! Daily bars in Parquet.
//!
//! Schema (one file per instrument, the symbol in the file name and in the
//! key-value metadata `symbol`): `date: Date32` (days since 1970-01-01),
//! `open, high, low, close, pre_close, volume, amount, adj_factor: Float64`,
//! all non-null (NaN stands for "absent" as in [`BarSeries`]). One row
//! group per calendar year, with min/max statistics, so a date range loads
//! without decompressing the other years ([`read_parquet_range`]).
//! Compression: ZSTD level 3, plain encoding. Reading validates every row
//! like the CSV reader.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Date32Array, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use chrono::{Datelike, NaiveDate};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::statistics::Statistics;

use crate::csv_io::symbol_from_path;
use crate::error::{Error, Result};
use crate::series::{BAR_COLUMNS, BarSeries};
use crate::validate::check_bar;

/// The value columns: every bar column but `date`.
const FLOAT_COLUMNS: [&str; 8] = {
    let c = BAR_COLUMNS;
    [c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]]
};

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn schema() -> Arc<Schema> {
    let mut fields = vec![Field::new("date", DataType::Date32, false)];
    fields.extend(
        FLOAT_COLUMNS
            .iter()
            .map(|c| Field::new(*c, DataType::Float64, false)),
    );
    Arc::new(Schema::new(fields))
}

fn pq_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `s` as Parquet to any writer (the store writes to a temp file, then renames).
///
/// # Errors
/// [`Error::Parquet`] on encoding or write failure; `path` is used in messages only.
pub fn write_parquet_to<W: Write + Send>(w: W, path: &Path, s: &BarSeries) -> Result<()> {
    let ep = epoch();
    let days: Vec<i32> = s
        .dates
        .iter()
        .map(|d| i32::try_from((*d - ep).num_days()).unwrap_or(i32::MIN))
        .collect();
    let cols: [&Vec<f64>; 8] = [
        &s.open,
        &s.high,
        &s.low,
        &s.close,
        &s.pre_close,
        &s.volume,
        &s.amount,
        &s.adj_factor,
    ];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(Date32Array::from(days))];
    arrays.extend(
        cols.iter()
            .map(|c| Arc::new(Float64Array::from((*c).clone())) as ArrayRef),
    );
    let batch = RecordBatch::try_new(schema(), arrays).map_err(|e| pq_err(path, e))?;
    let kv = s
        .symbol
        .as_ref()
        .map(|sym| vec![KeyValue::new("symbol".to_string(), sym.to_string())]);
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).map_err(|e| pq_err(path, e))?,
        ))
        .set_key_value_metadata(kv)
        // plain encoding + zstd: prices rarely repeat enough for
        // dictionaries to pay (measured: 21.6 vs 26.2 bytes/row, writes
        // 40 % faster, loads as fast; docs/PERFORMANCE.md)
        .set_dictionary_enabled(false)
        .build();
    let mut writer = ArrowWriter::try_new(w, schema(), Some(props)).map_err(|e| pq_err(path, e))?;
    // one row group per calendar year: a date-range read skips the other
    // years by their `date` statistics (see `read_parquet_range`)
    let mut start = 0;
    while start < s.len() {
        let year = s.dates[start].year();
        let end = start + s.dates[start..].partition_point(|d| d.year() == year);
        writer
            .write(&batch.slice(start, end - start))
            .map_err(|e| pq_err(path, e))?;
        writer.flush().map_err(|e| pq_err(path, e))?;
        start = end;
    }
    writer.close().map_err(|e| pq_err(path, e))?;
    Ok(())
}

/// Writes `s` to `path` directly (not atomic; see [`crate::store`] for atomic writes).
///
/// # Errors
/// [`Error::Io`] when the file cannot be created, [`Error::Parquet`] on encoding failure.
pub fn write_parquet(path: &Path, s: &BarSeries) -> Result<()> {
    let f = File::create(path).map_err(|e| Error::io(path, e))?;
    write_parquet_to(f, path, s)
}

/// Reads and validates a Parquet bar file written by [`write_parquet`].
///
/// # Errors
/// [`Error::Io`], [`Error::Parquet`], [`Error::MissingColumn`] when the schema
/// lacks a column, and [`Error::BadRow`] (1-based row number) for a row that
/// fails validation.
pub fn read_parquet(path: &Path) -> Result<BarSeries> {
    read_parquet_range(path, NaiveDate::MIN, NaiveDate::MAX)
}

/// Reads and validates the bars of a Parquet bar file dated `from` to `to`
/// (both inclusive). Only the row groups (calendar years, see
/// [`write_parquet_to`]) whose `date` statistics overlap the range are
/// decompressed; the others are skipped unread.
///
/// # Errors
/// As [`read_parquet`]; row numbers in [`Error::BadRow`] count from the
/// first row read.
pub fn read_parquet_range(path: &Path, from: NaiveDate, to: NaiveDate) -> Result<BarSeries> {
    let symbol = symbol_from_path(path)?;
    // one read of the whole file: bar files are small, and many small reads
    // cost more than the bytes
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(|e| pq_err(path, e))?;
    let have = || {
        builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>()
            .join(",")
    };
    for c in std::iter::once("date").chain(FLOAT_COLUMNS) {
        if builder.schema().field_with_name(c).is_err() {
            return Err(Error::MissingColumn {
                path: path.to_path_buf(),
                column: c,
                have: have(),
            });
        }
    }
    let ep = epoch();
    let days = |d: NaiveDate| {
        i32::try_from((d - ep).num_days()).unwrap_or(if d < ep { i32::MIN } else { i32::MAX })
    };
    let (lo, hi) = (days(from), days(to));
    let md = builder.metadata().clone();
    let date_col = md
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.name() == "date");
    let groups: Vec<usize> = (0..md.num_row_groups())
        .filter(|&g| {
            let stats = date_col.and_then(|c| md.row_group(g).column(c).statistics());
            match stats {
                Some(Statistics::Int32(st)) => match (st.min_opt(), st.max_opt()) {
                    (Some(&min), Some(&max)) => max >= lo && min <= hi,
                    _ => true,
                },
                _ => true,
            }
        })
        .collect();
    let rows: usize = groups
        .iter()
        .map(|&g| usize::try_from(md.row_group(g).num_rows()).unwrap_or(0))
        .sum();
    let reader = builder
        .with_row_groups(groups)
        .with_batch_size(rows.max(1))
        .build()
        .map_err(|e| pq_err(path, e))?;
    let mut day_numbers: Vec<i32> = Vec::with_capacity(rows);
    let mut s = BarSeries {
        symbol: Some(symbol),
        ..BarSeries::default()
    };
    let mut targets: [&mut Vec<f64>; 8] = [
        &mut s.open,
        &mut s.high,
        &mut s.low,
        &mut s.close,
        &mut s.pre_close,
        &mut s.volume,
        &mut s.amount,
        &mut s.adj_factor,
    ];
    for t in &mut targets {
        t.reserve_exact(rows);
    }
    for batch in reader {
        let batch = batch.map_err(|e| pq_err(path, e))?;
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| pq_err(path, format!("no column {name}")))
        };
        let dates = col("date")?
            .as_any()
            .downcast_ref::<Date32Array>()
            .ok_or_else(|| pq_err(path, "date is not Date32"))?;
        day_numbers.extend_from_slice(dates.values());
        for (name, target) in FLOAT_COLUMNS.iter().zip(targets.iter_mut()) {
            let a = col(name)?;
            if a.null_count() > 0 {
                return Err(pq_err(path, format!("column {name} holds nulls")));
            }
            let a = a
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| pq_err(path, format!("{name} is not Float64")))?;
            target.extend_from_slice(a.values());
        }
    }
    // the first and last row groups may hold days outside the range
    let first = day_numbers.partition_point(|&d| d < lo);
    let end = day_numbers.partition_point(|&d| d <= hi).max(first);
    if first > 0 || end < day_numbers.len() {
        day_numbers.truncate(end);
        day_numbers.drain(..first);
        for t in &mut targets {
            t.truncate(end);
            t.drain(..first);
        }
    }
    s.dates =
        dates_from_days(&day_numbers, ep).ok_or_else(|| pq_err(path, "a date is out of range"))?;
    if !crate::validate::rows_valid(&s) || !day_numbers.windows(2).all(|w| w[0] < w[1]) {
        // the slow path names the first bad row and its reason
        for i in 0..s.len() {
            let prev = i.checked_sub(1).map(|p| s.dates[p]);
            check_bar(&s.bar(i), prev).map_err(|reason| Error::BadRow {
                path: path.to_path_buf(),
                line: i as u64 + 1,
                reason,
            })?;
        }
    }
    Ok(s)
}

/// Dates from days since `epoch`; `None` when one is out of `NaiveDate`'s
/// range. Consecutive days take the cheap successor step.
fn dates_from_days(days: &[i32], epoch: NaiveDate) -> Option<Vec<NaiveDate>> {
    let ce0 = chrono::Datelike::num_days_from_ce(&epoch);
    let mut out = Vec::with_capacity(days.len());
    let mut prev: Option<(i32, NaiveDate)> = None;
    for &d in days {
        let date = match prev {
            Some((p, pd)) if d == p + 1 => pd.succ_opt()?,
            _ => NaiveDate::from_num_days_from_ce_opt(ce0.checked_add(d)?)?,
        };
        out.push(date);
        prev = Some((d, date));
    }
    Some(out)
}
