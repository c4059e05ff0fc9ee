//! Fetch into the store: incremental updates, quarantine, and a store that
//! survives provider errors and an interrupted write.

use std::sync::Arc;

use quant_data::quality::{QualityConfig, Rule};
use quant_providers::eastmoney::Eastmoney;
use quant_providers::update::{fetch_into_store, incremental_request, stored_path, stored_symbols};
use quant_providers::{BarRequest, DataProvider, Failover};
use serde_json::json;

use crate::fake::{Scripted, fast, fixture};

fn chain(url: &str) -> Failover {
    let em: Arc<dyn DataProvider> = Arc::new(Eastmoney::new(&fast(), url).unwrap());
    Failover::new(vec![em])
}

/// Fetches `req` into `store` (market `cn`, default thresholds, no
/// calendar) in one store transaction, committed when the fetch succeeds.
async fn fetch(
    chain: &Failover,
    store: &tempfile::TempDir,
    req: &BarRequest,
) -> quant_providers::Result<quant_providers::update::FetchOutcome> {
    let s = quant_data::commit::Store::open(store.path())?;
    let mut txn = s.begin()?;
    let out = fetch_into_store(
        chain,
        &mut txn,
        "cn",
        req,
        false,
        None,
        QualityConfig::default(),
        false,
    )
    .await?;
    txn.commit()?;
    Ok(out)
}

fn req(start: &str, end: &str) -> BarRequest {
    BarRequest {
        symbol: "000001.SZ".into(),
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
    }
}

#[tokio::test]
async fn incremental_update_equals_one_full_fetch() {
    let (url, script) = crate::eastmoney_fake().await;
    let store = tempfile::tempdir().unwrap();
    let chain = chain(&url);
    let first = fetch(&chain, &store, &req("2019-01-01", "2019-03-31"))
        .await
        .unwrap();
    assert_eq!(first.provider, "eastmoney");
    assert_eq!(
        (first.fetched, first.stored, first.quarantined),
        (58, 58, 0)
    );
    let today = "2019-06-30".parse().unwrap();
    let next = incremental_request(
        store.path(),
        "cn",
        "000001.SZ",
        false,
        "2010-01-01".parse().unwrap(),
        today,
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        next.start.to_string(),
        "2019-03-30",
        "the day after the last stored bar (a Friday)"
    );
    let second = fetch(&chain, &store, &next).await.unwrap();
    assert_eq!(second.stored, 118);
    assert!(script.requests().last().unwrap().contains("beg=20190330"));

    let stored =
        quant_data::parquet_io::read_parquet(&stored_path(store.path(), "cn", "000001.SZ", false))
            .unwrap();
    let want: Vec<_> = fixture("cn/daily/000001.SZ")
        .into_iter()
        .filter(|b| b.date >= req("2019-01-01", "2019-06-30").start && b.date <= today)
        .collect();
    assert_eq!(
        stored.dates,
        want.iter().map(|b| b.date).collect::<Vec<_>>()
    );
    assert_eq!(
        stored.close,
        want.iter().map(|b| b.close).collect::<Vec<_>>()
    );
    assert_eq!(
        stored_symbols(store.path(), "cn", false).unwrap(),
        ["000001.SZ"]
    );
    let last = *stored.dates.last().unwrap();
    assert!(
        incremental_request(store.path(), "cn", "000001.SZ", false, today, last)
            .unwrap()
            .is_none(),
        "already current"
    );
}

