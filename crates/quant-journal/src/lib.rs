//! The session journal of paper and live trading: the write-ahead log,
//! engine snapshots, the read model and the alert outbox, in SQL.
//!
//! One journal per session state dir. The runtime serialises its own
//! events and commands (CBOR) and hands them over as [`Entry`]s; the
//! journal never looks inside a payload. It gives every entry the next
//! sequence number, 1, 2, 3, … with no gap, monotonic across restarts
//! ([`Journal::append`]), keeps snapshots of the engine's state as of an
//! entry ([`Journal::put_snapshot`]), so that a restart is "load the
//! latest snapshot, replay the entries after it" ([`Journal::entries_after`]),
//! and holds the read model the reports and the dashboard read and the
//! alert outbox ([`outbox`]).
//!
//! # Back ends
//!
//! - **SQLite** (default): `journal.db` in the state dir (or
//!   `[journal] url = "sqlite:PATH"`, relative paths from the state dir),
//!   in WAL mode with `synchronous = FULL` and a 5 s busy timeout. Every
//!   write is one transaction whose commit fsyncs the WAL before the call
//!   returns. Readers (the dashboard, `status`) read concurrently.
//! - **PostgreSQL**: `[journal] url = "postgres://USER[:PASSWORD]@HOST:PORT/DB"`;
//!   `synchronous_commit = on` is set on every connection, so a commit
//!   returns once the server has flushed its WAL. One journal per schema:
//!   give each session a schema of its own (`?options[search_path]=NAME`)
//!   or a database of its own. The server must run with `fsync = on` for
//!   the guarantee below (a warning is logged when it does not).
//!
//! Both run their own embedded migrations (`migrations/sqlite`,
//! `migrations/postgres`, tracked in `_journal_migrations`) when the
//! journal opens, and store identical values: instants as BIGINT
//! nanoseconds since 1970-01-01 UTC, dates as `YYYY-MM-DD` text
//! (exchange-local trading days), decimals (prices, quantities, cash) as
//! text in `rust_decimal`'s exact form, analytics `f64`s as REAL / DOUBLE
//! PRECISION with NULL for NaN. Queries are built at run time (sqlx's
//! `Any` driver, no compile-time macros); the tests run every statement
//! on SQLite, and on PostgreSQL when `DATABASE_URL` is set.
//!
//! # Schema
//!
//! | table | holds | key | writes |
//! |---|---|---|---|
//! | `journal` | every event and command: `kind` (`event`/`command`), `time_ns` (the entry's own time), `tag` (short type name), `payload` (opaque bytes) | `seq` 1, 2, 3… | append only: triggers refuse a gap, an update or a delete |
//! | `snapshots` | engine state as of after entry `seq` | `seq` | insert; the newest [`SNAPSHOTS_KEPT`] kept |
//! | `meta` | session settings (mode, config text, started at…) | `key` | upsert |
//! | `read_model_state` | the seq the read model was last written with | one row | with every read-model write |
//! | `positions` | the book: quantity, sellable, cost, average cost, mark, value | `symbol` | replaced whole |
//! | `orders` | every order, the columns of `orders.csv` plus the whole order as JSON (`body`) | `id` | upsert |
//! | `fills` | every fill, the columns of `trades.csv` plus order id, instant and instrument | `n` 1, 2, 3… | append |
//! | `equity` | the daily equity curve: equity, cash, benchmark | `date` | upsert |
//! | `risk_events` | orders the risk gate blocked, breaker trips and releases | `n` 1, 2, 3… | append |
//! | `alerts` | the outbox: kind, severity, title, body, created, JSON payload | `event_id` | insert once |
//! | `alert_deliveries` | one row per (alert, channel): attempts, next attempt, delivered, last error | (`event_id`, `channel`) | update |
//!
//! # Durability
//!
//! Every write method returns only after its transaction has committed
//! durably (SQLite: the WAL fsynced, `synchronous = FULL`; PostgreSQL: the
//! commit flushed, `synchronous_commit = on`). So whatever a call
//! acknowledged survives a SIGKILL, a panic, an OS crash or a power cut,
//! and a call interrupted by one leaves nothing of itself: every call is
//! one transaction, never half an entry, half a batch, or a log that
//! disagrees with the read model written with it
//! ([`Journal::append_with_read_model`]). That is the write-ahead rule of
//! the runtime: a command is durable before it reaches a venue, an event
//! before the engine acts on it. When a call fails, nothing of it was
//! written — except that a PostgreSQL commit whose answer was lost may
//! have happened; [`Journal::last_seq`] tells.
//!
//! One writer per journal: [`Journal::open`] holds the state dir's `LOCK`
//! (an `flock`, dropped by the kernel when the process dies however it
//! dies, so a stale lock never blocks) and, on PostgreSQL, an advisory
//! lock per schema; a second session fails with [`Error::Locked`].
//! [`Journal::open_reader`] opens without either, for readers.
//!
//! The journal reads no clock and no random source: every instant it
//! stores was handed in by the caller.
//!
//! This is an edge crate (async, sqlx on tokio); compute crates never
//! depend on it.

