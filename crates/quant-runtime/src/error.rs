//! The error type of `quant-runtime`.

use std::path::PathBuf;

/// Errors of paper sessions.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The run config or its data (names the file and key).
    #[error(transparent)]
    Backtest(#[from] quant_backtest::Error),
    /// The engine refused an event or a snapshot.
    #[error(transparent)]
    Engine(#[from] quant_engine::Error),
    /// The strategy could not be built or restored.
    #[error(transparent)]
    Strategy(#[from] quant_strategy::Error),
    /// A setting of `[paper]`, `[journal]`, `[alerts]` or `[security]`
    /// (names the file and the key).
    #[error("{path}: {key}: {message}")]
    Setting {
        /// The config file.
        path: PathBuf,
        /// The key at fault (`paper.snapshot_every_days`…).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A command-line option out of place or range (names the flag).
    #[error("{key}: {message}")]
    Usage {
        /// The flag (`--speed`…).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The state directory cannot hold or resume this session (names it).
    #[error("state dir {dir}: {message}")]
    State {
        /// The state directory.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A snapshot or journal entry that does not encode or decode.
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// Re-running a day after a restart produced other events or commands
    /// than the journal holds: the data or the program changed since.
    #[error(
        "journal entry {seq}: the journal holds `{journaled}`, re-running gives `{produced}` (the data or the program changed since it was written)"
    )]
    Diverged {
        /// Sequence number of the journaled entry.
        seq: u64,
        /// The journaled entry's tag.
        journaled: String,
        /// The re-run's entry's tag.
        produced: String,
    },
    /// The journal failed (a write-ahead append, a snapshot, a read).
    #[error("journal: {0}")]
    Journal(String),
    /// A daily report that could not be rendered (names the file it was
    /// for).
    #[error("report {path}: {message}")]
    Report {
        /// The report file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A file of the state dir or an output folder.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
