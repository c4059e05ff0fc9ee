//! A dated table of `f64` columns (indicator outputs, research results) to
//! CSV or Parquet, chosen by the file extension.
//!
//! CSV: header `date,<columns…>`, dates `YYYY-MM-DD`, numbers with 17
//! significant digits (C's `%.17g`: every `f64` reads back exactly), `NaN`
//! as an empty cell. Parquet: `date: Date32` then one nullable `Float64`
//! column each, `NaN` written as null (what pandas and polars read as
//! missing); ZSTD level 3.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Date32Array, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};

/// `x` with 17 significant digits, as C's `printf("%.17g")`: fixed
/// notation for exponents −5..16, scientific otherwise, trailing zeros
/// dropped; `NaN` is the empty string.
pub fn format_g17(x: f64) -> String {
    if x.is_nan() {
        return String::new();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // the exponent after rounding to 17 digits
    let sci = format!("{x:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-5..17).contains(&exp) {
        let decimals = usize::try_from(16 - exp).unwrap_or(0);
        trim(&format!("{x:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.unsigned_abs())
    }
}

fn check_shape(path: &Path, dates: &[NaiveDate], columns: &[(String, Vec<f64>)]) -> Result<()> {
    for (name, v) in columns {
        if v.len() != dates.len() {
            return Err(Error::Table {
                path: path.to_path_buf(),
                message: format!(
                    "column `{name}` has {} rows, the dates {}",
                    v.len(),
                    dates.len()
                ),
            });
        }
        if name == "date" || columns.iter().filter(|(n, _)| n == name).count() > 1 {
            return Err(Error::Table {
                path: path.to_path_buf(),
                message: format!("column `{name}` appears twice"),
            });
        }
    }
    Ok(())
}

/// Writes `date` plus `columns` to `path`: Parquet when the name ends in
/// `.parquet`, CSV otherwise (see the module docs).
///
/// # Errors
/// [`Error::Table`] for a column of the wrong length or a repeated name,
/// [`Error::Io`]/[`Error::Csv`]/[`Error::Parquet`] on write failure.
pub fn write_table(path: &Path, dates: &[NaiveDate], columns: &[(String, Vec<f64>)]) -> Result<()> {
    check_shape(path, dates, columns)?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        write_parquet_table(path, dates, columns)
    } else {
        write_csv_table(path, dates, columns)
    }
}

fn write_csv_table(path: &Path, dates: &[NaiveDate], columns: &[(String, Vec<f64>)]) -> Result<()> {
    let csv_err = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    crate::commit::write_file_atomic(path, |out| {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec!["date".to_string()];
        header.extend(columns.iter().map(|(n, _)| n.clone()));
        w.write_record(&header).map_err(csv_err)?;
        let mut row = Vec::with_capacity(header.len());
        for (i, d) in dates.iter().enumerate() {
            row.clear();
            row.push(d.format("%Y-%m-%d").to_string());
            row.extend(columns.iter().map(|(_, v)| format_g17(v[i])));
            w.write_record(&row).map_err(csv_err)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}

fn write_parquet_table(
    path: &Path,
    dates: &[NaiveDate],
    columns: &[(String, Vec<f64>)],
) -> Result<()> {
    let pq = |e: &dyn std::fmt::Display| Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    let days: Vec<i32> = dates
        .iter()
        .map(|d| i32::try_from((*d - epoch).num_days()).unwrap_or(i32::MIN))
        .collect();
    let mut fields = vec![Field::new("date", DataType::Date32, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(Date32Array::from(days))];
    for (name, v) in columns {
        fields.push(Field::new(name, DataType::Float64, true));
        let a: Float64Array = v.iter().map(|x| (!x.is_nan()).then_some(*x)).collect();
        arrays.push(Arc::new(a));
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| pq(&e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).map_err(|e| pq(&e))?,
        ))
        .build();
    crate::commit::write_file_atomic(path, |f| {
        let mut w = ArrowWriter::try_new(f, schema, Some(props)).map_err(|e| pq(&e))?;
        w.write(&batch).map_err(|e| pq(&e))?;
        w.close().map_err(|e| pq(&e))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seventeen_significant_digits_like_printf() {
        // expected strings from Python's '%.17g' % x
        let cases = [
            (6.539999999999992, "6.539999999999992"),
            (9451517.0, "9451517"),
            (7_360_634.782_636_658, "7360634.7826366583"),
            (0.1, "0.10000000000000001"),
            (100.0, "100"),
            (-80.0, "-80"),
            (1e-7, "9.9999999999999995e-08"),
            (1.5e20, "1.5e+20"),
            (0.00012345, "0.00012344999999999999"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
        ];
        for (x, want) in cases {
            assert_eq!(format_g17(x), want, "{x:e}");
            assert_eq!(format_g17(x).parse::<f64>().unwrap(), x);
        }
        assert_eq!(format_g17(f64::NAN), "");
    }
}
