//! Fetch into the local store: a failover chain, then `quant-data`'s
//! validation pipeline, then an atomic merge into the Parquet store.
//!
//! Store layout: `STORE/<market>/daily/<SYMBOL>.parquet` for stocks, funds
//! and coins, `STORE/<market>/index/<SYMBOL>.parquet` for indices; rows
//! that fail a hard rule go to `STORE/quarantine/<market>/<SYMBOL>.csv`
//! instead (never into the store). Any provider error leaves the stored
//! file exactly as it was: nothing is written until every fetched row has
//! been checked.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use quant_data::quality::{QualityConfig, QualityReport, check_symbol};

use crate::BarRequest;
use crate::error::Result;
use crate::failover::Failover;

/// What one symbol's fetch did.
#[derive(Debug, Clone)]
pub struct FetchOutcome {
    /// Symbol.
    pub symbol: String,
    /// The provider that served.
    pub provider: String,
    /// Providers that failed first, with their errors.
    pub failed: Vec<(String, String)>,
    /// Bars received.
    pub fetched: usize,
    /// Bars in the stored file after the merge.
    pub stored: usize,
    /// The stored file's last date after the merge (`None` when nothing
    /// is stored).
    pub last_date: Option<NaiveDate>,
    /// Rows quarantined.
    pub quarantined: usize,
    /// The quality report of the fetched rows.
    pub report: QualityReport,
    /// The stored file.
    pub path: PathBuf,
}

/// The stored file of `symbol` in `market` (`cn`, `us`, `crypto`).
pub fn stored_path(store: &Path, market: &str, symbol: &str, index: bool) -> PathBuf {
    store
        .join(market)
        .join(if index { "index" } else { "daily" })
        .join(format!("{symbol}.parquet"))
}

/// The last stored date of `symbol`, `None` when it has no file yet.
///
/// # Errors
/// [`Error::Store`] when the file exists but cannot be read.
pub fn last_stored_date(
    store: &Path,
    market: &str,
    symbol: &str,
    index: bool,
) -> Result<Option<NaiveDate>> {
    let p = stored_path(store, market, symbol, index);
    if !p.is_file() {
        return Ok(None);
    }
    Ok(quant_data::parquet_io::read_parquet(&p)?
        .dates
        .last()
        .copied())
}

/// Fetches `req` through `chain`, checks it (price limits for A-shares,
/// gaps against `calendar` when given), quarantines hard failures and
/// merges the rest into the store.
///
/// # Errors
/// [`Error::AllFailed`] when no provider served (the store is untouched);
/// [`Error::Store`] for a store read/write error (the file is unchanged).
pub async fn fetch_into_store(
    chain: &Failover,
    store: &Path,
    market: &str,
    req: &BarRequest,
    index: bool,
    calendar: Option<&[NaiveDate]>,
    config: QualityConfig,
) -> Result<FetchOutcome> {
    let served = if index {
        chain.index_daily(req).await?
    } else {
        chain.daily_bars(req).await?
    };
    let checked = check_symbol(&req.symbol, index, &served.data, calendar, config);
    let path = stored_path(store, market, &req.symbol, index);
    if !checked.quarantined.is_empty() {
        let q = store
            .join("quarantine")
            .join(market)
            .join(format!("{}.csv", req.symbol));
        quant_data::store::write_quarantine(&q, &checked.quarantined)?;
    }
    let (stored, last_date) = if checked.clean.is_empty() {
        if path.is_file() {
            let kept = quant_data::parquet_io::read_parquet(&path)?;
            (kept.len(), kept.dates.last().copied())
        } else {
            (0, None)
        }
    } else {
        let merged = quant_data::store::merge_bars(&path, &checked.clean)?;
        (merged.len(), merged.dates.last().copied())
    };
    Ok(FetchOutcome {
        symbol: req.symbol.clone(),
        provider: served.provider,
        failed: served.failed,
        fetched: served.data.len(),
        stored,
        last_date,
        quarantined: checked.quarantined.len(),
        report: checked.report,
        path,
    })
}

/// A second provider's view of what [`fetch_into_store`] stored for `req`:
/// the chain without `served_by` (the provider that served) is asked for
/// the same bars, and [`compare_sources`] reports dates only one has and
/// closes further apart than `config.disagreement_tol`. Returns the
/// provider that gave the second opinion and the disagreement report;
/// `None` when no other provider could answer (their errors are not the
/// fetch's failure).
///
/// Compare like with like: both sides are raw (unadjusted) daily bars for
/// A-shares from TuShare and Eastmoney.
///
/// # Errors
/// [`Error::Store`] when the stored file cannot be read.
///
/// [`compare_sources`]: quant_data::quality::compare_sources
pub async fn cross_check(
    chain: &Failover,
    served_by: &str,
    store: &Path,
    market: &str,
    req: &BarRequest,
    index: bool,
    config: QualityConfig,
) -> Result<Option<(String, QualityReport)>> {
    let others = chain.without(served_by);
    let second = if index {
        others.index_daily(req).await
    } else {
        others.daily_bars(req).await
    };
    let Ok(second) = second else {
        return Ok(None);
    };
    let path = stored_path(store, market, &req.symbol, index);
    let stored = if path.is_file() {
        let s = quant_data::parquet_io::read_parquet_range(&path, req.start, req.end)?;
        (0..s.len()).map(|i| s.bar(i)).collect()
    } else {
        Vec::new()
    };
    let report = quant_data::quality::compare_sources(
        &req.symbol,
        (served_by, &stored),
        (&second.provider, &second.data),
        config.disagreement_tol,
    );
    Ok(Some((second.provider, report)))
}

/// The request that brings `symbol` up to `today`: from the day after its
/// last stored bar (or `first` when nothing is stored). `None` when it is
/// already current.
///
/// # Errors
/// As [`last_stored_date`].
pub fn incremental_request(
    store: &Path,
    market: &str,
    symbol: &str,
    index: bool,
    first: NaiveDate,
    today: NaiveDate,
) -> Result<Option<BarRequest>> {
    let start = match last_stored_date(store, market, symbol, index)? {
        Some(last) => match last.succ_opt() {
            Some(d) => d,
            None => return Ok(None),
        },
        None => first,
    };
    Ok((start <= today).then(|| BarRequest {
        symbol: symbol.to_string(),
        start,
        end: today,
    }))
}

/// Symbols with a stored file under `STORE/<market>/daily` (or `index`).
///
/// # Errors
/// [`Error::Store`] when the folder cannot be read.
pub fn stored_symbols(store: &Path, market: &str, index: bool) -> Result<Vec<String>> {
    let dir = store
        .join(market)
        .join(if index { "index" } else { "daily" });
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let files = quant_data::store::files_with_extension(&dir, "parquet")?;
    Ok(files
        .iter()
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect())
}