pub mod error;
mod lock;
pub mod model;
pub mod outbox;
mod sql;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quant_core::UnixNanos;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, Connection, SqlSafeStr};
use tokio::sync::{Mutex, MutexGuard};

pub use error::{Error, Result};
pub use lock::LOCK_FILE;
pub use model::{PositionRow, ReadModelUpdate};
pub use outbox::{Alert, Delivery, NewAlert, Retry, Severity};

use sql::{Cells, big, placeholders};

/// The SQLite journal's file name in the state dir.
pub const JOURNAL_FILE: &str = "journal.db";

/// Snapshots kept by [`Journal::put_snapshot`]: the newest three.
pub const SNAPSHOTS_KEPT: u64 = 3;

/// How long SQLite waits for a lock held by another connection (a reader
/// checkpointing, say) before a statement fails: 5 s.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`Journal::open`] waits for PostgreSQL's advisory lock, which
/// the server drops a moment after a killed session's connection closes:
/// 3 s.
pub const POSTGRES_LOCK_WAIT: Duration = Duration::from_secs(3);

/// The migrations table (its own, so that a journal may share a database
/// with the catalog).
const MIGRATIONS_TABLE: &str = "_journal_migrations";

/// Where a journal lives. Its `Debug` form hides a PostgreSQL password.
#[derive(Clone, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite {
        /// The database file (absolute once resolved).
        path: PathBuf,
    },
    /// A PostgreSQL server.
    Postgres {
        /// `postgres://…` as configured (it may carry a password).
        url: String,
    },
}

impl Backend {
    /// The back end of state dir `dir` under `cfg`: `journal.db` in `dir`
    /// without a URL, `sqlite:PATH` (relative to `dir` unless absolute),
    /// or `postgres://…` / `postgresql://…`.
    ///
    /// # Errors
    /// [`Error::Url`] for another scheme or an empty SQLite path.
    pub fn resolve(dir: &Path, cfg: &JournalConfig) -> Result<Self> {
        let Some(url) = cfg.url.as_deref().map(str::trim) else {
            return Ok(Self::Sqlite {
                path: dir.join(JOURNAL_FILE),
            });
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres {
                url: url.to_string(),
            });
        }
        match url
            .strip_prefix("sqlite://")
            .or(url.strip_prefix("sqlite:"))
        {
            Some(p) if !p.is_empty() && !p.contains(":memory:") && !p.contains('?') => {
                Ok(Self::Sqlite { path: dir.join(p) })
            }
            _ => Err(Error::Url(sql::redact(url))),
        }
    }

    /// How messages name it: the SQLite file, or the URL without password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite { path } => path.display().to_string(),
            Self::Postgres { url } => sql::redact(url),
        }
    }
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Self::Postgres { url } => f
                .debug_struct("Postgres")
                .field("url", &sql::redact(url))
                .finish(),
        }
    }
}

/// The `[journal]` section of a session config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DB` or `sqlite:PATH`
    /// (relative to the state dir); `None`: the SQLite file
    /// [`JOURNAL_FILE`] in the state dir. Keep a PostgreSQL password out
    /// of the URL (and so out of config files): the driver reads it from
    /// `PGPASSWORD` or `~/.pgpass` when the URL has none. The journal
    /// stores no part of the URL and names it without its password.
    #[serde(default)]
    pub url: Option<String>,
}

