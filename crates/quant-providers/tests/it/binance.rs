//! Binance klines against a fake `api.binance.com` serving the real array
//! format (decimal strings, millisecond times, 1000 per call) from the real
//! BTC-USDT daily bars.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use quant_core::Bar;
use quant_providers::binance::Binance;
use quant_providers::{BarRequest, DataProvider, Error};
use serde_json::json;

use crate::fake::{Script, Scripted, fast, fixture, serve};

const DAY_MS: i64 = 86_400_000;

#[derive(Clone)]
struct Bn {
    script: Script,
    bars: Arc<Vec<Bar>>,
}

fn open_ms(b: &Bar) -> i64 {
    b.date
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
}

/// The fixture has no quote volume: the fake derives one.
fn quote(b: &Bar) -> f64 {
    if b.amount.is_nan() {
        b.volume * b.close
    } else {
        b.amount
    }
}

async fn handle(
    State(st): State<Bn>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(s) = st.script.next_query(&q) {
        return s.into_response();
    }
    if q["symbol"] != "BTCUSDT" {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            axum::Json(json!({"code": -1121, "msg": "Invalid symbol."})),
        )
            .into_response();
    }
    let from: i64 = q.get("startTime").map_or(0, |s| s.parse().unwrap());
    let to: i64 = q.get("endTime").map_or(i64::MAX, |s| s.parse().unwrap());
    let limit: usize = q.get("limit").map_or(500, |s| s.parse().unwrap()).min(1000);
    let rows: Vec<_> = st
        .bars
        .iter()
        .filter(|b| open_ms(b) >= from && open_ms(b) <= to)
        .take(limit)
        .map(|b| {
            json!([
                open_ms(b),
                b.open.to_string(),
                b.high.to_string(),
                b.low.to_string(),
                b.close.to_string(),
                b.volume.to_string(),
                open_ms(b) + DAY_MS - 1,
                quote(b).to_string(),
                1000,
                "0",
                "0",
                "0"
            ])
        })
        .collect();
    axum::Json(rows).into_response()
}

async fn start() -> (String, Script) {
    let st = Bn {
        script: Script::default(),
        bars: Arc::new(fixture("crypto/daily/BTC-USDT")),
    };
    let script = st.script.clone();
    let router = axum::Router::new()
        .route("/api/v3/klines", get(handle))
        .with_state(st);
    (serve(router).await, script)
}

fn req(symbol: &str) -> BarRequest {
    BarRequest {
        symbol: symbol.into(),
        start: "2018-01-01".parse().unwrap(),
        end: "2021-12-31".parse().unwrap(),
    }
}

#[tokio::test]
async fn daily_klines_equal_the_fixture_across_pages() {
    let (url, script) = start().await;
    let bn = Binance::new(&fast(), &url).unwrap();
    let got = bn.daily_bars(&req("BTC-USDT")).await.unwrap();
    let want: Vec<Bar> = fixture("crypto/daily/BTC-USDT")
        .into_iter()
        .filter(|b| b.date >= req("").start && b.date <= req("").end)
        .collect();
    assert!(want.len() > 1000, "two pages");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(
            (g.date, g.open, g.high, g.low, g.close, g.volume),
            (w.date, w.open, w.high, w.low, w.close, w.volume)
        );
    }
    let reqs = script.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert!(
        reqs[0].contains("interval=1d")
            && reqs[0].contains("symbol=BTCUSDT")
            && reqs[0].contains("limit=1000")
    );
    let next = got[999]
        .date
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
        + 1;
    assert!(
        reqs[1].contains(&format!("startTime={next}")),
        "{}",
        reqs[1]
    );
}

#[tokio::test]
async fn throttling_honours_retry_after_and_ban_is_not_retried() {
    let (url, script) = start().await;
    script.push(Scripted::Reply(
        429,
        vec![("retry-after", "0".into())],
        r#"{"code":-1003,"msg":"Too many requests"}"#.into(),
    ));
    let bn = Binance::new(&fast(), &url).unwrap();
    assert_eq!(bn.daily_bars(&req("BTC-USDT")).await.unwrap().len(), 1461);
    assert_eq!(script.requests().len(), 3, "one 429, then two pages");

    let (url, script) = start().await;
    script.push(Scripted::status(
        418,
        r#"{"code":-1003,"msg":"Way too many requests; IP banned until 1700000000000."}"#,
    ));
    let bn = Binance::new(&fast(), &url).unwrap();
    let e = bn.daily_bars(&req("BTC-USDT")).await.unwrap_err();
    assert!(matches!(e, Error::Api { code: -1003, .. }), "{e}");
    assert!(e.to_string().contains("banned"), "{e}");
    assert_eq!(script.requests().len(), 1);
}

#[tokio::test]
async fn api_errors_and_malformed_klines() {
    let (url, script) = start().await;
    let bn = Binance::new(&fast(), &url).unwrap();
    let e = bn.daily_bars(&req("FOO-USDT")).await.unwrap_err();
    assert!(matches!(e, Error::Api { code: -1121, .. }), "{e}");
    assert_eq!(script.requests().len(), 1, "a 4xx API error is not retried");

    script.push(Scripted::json(json!([[
        1514764800000_i64,
        13715.65,
        "13818.55",
        "12750",
        "13380",
        "8609.9",
        1514851199999_i64,
        "1",
        1,
        "0",
        "0",
        "0"
    ]])));
    let e = bn.daily_bars(&req("BTC-USDT")).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("kline 0: open is not a decimal string"),
        "{e}"
    );
    script.push(Scripted::json(json!({"unexpected": true})));
    assert!(matches!(
        bn.daily_bars(&req("BTC-USDT")).await,
        Err(Error::Malformed { .. })
    ));
    let e = bn
        .klines("BTC-USDT", "7m", DateTime::<Utc>::UNIX_EPOCH, Utc::now())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("invalid interval"), "{e}");
}

