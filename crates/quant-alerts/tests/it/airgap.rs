//! `[security] air_gapped`: during a trading session a channel whose host
//! is not in `allow_hosts` is refused before connecting — the fake
//! endpoints never see a request or a connection — and the refusal is
//! retryable (the alert goes once the session closes).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use quant_alerts::{Channels, Error};
use quant_net::NetPolicy;
use serde_json::json;

use crate::common::*;
use crate::email::{accepted, counting_smtp, email_config};

fn every_kind(base: &str, smtp_port: u16) -> String {
    let email = email_config(smtp_port).replace("[alerts]\ntimeout_secs = 5\n", "");
    format!(
        r#"
[alerts]
timeout_secs = 5
[[alerts.channels]]
kind = "webhook"
url = "{base}/hook"
secret_env = "T_WEBHOOK_SECRET"
[[alerts.channels]]
kind = "feishu"
url = "{base}/open-apis/bot/v2/hook"
token_env = "T_FEISHU_TOKEN"
secret_env = "T_FEISHU_SECRET"
[[alerts.channels]]
kind = "dingtalk"
url = "{base}/robot/send"
token_env = "T_DINGTALK_TOKEN"
secret_env = "T_DINGTALK_SECRET"
[[alerts.channels]]
kind = "wecom"
url = "{base}/cgi-bin/webhook/send"
token_env = "T_WECOM_KEY"
[[alerts.channels]]
kind = "telegram"
url = "{base}"
token_env = "T_TELEGRAM_TOKEN"
chat_id = 42
{email}
"#
    )
}

/// A reply every bot takes as success.
fn universal(_: &Captured) -> Reply {
    json_reply(200, json!({"code": 0, "errcode": 0, "ok": true}))
}

#[tokio::test]
async fn refused_hosts_are_never_contacted() {
    let fake = FakeHttp::start(universal).await;
    let smtp = counting_smtp().await;
    let cfg = parse(&every_kind(&fake.base(), smtp.0));
    let in_session = Arc::new(AtomicBool::new(true));
    let policy = NetPolicy::air_gapped(["broker.example.com"], in_session).unwrap();
    let channels = Channels::from_config(&cfg, &policy, env()).unwrap();
    assert_eq!(channels.len(), 6);

    let deliveries = channels.send_all(&alert()).await;
    assert_eq!(deliveries.len(), 6);
    for d in &deliveries {
        let e = d.result.as_ref().unwrap_err();
        assert!(matches!(e, Error::Blocked { .. }), "{}: {e}", d.channel);
        assert!(e.is_retryable());
        let text = e.to_string();
        assert!(
            text.contains("127.0.0.1") && text.contains("allow_hosts"),
            "{text}"
        );
        assert_no_secret(&text);
    }
    assert_eq!(
        deliveries
            .iter()
            .map(|d| d.channel.as_str())
            .collect::<Vec<_>>(),
        [
            "webhook", "feishu", "dingtalk", "wecom", "telegram", "email"
        ]
    );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(fake.requests().is_empty());
    assert_eq!(accepted(&smtp), 0);

    // the session closed: everything goes
    policy.set_in_session(false);
    for d in channels.send_all(&alert()).await {
        assert!(d.result.is_ok(), "{}: {:?}", d.channel, d.result);
    }
    assert_eq!(fake.requests().len(), 5);
    assert_eq!(accepted(&smtp), 1);
}

#[tokio::test]
async fn allowed_hosts_go_during_sessions() {
    let fake = FakeHttp::start(universal).await;
    let smtp = counting_smtp().await;
    let cfg = parse(&every_kind(&fake.base(), smtp.0));
    let policy = NetPolicy::air_gapped(["127.0.0.1"], Arc::new(AtomicBool::new(true))).unwrap();
    let channels = Channels::from_config(&cfg, &policy, env()).unwrap();
    for d in channels.send_all(&alert()).await {
        assert!(d.result.is_ok(), "{}: {:?}", d.channel, d.result);
    }
    assert_eq!(fake.requests().len(), 5);
    assert_eq!(accepted(&smtp), 1);
}