/// Whether an entry came in or went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// An inbound event (market data, a venue report, a timer, an
    /// operator control…): durable before the engine acts on it.
    Event,
    /// An outbound command (submit, cancel, replace…): durable before it
    /// reaches a venue.
    Command,
}

impl EntryKind {
    /// `event` or `command`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Command => "command",
        }
    }

    /// The kind stored as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "event" => Some(Self::Event),
            "command" => Some(Self::Command),
            _ => None,
        }
    }
}

/// One event or command as the runtime hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Event or command.
    pub kind: EntryKind,
    /// The entry's own time (the event's or the command's timestamp, UTC
    /// nanoseconds), never the wall clock at writing.
    pub time: UnixNanos,
    /// A short type name for humans and filters (`bars`, `report`,
    /// `submit`…).
    pub tag: String,
    /// The serialised event or command (the runtime's CBOR); opaque to
    /// the journal.
    pub payload: Vec<u8>,
}

impl Entry {
    /// An event entry.
    pub fn event(time: UnixNanos, tag: impl Into<String>, payload: Vec<u8>) -> Self {
        Self {
            kind: EntryKind::Event,
            time,
            tag: tag.into(),
            payload,
        }
    }

    /// A command entry.
    pub fn command(time: UnixNanos, tag: impl Into<String>, payload: Vec<u8>) -> Self {
        Self {
            kind: EntryKind::Command,
            time,
            tag: tag.into(),
            payload,
        }
    }
}

/// A stored entry with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its place in the log: 1 for the first entry, no gaps.
    pub seq: u64,
    /// The entry as appended.
    pub entry: Entry,
}

/// Row counts of the journal's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// `journal` (equal to [`Journal::last_seq`]).
    pub entries: u64,
    /// `snapshots` (at most [`SNAPSHOTS_KEPT`]).
    pub snapshots: u64,
    /// `positions`.
    pub positions: u64,
    /// `orders`.
    pub orders: u64,
    /// `fills`.
    pub fills: u64,
    /// `equity` (days).
    pub equity: u64,
    /// `risk_events`.
    pub risk_events: u64,
    /// `alerts`.
    pub alerts: u64,
    /// `alert_deliveries` not yet delivered (due, waiting or given up).
    pub undelivered: u64,
}

/// An open journal. Methods take `&self` and may be called from several
/// tasks (share it in an `Arc`); writes are serialised inside. Its `Debug`
/// form names the journal without a password.
pub struct Journal {
    pool: AnyPool,
    backend: Backend,
    db: String,
    read_only: bool,
    write: Mutex<()>,
    _dir_lock: Option<lock::DirLock>,
    pg_lock: Mutex<Option<AnyConnection>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("db", &self.db)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens the journal of state dir `dir` per `cfg` for writing:
    /// creates `dir` if missing, takes its `LOCK`, connects (creating the
    /// SQLite file), sets WAL and `synchronous = FULL` (SQLite) or
    /// `synchronous_commit = on` and the schema's advisory lock
    /// (PostgreSQL), and brings the schema up to date.
    ///
    /// # Errors
    /// [`Error::Locked`] while another process has the state dir (or the
    /// PostgreSQL schema) open for writing; [`Error::Io`] when the state
    /// dir or `LOCK` cannot be created; [`Error::Url`] for a bad
    /// `cfg.url`; [`Error::Connect`] (also when PostgreSQL's
    /// `search_path` names no existing schema: the journal creates
    /// tables, not schemas); [`Error::Durability`] when SQLite
    /// cannot switch to WAL; [`Error::Migrate`] when the schema cannot be
    /// brought up to date (e.g. a migration was edited after it ran).
    pub async fn open(dir: &Path, cfg: &JournalConfig) -> Result<Self> {
        Self::open_as(dir, cfg, false).await
    }

    /// Opens an existing journal for reading only (status, export, the
    /// dashboard in another process): takes no lock, runs no migration,
    /// refuses every write with [`Error::ReadOnly`]. Reads see each write
    /// of the live session whole or not at all.
    ///
    /// # Errors
    /// As [`Journal::open`] but never [`Error::Locked`]; [`Error::Connect`]
    /// also when there is no SQLite journal in `dir`.
    pub async fn open_reader(dir: &Path, cfg: &JournalConfig) -> Result<Self> {
        Self::open_as(dir, cfg, true).await
    }

