//! Eastmoney's K-line endpoint, the source AKShare uses
//! (`shared/docs/protocols/eastmoney-akshare.md`).
//!
//! `GET /api/qt/stock/kline/get?secid=1.600519&klt=101&fqt=0&beg=YYYYMMDD
//! &end=YYYYMMDD&fields1=f1,…&fields2=f51,…`. Reply `{"rc": 0, "data":
//! {"klines": ["date,open,close,high,low,vol,amount,…", …]}}` — note close
//! before high and low; volume in 手 (×100 → shares), amount in CNY. `data:
//! null` is "no rows", not an error; `rc != 0` is an API error. Rows
//! ascending; suspended days absent. Prices from `fqt=1/2` are Eastmoney's
//! own forward/backward adjustment (they change after every corporate
//! action): [`Eastmoney::daily_bars_adjusted`] exposes them, while
//! [`DataProvider::daily_bars`] returns raw prices (factor 1: this source
//! has no factors).
//!
//! The stock list comes from the snapshot endpoint `GET
//! /api/qt/clist/get?pn=…&pz=100&po=1&np=1&fltt=2&invt=2&fid=f12&fs=…
//! &fields=f12,f13,f14` on the `push2` host: reply `{"rc": 0, "data":
//! {"total": N, "diff": [{"f12": "000001", "f13": 0, "f14": "平安银行"},
//! …]}}`, paged until `total` rows have come. It lists only names trading
//! now (no delisted ones, no list dates): TuShare's `stock_basic` is the
//! survivorship-free source.
//!
//! Every K-line row must be of the requested instrument (the reply's
//! `code`/`market`, when given) and inside the requested dates; `clist`
//! pages stop at `total` or `max_pages`, and a page repeating a code is an
//! [`Error::Pagination`]. [`decode_klines`] and [`decode_clist`] are pure
//! functions of the reply bytes.

use async_trait::async_trait;
use chrono::NaiveDate;
use quant_core::{Bar, Board, Instrument, Symbol};
use serde::Deserialize;

use crate::config::ClientSettings;
use crate::error::{Error, Result};
use crate::http::{Limits, Transport};
use crate::{BarRequest, DataProvider, ListStatus, ListedInstrument};

/// The K-line host.
pub const DEFAULT_BASE_URL: &str = "https://push2his.eastmoney.com";

/// Largest reply read by default, bytes (a stock's whole daily history is
/// under 1 MiB).
pub const MAX_BODY_BYTES: u64 = 8 << 20;

/// Most `clist` pages of one stock list by default (the A-share market is
/// about 55 pages of 100).
pub const MAX_PAGES: u32 = 200;

/// The snapshot (stock list) host.
pub const DEFAULT_LIST_URL: &str = "https://push2.eastmoney.com";

/// Every A-share board for `clist`'s `fs`: SZ main, ChiNext, SH main, STAR,
/// Beijing.
const ALL_A_SHARES: &str = "m:0 t:6,m:0 t:80,m:1 t:2,m:1 t:23,m:0 t:81 s:2048";

/// Rows per `clist` page (the server caps larger pages).
const LIST_PAGE: usize = 100;

/// The static public token the Eastmoney web page sends.
const UT: &str = "7eea3edcaed734bea9cbfc24409ed989";

/// Price adjustment Eastmoney applies (`fqt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjust {
    /// Raw exchange prices (`fqt=0`).
    None,
    /// Forward-adjusted, 前复权 (`fqt=1`).
    Forward,
    /// Backward-adjusted, 后复权 (`fqt=2`).
    Backward,
}

/// An Eastmoney K-line client.
#[derive(Debug)]
pub struct Eastmoney {
    http: Transport,
    base_url: String,
    list_url: String,
}

#[derive(Deserialize)]
struct ListEnvelope {
    rc: i64,
    data: Option<ListData>,
}

#[derive(Deserialize)]
struct ListData {
    total: u64,
    #[serde(default)]
    diff: Vec<ListRow>,
}

#[derive(Deserialize)]
struct ListRow {
    f12: String,
    f13: i64,
    f14: String,
}

/// One `clist` page: the instruments on it and the market's `total`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    /// Rows the whole list has, as the server says.
    pub total: u64,
    /// This page's instruments, in reply order.
    pub rows: Vec<ListedInstrument>,
}

fn list_malformed(detail: String) -> Error {
    Error::Malformed {
        provider: "eastmoney".into(),
        call: "clist".into(),
        detail,
    }
}

