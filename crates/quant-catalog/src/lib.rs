//! The market-data catalog in SQL: what the Parquet store's bars need
//! beside them.
//!
//! | table | holds | key |
//! |---|---|---|
//! | `instruments` | the stock list: name, exchange, board, industry, list/delist dates, status | symbol |
//! | `trading_calendar` | each exchange's days, open or not | exchange, date |
//! | `adj_factors` | cumulative adjustment factors (后复权 = raw × factor) | symbol, date |
//! | `fundamentals` | daily valuation and turnover (TuShare `daily_basic`) | symbol, date |
//! | `update_history` | one row per fetch of one symbol: who served, rows, outcome | id |
//! | `quality_log` | every data-quality issue found, tied to its update | id |
//!
//! One interface, two back ends: SQLite (`sqlite:PATH`, the embedded
//! default, created on first use) and PostgreSQL (`postgres://…`). Both
//! run the migrations of their own dialect (`migrations/sqlite`,
//! `migrations/postgres`, embedded in the binary) when the catalog opens,
//! and store identical values: dates as ISO 8601 text (exchange-local),
//! instants as RFC 3339 UTC text, numbers as 64-bit floats or integers.
//!
//! Writes are upserts (a re-fetch replaces a row, never duplicates it),
//! in one transaction per call, so a failed call changes nothing.
//! Queries are built at run time (sqlx's `Any` driver); there are no
//! compile-time checked queries, so the tests in `tests/` cover every
//! statement on SQLite always and on PostgreSQL when `DATABASE_URL` is set.
//!
//! This is an edge crate (async, sqlx on tokio); compute crates never
//! depend on it.

pub mod error;
mod rows;

use std::borrow::Cow;
use std::path::Path;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use quant_data::quality::{Issue, Rule};
use quant_data::reference::{AdjFactor, CalendarDay, DailyBasic, ListedInstrument};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyPool, AssertSqlSafe, Row, SqlSafeStr};

pub use error::{Error, Result};

use error::query;

/// Which database a catalog lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (or memory); the default.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Outcome of one symbol's fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    /// Bars were fetched, checked and stored.
    Ok,
    /// No provider served, or the store write failed; nothing was stored.
    Failed,
}

impl UpdateStatus {
    /// The status's name in the catalog: `ok`, `failed`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
        }
    }
}

/// One row of `update_history`: one fetch of one symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRecord {
    /// Row id (assigned by the catalog; ignored by [`Catalog::record_update`]).
    pub id: i64,
    /// When the fetch started (UTC).
    pub started_at: DateTime<Utc>,
    /// When it finished (UTC).
    pub finished_at: DateTime<Utc>,
    /// Market folder of the store: `cn`, `us`, `crypto`.
    pub market: String,
    /// Series kind: `daily` or `index`.
    pub kind: String,
    /// Symbol.
    pub symbol: String,
    /// First date asked for.
    pub requested_start: NaiveDate,
    /// Last date asked for.
    pub requested_end: NaiveDate,
    /// The provider that served; `None` when none did.
    pub provider: Option<String>,
    /// Outcome.
    pub status: UpdateStatus,
    /// Bars received.
    pub rows_fetched: u64,
    /// Bars in the stored file after the merge.
    pub rows_stored: u64,
    /// Rows quarantined.
    pub rows_quarantined: u64,
    /// Last stored date after the fetch (the next update starts the day
    /// after); `None` when nothing is stored.
    pub last_date: Option<NaiveDate>,
    /// Failover notes or the error.
    pub message: String,
}

/// One row of `quality_log`.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityEntry {
    /// Row id.
    pub id: i64,
    /// The update that found it; `None` for an import or a `validate` run.
    pub update_id: Option<i64>,
    /// When it was recorded (UTC).
    pub recorded_at: DateTime<Utc>,
    /// The issue.
    pub issue: Issue,
}

/// Row counts of every table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CatalogCounts {
    /// `instruments`.
    pub instruments: u64,
    /// `trading_calendar`.
    pub calendar_days: u64,
    /// `adj_factors`.
    pub adj_factors: u64,
    /// `fundamentals`.
    pub fundamentals: u64,
    /// `update_history`.
    pub updates: u64,
    /// `quality_log`.
    pub quality_issues: u64,
}