    async fn open_as(dir: &Path, cfg: &JournalConfig, read_only: bool) -> Result<Self> {
        if !read_only {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let dir = std::path::absolute(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let backend = Backend::resolve(&dir, cfg)?;
        let db = backend.describe();
        let dir_lock = if read_only {
            None
        } else {
            Some(lock::lock_dir(&dir)?)
        };
        sqlx::any::install_default_drivers();
        let (pool, pg_lock) = match &backend {
            Backend::Sqlite { path } => (connect_sqlite(path, &db, read_only).await?, None),
            Backend::Postgres { url } => {
                let lock = if read_only {
                    None
                } else {
                    Some(lock_postgres(url, &db).await?)
                };
                (connect_postgres(url, &db).await?, lock)
            }
        };
        let journal = Self {
            pool,
            backend,
            db,
            read_only,
            write: Mutex::new(()),
            _dir_lock: dir_lock,
            pg_lock: Mutex::new(pg_lock),
        };
        if !read_only {
            journal.migrate().await?;
            if let Backend::Sqlite { path } = &journal.backend {
                // the new database file's directory entry, for a power cut
                // right after the first open (SQLite syncs the WAL's itself)
                let parent = path.parent().unwrap_or(&dir);
                sync_dir(parent)?;
            }
        }
        Ok(journal)
    }

    /// The back end.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The journal as messages name it: the SQLite file, or the
    /// PostgreSQL URL without its password.
    pub fn describe(&self) -> &str {
        &self.db
    }

    /// True when opened with [`Journal::open_reader`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Closes the journal: releases PostgreSQL's advisory lock, waits for
    /// the pool's connections to close, and drops the state dir lock.
    /// Dropping a journal without closing it is safe too (every write has
    /// committed when its call returned); the locks then go with the
    /// process or its connections.
    pub async fn close(self) {
        if let Some(mut conn) = self.pg_lock.lock().await.take() {
            let _ = sqlx::query(PG_UNLOCK).execute(&mut conn).await;
            let _ = conn.close().await;
        }
        self.pool.close().await;
    }

    /// Maps a driver error to [`Error::Query`] naming `what`.
    fn q(&self, what: &'static str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
        move |source| Error::Query {
            db: self.db.clone(),
            what,
            source,
        }
    }

    /// Starts a write: the write lock, then a transaction (`BEGIN
    /// IMMEDIATE` on SQLite, so it holds the write lock from the start).
    async fn begin(
        &self,
        what: &'static str,
    ) -> Result<(MutexGuard<'_, ()>, sqlx::Transaction<'static, Any>)> {
        if self.read_only {
            return Err(Error::ReadOnly {
                db: self.db.clone(),
                what,
            });
        }
        let guard = self.write.lock().await;
        let tx = match self.backend {
            Backend::Sqlite { .. } => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres { .. } => self.pool.begin().await,
        }
        .map_err(self.q(what))?;
        Ok((guard, tx))
    }

    /// Commits a write: durable once this returns.
    async fn commit(&self, tx: sqlx::Transaction<'static, Any>, what: &'static str) -> Result<()> {
        tx.commit().await.map_err(self.q(what))
    }

    /// Applies the back end's migrations not yet applied. Run by
    /// [`Journal::open`]; idempotent.
    async fn migrate(&self) -> Result<()> {
        let (version, name, sql): (i64, &str, &'static str) = match self.backend {
            Backend::Sqlite { .. } => (
                1,
                "journal",
                include_str!("../migrations/sqlite/0001_journal.sql"),
            ),
            Backend::Postgres { .. } => (
                1,
                "journal",
                include_str!("../migrations/postgres/0001_journal.sql"),
            ),
        };
        let mut migrator = Migrator::with_migrations(vec![Migration::new(
            version,
            Cow::Borrowed(name),
            MigrationType::Simple,
            sql.into_sql_str(),
            false,
        )]);
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        migrator
            .run(&self.pool)
            .await
            .map_err(|source| Error::Migrate {
                db: self.db.clone(),
                source,
            })
    }

    /// Appends `entries` in one transaction and returns the seq of the
    /// last one (the current last seq when `entries` is empty, writing
    /// nothing). The first entry gets the last seq + 1, the next + 2…:
    /// seqs run 1, 2, 3… with no gap, across restarts.
    ///
    /// **Durability**: when this returns `Ok`, every entry is on disk
    /// (the commit fsynced); a crash before that leaves none of them.
    ///
    /// # Errors
    /// [`Error::Query`] (nothing written); [`Error::ReadOnly`].
    pub async fn append(&self, entries: &[Entry]) -> Result<u64> {
        if entries.is_empty() {
            return self.last_seq().await;
        }
        let what = "append to journal";
        let (_guard, mut tx) = self.begin(what).await?;
        let last = self.insert_entries(&mut tx, entries, what).await?;
        self.commit(tx, what).await?;
        Ok(last)
    }

    /// Appends `entries` and applies `update` to the read model in **one**
    /// transaction, so that after any crash the log and the read model
    /// agree; the read model's rows are tagged with the seq of the last
    /// entry, and [`Journal::read_model_seq`] becomes it. Returns that
    /// seq. With no entries, `update` is applied at the current last seq.
    ///
    /// **Durability**: as [`Journal::append`], for the entries and the
    /// update together.
    ///
    /// # Errors
    /// [`Error::Query`] (nothing written); [`Error::Invalid`] for a value
    /// the read model refuses (an order id or seq beyond 2⁶³ − 1, an
    /// alert payload that is not JSON; nothing written);
    /// [`Error::ReadOnly`].
    pub async fn append_with_read_model(
        &self,
        entries: &[Entry],
        update: &ReadModelUpdate,
    ) -> Result<u64> {
        let what = "append to journal with the read model";
        let (_guard, mut tx) = self.begin(what).await?;
        let last = if entries.is_empty() {
            self.max_seq(&mut tx, what).await?
        } else {
            self.insert_entries(&mut tx, entries, what).await?
        };
        self.apply_update(&mut tx, last, update).await?;
        self.commit(tx, what).await?;
        Ok(last)
    }

    /// The last seq in the log inside `tx`.
    async fn max_seq(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        what: &'static str,
    ) -> Result<u64> {
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM journal")
            .fetch_one(&mut **tx)
            .await
            .map_err(self.q(what))?;
        Ok(u64::try_from(last).unwrap_or(0))
    }

    /// Inserts `entries` after the log's last seq inside `tx`; returns the
    /// new last seq.
    async fn insert_entries(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        entries: &[Entry],
        what: &'static str,
    ) -> Result<u64> {
        let mut seq = self.max_seq(tx, what).await?;
        for chunk in entries.chunks(sql::CHUNK) {
            let text = format!(
                "INSERT INTO journal (seq, kind, time_ns, tag, payload) VALUES {}",
                placeholders(chunk.len(), 5)
            );
            let mut q = sqlx::query(AssertSqlSafe(text));
            for e in chunk {
                seq += 1;
                q = q
                    .bind(big(seq, "journal", "seq")?)
                    .bind(e.kind.as_str())
                    .bind(e.time.0)
                    .bind(e.tag.clone())
                    .bind(e.payload.clone());
            }
            q.execute(&mut **tx).await.map_err(self.q(what))?;
        }
        Ok(seq)
    }

    /// The seq of the last entry; 0 for an empty log.
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn last_seq(&self) -> Result<u64> {
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM journal")
            .fetch_one(&self.pool)
            .await
            .map_err(self.q("read journal"))?;
        Ok(u64::try_from(last).unwrap_or(0))
    }

    /// The entries with seq > `after`, in seq order, at most `limit` of
    /// them (all without a limit): the tail to replay after a snapshot of
    /// seq `after`, or a page of the log.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn entries_after(&self, after: u64, limit: Option<u64>) -> Result<Vec<Record>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = sqlx::query(
            "SELECT seq, kind, time_ns, tag, payload FROM journal \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(self.q("read journal"))?;
        rows.iter()
            .map(|r| {
                let mut c = Cells::new(r, "journal");
                let seq = c.u64("seq")?;
                c.key = seq.to_string();
                Ok(Record {
                    seq,
                    entry: Entry {
                        kind: c.pick("kind", "event or command", EntryKind::parse)?,
                        time: UnixNanos(c.get("time_ns")?),
                        tag: c.get("tag")?,
                        payload: c.get("payload")?,
                    },
                })
            })
            .collect()
    }

    /// Stores `state`, the engine's state as of after entry `seq` (0:
    /// before the first), replacing a snapshot of the same seq, and
    /// prunes all but the newest [`SNAPSHOTS_KEPT`]. Durable on return.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `seq` is beyond the log's last seq (a
    /// snapshot of entries not journaled); [`Error::Query`];
    /// [`Error::ReadOnly`]. Nothing is written then.
    pub async fn put_snapshot(&self, seq: u64, state: &[u8]) -> Result<()> {
        let what = "write snapshots";
        let (_guard, mut tx) = self.begin(what).await?;
        let last = self.max_seq(&mut tx, what).await?;
        if seq > last {
            return Err(Error::Invalid {
                table: "snapshots",
                key: seq.to_string(),
                message: format!("a snapshot after seq {seq}, but the log ends at seq {last}"),
            });
        }
        sqlx::query(
            "INSERT INTO snapshots (seq, state) VALUES ($1, $2) \
             ON CONFLICT (seq) DO UPDATE SET state = excluded.state",
        )
        .bind(big(seq, "snapshots", "seq")?)
        .bind(state.to_vec())
        .execute(&mut *tx)
        .await
        .map_err(self.q(what))?;
        sqlx::query(
            "DELETE FROM snapshots WHERE seq NOT IN \
             (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT $1)",
        )
        .bind(SNAPSHOTS_KEPT as i64)
        .execute(&mut *tx)
        .await
        .map_err(self.q(what))?;
        self.commit(tx, what).await
    }

    /// The newest snapshot: its seq and the state bytes; `None` before
    /// the first.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`].
    pub async fn latest_snapshot(&self) -> Result<Option<(u64, Vec<u8>)>> {
        let row = sqlx::query("SELECT seq, state FROM snapshots ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(self.q("read snapshots"))?;
        row.map(|r| {
            let mut c = Cells::new(&r, "snapshots");
            let seq = c.u64("seq")?;
            c.key = seq.to_string();
            Ok((seq, c.get("state")?))
        })
        .transpose()
    }

    /// The seqs of the snapshots kept, ascending.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`].
    pub async fn snapshot_seqs(&self) -> Result<Vec<u64>> {
        let rows = sqlx::query("SELECT seq FROM snapshots ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .map_err(self.q("read snapshots"))?;
        rows.iter()
            .map(|r| Cells::new(r, "snapshots").u64("seq"))
            .collect()
    }

    /// Sets session setting `key` to `value` (replacing it). Durable on
    /// return.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::ReadOnly`].
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let what = "upsert meta";
        let (_guard, mut tx) = self.begin(what).await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key.to_string())
        .bind(value.to_string())
        .execute(&mut *tx)
        .await
        .map_err(self.q(what))?;
        self.commit(tx, what).await
    }

    /// Session setting `key`; `None` when never set.
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(self.q("read meta"))
    }

