//! The catalog's scenarios, each on every back end.

use chrono::{NaiveDate, TimeZone, Utc};
use quant_catalog::{Catalog, Error, UpdateRecord, UpdateStatus};
use quant_data::quality::{Issue, Rule};
use quant_data::reference::{AdjFactor, CalendarDay, DailyBasic, ListStatus, ListedInstrument};

use crate::{fixtures, on_each_backend, test_data};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The real instrument list of the fixtures (`fixtures/cn/meta/instruments.csv`).
fn fixture_instruments() -> Vec<ListedInstrument> {
    let mut r = csv::Reader::from_path(fixtures().join("cn/meta/instruments.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (sym, name, exch, board, ind, list) = (
        col("symbol"),
        col("name"),
        col("exchange"),
        col("board"),
        col("industry"),
        col("list_date"),
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            ListedInstrument {
                symbol: rec[sym].to_string(),
                name: rec[name].to_string(),
                exchange: rec[exch].to_string(),
                market: rec[board].to_string(),
                industry: rec[ind].to_string(),
                list_date: Some(d(&rec[list])),
                delist_date: None,
                status: ListStatus::Listed,
            }
        })
        .collect()
}

fn update(symbol: &str, status: UpdateStatus, last: Option<&str>, minute: u32) -> UpdateRecord {
    UpdateRecord {
        id: 0,
        started_at: Utc.with_ymd_and_hms(2026, 11, 23, 9, minute, 0).unwrap(),
        finished_at: Utc.with_ymd_and_hms(2026, 11, 23, 9, minute, 5).unwrap(),
        market: "cn".into(),
        kind: "daily".into(),
        symbol: symbol.into(),
        requested_start: d("2026-11-01"),
        requested_end: d("2026-11-20"),
        provider: (status == UpdateStatus::Ok).then(|| "eastmoney".to_string()),
        status,
        rows_fetched: 14,
        rows_stored: 4087,
        rows_quarantined: 1,
        last_date: last.map(d),
        message: if status == UpdateStatus::Ok {
            "tushare: no token (TUSHARE_TOKEN)".into()
        } else {
            "all providers failed".into()
        },
    }
}

#[tokio::test]
async fn a_new_catalog_is_empty_and_reopening_keeps_its_schema_and_rows() {
    on_each_backend("reopen", |c| async move {
        assert_eq!(c.counts().await.unwrap(), Default::default());
        c.upsert_calendar(
            "SSE",
            &[CalendarDay {
                date: d("2024-01-02"),
                is_open: true,
            }],
        )
        .await
        .unwrap();
        // migrations run again on every open: idempotent
        c.migrate().await.unwrap();
        assert_eq!(c.counts().await.unwrap().calendar_days, 1);
    })
    .await;

    // a reopened SQLite file: the schema is not created twice, rows stay
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    let c = Catalog::open_sqlite(&path).await.unwrap();
    c.upsert_adj_factors(
        "600519.SH",
        &[AdjFactor {
            date: d("2024-01-02"),
            factor: 8.4,
        }],
    )
    .await
    .unwrap();
    c.close().await;
    let c = Catalog::open_sqlite(&path).await.unwrap();
    assert_eq!(c.adj_factors("600519.SH").await.unwrap().len(), 1);
    c.close().await;
}

#[tokio::test]
async fn instruments_round_trip_and_a_rename_replaces_the_row() {
    let list = fixture_instruments();
    assert!(list.len() >= 15, "{} instruments", list.len());
    on_each_backend("instruments", |c| {
        let list = list.clone();
        async move {
            assert_eq!(
                c.upsert_instruments(&list).await.unwrap(),
                list.len() as u64
            );
            let mut want = list.clone();
            want.sort_by(|a, b| a.symbol.cmp(&b.symbol));
            assert_eq!(c.instruments(None).await.unwrap(), want);
            let szse = c.instruments(Some("SZSE")).await.unwrap();
            assert!(!szse.is_empty());
            assert!(szse.iter().all(|i| i.symbol.ends_with(".SZ")));
            assert_eq!(
                szse.len(),
                list.iter().filter(|i| i.exchange == "SZSE").count()
            );

            // a risk warning and a delisting: the same symbol, replaced
            let mut renamed = list[0].clone();
            renamed.name = format!("*ST{}", renamed.name);
            renamed.status = ListStatus::Delisted;
            renamed.delist_date = Some(d("2026-06-30"));
            c.upsert_instruments(std::slice::from_ref(&renamed))
                .await
                .unwrap();
            let all = c.instruments(None).await.unwrap();
            assert_eq!(all.len(), list.len());
            assert!(all.contains(&renamed));
            assert_eq!(c.counts().await.unwrap().instruments, list.len() as u64);
        }
    })
    .await;
}

