//! TuShare Pro against a fake `api.tushare.pro` serving the real JSON
//! envelope, built from the real 600519.SH bars (vol in 手, amount in 千元,
//! newest first, paged with `has_more`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::NaiveDate;
use quant_core::Bar;
use quant_providers::tushare::TuShare;
use quant_providers::{BarRequest, DataProvider, Error, ListStatus};
use serde_json::{Value, json};

use crate::fake::{Script, Scripted, close, fast, fixture, serve};

const TOKEN: &str = "t0k";

#[derive(Clone)]
struct Ts {
    script: Script,
    bars: Arc<Vec<Bar>>,
    /// Server-side cap on rows per call (TuShare's is 6000).
    cap: usize,
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn param_date(p: &Value, k: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(p[k].as_str()?, "%Y%m%d").ok()
}

fn envelope(fields: &[&str], items: Vec<Value>, has_more: bool) -> Response {
    axum::Json(json!({
        "request_id": "fake",
        "code": 0,
        "msg": "",
        "data": {"fields": fields, "items": items, "has_more": has_more},
    }))
    .into_response()
}

/// [`envelope`] of the rows whose `ts_code` (the first column) is one of
/// the comma-separated `codes`.
fn envelope_of(codes: &str, fields: &[&str], items: Vec<Value>, has_more: bool) -> Response {
    let codes: Vec<&str> = codes.split(',').collect();
    let items = items
        .into_iter()
        .filter(|r| r[0].as_str().is_some_and(|c| codes.contains(&c)))
        .collect();
    envelope(fields, items, has_more)
}

async fn handle(State(st): State<Ts>, body: String) -> Response {
    if let Some(s) = st.script.next(body.clone()) {
        return s.into_response();
    }
    let req: Value = serde_json::from_str(&body).unwrap();
    if req["token"] != TOKEN {
        return axum::Json(
            json!({"code": 40101, "msg": "抱歉，您的token不对，请确认。", "data": null}),
        )
        .into_response();
    }
    let p = &req["params"];
    let offset: usize = p["offset"].as_str().map_or(0, |s| s.parse().unwrap());
    let limit: usize = p["limit"]
        .as_str()
        .map_or(usize::MAX, |s| s.parse().unwrap());
    let (start, end) = (param_date(p, "start_date"), param_date(p, "end_date"));
    let in_range = |d: NaiveDate| start.is_none_or(|s| d >= s) && end.is_none_or(|e| d <= e);
    // newest first, as TuShare sends them
    let rows: Vec<&Bar> = st.bars.iter().rev().filter(|b| in_range(b.date)).collect();
    let page = |all: Vec<Value>| {
        let n = all.len();
        let take = limit.min(st.cap);
        let items: Vec<Value> = all.into_iter().skip(offset).take(take).collect();
        (items, offset + take < n)
    };
    let code = p["ts_code"].as_str().unwrap_or("600519.SH");
    match req["api_name"].as_str().unwrap() {
        "daily" | "index_daily" => {
            // TuShare's own column order, not the requested one
            let (items, more) = page(
                rows.iter()
                    .map(|b| {
                        json!([
                            code,
                            ymd(b.date),
                            b.open,
                            b.high,
                            b.low,
                            b.close,
                            b.pre_close,
                            b.close - b.pre_close,
                            b.volume / 100.0,
                            b.amount / 1000.0
                        ])
                    })
                    .collect(),
            );
            envelope(
                &[
                    "ts_code",
                    "trade_date",
                    "open",
                    "high",
                    "low",
                    "close",
                    "pre_close",
                    "change",
                    "vol",
                    "amount",
                ],
                items,
                more,
            )
        }
        "adj_factor" => {
            let (items, more) = page(
                rows.iter()
                    .map(|b| json!([code, ymd(b.date), b.adj_factor]))
                    .collect(),
            );
            envelope(&["ts_code", "trade_date", "adj_factor"], items, more)
        }
        "trade_cal" => {
            let (s, e) = (start.unwrap(), end.unwrap());
            let open: std::collections::BTreeSet<NaiveDate> =
                st.bars.iter().map(|b| b.date).collect();
            let mut items: Vec<Value> = s
                .iter_days()
                .take_while(|d| *d <= e)
                .map(|d| json!(["SSE", ymd(d), i32::from(open.contains(&d)), null]))
                .collect();
            items.reverse();
            envelope(
                &["exchange", "cal_date", "is_open", "pretrade_date"],
                items,
                false,
            )
        }
        "stock_basic" => {
            let items = match p["list_status"].as_str().unwrap() {
                "L" => vec![
                    json!([
                        "600519.SH",
                        "600519",
                        "贵州茅台",
                        "贵州",
                        "白酒",
                        "主板",
                        "SSE",
                        "L",
                        "20010827",
                        null
                    ]),
                    json!([
                        "000001.SZ",
                        "000001",
                        "平安银行",
                        "深圳",
                        "银行",
                        "主板",
                        "SZSE",
                        "L",
                        "19910403",
                        null
                    ]),
                ],
                "D" => vec![json!([
                    "600002.SH",
                    "600002",
                    "齐鲁石化",
                    "山东",
                    "石油加工",
                    "主板",
                    "SSE",
                    "D",
                    "19980408",
                    "20060424"
                ])],
                _ => vec![],
            };
            envelope(
                &[
                    "ts_code",
                    "symbol",
                    "name",
                    "area",
                    "industry",
                    "market",
                    "exchange",
                    "list_status",
                    "list_date",
                    "delist_date",
                ],
                items,
                false,
            )
        }
        // the rows of the asked codes (a comma-separated list)
        "daily_basic" => envelope_of(
            code,
            &[
                "ts_code",
                "trade_date",
                "close",
                "turnover_rate",
                "pe",
                "pe_ttm",
                "pb",
                "dv_ttm",
                "total_share",
                "float_share",
                "total_mv",
                "circ_mv",
            ],
            vec![
                json!([
                    "600519.SH",
                    "20190102",
                    598.98,
                    0.3162,
                    27.1,
                    26.3,
                    8.96,
                    1.95,
                    125619.78,
                    125619.78,
                    75243736.8,
                    75243736.8
                ]),
                json!([
                    "000001.SZ",
                    "20190102",
                    9.19,
                    0.54,
                    null,
                    null,
                    0.83,
                    null,
                    1717041.1,
                    1717024.4,
                    15779607.7,
                    15779454.1
                ]),
            ],
            false,
        ),
        other => {
            axum::Json(json!({"code": 40001, "msg": format!("unknown api {other}"), "data": null}))
                .into_response()
        }
    }
}

async fn start(cap: usize) -> (String, Script) {
    let st = Ts {
        script: Script::default(),
        bars: Arc::new(fixture("cn/daily/600519.SH")),
        cap,
    };
    let script = st.script.clone();
    let url = serve(axum::Router::new().route("/", post(handle)).with_state(st)).await;
    (url, script)
}

fn req(start: &str, end: &str) -> BarRequest {
    BarRequest {
        symbol: "600519.SH".into(),
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
    }
}

#[tokio::test]
async fn daily_bars_equal_the_fixture_across_pages() {
    let (url, script) = start(200).await;
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    let got = ts
        .daily_bars(&req("2018-01-01", "2019-12-31"))
        .await
        .unwrap();
    let want: Vec<Bar> = fixture("cn/daily/600519.SH")
        .into_iter()
        .filter(|b| {
            b.date.to_string().as_str() >= "2018-01-01"
                && b.date.to_string().as_str() <= "2019-12-31"
        })
        .collect();
    assert!(want.len() > 400);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.date, w.date);
        assert_eq!(
            (g.open, g.high, g.low, g.close),
            (w.open, w.high, w.low, w.close)
        );
        assert!(close(g.pre_close, w.pre_close));
        assert!(
            close(g.volume, w.volume),
            "{} volume {} vs {}",
            g.date,
            g.volume,
            w.volume
        );
        assert!(
            close(g.amount, w.amount),
            "{} amount {} vs {}",
            g.date,
            g.amount,
            w.amount
        );
        assert_eq!(g.adj_factor, w.adj_factor);
    }
    // ascending order and paging: 3 pages of daily + 3 of adj_factor
    assert!(got.windows(2).all(|w| w[0].date < w[1].date));
    let reqs = script.requests();
    assert_eq!(reqs.len(), 6, "{reqs:?}");
    assert!(reqs[1].contains(r#""offset":"200""#), "{}", reqs[1]);
    assert!(reqs.iter().all(|r| r.contains(r#""token":"t0k""#)));
}

#[tokio::test]
async fn permission_error_is_an_api_error_and_not_retried() {
    let (url, script) = start(6000).await;
    script.push(Scripted::json(
        json!({"code": 2002, "msg": "抱歉，您没有访问该接口的权限", "data": null}),
    ));
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    let e = ts
        .adj_factors(&req("2019-01-01", "2019-01-31"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Api { code: 2002, .. }), "{e}");
    assert!(e.to_string().contains("adj_factor"), "{e}");
    assert_eq!(script.requests().len(), 1);
}

#[tokio::test]
async fn throttling_is_retried_then_served() {
    let (url, script) = start(6000).await;
    let throttle = json!({"code": 40203, "msg": "抱歉，您每分钟最多访问该接口500次", "data": null});
    script
        .push(Scripted::json(throttle.clone()))
        .push(Scripted::json(throttle));
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    let f = ts
        .adj_factors(&req("2019-01-01", "2019-01-31"))
        .await
        .unwrap();
    assert_eq!(f.len(), 22, "trading days of January 2019");
    assert_eq!(script.requests().len(), 3);
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_reported() {
    let (url, script) = start(6000).await;
    for _ in 0..4 {
        script.push(Scripted::json(
            json!({"code": 40203, "msg": "每分钟最多访问该接口500次", "data": null}),
        ));
    }
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    let e = ts
        .adj_factors(&req("2019-01-01", "2019-01-31"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e}");
    assert_eq!(script.requests().len(), 4, "max_attempts");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let (url, script) = start(6000).await;
    script.push(Scripted::status(502, "<html>bad gateway</html>"));
    script.push(Scripted::status(500, "oops"));
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    let bars = ts
        .index_daily(&req("2019-01-01", "2019-01-31"))
        .await
        .unwrap();
    assert_eq!(bars.len(), 22);
    assert_eq!(script.requests().len(), 3);
}

#[tokio::test]
async fn malformed_replies_are_clear_errors_and_not_retried() {
    let cases: [(&str, Scripted, &str); 4] = [
        (
            "truncated",
            Scripted::status(200, r#"{"code":0,"msg":"","data":{"fields":["ts_code""#),
            "envelope",
        ),
        (
            "short row",
            Scripted::json(
                json!({"code": 0, "data": {"fields": ["ts_code", "trade_date", "adj_factor"], "items": [["600519.SH", "20190102"]], "has_more": false}}),
            ),
            "row 0 has 2 values",
        ),
        (
            "text number",
            Scripted::json(
                json!({"code": 0, "data": {"fields": ["ts_code", "trade_date", "adj_factor"], "items": [["600519.SH", "20190102", "abc"]], "has_more": false}}),
            ),
            "not a number",
        ),
        (
            "missing field",
            Scripted::json(
                json!({"code": 0, "data": {"fields": ["ts_code", "trade_date"], "items": [], "has_more": false}}),
            ),
            "no field \"adj_factor\"",
        ),
    ];
    for (name, reply, want) in cases {
        let (url, script) = start(6000).await;
        script.push(reply);
        let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
        let e = ts
            .adj_factors(&req("2019-01-01", "2019-01-31"))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Malformed { .. }), "{name}: {e}");
        assert!(e.to_string().contains(want), "{name}: {e}");
        assert_eq!(script.requests().len(), 1, "{name}");
    }
}

#[tokio::test]
async fn bad_token_and_missing_token() {
    let (url, _) = start(6000).await;
    let ts = TuShare::new(&fast(), &url, "wrong").unwrap();
    let e = ts
        .daily_bars(&req("2019-01-01", "2019-01-31"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Api { code: 40101, .. }), "{e}");
    let e = TuShare::from_env(&fast(), &url, "QUANT_TEST_NO_SUCH_VAR").unwrap_err();
    assert!(e.to_string().contains("QUANT_TEST_NO_SUCH_VAR"), "{e}");
}

#[tokio::test]
async fn offline_mode_sends_nothing() {
    let (url, script) = start(6000).await;
    let settings = quant_providers::ClientSettings {
        offline: true,
        ..fast()
    };
    let ts = TuShare::new(&settings, &url, TOKEN).unwrap();
    let e = ts
        .daily_bars(&req("2019-01-01", "2019-01-31"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Offline { .. }), "{e}");
    assert!(script.requests().is_empty());
}

#[tokio::test]
async fn breaker_opens_after_repeated_failures() {
    let (url, script) = start(6000).await;
    for _ in 0..10 {
        script.push(Scripted::status(503, "busy"));
    }
    let settings = quant_providers::ClientSettings {
        breaker_threshold: 2,
        retry: quant_providers::http::RetryPolicy {
            max_attempts: 1,
            ..fast().retry
        },
        ..fast()
    };
    let ts = TuShare::new(&settings, &url, TOKEN).unwrap();
    let r = req("2019-01-01", "2019-01-31");
    for _ in 0..2 {
        let e = ts.index_daily(&r).await.unwrap_err();
        assert!(matches!(e, Error::Http { status: 503, .. }), "{e}");
    }
    let e = ts.index_daily(&r).await.unwrap_err();
    assert!(matches!(e, Error::CircuitOpen { failures: 2, .. }), "{e}");
    assert_eq!(script.requests().len(), 2, "an open circuit does not call");
}

#[tokio::test]
async fn calendar_stock_list_and_daily_basic_in_base_units() {
    let (url, _) = start(6000).await;
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    let cal = ts
        .trading_calendar(
            "SSE",
            "2019-01-01".parse().unwrap(),
            "2019-01-10".parse().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(cal.len(), 10);
    assert!(cal.windows(2).all(|w| w[0].date < w[1].date));
    let open: Vec<String> = cal
        .iter()
        .filter(|d| d.is_open)
        .map(|d| d.date.to_string())
        .collect();
    assert_eq!(
        open,
        [
            "2019-01-02",
            "2019-01-03",
            "2019-01-04",
            "2019-01-07",
            "2019-01-08",
            "2019-01-09",
            "2019-01-10"
        ]
    );

    let list = ts.stock_list().await.unwrap();
    assert_eq!(list.len(), 3);
    let dead = list.iter().find(|i| i.symbol == "600002.SH").unwrap();
    assert_eq!(dead.status, ListStatus::Delisted);
    assert_eq!(dead.delist_date, Some("2006-04-24".parse().unwrap()));
    assert_eq!(
        list.iter()
            .find(|i| i.symbol == "600519.SH")
            .unwrap()
            .industry,
        "白酒"
    );

    let basic = ts
        .daily_basic(&BarRequest {
            symbol: "600519.SH,000001.SZ".into(),
            ..req("2019-01-02", "2019-01-02")
        })
        .await
        .unwrap();
    let m = &basic[0];
    assert_eq!(m.total_mv, Some(75243736.8 * 10_000.0), "万元 → CNY");
    assert_eq!(m.total_share, Some(125619.78 * 10_000.0), "万股 → shares");
    assert_eq!(basic[1].pe, None, "a loss-maker has no PE");
}

fn page(fields: &[&str], items: Value, has_more: bool) -> Scripted {
    Scripted::json(
        json!({"code": 0, "msg": "", "data": {"fields": fields, "items": items, "has_more": has_more}}),
    )
}

#[tokio::test]
async fn has_more_forever_with_the_same_page_is_a_paging_error() {
    let (url, script) = start(6000).await;
    let same = json!([
        ["600519.SH", "20190103", 1.5],
        ["600519.SH", "20190102", 1.5]
    ]);
    for _ in 0..20 {
        script.push(page(
            &["ts_code", "trade_date", "adj_factor"],
            same.clone(),
            true,
        ));
    }
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    let e = ts
        .adj_factors(&req("2019-01-01", "2019-01-31"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Pagination { page: 2, .. }), "{e}");
    assert!(
        e.to_string()
            .contains("paging adj_factor stopped at page 2: page 2 repeats"),
        "{e}"
    );
    assert_eq!(script.requests().len(), 2, "no third page asked for");
}

#[tokio::test]
async fn has_more_with_an_empty_page_does_not_advance() {
    let (url, script) = start(6000).await;
    script.push(page(
        &["ts_code", "trade_date", "adj_factor"],
        json!([["600519.SH", "20190102", 1.5]]),
        true,
    ));
    script.push(page(
        &["ts_code", "trade_date", "adj_factor"],
        json!([]),
        true,
    ));
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    let e = ts
        .adj_factors(&req("2019-01-01", "2019-01-31"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Pagination { page: 2, .. }), "{e}");
    assert!(e.to_string().contains("offset 1 did not advance"), "{e}");
}

/// A server that says `has_more` forever, one new in-range row a page.
async fn endless() -> (String, Script) {
    let script = Script::default();
    let s = script.clone();
    let handler = move |body: String| {
        let s = s.clone();
        async move {
            s.next(body.clone());
            let req: Value = serde_json::from_str(&body).unwrap();
            let offset: i64 = req["params"]["offset"].as_str().unwrap().parse().unwrap();
            let day =
                NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(offset as u64);
            envelope(
                &["ts_code", "trade_date", "adj_factor"],
                vec![json!(["600519.SH", ymd(day), 1.0])],
                true,
            )
        }
    };
    let url = serve(axum::Router::new().route("/", post(handler))).await;
    (url, script)
}

#[tokio::test]
async fn has_more_forever_stops_at_max_pages() {
    let (url, script) = endless().await;
    let settings = quant_providers::ClientSettings {
        max_pages: Some(5),
        ..fast()
    };
    let ts = TuShare::new(&settings, &url, TOKEN).unwrap();
    let e = ts
        .adj_factors(&req("2000-01-01", "2019-12-31"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Pagination { page: 6, .. }), "{e}");
    assert!(e.to_string().contains("more than 5 pages"), "{e}");
    assert_eq!(script.requests().len(), 5);

    // the default cap holds too
    let (url, script) = endless().await;
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    let e = ts
        .adj_factors(&req("2000-01-01", "2019-12-31"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("more than 100 pages"), "{e}");
    assert_eq!(
        script.requests().len(),
        quant_providers::tushare::MAX_PAGES as usize
    );
}

#[tokio::test]
async fn rows_for_another_code_or_outside_the_range_are_errors() {
    let bar = |code: &str, date: &str| {
        json!([[
            code, date, 1700.0, 1710.0, 1690.0, 1705.0, 1700.0, 5.0, 30000.0, 5e6
        ]])
    };
    let daily = [
        "ts_code",
        "trade_date",
        "open",
        "high",
        "low",
        "close",
        "pre_close",
        "change",
        "vol",
        "amount",
    ];
    let cases: Vec<(&str, Scripted, Vec<&str>)> = vec![
        (
            "daily, other code",
            page(&daily, bar("000001.SZ", "20190102"), false),
            vec!["row 0", "ts_code \"000001.SZ\"", "600519.SH"],
        ),
        (
            "daily, before the start",
            page(&daily, bar("600519.SH", "20181228"), false),
            vec!["row 0", "trade_date 2018-12-28", "2019-01-01..2019-01-31"],
        ),
        (
            "daily, after the end",
            page(&daily, bar("600519.SH", "20190201"), false),
            vec!["trade_date 2019-02-01", "outside"],
        ),
    ];
    for (name, reply, want) in cases {
        let (url, script) = start(6000).await;
        script.push(reply);
        let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
        let e = ts
            .index_daily(&req("2019-01-01", "2019-01-31"))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Malformed { .. }), "{name}: {e}");
        for w in want {
            assert!(e.to_string().contains(w), "{name}: {w:?} not in {e}");
        }
    }

    // adj_factor, trade_cal and stock_basic rows are checked too
    let (url, script) = start(6000).await;
    let ts = TuShare::new(&fast(), &url, TOKEN).unwrap();
    script.push(page(
        &["ts_code", "trade_date", "adj_factor"],
        json!([
            ["600519.SH", "20190131", 1.0],
            ["600000.SH", "20190130", 1.0]
        ]),
        false,
    ));
    let e = ts
        .adj_factors(&req("2019-01-01", "2019-01-31"))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("row 1") && e.to_string().contains("600000.SH"),
        "{e}"
    );
    script.push(page(
        &["exchange", "cal_date", "is_open"],
        json!([["SZSE", "20190102", 1]]),
        false,
    ));
    let e = ts
        .trading_calendar(
            "SSE",
            "2019-01-01".parse().unwrap(),
            "2019-01-10".parse().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("exchange \"SZSE\"") && e.to_string().contains("SSE"),
        "{e}"
    );
    script.push(page(
        &["exchange", "cal_date", "is_open"],
        json!([["SSE", "20190111", 1]]),
        false,
    ));
    let e = ts
        .trading_calendar(
            "SSE",
            "2019-01-01".parse().unwrap(),
            "2019-01-10".parse().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cal_date 2019-01-11"), "{e}");
    script.push(page(
        &[
            "ts_code",
            "name",
            "industry",
            "market",
            "exchange",
            "list_status",
            "list_date",
            "delist_date",
        ],
        json!([[
            "600002.SH",
            "齐鲁石化",
            "石油加工",
            "主板",
            "SSE",
            "D",
            "19980408",
            "20060424"
        ]]),
        false,
    ));
    let e = ts.stock_list().await.unwrap_err();
    assert!(
        e.to_string().contains("list_status \"D\"") && e.to_string().contains("\"L\""),
        "{e}"
    );
}

#[tokio::test]
async fn a_reply_over_the_body_cap_is_refused() {
    let (url, _) = start(6000).await;
    let settings = quant_providers::ClientSettings {
        max_body_bytes: Some(2048),
        ..fast()
    };
    let ts = TuShare::new(&settings, &url, TOKEN).unwrap();
    let e = ts
        .adj_factors(&req("2019-01-01", "2019-12-31"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BodyTooLarge { limit: 2048, .. }), "{e}");
    // a month fits
    assert_eq!(
        ts.adj_factors(&req("2019-01-01", "2019-01-10"))
            .await
            .unwrap()
            .len(),
        7
    );
}