    /// Every session setting, by key.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`].
    pub async fn meta_all(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT key, value FROM meta ORDER BY key")
            .fetch_all(&self.pool)
            .await
            .map_err(self.q("read meta"))?;
        rows.iter()
            .map(|r| {
                let c = Cells::new(r, "meta");
                Ok((c.get("key")?, c.get("value")?))
            })
            .collect()
    }

    /// Row counts of every table.
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn counts(&self) -> Result<Counts> {
        let mut n = [0u64; 9];
        for (slot, sql) in n.iter_mut().zip([
            "SELECT COUNT(*) FROM journal",
            "SELECT COUNT(*) FROM snapshots",
            "SELECT COUNT(*) FROM positions",
            "SELECT COUNT(*) FROM orders",
            "SELECT COUNT(*) FROM fills",
            "SELECT COUNT(*) FROM equity",
            "SELECT COUNT(*) FROM risk_events",
            "SELECT COUNT(*) FROM alerts",
            "SELECT COUNT(*) FROM alert_deliveries WHERE delivered_ns IS NULL",
        ]) {
            let c: i64 = sqlx::query_scalar(sql)
                .fetch_one(&self.pool)
                .await
                .map_err(self.q("count rows"))?;
            *slot = u64::try_from(c).unwrap_or(0);
        }
        let [
            entries,
            snapshots,
            positions,
            orders,
            fills,
            equity,
            risk_events,
            alerts,
            undelivered,
        ] = n;
        Ok(Counts {
            entries,
            snapshots,
            positions,
            orders,
            fills,
            equity,
            risk_events,
            alerts,
            undelivered,
        })
    }

