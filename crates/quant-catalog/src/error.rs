//! The catalog's error type.

/// Everything the catalog can fail with. Messages name the catalog (its URL
/// without a password), the statement or the table and row at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL names no supported back end.
    #[error("catalog URL `{0}`: use sqlite:PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB")]
    Url(String),
    /// Connecting (or creating the SQLite file) failed.
    #[error("catalog {url}: cannot connect: {source}")]
    Connect {
        /// The URL, password removed.
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// Applying the schema migrations failed.
    #[error("catalog {url}: migrations failed: {source}")]
    Migrate {
        /// The URL, password removed.
        url: String,
        /// The migrator's error.
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed.
    #[error("catalog: {what} failed: {source}")]
    Query {
        /// What was being done (`upsert adj_factors`, `read update_history`…).
        what: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The operation exists for the other back end only.
    #[error("catalog {url}: {what} is for SQLite catalogs only")]
    SqliteOnly {
        /// The URL, password removed.
        url: String,
        /// The operation.
        what: &'static str,
    },
    /// A stored value cannot be read back as its type (a hand-edited row).
    #[error("catalog table {table}, row {key}: column {column} holds `{value}`, not {expected}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// The row's key.
        key: String,
        /// Column.
        column: &'static str,
        /// What the column holds.
        value: String,
        /// What it should hold.
        expected: &'static str,
    },
}

/// The catalog's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Maps a driver error to [`Error::Query`] naming `what`.
pub(crate) fn query(what: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |source| Error::Query { what, source }
}
