//! Secrets never leave a client: against a fake server that echoes the
//! whole request (method, path, query, headers, body) — and, for the
//! providers that send no token, the configured token it "knows" — back
//! as an unparseable 200, as a 200 that the decoder quotes, as a 4xx/5xx
//! body and as the provider's API error message, the token appears in no
//! error message, no `Debug` output, no captured tracing line, no
//! failover or fetch outcome and no stored file.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use quant_core::Bar;
use quant_data::quality::QualityConfig;
use quant_providers::binance::Binance;
use quant_providers::eastmoney::Eastmoney;
use quant_providers::http::Transport;
use quant_providers::tushare::TuShare;
use quant_providers::yahoo::Yahoo;
use quant_providers::{BarRequest, ClientSettings, DataProvider, Error, Failover, Secrets};
use serde_json::json;

use crate::fake::{dead_url, fast, fixture, serve};

/// The secret every test hides.
const TOKEN: &str = "sk-7f3a9c2e51d04b8e";

/// What the echo server answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// 200 with a body that is no JSON at all.
    Garbage,
    /// 200 with the provider's JSON shape carrying the echo where the
    /// decoder quotes it.
    Quoted,
    /// This HTTP error status with the echo as body.
    Status(u16),
    /// The provider's own API error, its message the echo.
    Api,
}

#[derive(Clone)]
struct Echo {
    provider: &'static str,
    mode: Arc<Mutex<Mode>>,
}

async fn echo(
    State(st): State<Echo>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = String::from_utf8_lossy(&body);
    // the token first, so that even a clipped excerpt holds it
    let echo = format!("known={TOKEN} {method} {uri} body={body} headers={headers:?}");
    let mode = *st.mode.lock().unwrap();
    let json = |v: serde_json::Value| axum::Json(v).into_response();
    match (st.provider, mode) {
        (_, Mode::Garbage) => (StatusCode::OK, format!("<html>{echo}</html>")).into_response(),
        (_, Mode::Status(code)) => (StatusCode::from_u16(code).unwrap(), echo).into_response(),
        ("tushare", Mode::Quoted) => json(json!({"code": 0, "msg": "", "data": {
            "fields": ["ts_code", "trade_date", "open", "high", "low", "close", "pre_close", "vol", "amount"],
            "items": [["000001.SZ", "20190102", echo, 1, 1, 1, 1, 1, 1]], "has_more": false}})),
        ("tushare", Mode::Api) => json(json!({"code": 40101, "msg": echo, "data": null})),
        ("eastmoney", Mode::Quoted) => {
            json(json!({"rc": 0, "data": {"klines": [format!("2019-01-02,{echo}")]}}))
        }
        ("eastmoney", Mode::Api) => json(json!({"rc": 102, "msg": echo, "data": null})),
        ("yahoo", Mode::Quoted) => json(json!({"chart": {"result": [{
            "meta": {"symbol": echo, "gmtoffset": 0}, "timestamp": [],
            "indicators": {"quote": [{"open": [], "high": [], "low": [], "close": [], "volume": []}]}
        }], "error": null}})),
        ("yahoo", Mode::Api) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"chart": {"result": null,
                "error": {"code": "Unauthorized", "description": format!("bad key {TOKEN}")}}})),
        )
            .into_response(),
        ("binance", Mode::Quoted) => json(json!([[
            1_546_387_200_000_i64,
            echo,
            "1",
            "1",
            "1",
            "1",
            1_546_473_599_999_i64,
            "1",
            1
        ]])),
        ("binance", Mode::Api) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"code": -2014, "msg": format!("API-key format invalid: {TOKEN}")})),
        )
            .into_response(),
        (other, m) => panic!("no echo for {other} {m:?}"),
    }
}

async fn echo_server(provider: &'static str) -> (String, Arc<Mutex<Mode>>) {
    let st = Echo {
        provider,
        mode: Arc::new(Mutex::new(Mode::Garbage)),
    };
    let mode = st.mode.clone();
    let url = serve(axum::Router::new().fallback(echo).with_state(st)).await;
    (url, mode)
}

/// A buffer the tracing subscriber writes into.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures every tracing event of this thread (all levels) until the
    /// guard drops.
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let sink = self.clone();
        let sub = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(sub)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The same bars for any request (a backup that always serves).
struct Fixed(Vec<Bar>);