/// One `clist` row as an instrument: market id 1 is Shanghai; 0 is
/// Shenzhen, or Beijing for BSE codes (43…, 83…, 87…, 88…, 92…). The code
/// must be six digits.
fn listed(i: usize, row: ListRow) -> Result<ListedInstrument> {
    if !(row.f12.len() == 6 && row.f12.bytes().all(|b| b.is_ascii_digit())) {
        return Err(list_malformed(format!(
            "row {i}: code {:?} is not six digits",
            row.f12
        )));
    }
    let bse = ["43", "83", "87", "88", "92"]
        .iter()
        .any(|p| row.f12.starts_with(p));
    let (suffix, exchange) = match (row.f13, bse) {
        (1, _) => ("SH", "SSE"),
        (0, true) => ("BJ", "BSE"),
        (0, false) => ("SZ", "SZSE"),
        (m, _) => {
            return Err(list_malformed(format!(
                "row {i} ({}): market id {m} is not 0 or 1",
                row.f12
            )));
        }
    };
    let symbol = format!("{}.{suffix}", row.f12);
    let board = Symbol::new(symbol.as_str())
        .ok()
        .and_then(|s| Instrument::infer(s, false).ok())
        .map_or("", |i| match i.board {
            Board::Main => "主板",
            Board::ChiNext => "创业板",
            Board::Star => "科创板",
            Board::Bse => "北交所",
            Board::Other => "",
        });
    Ok(ListedInstrument {
        symbol,
        name: row.f14,
        exchange: exchange.into(),
        market: board.into(),
        industry: String::new(),
        list_date: None,
        delist_date: None,
        status: ListStatus::Listed,
    })
}

/// Decodes one `clist` reply; `None` when `data` is null (past the last
/// page). Pure: any bytes give a page, `None` or an error, never a panic.
///
/// # Errors
/// [`Error::Malformed`] for a body that is not the `clist` JSON, a code
/// that is not six digits, a market id other than 0 and 1; [`Error::Api`]
/// for `rc != 0`.
pub fn decode_clist(body: &[u8]) -> Result<Option<ListPage>> {
    let env: ListEnvelope = serde_json::from_slice(body)
        .map_err(|e| list_malformed(format!("not the clist JSON: {e}")))?;
    if env.rc != 0 {
        return Err(Error::Api {
            provider: "eastmoney".into(),
            call: "clist".into(),
            code: env.rc,
            msg: "rc != 0".into(),
        });
    }
    let Some(data) = env.data else {
        return Ok(None);
    };
    let rows = data
        .diff
        .into_iter()
        .enumerate()
        .map(|(i, r)| listed(i, r))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(ListPage {
        total: data.total,
        rows,
    }))
}

#[derive(Deserialize)]
struct Envelope {
    rc: i64,
    data: Option<KlineData>,
}

#[derive(Deserialize)]
struct KlineData {
    /// The instrument's code, when the reply names it.
    #[serde(default)]
    code: Option<serde_json::Value>,
    /// Its market id, when the reply names it.
    #[serde(default)]
    market: Option<serde_json::Value>,
    #[serde(default)]
    klines: Vec<String>,
}

/// `600519.SH` → `1.600519`; `000001.SZ`, `430047.BJ` → `0.…`; an index
/// such as `000300.SH` → `1.000300`.
///
/// # Errors
/// [`Error::Api`] for a symbol without a `.SH`/`.SZ`/`.BJ` suffix.
pub fn secid(symbol: &str) -> Result<String> {
    let (code, ex) = symbol.split_once('.').unwrap_or((symbol, ""));
    let market = match ex.to_ascii_uppercase().as_str() {
        "SH" => 1,
        "SZ" | "BJ" => 0,
        _ => {
            return Err(Error::Api {
                provider: "eastmoney".into(),
                call: "kline".into(),
                code: 0,
                msg: format!("{symbol:?}: expected CODE.SH, CODE.SZ or CODE.BJ"),
            });
        }
    };
    Ok(format!("{market}.{code}"))
}

fn malformed(detail: String) -> Error {
    Error::Malformed {
        provider: "eastmoney".into(),
        call: "kline".into(),
        detail,
    }
}

