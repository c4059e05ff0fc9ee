//! TuShare Pro: JSON over HTTP POST, token in the body
//! (`shared/docs/protocols/tushare-pro.md`).
//!
//! Request `{"api_name", "token", "params", "fields"}`; reply `{"code",
//! "msg", "data": {"fields", "items", "has_more"}}` with HTTP 200 even for
//! API errors. `code != 0` is an error: 40203 and throttling messages are
//! retried as rate limits, anything else (2002 no permission, 40101 bad
//! token) is not. Rows come newest first and are sorted here; `has_more`
//! pages with `offset`/`limit`. Units converted: `vol` 手 → shares (×100),
//! `amount` 千元 → CNY (×1000), `daily_basic` 万股/万元 → shares/CNY
//! (×10,000).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use quant_core::Bar;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::ClientSettings;
use crate::error::{Error, Result};
use crate::http::{Limits, Reply, Transport};
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

/// A TuShare Pro client.
#[derive(Debug)]
pub struct TuShare {
    http: Transport,
    base_url: String,
    token: String,
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

/// A reply's rows by column name.
struct Table {
    call: String,
    fields: Vec<String>,
    items: Vec<Vec<Value>>,
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

impl Table {
    fn malformed(&self, detail: String) -> Error {
        Error::Malformed {
            provider: "tushare".into(),
            call: self.call.clone(),
            detail,
        }
    }

    fn col(&self, name: &str) -> Result<usize> {
        self.fields
            .iter()
            .position(|f| f == name)
            .ok_or_else(|| self.malformed(format!("no field {name:?} in {:?}", self.fields)))
    }

    fn value(&self, row: usize, col: usize) -> Result<&Value> {
        self.items[row].get(col).ok_or_else(|| {
            self.malformed(format!(
                "row {row} has {} values for {} fields",
                self.items[row].len(),
                self.fields.len()
            ))
        })
    }

    /// A number or null; numeric strings accepted.
    fn num(&self, row: usize, col: usize) -> Result<Option<f64>> {
        match self.value(row, col)? {
            Value::Null => Ok(None),
            Value::Number(n) => Ok(n.as_f64()),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => s.trim().parse().map(Some).map_err(|_| {
                self.malformed(format!(
                    "row {row}, {}: not a number: {s:?}",
                    self.fields[col]
                ))
            }),
            v => Err(self.malformed(format!(
                "row {row}, {}: not a number: {v}",
                self.fields[col]
            ))),
        }
    }

    fn req_num(&self, row: usize, col: usize) -> Result<f64> {
        self.num(row, col)?.ok_or_else(|| {
            self.malformed(format!("row {row}, {}: missing value", self.fields[col]))
        })
    }