#[async_trait::async_trait]
impl DataProvider for Fixed {
    fn name(&self) -> &str {
        "fixed"
    }

    async fn daily_bars(&self, req: &BarRequest) -> quant_providers::Result<Vec<Bar>> {
        Ok(self
            .0
            .iter()
            .filter(|b| b.date >= req.start && b.date <= req.end)
            .copied()
            .collect())
    }
}

/// Retries quick, two attempts (so a 5xx is retried and logged once),
/// and `TOKEN` among the settings' secrets.
fn settings() -> ClientSettings {
    ClientSettings {
        retry: quant_providers::http::RetryPolicy {
            max_attempts: 2,
            ..fast().retry
        },
        secrets: Secrets::new([TOKEN]),
        ..fast()
    }
}

/// Every file under `dir`, as text.
fn files_text(dir: &std::path::Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

/// Runs `provider` against its echo server in every mode and checks that
/// `TOKEN` shows nowhere; `shown` is the client's `Debug`.
async fn no_token_anywhere(
    name: &'static str,
    provider: Arc<dyn DataProvider>,
    shown: String,
    mode: Arc<Mutex<Mode>>,
    req: BarRequest,
    market: &str,
    backup: Vec<Bar>,
) {
    assert!(
        !shown.contains(TOKEN),
        "{name}: Debug shows the token: {shown}"
    );
    let logs = Logs::default();
    let _guard = logs.capture();
    let backup: Arc<dyn DataProvider> = Arc::new(Fixed(backup));
    let chain = Failover::new(vec![provider.clone(), backup]);
    let alone = Failover::new(vec![provider.clone()]);
    for m in [
        Mode::Garbage,
        Mode::Quoted,
        Mode::Status(400),
        Mode::Status(503),
        Mode::Api,
    ] {
        *mode.lock().unwrap() = m;
        let mut seen: Vec<(String, String)> = Vec::new();
        let e = provider.daily_bars(&req).await.unwrap_err();
        seen.push(("error".into(), e.to_string()));
        seen.push(("error Debug".into(), format!("{e:?}")));
        let served = chain.daily_bars(&req).await.unwrap();
        assert_eq!(served.provider, "fixed", "{name} {m:?}");
        seen.push(("Served".into(), format!("{served:?}")));
        seen.push(("Served.failed".into(), format!("{:?}", served.failed)));
        let all = alone.daily_bars(&req).await.unwrap_err();
        assert!(matches!(all, Error::AllFailed(_)), "{all}");
        seen.push(("AllFailed".into(), format!("{all} {all:?}")));
        // a fetch into a store: its outcome and every file it wrote
        let store = tempfile::tempdir().unwrap();
        let s = quant_data::commit::Store::open(store.path()).unwrap();
        let mut txn = s.begin().unwrap();
        let out = quant_providers::update::fetch_into_store(
            &chain,
            &mut txn,
            market,
            &req,
            false,
            None,
            QualityConfig::default(),
            false,
        )
        .await
        .unwrap();
        txn.commit().unwrap();
        assert_eq!(out.provider, "fixed");
        assert!(!out.failed.is_empty());
        seen.push(("FetchOutcome".into(), format!("{out:?}")));
        seen.push(("store files".into(), files_text(store.path())));
        seen.push(("tracing".into(), logs.text()));
        for (what, text) in &seen {
            assert!(
                !text.contains(TOKEN),
                "{name} {m:?}: the token is in the {what}: {text}"
            );
        }
        // the echo did carry it: redacted where the error quotes the reply
        if matches!(m, Mode::Quoted | Mode::Status(_)) || (m == Mode::Api && name != "eastmoney") {
            assert!(
                e.to_string().contains("***"),
                "{name} {m:?}: nothing redacted in {e}"
            );
        }
    }
    let log = logs.text();
    assert!(
        log.contains("retrying"),
        "{name}: the 503 was logged: {log}"
    );
    assert!(log.contains("***"), "{name}: {log}");
}

fn cn_req() -> BarRequest {
    BarRequest {
        symbol: "000001.SZ".into(),
        start: "2019-01-01".parse().unwrap(),
        end: "2019-01-31".parse().unwrap(),
    }
}

#[tokio::test]
async fn tushare_never_shows_its_token() {
    let (url, mode) = echo_server("tushare").await;
    // no secrets in the settings: the client registers its own token,
    // which it sends in every body
    let plain = ClientSettings {
        secrets: Secrets::none(),
        ..settings()
    };
    let ts = TuShare::new(&plain, &url, TOKEN).unwrap();
    let shown = format!("{ts:?}");
    no_token_anywhere(
        "tushare",
        Arc::new(ts),
        shown,
        mode,
        cn_req(),
        "cn",
        fixture("cn/daily/000001.SZ"),
    )
    .await;
}

#[tokio::test]
async fn tushare_redacts_a_throttle_message_that_echoes_the_token() {
    // a throttle reply quoting the request: retried, logged, reported
    let throttle = |body: String| async move {
        axum::Json(
            json!({"code": 40203, "msg": format!("每分钟最多访问该接口500次 {body}"), "data": null}),
        )
    };
    let url = serve(axum::Router::new().fallback(throttle)).await;
    let logs = Logs::default();
    let _guard = logs.capture();
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    let e = ts.daily_bars(&cn_req()).await.unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e}");
    let text = format!("{e} {e:?} {}", logs.text());
    assert!(!text.contains(TOKEN), "{text}");
    assert!(text.contains("***") && text.contains("retrying"), "{text}");
}

