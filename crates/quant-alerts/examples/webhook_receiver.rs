//! A local receiver of the `webhook` alert channel: it checks
//! `X-Quant-Signature` (HMAC-SHA256 of the raw body, compared in constant
//! time), acknowledges a repeated `X-Quant-Event-Id` without showing it
//! again (the outbox resends an alert under the same id after a restart),
//! and prints each new alert.
//!
//! ```text
//! QUANT_WEBHOOK_SECRET=… cargo run -p quant-alerts --example webhook_receiver -- 127.0.0.1:8787
//! ```
//!
//! with, in the session's config:
//!
//! ```toml
//! [[alerts.channels]]
//! kind = "webhook"
//! url = "http://127.0.0.1:8787/alerts"
//! secret_env = "QUANT_WEBHOOK_SECRET"
//! ```

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use quant_alerts::{Alert, EVENT_ID_HEADER, SIGNATURE_HEADER, verify_webhook_signature};

struct Receiver {
    secret: String,
    /// Event ids already shown (a real receiver keeps them on disk, or
    /// for as long as the sender may retry).
    seen: Mutex<HashSet<String>>,
}

async fn receive(State(rx): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // the signature covers the raw body: check it before parsing anything
    let signature = header(SIGNATURE_HEADER).unwrap_or_default();
    if !verify_webhook_signature(rx.secret.as_bytes(), &body, signature) {
        return StatusCode::UNAUTHORIZED; // permanent for the sender
    }
    let Ok(alert) = serde_json::from_slice::<Alert>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let id = header(EVENT_ID_HEADER)
        .unwrap_or(&alert.event_id)
        .to_string();
    let new = rx
        .seen
        .lock()
        .map(|mut seen| seen.insert(id))
        .unwrap_or(true);
    if new {
        println!("{}\n", alert.plain_text());
    }
    // a repeat is acknowledged too, or the sender would keep trying
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("QUANT_WEBHOOK_SECRET")
        .map_err(|_| "set QUANT_WEBHOOK_SECRET to the channel's secret")?;
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8787".into());
    let rx = Arc::new(Receiver {
        secret,
        seen: Mutex::default(),
    });
    let app = axum::Router::new()
        .route("/alerts", axum::routing::post(receive))
        .with_state(rx);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("receiving alerts on http://{addr}/alerts");
    axum::serve(listener, app).await?;
    Ok(())
}
