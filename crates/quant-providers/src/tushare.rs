//! TuShare Pro: JSON over HTTP POST, token in the body
//! (`shared/docs/protocols/tushare-pro.md`).
//!
//! Request `{"api_name", "token", "params", "fields"}`; reply `{"code",
//! "msg", "data": {"fields", "items", "has_more"}}` with HTTP 200 even for
//! API errors. `code != 0` is an error: 40203 and throttling messages are
//! retried as rate limits, anything else (2002 no permission, 40101 bad
//! token) is not. Rows come newest first and are sorted here; `has_more`
//! pages with `offset`/`limit`, at most `max_pages` pages, each bringing
//! new rows. Every row is checked against the request (`ts_code`, dates
//! inside `[start, end]`, the exchange, the list status): a row for
//! anything else is an [`Error::Malformed`] naming it. The decoders
//! ([`decode_page`], [`decode_bars`] …) are pure functions of the reply
//! bytes. Units converted: `vol` 手 → shares (×100),
//! `amount` 千元 → CNY (×1000), `daily_basic` 万股/万元 → shares/CNY
//! (×10,000).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::NaiveDate;
use quant_core::Bar;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::ClientSettings;
use crate::error::{Error, Result};
use crate::http::{Limits, Transport};
use crate::secret::Secret;
use crate::{
    AdjFactor, BarRequest, CalendarDay, DailyBasic, DataProvider, ListStatus, ListedInstrument,
};

/// The documented endpoint.
pub const DEFAULT_BASE_URL: &str = "http://api.tushare.pro";

/// Largest reply read by default, bytes (a page of 5000 rows is under
/// 1 MiB).
pub const MAX_BODY_BYTES: u64 = 8 << 20;

/// Most pages of one call by default (5000 rows each).
pub const MAX_PAGES: u32 = 100;

/// Rows asked for per page (the `daily` cap is 6000).
const PAGE: usize = 5000;

/// A TuShare Pro client. Its `Debug` does not show the token.
#[derive(Debug)]
pub struct TuShare {
    http: Transport,
    base_url: String,
    token: Secret,
}

#[derive(Deserialize)]
struct Envelope {
    code: i64,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    fields: Vec<String>,
    items: Vec<Vec<Value>>,
    #[serde(default)]
    has_more: bool,
}

/// One reply page as TuShare sends it: column names, positional rows,
/// and whether more pages follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Column names.
    pub fields: Vec<String>,
    /// Rows, one value per column (as sent: they may be short or long).
    pub items: Vec<Vec<Value>>,
    /// More rows past this page (`has_more`).
    pub has_more: bool,
}

/// The rows of one page in project units, each checked against the
/// request, in reply order (newest first); and whether more pages follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows<T> {
    /// The rows.
    pub rows: Vec<T>,
    /// More rows past this page (`has_more`).
    pub has_more: bool,
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn malformed(call: &str, detail: String) -> Error {
    Error::Malformed {
        provider: "tushare".into(),
        call: call.to_string(),
        detail,
    }
}

/// Throttling as TuShare words it (code 40203, or a message about calls per
/// minute).
fn is_throttle(code: i64, msg: &str) -> bool {
    code == 40203
        || msg.contains("每分钟")
        || msg.contains("频率")
        || msg.contains("最多访问")
        || msg.to_ascii_lowercase().contains("too many")
}

/// Decodes one reply of `call`: the envelope, API errors and throttling.
/// Pure: any bytes give a page or an error, never a panic.
///
/// # Errors
/// [`Error::Malformed`] for a body that is not the envelope or has code 0
/// without `data`; [`Error::RateLimited`] for throttling (40203, "每分钟…");
/// [`Error::Api`] for any other non-zero `code`.
pub fn decode_page(call: &str, body: &[u8]) -> Result<Page> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| malformed(call, format!("not the TuShare JSON envelope: {e}")))?;
    if env.code != 0 {
        let msg = env.msg.unwrap_or_default();
        if is_throttle(env.code, &msg) {
            return Err(Error::RateLimited {
                provider: "tushare".into(),
                call: format!("{call} (code {}: {msg})", env.code),
                retry_after: None,
            });
        }
        return Err(Error::Api {
            provider: "tushare".into(),
            call: call.to_string(),
            code: env.code,
            msg,
        });
    }
    let data = env
        .data
        .ok_or_else(|| malformed(call, "code 0 but no data".into()))?;
    Ok(Page {
        fields: data.fields,
        items: data.items,
        has_more: data.has_more,
    })
}

