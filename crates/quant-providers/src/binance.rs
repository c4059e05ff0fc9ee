//! Binance spot klines: `GET /api/v3/klines`
//! (`shared/docs/protocols/binance-klines.md`).
//!
//! Rows are arrays `[open time ms, "open", "high", "low", "close",
//! "volume", close time ms, "quote volume", trades, …]`, oldest first, at
//! most 1000 per call; pages continue from the last open time + 1 ms. The
//! last kline is dropped while still open (close time in the future). Errors
//! come as `{"code": -1121, "msg": "Invalid symbol."}` with a 4xx status;
//! 429 is throttling (honouring `Retry-After`), 418 an IP ban (not retried).
//!
//! Paging is capped at `max_pages` and each page must open after the last
//! kline of the one before (else [`Error::Pagination`]); every kline must
//! open inside the requested window (the symbol is implied by the
//! request). [`decode_klines`] is a pure function of the reply bytes.

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

/// The klines of one reply in sent order, without checks against a
/// request.
fn parse_rows(body: &[u8]) -> Result<Vec<Kline>> {
    let rows: Vec<Vec<Value>> = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("not an array of klines: {e}")))?;
    let mut out: Vec<Kline> = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let (Some(t0), Some(o), Some(h), Some(l), Some(c), Some(v), Some(t1), Some(qv), Some(n)) = (
            r.first(),
            r.get(1),
            r.get(2),
            r.get(3),
            r.get(4),
            r.get(5),
            r.get(6),
            r.get(7),
            r.get(8),
        ) else {
            return Err(malformed(format!(
                "kline {i} has {} fields, expected 12",
                r.len()
            )));
        };
        let k = Kline {
            open_time: ms_time(t0, "open time", i)?,
            open: dec(o, "open", i)?,
            high: dec(h, "high", i)?,
            low: dec(l, "low", i)?,
            close: dec(c, "close", i)?,
            volume: dec(v, "volume", i)?,
            close_time: ms_time(t1, "close time", i)?,
            quote_volume: dec(qv, "quote volume", i)?,
            trades: n
                .as_u64()
                .ok_or_else(|| malformed(format!("kline {i}: trades is not a count: {n}")))?,
        };
        if k.close_time < k.open_time {
            return Err(malformed(format!(
                "kline {i}: close time {} is before open time {}",
                k.close_time, k.open_time
            )));
        }
        if let Some(p) = out.last()
            && p.open_time >= k.open_time
        {
            return Err(malformed(format!(
                "kline {i}: open time {} is not after the previous {}",
                k.open_time, p.open_time
            )));
        }
        out.push(k);
    }
    Ok(out)
}

/// Every kline opens inside `[start, end]`.
fn check_window(rows: &[Kline], start: DateTime<Utc>, end: DateTime<Utc>) -> Result<()> {
    for (i, k) in rows.iter().enumerate() {
        if k.open_time < start || k.open_time > end {
            return Err(malformed(format!(
                "kline {i}: open time {} is outside the requested {start}..{end}",
                k.open_time
            )));
        }
    }
    Ok(())
}

/// Decodes one page of klines asked for with open times in `[start,
/// end]`: every kline must open inside it, after the one before. Pure:
/// any bytes give klines or an error, never a panic.
///
/// # Errors
/// [`Error::Malformed`] naming the kline and field: not an array of
/// klines, a short row, a price that is not a decimal string, a time that
/// is not milliseconds, open times not increasing, a kline outside the
/// window.
pub fn decode_klines(body: &[u8], start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Vec<Kline>> {
    let rows = parse_rows(body)?;
    check_window(&rows, start, end)?;
    Ok(rows)
}

/// Binance's own error reply (`{"code": -1121, "msg": …}`, sent with a
/// 4xx) as an [`Error::Api`]; `None` for any other body.
pub fn decode_error_body(body: &[u8]) -> Option<Error> {
    let a = serde_json::from_slice::<ApiError>(body).ok()?;
    Some(Error::Api {
        provider: "binance".into(),
        call: "klines".into(),
        code: a.code,
        msg: a.msg,
    })
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
        let mut pager = self.http.pager("klines");
        let mut out: Vec<Kline> = Vec::new();
        let mut from = start.timestamp_millis();
        let to = end.timestamp_millis();
        while from <= to {
            let page = pager.next_page()?;
            let window = (DateTime::from_timestamp_millis(from).unwrap_or(start), end);
            let last = out.last().map(|k| k.open_time);
            let query = [
                ("symbol", sym.clone()),
                ("interval", interval.to_string()),
                ("startTime", from.to_string()),
                ("endTime", to.to_string()),
                ("limit", LIMIT.to_string()),
            ];
            let rows = self
                .http
                .call(
                    "klines",
                    |c| c.get(&url).query(&query),
                    |r| {
                        let rows = parse_rows(&r.body)?;
                        // each page starts after the last: else it repeats
                        if let (Some(first), Some(last)) = (rows.first(), last)
                            && first.open_time <= last
                        {
                            return Err(pager.fault(format!(
                                "page {page} repeats or overlaps the previous one: it opens at {}, not after {last}",
                                first.open_time
                            )));
                        }
                        check_window(&rows, window.0, window.1)?;
                        Ok(rows)
                    },
                )
                .await
                // Binance's own error body on a 4xx
                .map_err(|e| e.or_api_body(|body| decode_error_body(body.as_bytes())))?;
            let n = rows.len();
            if let Some(last) = rows.last() {
                // strictly later: the window check put it at or after `from`
                from = last.open_time.timestamp_millis().saturating_add(1);
            }
            out.extend(rows);
            if n < LIMIT {
                break;
            }
        }
        // the last kline may still be forming
        let now = Utc::now();
        while out.last().is_some_and(|k| k.close_time > now) {
            out.pop();
        }
        Ok(out)
    }
}
