//! The HTTP layer every provider shares: an offline switch, a client-side
//! rate limit, retries with exponential backoff and full jitter on
//! transient errors, and a circuit breaker.
//!
//! Retry rule (AWS Architecture Blog, "Exponential Backoff and Jitter"):
//! before retry `k` (1-based) wait a uniform random time in
//! `[0, min(max_delay, base_delay · 2^(k−1))]`, and never less than a
//! server's `Retry-After`. Only [`Error::is_transient`] errors are retried.
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
        match st.open_until {
            Some(until) if Instant::now() < until => Err((st.failures, until - Instant::now())),
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
        st.failures += 1;
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
    /// The body.
    pub body: Vec<u8>,
}

/// One provider's HTTP client: offline switch, rate limit, retries, breaker.
#[derive(Debug)]
pub struct Transport {
    provider: String,
    client: reqwest::Client,
    offline: bool,
    retry: RetryPolicy,
    limiter: RateLimiter,
    breaker: CircuitBreaker,
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

fn clip(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

impl Transport {
    /// A client for `provider` with these settings.
    ///
    /// # Errors
    /// [`Error::Config`] when the HTTP client cannot be built.
    pub fn new(provider: &str, settings: &ClientSettings) -> Result<Self> {
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
            retry: settings.retry,
            limiter: RateLimiter::per_minute(settings.requests_per_minute),
            breaker: CircuitBreaker::new(settings.breaker_threshold, settings.breaker_cooldown),
        })
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Sends the request `build` makes (again on each retry), checks the
    /// status, and hands a 2xx reply to `parse`; retries transient failures
    /// (including those `parse` reports, such as an API-level throttle).
    ///
    /// # Errors
    /// [`Error::Offline`] without sending; [`Error::CircuitOpen`] while the
    /// breaker is open; otherwise the last attempt's error.
    pub async fn call<T>(
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
                    detail: e.to_string(),
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
        let mut attempt = 1;
        loop {
            self.limiter.acquire().await;
            let (result, after) = self.attempt(call, &url, &build, &parse).await;
            match result {
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
                    return Err(e);
                }
            }
        }
    }

    async fn attempt<T>(
        &self,
        call: &str,
        url: &str,
        build: &impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        parse: &impl Fn(Reply) -> Result<T>,
    ) -> (Result<T>, Option<Duration>) {
        let transport = |e: reqwest::Error| Error::Transport {
            provider: self.provider.clone(),
            url: url.to_string(),
            detail: e.to_string(),
        };
        let resp = match build(&self.client).send().await {
            Ok(r) => r,
            Err(e) => return (Err(transport(e)), None),
        };
        let status = resp.status().as_u16();
        let after = retry_after(resp.headers());
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return (Err(transport(e)), after),
        };
        let result = if status == 429 {
            Err(Error::RateLimited {
                provider: self.provider.clone(),
                call: call.to_string(),
                retry_after: after,
            })
        } else if !(200..300).contains(&status) {
            Err(Error::Http {
                provider: self.provider.clone(),
                url: url.to_string(),
                status,
                body: clip(&body),
            })
        } else {
            parse(Reply { status, body })
        };
        (result, after)
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
