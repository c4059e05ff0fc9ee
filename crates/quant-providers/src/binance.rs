//! Binance spot klines: `GET /api/v3/klines`
//! (`shared/docs/protocols/binance-klines.md`).
//!
//! Rows are arrays `[open time ms, "open", "high", "low", "close",
//! "volume", close time ms, "quote volume", trades, …]`, oldest first, at
//! most 1000 per call; pages continue from the last open time + 1 ms. The
//! last kline is dropped while still open (close time in the future). Errors
//! come as `{"code": -1121, "msg": "Invalid symbol."}` with a 4xx status;
//! 429 is throttling (honouring `Retry-After`), 418 an IP ban (not retried).

use async_trait::async_trait;
use chrono::{DateTime, NaiveTime, Utc};
use quant_core::Bar;
use serde::Deserialize;
use serde_json::Value;

use crate::config::ClientSettings;
use crate::error::{Error, Result};
use crate::http::{Limits, Transport};
use crate::{BarRequest, DataProvider, Kline};

/// Production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.binance.com";

/// Largest reply read by default, bytes (1000 klines are about 200 KiB).
pub const MAX_BODY_BYTES: u64 = 2 << 20;

/// Most pages of one call by default (1000 klines each: 1000 pages are
/// about two years of 1-minute klines).
pub const MAX_PAGES: u32 = 1000;

/// Klines per call (the maximum).
const LIMIT: usize = 1000;

/// The intervals Binance accepts.
pub const INTERVALS: [&str; 16] = [
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1M",
];

/// A Binance spot market-data client (public endpoints, no key).
#[derive(Debug)]
pub struct Binance {
    http: Transport,
    base_url: String,
}

#[derive(Deserialize)]
struct ApiError {
    code: i64,
    msg: String,
}

/// `BTC-USDT` → `BTCUSDT`.
pub fn venue_symbol(symbol: &str) -> String {
    symbol.replace(['-', '/'], "").to_ascii_uppercase()
}

fn malformed(detail: String) -> Error {
    Error::Malformed {
        provider: "binance".into(),
        call: "klines".into(),
        detail,
    }
}

fn ms_time(v: &Value, what: &str, row: usize) -> Result<DateTime<Utc>> {
    v.as_i64()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(|| {
            malformed(format!(
                "kline {row}: {what} is not a millisecond time: {v}"
            ))
        })
}

fn dec(v: &Value, what: &str, row: usize) -> Result<f64> {
    let s = v
        .as_str()
        .ok_or_else(|| malformed(format!("kline {row}: {what} is not a decimal string: {v}")))?;
    s.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| malformed(format!("kline {row}: {what} is not a number: {s:?}")))
}

/// Parses one page of klines.
fn parse_klines(body: &[u8]) -> Result<Vec<Kline>> {
    let rows: Vec<Vec<Value>> = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("not an array of klines: {e}")))?;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            if r.len() < 9 {
                return Err(malformed(format!(
                    "kline {i} has {} fields, expected 12",
                    r.len()
                )));
            }
            Ok(Kline {
                open_time: ms_time(&r[0], "open time", i)?,
                open: dec(&r[1], "open", i)?,
                high: dec(&r[2], "high", i)?,
                low: dec(&r[3], "low", i)?,
                close: dec(&r[4], "close", i)?,
                volume: dec(&r[5], "volume", i)?,
                close_time: ms_time(&r[6], "close time", i)?,
                quote_volume: dec(&r[7], "quote volume", i)?,
                trades: r[8].as_u64().ok_or_else(|| {
                    malformed(format!("kline {i}: trades is not a count: {}", r[8]))
                })?,
            })
        })
        .collect()
}

impl Binance {
    /// A client for `base_url` (production, testnet or a local fake).
    ///
    /// # Errors
    /// [`Error::Config`] when the HTTP client cannot be built.
    pub fn new(settings: &ClientSettings, base_url: &str) -> Result<Self> {
        Ok(Self {
            http: Transport::with_limits(
                "binance",
                settings,
                Limits {
                    max_body_bytes: MAX_BODY_BYTES,
                    max_pages: MAX_PAGES,
                },
            )?,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }
}

#[async_trait]
impl DataProvider for Binance {
    fn name(&self) -> &str {
        "binance"
    }

    /// `1d` klines as bars on UTC days: volume in the base coin, amount in
    /// the quote asset.
    async fn daily_bars(&self, req: &BarRequest) -> Result<Vec<Bar>> {
        let start = req.start.and_time(NaiveTime::MIN).and_utc();
        let end = req
            .end
            .and_hms_milli_opt(23, 59, 59, 999)
            .map_or(start, |t| t.and_utc());
        let klines = self.klines(&req.symbol, "1d", start, end).await?;
        Ok(klines
            .into_iter()
            .map(|k| Bar {
                date: k.open_time.date_naive(),
                open: k.open,
                high: k.high,
                low: k.low,
                close: k.close,
                pre_close: f64::NAN,
                volume: k.volume,
                amount: k.quote_volume,
                adj_factor: 1.0,
            })
            .collect())
    }

    async fn klines(
        &self,
        symbol: &str,
        interval: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Kline>> {
        if !INTERVALS.contains(&interval) {
            return Err(Error::Api {
                provider: "binance".into(),
                call: "klines".into(),
                code: -1120,
                msg: format!(
                    "invalid interval {interval:?}; one of {}",
                    INTERVALS.join(", ")
                ),
            });
        }
        let url = format!("{}/api/v3/klines", self.base_url);
        let sym = venue_symbol(symbol);
        let mut out: Vec<Kline> = Vec::new();
        let mut from = start.timestamp_millis();
        let to = end.timestamp_millis();
        while from <= to {
            let query = [
                ("symbol", sym.clone()),
                ("interval", interval.to_string()),
                ("startTime", from.to_string()),
                ("endTime", to.to_string()),
                ("limit", LIMIT.to_string()),
            ];
            let page = self
                .http
                .call(
                    "klines",
                    |c| c.get(&url).query(&query),
                    |r| parse_klines(&r.body),
                )
                .await
                // Binance's own error body on a 4xx
                .map_err(|e| {
                    e.or_api_body(|body| {
                        let a = serde_json::from_str::<ApiError>(body).ok()?;
                        Some(Error::Api {
                            provider: "binance".into(),
                            call: "klines".into(),
                            code: a.code,
                            msg: a.msg,
                        })
                    })
                })?;
            let n = page.len();
            if let Some(last) = page.last() {
                if out.last().is_some_and(|p| p.open_time >= page[0].open_time) {
                    return Err(malformed("pages overlap or go backwards".into()));
                }
                from = last.open_time.timestamp_millis() + 1;
            }
            out.extend(page);
            if n < LIMIT {
                break;
            }
        }
        // the last kline may still be forming
        let now = Utc::now();
        while out.last().is_some_and(|k| k.close_time > now) {
            out.pop();
        }
        if out.windows(2).any(|w| w[0].open_time >= w[1].open_time) {
            return Err(malformed("open times are not strictly increasing".into()));
        }
        Ok(out)
    }
}