    /// Runs `PRAGMA name` (SQLite) or `SHOW name` (PostgreSQL) on a pooled
    /// connection and returns the setting as text: how the tests check
    /// `journal_mode`, `synchronous` and `synchronous_commit`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a name that is not a plain identifier;
    /// [`Error::Query`].
    pub async fn setting(&self, name: &str) -> Result<String> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(Error::Invalid {
                table: "settings",
                key: name.to_string(),
                message: "not a setting name".into(),
            });
        }
        let text = match self.backend {
            Backend::Sqlite { .. } => format!("PRAGMA {name}"),
            Backend::Postgres { .. } => format!("SHOW {name}"),
        };
        let row = sqlx::query(AssertSqlSafe(text))
            .fetch_one(&self.pool)
            .await
            .map_err(self.q("read a setting"))?;
        use sqlx::Row;
        if let Ok(s) = row.try_get::<String, _>(0) {
            return Ok(s);
        }
        row.try_get::<i64, _>(0)
            .map(|i| i.to_string())
            .map_err(self.q("read a setting"))
    }
}

/// The advisory lock of the current schema's journal (two keys: the
/// crate, the schema).
const PG_TRY_LOCK: &str =
    "SELECT pg_try_advisory_lock(hashtext('quant-journal'), hashtext(current_schema()))";