/// A page's rows by column name; every accessor checks its bounds.
struct Table<'a> {
    call: &'a str,
    page: &'a Page,
}

impl Table<'_> {
    fn malformed(&self, detail: String) -> Error {
        malformed(self.call, detail)
    }

    fn rows(&self) -> usize {
        self.page.items.len()
    }

    fn col(&self, name: &str) -> Result<usize> {
        self.page
            .fields
            .iter()
            .position(|f| f == name)
            .ok_or_else(|| self.malformed(format!("no field {name:?} in {:?}", self.page.fields)))
    }

    fn field(&self, col: usize) -> &str {
        self.page.fields.get(col).map_or("?", String::as_str)
    }

    fn value(&self, row: usize, col: usize) -> Result<&Value> {
        let values = self
            .page
            .items
            .get(row)
            .ok_or_else(|| self.malformed(format!("no row {row}")))?;
        values.get(col).ok_or_else(|| {
            self.malformed(format!(
                "row {row} has {} values for {} fields",
                values.len(),
                self.page.fields.len()
            ))
        })
    }

    /// A finite number or null; numeric strings accepted.
    fn num(&self, row: usize, col: usize) -> Result<Option<f64>> {
        let bad = |v: &dyn std::fmt::Display| {
            self.malformed(format!("row {row}, {}: not a number: {v}", self.field(col)))
        };
        let x = match self.value(row, col)? {
            Value::Null => return Ok(None),
            Value::Number(n) => n.as_f64().ok_or_else(|| bad(n))?,
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| bad(&format!("{s:?}")))?,
            v => return Err(bad(v)),
        };
        if !x.is_finite() {
            return Err(bad(&x));
        }
        Ok(Some(x))
    }

    /// [`Table::num`] times `factor` (a unit conversion), still finite.
    fn scaled(&self, row: usize, col: usize, factor: f64) -> Result<Option<f64>> {
        match self.num(row, col)? {
            None => Ok(None),
            Some(x) if (x * factor).is_finite() => Ok(Some(x * factor)),
            Some(x) => Err(self.malformed(format!(
                "row {row}, {}: {x} × {factor} overflows",
                self.field(col)
            ))),
        }
    }

    fn req_num(&self, row: usize, col: usize) -> Result<f64> {
        self.num(row, col)?
            .ok_or_else(|| self.malformed(format!("row {row}, {}: missing value", self.field(col))))
    }

    fn text(&self, row: usize, col: usize) -> Result<String> {
        match self.value(row, col)? {
            Value::Null => Ok(String::new()),
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            v => Err(self.malformed(format!("row {row}, {}: not text: {v}", self.field(col)))),
        }
    }

    fn date(&self, row: usize, col: usize) -> Result<Option<NaiveDate>> {
        let s = self.text(row, col)?;
        if s.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(&s, "%Y%m%d")
            .map(Some)
            .map_err(|_| {
                self.malformed(format!(
                    "row {row}, {}: not a YYYYMMDD date: {s:?}",
                    self.field(col)
                ))
            })
    }

    fn req_date(&self, row: usize, col: usize) -> Result<NaiveDate> {
        self.date(row, col)?
            .ok_or_else(|| self.malformed(format!("row {row}, {}: missing date", self.field(col))))
    }

    /// The row's date, inside `[start, end]`.
    fn date_in(
        &self,
        row: usize,
        col: usize,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<NaiveDate> {
        let d = self.req_date(row, col)?;
        if d < start || d > end {
            return Err(self.malformed(format!(
                "row {row}: {} {d} is outside the requested {start}..{end}",
                self.field(col)
            )));
        }
        Ok(d)
    }

    /// The row's `ts_code`, one of the requested codes (`symbol` may be a
    /// comma-separated list, as TuShare accepts).
    fn code_of(&self, row: usize, col: usize, symbol: &str) -> Result<String> {
        let code = self.text(row, col)?;
        if !symbol
            .split(',')
            .any(|c| c.trim().eq_ignore_ascii_case(code.trim()))
        {
            return Err(self.malformed(format!(
                "row {row}: {} {code:?} is not the requested {symbol}",
                self.field(col)
            )));
        }
        Ok(code)
    }
}