#[tokio::test]
async fn the_calendar_of_the_sse_composite_gives_back_its_trading_days() {
    // the index trades on every SSE trading day: a real calendar
    let idx = quant_data::load_series(&fixtures().join("cn/index/000001.SH.csv")).unwrap();
    let open: Vec<CalendarDay> = idx
        .dates
        .iter()
        .map(|&date| CalendarDay {
            date,
            is_open: true,
        })
        .collect();
    // and the weekend days between them, closed
    let mut days = open.clone();
    for w in idx.dates.windows(2) {
        let mut x = w[0].succ_opt().unwrap();
        while x < w[1] {
            days.push(CalendarDay {
                date: x,
                is_open: false,
            });
            x = x.succ_opt().unwrap();
        }
    }
    on_each_backend("calendar", |c| {
        let (days, idx_dates) = (days.clone(), idx.dates.clone());
        async move {
            assert_eq!(
                c.upsert_calendar("SSE", &days).await.unwrap(),
                days.len() as u64
            );
            let first = idx_dates[0];
            let last = *idx_dates.last().unwrap();
            assert_eq!(c.trading_days("SSE", first, last).await.unwrap(), idx_dates);
            let all = c.calendar("SSE", first, last).await.unwrap();
            assert_eq!(all.len(), days.len());
            assert!(all.windows(2).all(|w| w[0].date < w[1].date));
            // another exchange, and a range: nothing of SSE leaks
            assert!(
                c.trading_days("SZSE", first, last)
                    .await
                    .unwrap()
                    .is_empty()
            );
            let jan = c
                .trading_days("SSE", d("2021-01-01"), d("2021-01-31"))
                .await
                .unwrap();
            assert_eq!(
                jan,
                idx_dates
                    .iter()
                    .copied()
                    .filter(|x| (d("2021-01-01")..=d("2021-01-31")).contains(x))
                    .collect::<Vec<_>>()
            );
            assert!(!jan.is_empty());
            // a correction: a day marked closed after all
            c.upsert_calendar(
                "SSE",
                &[CalendarDay {
                    date: jan[0],
                    is_open: false,
                }],
            )
            .await
            .unwrap();
            let jan2 = c
                .trading_days("SSE", d("2021-01-01"), d("2021-01-31"))
                .await
                .unwrap();
            assert_eq!(jan2, jan[1..]);
        }
    })
    .await;
}

#[tokio::test]
async fn real_adj_factors_round_trip_bit_for_bit_and_a_bad_batch_writes_nothing() {
    let s = quant_data::load_series(&fixtures().join("cn/daily/000651.SZ.csv")).unwrap();
    let factors: Vec<AdjFactor> = s
        .dates
        .iter()
        .zip(&s.adj_factor)
        .map(|(&date, &factor)| AdjFactor { date, factor })
        .collect();
    assert!(factors.len() > 1000);
    on_each_backend("adj", |c| {
        let factors = factors.clone();
        async move {
            c.upsert_adj_factors("000651.SZ", &factors).await.unwrap();
            let back = c.adj_factors("000651.SZ").await.unwrap();
            assert_eq!(back.len(), factors.len());
            for (a, b) in back.iter().zip(&factors) {
                assert_eq!(a.date, b.date);
                assert_eq!(a.factor.to_bits(), b.factor.to_bits(), "{}", a.date);
            }
            assert!(c.adj_factors("600519.SH").await.unwrap().is_empty());

            // a factor of 0 in the last chunk: the whole call is refused
            let mut bad: Vec<AdjFactor> = factors
                .iter()
                .map(|f| AdjFactor {
                    date: f.date,
                    factor: f.factor * 2.0,
                })
                .collect();
            bad.last_mut().unwrap().factor = 0.0;
            let e = c.upsert_adj_factors("000651.SZ", &bad).await.unwrap_err();
            assert!(matches!(e, Error::Query { .. }), "{e}");
            assert!(e.to_string().contains("upsert adj_factors"), "{e}");
            let after = c.adj_factors("000651.SZ").await.unwrap();
            assert_eq!(after, back, "a failed upsert changed stored rows");
        }
    })
    .await;
}

