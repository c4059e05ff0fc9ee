//! The shared transport against raw TCP fakes on 127.0.0.1: each failure
//! class gets its own error and message (timeout before the reply, a body
//! that stalls, a refused connection, a body cut short, a body over the
//! cap), and an oversized body is refused without reading it whole.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use quant_providers::http::{RetryPolicy, Transport};
use quant_providers::{ClientSettings, Error};
use tokio::io::AsyncWriteExt;

use crate::fake::{dead_url, fast, serve_raw};

fn settings(timeout_ms: u64, attempts: u32) -> ClientSettings {
    ClientSettings {
        timeout: Duration::from_millis(timeout_ms),
        retry: RetryPolicy {
            max_attempts: attempts,
            ..fast().retry
        },
        ..fast()
    }
}

/// One GET of `url` through a transport named `fake`, the body's length
/// on success.
async fn get(s: &ClientSettings, url: &str) -> quant_providers::Result<usize> {
    let t = Transport::new("fake", s).unwrap();
    t.call("probe", |c| c.get(url), |r| Ok(r.body.len())).await
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_is_a_timeout() {
    let (url, accepted) = serve_raw(|mut s| async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            .await;
    })
    .await;
    let e = get(&settings(300, 2), &url).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("timed out after 0.3s"), "{msg}");
    assert!(msg.starts_with("fake: ") && msg.contains(&url), "{msg}");
    assert!(e.is_transient(), "{msg}");
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "retried once");
}

#[tokio::test]
async fn a_body_that_stalls_is_a_timeout_not_a_decoding_error() {
    let (url, _) = serve_raw(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"rc\":0,")
            .await;
        let _ = s.flush().await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    })
    .await;
    let e = get(&settings(400, 1), &url).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("timed out after 0.4s"), "{msg}");
    assert!(!msg.contains("decoding"), "{msg}");
    assert!(e.is_transient());
}

#[tokio::test]
async fn a_closed_port_is_a_refused_connection() {
    let url = dead_url().await;
    let e = get(&settings(2000, 2), &url).await.unwrap_err();
    let msg = e.to_string();
    let addr = url.trim_start_matches("http://");
    assert!(
        msg.contains(&format!("could not connect to {addr}: connection refused")),
        "{msg}"
    );
    assert!(e.is_transient());
}

#[tokio::test]
async fn a_body_cut_short_says_so() {
    let (url, _) = serve_raw(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            .await;
        // closed with 990 bytes missing
    })
    .await;
    let e = get(&settings(2000, 1), &url).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("cut short after 10 bytes"), "{msg}");
    assert!(e.is_transient());
}

/// Writes a chunked 50 MB body in 64 KiB chunks, counting what it wrote.
async fn fifty_mb(mut s: tokio::net::TcpStream, written: Arc<AtomicUsize>) {
    if s.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .await
    .is_err()
    {
        return;
    }
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..800 {
        let head = format!("{:x}\r\n", chunk.len());
        if s.write_all(head.as_bytes()).await.is_err()
            || s.write_all(&chunk).await.is_err()
            || s.write_all(b"\r\n").await.is_err()
        {
            return;
        }
        written.fetch_add(chunk.len(), Ordering::SeqCst);
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
}

#[tokio::test]
async fn a_50_mb_body_is_refused_without_reading_it_whole() {
    let written = Arc::new(AtomicUsize::new(0));
    let w = written.clone();
    let (url, _) = serve_raw(move |s| fifty_mb(s, w.clone())).await;
    let t0 = Instant::now();
    let e = get(&settings(20_000, 1), &url).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("larger than"), "{msg}");
    assert!(!e.is_transient(), "{msg}");
    // give the server a moment to notice the closed socket
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = written.load(Ordering::SeqCst);
    assert!(sent < 30 << 20, "the client read {sent} bytes of 50 MB");
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_declared_50_mb_body_is_refused_before_reading() {
    let (url, _) = serve_raw(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 52428800\r\n\r\n")
            .await;
        // nothing follows: a client that reads would wait for the timeout
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let t0 = Instant::now();
    let e = get(&settings(3000, 1), &url).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("52428800"), "{msg}");
    assert!(msg.contains("larger than"), "{msg}");
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn http_status_and_timeouts_stay_apart() {
    let (url, _) = serve_raw(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
            .await;
    })
    .await;
    let e = get(&settings(2000, 1), &url).await.unwrap_err();
    assert!(matches!(e, Error::Http { status: 404, .. }), "{e}");
    assert!(e.to_string().contains("not found"), "{e}");
}