/// Every row's key is new within the page.
fn unique<T, K: Ord + std::fmt::Display>(
    call: &str,
    rows: &[T],
    key: impl Fn(&T) -> K,
) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (i, r) in rows.iter().enumerate() {
        let k = key(r);
        if seen.contains(&k) {
            return Err(malformed(call, format!("row {i}: two rows for {k}")));
        }
        seen.insert(k);
    }
    Ok(())
}

/// The bars of one `daily` or `index_daily` page (`call`) for `req`:
/// factor 1, vol 手 → shares, amount 千元 → CNY. Every row must be for
/// `req.symbol` (or one code of a comma-separated list) and dated inside
/// `[req.start, req.end]`.
///
/// # Errors
/// As [`decode_page`]; [`Error::Malformed`] naming the row, field and
/// value: a missing column, a short row, a non-number, a row for another
/// code or outside the range, two rows for one date.
pub fn decode_bars(call: &str, req: &BarRequest, body: &[u8]) -> Result<Rows<Bar>> {
    let page = decode_page(call, body)?;
    let t = Table { call, page: &page };
    let (code, d, o, h, l, c, pc, v, a) = (
        t.col("ts_code")?,
        t.col("trade_date")?,
        t.col("open")?,
        t.col("high")?,
        t.col("low")?,
        t.col("close")?,
        t.col("pre_close")?,
        t.col("vol")?,
        t.col("amount")?,
    );
    let mut rows = Vec::with_capacity(t.rows());
    for r in 0..t.rows() {
        t.code_of(r, code, &req.symbol)?;
        rows.push(Bar {
            date: t.date_in(r, d, req.start, req.end)?,
            open: t.req_num(r, o)?,
            high: t.req_num(r, h)?,
            low: t.req_num(r, l)?,
            close: t.req_num(r, c)?,
            pre_close: t.num(r, pc)?.unwrap_or(f64::NAN),
            volume: t.scaled(r, v, 100.0)?.unwrap_or(0.0),
            amount: t.scaled(r, a, 1000.0)?.unwrap_or(f64::NAN),
            adj_factor: 1.0,
        });
    }
    unique(call, &rows, |b| b.date)?;
    Ok(Rows {
        rows,
        has_more: page.has_more,
    })
}

/// The factors of one `adj_factor` page for `req` (positive, finite),
/// checked as in [`decode_bars`].
///
/// # Errors
/// As [`decode_bars`]; a factor that is not positive.
pub fn decode_adj_factors(req: &BarRequest, body: &[u8]) -> Result<Rows<AdjFactor>> {
    let call = "adj_factor";
    let page = decode_page(call, body)?;
    let t = Table { call, page: &page };
    let (code, d, f) = (
        t.col("ts_code")?,
        t.col("trade_date")?,
        t.col("adj_factor")?,
    );
    let mut rows = Vec::with_capacity(t.rows());
    for r in 0..t.rows() {
        t.code_of(r, code, &req.symbol)?;
        let factor = t.req_num(r, f)?;
        if factor <= 0.0 {
            return Err(t.malformed(format!("row {r}: adj_factor {factor} is not positive")));
        }
        rows.push(AdjFactor {
            date: t.date_in(r, d, req.start, req.end)?,
            factor,
        });
    }
    unique(call, &rows, |a| a.date)?;
    Ok(Rows {
        rows,
        has_more: page.has_more,
    })
}

