//! Yahoo's chart endpoint against a fake `query2.finance.yahoo.com` serving
//! the real reply shape from the real SPY bars: a `null` row, a dividend
//! and a split event, `adjclose`, 404 JSON errors and 429 plain text.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use quant_core::Bar;
use quant_providers::yahoo::Yahoo;
use quant_providers::{BarRequest, DataProvider, Error};
use serde_json::json;

use crate::fake::{Script, Scripted, fast, fixture, serve};

#[derive(Clone)]
struct Yh {
    script: Script,
    bars: Arc<Vec<Bar>>,
}

/// Dividend ex-date inside the served window.
const EX: &str = "2016-03-18";

async fn handle(
    State(st): State<Yh>,
    Path(symbol): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(s) = st.script.next(format!("{symbol}?{q:?}")) {
        return s.into_response();
    }
    if symbol != "SPY" {
        return (
            axum::http::StatusCode::NOT_FOUND,
            axum::Json(json!({"chart": {"result": null, "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"}}})),
        )
            .into_response();
    }
    let p1: i64 = q["period1"].parse().unwrap();
    let p2: i64 = q["period2"].parse().unwrap();
    // daily bars stamped at the 09:30 New York open (EST, UTC−5)
    let ts = |b: &Bar| b.date.and_hms_opt(14, 30, 0).unwrap().and_utc().timestamp();
    let rows: Vec<&Bar> = st
        .bars
        .iter()
        .filter(|b| ts(b) >= p1 && ts(b) < p2)
        .collect();
    let ex: chrono::NaiveDate = EX.parse().unwrap();
    let mut t: Vec<i64> = rows.iter().map(|b| ts(b)).collect();
    let col = |f: fn(&Bar) -> f64| -> Vec<serde_json::Value> {
        rows.iter().map(|b| json!(f(b))).collect()
    };
    let (mut o, mut h, mut l, mut c, mut v) = (
        col(|b| b.open),
        col(|b| b.high),
        col(|b| b.low),
        col(|b| b.close),
        col(|b| b.volume),
    );
    let mut adj: Vec<serde_json::Value> = rows
        .iter()
        .map(|b| json!(if b.date < ex { b.close * 0.99 } else { b.close }))
        .collect();
    // a halted day: every value null
    if t.len() > 3 {
        t.insert(2, t[1] + 3600);
        for col in [&mut o, &mut h, &mut l, &mut c, &mut v, &mut adj] {
            col.insert(2, serde_json::Value::Null);
        }
    }
    let ex_ts = ex.and_hms_opt(14, 30, 0).unwrap().and_utc().timestamp();
    axum::Json(json!({"chart": {"result": [{
        "meta": {"currency": "USD", "symbol": "SPY", "exchangeName": "PCX", "instrumentType": "ETF",
                 "gmtoffset": -18000, "timezone": "EST", "exchangeTimezoneName": "America/New_York",
                 "dataGranularity": "1d"},
        "timestamp": t,
        "events": {"dividends": {ex_ts.to_string(): {"amount": 1.05, "date": ex_ts}},
                   "splits": {"1435588200": {"date": 1435588200, "numerator": 11, "denominator": 10, "splitRatio": "11:10"}}},
        "indicators": {"quote": [{"open": o, "high": h, "low": l, "close": c, "volume": v}],
                       "adjclose": [{"adjclose": adj}]}
    }], "error": null}}))
    .into_response()
}

async fn start() -> (String, Script) {
    let st = Yh {
        script: Script::default(),
        bars: Arc::new(fixture("us/daily/SPY")),
    };
    let script = st.script.clone();
    let router = axum::Router::new()
        .route("/v8/finance/chart/{symbol}", get(handle))
        .with_state(st);
    (serve(router).await, script)
}

fn req(symbol: &str) -> BarRequest {
    BarRequest {
        symbol: symbol.into(),
        start: "2016-01-01".parse().unwrap(),
        end: "2016-06-30".parse().unwrap(),
    }
}