#[tokio::test]
async fn real_market_caps_round_trip_with_missing_ratios_as_none() {
    let mut r = csv::Reader::from_path(test_data().join("market_cap_monthly.csv")).unwrap();
    let rows: Vec<DailyBasic> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            DailyBasic {
                symbol: rec[1].to_string(),
                date: d(&rec[0]),
                close: Some(rec[2].parse().unwrap()),
                turnover_rate: None,
                pe: None,
                pe_ttm: None,
                pb: None,
                dv_ttm: None,
                total_share: None,
                float_share: None,
                total_mv: Some(rec[3].parse().unwrap()),
                circ_mv: Some(rec[4].parse().unwrap()),
            }
        })
        .collect();
    assert!(
        rows.len() > 400,
        "{} rows: more than one insert chunk",
        rows.len()
    );
    on_each_backend("fundamentals", |c| {
        let rows = rows.clone();
        async move {
            c.upsert_fundamentals(&rows).await.unwrap();
            let mut want: Vec<DailyBasic> = rows
                .iter()
                .filter(|r| r.symbol == "600519.SH")
                .cloned()
                .collect();
            want.sort_by_key(|r| r.date);
            let got = c
                .fundamentals("600519.SH", NaiveDate::MIN, NaiveDate::MAX)
                .await
                .unwrap();
            assert_eq!(got, want);
            let y2021 = c
                .fundamentals("600519.SH", d("2021-01-01"), d("2021-12-31"))
                .await
                .unwrap();
            assert_eq!(y2021.len(), 12);
            // a re-fetch with PE filled in replaces, never duplicates
            let mut again = y2021[0].clone();
            again.pe = Some(55.3);
            c.upsert_fundamentals(std::slice::from_ref(&again))
                .await
                .unwrap();
            let after = c
                .fundamentals("600519.SH", again.date, again.date)
                .await
                .unwrap();
            assert_eq!(after, vec![again]);
            assert_eq!(c.counts().await.unwrap().fundamentals, rows.len() as u64);
        }
    })
    .await;
}

