//! Fetch into the local store: a failover chain, then `quant-data`'s
//! validation pipeline, then an atomic merge into the Parquet store.
//!
//! Store layout: `STORE/<market>/daily/<SYMBOL>.parquet` for stocks, funds
//! and coins, `STORE/<market>/index/<SYMBOL>.parquet` for indices; rows
//! that fail a hard rule go to `STORE/quarantine/<market>/daily/<SYMBOL>.csv`
//! (or `…/index/…`) instead (never into the store). Everything is staged
//! in the command's store transaction ([`quant_data::commit::Txn`]) and
//! becomes visible with its commit: any provider error, and any kill
//! before the commit, leaves the stored files exactly as they were.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use quant_data::commit::Txn;
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

/// The stored file of `symbol` in `market` (`cn`, `us`, `crypto`), the
/// symbol in its normal form (`600519.sh` is `600519.SH.parquet`).
pub fn stored_path(store: &Path, market: &str, symbol: &str, index: bool) -> PathBuf {
    store.join(stored_rel_lossy(market, symbol, index))
}

/// [`stored_rel`] for a symbol known to be valid; an invalid one is kept
/// as given (and then names no stored file).
fn stored_rel_lossy(market: &str, symbol: &str, index: bool) -> PathBuf {
    stored_rel(market, symbol, index).unwrap_or_else(|_| {
        Path::new(market)
            .join(if index { "index" } else { "daily" })
            .join(format!("{symbol}.parquet"))
    })
}

/// The store-relative path of `symbol`'s bars in `market`:
/// `<market>/daily/<SYMBOL>.parquet` (`index` for indices). The symbol is
/// normalised, and the market must be a plain folder name.
///
/// # Errors
/// [`Error::Store`] when the symbol is not a valid symbol or the market
/// not a plain name (either would make a path outside the store).
pub fn stored_rel(market: &str, symbol: &str, index: bool) -> Result<PathBuf> {
    let sym = quant_core::Symbol::new(symbol).map_err(|source| {
        crate::Error::Store(quant_data::Error::Symbol {
            path: PathBuf::from(symbol),
            source,
        })
    })?;
    let plain = !market.is_empty()
        && market
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !plain {
        return Err(crate::Error::Store(quant_data::Error::Store {
            path: PathBuf::from(market),
            message: "a market name is a plain folder name (letters, digits, - and _)".into(),
        }));
    }
    Ok(Path::new(market)
        .join(if index { "index" } else { "daily" })
        .join(format!("{sym}.parquet")))
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
/// gaps against `calendar` when given), stages the quarantined rows and
/// the merge of the rest with the stored series in `txn` (see
/// [`quant_data::store::merge_into`]; with `replace` the fetched bars
/// replace the stored series). Nothing is visible before `txn` commits.
///
/// # Errors
/// [`Error::AllFailed`] when no provider served; [`Error::Store`] for a
/// store read/write error, a symbol that is not one, or a fetch that
/// would store an empty series (nothing stored and no bars served). The
/// transaction then holds nothing of this symbol's.
#[allow(clippy::too_many_arguments)]
pub async fn fetch_into_store(
    chain: &Failover,
    txn: &mut Txn<'_>,
    market: &str,
    req: &BarRequest,
    index: bool,
    calendar: Option<&[NaiveDate]>,
    config: QualityConfig,
    replace: bool,
) -> Result<FetchOutcome> {
    let rel = stored_rel(market, &req.symbol, index)?;
    let served = if index {
        chain.index_daily(req).await?
    } else {
        chain.daily_bars(req).await?
    };
    let checked = check_symbol(&req.symbol, index, &served.data, calendar, config);
    let current = txn.current_path(&rel);
    let (stored, last_date) = if checked.clean.is_empty() && !replace && current.is_file() {
        // nothing new: the stored series stays as it is
        let kept = quant_data::parquet_io::read_parquet(&current)?;
        (kept.len(), kept.dates.last().copied())
    } else {
        let merged = quant_data::store::merge_into(txn, &rel, &checked.clean, replace)?;
        (merged.len(), merged.dates.last().copied())
    };
    if !checked.quarantined.is_empty() {
        let q = quant_data::store::quarantine_rel(&rel);
        quant_data::store::stage_quarantine(txn, &q, &checked.quarantined)?;
    }
    Ok(FetchOutcome {
        symbol: req.symbol.clone(),
        provider: served.provider,
        failed: served.failed,
        fetched: served.data.len(),
        stored,
        last_date,
        quarantined: checked.quarantined.len(),
        report: checked.report,
        path: txn.store().root().join(&rel),
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
    txn: &Txn<'_>,
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
    let path = txn.current_path(&stored_rel(market, &req.symbol, index)?);
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
        .filter(|s| quant_core::Symbol::new(s.as_str()).is_ok())
        .collect())
}