    fn text(&self, row: usize, col: usize) -> Result<String> {
        match self.value(row, col)? {
            Value::Null => Ok(String::new()),
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            v => Err(self.malformed(format!("row {row}, {}: not text: {v}", self.fields[col]))),
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
                    self.fields[col]
                ))
            })
    }

    fn req_date(&self, row: usize, col: usize) -> Result<NaiveDate> {
        self.date(row, col)?
            .ok_or_else(|| self.malformed(format!("row {row}, {}: missing date", self.fields[col])))
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

fn parse_page(call: &str, reply: Reply) -> Result<(Vec<String>, Vec<Vec<Value>>, bool)> {
    let env: Envelope = serde_json::from_slice(&reply.body).map_err(|e| Error::Malformed {
        provider: "tushare".into(),
        call: call.to_string(),
        detail: format!("not the TuShare JSON envelope: {e}"),
    })?;
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
    let data = env.data.ok_or_else(|| Error::Malformed {
        provider: "tushare".into(),
        call: call.to_string(),
        detail: "code 0 but no data".into(),
    })?;
    Ok((data.fields, data.items, data.has_more))
}

impl TuShare {
    /// A client posting to `base_url` with `token`.
    ///
    /// # Errors
    /// [`Error::Config`] when the HTTP client cannot be built.
    pub fn new(settings: &ClientSettings, base_url: &str, token: &str) -> Result<Self> {
        Ok(Self {
            http: Transport::with_limits(
                "tushare",
                settings,
                Limits {
                    max_body_bytes: MAX_BODY_BYTES,
                    max_pages: MAX_PAGES,
                },
            )?,
            base_url: base_url.to_string(),
            token: token.to_string(),
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
    /// `has_more` pages.
    async fn query(&self, api: &str, params: &[(&str, String)], fields: &str) -> Result<Table> {
        let mut fields_seen = Vec::new();
        let mut items = Vec::new();
        loop {
            let mut p: serde_json::Map<String, Value> = params
                .iter()
                .map(|(k, v)| ((*k).to_string(), json!(v)))
                .collect();
            p.insert("limit".into(), json!(PAGE.to_string()));
            p.insert("offset".into(), json!(items.len().to_string()));
            let body = json!({"api_name": api, "token": self.token, "params": p, "fields": fields});
            let (f, page, more) = self
                .http
                .call(
                    api,
                    |c| c.post(&self.base_url).json(&body),
                    |r| parse_page(api, r),
                )
                .await?;
            if !fields_seen.is_empty() && f != fields_seen {
                return Err(Error::Malformed {
                    provider: "tushare".into(),
                    call: api.into(),
                    detail: format!("fields changed between pages: {fields_seen:?} then {f:?}"),
                });
            }
            fields_seen = f;
            let got = page.len();
            items.extend(page);
            if !more {
                break;
            }
            if got == 0 {
                return Err(Error::Malformed {
                    provider: "tushare".into(),
                    call: api.into(),
                    detail: "has_more with an empty page".into(),
                });
            }
        }
        Ok(Table {
            call: api.to_string(),
            fields: fields_seen,
            items,
        })
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
        let t = self
            .query(
                api,
                &Self::range(req),
                "ts_code,trade_date,open,high,low,close,pre_close,vol,amount",
            )
            .await?;
        let (d, o, h, l, c, pc, v, a) = (
            t.col("trade_date")?,
            t.col("open")?,
            t.col("high")?,
            t.col("low")?,
            t.col("close")?,
            t.col("pre_close")?,
            t.col("vol")?,
            t.col("amount")?,
        );
        let mut out = BTreeMap::new();
        for r in 0..t.items.len() {
            let date = t.req_date(r, d)?;
            let bar = Bar {
                date,
                open: t.req_num(r, o)?,
                high: t.req_num(r, h)?,
                low: t.req_num(r, l)?,
                close: t.req_num(r, c)?,
                pre_close: t.num(r, pc)?.unwrap_or(f64::NAN),
                volume: t.num(r, v)?.unwrap_or(0.0) * 100.0,
                amount: t.num(r, a)?.map_or(f64::NAN, |x| x * 1000.0),
                adj_factor: 1.0,
            };
            if out.insert(date, bar).is_some() {
                return Err(t.malformed(format!("two rows for {date}")));
            }
        }
        Ok(out.into_values().collect())
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
        let t = self
            .query(
                "adj_factor",
                &Self::range(req),
                "ts_code,trade_date,adj_factor",
            )
            .await?;
        let (d, f) = (t.col("trade_date")?, t.col("adj_factor")?);
        let mut out = Vec::with_capacity(t.items.len());
        for r in 0..t.items.len() {
            let factor = t.req_num(r, f)?;
            if !(factor.is_finite() && factor > 0.0) {
                return Err(t.malformed(format!("row {r}: adj_factor {factor} is not positive")));
            }
            out.push(AdjFactor {
                date: t.req_date(r, d)?,
                factor,
            });
        }
        out.sort_by_key(|a| a.date);
        Ok(out)
    }

    async fn daily_basic(&self, req: &BarRequest) -> Result<Vec<DailyBasic>> {
        let t = self
            .query(
                "daily_basic",
                &Self::range(req),
                "ts_code,trade_date,close,turnover_rate,pe,pe_ttm,pb,dv_ttm,total_share,float_share,total_mv,circ_mv",
            )
            .await?;
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
        let wan = |x: Option<f64>| x.map(|v| v * 10_000.0);
        let mut out = Vec::with_capacity(t.items.len());
        for r in 0..t.items.len() {
            out.push(DailyBasic {
                symbol: t.text(r, code)?,
                date: t.req_date(r, d)?,
                close: t.num(r, c)?,
                turnover_rate: t.num(r, tr)?,
                pe: t.num(r, pe)?,
                pe_ttm: t.num(r, pettm)?,
                pb: t.num(r, pb)?,
                dv_ttm: t.num(r, dv)?,
                total_share: wan(t.num(r, ts)?),
                float_share: wan(t.num(r, fs)?),
                total_mv: wan(t.num(r, tmv)?),
                circ_mv: wan(t.num(r, cmv)?),
            });
        }
        out.sort_by_key(|b| b.date);
        Ok(out)
    }

    async fn trading_calendar(
        &self,
        exchange: &str,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<CalendarDay>> {
        let t = self
            .query(
                "trade_cal",
                &[
                    ("exchange", exchange.to_string()),
                    ("start_date", ymd(start)),
                    ("end_date", ymd(end)),
                ],
                "exchange,cal_date,is_open",
            )
            .await?;
        let (d, o) = (t.col("cal_date")?, t.col("is_open")?);
        let mut out = Vec::with_capacity(t.items.len());
        for r in 0..t.items.len() {
            let is_open = match t.text(r, o)?.as_str() {
                "1" => true,
                "0" => false,
                other => return Err(t.malformed(format!("row {r}: is_open {other:?}"))),
            };
            out.push(CalendarDay {
                date: t.req_date(r, d)?,
                is_open,
            });
        }
        out.sort_by_key(|c| c.date);
        Ok(out)
    }

    /// `stock_basic` for listed, delisted and paused names.
    async fn stock_list(&self) -> Result<Vec<ListedInstrument>> {
        let mut out = Vec::new();
        for (flag, status) in [
            ("L", ListStatus::Listed),
            ("D", ListStatus::Delisted),
            ("P", ListStatus::Paused),
        ] {
            let t = self
                .query(
                    "stock_basic",
                    &[("list_status", flag.to_string())],
                    "ts_code,name,industry,market,exchange,list_status,list_date,delist_date",
                )
                .await?;
            let (code, name, ind, mkt, ex, ld, dd) = (
                t.col("ts_code")?,
                t.col("name")?,
                t.col("industry")?,
                t.col("market")?,
                t.col("exchange")?,
                t.col("list_date")?,
                t.col("delist_date")?,
            );
            for r in 0..t.items.len() {
                out.push(ListedInstrument {
                    symbol: t.text(r, code)?,
                    name: t.text(r, name)?,
                    exchange: t.text(r, ex)?,
                    market: t.text(r, mkt)?,
                    industry: t.text(r, ind)?,
                    list_date: t.date(r, ld)?,
                    delist_date: t.date(r, dd)?,
                    status,
                });
            }
        }
        out.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        Ok(out)
    }
}
