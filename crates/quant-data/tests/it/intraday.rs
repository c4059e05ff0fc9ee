//! The shipped intraday fixtures read as they are: 5-minute A-share ETFs
//! stamped at their end in Beijing time, hourly BTC-USDT stamped at its
//! open in UTC.

use quant_core::{Exchange, Interval, Sessions, StampAt};
use quant_data::intraday::read_intraday_csv;

use super::fixtures;

#[test]
fn five_minute_etfs_have_48_bars_a_day_inside_the_sessions() {
    for (sym, ex) in [
        ("510300.SH", Exchange::Sse),
        ("518880.SH", Exchange::Sse),
        ("159915.SZ", Exchange::Szse),
    ] {
        let s = read_intraday_csv(&fixtures().join(format!("cn/minute/5m/{sym}.csv")), ex).unwrap();
        assert_eq!((s.interval, s.stamped_at), (Interval::M5, StampAt::Close));
        assert!(s.len() > 23_000, "{sym}: {}", s.len());
        let sessions = Sessions::of(ex);
        let mut per_day = std::collections::BTreeMap::new();
        for i in 0..s.len() {
            assert!(sessions.holds_bar(s.close_times[i], Interval::M5));
            *per_day.entry(s.trading_day(i).unwrap()).or_insert(0) += 1;
        }
        assert!(per_day.values().all(|n| *n == 48), "{sym}");
        // the first bar of the first day ends at 09:35 Beijing = 01:35 UTC
        assert!(
            s.close_times[0].to_string().ends_with("T01:35:00Z"),
            "{}",
            s.close_times[0]
        );
        assert!(s.close_times[47].to_string().ends_with("T07:00:00Z"));
    }
}

#[test]
fn hourly_btc_bars_close_an_hour_after_their_stamp() {
    let s = read_intraday_csv(
        &fixtures().join("crypto/hourly/BTC-USDT.csv"),
        Exchange::Crypto,
    )
    .unwrap();
    assert_eq!((s.interval, s.stamped_at), (Interval::H1, StampAt::Open));
    assert_eq!(
        s.len(),
        8747,
        "2021, less the hours Binance has no kline for"
    );
    assert_eq!(s.close_times[0].to_string(), "2021-01-01T01:00:00Z");
    assert_eq!(s.trading_day(0), "2021-01-01".parse().ok());
    let last = s.len() - 1;
    assert_eq!(s.close_times[last].to_string(), "2022-01-01T00:00:00Z");
    assert_eq!(s.trading_day(last), "2021-12-31".parse().ok());
}