/// `v` as text: a string as it is, a number in decimal.
fn as_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Decodes a K-line reply for `req` into bars (ascending, unique dates).
/// The reply's `code` and `market` (when given) must be those of
/// `req.symbol`, and every row must be dated inside `[req.start,
/// req.end]`. Pure: any bytes give bars or an error, never a panic.
///
/// # Errors
/// [`Error::Api`] for `rc != 0` or a symbol without an exchange suffix;
/// [`Error::Malformed`] naming the row and value: not the envelope, a
/// short or non-numeric row, a bad date, a row of another instrument or
/// outside the range, dates not ascending.
pub fn decode_klines(req: &BarRequest, body: &[u8]) -> Result<Vec<Bar>> {
    let want = secid(&req.symbol)?;
    let (want_market, want_code) = want.split_once('.').unwrap_or(("", &want));
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("not the Eastmoney JSON envelope: {e}")))?;
    if env.rc != 0 {
        return Err(Error::Api {
            provider: "eastmoney".into(),
            call: "kline".into(),
            code: env.rc,
            msg: "rc != 0".into(),
        });
    }
    let Some(data) = env.data else {
        return Ok(Vec::new());
    };
    if let Some(code) = data.code.as_ref().map(as_text)
        && code != want_code
    {
        return Err(malformed(format!(
            "reply for code {code:?}, not the requested {} (secid {want})",
            req.symbol
        )));
    }
    if let Some(market) = data.market.as_ref().map(as_text)
        && market != want_market
    {
        return Err(malformed(format!(
            "reply for market {market}, not that of the requested {} (secid {want})",
            req.symbol
        )));
    }
    let mut out: Vec<Bar> = Vec::with_capacity(data.klines.len());
    for (i, line) in data.klines.iter().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 7 {
            return Err(malformed(format!(
                "kline {i} has {} fields, expected 11: {line:?}",
                f.len()
            )));
        }
        let field = |k: usize| f.get(k).copied().unwrap_or("");
        let date = NaiveDate::parse_from_str(field(0), "%Y-%m-%d")
            .map_err(|_| malformed(format!("kline {i}: bad date {:?}", field(0))))?;
        if date < req.start || date > req.end {
            return Err(malformed(format!(
                "kline {i}: {date} is outside the requested {}..{} of {}",
                req.start, req.end, req.symbol
            )));
        }
        let num = |k: usize, what: &str| -> Result<f64> {
            field(k)
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    malformed(format!(
                        "kline {i} ({date}): {what} is not a number: {:?}",
                        field(k)
                    ))
                })
        };
        let bar = Bar {
            date,
            open: num(1, "open")?,
            close: num(2, "close")?,
            high: num(3, "high")?,
            low: num(4, "low")?,
            pre_close: f64::NAN,
            volume: Some(num(5, "volume")? * 100.0)
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    malformed(format!(
                        "kline {i} ({date}): volume {:?} 手 overflows in shares",
                        field(5)
                    ))
                })?,
            amount: num(6, "amount")?,
            adj_factor: 1.0,
        };
        if out.last().is_some_and(|p| p.date >= date) {
            return Err(malformed(format!(
                "kline {i}: {date} is not after the previous row"
            )));
        }
        out.push(bar);
    }
    Ok(out)
}

impl Eastmoney {
    /// A client for `base_url` (the K-line host or a local fake).
    ///
    /// # Errors
    /// [`Error::Config`] when the HTTP client cannot be built.
    ///
    /// The stock list goes to [`DEFAULT_LIST_URL`] when `base_url` is the
    /// default K-line host, and to `base_url` itself otherwise (a fake or a
    /// proxy serving both paths).
    pub fn new(settings: &ClientSettings, base_url: &str) -> Result<Self> {
        let base_url = base_url.trim_end_matches('/').to_string();
        let list_url = if base_url == DEFAULT_BASE_URL {
            DEFAULT_LIST_URL.to_string()
        } else {
            base_url.clone()
        };
        Ok(Self {
            http: Transport::with_limits(
                "eastmoney",
                settings,
                Limits {
                    max_body_bytes: MAX_BODY_BYTES,
                    max_pages: MAX_PAGES,
                },
            )?,
            base_url,
            list_url,
        })
    }