/// The rows of one `daily_basic` page for `req`, 万股/万元 → shares/CNY,
/// checked as in [`decode_bars`] (one row per code and date).
///
/// # Errors
/// As [`decode_bars`].
pub fn decode_daily_basic(req: &BarRequest, body: &[u8]) -> Result<Rows<DailyBasic>> {
    let call = "daily_basic";
    let page = decode_page(call, body)?;
    let t = Table { call, page: &page };
    let col = |n| t.col(n);
    let (code, d, c, tr, pe, pettm, pb, dv) = (
        col("ts_code")?,
        col("trade_date")?,
        col("close")?,
        col("turnover_rate")?,
        col("pe")?,
        col("pe_ttm")?,
        col("pb")?,
        col("dv_ttm")?,
    );
    let (ts, fs, tmv, cmv) = (
        col("total_share")?,
        col("float_share")?,
        col("total_mv")?,
        col("circ_mv")?,
    );
    let mut rows = Vec::with_capacity(t.rows());
    for r in 0..t.rows() {
        rows.push(DailyBasic {
            symbol: t.code_of(r, code, &req.symbol)?,
            date: t.date_in(r, d, req.start, req.end)?,
            close: t.num(r, c)?,
            turnover_rate: t.num(r, tr)?,
            pe: t.num(r, pe)?,
            pe_ttm: t.num(r, pettm)?,
            pb: t.num(r, pb)?,
            dv_ttm: t.num(r, dv)?,
            total_share: t.scaled(r, ts, 10_000.0)?,
            float_share: t.scaled(r, fs, 10_000.0)?,
            total_mv: t.scaled(r, tmv, 10_000.0)?,
            circ_mv: t.scaled(r, cmv, 10_000.0)?,
        });
    }
    unique(call, &rows, |b| format!("{} on {}", b.symbol, b.date))?;
    Ok(Rows {
        rows,
        has_more: page.has_more,
    })
}

/// The days of one `trade_cal` page: every row of `exchange`, dated in
/// `[start, end]`, `is_open` 0 or 1.
///
/// # Errors
/// As [`decode_bars`]; an `is_open` other than 0 or 1; a row of another
/// exchange.
pub fn decode_trade_cal(
    exchange: &str,
    start: NaiveDate,
    end: NaiveDate,
    body: &[u8],
) -> Result<Rows<CalendarDay>> {
    let call = "trade_cal";
    let page = decode_page(call, body)?;
    let t = Table { call, page: &page };
    let (ex, d, o) = (t.col("exchange")?, t.col("cal_date")?, t.col("is_open")?);
    let mut rows = Vec::with_capacity(t.rows());
    for r in 0..t.rows() {
        let got = t.text(r, ex)?;
        if !got.trim().eq_ignore_ascii_case(exchange.trim()) {
            return Err(t.malformed(format!(
                "row {r}: exchange {got:?} is not the requested {exchange}"
            )));
        }
        let is_open = match t.text(r, o)?.as_str() {
            "1" => true,
            "0" => false,
            other => return Err(t.malformed(format!("row {r}: is_open {other:?}"))),
        };
        rows.push(CalendarDay {
            date: t.date_in(r, d, start, end)?,
            is_open,
        });
    }
    unique(call, &rows, |c| c.date)?;
    Ok(Rows {
        rows,
        has_more: page.has_more,
    })
}

