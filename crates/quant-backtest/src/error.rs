//! The error type of `quant-backtest`.

use std::path::PathBuf;

/// Errors of configuring, running and reporting a backtest. Config errors
/// name the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config file that cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A config file that is not valid TOML or does not fit the schema.
    #[error("{path}: {message}")]
    Config {
        /// Config file.
        path: PathBuf,
        /// What is wrong, naming the key (and line, for TOML syntax).
        message: String,
    },
    /// A config value out of its range (or at odds with another): the
    /// file, the line of the key (`path:line: key: message`; the line left
    /// out when the key is not written) and the allowed range.
    #[error("{}{}: {key}: {message}", path.display(), if *line == 0 { String::new() } else { format!(":{line}") })]
    Setting {
        /// Config file.
        path: PathBuf,
        /// 1-based line of the key's value, 0 when not written.
        line: usize,
        /// Dotted key (`costs.commission_rate`, `risk.breakers.cooldown_days`).
        key: String,
        /// What is wrong, with the allowed range and the value.
        message: String,
    },
    /// Market data that failed to load.
    #[error(transparent)]
    Data(#[from] quant_data::Error),
    /// A strategy that failed to build or start.
    #[error(transparent)]
    Strategy(#[from] quant_strategy::Error),
    /// The event loop failed.
    #[error(transparent)]
    Exec(#[from] quant_exec::Error),
    /// The engine failed (strategy, order book, feed).
    #[error(transparent)]
    Engine(#[from] quant_engine::Error),
    /// Writing an output file failed.
    #[error("{path}: {message}")]
    Output {
        /// File.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A baseline file that cannot be used.
    #[error("{path}: {message}")]
    Baseline {
        /// Baseline file.
        path: PathBuf,
        /// What is wrong.
        message: String,
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
