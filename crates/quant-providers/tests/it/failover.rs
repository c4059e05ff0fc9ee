//! Failover: the primary fails, the backup serves, and the result says who
//! served and why the primary did not.

use std::sync::Arc;

use quant_providers::eastmoney::Eastmoney;
use quant_providers::tushare::TuShare;
use quant_providers::{BarRequest, DataConfig, DataProvider, Error, Failover};

use crate::fake::{dead_url, fast};

fn req() -> BarRequest {
    BarRequest {
        symbol: "000001.SZ".into(),
        start: "2019-01-01".parse().unwrap(),
        end: "2019-06-30".parse().unwrap(),
    }
}

#[tokio::test]
async fn backup_serves_when_the_primary_is_down() {
    // the primary: nothing listens there (connection refused, retried, then given up)
    let primary: Arc<dyn DataProvider> =
        Arc::new(TuShare::new(&fast(), &dead_url().await, "t0k").unwrap());
    let (em_url, _) = crate::eastmoney_fake().await;
    let backup: Arc<dyn DataProvider> = Arc::new(Eastmoney::new(&fast(), &em_url).unwrap());
    let chain = Failover::new(vec![primary, backup]);
    assert_eq!(chain.names(), ["tushare", "eastmoney"]);
    let served = chain.daily_bars(&req()).await.unwrap();
    assert_eq!(served.provider, "eastmoney");
    assert_eq!(served.data.len(), 118);
    assert_eq!(served.failed.len(), 1);
    assert_eq!(served.failed[0].0, "tushare");
    assert!(
        served.failed[0].1.contains("request to"),
        "{}",
        served.failed[0].1
    );

    // data the backup does not have moves on too, and all failing is one error
    let e = chain.adj_factors(&req()).await.unwrap_err();
    let Error::AllFailed(list) = &e else {
        panic!("{e}")
    };
    assert_eq!(list.len(), 2);
    assert!(
        list[1]
            .1
            .contains("eastmoney does not provide adjustment factors"),
        "{e}"
    );
}

#[tokio::test]
async fn chain_from_data_toml_and_offline() {
    let (em_url, script) = crate::eastmoney_fake().await;
    let text = format!(
        "[providers.eastmoney]\nbase_url = \"{em_url}\"\nmax_attempts = 2\n[providers.binance]\n[markets.cn]\nprimary = \"eastmoney\"\n"
    );
    let cfg = DataConfig::parse(&text, "data.toml").unwrap();
    let chain = cfg.chain("cn", false).unwrap();
    assert_eq!(
        chain.daily_bars(&req()).await.unwrap().provider,
        "eastmoney"
    );
    let offline = cfg.chain("cn", true).unwrap();
    let before = script.requests().len();
    let e = offline.daily_bars(&req()).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("offline mode refuses network access"),
        "{e}"
    );
    assert_eq!(script.requests().len(), before, "offline sends nothing");
}

#[test]
fn the_shipped_data_toml_leaves_the_caps_to_each_provider() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/data.toml");
    let cfg = DataConfig::from_file(&path).unwrap();
    for p in ["tushare", "eastmoney", "yahoo", "binance"] {
        let s = cfg.settings(p, true);
        assert_eq!((s.max_body_bytes, s.max_pages), (None, None), "{p}");
    }
    assert_eq!(quant_providers::binance::MAX_BODY_BYTES, 2 << 20);
    assert_eq!(quant_providers::tushare::MAX_PAGES, 100);
}
