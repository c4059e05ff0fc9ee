//! The one error type of `quant-alerts`: a bad `[alerts]` setting, a
//! secret missing from the environment, and a send that failed — each
//! failure saying whether the outbox should try again
//! ([`Error::is_retryable`], [`Error::retry_after`]).
//!
//! No variant ever holds a secret: settings errors name the key and the
//! environment variable (never its value), and every text that comes from
//! outside (a reply body, an API message, a transport error) is cut and
//! has each form of the channel's secrets replaced by `***` before it is
//! put in an error.

use std::time::Duration;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong setting up alert channels or sending an alert.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An `[alerts]` setting is invalid; `key` names it
    /// (`alerts.channels[2].chat_id`).
    #[error("{key}: {msg}")]
    Config {
        /// The key at fault.
        key: String,
        /// What is wrong with it.
        msg: String,
    },
    /// A channel's secret is not in the environment: `key` is the setting
    /// naming the variable (`alerts.channels[0].token_env`), `var` the
    /// variable. The value is never shown.
    #[error("{key}: environment variable {var} is not set or empty")]
    MissingSecret {
        /// The setting naming the variable.
        key: String,
        /// The environment variable.
        var: String,
    },
    /// The HTTP client cannot be built (its TLS setup failed).
    #[error("cannot build the HTTP client of the alert channels: {0}")]
    Client(String),
    /// The air-gapped policy refused the channel's host during a trading
    /// session: nothing was sent. Retryable: the alert goes once the
    /// session closes (or the host is added to `[security] allow_hosts`).
    #[error("alert channel `{channel}`: {blocked}")]
    Blocked {
        /// The channel's name.
        channel: String,
        /// The refusal (names the host only).
        blocked: quant_net::Blocked,
    },
    /// No reply: the connection failed, timed out or broke. Retryable.
    #[error("alert channel `{channel}`: no reply from {host}: {detail}")]
    Network {
        /// The channel's name.
        channel: String,
        /// `host[:port]` of the endpoint (never its path or query).
        host: String,
        /// What failed (redacted).
        detail: String,
    },
    /// The endpoint answered with an HTTP error status and no API error of
    /// its own. Retryable for 408, 425, 429 and 5xx (see
    /// [`Error::retry_after`] for a `Retry-After`), permanent otherwise.
    #[error("alert channel `{channel}`: {host} answered HTTP {status}{}: {body}", after(*.retry_after))]
    Status {
        /// The channel's name.
        channel: String,
        /// `host[:port]` of the endpoint.
        host: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the reply body (redacted).
        body: String,
        /// The reply's `Retry-After`, in seconds.
        retry_after: Option<Duration>,
    },
    /// The bot API refused the message with an error code of its own
    /// (Feishu `code`, DingTalk and WeCom `errcode`, Telegram
    /// `error_code`): a bad signature, key or chat is permanent; a rate
    /// limit or a busy server is retryable.
    #[error("alert channel `{channel}`: {service} refused the message: code {code}: {msg} (HTTP {status}){}", after(*.retry_after))]
    Rejected {
        /// The channel's name.
        channel: String,
        /// The service (`feishu`, `dingtalk`, `wecom`, `telegram`).
        service: &'static str,
        /// The API's error code.
        code: i64,
        /// The API's message (redacted).
        msg: String,
        /// The HTTP status of the reply.
        status: u16,
        /// Whether trying again later may succeed.
        retryable: bool,
        /// How long the API asked to wait (Telegram `retry_after`, or
        /// the reply's `Retry-After`).
        retry_after: Option<Duration>,
    },
    /// A success status whose body is not the API's reply (not JSON, or
    /// without its status field): the `url` probably points elsewhere.
    /// Permanent.
    #[error("alert channel `{channel}`: unreadable reply from {host}: {detail}")]
    BadReply {
        /// The channel's name.
        channel: String,
        /// `host[:port]` of the endpoint.
        host: String,
        /// What is wrong with it, and the start of the body (redacted).
        detail: String,
    },
    /// The SMTP exchange failed: a 4xx reply or a lost connection is
    /// retryable, a 5xx reply (a refused recipient, failed
    /// authentication) permanent.
    #[error("alert channel `{channel}`: smtp {host}: {detail}")]
    Smtp {
        /// The channel's name.
        channel: String,
        /// `host:port` of the relay.
        host: String,
        /// The SMTP reply code, when the server gave one.
        code: Option<u16>,
        /// What failed (redacted).
        detail: String,
        /// Whether trying again later may succeed.
        retryable: bool,
    },
    /// The message could not be put together from the alert. Permanent.
    #[error("alert channel `{channel}`: cannot build the message: {detail}")]
    Build {
        /// The channel's name.
        channel: String,
        /// What failed.
        detail: String,
    },
}

