//! The one error type of `quant-providers`.

use std::time::Duration;

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong talking to a provider. Every variant names the provider
/// (and, where there is one, the URL or API call) at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Offline mode is on: no request was sent.
    #[error("{provider}: offline mode refuses network access ({url})")]
    Offline {
        /// Provider name.
        provider: String,
        /// The URL that would have been requested.
        url: String,
    },
    /// The request could not be sent or its reply not read (connection
    /// refused, reset, timeout).
    #[error("{provider}: request to {url} failed: {detail}")]
    Transport {
        /// Provider name.
        provider: String,
        /// Requested URL.
        url: String,
        /// The transport's message.
        detail: String,
    },
    /// The server answered with an HTTP error status.
    #[error("{provider}: HTTP {status} from {url}: {body}")]
    Http {
        /// Provider name.
        provider: String,
        /// Requested URL.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The start of the reply body (at most 300 characters).
        body: String,
    },
    /// The provider's API reported an error in a well-formed reply (TuShare
    /// `code != 0`, Binance `{"code": -1121, "msg": …}`, Yahoo
    /// `chart.error`, Eastmoney `rc != 0`).
    #[error("{provider}: {call} error {code}: {msg}")]
    Api {
        /// Provider name.
        provider: String,
        /// The API call (`daily`, `klines`…).
        call: String,
        /// The provider's error code (0 when it gives none).
        code: i64,
        /// The provider's message.
        msg: String,
    },
    /// Throttled (HTTP 429, TuShare 40203 …) and still throttled after the
    /// retries.
    #[error("{provider}: rate limited by the server on {call} (retry after {retry_after:?})")]
    RateLimited {
        /// Provider name.
        provider: String,
        /// The API call or URL.
        call: String,
        /// What the server asked for, when it said.
        retry_after: Option<Duration>,
    },
    /// A reply that does not have the provider's documented shape.
    #[error("{provider}: malformed reply to {call}: {detail}")]
    Malformed {
        /// Provider name.
        provider: String,
        /// The API call or URL.
        call: String,
        /// What was wrong (field, row, value).
        detail: String,
    },
    /// The circuit breaker is open after repeated failures: calls fail fast
    /// until the cool-down ends.
    #[error("{provider}: circuit open after {failures} consecutive failures; next try in {wait:?}")]
    CircuitOpen {
        /// Provider name.
        provider: String,
        /// Consecutive failed calls that opened it.
        failures: u32,
        /// Time left in the cool-down.
        wait: Duration,
    },
    /// This provider does not serve that kind of data.
    #[error("{provider} does not provide {what}")]
    Unsupported {
        /// Provider name.
        provider: String,
        /// What was asked for.
        what: &'static str,
    },
    /// The environment variable named in the configuration for a token is
    /// not set.
    #[error("{provider}: token variable {var} is not set in the environment")]
    MissingToken {
        /// Provider name.
        provider: String,
        /// The variable's name (from `data.toml`).
        var: String,
    },
    /// A bad provider configuration (`data.toml`).
    #[error("{file}: {key}: {msg}")]
    Config {
        /// The configuration file.
        file: String,
        /// The key at fault (`providers.cn.primary` …).
        key: String,
        /// What is wrong.
        msg: String,
    },
    /// Reading or writing the local store failed (file named inside).
    #[error(transparent)]
    Store(#[from] quant_data::Error),
    /// Every provider of a failover chain failed; one entry per provider,
    /// in the order tried.
    #[error("every provider failed: {}", .0.iter().map(|(p, e)| format!("{p}: {e}")).collect::<Vec<_>>().join("; "))]
    AllFailed(Vec<(String, String)>),
}

impl Error {
    /// Worth retrying: transport failures, HTTP 5xx, throttling. API errors
    /// (permissions, bad symbols), malformed replies and configuration
    /// errors are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::RateLimited { .. } => true,
            Self::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// A 4xx [`Error::Http`] whose body `api` reads as the provider's own
    /// error reply becomes that error (Binance `{"code","msg"}`, Yahoo
    /// `chart.error`); any other error is returned as it is.
    pub fn or_api_body(self, api: impl FnOnce(&str) -> Option<Error>) -> Error {
        match &self {
            Self::Http { status, body, .. } if (400..500).contains(status) => {
                api(body).unwrap_or(self)
            }
            _ => self,
        }
    }

    /// The provider named by this error (empty for [`Error::Config`],
    /// [`Error::Store`] and [`Error::AllFailed`]).
    pub fn provider(&self) -> &str {
        match self {
            Self::Offline { provider, .. }
            | Self::Transport { provider, .. }
            | Self::Http { provider, .. }
            | Self::Api { provider, .. }
            | Self::RateLimited { provider, .. }
            | Self::Malformed { provider, .. }
            | Self::CircuitOpen { provider, .. }
            | Self::Unsupported { provider, .. }
            | Self::MissingToken { provider, .. } => provider,
            Self::Config { .. } | Self::AllFailed(_) | Self::Store(_) => "",
        }
    }
}