#[tokio::test]
async fn bars_dividends_and_splits() {
    let (url, _) = start().await;
    let y = Yahoo::new(&fast(), &url).unwrap();
    let chart = y.daily_with_events(&req("SPY")).await.unwrap();
    let want: Vec<Bar> = fixture("us/daily/SPY")
        .into_iter()
        .filter(|b| b.date >= req("").start && b.date <= req("").end)
        .collect();
    assert_eq!(chart.bars.len(), want.len(), "the null row is dropped");
    for (g, w) in chart.bars.iter().zip(&want) {
        assert_eq!(
            (g.date, g.open, g.high, g.low, g.close, g.volume),
            (w.date, w.open, w.high, w.low, w.close, w.volume)
        );
    }
    assert_eq!(chart.currency, "USD");
    assert_eq!(chart.dividends.len(), 1);
    assert_eq!(chart.dividends[0].date.to_string(), EX);
    assert_eq!(chart.dividends[0].amount, 1.05);
    assert_eq!(chart.splits[0].date.to_string(), "2015-06-29");
    assert_eq!(
        (chart.splits[0].numerator, chart.splits[0].denominator),
        (11.0, 10.0)
    );
    let before = chart
        .bars
        .iter()
        .find(|b| b.date.to_string().as_str() < EX)
        .unwrap();
    assert!((before.adj_factor - 0.99).abs() < 1e-12);
    assert_eq!(chart.bars.last().unwrap().adj_factor, 1.0);
}

#[tokio::test]
async fn unknown_symbol_and_throttling() {
    let (url, script) = start().await;
    let y = Yahoo::new(&fast(), &url).unwrap();
    let e = y.daily_bars(&req("NOPE")).await.unwrap_err();
    assert!(matches!(e, Error::Api { .. }), "{e}");
    assert!(e.to_string().contains("symbol may be delisted"), "{e}");
    script.push(Scripted::Reply(
        429,
        vec![("content-type", "text/plain".into())],
        "Too Many Requests".into(),
    ));
    assert!(!y.daily_bars(&req("SPY")).await.unwrap().is_empty());
    let n = script.requests().len();
    assert_eq!(n, 3, "404, then 429 retried");
    assert!(script.requests()[0].starts_with("NOPE?"));
    // `600519.SH` is asked for as Yahoo's `600519.SS`
    let e = y.daily_bars(&req("600519.SH")).await.unwrap_err();
    assert!(e.to_string().contains("Not Found"), "{e}");
    assert!(
        script.requests()[n].starts_with("600519.SS?"),
        "{}",
        script.requests()[n]
    );
}

/// A one-row chart reply for `symbol` stamped at `ts`.
fn one_row(symbol: &str, ts: i64) -> Scripted {
    Scripted::json(json!({"chart": {"result": [{
        "meta": {"currency": "USD", "symbol": symbol, "gmtoffset": -18000},
        "timestamp": [ts],
        "indicators": {"quote": [{"open": [1.0], "high": [2.0], "low": [0.5], "close": [1.5], "volume": [10]}],
                       "adjclose": [{"adjclose": [1.5]}]}
    }], "error": null}}))
}

#[tokio::test]
async fn rows_of_another_symbol_or_outside_the_range_are_errors() {
    let (url, script) = start().await;
    let y = Yahoo::new(&fast(), &url).unwrap();
    // 2016-03-01 14:30 UTC, a New York session
    let inside = 1_456_842_600;
    script.push(one_row("QQQ", inside));
    let e = y.daily_bars(&req("SPY")).await.unwrap_err();
    assert!(matches!(e, Error::Malformed { .. }), "{e}");
    assert!(
        e.to_string().contains("\"QQQ\"") && e.to_string().contains("SPY"),
        "{e}"
    );
    // 2016-07-01: after the end, an error and not silently dropped
    script.push(one_row("SPY", inside + 122 * 86_400));
    let e = y.daily_bars(&req("SPY")).await.unwrap_err();
    assert!(matches!(e, Error::Malformed { .. }), "{e}");
    assert!(
        e.to_string().contains("2016-07-01") && e.to_string().contains("outside"),
        "{e}"
    );
    script.push(one_row("SPY", inside));
    assert_eq!(y.daily_bars(&req("SPY")).await.unwrap().len(), 1);
}