/// The instruments of one `stock_basic` page asked for with
/// `list_status` (`L`, `D` or `P`): every row must carry that status and
/// a valid symbol as `ts_code`.
///
/// # Errors
/// As [`decode_bars`]; a row of another status, a `ts_code` that is not a
/// symbol, two rows for one code; a `list_status` other than `L`, `D`,
/// `P` asked for.
pub fn decode_stock_basic(list_status: &str, body: &[u8]) -> Result<Rows<ListedInstrument>> {
    let call = "stock_basic";
    let status = match list_status {
        "L" => ListStatus::Listed,
        "D" => ListStatus::Delisted,
        "P" => ListStatus::Paused,
        other => {
            return Err(malformed(
                call,
                format!("list_status {other:?} asked for; one of L, D, P"),
            ));
        }
    };
    let page = decode_page(call, body)?;
    let t = Table { call, page: &page };
    let (code, name, ind, mkt, ex, ls, ld, dd) = (
        t.col("ts_code")?,
        t.col("name")?,
        t.col("industry")?,
        t.col("market")?,
        t.col("exchange")?,
        t.col("list_status")?,
        t.col("list_date")?,
        t.col("delist_date")?,
    );
    let mut rows = Vec::with_capacity(t.rows());
    for r in 0..t.rows() {
        let got = t.text(r, ls)?;
        if got != list_status {
            return Err(t.malformed(format!(
                "row {r}: list_status {got:?} is not the requested {list_status:?}"
            )));
        }
        let sym = t.text(r, code)?;
        let symbol = quant_core::Symbol::new(sym.as_str())
            .map_err(|e| t.malformed(format!("row {r}: ts_code {sym:?} is not a symbol: {e}")))?;
        rows.push(ListedInstrument {
            symbol: symbol.to_string(),
            name: t.text(r, name)?,
            exchange: t.text(r, ex)?,
            market: t.text(r, mkt)?,
            industry: t.text(r, ind)?,
            list_date: t.date(r, ld)?,
            delist_date: t.date(r, dd)?,
            status,
        });
    }
    unique(call, &rows, |i| i.symbol.clone())?;
    Ok(Rows {
        rows,
        has_more: page.has_more,
    })
}

impl TuShare {
    /// A client posting to `base_url` with `token` (redacted from every
    /// error and log line, with the settings' other secrets).
    ///
    /// # Errors
    /// [`Error::Config`] when the HTTP client cannot be built.
    pub fn new(settings: &ClientSettings, base_url: &str, token: &str) -> Result<Self> {
        let token = Secret::new(token);
        Ok(Self {
            http: Transport::with_limits(
                "tushare",
                settings,
                Limits {
                    max_body_bytes: MAX_BODY_BYTES,
                    max_pages: MAX_PAGES,
                },
            )?
            .with_secret(token.clone()),
            base_url: base_url.to_string(),
            token,
        })
    }

    /// A client whose token is read from the environment variable `var`.
    ///
    /// # Errors
    /// [`Error::MissingToken`] when `var` is unset or empty.
    pub fn from_env(settings: &ClientSettings, base_url: &str, var: &str) -> Result<Self> {
        let token = std::env::var(var)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| Error::MissingToken {
                provider: "tushare".into(),
                var: var.to_string(),
            })?;
        Self::new(settings, base_url, &token)
    }

    /// Calls `api` with `params` (string values) and `fields`, following
    /// `has_more` pages: each page is decoded and checked by `decode`
    /// (inside the transport, so its errors are redacted), must bring new
    /// rows (no `key` seen on an earlier page, not empty while `has_more`),
    /// and there are at most `max_pages`.
    async fn paged<T, K>(
        &self,
        api: &str,
        params: &[(&str, String)],
        fields: &str,
        decode: impl Fn(&[u8]) -> Result<Rows<T>>,
        key: impl Fn(&T) -> K,
    ) -> Result<Vec<T>>
    where
        K: Ord + std::fmt::Display,
    {
        let mut pager = self.http.pager(api);
        let mut seen: BTreeSet<K> = BTreeSet::new();
        let mut out: Vec<T> = Vec::new();
        loop {
            let page = pager.next_page()?;
            let offset = out.len();
            let mut p: serde_json::Map<String, Value> = params
                .iter()
                .map(|(k, v)| ((*k).to_string(), json!(v)))
                .collect();
            p.insert("limit".into(), json!(PAGE.to_string()));
            p.insert("offset".into(), json!(offset.to_string()));
            let body = json!({"api_name": api, "token": self.token.expose(), "params": p, "fields": fields});
            let got = self
                .http
                .call(
                    api,
                    |c| c.post(&self.base_url).json(&body),
                    |r| {
                        let rows = decode(&r.body)?;
                        if let Some(k) = rows.rows.iter().map(&key).find(|k| seen.contains(k)) {
                            return Err(pager.fault(format!(
                                "page {page} repeats a row of an earlier page ({k})"
                            )));
                        }
                        if rows.has_more && rows.rows.is_empty() {
                            return Err(pager.fault(format!(
                                "has_more with an empty page: offset {offset} did not advance"
                            )));
                        }
                        Ok(rows)
                    },
                )
                .await?;
            seen.extend(got.rows.iter().map(&key));
            out.extend(got.rows);
            if !got.has_more {
                return Ok(out);
            }
        }
    }

    fn range(req: &BarRequest) -> Vec<(&'static str, String)> {
        vec![
            ("ts_code", req.symbol.clone()),
            ("start_date", ymd(req.start)),
            ("end_date", ymd(req.end)),
        ]
    }

    /// Bars of `daily` or `index_daily`, ascending, factor 1.
    async fn bars(&self, api: &str, req: &BarRequest) -> Result<Vec<Bar>> {
        let mut bars = self
            .paged(
                api,
                &Self::range(req),
                "ts_code,trade_date,open,high,low,close,pre_close,vol,amount",
                |body| decode_bars(api, req, body),
                |b| b.date,
            )
            .await?;
        bars.sort_by_key(|b| b.date);
        Ok(bars)
    }
}

