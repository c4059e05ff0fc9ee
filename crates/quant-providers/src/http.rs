//! The HTTP layer every provider shares: an offline switch, a client-side
//! rate limit, retries with exponential backoff and full jitter on
//! transient errors, and a circuit breaker.
//!
//! Retry rule (AWS Architecture Blog, "Exponential Backoff and Jitter"):
//! before retry `k` (1-based) wait a uniform random time in
//! `[0, min(max_delay, base_delay · 2^(k−1))]`, and never less than a
//! server's `Retry-After`. Only [`Error::is_transient`] errors are retried.
//!
//! Every reply body is read in chunks up to the provider's
//! `max_body_bytes` (a larger `Content-Length` is refused before reading),
//! failures are told apart ([`Error::Timeout`], [`Error::Connect`],
//! [`Error::BodyCut`], [`Error::BodyTooLarge`], [`Error::Http`]), and every
//! error and log line that leaves has the provider's secrets redacted
//! ([`crate::secret`]).
//!
//! Breaker: after `threshold` consecutive calls that failed transiently
//! (after their retries), calls fail fast with [`Error::CircuitOpen`] for
//! `cooldown`; then one call is let through (half-open) and its outcome
//! closes or re-opens the circuit.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::ClientSettings;
use crate::error::{Error, Result};
use crate::secret::{Secret, Secrets, clip};

/// Retries with exponential backoff and full jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Cap of the first wait.
    pub base_delay: Duration,
    /// Cap of any wait.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The wait before retry `retry` (1-based): uniform in
    /// `[0, min(max_delay, base_delay·2^(retry−1))]`, at least `retry_after`
    /// (capped at `max_delay`).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
            .min(self.max_delay);
        let jittered = cap.mul_f64(rand::random::<f64>());
        match retry_after {
            Some(r) => jittered.max(r.min(self.max_delay)),
            None => jittered,
        }
    }
}

/// Client-side rate limit: at most one request per `interval`, in order of
/// arrival (a queue of time slots).
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: tokio::sync::Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// `per_minute` requests per minute; 0 means no limit.
    pub fn per_minute(per_minute: u32) -> Self {
        let interval = if per_minute == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(60) / per_minute
        };
        Self {
            interval,
            next: tokio::sync::Mutex::new(None),
        }
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        if self.interval.is_zero() {
            return;
        }
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[derive(Debug, Default)]
struct BreakerState {
    failures: u32,
    open_until: Option<Instant>,
}

/// Opens after `threshold` consecutive transient failures, for `cooldown`.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<BreakerState>,
}

