//! Daily bars in Parquet.
//!
//! Schema (one file per instrument, the symbol in the file name and in the
//! key-value metadata `symbol`): `date: Date32` (days since 1970-01-01),
//! then `open, high, low, close, pre_close, volume, amount, adj_factor`.
//! Each value column is stored the cheapest exact way:
//!
//! - as `DECIMAL(18, k)` (Parquet INT64 with scale `k`, 0 ≤ k ≤ 4) when
//!   every value of the column has at most `k` decimal places — prices to
//!   the fen or li, volumes in shares, amounts in CNY — checked value by
//!   value so that reading gives back the very same `f64` bits
//!   (`integer as f64 / 10^k` is the correctly rounded quotient, which is
//!   the `f64` the decimal text parsed to); NaN (absent) is a null;
//! - else as `DOUBLE`, non-null (NaN as NaN).
//!
//! Dates and decimals use `DELTA_BINARY_PACKED` encoding (a random walk in
//! fen needs ~8–12 bits per day instead of 64), doubles plain; pages are
//! compressed with Snappy. Measured on the scale benchmark
//! (docs/PERFORMANCE.md): 14 bytes per bar against 21.6 for zstd'd plain
//! doubles, and loading ~2.5× faster.
//!
//! One row group per calendar decade (2000–2009, 2010–2019, …) with min/max
//! statistics, so a date range skips the other decades unread
//! ([`read_parquet_range`]). Finer groups cost load speed: every row group
//! and page has a fixed decoding cost in the Parquet reader (yearly groups
//! measured 2.4× slower to load in full).
//!
//! Reading accepts either column form (and older files of plain zstd'd
//! doubles) and validates every row like the CSV reader.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Date32Array, Decimal64Array, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use chrono::{Datelike, NaiveDate};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, Encoding};
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

/// Years per row group.
const YEARS_PER_ROW_GROUP: i32 = 10;

/// Largest decimal scale tried (4 places: 0.0001).
const MAX_SCALE: i8 = 4;

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn pq_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// `10^k` as `f64` (exact for the scales used).
fn pow10(k: i8) -> f64 {
    10f64.powi(i32::from(k))
}

/// The smallest scale `k ≤ MAX_SCALE` at which every non-NaN value of `xs`
/// is an integer count of `10^-k` that reads back as the same bits, and
/// those integers; `None` when there is none (the column stays `DOUBLE`).
fn as_decimal(xs: &[f64]) -> Option<(i8, Vec<Option<i64>>)> {
    // |v| < 2^53: every integer there is an exact f64
    const LIMIT: f64 = 9_007_199_254_740_992.0;
    'scale: for k in 0..=MAX_SCALE {
        let p = pow10(k);
        let mut out = Vec::with_capacity(xs.len());
        for &x in xs {
            if x.is_nan() {
                out.push(None);
                continue;
            }
            let v = (x * p).round();
            // x is finite here (NaN skipped above, ±inf gives ±inf)
            if v.abs() >= LIMIT {
                continue 'scale;
            }
            #[allow(clippy::cast_possible_truncation)] // |v| < 2^53, integral
            let i = v as i64;
            #[allow(clippy::cast_precision_loss)] // exact below 2^53
            if (i as f64 / p).to_bits() != x.to_bits() {
                continue 'scale;
            }
            out.push(Some(i));
        }
        return Some((k, out));
    }
    None
}