#[async_trait]
impl DataProvider for TuShare {
    fn name(&self) -> &str {
        "tushare"
    }

    /// `daily` (unadjusted) with `adj_factor` merged by date.
    async fn daily_bars(&self, req: &BarRequest) -> Result<Vec<Bar>> {
        let mut bars = self.bars("daily", req).await?;
        if bars.is_empty() {
            return Ok(bars);
        }
        let factors: BTreeMap<NaiveDate, f64> = self
            .adj_factors(req)
            .await?
            .into_iter()
            .map(|f| (f.date, f.factor))
            .collect();
        for b in &mut bars {
            b.adj_factor = *factors.get(&b.date).ok_or_else(|| Error::Malformed {
                provider: "tushare".into(),
                call: "adj_factor".into(),
                detail: format!("no factor for {} on {}", req.symbol, b.date),
            })?;
        }
        Ok(bars)
    }

    async fn index_daily(&self, req: &BarRequest) -> Result<Vec<Bar>> {
        self.bars("index_daily", req).await
    }

    async fn adj_factors(&self, req: &BarRequest) -> Result<Vec<AdjFactor>> {
        let mut out = self
            .paged(
                "adj_factor",
                &Self::range(req),
                "ts_code,trade_date,adj_factor",
                |body| decode_adj_factors(req, body),
                |a| a.date,
            )
            .await?;
        out.sort_by_key(|a| a.date);
        Ok(out)
    }

    async fn daily_basic(&self, req: &BarRequest) -> Result<Vec<DailyBasic>> {
        let mut out = self
            .paged(
                "daily_basic",
                &Self::range(req),
                "ts_code,trade_date,close,turnover_rate,pe,pe_ttm,pb,dv_ttm,total_share,float_share,total_mv,circ_mv",
                |body| decode_daily_basic(req, body),
                |b| format!("{} on {}", b.symbol, b.date),
            )
            .await?;
        out.sort_by_key(|b| b.date);
        Ok(out)
    }

    async fn trading_calendar(
        &self,
        exchange: &str,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<CalendarDay>> {
        let mut out = self
            .paged(
                "trade_cal",
                &[
                    ("exchange", exchange.to_string()),
                    ("start_date", ymd(start)),
                    ("end_date", ymd(end)),
                ],
                "exchange,cal_date,is_open",
                |body| decode_trade_cal(exchange, start, end, body),
                |c| c.date,
            )
            .await?;
        out.sort_by_key(|c| c.date);
        Ok(out)
    }

    /// `stock_basic` for listed, delisted and paused names.
    async fn stock_list(&self) -> Result<Vec<ListedInstrument>> {
        let mut out = Vec::new();
        for flag in ["L", "D", "P"] {
            out.extend(
                self.paged(
                    "stock_basic",
                    &[("list_status", flag.to_string())],
                    "ts_code,name,industry,market,exchange,list_status,list_date,delist_date",
                    |body| decode_stock_basic(flag, body),
                    |i| i.symbol.clone(),
                )
                .await?,
            );
        }
        out.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        Ok(out)
    }
}
