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

/// The real instrument list of the fixtures plus a Beijing name, as
/// `clist` rows (code, market id, name).
fn clist_rows() -> Vec<(String, i64, String)> {
    let meta = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/cn/meta/instruments.csv"),
    )
    .unwrap();
    let mut rows: Vec<(String, i64, String)> = meta
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            let (code, ex) = c[0].split_once('.').unwrap();
            (code.to_string(), i64::from(ex == "SH"), c[1].to_string())
        })
        .collect();
    rows.push(("430047".into(), 0, "诺思兰德".into()));
    rows
}

/// `clist`: descending by code as `po=1` asks, at most 7 rows a page (the
/// real server caps page sizes too).
async fn clist(
    State(st): State<Em>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(s) = st.script.next_query(&q) {
        return s.into_response();
    }
    let mut rows = clist_rows();
    rows.sort_by(|a, b| b.0.cmp(&a.0));
    let pn: usize = q["pn"].parse().unwrap();
    let pz: usize = q["pz"].parse::<usize>().unwrap().min(7);
    let diff: Vec<serde_json::Value> = rows
        .iter()
        .skip((pn - 1) * pz)
        .take(pz)
        .map(|(code, m, name)| json!({"f12": code, "f13": m, "f14": name}))
        .collect();
    axum::Json(json!({"rc": 0, "rt": 6, "data": {"total": rows.len(), "diff": diff}}))
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
        .route("/api/qt/clist/get", get(clist))
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

#[tokio::test]
async fn the_stock_list_pages_through_clist() {
    let (url, script) = start().await;
    let em = Eastmoney::new(&fast(), &url).unwrap();
    let list = em.stock_list().await.unwrap();
    let rows = clist_rows();
    assert_eq!(list.len(), rows.len());
    // ceil(n / 7) pages, all A-share boards asked for
    let reqs = script.requests();
    assert_eq!(reqs.len(), rows.len().div_ceil(7), "{reqs:?}");
    assert!(
        reqs[0].contains("m:1 t:23") || reqs[0].contains("m%3A1"),
        "{}",
        reqs[0]
    );
    let by = |s: &str| list.iter().find(|i| i.symbol == s).unwrap();
    let moutai = by("600519.SH");
    assert_eq!(
        (moutai.exchange.as_str(), moutai.market.as_str()),
        ("SSE", "主板")
    );
    assert_eq!(moutai.name, "贵州茅台");
    assert_eq!(by("300750.SZ").market, "创业板");
    assert_eq!(by("000001.SZ").exchange, "SZSE");
    let bj = by("430047.BJ");
    assert_eq!(
        (bj.exchange.as_str(), bj.market.as_str()),
        ("BSE", "北交所")
    );
    assert!(list.windows(2).all(|w| w[0].symbol < w[1].symbol));
    assert!(
        list.iter()
            .all(|i| i.status == quant_providers::ListStatus::Listed)
    );

    // rc != 0: an API error, not retried
    script.push(Scripted::json(json!({"rc": 102, "data": null})));
    let before = script.requests().len();
    let e = em.stock_list().await.unwrap_err();
    assert!(matches!(e, Error::Api { code: 102, .. }), "{e}");
    assert_eq!(script.requests().len(), before + 1);
    // a row in a market Eastmoney does not use: malformed, named
    script.push(Scripted::json(
        json!({"rc": 0, "data": {"total": 1, "diff": [{"f12": "000001", "f13": 2, "f14": "x"}]}}),
    ));
    let e = em.stock_list().await.unwrap_err().to_string();
    assert!(e.contains("clist") && e.contains("market id 2"), "{e}");
}

#[tokio::test]
async fn klines_of_another_instrument_or_outside_the_range_are_errors() {
    let (url, script) = start().await;
    let em = Eastmoney::new(&fast(), &url).unwrap();
    let line = |d: &str| format!("{d},9.39,9.21,9.42,9.21,1158366,1075742252.00,0,0,0,0");
    let cases = [
        (
            json!({"rc": 0, "data": {"code": "000002", "market": 0, "klines": [line("2019-01-02")]}}),
            vec!["code \"000002\"", "000001.SZ"],
        ),
        (
            json!({"rc": 0, "data": {"code": "000001", "market": 1, "klines": [line("2019-01-02")]}}),
            vec!["market 1", "000001.SZ"],
        ),
        (
            json!({"rc": 0, "data": {"code": "000001", "market": 0, "klines": [line("2019-01-02"), line("2019-07-01")]}}),
            vec!["kline 1", "2019-07-01", "outside", "2019-01-01..2019-06-30"],
        ),
        (
            json!({"rc": 0, "data": {"klines": [line("2018-12-28")]}}),
            vec!["kline 0", "2018-12-28", "outside"],
        ),
    ];
    for (reply, want) in cases {
        script.push(Scripted::json(reply));
        let e = em.daily_bars(&req("000001.SZ")).await.unwrap_err();
        assert!(matches!(e, Error::Malformed { .. }), "{e}");
        for w in want {
            assert!(e.to_string().contains(w), "{w:?} not in {e}");
        }
    }
}

#[tokio::test]
async fn a_clist_page_that_repeats_is_a_paging_error() {
    let (url, script) = start().await;
    let em = Eastmoney::new(&fast(), &url).unwrap();
    let same = json!({"rc": 0, "data": {"total": 5000, "diff": [
        {"f12": "000001", "f13": 0, "f14": "平安银行"},
        {"f12": "600519", "f13": 1, "f14": "贵州茅台"}
    ]}});
    for _ in 0..10 {
        script.push(Scripted::json(same.clone()));
    }
    let e = em.stock_list().await.unwrap_err();
    assert!(matches!(e, Error::Pagination { page: 2, .. }), "{e}");
    assert!(e.to_string().contains("page 2 repeats"), "{e}");
    assert_eq!(script.requests().len(), 2);
}

#[tokio::test]
async fn an_endless_clist_stops_at_max_pages_and_bad_codes_are_errors() {
    let script = Script::default();
    let s = script.clone();
    // a `total` that never comes: fresh codes on every page
    let handler = move |Query(q): Query<std::collections::HashMap<String, String>>| {
        let s = s.clone();
        async move {
            s.next_query(&q);
            let pn: u32 = q["pn"].parse().unwrap();
            axum::Json(json!({"rc": 0, "data": {"total": 1_000_000, "diff": [
                {"f12": format!("{:06}", pn), "f13": 0, "f14": "x"}
            ]}}))
        }
    };
    let url = serve(axum::Router::new().route("/api/qt/clist/get", get(handler))).await;
    let settings = quant_providers::ClientSettings {
        max_pages: Some(4),
        ..fast()
    };
    let em = Eastmoney::new(&settings, &url).unwrap();
    let e = em.stock_list().await.unwrap_err();
    assert!(matches!(e, Error::Pagination { page: 5, .. }), "{e}");
    assert!(e.to_string().contains("more than 4 pages"), "{e}");
    assert_eq!(script.requests().len(), 4);

    let (url, script) = start().await;
    let em = Eastmoney::new(&fast(), &url).unwrap();
    script.push(Scripted::json(
        json!({"rc": 0, "data": {"total": 1, "diff": [{"f12": "../../etc", "f13": 0, "f14": "x"}]}}),
    ));
    let e = em.stock_list().await.unwrap_err();
    assert!(
        matches!(e, Error::Malformed { .. }) && e.to_string().contains("\"../../etc\""),
        "{e}"
    );
}
