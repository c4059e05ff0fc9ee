//! Shared pieces of the fake servers: bind 127.0.0.1, scripted replies,
//! fast retry settings, fixture bars.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use quant_core::Bar;
use quant_providers::ClientSettings;
use quant_providers::http::RetryPolicy;

/// Serves `router` on an ephemeral port of 127.0.0.1; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A base URL where nothing listens (connection refused).
pub async fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// A reply the fake sends instead of its normal answer.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// Status, extra headers, body.
    Reply(u16, Vec<(&'static str, String)>, String),
}

impl Scripted {
    pub fn json(body: serde_json::Value) -> Self {
        Self::Reply(200, vec![], body.to_string())
    }

    pub fn status(code: u16, body: &str) -> Self {
        Self::Reply(code, vec![], body.to_string())
    }

    pub fn into_response(self) -> Response {
        let Self::Reply(code, headers, body) = self;
        let mut h = HeaderMap::new();
        h.insert("content-type", "application/json".parse().unwrap());
        for (k, v) in headers {
            h.insert(k, v.parse().unwrap());
        }
        (StatusCode::from_u16(code).unwrap(), h, body).into_response()
    }
}

/// Replies to send first (in order), and a log of what arrived.
#[derive(Debug, Clone, Default)]
pub struct Script {
    queue: Arc<Mutex<VecDeque<Scripted>>>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Script {
    pub fn push(&self, s: Scripted) -> &Self {
        self.queue.lock().unwrap().push_back(s);
        self
    }

    /// Logs a request; returns the scripted reply to send, if any.
    pub fn next(&self, request: String) -> Option<Scripted> {
        self.log.lock().unwrap().push(request);
        self.queue.lock().unwrap().pop_front()
    }

    /// [`Script::next`] for a GET, logging its query as sorted `k=v&…`.
    pub fn next_query(&self, q: &std::collections::HashMap<String, String>) -> Option<Scripted> {
        let mut keys: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        keys.sort();
        self.next(keys.join("&"))
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// Retries after at most a few milliseconds; no breaker, no rate limit.
pub fn fast() -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
        },
        requests_per_minute: 0,
        breaker_threshold: 0,
        breaker_cooldown: Duration::from_secs(60),
        offline: false,
        ..ClientSettings::default()
    }
}

/// Real bars from the repository's `fixtures/`, e.g. `cn/daily/600519.SH`.
pub fn fixture(rel: &str) -> Vec<Bar> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(format!("{rel}.csv"));
    let s = quant_data::csv_io::read_csv(&path).unwrap();
    (0..s.len()).map(|i| s.bar(i)).collect()
}

/// Equal to 1e-12 relative (unit conversions multiply and divide).
pub fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// Serves raw TCP on an ephemeral port of 127.0.0.1: each connection is
/// handed to `handle` after its request head (up to the blank line) has been
/// read; returns the base URL and the number of connections accepted.
pub async fn serve_raw<F, Fut>(handle: F) -> (String, Arc<std::sync::atomic::AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // the request head; a body (a POST) is left unread
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            tokio::spawn(handle(sock));
        }
    });
    (format!("http://{addr}"), accepted)
}