#[tokio::test]
async fn provider_errors_leave_the_store_unchanged() {
    let (url, script) = crate::eastmoney_fake().await;
    let store = tempfile::tempdir().unwrap();
    let chain = chain(&url);
    fetch(&chain, &store, &req("2019-01-01", "2019-03-31"))
        .await
        .unwrap();
    let path = stored_path(store.path(), "cn", "000001.SZ", false);
    let before = std::fs::read(&path).unwrap();
    for reply in [
        Scripted::status(200, "{\"rc\":0,\"data\":{\"klines\":[\"2019-04-01,1"),
        Scripted::status(404, "not found"),
    ] {
        script.push(reply);
        let e = fetch(&chain, &store, &req("2019-04-01", "2019-06-30"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("eastmoney"), "{e}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "stored file untouched"
        );
    }
}

#[tokio::test]
async fn bad_rows_are_quarantined_not_stored() {
    let (url, script) = crate::eastmoney_fake().await;
    let store = tempfile::tempdir().unwrap();
    script.push(Scripted::json(json!({"rc": 0, "data": {"klines": [
        "2019-01-02,9.39,9.19,9.42,9.16,1481159,1380000000.00,0,0,0,0",
        "2019-01-03,9.18,9.28,9.33,9.40,1233763,1150000000.00,0,0,0,0",
        "2019-01-04,9.24,9.75,9.82,9.22,1597013,1540000000.00,0,0,0,0"
    ]}})));
    let out = fetch(&chain(&url), &store, &req("2019-01-01", "2019-01-04"))
        .await
        .unwrap();
    assert_eq!((out.fetched, out.stored, out.quarantined), (3, 2, 1));
    assert_eq!(out.report.issues[0].rule, Rule::BadRow);
    let q =
        std::fs::read_to_string(store.path().join("quarantine/cn/daily/000001.SZ.csv")).unwrap();
    assert!(
        q.starts_with(
            "date,open,high,low,close,pre_close,volume,amount,adj_factor,reason\n2019-01-03,"
        ),
        "{q}"
    );
    assert!(q.contains("low 9.4 is above"), "{q}");
    let stored = quant_data::parquet_io::read_parquet(&out.path).unwrap();
    assert_eq!(stored.dates.len(), 2);
}

/// What earlier versions' per-file writes left when killed — a stray
/// temporary file beside the last good one — still loads, is removed at
/// the next open, and the next update works.
#[tokio::test]
async fn an_interrupted_write_leaves_a_loadable_store() {
    let (url, _) = crate::eastmoney_fake().await;
    let store = tempfile::tempdir().unwrap();
    let chain = chain(&url);
    fetch(&chain, &store, &req("2019-01-01", "2019-03-31"))
        .await
        .unwrap();
    let path = stored_path(store.path(), "cn", "000001.SZ", false);
    let good = std::fs::read(&path).unwrap();
    // what a kill during `write_atomic` leaves: half a Parquet file under a temporary name
    let stray = path.parent().unwrap().join(".write-killed.tmp");
    std::fs::write(&stray, &good[..good.len() / 2]).unwrap();
    let all = quant_data::store::load_store(store.path()).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].len(), 58);
    fetch(&chain, &store, &req("2019-04-01", "2019-06-30"))
        .await
        .unwrap();
    assert!(!stray.exists(), "cleaned at the next open");
    assert_eq!(
        quant_data::store::load_store(store.path()).unwrap()[0].len(),
        118
    );
}

/// A second source in-process: the real bars with one close moved 1 % and
/// one day missing.
struct Disagreeing(Vec<quant_core::Bar>);

#[async_trait::async_trait]
impl DataProvider for Disagreeing {
    fn name(&self) -> &str {
        "second"
    }

    async fn daily_bars(&self, req: &BarRequest) -> quant_providers::Result<Vec<quant_core::Bar>> {
        Ok(self
            .0
            .iter()
            .filter(|b| b.date >= req.start && b.date <= req.end)
            .copied()
            .collect())
    }
}

#[tokio::test]
async fn a_second_provider_cross_checks_what_was_stored() {
    let (url, _script) = crate::eastmoney_fake().await;
    let store = tempfile::tempdir().unwrap();
    let mut bars = fixture("cn/daily/000001.SZ");
    let moved: chrono::NaiveDate = "2019-02-12".parse().unwrap();
    let missing: chrono::NaiveDate = "2019-03-05".parse().unwrap();
    for b in &mut bars {
        if b.date == moved {
            b.close *= 1.01;
        }
    }
    bars.retain(|b| b.date != missing);
    let em: Arc<dyn DataProvider> = Arc::new(Eastmoney::new(&fast(), &url).unwrap());
    let chain = Failover::new(vec![em.clone(), Arc::new(Disagreeing(bars))]);
    let r = req("2019-01-01", "2019-03-31");
    let out = fetch(&chain, &store, &r).await.unwrap();
    assert_eq!(out.provider, "eastmoney");
    let s = quant_data::commit::Store::open(store.path()).unwrap();
    let txn = s.begin().unwrap();
    let (who, report) = quant_providers::update::cross_check(
        &chain,
        &out.provider,
        &txn,
        "cn",
        &r,
        false,
        QualityConfig::default(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(who, "second");
    let dates: Vec<_> = report.issues.iter().map(|i| (i.rule, i.date)).collect();
    assert_eq!(
        dates,
        vec![(Rule::Disagreement, moved), (Rule::Disagreement, missing)],
        "{report:?}"
    );
    // a chain with nobody else: no second opinion, no error
    let alone = Failover::new(vec![em]);
    let none = quant_providers::update::cross_check(
        &alone,
        "eastmoney",
        &txn,
        "cn",
        &r,
        false,
        QualityConfig::default(),
    )
    .await
    .unwrap();
    assert!(none.is_none());
}