impl CircuitBreaker {
    /// A closed breaker; `threshold` 0 disables it.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold,
            cooldown,
            state: Mutex::new(BreakerState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        // a panic elsewhere cannot leave the counters inconsistent
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err((failures, wait))` while open.
    pub fn check(&self) -> std::result::Result<(), (u32, Duration)> {
        let st = self.lock();
        let now = Instant::now();
        match st.open_until {
            Some(until) if now < until => Err((st.failures, until - now)),
            _ => Ok(()),
        }
    }

    /// A call succeeded: closes the circuit.
    pub fn record_success(&self) {
        let mut st = self.lock();
        st.failures = 0;
        st.open_until = None;
    }

    /// A call failed transiently: counts, and opens at the threshold (or
    /// re-opens after a failed half-open try).
    pub fn record_failure(&self) {
        let mut st = self.lock();
        st.failures = st.failures.saturating_add(1);
        if self.threshold > 0 && st.failures >= self.threshold {
            st.open_until = Some(Instant::now() + self.cooldown);
        }
    }
}

/// A reply with a success status (2xx).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body (at most the transport's `max_body_bytes`).
    pub body: Vec<u8>,
}

/// A provider's own limits, used where its [`ClientSettings`] leave them
/// unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest reply body read, bytes.
    pub max_body_bytes: u64,
    /// Most pages one call may take.
    pub max_pages: u32,
}

impl Limits {
    /// For a client without limits of its own: 8 MiB, 100 pages.
    pub const DEFAULT: Limits = Limits {
        max_body_bytes: 8 << 20,
        max_pages: 100,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Most bytes of an error reply (non-2xx) kept; the rest is not read.
const ERROR_BODY_BYTES: u64 = 64 << 10;

/// Most characters of an error reply quoted in [`Error::Http`].
const HTTP_BODY_CHARS: usize = 300;

/// One provider's HTTP client: offline switch, rate limit, retries, breaker,
/// body cap, secret redaction.
#[derive(Debug)]
pub struct Transport {
    provider: String,
    client: reqwest::Client,
    offline: bool,
    timeout: Duration,
    retry: RetryPolicy,
    limiter: RateLimiter,
    breaker: CircuitBreaker,
    limits: Limits,
    secrets: Secrets,
}

/// `Retry-After` in seconds, when given.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The messages of `e`'s sources (not `e`'s own), outermost first.
fn causes(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let m = s.to_string();
        // hyper and hyper-util repeat their inner error in their own text
        if out.last().is_none_or(|l| l != &m) {
            out.push(m);
        }
        source = s.source();
    }
    out
}

/// Why a connection failed, in plain words.
fn connect_reason(e: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            return match io.kind() {
                K::ConnectionRefused => "connection refused".into(),
                K::ConnectionReset => "connection reset".into(),
                K::ConnectionAborted => "connection aborted".into(),
                K::HostUnreachable => "host unreachable".into(),
                K::NetworkUnreachable => "network unreachable".into(),
                K::AddrNotAvailable => "address not available".into(),
                K::TimedOut => "timed out".into(),
                _ => io.to_string(),
            };
        }
        source = s.source();
    }
    causes(e).last().cloned().unwrap_or_else(|| e.to_string())
}

/// `HOST:PORT` of `url` (the URL itself when it does not parse).
fn host_port(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

impl Transport {
    /// A client for `provider` with these settings, [`Limits::DEFAULT`]
    /// where they leave a limit unset, and the settings' secrets.
    ///
    /// # Errors
    /// [`Error::Config`] when the HTTP client cannot be built.
    pub fn new(provider: &str, settings: &ClientSettings) -> Result<Self> {
        Self::with_limits(provider, settings, Limits::DEFAULT)
    }

    /// [`Transport::new`] with the provider's own `defaults` for the limits
    /// the settings leave unset.
    ///
    /// # Errors
    /// [`Error::Config`] when the HTTP client cannot be built.
    pub fn with_limits(
        provider: &str,
        settings: &ClientSettings,
        defaults: Limits,
    ) -> Result<Self> {
        // reqwest is built without a bundled TLS crypto provider: use ring
        // (an error only means one is installed already)
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("quant/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config {
                file: "data.toml".into(),
                key: format!("providers.{provider}"),
                msg: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Self {
            provider: provider.to_string(),
            client,
            offline: settings.offline,
            timeout: settings.timeout,
            retry: settings.retry,
            limiter: RateLimiter::per_minute(settings.requests_per_minute),
            breaker: CircuitBreaker::new(settings.breaker_threshold, settings.breaker_cooldown),
            limits: Limits {
                max_body_bytes: settings.max_body_bytes.unwrap_or(defaults.max_body_bytes),
                max_pages: settings.max_pages.unwrap_or(defaults.max_pages),
            },
            secrets: settings.secrets.clone(),
        })
    }

    /// This transport, also redacting `secret`.
    #[must_use]
    pub fn with_secret(mut self, secret: Secret) -> Self {
        self.secrets = self.secrets.with(secret);
        self
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The secrets this transport redacts.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// `e` with this transport's secrets redacted (for errors a client
    /// builds from outside data after [`Transport::call`] returned).
    pub fn redact_error(&self, e: Error) -> Error {
        self.secrets.redact_error(e)
    }

    /// A page counter for one paged call of `call`, capped at
    /// `max_pages`.
    pub fn pager(&self, call: &str) -> Pager {
        Pager {
            provider: self.provider.clone(),
            call: call.to_string(),
            max: self.limits.max_pages,
            page: 0,
        }
    }

    /// Sends the request `build` makes (again on each retry), checks the
    /// status, reads the body up to `max_body_bytes`, and hands a 2xx reply
    /// to `parse`; retries transient failures (including those `parse`
    /// reports, such as an API-level throttle). Every error that leaves —
    /// and every log line — has the transport's secrets redacted.
    ///
    /// # Errors
    /// [`Error::Offline`] without sending; [`Error::CircuitOpen`] while the
    /// breaker is open; otherwise the last attempt's error:
    /// [`Error::Timeout`], [`Error::Connect`], [`Error::BodyCut`],
    /// [`Error::BodyTooLarge`], [`Error::Http`], [`Error::RateLimited`] or
    /// what `parse` returned.
    pub async fn call<T>(
        &self,
        call: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        parse: impl Fn(Reply) -> Result<T>,
    ) -> Result<T> {
        self.call_inner(call, build, parse)
            .await
            .map_err(|e| self.redact_error(e))
    }

    async fn call_inner<T>(
        &self,
        call: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        parse: impl Fn(Reply) -> Result<T>,
    ) -> Result<T> {
        let url = match build(&self.client).build() {
            Ok(r) => r.url().to_string(),
            Err(e) => {
                return Err(Error::Transport {
                    provider: self.provider.clone(),
                    url: call.to_string(),
                    detail: std::iter::once(e.to_string())
                        .chain(causes(&e))
                        .collect::<Vec<_>>()
                        .join(": "),
                });
            }
        };
        if self.offline {
            return Err(Error::Offline {
                provider: self.provider.clone(),
                url,
            });
        }
        if let Err((failures, wait)) = self.breaker.check() {
            return Err(Error::CircuitOpen {
                provider: self.provider.clone(),
                failures,
                wait,
            });
        }
        let shown_url = self.secrets.redact(&url);
        let mut attempt = 1;
        loop {
            self.limiter.acquire().await;
            tracing::debug!(provider = %self.provider, %call, url = %shown_url, attempt, "request");
            let (result, after) = self.attempt(call, &url, &build, &parse).await;
            match result.map_err(|e| self.redact_error(e)) {
                Ok(v) => {
                    self.breaker.record_success();
                    return Ok(v);
                }
                Err(e) if e.is_transient() && attempt < self.retry.max_attempts => {
                    let wait = self.retry.delay(attempt, after);
                    tracing::warn!(provider = %self.provider, %call, attempt, ?wait, error = %e, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => {
                    if e.is_transient() {
                        self.breaker.record_failure();
                    }
                    tracing::debug!(provider = %self.provider, %call, attempt, error = %e, "failed");
                    return Err(e);
                }
            }
        }
    }

    /// The error for a failed send or body read: a timeout, a failed
    /// connection, a body cut short after `read` bytes (`Some` once the
    /// headers had come), or another transport failure.
    fn classify(&self, e: &reqwest::Error, url: &str, read: Option<u64>) -> Error {
        if e.is_timeout() {
            return Error::Timeout {
                provider: self.provider.clone(),
                url: url.to_string(),
                after: self.timeout,
            };
        }
        if e.is_connect() {
            return Error::Connect {
                provider: self.provider.clone(),
                url: url.to_string(),
                addr: host_port(url),
                reason: connect_reason(e),
            };
        }
        let why = causes(e);
        match read {
            Some(read) => Error::BodyCut {
                provider: self.provider.clone(),
                url: url.to_string(),
                read,
                detail: why.last().cloned().unwrap_or_else(|| e.to_string()),
            },
            None => Error::Transport {
                provider: self.provider.clone(),
                url: url.to_string(),
                detail: if why.is_empty() {
                    e.to_string()
                } else {
                    why.join(": ")
                },
            },
        }
    }

    async fn attempt<T>(
        &self,
        call: &str,
        url: &str,
        build: &impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        parse: &impl Fn(Reply) -> Result<T>,
    ) -> (Result<T>, Option<Duration>) {
        let mut resp = match build(&self.client).send().await {
            Ok(r) => r,
            Err(e) => return (Err(self.classify(&e, url, None)), None),
        };
        let status = resp.status().as_u16();
        let after = retry_after(resp.headers());
        let ok = (200..300).contains(&status);
        let too_large = |declared: Option<u64>, read: u64| Error::BodyTooLarge {
            provider: self.provider.clone(),
            url: url.to_string(),
            limit: self.limits.max_body_bytes,
            declared,
            read,
        };
        if ok
            && let Some(n) = resp.content_length()
            && n > self.limits.max_body_bytes
        {
            return (Err(too_large(Some(n), 0)), after);
        }
        // an error reply is only quoted: keep its start, read no more
        let cap = if ok {
            self.limits.max_body_bytes
        } else {
            self.limits.max_body_bytes.min(ERROR_BODY_BYTES)
        };
        let cap_usize = usize::try_from(cap).unwrap_or(usize::MAX);
        let mut body: Vec<u8> = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let total = body.len().saturating_add(chunk.len());
                    if total > cap_usize {
                        if ok {
                            let read = u64::try_from(total).unwrap_or(u64::MAX);
                            return (Err(too_large(None, read)), after);
                        }
                        let room = cap_usize.saturating_sub(body.len());
                        body.extend_from_slice(chunk.get(..room).unwrap_or(&chunk));
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                // an error status says more than its broken body
                Err(_) if !ok => break,
                Err(e) => {
                    let read = u64::try_from(body.len()).unwrap_or(u64::MAX);
                    return (Err(self.classify(&e, url, Some(read))), after);
                }
            }
        }
        tracing::debug!(provider = %self.provider, %call, status, bytes = body.len(), "reply");
        let result = if status == 429 {
            Err(Error::RateLimited {
                provider: self.provider.clone(),
                call: call.to_string(),
                retry_after: after,
            })
        } else if !ok {
            Err(Error::Http {
                provider: self.provider.clone(),
                url: url.to_string(),
                status,
                // redacted whole, then cut: a cut secret would not match
                body: clip(
                    &self.secrets.redact(&String::from_utf8_lossy(&body)),
                    HTTP_BODY_CHARS,
                ),
            })
        } else {
            parse(Reply { status, body })
        };
        (result, after)
    }
}

/// Counts the pages of one paged call and refuses the one past
/// `max_pages`; builds the [`Error::Pagination`] of a page that does not
/// advance.
#[derive(Debug, Clone)]
pub struct Pager {
    provider: String,
    call: String,
    max: u32,
    page: u32,
}

impl Pager {
    /// Starts the next page; returns its number (1-based).
    ///
    /// # Errors
    /// [`Error::Pagination`] when that page would be past `max_pages`.
    pub fn next_page(&mut self) -> Result<u32> {
        self.page = self.page.saturating_add(1);
        if self.page > self.max {
            return Err(self.fault(format!(
                "more than {} pages (max_pages); the server keeps saying there is more",
                self.max
            )));
        }
        Ok(self.page)
    }

    /// The current page (0 before the first).
    pub fn page(&self) -> u32 {
        self.page
    }

    /// The [`Error::Pagination`] of the current page.
    pub fn fault(&self, detail: String) -> Error {
        Error::Pagination {
            provider: self.provider.clone(),
            call: self.call.clone(),
            page: self.page,
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for retry in 1..10 {
            let cap = Duration::from_millis(100 * (1 << (retry - 1))).min(Duration::from_secs(1));
            for _ in 0..50 {
                assert!(p.delay(retry, None) <= cap);
            }
        }
        assert!(p.delay(1, Some(Duration::from_millis(700))) >= Duration::from_millis(700));
        // a server asking for an hour gets the cap
        assert!(p.delay(1, Some(Duration::from_secs(3600))) <= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limiter_spaces_requests() {
        let lim = RateLimiter::per_minute(600); // 100 ms apart
        let t0 = Instant::now();
        for _ in 0..5 {
            lim.acquire().await;
        }
        assert_eq!(Instant::now() - t0, Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn breaker_opens_then_half_opens() {
        let b = CircuitBreaker::new(3, Duration::from_secs(10));
        b.record_failure();
        b.record_failure();
        assert!(b.check().is_ok());
        b.record_failure();
        let (failures, wait) = b.check().unwrap_err();
        assert_eq!((failures, wait), (3, Duration::from_secs(10)));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(b.check().is_ok(), "half-open after the cool-down");
        b.record_failure();
        assert!(b.check().is_err(), "a failed half-open try re-opens");
        tokio::time::advance(Duration::from_secs(10)).await;
        b.record_success();
        b.record_failure();
        assert!(b.check().is_ok(), "success resets the count");
    }
}
