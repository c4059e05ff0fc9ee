//! Fixtures: a state dir per test and, on PostgreSQL, a schema per test.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use quant_core::UnixNanos;
use quant_journal::{Entry, Journal, JournalConfig};
use sqlx::{AnyConnection, Connection};
use tempfile::TempDir;

/// Runs `async fn $name(fx: &Fixture)` of the enclosing module as
/// `$name::sqlite` and `$name::postgres` (the latter skips without
/// `DATABASE_URL`).
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let fx = crate::support::Fixture::sqlite();
                super::$name(&fx).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(fx) = crate::support::Fixture::postgres(stringify!($name)).await else {
                    return;
                };
                super::$name(&fx).await;
            }
        }
    };
}

/// A journal location borrowed from a [`Fixture`].
pub struct Location {
    /// The state dir.
    pub dir: std::path::PathBuf,
    /// The `[journal]` config.
    pub cfg: JournalConfig,
}

/// One test's journal location.
pub struct Fixture {
    /// The state dir (holds `LOCK`, and `journal.db` on SQLite).
    pub dir: TempDir,
    /// The `[journal]` config (a URL with the test's schema on PostgreSQL).
    pub cfg: JournalConfig,
    /// `(admin url, schema)` on PostgreSQL.
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn tempdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("quant-journal-")
        .tempdir()
        .expect("a temp dir")
}

/// `url` with `key=value` added to its query.
pub fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

impl Fixture {
    /// A fresh SQLite state dir.
    pub fn sqlite() -> Self {
        Self {
            dir: tempdir(),
            cfg: JournalConfig::default(),
            pg: None,
        }
    }

    /// A fresh schema `qj_<test>_<pid>_<n>` in `DATABASE_URL`'s database;
    /// `None` (the test is skipped) without `DATABASE_URL`.
    pub async fn postgres(test: &str) -> Option<Self> {
        let Ok(admin) = std::env::var("DATABASE_URL") else {
            eprintln!("DATABASE_URL is not set: PostgreSQL test skipped");
            return None;
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut schema = format!("qj_{test}");
        schema.truncate(40);
        let schema = format!("{schema}_{}_{nanos:x}_{n}", std::process::id()).to_lowercase();
        sqlx::any::install_default_drivers();
        let mut conn = AnyConnection::connect(&admin)
            .await
            .expect("connect to DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .execute(&mut conn)
            .await
            .expect("create the test schema");
        let _ = conn.close().await;
        let url = with_param(&admin, &format!("options[search_path]={schema}"));
        Some(Self {
            dir: tempdir(),
            cfg: JournalConfig { url: Some(url) },
            pg: Some((admin, schema)),
        })
    }

    /// True on PostgreSQL.
    pub fn is_pg(&self) -> bool {
        self.pg.is_some()
    }

    /// Opens the journal for writing.
    pub async fn open(&self) -> Journal {
        Journal::open(self.dir.path(), &self.cfg)
            .await
            .expect("open the journal")
    }

    /// Opens the journal of another state dir with the same config (on
    /// SQLite: another journal; on PostgreSQL: the same schema).
    pub async fn open_in(&self, dir: &Path) -> quant_journal::Result<Journal> {
        Journal::open(dir, &self.cfg).await
    }

    /// The same location without owning it (for another thread): the
    /// copy neither removes the state dir nor drops the schema.
    pub fn clone_location(&self) -> Location {
        Location {
            dir: self.dir.path().to_path_buf(),
            cfg: self.cfg.clone(),
        }
    }

    /// Opens the journal for reading only.
    pub async fn open_reader_of(&self) -> Journal {
        Journal::open_reader(self.dir.path(), &self.cfg)
            .await
            .expect("open the journal for reading")
    }

    /// A raw connection to the journal's database, as a hand editing it.
    pub async fn raw(&self) -> AnyConnection {
        sqlx::any::install_default_drivers();
        let url = match &self.cfg.url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.dir.path().join(quant_journal::JOURNAL_FILE).display()
            ),
        };
        AnyConnection::connect(&url)
            .await
            .expect("a raw connection")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let Some((admin, schema)) = self.pg.take() else {
            return;
        };
        // async work in a drop: a runtime of its own on a thread of its own
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = AnyConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                    )))
                    .execute(&mut conn)
                    .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// An event entry numbered `i`.
pub fn ev(i: u64) -> Entry {
    Entry::event(
        UnixNanos(1_700_000_000_000_000_000 + i as i64),
        "bars",
        format!("event {i}").into_bytes(),
    )
}

/// A command entry numbered `i`.
pub fn cmd(i: u64) -> Entry {
    Entry::command(
        UnixNanos(1_700_000_000_000_000_000 + i as i64),
        "submit",
        vec![0, 1, 2, (i % 256) as u8],
    )
}

/// Every seq in the log, in order.
pub async fn seqs(j: &Journal) -> Vec<u64> {
    j.entries_after(0, None)
        .await
        .expect("read the log")
        .iter()
        .map(|r| r.seq)
        .collect()
}