    /// Daily bars with Eastmoney's own adjustment.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn daily_bars_adjusted(&self, req: &BarRequest, adjust: Adjust) -> Result<Vec<Bar>> {
        let fqt = match adjust {
            Adjust::None => "0",
            Adjust::Forward => "1",
            Adjust::Backward => "2",
        };
        let url = format!("{}/api/qt/stock/kline/get", self.base_url);
        let query = [
            ("secid", secid(&req.symbol)?),
            ("klt", "101".to_string()),
            ("fqt", fqt.to_string()),
            ("beg", req.start.format("%Y%m%d").to_string()),
            ("end", req.end.format("%Y%m%d").to_string()),
            ("fields1", "f1,f2,f3,f4,f5,f6".to_string()),
            (
                "fields2",
                "f51,f52,f53,f54,f55,f56,f57,f58,f59,f60,f61".to_string(),
            ),
            ("ut", UT.to_string()),
        ];
        self.http
            .call(
                "kline",
                |c| c.get(&url).query(&query),
                |r| decode_klines(req, &r.body),
            )
            .await
    }
}

#[async_trait]
impl DataProvider for Eastmoney {
    fn name(&self) -> &str {
        "eastmoney"
    }

    async fn daily_bars(&self, req: &BarRequest) -> Result<Vec<Bar>> {
        self.daily_bars_adjusted(req, Adjust::None).await
    }

    async fn index_daily(&self, req: &BarRequest) -> Result<Vec<Bar>> {
        self.daily_bars_adjusted(req, Adjust::None).await
    }

    /// Every A-share trading now, from the `clist` snapshot, by symbol:
    /// pages until `total` rows have come, at most `max_pages`, each
    /// bringing only new codes.
    async fn stock_list(&self) -> Result<Vec<ListedInstrument>> {
        let url = format!("{}/api/qt/clist/get", self.list_url);
        let mut pager = self.http.pager("clist");
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        loop {
            let page = pager.next_page()?;
            let query = [
                ("pn", page.to_string()),
                ("pz", LIST_PAGE.to_string()),
                ("po", "1".into()),
                ("np", "1".into()),
                ("fltt", "2".into()),
                ("invt", "2".into()),
                ("fid", "f12".into()),
                ("fs", ALL_A_SHARES.into()),
                ("fields", "f12,f13,f14".into()),
                ("ut", UT.into()),
            ];
            let data = self
                .http
                .call(
                    "clist",
                    |c| c.get(&url).query(&query),
                    |r| {
                        let data = decode_clist(&r.body)?;
                        if let Some(d) = &data
                            && let Some(again) = d.rows.iter().find(|i| seen.contains(&i.symbol))
                        {
                            return Err(pager.fault(format!(
                                "page {page} repeats {} of an earlier page",
                                again.symbol
                            )));
                        }
                        Ok(data)
                    },
                )
                .await?;
            let Some(data) = data else { break };
            if data.rows.is_empty() {
                break;
            }
            seen.extend(data.rows.iter().map(|i| i.symbol.clone()));
            out.extend(data.rows);
            if u64::try_from(out.len()).unwrap_or(u64::MAX) >= data.total {
                break;
            }
        }
        out.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secids() {
        assert_eq!(secid("600519.SH").unwrap(), "1.600519");
        assert_eq!(secid("000001.SZ").unwrap(), "0.000001");
        assert_eq!(secid("430047.BJ").unwrap(), "0.430047");
        assert!(secid("AAPL").is_err());
    }

    fn req() -> BarRequest {
        BarRequest {
            symbol: "000001.SZ".into(),
            start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
            end: NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default(),
        }
    }

    fn parse(body: &[u8]) -> Result<Vec<Bar>> {
        decode_klines(&req(), body)
    }

    #[test]
    fn parses_close_before_high_low_and_lots() {
        let body = br#"{"rc":0,"data":{"code":"000001","klines":["2024-01-02,9.39,9.21,9.42,9.21,1158366,1075742252.00,2.24,-1.92,-0.18,0.60"]}}"#;
        let b = parse(body).unwrap();
        assert_eq!(
            (b[0].open, b[0].close, b[0].high, b[0].low),
            (9.39, 9.21, 9.42, 9.21)
        );
        assert_eq!(b[0].volume, 115_836_600.0);
        assert_eq!(b[0].amount, 1_075_742_252.0);
        assert!(parse(br#"{"rc":0,"data":null}"#).unwrap().is_empty());
        assert!(matches!(
            parse(br#"{"rc":102,"data":null}"#),
            Err(Error::Api { code: 102, .. })
        ));
        assert!(matches!(
            parse(br#"{"rc":0,"data":{"klines":["2024-01-02,9.39,x,9.42,9.21,1,2"]}}"#),
            Err(Error::Malformed { .. })
        ));
    }
}
