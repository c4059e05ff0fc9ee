//! A Parquet store of daily bars, and import from a folder of CSV or
//! Parquet files.
//!
//! Layout: the input folder's tree mirrored, one `SYMBOL.parquet` per bar
//! file (`cn/daily/600519.SH.csv` → `STORE/cn/daily/600519.SH.parquet`),
//! the symbol in its normal form (`600519.sh.csv` is `600519.SH`); rows
//! quarantined by the quality pipeline in `STORE/quarantine/` at the same
//! relative path as CSV (`quarantine/cn/daily/600519.SH.csv`, with a
//! `reason` column). Bookkeeping (locks, generation, staged transactions)
//! lives in `STORE/.quant-store/` ([`crate::commit`]).
//!
//! Import is all-or-nothing for the store: every file is read and checked
//! before anything is written, then everything is staged and published by
//! one store-level commit ([`crate::commit`]): a failure or a kill at any
//! point leaves the store as it was, or (after the commit record) as the
//! import made it once the store is next opened.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::commit::{Store, Txn};
use crate::csv_io::read_csv;
use crate::error::{Error, Result};
use crate::parquet_io::read_parquet;
use crate::quality::{QualityConfig, QualityReport};
use crate::series::BarSeries;

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// Files written, as paths inside the store (bar files only).
    pub files: Vec<PathBuf>,
    /// Bars written in total.
    pub rows: usize,
    /// Rows quarantined (not stored) by the quality pipeline.
    pub quarantined: usize,
    /// The quality pipeline's report over every imported file (hard
    /// problems and warnings).
    pub report: QualityReport,
    /// The store's generation after the import's commit.
    pub generation: u64,
}

/// How an import treats bad rows and stored series.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions<'a> {
    /// Replace stored series even when the new one lacks stored dates or
    /// is empty (`--replace`); without it such an import is refused.
    pub replace: bool,
    /// Fail on the first row that breaks a row rule, naming file and line
    /// (`--strict`), instead of quarantining it.
    pub strict: bool,
    /// The exchange's trading days, for the gap warnings.
    pub calendar: Option<&'a [NaiveDate]>,
    /// Thresholds of the warning rules.
    pub quality: QualityConfig,
}

/// One input file of an import, checked: its store path, the bars to
/// store and the quarantined rows with their reasons.
type Loaded = (PathBuf, BarSeries, Vec<(quant_core::Bar, String)>);

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

/// Every file under `dir` (recursively) whose extension is `ext`, sorted by
/// path. Hidden entries (names starting with `.`: the store's
/// bookkeeping, temporary files) are skipped.
///
/// # Errors
/// [`Error::Io`] when a folder cannot be read.
pub fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let entry = entry.map_err(|e| Error::io(&d, e))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
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

/// `p` made absolute with symlinks resolved, also when its last parts do
/// not exist yet (the deepest existing ancestor is canonicalised).
fn resolved(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(cur) {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                cur = parent;
            }
            _ => return abs,
        }
    }
}

/// Refuses an input folder and a store that contain one another: the
/// store's own files would be imported into it.
fn check_apart(input: &Path, store: &Path) -> Result<()> {
    let (i, s) = (resolved(input), resolved(store));
    if s.starts_with(&i) {
        return Err(Error::Store {
            path: store.to_path_buf(),
            message: format!(
                "the store is inside the input folder {}: its own files would be imported into it; put the store elsewhere",
                input.display()
            ),
        });
    }
    if i.starts_with(&s) {
        return Err(Error::Store {
            path: input.to_path_buf(),
            message: format!(
                "the input folder is inside the store {}; import from outside the store",
                store.display()
            ),
        });
    }
    Ok(())
}

/// The store path of a bar file found at `rel` under the input folder:
/// same folders, the stem as a normalised symbol, `.parquet`.
fn store_rel(file: &Path, rel: &Path) -> Result<PathBuf> {
    let symbol = crate::csv_io::symbol_from_path(file)?;
    Ok(rel
        .parent()
        .unwrap_or(Path::new(""))
        .join(format!("{symbol}.parquet")))
}

/// The quarantine file of the store file `rel`: `quarantine/<rel>.csv`.
pub fn quarantine_rel(rel: &Path) -> PathBuf {
    Path::new("quarantine").join(rel.with_extension("csv"))
}