/// Rows per multi-row `INSERT` (well under SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters for the widest table's 12 columns).
const CHUNK: usize = 500;

type AnyQuery<'q> = sqlx::query::Query<'q, Any, AnyArguments>;

/// The catalog: a connection pool and its back end.
#[derive(Debug, Clone)]
pub struct Catalog {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

impl Catalog {
    /// Opens (creating an SQLite file if needed) the catalog at `url` and
    /// brings its schema up to date.
    ///
    /// `url`: `sqlite:PATH` (relative or absolute), `sqlite::memory:`, or
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DB` (`postgresql://` too).
    ///
    /// # Errors
    /// [`Error::Url`] for another scheme; [`Error::Connect`] when the
    /// database cannot be opened; [`Error::Migrate`] when the schema cannot
    /// be brought up to date (e.g. a migration was edited after it ran).
    pub async fn connect(url: &str) -> Result<Self> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(Error::Url(redact(url)));
        };
        sqlx::any::install_default_drivers();
        let connect_url = match backend {
            Backend::Sqlite if !url.contains(":memory:") && !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        // a catalog is local or on the LAN: fail within seconds, not the
        // pool's default 30
        let options = AnyPoolOptions::new().acquire_timeout(std::time::Duration::from_secs(5));
        // one connection for an in-memory SQLite: each connection would
        // otherwise open its own empty database
        let options = if url.contains(":memory:") {
            options
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            options.max_connections(4)
        };
        let pool = options
            .connect(&connect_url)
            .await
            .map_err(|source| Error::Connect {
                url: redact(url),
                source,
            })?;
        let catalog = Self {
            pool,
            backend,
            url: redact(url),
        };
        catalog.migrate().await?;
        Ok(catalog)
    }

