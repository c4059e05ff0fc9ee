//! Every provider's reply decoder on any body. The first byte picks the
//! decoder (TuShare, Eastmoney, Yahoo, Binance and their list/error
//! forms); the rest is the body as the server would send it.
#![no_main]

use chrono::{NaiveDate, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use quant_providers::{BarRequest, binance, eastmoney, tushare, yahoo};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let req = |symbol: &str| BarRequest {
        symbol: symbol.into(),
        start: day(2000, 1, 1),
        end: day(2030, 12, 31),
    };
    match pick % 12 {
        0 => drop(tushare::decode_bars("daily", &req("600519.SH"), body)),
        1 => drop(eastmoney::decode_klines(&req("600519.SH"), body)),
        2 => drop(yahoo::decode_chart(&req("SPY"), body)),
        3 => {
            let start = Utc.timestamp_millis_opt(0).single().unwrap_or_default();
            let end = Utc.timestamp_millis_opt(4_102_444_800_000).single().unwrap_or_default();
            drop(binance::decode_klines(body, start, end));
        }
        4 => drop(tushare::decode_page("daily", body)),
        5 => drop(tushare::decode_adj_factors(&req("600519.SH"), body)),
        6 => drop(tushare::decode_daily_basic(&req("600519.SH"), body)),
        7 => drop(tushare::decode_trade_cal("SSE", day(2000, 1, 1), day(2030, 12, 31), body)),
        8 => drop(tushare::decode_stock_basic("L", body)),
        9 => drop(eastmoney::decode_clist(body)),
        10 => drop(yahoo::decode_error_body(body)),
        _ => drop(binance::decode_error_body(body)),
    }
});
