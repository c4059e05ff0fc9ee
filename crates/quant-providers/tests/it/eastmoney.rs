//! Eastmoney's K-line endpoint against a fake `push2his.eastmoney.com`
//! serving the real reply shape from the real 000001.SZ bars.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use quant_core::Bar;
use quant_providers::eastmoney::{Adjust, Eastmoney};
use quant_providers::{BarRequest, DataProvider, Error};
use serde_json::json;

use crate::fake::{Script, Scripted, close, fast, fixture, serve};

#[derive(Clone)]
struct Em {
    script: Script,
    bars: Arc<Vec<Bar>>,
}

async fn handle(
    State(st): State<Em>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(s) = st.script.next_query(&q) {
        return s.into_response();
    }
    if q.get("secid").map(String::as_str) != Some("0.000001") {
        return axum::Json(json!({"rc": 0, "rt": 17, "data": null})).into_response();
    }
    let day = |k: &str| NaiveDate::parse_from_str(&q[k], "%Y%m%d").unwrap();
    let (beg, end) = (day("beg"), day("end"));
    // fqt=2 (backward): prices × factor, as Eastmoney computes them
    let hfq = q["fqt"] == "2";
    let klines: Vec<String> = st
        .bars
        .iter()
        .filter(|b| b.date >= beg && b.date <= end)
        .map(|b| {
            let f = if hfq { b.adj_factor } else { 1.0 };
            format!(
                "{},{},{},{},{},{},{:.2},0.00,0.00,0.00,0.00",
                b.date,
                b.open * f,
                b.close * f,
                b.high * f,
                b.low * f,
                b.volume / 100.0,
                b.amount
            )
        })
        .collect();
    axum::Json(json!({"rc": 0, "rt": 17, "svr": 0, "lt": 1, "full": 1,
                      "data": {"code": "000001", "market": 0, "name": "平安银行", "decimal": 2,
                               "dktotal": klines.len(), "klines": klines}}))
    .into_response()
}

pub async fn start() -> (String, Script) {
    let st = Em {
        script: Script::default(),
        bars: Arc::new(fixture("cn/daily/000001.SZ")),
    };
    let script = st.script.clone();
    let router = axum::Router::new()
        .route("/api/qt/stock/kline/get", get(handle))
        .with_state(st);
    (serve(router).await, script)
}

fn req(symbol: &str) -> BarRequest {
    BarRequest {
        symbol: symbol.into(),
        start: "2019-01-01".parse().unwrap(),
        end: "2019-06-30".parse().unwrap(),
    }
}

#[tokio::test]
async fn raw_and_backward_adjusted_daily_bars() {
    let (url, script) = start().await;
    let em = Eastmoney::new(&fast(), &url).unwrap();
    let got = em.daily_bars(&req("000001.SZ")).await.unwrap();
    let want: Vec<Bar> = fixture("cn/daily/000001.SZ")
        .into_iter()
        .filter(|b| b.date >= req("").start && b.date <= req("").end)
        .collect();
    assert!(want.len() > 100);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(
            (g.date, g.open, g.high, g.low, g.close),
            (w.date, w.open, w.high, w.low, w.close)
        );
        assert!(close(g.volume, w.volume));
        assert!((g.amount - w.amount).abs() <= 0.005);
    }
    let q = &script.requests()[0];
    assert!(
        q.contains("secid=0.000001") && q.contains("klt=101") && q.contains("fqt=0"),
        "{q}"
    );
    let hfq = em
        .daily_bars_adjusted(&req("000001.SZ"), Adjust::Backward)
        .await
        .unwrap();
    assert!(close(hfq[0].close, want[0].close * want[0].adj_factor));
}

#[tokio::test]
async fn unknown_symbol_is_empty_and_errors_are_clear() {
    let (url, script) = start().await;
    let em = Eastmoney::new(&fast(), &url).unwrap();
    assert!(em.daily_bars(&req("600000.SH")).await.unwrap().is_empty());
    assert!(matches!(
        em.daily_bars(&req("AAPL")).await,
        Err(Error::Api { .. })
    ));
    script.push(Scripted::status(200, "<html>请稍后再试</html>"));
    let e = em.daily_bars(&req("000001.SZ")).await.unwrap_err();
    assert!(matches!(e, Error::Malformed { .. }), "{e}");
    script
        .push(Scripted::status(503, ""))
        .push(Scripted::status(503, ""));
    assert_eq!(em.daily_bars(&req("000001.SZ")).await.unwrap().len(), 118);
}