const PG_UNLOCK: &str =
    "SELECT pg_advisory_unlock(hashtext('quant-journal'), hashtext(current_schema()))";

/// `sqlite://PATH?mode=…` for `path`, made absolute and percent-encoded
/// where a URL would misread it.
fn sqlite_url(path: &Path, db: &str, mode: &str) -> Result<String> {
    let Some(text) = path.to_str() else {
        return Err(Error::Url(db.to_string()));
    };
    let mut enc = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '%' => enc.push_str("%25"),
            '?' => enc.push_str("%3F"),
            '#' => enc.push_str("%23"),
            ' ' => enc.push_str("%20"),
            c => enc.push(c),
        }
    }
    Ok(format!("sqlite://{enc}?mode={mode}"))
}

/// The SQLite pool: WAL (switched once, persistent in the file),
/// `synchronous = FULL` and the busy timeout on every connection.
async fn connect_sqlite(path: &Path, db: &str, read_only: bool) -> Result<AnyPool> {
    let url = sqlite_url(path, db, if read_only { "rw" } else { "rwc" })?;
    let connect = |source| Error::Connect {
        db: db.to_string(),
        source,
    };
    let pool = AnyPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                sqlx::query("PRAGMA synchronous = FULL")
                    .execute(&mut *conn)
                    .await?;
                sqlx::query(AssertSqlSafe(format!(
                    "PRAGMA busy_timeout = {}",
                    SQLITE_BUSY_TIMEOUT.as_millis()
                )))
                .execute(&mut *conn)
                .await?;
                sqlx::query("PRAGMA foreign_keys = ON")
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .connect(&url)
        .await
        .map_err(connect)?;
    let mode: String = if read_only {
        sqlx::query_scalar("PRAGMA journal_mode")
    } else {
        sqlx::query_scalar("PRAGMA journal_mode = WAL")
    }
    .fetch_one(&pool)
    .await
    .map_err(connect)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Durability {
            db: db.to_string(),
            setting: "PRAGMA journal_mode",
            value: mode,
            expected: "wal",
        });
    }
    Ok(pool)
}

