//! A Parquet store of daily bars, and atomic import from a CSV folder.
//!
//! Layout: the input folder's tree mirrored, one `SYMBOL.parquet` per CSV
//! file (`cn/daily/600519.SH.csv` → `STORE/cn/daily/600519.SH.parquet`).
//!
//! Import is all-or-nothing for the data: every CSV is read and validated
//! before anything is written; then each file is written to a temporary file
//! in its target folder and only when all are written are they renamed into
//! place. A bad row or a failed write leaves the store as it was (temporary
//! files are removed).

use std::path::{Path, PathBuf};

use crate::csv_io::read_csv;
use crate::error::{Error, Result};
use crate::parquet_io::{read_parquet, write_parquet_to};
use crate::series::BarSeries;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Files written, as paths inside the store.
    pub files: Vec<PathBuf>,
    /// Bars written in total.
    pub rows: usize,
}

/// Loads one instrument's bars from a `.csv` or `.parquet` file (by extension).
///
/// # Errors
/// Whatever the reader for that format returns; [`Error::Io`] for another extension.
pub fn load_series(path: &Path) -> Result<BarSeries> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => read_csv(path),
        Some("parquet") => crate::parquet_io::read_parquet(path),
        _ => Err(Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "expected a .csv or .parquet file",
            ),
        )),
    }
}

/// Every file under `dir` (recursively) whose extension is `ext`, sorted by path.
///
/// # Errors
/// [`Error::Io`] when a folder cannot be read.
pub fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let path = entry.map_err(|e| Error::io(&d, e))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Imports every daily-bar file under `input` — CSV (the `shared/data`
/// layout) and Parquet (this store's schema, e.g. another store's files)
/// — into the Parquet store at `store`, at the same relative path with a
/// `.parquet` extension. `progress` is called after each file is read and
/// validated with (files done, files total).
///
/// Files that do not hold daily bars (no `open`/`close` columns, such as
/// metadata tables) are reported as errors: point `input` at bar folders only.
///
/// # Errors
/// The first read/validation error (naming file, line and reason), or a write
/// error; in every case no file of the store has been changed.
pub fn import_dir(
    input: &Path,
    store: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport> {
    let mut files = files_with_extension(input, "csv")?;
    files.extend(files_with_extension(input, "parquet")?);
    files.sort();
    if files.is_empty() {
        return Err(Error::Empty {
            path: input.to_path_buf(),
        });
    }
    let mut loaded: Vec<(PathBuf, BarSeries)> = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let series = load_series(f)?;
        let rel = f.strip_prefix(input).unwrap_or(f).with_extension("parquet");
        if let Some(k) = loaded.iter().position(|(r, _)| *r == rel) {
            return Err(Error::io(
                f,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!(
                        "holds the same series as {} (both would be {})",
                        files[k].display(),
                        rel.display()
                    ),
                ),
            ));
        }
        loaded.push((rel, series));
        progress(i + 1, files.len());
    }
    let mut staged = Vec::with_capacity(loaded.len());
    let mut rows = 0;
    for (rel, series) in &loaded {
        let target = store.join(rel);
        let tmp = stage(&target, series)?;
        rows += series.len();
        staged.push((tmp, target, rel.clone()));
    }
    let mut written = Vec::with_capacity(staged.len());
    for (tmp, target, rel) in staged {
        tmp.persist(&target)
            .map_err(|e| Error::io(&target, e.error))?;
        written.push(rel);
    }
    Ok(ImportReport {
        files: written,
        rows,
    })
}

/// Reads back every `.parquet` file under `store` (used to check an import).
///
/// # Errors
/// The first read or validation error.
pub fn load_store(store: &Path) -> Result<Vec<BarSeries>> {
    files_with_extension(store, "parquet")?
        .iter()
        .map(|p| read_parquet(p))
        .collect()
}

/// Writes `series` to `target` atomically: a temporary file in the same
/// folder, synced, then renamed over `target`. A crash at any point leaves
/// either the old file or the new one, never a partial file (the temporary
/// file is removed on error, or left with a `.tmp` suffix that no reader
/// loads).
///
/// # Errors
/// [`Error::Io`] or a Parquet write error; `target` is then unchanged.
pub fn write_atomic(target: &Path, series: &BarSeries) -> Result<()> {
    stage(target, series)?
        .persist(target)
        .map_err(|e| Error::io(target, e.error))?;
    Ok(())
}

/// Writes `series` to a synced temporary file (`.write-*.tmp`, removed when
/// dropped) in `target`'s folder, created if missing: the first half of an
/// atomic write; persisting it over `target` is the second.
fn stage(target: &Path, series: &BarSeries) -> Result<tempfile::NamedTempFile> {
    let parent = target
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".write-")
        .suffix(".tmp")
        .tempfile_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    write_parquet_to(tmp.as_file(), target, series)?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    Ok(tmp)
}

/// Merges `bars` into the Parquet file `target` (created if missing): a
/// fetched bar replaces a stored bar of the same date, every other stored
/// bar is kept; the result is written with [`write_atomic`]. Returns the
/// merged series.
///
/// # Errors
/// A read error of the existing file (which is then left as it is), or a
/// write error.
pub fn merge_bars(target: &Path, bars: &[quant_core::Bar]) -> Result<BarSeries> {
    let mut by_date = std::collections::BTreeMap::new();
    if target.is_file() {
        let old = read_parquet(target)?;
        for i in 0..old.len() {
            by_date.insert(old.dates[i], old.bar(i));
        }
    }
    for b in bars {
        by_date.insert(b.date, *b);
    }
    let mut merged = BarSeries {
        symbol: Some(crate::csv_io::symbol_from_path(target)?),
        ..BarSeries::default()
    };
    for b in by_date.values() {
        merged.push(b);
    }
    write_atomic(target, &merged)?;
    Ok(merged)
}

/// Writes quarantined rows, each with its reason, to the CSV file `path`
/// (folders created; replaced if present): the bar columns of the data
/// layout plus `reason`.
///
/// # Errors
/// [`Error::Io`] or [`Error::Csv`] naming `path`.
pub fn write_quarantine(path: &Path, rows: &[(quant_core::Bar, String)]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut w = csv::Writer::from_path(path).map_err(|e| Error::Csv {
        path: path.to_path_buf(),
        source: e,
    })?;
    let header = crate::series::BAR_COLUMNS.iter().chain(&["reason"]);
    w.write_record(header).map_err(|e| Error::Csv {
        path: path.to_path_buf(),
        source: e,
    })?;
    for (b, why) in rows {
        let nums = [
            b.open,
            b.high,
            b.low,
            b.close,
            b.pre_close,
            b.volume,
            b.amount,
            b.adj_factor,
        ];
        let mut rec = vec![b.date.to_string()];
        rec.extend(nums.iter().map(|v| crate::format_g17(*v)));
        rec.push(why.clone());
        w.write_record(&rec).map_err(|e| Error::Csv {
            path: path.to_path_buf(),
            source: e,
        })?;
    }
    w.flush().map_err(|e| Error::io(path, e))?;
    Ok(())
}