#[tokio::test]
async fn a_still_open_kline_is_dropped() {
    let (url, script) = start().await;
    let now = Utc::now().timestamp_millis();
    let open = now - now.rem_euclid(3_600_000);
    script.push(Scripted::json(json!([
        [
            open - 3_600_000,
            "1",
            "2",
            "0.5",
            "1.5",
            "10",
            open - 1,
            "15",
            7,
            "0",
            "0",
            "0"
        ],
        [
            open,
            "1.5",
            "1.6",
            "1.4",
            "1.5",
            "3",
            open + 3_599_999,
            "4.5",
            2,
            "0",
            "0",
            "0"
        ],
    ])));
    let bn = Binance::new(&fast(), &url).unwrap();
    let k = bn
        .klines(
            "BTC-USDT",
            "1h",
            DateTime::from_timestamp_millis(open - 3_600_000).unwrap(),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].trades, 7);
}

fn day_ms(d: chrono::NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis()
}

/// `n` daily klines from `first` (ms), as the API sends them.
fn daily_rows(first: i64, n: usize) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = (0..n as i64)
        .map(|i| {
            let t = first + i * DAY_MS;
            json!([
                t,
                "1",
                "2",
                "0.5",
                "1.5",
                "10",
                t + DAY_MS - 1,
                "15",
                7,
                "0",
                "0",
                "0"
            ])
        })
        .collect();
    json!(rows)
}

#[tokio::test]
async fn a_page_that_repeats_is_a_paging_error() {
    let (url, script) = start().await;
    let first = day_ms(req("").start);
    for _ in 0..5 {
        script.push(Scripted::json(daily_rows(first, 1000)));
    }
    let bn = Binance::new(&fast(), &url).unwrap();
    let e = bn.daily_bars(&req("BTC-USDT")).await.unwrap_err();
    assert!(matches!(e, Error::Pagination { page: 2, .. }), "{e}");
    assert!(e.to_string().contains("page 2 repeats"), "{e}");
    assert_eq!(script.requests().len(), 2);
}

/// A server that always has 1000 more one-minute klines from `startTime`.
async fn endless() -> (String, Script) {
    let script = Script::default();
    let s = script.clone();
    let handler = move |Query(q): Query<std::collections::HashMap<String, String>>| {
        let s = s.clone();
        async move {
            s.next_query(&q);
            let from: i64 = q["startTime"].parse().unwrap();
            let rows: Vec<serde_json::Value> = (0..1000)
                .map(|i| {
                    let t = from + i * 60_000;
                    json!([
                        t,
                        "1",
                        "2",
                        "0.5",
                        "1.5",
                        "10",
                        t + 59_999,
                        "15",
                        7,
                        "0",
                        "0",
                        "0"
                    ])
                })
                .collect();
            axum::Json(rows)
        }
    };
    let url = serve(axum::Router::new().route("/api/v3/klines", get(handler))).await;
    (url, script)
}

#[tokio::test]
async fn klines_stop_at_max_pages() {
    let (url, script) = endless().await;
    let settings = quant_providers::ClientSettings {
        max_pages: Some(3),
        ..fast()
    };
    let bn = Binance::new(&settings, &url).unwrap();
    let start = DateTime::from_timestamp_millis(1_514_764_800_000).unwrap();
    let e = bn
        .klines("BTC-USDT", "1m", start, start + chrono::Duration::days(365))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Pagination { page: 4, .. }), "{e}");
    assert!(e.to_string().contains("more than 3 pages"), "{e}");
    assert_eq!(script.requests().len(), 3);
}

#[tokio::test]
async fn klines_outside_the_window_are_errors() {
    let (url, script) = start().await;
    let bn = Binance::new(&fast(), &url).unwrap();
    let start = day_ms(req("").start);
    // a day before the start
    script.push(Scripted::json(daily_rows(start - DAY_MS, 3)));
    let e = bn.daily_bars(&req("BTC-USDT")).await.unwrap_err();
    assert!(matches!(e, Error::Malformed { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("kline 0") && msg.contains("2017-12-31") && msg.contains("outside"),
        "{msg}"
    );
    // a day after the end
    let end = day_ms(req("").end);
    script.push(Scripted::json(daily_rows(end + DAY_MS, 1)));
    let e = bn.daily_bars(&req("BTC-USDT")).await.unwrap_err();
    assert!(e.to_string().contains("2022-01-01"), "{e}");
}

#[tokio::test]
async fn a_reply_over_the_body_cap_is_refused() {
    let (url, _) = start().await;
    let settings = quant_providers::ClientSettings {
        max_body_bytes: Some(10_000),
        ..fast()
    };
    let bn = Binance::new(&settings, &url).unwrap();
    let e = bn.daily_bars(&req("BTC-USDT")).await.unwrap_err();
    assert!(
        matches!(e, Error::BodyTooLarge { limit: 10_000, .. }),
        "{e}"
    );
}