#[tokio::test]
async fn update_history_and_quality_log_tell_what_each_fetch_did() {
    on_each_backend("history", |c| async move {
        let issues = vec![
            Issue {
                symbol: "600519.SH".into(),
                rule: Rule::BadRow,
                date: d("2026-11-05"),
                detail: "high 1.0 below low 2.0".into(),
            },
            Issue {
                symbol: "600519.SH".into(),
                rule: Rule::Gap,
                date: d("2026-11-06"),
                detail: "no bar on a trading day".into(),
            },
        ];
        let first = c
            .record_update(
                &update("600519.SH", UpdateStatus::Ok, Some("2026-11-20"), 1),
                &issues,
            )
            .await
            .unwrap();
        let failed = c
            .record_update(&update("600519.SH", UpdateStatus::Failed, None, 2), &[])
            .await
            .unwrap();
        let other = c
            .record_update(
                &update("000651.SZ", UpdateStatus::Ok, Some("2026-11-19"), 3),
                &[],
            )
            .await
            .unwrap();
        assert!(first < failed && failed < other);

        let all = c.update_history(None, 10).await.unwrap();
        assert_eq!(
            all.iter().map(|u| u.id).collect::<Vec<_>>(),
            vec![other, failed, first],
            "newest first"
        );
        let mut want = update("600519.SH", UpdateStatus::Ok, Some("2026-11-20"), 1);
        want.id = first;
        assert_eq!(all[2], want);
        assert_eq!(all[1].provider, None);
        assert_eq!(
            c.update_history(Some("600519.SH"), 10).await.unwrap().len(),
            2
        );
        assert_eq!(c.update_history(None, 1).await.unwrap().len(), 1);

        // the failed update does not move the last good date
        assert_eq!(
            c.last_good_date("cn", "daily", "600519.SH").await.unwrap(),
            Some(d("2026-11-20"))
        );
        assert_eq!(
            c.last_good_date("cn", "index", "600519.SH").await.unwrap(),
            None
        );
        assert_eq!(
            c.last_good_date("cn", "daily", "601398.SH").await.unwrap(),
            None
        );

        let log = c.quality_log(Some("600519.SH"), None).await.unwrap();
        assert_eq!(log.len(), 2);
        assert!(log.iter().all(|e| e.update_id == Some(first)));
        assert_eq!(log[0].issue, issues[0]);
        assert_eq!(log[1].issue, issues[1]);
        let gaps = c.quality_log(None, Some(Rule::Gap)).await.unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].issue.rule, Rule::Gap);

        // issues of a validate run: no update
        c.log_quality(&issues[..1]).await.unwrap();
        let bad = c.quality_log(None, Some(Rule::BadRow)).await.unwrap();
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[1].update_id, None);
        let n = c.counts().await.unwrap();
        assert_eq!((n.updates, n.quality_issues), (3, 3));
    })
    .await;
}

#[tokio::test]
async fn a_hand_edited_value_is_reported_with_table_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    let c = Catalog::open_sqlite(&path).await.unwrap();
    c.record_update(
        &update("600519.SH", UpdateStatus::Ok, Some("2026-11-20"), 1),
        &[],
    )
    .await
    .unwrap();
    c.close().await;
    sqlx::any::install_default_drivers();
    let raw = sqlx::AnyPool::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE update_history SET last_date = '20/11/2026'")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    let c = Catalog::open_sqlite(&path).await.unwrap();
    let e = c.update_history(None, 5).await.unwrap_err().to_string();
    assert!(
        e.contains("update_history") && e.contains("last_date") && e.contains("20/11/2026"),
        "{e}"
    );
    let e = c
        .last_good_date("cn", "daily", "600519.SH")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("last_date"), "{e}");
}

#[tokio::test]
async fn unsupported_and_unreachable_catalogs_are_named() {
    let e = Catalog::connect("mysql://root@127.0.0.1/test")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Url(_)), "{e}");
    assert!(e.to_string().contains("sqlite:"), "{e}");

    // a closed port; the password never shows in the message
    let e = Catalog::connect("postgres://quant:hunter2@127.0.0.1:1/none")
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Connect { .. }), "{msg}");
    assert!(
        msg.contains("127.0.0.1:1") && !msg.contains("hunter2"),
        "{msg}"
    );

    // a file where the folder should be
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    let e = Catalog::open_sqlite(&dir.path().join("file/catalog.sqlite"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e}");
}

#[tokio::test]
async fn a_snapshot_of_an_sqlite_catalog_opens_with_the_same_rows() {
    on_each_backend("snapshot", |c| async move {
        c.record_update(
            &update("600519.SH", UpdateStatus::Ok, Some("2026-11-20"), 1),
            &[],
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("snap.sqlite");
        match c.backend() {
            quant_catalog::Backend::Sqlite => {
                c.snapshot_sqlite(&dest).await.unwrap();
                let s = Catalog::open_sqlite(&dest).await.unwrap();
                assert_eq!(
                    s.update_history(None, 5).await.unwrap(),
                    c.update_history(None, 5).await.unwrap()
                );
                s.close().await;
            }
            quant_catalog::Backend::Postgres => {
                let e = c.snapshot_sqlite(&dest).await.unwrap_err();
                assert!(matches!(e, Error::SqliteOnly { .. }), "{e}");
                assert!(!dest.exists());
            }
        }
    })
    .await;
}