/// Writes `s` as Parquet to any writer (the store writes to a temp file,
/// then renames), in the layout of the module documentation.
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
    let cols = s.value_columns();
    let kv = s
        .symbol
        .as_ref()
        .map(|sym| vec![KeyValue::new("symbol".to_string(), sym.to_string())]);
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(kv)
        .set_dictionary_enabled(false)
        .set_column_encoding("date".into(), Encoding::DELTA_BINARY_PACKED);
    let mut fields = vec![Field::new("date", DataType::Date32, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(Date32Array::from(days))];
    for (name, col) in FLOAT_COLUMNS.iter().zip(cols) {
        match as_decimal(col) {
            Some((k, ints)) => {
                let a = Decimal64Array::from(ints)
                    .with_precision_and_scale(18, k)
                    .map_err(|e| pq_err(path, e))?;
                fields.push(Field::new(*name, DataType::Decimal64(18, k), true));
                arrays.push(Arc::new(a));
                props = props.set_column_encoding((*name).into(), Encoding::DELTA_BINARY_PACKED);
            }
            None => {
                fields.push(Field::new(*name, DataType::Float64, false));
                arrays.push(Arc::new(Float64Array::from(col.clone())));
            }
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| pq_err(path, e))?;
    let mut writer =
        ArrowWriter::try_new(w, schema, Some(props.build())).map_err(|e| pq_err(path, e))?;
    // one row group per calendar decade: a date-range read skips the others
    // by their `date` statistics (see `read_parquet_range`)
    let decade = |d: &NaiveDate| d.year().div_euclid(YEARS_PER_ROW_GROUP);
    let mut start = 0;
    while start < s.len() {
        let group = decade(&s.dates[start]);
        let end = start + s.dates[start..].partition_point(|d| decade(d) == group);
        writer
            .write(&batch.slice(start, end - start))
            .map_err(|e| pq_err(path, e))?;
        writer.flush().map_err(|e| pq_err(path, e))?;
        start = end;
    }
    writer.close().map_err(|e| pq_err(path, e))?;
    Ok(())
}

/// Writes `s` to `path`, whole or not at all (temporary file, fsync,
/// rename: [`crate::commit::write_file_atomic`]); a store's files are
/// written through its commits instead ([`crate::store`]).
///
/// # Errors
/// [`Error::Io`] when the file cannot be created, [`Error::Parquet`] on encoding failure.
pub fn write_parquet(path: &Path, s: &BarSeries) -> Result<()> {
    crate::commit::write_file_atomic(path, |w| write_parquet_to(w, path, s))
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
/// (both inclusive). Only the row groups (calendar decades, see
/// [`write_parquet_to`]) whose `date` statistics overlap the range are
/// decompressed; the others are skipped unread.
///
/// # Errors
/// As [`read_parquet`]; row numbers in [`Error::BadRow`] count from the
/// first row read.
pub fn read_parquet_range(path: &Path, from: NaiveDate, to: NaiveDate) -> Result<BarSeries> {
    // one read of the whole file: bar files are small, and many small reads
    // cost more than the bytes
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    read_parquet_bytes(bytes, path, from, to)
}

/// Rows reserved and decoded per batch at most (a daily series of 4000
/// years; longer files still load, in several batches).
const PREALLOCATED_ROWS: usize = 1 << 20;

/// [`read_parquet_range`] over the bytes of a Parquet file; `path` names
/// it in errors and gives the symbol. Whatever the bytes, this returns an
/// error rather than panicking: a panic inside the Parquet decoder on a
/// damaged file is caught and reported as [`Error::Parquet`].
///
/// # Errors
/// As [`read_parquet_range`].
pub fn read_parquet_bytes(
    bytes: Vec<u8>,
    path: &Path,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BarSeries> {
    // the decoder is third-party code fed outside bytes: a damaged file
    // must be an error naming it, never an abort of the whole command
    match std::panic::catch_unwind(|| decode(bytes, path, from, to)) {
        Ok(r) => r,
        Err(_) => Err(pq_err(path, "damaged file (the Parquet decoder gave up)")),
    }
}

fn decode(bytes: Vec<u8>, path: &Path, from: NaiveDate, to: NaiveDate) -> Result<BarSeries> {
    let symbol = symbol_from_path(path)?;
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
    // the footer's row counts are the file's claim, not a fact: memory is
    // reserved for at most PREALLOCATED_ROWS up front, and batches are
    // bounded, so a hostile footer claiming 2^60 rows fails in the decoder
    // instead of aborting on the allocation
    let rows: usize = groups
        .iter()
        .map(|&g| usize::try_from(md.row_group(g).num_rows()).unwrap_or(0))
        .fold(0usize, usize::saturating_add)
        .min(PREALLOCATED_ROWS);
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
    let mut targets = s.value_columns_mut();
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
            if let Some(d) = a.as_any().downcast_ref::<Decimal64Array>() {
                let p = pow10(d.scale());
                #[allow(clippy::cast_precision_loss)] // the writer checked exactness
                if d.null_count() == 0 {
                    target.extend(d.values().iter().map(|&v| v as f64 / p));
                } else {
                    target.extend(d.iter().map(|v| v.map_or(f64::NAN, |v| v as f64 / p)));
                }
                continue;
            }
            if a.null_count() > 0 {
                return Err(pq_err(path, format!("column {name} holds nulls")));
            }
            let a = a
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| pq_err(path, format!("{name} is neither DOUBLE nor DECIMAL")))?;
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
    // dates ascend, so the first and last bound them all
    let dates_plausible = [s.dates.first(), s.dates.last()]
        .into_iter()
        .flatten()
        .all(|d| crate::validate::check_date(*d).is_ok());
    if !crate::validate::rows_valid(&s)
        || !dates_plausible
        || !day_numbers.windows(2).all(|w| w[0] < w[1])
    {
        // the slow path names the first bad row and its reason
        for i in 0..s.len() {
            let prev = i.checked_sub(1).map(|p| s.dates[p]);
            check_bar(&s.bar(i), prev).map_err(|reason| Error::BadRow {
                path: path.to_path_buf(),
                line: i as u64 + 1,
                column: None,
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