/// The PostgreSQL pool, `synchronous_commit = on` on every connection.
async fn connect_postgres(url: &str, db: &str) -> Result<AnyPool> {
    let connect = |source| Error::Connect {
        db: db.to_string(),
        source,
    };
    let pool = AnyPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                sqlx::query("SET synchronous_commit = on")
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .map_err(connect)?;
    let fsync: String = sqlx::query_scalar("SHOW fsync")
        .fetch_one(&pool)
        .await
        .map_err(connect)?;
    if fsync != "on" {
        tracing::warn!(
            journal = db,
            "the PostgreSQL server runs with fsync = {fsync}: acknowledged journal writes may not survive a power cut"
        );
    }
    Ok(pool)
}

/// A connection holding the advisory lock of the URL's schema, taken
/// within [`POSTGRES_LOCK_WAIT`].
async fn lock_postgres(url: &str, db: &str) -> Result<AnyConnection> {
    let connect = |source| Error::Connect {
        db: db.to_string(),
        source,
    };
    let mut conn = AnyConnection::connect(url).await.map_err(connect)?;
    // without an existing schema on the search path there is nothing to
    // lock (and nowhere to migrate to)
    let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(&mut conn)
        .await
        .map_err(connect)?;
    let Some(schema) = schema else {
        let _ = conn.close().await;
        return Err(connect(sqlx::Error::Configuration(
            "the search_path names no existing schema: create the schema first".into(),
        )));
    };
    let deadline = tokio::time::Instant::now() + POSTGRES_LOCK_WAIT;
    loop {
        let got: bool = sqlx::query_scalar(PG_TRY_LOCK)
            .fetch_one(&mut conn)
            .await
            .map_err(connect)?;
        if got {
            return Ok(conn);
        }
        if tokio::time::Instant::now() >= deadline {
            let _ = conn.close().await;
            return Err(Error::Locked {
                what: format!("{db} (schema {schema})"),
                holder: "another PostgreSQL session holds its advisory lock".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// fsyncs directory `dir` (its entries: a file just created in it).
fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_resolve_from_the_state_dir() {
        let dir = Path::new("/s");
        let b = |url: Option<&str>| {
            Backend::resolve(
                dir,
                &JournalConfig {
                    url: url.map(str::to_string),
                },
            )
        };
        assert_eq!(
            b(None).ok(),
            Some(Backend::Sqlite {
                path: "/s/journal.db".into()
            })
        );
        assert_eq!(
            b(Some("sqlite:j/x.db")).ok(),
            Some(Backend::Sqlite {
                path: "/s/j/x.db".into()
            })
        );
        assert_eq!(
            b(Some("sqlite:///abs/x.db")).ok(),
            Some(Backend::Sqlite {
                path: "/abs/x.db".into()
            })
        );
        assert_eq!(
            b(Some("postgres://u@h/db")).ok(),
            Some(Backend::Postgres {
                url: "postgres://u@h/db".into()
            })
        );
        for bad in ["mysql://h/db", "sqlite:", "sqlite::memory:", "journal.db"] {
            assert!(matches!(b(Some(bad)), Err(Error::Url(_))), "{bad}");
        }
        let e = b(Some("mysql://u:pw@h/db")).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "journal url `mysql://u:***@h/db`: use sqlite:PATH or postgres://USER@HOST:PORT/DB"
            )
        );
    }

    #[test]
    fn debug_forms_hide_the_password() {
        let b = Backend::Postgres {
            url: "postgres://u:secret@h/db".into(),
        };
        let text = format!("{b:?}");
        assert!(
            !text.contains("secret") && text.contains("u:***@h/db"),
            "{text}"
        );
        assert_eq!(b.describe(), "postgres://u:***@h/db");
    }

    #[test]
    fn sqlite_urls_keep_odd_paths() {
        let u = sqlite_url(Path::new("/a b/50%?#.db"), "x", "rwc").ok();
        assert_eq!(
            u.as_deref(),
            Some("sqlite:///a%20b/50%25%3F%23.db?mode=rwc")
        );
    }

    #[test]
    fn entry_kinds_round_trip() {
        for k in [EntryKind::Event, EntryKind::Command] {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EntryKind::parse("x"), None);
    }
}
