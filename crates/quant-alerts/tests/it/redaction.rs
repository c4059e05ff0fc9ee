//! Secrets never show: not in `Debug` of configurations or channels, not
//! in errors (even when a server echoes the request), not in logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use quant_alerts::{Channels, Error};
use quant_net::NetPolicy;

use crate::common::*;

fn every_kind(base: &str) -> String {
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
[[alerts.channels]]
kind = "email"
smtp_host = "127.0.0.1"
smtp_port = 1
tls = "none"
from = "a@quant.test"
to = ["b@quant.test"]
username_env = "T_SMTP_USER"
password_env = "T_SMTP_PASSWORD"
"#
    )
}

/// A server that echoes the whole request — path, query, headers and
/// body — in its error reply, the way some do.
fn echo(status: u16) -> impl Fn(&Captured) -> Reply {
    move |c| {
        let text = format!(
            "no such hook: {} {}?{} headers {:?} body {}",
            c.method,
            c.path,
            c.query.clone().unwrap_or_default(),
            c.headers,
            String::from_utf8_lossy(&c.body)
        );
        let json = serde_json::json!({
            "code": 19001, "msg": text,
            "errcode": 93000, "errmsg": text,
            "ok": false, "error_code": 404, "description": text,
        });
        (status, vec![], json.to_string().into_bytes())
    }
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn configs_channels_errors_and_logs_hold_no_secret() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeHttp::start(echo(404)).await;
    let cfg = parse(&every_kind(&fake.base()));
    assert_no_secret(&format!("{cfg:?}"));
    let channels = Channels::from_config(&cfg, &NetPolicy::open(), env()).unwrap();
    let debug = format!("{channels:?} {:?}", channels.iter().collect::<Vec<_>>());
    assert_no_secret(&debug);
    assert!(debug.contains("127.0.0.1"), "{debug}");

    let mut errors = Vec::new();
    for status in [404, 200, 500] {
        fake.answer(echo(status));
        for d in channels.send_all(&alert()).await {
            if let Err(e) = d.result {
                errors.push(e);
            }
        }
    }
    // webhook 200 is delivered; everything else failed
    assert_eq!(errors.len(), 17, "{errors:#?}");
    // the bots' echoed messages made it into the errors, redacted
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, Error::Rejected { msg, .. } if msg.contains("***"))),
        "{errors:#?}"
    );

    // no reply at all: reqwest's errors (whose URL holds the token) too
    let port = closed_port().await;
    let dead = Channels::from_config(
        &parse(&every_kind(&format!("http://127.0.0.1:{port}"))),
        &NetPolicy::open(),
        env(),
    )
    .unwrap();
    for d in dead.send_all(&alert()).await {
        let e = d.result.unwrap_err();
        assert!(e.is_retryable(), "{e}");
        errors.push(e);
    }
    for e in &errors {
        assert_no_secret(&e.to_string());
        assert_no_secret(&format!("{e:?}"));
    }
    let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("alert not sent"), "{logged}");
    assert_no_secret(&logged);
}

#[test]
fn settings_errors_hold_no_secret() {
    // the values are in the environment: a later error does not show them
    let text = every_kind("http://127.0.0.1:9").replace("T_TELEGRAM_TOKEN", "T_UNSET");
    let e = Channels::from_config(&parse(&text), &NetPolicy::open(), env()).unwrap_err();
    assert_no_secret(&e.to_string());
    assert_no_secret(&format!("{e:?}"));
}
