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
    /// The request could not be built or sent for a reason without its own
    /// variant (an invalid URL, a redirect loop…); timeouts, failed
    /// connections and bodies cut short are [`Error::Timeout`],
    /// [`Error::Connect`] and [`Error::BodyCut`].
    #[error("{provider}: request to {url} failed: {detail}")]
    Transport {
        /// Provider name.
        provider: String,
        /// Requested URL.
        url: String,
        /// The transport's message.
        detail: String,
    },
    /// The request or its reply took longer than the client's timeout
    /// (`timeout_secs`), before the reply or while its body was read.
    #[error("{provider}: request to {url} timed out after {}", seconds(.after))]
    Timeout {
        /// Provider name.
        provider: String,
        /// Requested URL.
        url: String,
        /// The timeout that ran out.
        after: Duration,
    },
    /// No connection could be made: refused, unreachable, DNS failure, TLS
    /// handshake.
    #[error("{provider}: could not connect to {addr}: {reason} (request to {url})")]
    Connect {
        /// Provider name.
        provider: String,
        /// Requested URL.
        url: String,
        /// `HOST:PORT` of the URL.
        addr: String,
        /// Why (`connection refused`, the resolver's message …).
        reason: String,
    },
    /// The reply body is larger than the provider's cap
    /// (`max_body_bytes`): refused from its `Content-Length`, or as soon as
    /// more than the cap had been read.
    #[error("{provider}: reply from {url} is larger than the {limit}-byte cap (max_body_bytes): {}", body_size(*.declared, *.read))]
    BodyTooLarge {
        /// Provider name.
        provider: String,
        /// Requested URL.
        url: String,
        /// The cap, bytes.
        limit: u64,
        /// The `Content-Length` the server declared, when it did.
        declared: Option<u64>,
        /// Bytes read before giving up.
        read: u64,
    },
    /// The connection failed while the reply body was read (closed early,
    /// reset, fewer bytes than `Content-Length`).
    #[error("{provider}: reply from {url} was cut short after {read} bytes: {detail}")]
    BodyCut {
        /// Provider name.
        provider: String,
        /// Requested URL.
        url: String,
        /// Bytes read before the failure.
        read: u64,
        /// The transport's message.
        detail: String,
    },
    /// Paging did not end: more pages than `max_pages`, or a page that
    /// does not advance (no new rows, a repeated page, an offset or start
    /// time that does not increase).
    #[error("{provider}: paging {call} stopped at page {page}: {detail}")]
    Pagination {
        /// Provider name.
        provider: String,
        /// The API call.
        call: String,
        /// The page (1-based) at fault.
        page: u32,
        /// What was wrong.
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

/// `0.3s`, `30s`.
fn seconds(d: &Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

fn body_size(declared: Option<u64>, read: u64) -> String {
    match declared {
        Some(n) => format!("Content-Length is {n}, nothing read"),
        None => format!("stopped after {read} bytes"),
    }
}

impl Error {
    /// Worth retrying: transport failures (timeouts, refused connections,
    /// bodies cut short), HTTP 5xx, throttling. API errors (permissions,
    /// bad symbols), malformed replies, oversized bodies, paging faults and
    /// configuration errors are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. }
            | Self::Timeout { .. }
            | Self::Connect { .. }
            | Self::BodyCut { .. }
            | Self::RateLimited { .. } => true,
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
            | Self::Timeout { provider, .. }
            | Self::Connect { provider, .. }
            | Self::BodyTooLarge { provider, .. }
            | Self::BodyCut { provider, .. }
            | Self::Pagination { provider, .. }
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

    /// This error with `f` applied to every text field (names, URLs,
    /// bodies, messages, details); numbers and [`Error::Store`] are kept.
    /// The transport redacts secrets with it
    /// ([`crate::secret::Secrets::redact_error`]).
    #[must_use]
    pub fn map_text(self, f: impl Fn(&str) -> String) -> Error {
        match self {
            Self::Offline { provider, url } => Self::Offline {
                provider: f(&provider),
                url: f(&url),
            },
            Self::Transport {
                provider,
                url,
                detail,
            } => Self::Transport {
                provider: f(&provider),
                url: f(&url),
                detail: f(&detail),
            },
            Self::Timeout {
                provider,
                url,
                after,
            } => Self::Timeout {
                provider: f(&provider),
                url: f(&url),
                after,
            },
            Self::Connect {
                provider,
                url,
                addr,
                reason,
            } => Self::Connect {
                provider: f(&provider),
                url: f(&url),
                addr: f(&addr),
                reason: f(&reason),
            },
            Self::BodyTooLarge {
                provider,
                url,
                limit,
                declared,
                read,
            } => Self::BodyTooLarge {
                provider: f(&provider),
                url: f(&url),
                limit,
                declared,
                read,
            },
            Self::BodyCut {
                provider,
                url,
                read,
                detail,
            } => Self::BodyCut {
                provider: f(&provider),
                url: f(&url),
                read,
                detail: f(&detail),
            },
            Self::Pagination {
                provider,
                call,
                page,
                detail,
            } => Self::Pagination {
                provider: f(&provider),
                call: f(&call),
                page,
                detail: f(&detail),
            },
            Self::Http {
                provider,
                url,
                status,
                body,
            } => Self::Http {
                provider: f(&provider),
                url: f(&url),
                status,
                body: f(&body),
            },
            Self::Api {
                provider,
                call,
                code,
                msg,
            } => Self::Api {
                provider: f(&provider),
                call: f(&call),
                code,
                msg: f(&msg),
            },
            Self::RateLimited {
                provider,
                call,
                retry_after,
            } => Self::RateLimited {
                provider: f(&provider),
                call: f(&call),
                retry_after,
            },
            Self::Malformed {
                provider,
                call,
                detail,
            } => Self::Malformed {
                provider: f(&provider),
                call: f(&call),
                detail: f(&detail),
            },
            Self::CircuitOpen {
                provider,
                failures,
                wait,
            } => Self::CircuitOpen {
                provider: f(&provider),
                failures,
                wait,
            },
            Self::Unsupported { provider, what } => Self::Unsupported {
                provider: f(&provider),
                what,
            },
            Self::MissingToken { provider, var } => Self::MissingToken {
                provider: f(&provider),
                var: f(&var),
            },
            Self::Config { file, key, msg } => Self::Config {
                file: f(&file),
                key: f(&key),
                msg: f(&msg),
            },
            e @ Self::Store(_) => e,
            Self::AllFailed(list) => {
                Self::AllFailed(list.into_iter().map(|(p, e)| (f(&p), f(&e))).collect())
            }
        }
    }
}