    /// Opens the SQLite catalog file at `path` (created with its folder if
    /// missing).
    ///
    /// # Errors
    /// As [`Catalog::connect`]; [`Error::Connect`] also when the folder
    /// cannot be created.
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Connect {
                url: format!("sqlite:{}", path.display()),
                source: sqlx::Error::Io(e),
            })?;
        }
        Self::connect(&format!("sqlite:{}", path.display())).await
    }

    /// The back end.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The catalog's URL without its password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes the pool (waits for connections to return).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Writes a consistent copy of an SQLite catalog to `dest` (SQLite's
    /// `VACUUM INTO`: a transaction-consistent, compacted file), for
    /// backups while the catalog is in use. `dest` must not exist.
    ///
    /// # Errors
    /// [`Error::SqliteOnly`] for a PostgreSQL catalog (use `pg_dump`);
    /// [`Error::Query`] when the copy cannot be written.
    pub async fn snapshot_sqlite(&self, dest: &Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(Error::SqliteOnly {
                url: self.url.clone(),
                what: "snapshot",
            });
        }
        sqlx::query("VACUUM INTO $1")
            .bind(dest.display().to_string())
            .execute(&self.pool)
            .await
            .map_err(query("snapshot (VACUUM INTO)"))?;
        Ok(())
    }

    /// Applies the back end's migrations not yet applied (recorded in
    /// `_sqlx_migrations`). Run by [`Catalog::connect`]; idempotent.
    ///
    /// # Errors
    /// [`Error::Migrate`].
    pub async fn migrate(&self) -> Result<()> {
        let sources: &[(i64, &str, &'static str)] = match self.backend {
            Backend::Sqlite => &[(
                1,
                "catalog",
                include_str!("../migrations/sqlite/0001_catalog.sql"),
            )],
            Backend::Postgres => &[(
                1,
                "catalog",
                include_str!("../migrations/postgres/0001_catalog.sql"),
            )],
        };
        let migrations = sources
            .iter()
            .map(|&(version, name, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(name),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations)
            .run(&self.pool)
            .await
            .map_err(|source| Error::Migrate {
                url: self.url.clone(),
                source,
            })
    }

    /// Inserts or replaces `rows` of `table` (`cols`, conflict on `key`) in
    /// one transaction, `CHUNK` rows per statement. Returns rows written.
    async fn upsert<T>(
        &self,
        what: &'static str,
        (table, cols, key): (&str, &[&str], &[&str]),
        rows: &[T],
        bind: impl for<'q> Fn(AnyQuery<'q>, &T) -> AnyQuery<'q>,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await.map_err(query(what))?;
        let updates: Vec<String> = cols
            .iter()
            .filter(|c| !key.contains(c))
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        let on_conflict = if updates.is_empty() {
            "DO NOTHING".to_string()
        } else {
            format!("DO UPDATE SET {}", updates.join(", "))
        };
        for chunk in rows.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES {} ON CONFLICT ({}) {on_conflict}",
                cols.join(", "),
                placeholders(chunk.len(), cols.len()),
                key.join(", "),
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in chunk {
                q = bind(q, r);
            }
            q.execute(&mut *tx).await.map_err(query(what))?;
        }
        tx.commit().await.map_err(query(what))?;
        Ok(rows.len() as u64)
    }

    /// Inserts or replaces instruments (keyed by symbol), stamping
    /// `updated_at` now.
    ///
    /// # Errors
    /// [`Error::Query`]; nothing is written then.
    pub async fn upsert_instruments(&self, rows: &[ListedInstrument]) -> Result<u64> {
        let now = timestamp(Utc::now());
        self.upsert(
            "upsert instruments",
            (
                "instruments",
                &[
                    "symbol",
                    "name",
                    "exchange",
                    "board",
                    "industry",
                    "list_date",
                    "delist_date",
                    "status",
                    "updated_at",
                ],
                &["symbol"],
            ),
            rows,
            |q, r| {
                q.bind(r.symbol.clone())
                    .bind(r.name.clone())
                    .bind(r.exchange.clone())
                    .bind(r.market.clone())
                    .bind(r.industry.clone())
                    .bind(r.list_date.map(day))
                    .bind(r.delist_date.map(day))
                    .bind(r.status.code())
                    .bind(now.clone())
            },
        )
        .await
    }

    /// Instruments, by symbol; only those of `exchange` (`SSE`, `SZSE`,
    /// `BSE`…) when given.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable stored value.
    pub async fn instruments(&self, exchange: Option<&str>) -> Result<Vec<ListedInstrument>> {
        let sql = "SELECT symbol, name, exchange, board, industry, list_date, delist_date, status \
                   FROM instruments WHERE ($1 IS NULL OR exchange = $1) ORDER BY symbol";
        let rows = sqlx::query(sql)
            .bind(exchange.map(str::to_string))
            .fetch_all(&self.pool)
            .await
            .map_err(query("read instruments"))?;
        rows.iter().map(rows::instrument).collect()
    }

    /// Inserts or replaces `exchange`'s calendar days.
    ///
    /// # Errors
    /// [`Error::Query`]; nothing is written then.
    pub async fn upsert_calendar(&self, exchange: &str, days: &[CalendarDay]) -> Result<u64> {
        self.upsert(
            "upsert trading_calendar",
            (
                "trading_calendar",
                &["exchange", "date", "is_open"],
                &["exchange", "date"],
            ),
            days,
            |q, d| {
                q.bind(exchange.to_string())
                    .bind(day(d.date))
                    .bind(i16::from(d.is_open))
            },
        )
        .await
    }

    /// `exchange`'s calendar days from `from` to `to` (inclusive), ascending.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable stored value.
    pub async fn calendar(
        &self,
        exchange: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<CalendarDay>> {
        let rows = sqlx::query(
            "SELECT date, is_open FROM trading_calendar \
             WHERE exchange = $1 AND date >= $2 AND date <= $3 ORDER BY date",
        )
        .bind(exchange.to_string())
        .bind(bound(from))
        .bind(bound(to))
        .fetch_all(&self.pool)
        .await
        .map_err(query("read trading_calendar"))?;
        rows.iter()
            .map(|r| {
                Ok(CalendarDay {
                    date: rows::date(r, "trading_calendar", exchange, "date")?,
                    is_open: rows::int(r, "is_open", "trading_calendar")? != 0,
                })
            })
            .collect()
    }

    /// `exchange`'s trading (open) days from `from` to `to`, ascending: the
    /// calendar the quality pipeline's gap rule takes.
    ///
    /// # Errors
    /// As [`Catalog::calendar`].
    pub async fn trading_days(
        &self,
        exchange: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NaiveDate>> {
        Ok(self
            .calendar(exchange, from, to)
            .await?
            .into_iter()
            .filter(|d| d.is_open)
            .map(|d| d.date)
            .collect())
    }

    /// Inserts or replaces `symbol`'s adjustment factors.
    ///
    /// # Errors
    /// [`Error::Query`] (also for a factor ≤ 0, which the schema refuses);
    /// nothing is written then.
    pub async fn upsert_adj_factors(&self, symbol: &str, factors: &[AdjFactor]) -> Result<u64> {
        self.upsert(
            "upsert adj_factors",
            (
                "adj_factors",
                &["symbol", "date", "factor"],
                &["symbol", "date"],
            ),
            factors,
            |q, f| q.bind(symbol.to_string()).bind(day(f.date)).bind(f.factor),
        )
        .await
    }

    /// Inserts or replaces the adjustment factors of several symbols in
    /// one transaction (a `catalog fetch` command's whole result).
    ///
    /// # Errors
    /// As [`Catalog::upsert_adj_factors`]; nothing is written then.
    pub async fn upsert_adj_factors_of(
        &self,
        by_symbol: &[(String, Vec<AdjFactor>)],
    ) -> Result<u64> {
        let rows: Vec<(&str, &AdjFactor)> = by_symbol
            .iter()
            .flat_map(|(s, fs)| fs.iter().map(move |f| (s.as_str(), f)))
            .collect();
        self.upsert(
            "upsert adj_factors",
            (
                "adj_factors",
                &["symbol", "date", "factor"],
                &["symbol", "date"],
            ),
            &rows,
            |q, (symbol, f)| {
                q.bind((*symbol).to_string())
                    .bind(day(f.date))
                    .bind(f.factor)
            },
        )
        .await
    }

    /// `symbol`'s adjustment factors, ascending by date.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable stored value.
    pub async fn adj_factors(&self, symbol: &str) -> Result<Vec<AdjFactor>> {
        let rows =
            sqlx::query("SELECT date, factor FROM adj_factors WHERE symbol = $1 ORDER BY date")
                .bind(symbol.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(query("read adj_factors"))?;
        rows.iter()
            .map(|r| {
                Ok(AdjFactor {
                    date: rows::date(r, "adj_factors", symbol, "date")?,
                    factor: rows::float(r, "factor", "adj_factors")?,
                })
            })
            .collect()
    }

    /// Inserts or replaces daily valuation rows (keyed by symbol and date).
    ///
    /// # Errors
    /// [`Error::Query`]; nothing is written then.
    pub async fn upsert_fundamentals(&self, rows: &[DailyBasic]) -> Result<u64> {
        self.upsert(
            "upsert fundamentals",
            (
                "fundamentals",
                &rows::FUNDAMENTAL_COLUMNS,
                &["symbol", "date"],
            ),
            rows,
            |q, r| {
                q.bind(r.symbol.clone())
                    .bind(day(r.date))
                    .bind(r.close)
                    .bind(r.turnover_rate)
                    .bind(r.pe)
                    .bind(r.pe_ttm)
                    .bind(r.pb)
                    .bind(r.dv_ttm)
                    .bind(r.total_share)
                    .bind(r.float_share)
                    .bind(r.total_mv)
                    .bind(r.circ_mv)
            },
        )
        .await
    }

    /// `symbol`'s daily valuation rows from `from` to `to`, ascending.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable stored value.
    pub async fn fundamentals(
        &self,
        symbol: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyBasic>> {
        let sql = format!(
            "SELECT {} FROM fundamentals WHERE symbol = $1 AND date >= $2 AND date <= $3 ORDER BY date",
            rows::FUNDAMENTAL_COLUMNS.join(", ")
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(symbol.to_string())
            .bind(bound(from))
            .bind(bound(to))
            .fetch_all(&self.pool)
            .await
            .map_err(query("read fundamentals"))?;
        rows.iter().map(rows::fundamentals).collect()
    }

    /// Appends one fetch to `update_history` and its quality issues to
    /// `quality_log`, in one transaction. Returns the update's id.
    ///
    /// # Errors
    /// [`Error::Query`]; nothing is written then.
    pub async fn record_update(&self, rec: &UpdateRecord, issues: &[Issue]) -> Result<i64> {
        let ids = self
            .record_updates(&[(rec.clone(), issues.to_vec())])
            .await?;
        Ok(ids.first().copied().unwrap_or_default())
    }

    /// Appends every fetch of one command to `update_history`, each with
    /// its quality issues in `quality_log`, in **one** transaction: a
    /// command's history lands whole or not at all. Returns the ids in
    /// order.
    ///
    /// # Errors
    /// [`Error::Query`]; nothing is written then.
    pub async fn record_updates(&self, recs: &[(UpdateRecord, Vec<Issue>)]) -> Result<Vec<i64>> {
        let what = "record update_history";
        let mut tx = self.pool.begin().await.map_err(query(what))?;
        let mut ids = Vec::with_capacity(recs.len());
        for (rec, issues) in recs {
            let id: i64 = sqlx::query(
                "INSERT INTO update_history (started_at, finished_at, market, kind, symbol, \
                 requested_start, requested_end, provider, status, rows_fetched, rows_stored, \
                 rows_quarantined, last_date, message) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
            )
            .bind(timestamp(rec.started_at))
            .bind(timestamp(rec.finished_at))
            .bind(rec.market.clone())
            .bind(rec.kind.clone())
            .bind(rec.symbol.clone())
            .bind(day(rec.requested_start))
            .bind(day(rec.requested_end))
            .bind(rec.provider.clone())
            .bind(rec.status.name())
            .bind(count(rec.rows_fetched))
            .bind(count(rec.rows_stored))
            .bind(count(rec.rows_quarantined))
            .bind(rec.last_date.map(day))
            .bind(rec.message.clone())
            .fetch_one(&mut *tx)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(query(what))?;
            insert_issues(&mut tx, Some(id), issues).await?;
            ids.push(id);
        }
        tx.commit().await.map_err(query(what))?;
        Ok(ids)
    }

    /// Appends issues found outside an update (an import, a `validate`
    /// run) to `quality_log`.
    ///
    /// # Errors
    /// [`Error::Query`]; nothing is written then.
    pub async fn log_quality(&self, issues: &[Issue]) -> Result<u64> {
        let what = "append quality_log";
        let mut tx = self.pool.begin().await.map_err(query(what))?;
        insert_issues(&mut tx, None, issues).await?;
        tx.commit().await.map_err(query(what))?;
        Ok(issues.len() as u64)
    }

    /// The newest `limit` updates, newest first; only `symbol`'s when given.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable stored value.
    pub async fn update_history(
        &self,
        symbol: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UpdateRecord>> {
        let rows = sqlx::query(
            "SELECT id, started_at, finished_at, market, kind, symbol, requested_start, \
             requested_end, provider, status, rows_fetched, rows_stored, rows_quarantined, \
             last_date, message FROM update_history \
             WHERE ($1 IS NULL OR symbol = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(symbol.map(str::to_string))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(query("read update_history"))?;
        rows.iter().map(rows::update).collect()
    }

    /// The last date stored by a successful update of `symbol`
    /// (`market`/`kind` as in [`UpdateRecord`]); `None` when no update
    /// succeeded.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable stored value.
    pub async fn last_good_date(
        &self,
        market: &str,
        kind: &str,
        symbol: &str,
    ) -> Result<Option<NaiveDate>> {
        let row = sqlx::query(
            "SELECT MAX(last_date) FROM update_history \
             WHERE market = $1 AND kind = $2 AND symbol = $3 AND status = 'ok'",
        )
        .bind(market.to_string())
        .bind(kind.to_string())
        .bind(symbol.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(query("read update_history"))?;
        let text: Option<String> = row.try_get(0).map_err(query("read update_history"))?;
        text.map(|t| rows::parse_day(&t, "update_history", symbol, "last_date"))
            .transpose()
    }

    /// Logged quality issues, oldest first; only `symbol`'s and only
    /// `rule`'s when given.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable stored value.
    pub async fn quality_log(
        &self,
        symbol: Option<&str>,
        rule: Option<Rule>,
    ) -> Result<Vec<QualityEntry>> {
        let rows = sqlx::query(
            "SELECT id, update_id, recorded_at, symbol, rule, date, detail FROM quality_log \
             WHERE ($1 IS NULL OR symbol = $1) AND ($2 IS NULL OR rule = $2) ORDER BY id",
        )
        .bind(symbol.map(str::to_string))
        .bind(rule.map(|r| r.name().to_string()))
        .fetch_all(&self.pool)
        .await
        .map_err(query("read quality_log"))?;
        rows.iter().map(rows::quality).collect()
    }

    /// Row counts of every table.
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn counts(&self) -> Result<CatalogCounts> {
        let mut n = [0u64; 6];
        for (slot, table) in n.iter_mut().zip([
            "instruments",
            "trading_calendar",
            "adj_factors",
            "fundamentals",
            "update_history",
            "quality_log",
        ]) {
            let c: i64 = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&self.pool)
                .await
                .and_then(|r| r.try_get(0))
                .map_err(query("count rows"))?;
            *slot = u64::try_from(c).unwrap_or(0);
        }
        let [
            instruments,
            calendar_days,
            adj_factors,
            fundamentals,
            updates,
            quality_issues,
        ] = n;
        Ok(CatalogCounts {
            instruments,
            calendar_days,
            adj_factors,
            fundamentals,
            updates,
            quality_issues,
        })
    }
}

/// Appends `issues` to `quality_log` inside `tx`.
async fn insert_issues(
    tx: &mut sqlx::Transaction<'_, Any>,
    update_id: Option<i64>,
    issues: &[Issue],
) -> Result<()> {
    let now = timestamp(Utc::now());
    for chunk in issues.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO quality_log (update_id, recorded_at, symbol, rule, date, detail) VALUES {}",
            placeholders(chunk.len(), 6)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for i in chunk {
            q = q
                .bind(update_id)
                .bind(now.clone())
                .bind(i.symbol.clone())
                .bind(i.rule.name())
                .bind(day(i.date))
                .bind(i.detail.clone());
        }
        q.execute(&mut **tx)
            .await
            .map_err(query("append quality_log"))?;
    }
    Ok(())
}

/// `($1, $2), ($3, $4)…`: `rows` groups of `cols` numbered placeholders
/// (the form both PostgreSQL and SQLite accept).
fn placeholders(rows: usize, cols: usize) -> String {
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
            s.push('$');
            s.push_str(&(r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

/// A date as stored: `YYYY-MM-DD`.
fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A range bound as stored text compares: dates beyond the years
/// 0001–9999 (such as `NaiveDate::MIN`/`MAX` for "open") clamp to them,
/// since `YYYY-MM-DD` text sorts as dates only within four-digit years.
fn bound(d: NaiveDate) -> String {
    let lo = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN);
    let hi = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
    day(d.clamp(lo, hi))
}

/// An instant as stored: RFC 3339 UTC with seconds, `2026-11-23T16:42:00Z`.
fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A row count as stored (saturating at `i64::MAX`).
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `url` with any password replaced by `***`, for messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Reads an `AnyRow` column (used by `rows`).
fn get<'r, T>(row: &'r AnyRow, column: &'static str, table: &'static str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(column).map_err(|e| Error::Corrupt {
        table,
        key: String::new(),
        column,
        value: e.to_string(),
        expected: std::any::type_name::<T>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_value() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 1), "($1)");
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
        assert_eq!(
            redact("sqlite:store/catalog.sqlite"),
            "sqlite:store/catalog.sqlite"
        );
    }

    #[test]
    fn stored_forms() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        assert_eq!(day(d), "2024-01-02");
        let t = d.and_hms_opt(7, 8, 9).unwrap().and_utc();
        assert_eq!(timestamp(t), "2024-01-02T07:08:09Z");
        assert_eq!(bound(NaiveDate::MIN), "0001-01-01");
        assert_eq!(bound(NaiveDate::MAX), "9999-12-31");
        assert_eq!(bound(d), "2024-01-02");
    }
}
