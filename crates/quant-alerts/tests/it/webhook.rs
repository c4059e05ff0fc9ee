//! The signed JSON webhook against a fake receiver that checks the
//! signature the way a receiver would.

use std::time::Duration;

use quant_alerts::{Alert, Error, Sender, verify_webhook_signature};

use crate::common::*;

fn config(base: &str) -> String {
    format!(
        r#"
[alerts]
timeout_secs = 2
[[alerts.channels]]
kind = "webhook"
url = "{base}/quant/alerts"
secret_env = "T_WEBHOOK_SECRET"
"#
    )
}

/// A receiver: 401 unless the signature verifies (recomputed here).
fn receiver(c: &Captured) -> Reply {
    let sig = c.header("x-quant-signature").unwrap_or_default();
    let expected = format!(
        "sha256={}",
        hex::encode(hmac256(WEBHOOK_SECRET.as_bytes(), &c.body))
    );
    if sig != expected || !verify_webhook_signature(WEBHOOK_SECRET.as_bytes(), &c.body, &sig) {
        return (401, vec![], b"bad signature".to_vec());
    }
    (204, vec![], Vec::new())
}

#[tokio::test]
async fn signed_json_post() {
    let fake = FakeHttp::start(receiver).await;
    let ch = channel(&config(&fake.base()));
    assert_eq!(ch.name(), "webhook");
    assert_eq!(Sender::name(&ch), "webhook");
    ch.send(&alert()).await.unwrap();
    let req = fake.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/quant/alerts");
    assert_eq!(
        req.header("content-type").as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        req.header("x-quant-event-id").as_deref(),
        Some("risk-2025-12-04-daily-loss")
    );
    // the body is the alert as JSON
    let back: Alert = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(back, alert());
    assert_eq!(
        req.json(),
        serde_json::json!({
            "event_id": "risk-2025-12-04-daily-loss",
            "kind": "risk",
            "severity": "critical",
            "title": "daily loss limit",
            "body": "loss 3.2 % > limit 3 %\nbreaker tripped: new orders blocked",
            "time_ns": 1_764_811_800_123_000_000_i64,
            "session": "paper-main",
            "details": {"loss_pct": 3.2, "limit_pct": 3.0},
        })
    );
    // a one-byte change of the body no longer verifies
    let sig = req.header("x-quant-signature").unwrap();
    let mut tampered = req.body.to_vec();
    tampered[10] ^= 1;
    assert!(!verify_webhook_signature(
        WEBHOOK_SECRET.as_bytes(),
        &tampered,
        &sig
    ));
}

#[tokio::test]
async fn the_same_alert_keeps_its_id_and_signature() {
    let fake = FakeHttp::start(receiver).await;
    let ch = channel(&config(&fake.base()));
    ch.send(&alert()).await.unwrap();
    ch.send(&alert()).await.unwrap();
    let r = fake.requests();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].body, r[1].body);
    assert_eq!(
        r[0].header("x-quant-event-id"),
        r[1].header("x-quant-event-id")
    );
    assert_eq!(
        r[0].header("x-quant-signature"),
        r[1].header("x-quant-signature")
    );
}

#[tokio::test]
async fn a_wrong_secret_is_refused_permanently() {
    let fake = FakeHttp::start(receiver).await;
    let text = config(&fake.base()).replace("T_WEBHOOK_SECRET", "T_WRONG_SECRET");
    let e = channel(&text).send(&alert()).await.unwrap_err();
    assert!(matches!(e, Error::Status { status: 401, .. }), "{e}");
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("bad signature"), "{e}");
}

#[tokio::test]
async fn failures_are_classified() {
    let fake = FakeHttp::start(|_| (500, vec![], b"oops".to_vec())).await;
    let ch = channel(&config(&fake.base()));

    let e = ch.send(&alert()).await.unwrap_err();
    assert!(e.is_retryable() && e.retry_after().is_none(), "{e}");
    assert_eq!(e.channel(), Some("webhook"));

    fake.answer(|_| (503, vec![("retry-after", "7".into())], Vec::new()));
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));

    fake.answer(|_| (429, vec![("retry-after", "3".into())], Vec::new()));
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(e.is_retryable() && e.retry_after() == Some(Duration::from_secs(3)));

    fake.answer(|_| (400, vec![], b"bad request".to_vec()));
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(matches!(e, Error::Status { status: 400, .. }));

    fake.answer(|_| (404, vec![], Vec::new()));
    assert!(!ch.send(&alert()).await.unwrap_err().is_retryable());

    // a redirect is not followed (a redirected POST would lose its body)
    fake.answer(|_| {
        (
            302,
            vec![("location", "http://127.0.0.1:1/x".into())],
            Vec::new(),
        )
    });
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(
        !e.is_retryable() && e.to_string().contains("redirect"),
        "{e}"
    );

    // any 2xx is delivered
    fake.answer(|_| (200, vec![], b"whatever".to_vec()));
    ch.send(&alert()).await.unwrap();
    assert_eq!(fake.requests().len(), 7);
}

#[tokio::test]
async fn no_reply_is_retryable() {
    let port = closed_port().await;
    let ch = channel(&config(&format!("http://127.0.0.1:{port}")));
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(matches!(e, Error::Network { .. }), "{e}");
    assert!(e.is_retryable());
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // accepts and never answers
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let text =
        config(&format!("http://127.0.0.1:{port}")).replace("timeout_secs = 2", "timeout_secs = 1");
    let started = std::time::Instant::now();
    let e = channel(&text).send(&alert()).await.unwrap_err();
    assert!(
        e.is_retryable() && e.to_string().contains("timed out"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_event_id_that_is_no_header_value_is_permanent() {
    let fake = FakeHttp::start(receiver).await;
    let mut a = alert();
    a.event_id = "ev\n1".into();
    let e = channel(&config(&fake.base())).send(&a).await.unwrap_err();
    assert!(matches!(e, Error::Build { .. }) && !e.is_retryable(), "{e}");
    assert!(fake.requests().is_empty());
}