#[tokio::test]
async fn eastmoney_never_shows_a_configured_token() {
    let (url, mode) = echo_server("eastmoney").await;
    let em = Eastmoney::new(&settings(), &url).unwrap();
    no_token_anywhere(
        "eastmoney",
        Arc::new(Eastmoney::new(&settings(), &url).unwrap()),
        format!("{em:?}"),
        mode,
        cn_req(),
        "cn",
        fixture("cn/daily/000001.SZ"),
    )
    .await;
}

#[tokio::test]
async fn yahoo_never_shows_a_configured_token() {
    let (url, mode) = echo_server("yahoo").await;
    let y = Yahoo::new(&settings(), &url).unwrap();
    no_token_anywhere(
        "yahoo",
        Arc::new(Yahoo::new(&settings(), &url).unwrap()),
        format!("{y:?}"),
        mode,
        BarRequest {
            symbol: "SPY".into(),
            start: "2016-01-01".parse().unwrap(),
            end: "2016-01-31".parse().unwrap(),
        },
        "us",
        fixture("us/daily/SPY"),
    )
    .await;
}

#[tokio::test]
async fn binance_never_shows_a_configured_token() {
    let (url, mode) = echo_server("binance").await;
    let b = Binance::new(&settings(), &url).unwrap();
    no_token_anywhere(
        "binance",
        Arc::new(Binance::new(&settings(), &url).unwrap()),
        format!("{b:?}"),
        mode,
        BarRequest {
            symbol: "BTC-USDT".into(),
            start: "2019-01-01".parse().unwrap(),
            end: "2019-01-31".parse().unwrap(),
        },
        "crypto",
        fixture("crypto/daily/BTC-USDT"),
    )
    .await;
}

/// A token in the URL (a key in the query string) is redacted from every
/// error that names the URL: offline, refused, timed out.
#[tokio::test]
async fn a_token_in_the_url_is_redacted_from_transport_errors() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let dead = dead_url().await;
    let url = format!("{dead}/v1/data?apikey={TOKEN}");
    let mut errors = Vec::new();
    for offline in [true, false] {
        let t = Transport::new(
            "fake",
            &ClientSettings {
                offline,
                ..settings()
            },
        )
        .unwrap();
        let e = t
            .call("probe", |c| c.get(&url), |r| Ok(r.body.len()))
            .await
            .unwrap_err();
        errors.push(format!("{e} {e:?} {t:?}"));
    }
    // a key that must be percent-encoded in the URL is found there too
    let odd = "k y/+=";
    let t = Transport::new(
        "fake",
        &ClientSettings {
            secrets: Secrets::new([odd]),
            ..settings()
        },
    )
    .unwrap();
    let e = t
        .call(
            "probe",
            |c| c.get(&dead).query(&[("key", odd)]),
            |r| Ok(r.body.len()),
        )
        .await
        .unwrap_err();
    let shown = e.to_string();
    assert!(!shown.contains("k+y%2F%2B%3D"), "{shown}");
    assert!(shown.contains("key=***"), "{shown}");
    let text = format!("{} {}", errors.join(" "), logs.text());
    assert!(!text.contains(TOKEN), "{text}");
    assert!(text.contains("apikey=***"), "{text}");
}
