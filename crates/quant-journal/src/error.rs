//! The journal's error type.

use std::path::PathBuf;

/// Everything the journal can fail with. Messages name the journal (the
/// SQLite file, or the PostgreSQL URL without its password), the file,
/// table, key or setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `[journal] url` names no supported back end.
    #[error("journal url `{0}`: use sqlite:PATH or postgres://USER@HOST:PORT/DB")]
    Url(String),
    /// A file or folder of the state dir cannot be created, opened or
    /// synced.
    #[error("journal: {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another live process holds the state dir's lock (`LOCK`), or the
    /// PostgreSQL journal's advisory lock: one session writes one journal.
    #[error(
        "journal {what} is in use by another process ({holder}); stop that session first or use another state dir"
    )]
    Locked {
        /// The lock file, or the PostgreSQL URL and schema.
        what: String,
        /// Who holds it, as far as known (`pid 1234`).
        holder: String,
    },
    /// Connecting to (or creating) the database failed.
    #[error("journal {db}: cannot connect: {source}")]
    Connect {
        /// The SQLite file or the PostgreSQL URL without its password.
        db: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// Applying the schema migrations failed.
    #[error("journal {db}: migrations failed: {source}")]
    Migrate {
        /// The SQLite file or the PostgreSQL URL without its password.
        db: String,
        /// The migrator's error.
        source: sqlx::migrate::MigrateError,
    },
    /// The database does not give the durability the journal promises
    /// (an SQLite file system without WAL support, say).
    #[error("journal {db}: {setting} is `{value}`, the journal needs {expected}")]
    Durability {
        /// The SQLite file or the PostgreSQL URL without its password.
        db: String,
        /// The setting (`PRAGMA journal_mode`).
        setting: &'static str,
        /// What it is.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A statement failed; in a write, nothing of the call was written.
    #[error("journal {db}: {what} failed: {source}")]
    Query {
        /// The SQLite file or the PostgreSQL URL without its password.
        db: String,
        /// What was being done, naming the table (`append to journal`,
        /// `upsert orders`…).
        what: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A stored value cannot be read back as its type (a hand-edited row).
    #[error("journal table {table}, row {key}: column {column} holds `{value}`, not {expected}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// The row's key.
        key: String,
        /// Column.
        column: &'static str,
        /// What the column holds (or the decoding error).
        value: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// The caller handed over a value the journal refuses (a snapshot
    /// after the log's end, an alert payload that is not JSON, an id beyond
    /// 2⁶³ − 1).
    #[error("journal table {table}, key {key}: {message}")]
    Invalid {
        /// The table it was meant for.
        table: &'static str,
        /// The row's key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A delivery row that does not exist (`mark_delivered`, `mark_failed`).
    #[error(
        "journal table alert_deliveries: no delivery of alert `{event_id}` to channel `{channel}`"
    )]
    NoDelivery {
        /// The alert's event id.
        event_id: String,
        /// The channel.
        channel: String,
    },
    /// A write through a journal opened with [`crate::Journal::open_reader`].
    #[error("journal {db}: {what} refused: opened read-only")]
    ReadOnly {
        /// The SQLite file or the PostgreSQL URL without its password.
        db: String,
        /// The refused operation.
        what: &'static str,
    },
}

/// The journal's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
