//! What the tests share: the alert they send, configurations from TOML,
//! an environment of made-up secrets, a fake HTTP endpoint (axum on
//! 127.0.0.1:0) that records every request and answers through a
//! service emulator, and the recomputed signatures.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use quant_alerts::{Alert, AlertKind, AlertsConfig, Channels, Severity};
use quant_net::NetPolicy;
use sha2::Sha256;

/// The alert every test sends.
pub fn alert() -> Alert {
    Alert {
        event_id: "risk-2025-12-04-daily-loss".into(),
        kind: AlertKind::Risk,
        severity: Severity::Critical,
        title: "daily loss limit".into(),
        body: "loss 3.2 % > limit 3 %\nbreaker tripped: new orders blocked".into(),
        time_ns: 1_764_811_800_123_000_000,
        session: "paper-main".into(),
        details: Some(serde_json::json!({"loss_pct": 3.2, "limit_pct": 3.0})),
    }
}

/// Made-up secrets, distinct and easy to search for.
pub const WEBHOOK_SECRET: &str = "whsec-Zq8/+k=TEST-0001";
pub const FEISHU_TOKEN: &str = "fs-hook-7f3a9c1e-TEST-0002";
pub const FEISHU_SECRET: &str = "fs-sign-TEST-0003";
pub const DINGTALK_TOKEN: &str = "dt-token-9b781aec3378TEST0004";
pub const DINGTALK_SECRET: &str = "SECdt-sign+/=TEST-0005";
pub const WECOM_KEY: &str = "693a91f6-7aoc-4bc4-TEST-0006";
pub const TELEGRAM_TOKEN: &str = "123456789:AAH-tg-token-TEST-0007";
pub const SMTP_USER: &str = "alerts-user";
pub const SMTP_PASSWORD: &str = "smtp-pass-TEST-0008";

/// Every secret value above.
pub const SECRETS: [&str; 8] = [
    WEBHOOK_SECRET,
    FEISHU_TOKEN,
    FEISHU_SECRET,
    DINGTALK_TOKEN,
    DINGTALK_SECRET,
    WECOM_KEY,
    TELEGRAM_TOKEN,
    SMTP_PASSWORD,
];

/// The environment the secrets are read from.
pub fn env() -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<&str, &str> = [
        ("T_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("T_FEISHU_TOKEN", FEISHU_TOKEN),
        ("T_FEISHU_SECRET", FEISHU_SECRET),
        ("T_DINGTALK_TOKEN", DINGTALK_TOKEN),
        ("T_DINGTALK_SECRET", DINGTALK_SECRET),
        ("T_WECOM_KEY", WECOM_KEY),
        ("T_TELEGRAM_TOKEN", TELEGRAM_TOKEN),
        ("T_SMTP_USER", SMTP_USER),
        ("T_SMTP_PASSWORD", SMTP_PASSWORD),
        ("T_WRONG_SECRET", "not-the-right-secret"),
    ]
    .into_iter()
    .collect();
    move |var| vars.get(var).map(|v| v.to_string())
}

/// The `[alerts]` section of a config file.
pub fn parse(toml_text: &str) -> AlertsConfig {
    #[derive(serde::Deserialize)]
    struct File {
        alerts: AlertsConfig,
    }
    match toml::from_str::<File>(toml_text) {
        Ok(f) => f.alerts,
        Err(e) => panic!("{e}\n{toml_text}"),
    }
}

/// The channels of `toml_text` under an open policy.
pub fn channels(toml_text: &str) -> Channels {
    Channels::from_config(&parse(toml_text), &NetPolicy::open(), env()).unwrap()
}

/// The one channel of `toml_text`.
pub fn channel(toml_text: &str) -> quant_alerts::Channel {
    channels(toml_text).iter().next().unwrap().clone()
}

/// HMAC-SHA256, computed here independently of the crate.
pub fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One request the fake endpoint got.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    pub path: String,
    /// The raw query string.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Captured {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The decoded query parameters.
    pub fn params(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// A reply: status, extra headers, body.
pub type Reply = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// How the fake answers a request.
pub type Emulator = Arc<dyn Fn(&Captured) -> Reply + Send + Sync>;

/// A JSON reply with `status`.
pub fn json_reply(status: u16, body: serde_json::Value) -> Reply {
    (
        status,
        vec![("content-type", "application/json".into())],
        body.to_string().into_bytes(),
    )
}

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Captured>>>,
    emulator: Arc<Mutex<Emulator>>,
}

/// A fake HTTP endpoint on 127.0.0.1.
pub struct FakeHttp {
    pub addr: SocketAddr,
    shared: Shared,
}

async fn handle(
    axum::extract::State(s): axum::extract::State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let captured = Captured {
        method,
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers,
        body,
    };
    let emulator = s.emulator.lock().unwrap().clone();
    let (status, extra, body) = emulator(&captured);
    s.requests.lock().unwrap().push(captured);
    let mut headers = HeaderMap::new();
    for (k, v) in extra {
        headers.insert(k, v.parse().unwrap());
    }
    (StatusCode::from_u16(status).unwrap(), headers, body).into_response()
}

impl FakeHttp {
    /// Starts a fake answering through `emulator`.
    pub async fn start(emulator: impl Fn(&Captured) -> Reply + Send + Sync + 'static) -> Self {
        let shared = Shared {
            requests: Arc::default(),
            emulator: Arc::new(Mutex::new(Arc::new(emulator))),
        };
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared }
    }

    /// From now on, answers through `emulator`.
    pub fn answer(&self, emulator: impl Fn(&Captured) -> Reply + Send + Sync + 'static) {
        *self.shared.emulator.lock().unwrap() = Arc::new(emulator);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Captured> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The one request so far.
    pub fn only_request(&self) -> Captured {
        let r = self.requests();
        assert_eq!(r.len(), 1, "{r:?}");
        r[0].clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A port nothing listens on.
pub async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// Seconds since the epoch now.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Asserts `text` contains no secret in any form.
pub fn assert_no_secret(text: &str) {
    for s in SECRETS {
        let query: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
        assert!(!text.contains(s), "secret {s} in: {text}");
        assert!(!text.contains(&query), "encoded secret {s} in: {text}");
    }
}
