//! The HTTP side every HTTP channel shares: one POST through
//! `quant-net`'s [`GuardedClient`] (no redirects followed: a redirected
//! POST would lose its body or carry it elsewhere), the reply read up to
//! [`MAX_REPLY`] bytes, and the verdicts on replies — an HTTP status, or a
//! bot API's own error code — as [`Error`]s that say whether to retry.
//!
//! Errors name the endpoint by `host[:port]` only (the path and query of a
//! bot URL carry its token), and every outside text in them is redacted.

use std::time::Duration;

use quant_net::{GuardedClient, NetError};
use reqwest::header::RETRY_AFTER;
use url::Url;

use crate::error::{Error, Result, status_is_retryable};
use crate::secret::Redactor;

/// Most bytes of a reply body read.
pub(crate) const MAX_REPLY: usize = 64 * 1024;

/// Longest wait a reply may ask for (a day).
const MAX_RETRY_AFTER: u64 = 86_400;

/// `host[:port]` of `url`, the only part of an endpoint errors show.
pub(crate) fn endpoint(url: &Url) -> String {
    let host = url.host_str().unwrap_or("(no host)");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// A reply, its body cut at [`MAX_REPLY`] bytes.
#[derive(Debug)]
pub(crate) struct Reply {
    /// HTTP status code.
    pub(crate) status: u16,
    /// `Retry-After` in seconds, if given as a number.
    pub(crate) retry_after: Option<Duration>,
    /// The body (at most [`MAX_REPLY`] bytes).
    pub(crate) body: Vec<u8>,
}

impl Reply {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A bot API's verdict read from its JSON reply: `code` 0 is success.
#[derive(Debug)]
pub(crate) struct ApiStatus {
    /// The API's code (0 = success).
    pub(crate) code: i64,
    /// The API's message.
    pub(crate) msg: String,
    /// How long the API asked to wait.
    pub(crate) retry_after: Option<Duration>,
    /// Whether the API says trying again may succeed (rate limit, busy).
    pub(crate) retryable: bool,
}

/// One channel's HTTP sender.
#[derive(Clone)]
pub(crate) struct Http {
    client: GuardedClient,
    channel: String,
    host: String,
    redactor: Redactor,
}

/// `e`'s message and its causes, without the URL.
fn describe(e: reqwest::Error) -> String {
    let timeout = e.is_timeout();
    let e = e.without_url();
    let mut text = if timeout {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let t = c.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        cause = c.source();
    }
    text
}

fn seconds(secs: u64) -> Duration {
    Duration::from_secs(secs.min(MAX_RETRY_AFTER))
}

impl Http {
    /// A sender for channel `channel` posting to `url`'s host.
    pub(crate) fn new(client: GuardedClient, channel: &str, url: &Url, redactor: Redactor) -> Self {
        Self {
            client,
            channel: channel.to_string(),
            host: endpoint(url),
            redactor,
        }
    }

    /// The channel's name.
    pub(crate) fn channel(&self) -> &str {
        &self.channel
    }

    /// Redacted and cut outside text.
    pub(crate) fn clean(&self, text: &str) -> String {
        self.redactor.clean(text)
    }

    /// The start of a reply body as text, redacted.
    fn excerpt(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() {
            "(empty body)".to_string()
        } else {
            self.clean(text)
        }
    }

    /// POSTs `body` as JSON with `headers` to `url` and reads the reply.
    ///
    /// # Errors
    /// [`Error::Blocked`] before connecting when the policy refuses the
    /// host; [`Error::Network`] when no whole reply came;
    /// [`Error::Build`] when the request cannot be built.
    pub(crate) async fn post_json(
        &self,
        url: Url,
        body: Vec<u8>,
        headers: &[(&'static str, String)],
    ) -> Result<Reply> {
        let mut req = self
            .client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .body(body);
        for (name, value) in headers {
            req = req.header(*name, value.as_str());
        }
        let mut resp = match self.client.send(req).await {
            Ok(r) => r,
            Err(NetError::Blocked(blocked)) => {
                return Err(Error::Blocked {
                    channel: self.channel.clone(),
                    blocked,
                });
            }
            Err(NetError::Http(e)) => return Err(self.network(e)),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(seconds);
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_REPLY - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() >= MAX_REPLY {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(self.network(e)),
            }
        }
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    /// A request that got no reply; one that could not even be built (a
    /// header value an alert made invalid) is permanent.
    fn network(&self, e: reqwest::Error) -> Error {
        if e.is_builder() {
            return Error::Build {
                channel: self.channel.clone(),
                detail: self.clean(&describe(e)),
            };
        }
        Error::Network {
            channel: self.channel.clone(),
            host: self.host.clone(),
            detail: self.clean(&describe(e)),
        }
    }

    /// The error of a reply whose status is not a success.
    pub(crate) fn status_error(&self, reply: &Reply) -> Error {
        let body = if (300..400).contains(&reply.status) {
            format!(
                "a redirect, not followed (set `url` to the final address): {}",
                self.excerpt(&reply.body)
            )
        } else {
            self.excerpt(&reply.body)
        };
        Error::Status {
            channel: self.channel.clone(),
            host: self.host.clone(),
            status: reply.status,
            body,
            retry_after: reply.retry_after,
        }
    }

    /// Ok for a 2xx reply, else [`Http::status_error`].
    pub(crate) fn expect_success(&self, reply: &Reply) -> Result<()> {
        if reply.is_success() {
            Ok(())
        } else {
            Err(self.status_error(reply))
        }
    }

    /// The verdict on a bot API's reply: `read` takes the API's status
    /// from its JSON. Ok only for a 2xx reply whose status is success; an
    /// API error is [`Error::Rejected`] (retryable when the HTTP status or
    /// the API says so); a 2xx without the API's status is
    /// [`Error::BadReply`]; any other failing status is
    /// [`Error::Status`].
    pub(crate) fn judge_api(
        &self,
        service: &'static str,
        reply: &Reply,
        read: impl Fn(&serde_json::Value) -> Option<ApiStatus>,
    ) -> Result<()> {
        let api = serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| read(&v));
        match api {
            Some(s) if s.code == 0 && reply.is_success() => Ok(()),
            Some(s) if s.code != 0 => Err(Error::Rejected {
                channel: self.channel.clone(),
                service,
                code: s.code,
                msg: self.clean(&s.msg),
                status: reply.status,
                retryable: s.retryable || status_is_retryable(reply.status),
                retry_after: s.retry_after.or(reply.retry_after),
            }),
            _ if reply.is_success() => Err(Error::BadReply {
                channel: self.channel.clone(),
                host: self.host.clone(),
                detail: format!(
                    "HTTP {} without the {service} API's status: {}",
                    reply.status,
                    self.excerpt(&reply.body)
                ),
            }),
            _ => Err(self.status_error(reply)),
        }
    }
}

/// An integer member of a JSON object (numbers or numeric strings).
pub(crate) fn int_field(v: &serde_json::Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string member of a JSON object (`""` when absent).
pub(crate) fn str_field(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A wait in seconds from a JSON number.
pub(crate) fn seconds_field(v: &serde_json::Value, key: &str) -> Option<Duration> {
    v.get(key)?.as_u64().map(seconds)
}
