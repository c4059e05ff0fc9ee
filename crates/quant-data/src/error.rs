//! The error type of `quant-data`.

use std::path::PathBuf;

/// Errors from reading, validating and storing bars. Each names the file and,
/// for row problems, the 1-based line of the CSV (header = line 1) or the
/// row index of a Parquet file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O failure on a file.
    #[error("{path}: {source}")]
    Io {
        /// File or folder involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A required column is missing from a CSV header or Parquet schema.
    #[error("{path}: missing column `{column}` (have: {have})")]
    MissingColumn {
        /// File.
        path: PathBuf,
        /// The missing column.
        column: &'static str,
        /// Columns that are present.
        have: String,
    },
    /// A row fails parsing or validation.
    #[error("{path}:{line}: {}{reason}", column.as_ref().map(|c| format!("column {c}: ")).unwrap_or_default())]
    BadRow {
        /// File.
        path: PathBuf,
        /// 1-based line (CSV, header is line 1) or row number (Parquet, 1-based).
        line: u64,
        /// The field at fault when one is: its 1-based position in the
        /// header and its name, as `5 (close)`.
        column: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// A CSV syntax error.
    #[error("{path}: {source}")]
    Csv {
        /// File.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: csv::Error,
    },
    /// A table that cannot be written as asked (column length, repeated name).
    #[error("{path}: {message}")]
    Table {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A Parquet or Arrow failure.
    #[error("{path}: parquet: {message}")]
    Parquet {
        /// File.
        path: PathBuf,
        /// Underlying message.
        message: String,
    },
    /// A file name that is not a valid symbol.
    #[error("{path}: {source}")]
    Symbol {
        /// File.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: quant_core::Error,
    },
    /// Another command is writing to the store.
    #[error(
        "{path}: another command is writing to this store (its writer lock is held); try again when it is done"
    )]
    Locked {
        /// The store folder.
        path: PathBuf,
    },
    /// A store that cannot be committed to or recovered as it is: a path
    /// outside the store, a damaged commit record, a refused change.
    #[error("{path}: {message}")]
    Store {
        /// The file or folder at fault.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An import or fetch that would shrink a stored series or store an
    /// empty one, refused without `--replace`.
    #[error("{path}: {message}")]
    WouldShrink {
        /// The stored file.
        path: PathBuf,
        /// What would be lost.
        message: String,
    },
    /// An input folder without any data file.
    #[error("{path}: no .csv files found")]
    Empty {
        /// Folder.
        path: PathBuf,
    },
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