/// ` (retry after N s)` or nothing.
fn after(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (retry after {} s)", d.as_secs()),
        None => String::new(),
    }
}

/// Whether an HTTP status is worth trying again: timeouts, too early, rate
/// limits and server errors.
pub(crate) fn status_is_retryable(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || (500..=599).contains(&status)
}

impl Error {
    /// Whether sending again later may succeed (network failures, 408,
    /// 429, 5xx, rate limits, SMTP 4xx, an air-gapped refusal), as opposed
    /// to a permanent failure that needs the configuration fixed (4xx, a
    /// bad signature or key, SMTP 5xx, bad settings).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Blocked { .. } | Self::Network { .. } => true,
            Self::Status { status, .. } => status_is_retryable(*status),
            Self::Rejected { retryable, .. } | Self::Smtp { retryable, .. } => *retryable,
            Self::Config { .. }
            | Self::MissingSecret { .. }
            | Self::Client(_)
            | Self::BadReply { .. }
            | Self::Build { .. } => false,
        }
    }

    /// How long the endpoint asked to wait before trying again (Telegram's
    /// `parameters.retry_after`, an HTTP `Retry-After` in seconds), for
    /// retryable errors that carry one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } | Self::Rejected { retry_after, .. }
                if self.is_retryable() =>
            {
                *retry_after
            }
            _ => None,
        }
    }

    /// The name of the channel that failed, for send errors.
    pub fn channel(&self) -> Option<&str> {
        match self {
            Self::Blocked { channel, .. }
            | Self::Network { channel, .. }
            | Self::Status { channel, .. }
            | Self::Rejected { channel, .. }
            | Self::BadReply { channel, .. }
            | Self::Smtp { channel, .. }
            | Self::Build { channel, .. } => Some(channel),
            Self::Config { .. } | Self::MissingSecret { .. } | Self::Client(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, retry_after: Option<u64>) -> Error {
        Error::Status {
            channel: "hook".into(),
            host: "127.0.0.1:9".into(),
            status: code,
            body: "x".into(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn classification() {
        for (code, retry) in [
            (400, false),
            (401, false),
            (403, false),
            (404, false),
            (408, true),
            (429, true),
            (500, true),
            (503, true),
        ] {
            assert_eq!(status(code, None).is_retryable(), retry, "{code}");
        }
        assert_eq!(
            status(429, Some(7)).retry_after(),
            Some(Duration::from_secs(7))
        );
        assert_eq!(status(400, Some(7)).retry_after(), None);
        assert_eq!(
            status(503, Some(2)).to_string(),
            "alert channel `hook`: 127.0.0.1:9 answered HTTP 503 (retry after 2 s): x"
        );
        let missing = Error::MissingSecret {
            key: "alerts.channels[1].secret_env".into(),
            var: "HOOK_SECRET".into(),
        };
        assert!(!missing.is_retryable() && missing.channel().is_none());
        assert_eq!(status(500, None).channel(), Some("hook"));
    }
}