/// Refuses to replace the stored series at `target` (when there is one)
/// by `new` when `new` lacks stored dates or is empty, unless `replace`.
///
/// # Errors
/// [`Error::WouldShrink`] naming the file, how many stored bars would go
/// and the first of them; read errors of the stored file.
pub fn check_no_shrink(target: &Path, new: &[NaiveDate], replace: bool) -> Result<()> {
    if replace {
        return Ok(());
    }
    if !target.is_file() {
        if new.is_empty() {
            return Err(Error::WouldShrink {
                path: target.to_path_buf(),
                message: "no bars to store: an empty series is written only with --replace".into(),
            });
        }
        return Ok(());
    }
    let old = read_parquet(target)?;
    let lost: Vec<NaiveDate> = old
        .dates
        .iter()
        .filter(|d| new.binary_search(d).is_err())
        .copied()
        .collect();
    if let Some(first) = lost.first() {
        return Err(Error::WouldShrink {
            path: target.to_path_buf(),
            message: format!(
                "would drop {} of its {} stored bars (first {first}, last {}); pass --replace to replace the stored series",
                lost.len(),
                old.len(),
                lost.last().unwrap_or(first)
            ),
        });
    }
    Ok(())
}

/// Imports every daily-bar file under `input` — CSV (the `shared/data`
/// layout) and Parquet (this store's schema, e.g. another store's files)
/// — into the Parquet store at `store`, at the same relative path with a
/// `.parquet` extension, in one store-level commit. Every file runs the
/// quality pipeline ([`crate::quality`]): rows that fail a hard rule are
/// quarantined (`STORE/quarantine/…`, reported) unless
/// `options.strict`, which fails instead. `progress` is called after each
/// file is read and checked with (files done, files total).
///
/// Files that do not hold daily bars (no `open`/`close` columns, such as
/// metadata tables) are reported as errors: point `input` at bar folders only.
///
/// # Errors
/// A read error naming file, line and column; with `strict`, the first
/// row that breaks a row rule; [`Error::WouldShrink`] when a stored series
/// would lose dates or an empty one would be stored (without `replace`);
/// [`Error::Store`] when input and store contain one another;
/// [`Error::Locked`] when another command writes to the store; a write
/// error. In every case the store is unchanged.
pub fn import_dir(
    input: &Path,
    store: &Path,
    options: &ImportOptions<'_>,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport> {
    check_apart(input, store)?;
    let mut files = files_with_extension(input, "csv")?;
    files.extend(files_with_extension(input, "parquet")?);
    files.sort();
    if files.is_empty() {
        return Err(Error::Empty {
            path: input.to_path_buf(),
        });
    }
    // (store path, clean bars, quarantined rows with reasons) per file
    let mut loaded: Vec<Loaded> = Vec::with_capacity(files.len());
    let mut report = QualityReport::default();
    for (i, f) in files.iter().enumerate() {
        let raw = match f.extension().and_then(|e| e.to_str()) {
            Some("csv") => crate::csv_io::read_csv_unchecked(f)?,
            _ => load_series(f)?,
        };
        let within = f.strip_prefix(input).unwrap_or(f);
        let rel = store_rel(f, within)?;
        if let Some(k) = loaded.iter().position(|(r, ..)| *r == rel) {
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
        let symbol = raw
            .symbol
            .as_ref()
            .map_or_else(String::new, |s| s.to_string());
        let bars: Vec<_> = (0..raw.len()).map(|k| raw.bar(k)).collect();
        let checked = crate::quality::check_symbol(
            &symbol,
            crate::quality::is_index_path(f, &symbol),
            &bars,
            options.calendar,
            options.quality,
        );
        if options.strict && checked.report.hard() > 0 {
            // the checked reader names the first bad row's line
            load_series(f)?;
            let first = checked.report.issues.iter().find(|i| i.rule.is_hard());
            return Err(Error::Store {
                path: f.clone(),
                message: first.map_or_else(
                    || "a row breaks a row rule".to_string(),
                    |i| format!("{} {}: {}", i.date, i.rule.name(), i.detail),
                ),
            });
        }
        let mut series = BarSeries {
            symbol: raw.symbol.clone(),
            ..BarSeries::default()
        };
        for b in &checked.clean {
            series.push(b);
        }
        report.extend(checked.report);
        loaded.push((rel, series, checked.quarantined));
        progress(i + 1, files.len());
    }
    let store = Store::open(store)?;
    for (rel, series, _) in &loaded {
        check_no_shrink(&store.root().join(rel), &series.dates, options.replace)?;
    }
    let mut txn = store.begin()?;
    let mut rows = 0;
    let mut quarantined = 0;
    let mut written = Vec::with_capacity(loaded.len());
    for (rel, series, bad) in &loaded {
        txn.put_series(rel, series)?;
        rows += series.len();
        if !bad.is_empty() {
            quarantined += bad.len();
            stage_quarantine(&mut txn, &quarantine_rel(rel), bad)?;
        }
        written.push(rel.clone());
    }
    let committed = txn.commit()?;
    Ok(ImportReport {
        files: written,
        rows,
        quarantined,
        report,
        generation: committed.generation,
    })
}

/// Reads back every `.parquet` bar file under `store` (used to check an
/// import), under the store's read lock so that one generation is read.
///
/// # Errors
/// The first read or validation error.
pub fn load_store(store: &Path) -> Result<Vec<BarSeries>> {
    let _guard = crate::commit::read_lock(store)?;
    files_with_extension(store, "parquet")?
        .iter()
        .map(|p| read_parquet(p))
        .collect()
}

/// Merges `bars` into the stored series at the store-relative path `rel`
/// inside `txn` (the transaction's own staged copy when it has one): a
/// new bar replaces a stored bar of the same date, every other stored bar
/// is kept. With `replace` the stored series is replaced by `bars`
/// instead. The result is staged; it becomes visible with the commit.
/// Returns the staged series.
///
/// # Errors
/// A read error of the stored file, [`Error::WouldShrink`] when the
/// result would be empty (or, with `replace`, would lose stored dates —
/// which is what `replace` allows, so only an empty result is refused
/// without it), a write error.
pub fn merge_into(
    txn: &mut Txn<'_>,
    rel: &Path,
    bars: &[quant_core::Bar],
    replace: bool,
) -> Result<BarSeries> {
    let current = txn.current_path(rel);
    let mut by_date = std::collections::BTreeMap::new();
    if !replace && current.is_file() {
        let old = read_parquet(&current)?;
        for i in 0..old.len() {
            by_date.insert(old.dates[i], old.bar(i));
        }
    }
    for b in bars {
        by_date.insert(b.date, *b);
    }
    if by_date.is_empty() && !replace {
        return Err(Error::WouldShrink {
            path: txn.store().root().join(rel),
            message: "no bars to store: an empty series is written only with --replace".into(),
        });
    }
    let mut merged = BarSeries {
        symbol: Some(crate::csv_io::symbol_from_path(rel)?),
        ..BarSeries::default()
    };
    for b in by_date.values() {
        merged.push(b);
    }
    txn.put_series(rel, &merged)?;
    Ok(merged)
}

/// Stages quarantined rows at the store-relative `rel` (see
/// [`write_quarantine_to`]).
///
/// # Errors
/// As [`crate::commit::Txn::put_with`].
pub fn stage_quarantine(
    txn: &mut Txn<'_>,
    rel: &Path,
    rows: &[(quant_core::Bar, String)],
) -> Result<()> {
    txn.put_with(rel, |w, target| write_quarantine_to(w, target, rows))
}

/// Writes quarantined rows, each with its reason, as CSV: the bar columns
/// of the data layout plus `reason`. `path` names the file in errors.
///
/// # Errors
/// [`Error::Csv`] / [`Error::Io`] naming `path`.
pub fn write_quarantine_to(
    w: &mut dyn std::io::Write,
    path: &Path,
    rows: &[(quant_core::Bar, String)],
) -> Result<()> {
    let mut w = csv::Writer::from_writer(w);
    let wrap = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    let header = crate::series::BAR_COLUMNS.iter().chain(&["reason"]);
    w.write_record(header).map_err(wrap)?;
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
        w.write_record(&rec).map_err(wrap)?;
    }
    w.flush().map_err(|e| Error::io(path, e))?;
    Ok(())
}
