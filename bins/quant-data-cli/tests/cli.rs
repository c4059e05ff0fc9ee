//! The `quant-data` binary: import, and a failed import that names the bad row.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

mod common;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}

#[test]
fn import_and_refuse_a_bad_row() {
    let store = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args(["import", "--input"])
        .arg(fixtures().join("cn/index"))
        .arg("--store")
        .arg(store.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("imported 2 files"), "{out}");
    // the quality pipeline runs on every import (indices: no price limits)
    assert!(out.contains("data quality: no issues"), "{out}");
    assert!(store.path().join("000300.SH.parquet").is_file());

    let input = tempfile::tempdir().unwrap();
    std::fs::write(
        input.path().join("BAD.SH.csv"),
        "date,open,high,low,close,volume\n2021-01-04,10,11,9,10,100\n2021-01-05,10,11,9,,100\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args(["import", "--input"])
        .arg(input.path())
        .arg("--store")
        .arg(store.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("BAD.SH.csv:3: column 5 (close): close is empty"),
        "{err}"
    );
    assert!(!store.path().join("BAD.SH.parquet").exists());
}

fn golden(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/quant-indicators/tests/data/golden")
        .join(rel)
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args(args)
        .output()
        .unwrap()
}

/// Rows of a CSV as (header, rows of cells).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn indicators_writes_talib_numbers_named_from_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ind.csv");
    let input = fixtures().join("cn/daily/600519.SH.csv");
    let o = run(&[
        "indicators",
        "--input",
        input.to_str().unwrap(),
        "--spec",
        "RSI(14)",
        "--spec",
        "MACD(12,26,9)",
        "--spec",
        "BBANDS(20,2,2).upper",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        [
            "date",
            "RSI_14",
            "MACD_12_26_9_macd",
            "MACD_12_26_9_signal",
            "MACD_12_26_9_hist",
            "BBANDS_20_2_2_upper"
        ]
    );
    let (gh, grows) = read_csv(&golden("600519.SH.csv"));
    assert_eq!(rows.len(), grows.len());
    for (k, name) in header.iter().enumerate().skip(1) {
        let gk = gh.iter().position(|h| h == name).unwrap();
        for (r, g) in rows.iter().zip(&grows) {
            assert_eq!(r[0], g[0]);
            // empty exactly where TA-Lib has no value
            assert_eq!(r[k].is_empty(), g[gk].is_empty(), "{name} on {}", r[0]);
            if r[k].is_empty() {
                continue;
            }
            let (a, b): (f64, f64) = (r[k].parse().unwrap(), g[gk].parse().unwrap());
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{name} on {}: {a} vs {b}",
                r[0]
            );
            // 17 significant digits, as printf's %.17g
            let digits = r[k].trim_start_matches('-').replace('.', "");
            assert!(digits.trim_start_matches('0').len() <= 17, "{}", r[k]);
        }
    }
    // RSI(14) of 2015-01-23 printed in full, 17 significant digits: the
    // very digits of TA-Lib's golden file
    assert_eq!(rows[14][0], "2015-01-23");
    assert_eq!(rows[14][1], "23.857003891050624");

    // Parquet when the name says so
    let pq = dir.path().join("ind.parquet");
    let o = run(&[
        "indicators",
        "--input",
        input.to_str().unwrap(),
        "--spec",
        "ATR(14)",
        "--out",
        pq.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&pq).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
}

#[test]
fn indicators_refuses_a_bad_spec_listing_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    let input = fixtures().join("cn/daily/600519.SH.csv");
    let o = run(&[
        "indicators",
        "--input",
        input.to_str().unwrap(),
        "--spec",
        "RSX(14)",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown indicator `RSX`"), "{err}");
    assert!(
        err.contains("RSI(timeperiod=14)") && err.contains("MACD("),
        "{err}"
    );
    assert!(!out.exists());
    let o = run(&[
        "indicators",
        "--input",
        input.to_str().unwrap(),
        "--spec",
        "MACD(12,26,9).foo",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("macd, signal, hist"));
    let o = run(&["indicators", "--list"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).lines().count() >= 45);
}

/// A fake Eastmoney K-line server on 127.0.0.1 serving the real 000001.SZ
/// fixture in Eastmoney's reply shape; returns its base URL.
fn fake_eastmoney() -> String {
    use axum::extract::Query;
    use std::collections::HashMap;
    let series = quant_data::csv_io::read_csv(&fixtures().join("cn/daily/000001.SZ.csv")).unwrap();
    let handler = move |Query(q): Query<HashMap<String, String>>| {
        let s = series.clone();
        async move {
            let day = |k: &str| chrono::NaiveDate::parse_from_str(&q[k], "%Y%m%d").unwrap();
            let (beg, end) = (day("beg"), day("end"));
            let klines: Vec<String> = (0..s.len())
                .filter(|&i| q["secid"] == "0.000001" && s.dates[i] >= beg && s.dates[i] <= end)
                .map(|i| {
                    format!(
                        "{},{},{},{},{},{},{:.2},0,0,0,0",
                        s.dates[i],
                        s.open[i],
                        s.close[i],
                        s.high[i],
                        s.low[i],
                        s.volume[i] / 100.0,
                        s.amount[i]
                    )
                })
                .collect();
            axum::Json(serde_json::json!({"rc": 0, "data": {"code": "000001", "klines": klines}}))
        }
    };
    common::serve(axum::Router::new().route("/api/qt/stock/kline/get", axum::routing::get(handler)))
}

fn quant_data(args: &[&str], dir: &Path) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args(args)
        .current_dir(dir)
        .env_remove("QUANT_CLI_TEST_TOKEN")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn fetch_with_failover_then_update_then_offline() {
    let url = fake_eastmoney();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("data.toml"),
        format!(
            "[client]\nmax_attempts = 2\nbase_delay_ms = 1\n\
             [providers.tushare]\ntoken_env = \"QUANT_CLI_TEST_TOKEN\"\n\
             [providers.eastmoney]\nbase_url = \"{url}\"\n\
             [markets.cn]\nprimary = \"tushare\"\nbackup = [\"eastmoney\"]\n"
        ),
    )
    .unwrap();
    let cal = fixtures().join("cn/index/000001.SH.csv");
    let (code, out, err) = quant_data(
        &[
            "fetch",
            "--config",
            "data.toml",
            "--market",
            "cn",
            "--symbol",
            "000001.SZ",
            "--start",
            "2019-01-01",
            "--end",
            "2019-03-31",
            "--calendar",
            cal.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("000001.SZ: 58 bars 2019-01-01..2019-03-31 from eastmoney (after tushare: tushare: token variable QUANT_CLI_TEST_TOKEN is not set"), "{out}");
    assert!(out.contains("data quality: no issues"), "{out}");
    let stored = dir.path().join("store/cn/daily/000001.SZ.parquet");
    assert_eq!(quant_data::load_series(&stored).unwrap().len(), 58);

    // update: only from the day after the last stored bar
    let (code, out, err) = quant_data(
        &["update", "--config", "data.toml", "--market", "cn"],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("bars 2019-03-30.."), "{out}");
    let all = quant_data::load_series(&stored).unwrap();
    let fixture = quant_data::csv_io::read_csv(&fixtures().join("cn/daily/000001.SZ.csv")).unwrap();
    let from = fixture.index_of("2019-01-02".parse().unwrap()).unwrap();
    assert_eq!(all.dates, fixture.dates[from..]);
    assert_eq!(all.close, fixture.close[from..]);

    // list and export (adjusted from the stored factors)
    let (code, out, _) = quant_data(&["list"], dir.path());
    assert_eq!(code, Some(0));
    assert!(
        out.contains(&format!(
            "cn       daily  000001.SZ    {:>7}  2019-01-02",
            all.len()
        )),
        "{out}"
    );
    // Eastmoney has no factors (stored as 1): export from an imported
    // copy of the fixture, which carries them
    let (code, _, err) = quant_data(
        &[
            "import",
            "--input",
            fixtures().join("cn/daily").to_str().unwrap(),
            "--store",
            "imported/cn/daily",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = quant_data(
        &[
            "export",
            "--store",
            "imported",
            "--market",
            "cn",
            "--symbol",
            "000001.SZ",
            "--adjust",
            "backward",
            "--start",
            "2019-06-01",
            "--out",
            "hfq.csv",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let hfq = quant_data::csv_io::read_csv(&dir.path().join("hfq.csv")).unwrap();
    assert_eq!(hfq.dates[0].to_string(), "2019-06-03");
    let i = fixture.index_of(hfq.dates[0]).unwrap();
    assert!((hfq.close[0] - fixture.close[i] * fixture.adj_factor[i]).abs() < 1e-9);
    let (code, _, err) = quant_data(
        &[
            "export",
            "--market",
            "cn",
            "--symbol",
            "600000.SH",
            "--out",
            "x.csv",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("600000.SH is not stored"), "{err}");

    // offline: refused before any request, store untouched
    let before = std::fs::read(&stored).unwrap();
    let (code, out, _) = quant_data(
        &[
            "fetch",
            "--offline",
            "--config",
            "data.toml",
            "--market",
            "cn",
            "--symbol",
            "000001.SZ",
            "--start",
            "2018-01-01",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(2));
    assert!(out.contains("offline mode refuses network access"), "{out}");
    assert_eq!(std::fs::read(&stored).unwrap(), before);

    // the catalog (default: store/catalog.sqlite) has every fetch, the
    // failed one too, newest first
    let (code, out, err) = quant_data(&["catalog", "history"], dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(
        rows[0].contains("000001.SZ") && rows[0].contains("failed"),
        "{out}"
    );
    assert!(
        rows[0].contains("offline mode refuses network access"),
        "{out}"
    );
    assert!(
        rows[1].contains("eastmoney") && rows[1].contains(" ok "),
        "{out}"
    );
    assert!(
        rows[2].contains("eastmoney") && rows[2].contains("2019-03-29"),
        "{out}"
    );
    assert!(rows[2].contains("QUANT_CLI_TEST_TOKEN is not set"), "{out}");
    let (code, out, _) = quant_data(&["catalog", "status"], dir.path());
    assert_eq!(code, Some(0));
    assert!(out.contains("update_history           3"), "{out}");

    // backup and restore the whole store, catalog included
    let (code, out, err) = quant_data(&["backup", "--out", "backups/store.tar.zst"], dir.path());
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("backed up 2 files"), "{out}");
    let (code, out, err) = quant_data(
        &[
            "restore",
            "--archive",
            "backups/store.tar.zst",
            "--store",
            "store",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("--replace"), "{err}");
    let (code, out, err) = quant_data(
        &[
            "restore",
            "--archive",
            "backups/store.tar.zst",
            "--store",
            "store",
            "--replace",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("restored 2 files (1 series"), "{out}");
    assert!(
        out.contains("previous store is kept at store.replaced-"),
        "{out}"
    );
    assert_eq!(std::fs::read(&stored).unwrap(), before);
    let (code, out, _) = quant_data(&["catalog", "history", "--limit", "1"], dir.path());
    assert_eq!(code, Some(0));
    assert!(out.contains("failed"), "{out}");
}

/// A fake TuShare Pro server on 127.0.0.1: `trade_cal` from the SSE
/// Composite's real trading days, `stock_basic` from the fixtures'
/// instrument list, `adj_factor` from a real fixture; TuShare's reply
/// shape (newest first, dates as YYYYMMDD). Returns its base URL.
fn fake_tushare() -> String {
    let idx = quant_data::csv_io::read_csv(&fixtures().join("cn/index/000001.SH.csv")).unwrap();
    let gree = quant_data::csv_io::read_csv(&fixtures().join("cn/daily/000651.SZ.csv")).unwrap();
    let pingan = quant_data::csv_io::read_csv(&fixtures().join("cn/daily/000001.SZ.csv")).unwrap();
    let meta = std::fs::read_to_string(fixtures().join("cn/meta/instruments.csv")).unwrap();
    let handler = move |axum::Json(req): axum::Json<serde_json::Value>| {
        let (idx, gree, pingan, meta) = (idx.clone(), gree.clone(), pingan.clone(), meta.clone());
        async move {
            let ymd = |d: chrono::NaiveDate| d.format("%Y%m%d").to_string();
            let param = |k: &str| {
                chrono::NaiveDate::parse_from_str(req["params"][k].as_str().unwrap(), "%Y%m%d")
                    .unwrap()
            };
            if req["token"] != "fake-token" {
                return axum::Json(serde_json::json!({"code": 40101, "msg": "token invalid"}));
            }
            let (fields, mut items): (Vec<&str>, Vec<serde_json::Value>) =
                match req["api_name"].as_str().unwrap() {
                    "trade_cal" => {
                        let (mut d, end) = (param("start_date"), param("end_date"));
                        let mut items = Vec::new();
                        while d <= end {
                            let open = i32::from(idx.dates.binary_search(&d).is_ok());
                            items.push(serde_json::json!(["SSE", ymd(d), open]));
                            d = d.succ_opt().unwrap();
                        }
                        (vec!["exchange", "cal_date", "is_open"], items)
                    }
                    "stock_basic" => {
                        let items = if req["params"]["list_status"] == "L" {
                            meta.lines()
                                .skip(1)
                                .map(|l| {
                                    let c: Vec<&str> = l.split(',').collect();
                                    serde_json::json!([
                                        c[0],
                                        c[1],
                                        c[4],
                                        c[3],
                                        c[2],
                                        "L",
                                        c[6].replace('-', ""),
                                        null
                                    ])
                                })
                                .collect()
                        } else {
                            Vec::new()
                        };
                        (
                            vec![
                                "ts_code",
                                "name",
                                "industry",
                                "market",
                                "exchange",
                                "list_status",
                                "list_date",
                                "delist_date",
                            ],
                            items,
                        )
                    }
                    "adj_factor" => {
                        let (beg, end) = (param("start_date"), param("end_date"));
                        let code = req["params"]["ts_code"].as_str().unwrap().to_string();
                        let s = if code == "000651.SZ" { &gree } else { &pingan };
                        let items = (0..s.len())
                            .filter(|&i| s.dates[i] >= beg && s.dates[i] <= end)
                            .map(|i| serde_json::json!([code, ymd(s.dates[i]), s.adj_factor[i]]))
                            .collect();
                        (vec!["ts_code", "trade_date", "adj_factor"], items)
                    }
                    // 000001.SZ's real bars in TuShare's units, without
                    // 2019-02-12 (a day the other provider has)
                    "daily" => {
                        let (beg, end) = (param("start_date"), param("end_date"));
                        let s = &pingan;
                        let items = (0..s.len())
                            .filter(|&i| s.dates[i] >= beg && s.dates[i] <= end)
                            .filter(|&i| s.dates[i].to_string() != "2019-02-12")
                            .map(|i| {
                                serde_json::json!([
                                    "000001.SZ",
                                    ymd(s.dates[i]),
                                    s.open[i],
                                    s.high[i],
                                    s.low[i],
                                    s.close[i],
                                    s.pre_close[i],
                                    s.volume[i] / 100.0,
                                    s.amount[i] / 1000.0
                                ])
                            })
                            .collect();
                        (
                            vec![
                                "ts_code",
                                "trade_date",
                                "open",
                                "high",
                                "low",
                                "close",
                                "pre_close",
                                "vol",
                                "amount",
                            ],
                            items,
                        )
                    }
                    other => panic!("unexpected api {other}"),
                };
            items.reverse();
            axum::Json(serde_json::json!({
                "code": 0, "msg": "",
                "data": {"fields": fields, "items": items, "has_more": false}
            }))
        }
    };
    common::serve(axum::Router::new().route("/", axum::routing::post(handler))) + "/"
}

#[test]
fn catalog_fetch_stores_tushare_reference_data() {
    let url = fake_tushare();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("data.toml"),
        format!(
            "[client]\nmax_attempts = 1\n\
             [providers.tushare]\nbase_url = \"{url}\"\ntoken_env = \"QUANT_CLI_FAKE_TUSHARE\"\n\
             [markets.cn]\nprimary = \"tushare\"\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
            .args(args)
            .current_dir(dir.path())
            .env("QUANT_CLI_FAKE_TUSHARE", "fake-token")
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let net = ["--config", "data.toml", "--market", "cn"];
    let with = |extra: &[&'static str]| {
        let mut a: Vec<&str> = vec!["catalog", "fetch"];
        a.extend(net);
        a.extend(extra);
        a
    };
    let (code, out) = run(&with(&[
        "--what",
        "calendar",
        "--start",
        "2021-01-01",
        "--end",
        "2021-01-31",
    ]));
    assert_eq!(code, Some(0), "{out}");
    // January 2021: 31 days, 20 SSE trading days
    assert!(
        out.contains("31 calendar days of SSE (20 open) from tushare"),
        "{out}"
    );
    let (code, out) = run(&with(&["--what", "stocks"]));
    assert_eq!(code, Some(0), "{out}");
    let listed = std::fs::read_to_string(fixtures().join("cn/meta/instruments.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert!(
        out.contains(&format!("{listed} instruments from tushare")),
        "{out}"
    );
    let (code, out) = run(&with(&[
        "--what",
        "adj-factors",
        "--symbol",
        "000651.SZ",
        "--start",
        "2021-08-01",
        "--end",
        "2021-08-31",
    ]));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("000651.SZ: 22 adj factors from tushare"),
        "{out}"
    );
    let (code, out) = run(&["catalog", "status"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("instruments      {listed:>9}")),
        "{out}"
    );
    assert!(out.contains("trading_calendar        31"), "{out}");
    assert!(out.contains("adj_factors             22"), "{out}");

    // the catalog's own reading of the stored rows
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = quant_catalog::Catalog::open_sqlite(&dir.path().join("store/catalog.sqlite"))
            .await
            .unwrap();
        let jan = c
            .trading_days(
                "SSE",
                "2021-01-01".parse().unwrap(),
                "2021-01-31".parse().unwrap(),
            )
            .await
            .unwrap();
        let idx = quant_data::csv_io::read_csv(&fixtures().join("cn/index/000001.SH.csv")).unwrap();
        let want: Vec<chrono::NaiveDate> = idx
            .dates
            .iter()
            .copied()
            .filter(|d| d.format("%Y-%m").to_string() == "2021-01")
            .collect();
        assert_eq!(jan, want);
        let f = c.adj_factors("000651.SZ").await.unwrap();
        let gree =
            quant_data::csv_io::read_csv(&fixtures().join("cn/daily/000651.SZ.csv")).unwrap();
        for a in &f {
            let i = gree.index_of(a.date).unwrap();
            assert_eq!(a.factor, gree.adj_factor[i]);
        }
        c.close().await;
    });

    // a bad token: TuShare's 40101, a clear error, the catalog unchanged
    let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args(with(&["--what", "stocks"]))
        .current_dir(dir.path())
        .env("QUANT_CLI_FAKE_TUSHARE", "wrong")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("40101"), "{err}");
    let (_, out) = run(&["catalog", "status"]);
    assert!(
        out.contains(&format!("instruments      {listed:>9}")),
        "{out}"
    );
}

#[test]
fn validate_reports_and_flags_hard_problems() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = quant_data(
        &[
            "validate",
            "--input",
            fixtures().join("cn/daily").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("15 files checked"), "{out}");
    std::fs::write(
        dir.path().join("BAD.SH.csv"),
        "date,open,high,low,close,volume\n2021-01-04,10,11,9,10,100\n2021-01-04,10,11,9,10,100\n2021-01-05,10,11,10.5,10,100\n",
    )
    .unwrap();
    let (code, out, _) = quant_data(&["validate", "--input", "BAD.SH.csv"], dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("BAD.SH       bad_row"), "{out}");
    assert!(out.contains("BAD.SH       duplicate"), "{out}");
    assert!(
        out.contains("BAD.SH 2021-01-05 bad_row: low 10.5 is above min(open 10, close 10)"),
        "{out}"
    );
}

#[test]
fn shipped_data_toml_is_valid() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let cfg = quant_providers::DataConfig::from_file(&root.join("config/data.toml")).unwrap();
    for market in ["cn", "us", "crypto"] {
        cfg.chain(market, true).unwrap();
    }
}

#[test]
fn cross_check_reports_where_a_second_provider_disagrees() {
    let (tushare, eastmoney) = (fake_tushare(), fake_eastmoney());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("data.toml"),
        format!(
            "[client]\nmax_attempts = 1\n\
             [providers.tushare]\nbase_url = \"{tushare}\"\ntoken_env = \"QUANT_CLI_FAKE_TUSHARE\"\n\
             [providers.eastmoney]\nbase_url = \"{eastmoney}\"\n\
             [markets.cn]\nprimary = \"tushare\"\nbackup = [\"eastmoney\"]\n"
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args([
            "fetch",
            "--config",
            "data.toml",
            "--market",
            "cn",
            "--symbol",
            "000001.SZ",
            "--start",
            "2019-01-01",
            "--end",
            "2019-03-31",
            "--cross-check",
        ])
        .current_dir(dir.path())
        .env("QUANT_CLI_FAKE_TUSHARE", "fake-token")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("000001.SZ: 57 bars 2019-01-01..2019-03-31 from tushare"),
        "{out}"
    );
    assert!(
        out.contains("000001.SZ: cross-checked against eastmoney: 1 disagreements"),
        "{out}"
    );
    // logged in the catalog with its update
    let (code, log, _) = quant_data(
        &["catalog", "quality", "--rule", "disagreement"],
        dir.path(),
    );
    assert_eq!(code, Some(0));
    assert!(
        log.contains("2019-02-12") && log.contains("(update 1)"),
        "{log}"
    );
    assert!(log.contains("1 issues"), "{log}");
}

#[test]
fn a_universe_file_names_the_symbols() {
    let url = fake_eastmoney();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("data.toml"),
        format!(
            "[client]\nmax_attempts = 1\n[providers.eastmoney]\nbase_url = \"{url}\"\n\
             [markets.cn]\nprimary = \"eastmoney\"\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("u.txt"), "# banks\n\n000001.SZ\n").unwrap();
    let (code, out, err) = quant_data(
        &[
            "fetch",
            "--config",
            "data.toml",
            "--market",
            "cn",
            "--universe",
            "u.txt",
            "--start",
            "2019-01-01",
            "--end",
            "2019-01-31",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("000001.SZ: 22 bars"), "{out}");
    // the CSV form (a `symbol` column), merged with --symbol without repeats
    std::fs::write(
        dir.path().join("u.csv"),
        "name,symbol\n平安银行,000001.SZ\n",
    )
    .unwrap();
    let (code, out, err) = quant_data(
        &[
            "update",
            "--config",
            "data.toml",
            "--market",
            "cn",
            "--universe",
            "u.csv",
            "--symbol",
            "000001.SZ",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out.matches("000001.SZ:").count(), 1, "{out}");
    assert!(out.contains("bars 2019-02-01.."), "{out}");
    // a CSV row without the symbol is named
    std::fs::write(dir.path().join("bad.csv"), "name,symbol\n平安银行\n").unwrap();
    let (code, _, err) = quant_data(
        &[
            "update",
            "--config",
            "data.toml",
            "--market",
            "cn",
            "--universe",
            "bad.csv",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("bad.csv:2: no symbol"), "{err}");
}

/// Class 5: `quant-data list | head` used to panic ("failed printing to
/// stdout: Broken pipe", exit 101). With the reader gone before the first
/// line, the command ends quietly with its own exit code.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let store = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args(["import", "--input"])
        .arg(fixtures().join("cn/daily"))
        .arg("--store")
        .arg(store.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for args in [vec!["list", "--store"], vec!["indicators", "--list"]] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_quant-data"));
        cmd.args(&args);
        if args[0] == "list" {
            cmd.arg(store.path());
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // the reader goes away at once, as `head -0` would
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// Class 8: errors print their cause chain once (the io error used to be
/// printed twice); `RUST_LOG` is honoured and logs go to stderr, as JSON
/// lines with `--log-format json`.
#[test]
fn errors_once_and_logs_on_stderr_as_text_or_json() {
    let missing = tempfile::tempdir().unwrap().path().join("nowhere");
    let o = run(&["list", "--store", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");

    let input = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("cn/index/000300.SH.csv"),
        input.path().join("000300.SH.csv"),
    )
    .unwrap();
    let store = tempfile::tempdir().unwrap();
    let import = |format: &str| {
        Command::new(env!("CARGO_BIN_EXE_quant-data"))
            .env("RUST_LOG", "info")
            .args(["--log-format", format, "import", "--replace", "--input"])
            .arg(input.path())
            .arg("--store")
            .arg(store.path())
            .output()
            .unwrap()
    };
    let o = import("text");
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("INFO") && err.contains("committed"), "{err}");
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("INFO"),
        "logs stay off stdout"
    );
    let o = import("json");
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err.lines().find(|l| l.contains("committed")).unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["level"], "INFO");
    assert_eq!(v["fields"]["message"], "committed");
    assert_eq!(v["fields"]["generation"], 2);
    // without RUST_LOG: warnings only, so nothing here
    let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .env_remove("RUST_LOG")
        .args(["import", "--replace", "--input"])
        .arg(input.path())
        .arg("--store")
        .arg(store.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // an error as one JSON event
    let o = run(&[
        "--log-format",
        "json",
        "list",
        "--store",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let v: serde_json::Value = serde_json::from_str(err.trim()).unwrap();
    assert_eq!(v["level"], "ERROR");
    assert!(
        v["fields"]["error"]
            .as_str()
            .unwrap()
            .contains("No such file")
    );
}

/// A TuShare server that echoes the whole request (its body holds the
/// token) back: in an API error message, in a body that is not JSON, and
/// in an HTTP 500 page, one after the other. Returns its URL.
fn echoing_tushare() -> String {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handler = move |body: String| {
        let n = n.clone();
        async move {
            use axum::response::IntoResponse;
            match n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 3 {
                0 => axum::Json(
                    serde_json::json!({"code": 40101, "msg": format!("bad request {body}")}),
                )
                .into_response(),
                1 => format!("<html>not json: {body}</html>").into_response(),
                _ => (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    format!("oops {body}"),
                )
                    .into_response(),
            }
        }
    };
    common::serve(axum::Router::new().route("/", axum::routing::post(handler)))
}

/// Class 6: a server that echoes the request used to get TUSHARE_TOKEN
/// into the catalog, the update history and backups. Every output of
/// every command (stdout, stderr, JSON logs at debug level, every file of
/// the store including the SQLite catalog and its WAL, the quarantine,
/// the backup archive unpacked) is searched for the token.
#[test]
fn the_token_appears_in_no_output_and_no_stored_file() {
    const TOKEN: &str = "tk-9f8e7d6c5b4a39281706";
    let url = echoing_tushare();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("data.toml"),
        format!(
            "[client]\nmax_attempts = 1\nbase_delay_ms = 1\n\
             [providers.tushare]\nbase_url = \"{url}\"\ntoken_env = \"QUANT_SECRET_TEST_TOKEN\"\n\
             [markets.cn]\nprimary = \"tushare\"\n"
        ),
    )
    .unwrap();
    let outputs = std::cell::RefCell::new(String::new());
    let go = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
            .args(args)
            .current_dir(dir.path())
            .env("QUANT_SECRET_TEST_TOKEN", TOKEN)
            .env("RUST_LOG", "debug")
            .output()
            .unwrap();
        let mut out = outputs.borrow_mut();
        out.push_str(&String::from_utf8_lossy(&o.stdout));
        out.push_str(&String::from_utf8_lossy(&o.stderr));
        o.status.code()
    };
    let net = ["--config", "data.toml", "--market", "cn"];
    for _ in 0..3 {
        let mut a = vec!["fetch", "--symbol", "600519.SH", "--start", "2024-01-01"];
        a.extend(net);
        assert_eq!(go(&a), Some(2), "{}", outputs.borrow());
        let mut a = vec![
            "--log-format",
            "json",
            "catalog",
            "fetch",
            "--what",
            "calendar",
        ];
        a.extend(net);
        assert_eq!(go(&a), Some(2), "{}", outputs.borrow());
    }
    go(&["catalog", "history"]);
    go(&["catalog", "quality"]);
    assert_eq!(
        go(&["backup", "--out", "backup.tar.zst"]),
        Some(0),
        "{}",
        outputs.borrow()
    );
    let outputs = outputs.into_inner();
    assert!(
        outputs.contains("tushare"),
        "the failures are reported: {outputs}"
    );
    assert!(
        outputs.contains("bad request"),
        "the server's text is kept: {outputs}"
    );
    assert!(
        !outputs.contains(TOKEN),
        "the token leaked into output:\n{outputs}"
    );

    // every stored byte: the store (catalog included), the archive unpacked
    let mut files = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    assert!(files.iter().any(|f| f.ends_with("catalog.sqlite")));
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "the token is in {}",
            f.display()
        );
    }
    let archive = std::fs::File::open(dir.path().join("backup.tar.zst")).unwrap();
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(&mut zstd_reader(archive), &mut unpacked).unwrap();
    assert!(
        !unpacked.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
        "the token is in the backup"
    );
    // and the history does hold the failures, redacted
    let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args(["catalog", "history"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let history = String::from_utf8_lossy(&o.stdout);
    assert!(history.contains("failed"), "{history}");
}

fn zstd_reader(f: std::fs::File) -> impl std::io::Read {
    zstd::Decoder::new(f).unwrap()
}
