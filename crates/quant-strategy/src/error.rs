//! The error type of `quant-strategy`.

/// Errors from building or starting a strategy.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No strategy of that name.
    #[error("unknown strategy `{name}`; available: {available}")]
    UnknownStrategy {
        /// Name asked for.
        name: String,
        /// Names the registry knows.
        available: String,
    },
    /// A parameter table that does not fit the strategy (names the key).
    #[error("strategy `{strategy}`: {message}")]
    Config {
        /// Strategy name.
        strategy: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A strategy file that cannot be read.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The system's reason.
        message: String,
    },
    /// A strategy file with a fault at a line and key (`file:line: key:
    /// message`; the line is left out when unknown, the key when the TOML
    /// itself or the whole file is at fault).
    #[error("{}{}: {}{message}", path.display(), if *line == 0 { String::new() } else { format!(":{line}") }, if key.is_empty() { String::new() } else { format!("{key}: ") })]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// 1-based line (0 when unknown).
        line: usize,
        /// Dotted key (`signals[1].when`), empty when the TOML itself is bad.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Portfolio construction inputs that cannot give weights.
    #[error("portfolio construction: {0}")]
    Construction(String),
}

impl Error {
    /// The `[strategy.params]` key an [`Error::Config`] is about, when its
    /// message names one: `params.KEY` (`params.lookback must be …`,
    /// `params.sizing.fraction: …`; the convention of every built-in) or an
    /// unknown field (`` unknown field `fastt` ``). `None` for other errors.
    pub fn param_key(&self) -> Option<&str> {
        let Self::Config { message, .. } = self else {
            return None;
        };
        let word = |rest: &'_ str| -> usize {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(rest.len())
        };
        if let Some(at) = message.find("params.") {
            let rest = &message[at + "params.".len()..];
            let key = rest[..word(rest)].trim_end_matches('.');
            if !key.is_empty() {
                return Some(key);
            }
        }
        let rest = message.split_once("unknown field `")?.1;
        let key = &rest[..word(rest)];
        (!key.is_empty()).then_some(key)
    }
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
