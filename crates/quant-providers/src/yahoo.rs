//! Yahoo Finance's v8 chart endpoint, as yfinance uses it
//! (`shared/docs/protocols/yahoo-chart.md`).
//!
//! `GET /v8/finance/chart/{SYMBOL}?period1=…&period2=…&interval=1d
//! &events=div,splits`. Rows align index-wise between `timestamp` and
//! `indicators.quote[0]`; rows whose prices are all `null` are dropped.
//! Yahoo's OHLC are **already adjusted for splits** (not dividends);
//! `adjclose` also takes dividends out. So bars carry split-adjusted prices
//! and `adj_factor = adjclose / close` (dividends only, the latest bar's
//! factor is 1), and the events themselves come with
//! [`Yahoo::daily_with_events`]. Every bar must be of the requested
//! symbol (`meta.symbol`) and inside the requested dates: one outside is
//! an [`Error::Malformed`], not dropped. [`decode_chart`] is a pure
//! function of the reply bytes. Errors: `{"chart": {"error": {"code",
//! "description"}}}` with a 4xx; 429 with a plain-text body.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime};
use quant_core::Bar;
use serde::Deserialize;

use crate::config::ClientSettings;
use crate::error::{Error, Result};
use crate::http::{Limits, Transport};
use crate::{BarRequest, DataProvider};

/// The chart host.
pub const DEFAULT_BASE_URL: &str = "https://query2.finance.yahoo.com";

/// Largest reply read by default, bytes (decades of daily rows are a few
/// MiB).
pub const MAX_BODY_BYTES: u64 = 8 << 20;

/// Pages of one call: the chart endpoint does not page.
pub const MAX_PAGES: u32 = 1;

/// A cash dividend per share, in the instrument's currency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dividend {
    /// Ex-date (exchange-local).
    pub date: NaiveDate,
    /// Amount per share.
    pub amount: f64,
}

/// A split: `numerator` new shares for `denominator` old ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// Effective date (exchange-local).
    pub date: NaiveDate,
    /// New shares.
    pub numerator: f64,
    /// Old shares.
    pub denominator: f64,
}

/// Bars and corporate actions of one request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chart {
    /// Split-adjusted bars, `adj_factor` from `adjclose` (see the module).
    pub bars: Vec<Bar>,
    /// Dividends, ascending.
    pub dividends: Vec<Dividend>,
    /// Splits, ascending.
    pub splits: Vec<Split>,
    /// Currency from `meta.currency` (empty when absent).
    pub currency: String,
}

/// A Yahoo chart client.
#[derive(Debug)]
pub struct Yahoo {
    http: Transport,
    base_url: String,
}

#[derive(Deserialize)]
struct Envelope {
    chart: ChartBody,
}

#[derive(Deserialize)]
struct ChartBody {
    result: Option<Vec<ResultBody>>,
    error: Option<ApiError>,
}

#[derive(Deserialize)]
struct ApiError {
    code: String,
    description: String,
}

#[derive(Deserialize)]
struct ResultBody {
    meta: Meta,
    #[serde(default)]
    timestamp: Vec<i64>,
    #[serde(default)]
    events: Events,
    indicators: Indicators,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    symbol: Option<String>,
    #[serde(default)]
    gmtoffset: i64,
}

#[derive(Deserialize, Default)]
struct Events {
    #[serde(default)]
    dividends: BTreeMap<String, DivBody>,
    #[serde(default)]
    splits: BTreeMap<String, SplitBody>,
}

#[derive(Deserialize)]
struct DivBody {
    amount: f64,
    date: i64,
}

#[derive(Deserialize)]
struct SplitBody {
    date: i64,
    numerator: f64,
    denominator: f64,
}

#[derive(Deserialize)]
struct Indicators {
    quote: Vec<Quote>,
    #[serde(default)]
    adjclose: Vec<AdjClose>,
}

#[derive(Deserialize)]
struct Quote {
    open: Vec<Option<f64>>,
    high: Vec<Option<f64>>,
    low: Vec<Option<f64>>,
    close: Vec<Option<f64>>,
    volume: Vec<Option<f64>>,
}

#[derive(Deserialize)]
struct AdjClose {
    adjclose: Vec<Option<f64>>,
}

/// `600519.SH` → `600519.SS` (Yahoo's Shanghai suffix); others unchanged.
pub fn venue_symbol(symbol: &str) -> String {
    match symbol.strip_suffix(".SH") {
        Some(code) => format!("{code}.SS"),
        None => symbol.to_string(),
    }
}

fn malformed(detail: String) -> Error {
    Error::Malformed {
        provider: "yahoo".into(),
        call: "chart".into(),
        detail,
    }
}

fn api_error(e: ApiError) -> Error {
    Error::Api {
        provider: "yahoo".into(),
        call: "chart".into(),
        code: 0,
        msg: format!("{}: {}", e.code, e.description),
    }
}

/// `t + offset` seconds as a date, without overflow.
fn local_date(t: i64, offset: i64) -> Result<NaiveDate> {
    t.checked_add(offset)
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map(|d| d.date_naive())
        .ok_or_else(|| malformed(format!("bad timestamp {t} (gmtoffset {offset})")))
}

/// Decodes a chart reply (a 2xx body) for `req`: the reply's
/// `meta.symbol` (when given) must be `req`'s symbol as Yahoo spells it,
/// and every bar must fall inside `[req.start, req.end]` (exchange-local
/// dates). All-null rows are dropped; `adj_factor = adjclose / close`.
/// Dividends and splits are returned as given. Pure: any bytes give a
/// chart or an error, never a panic.
///
/// # Errors
/// [`Error::Api`] for `chart.error`; [`Error::Malformed`] naming the row
/// and value: not the chart JSON, columns of unequal lengths, a row with
/// some prices null, a bad timestamp, dates not ascending, a bar of
/// another symbol or outside the range, a factor or split that is not
/// positive and finite.
pub fn decode_chart(req: &BarRequest, body: &[u8]) -> Result<Chart> {
    let env: Envelope =
        serde_json::from_slice(body).map_err(|e| malformed(format!("not the chart JSON: {e}")))?;
    if let Some(e) = env.chart.error {
        return Err(api_error(e));
    }
    let Some(r) = env.chart.result.and_then(|v| v.into_iter().next()) else {
        return Ok(Chart::default());
    };
    let want = venue_symbol(&req.symbol);
    if let Some(got) = &r.meta.symbol
        && !got.eq_ignore_ascii_case(&want)
    {
        return Err(malformed(format!(
            "reply for symbol {got:?}, not the requested {want}"
        )));
    }
    let offset = r.meta.gmtoffset;
    let q = r
        .indicators
        .quote
        .first()
        .ok_or_else(|| malformed("no indicators.quote".into()))?;
    let n = r.timestamp.len();
    for (name, len) in [
        ("open", q.open.len()),
        ("high", q.high.len()),
        ("low", q.low.len()),
        ("close", q.close.len()),
        ("volume", q.volume.len()),
    ] {
        if len != n {
            return Err(malformed(format!("{n} timestamps but {len} {name} values")));
        }
    }
    let adj = r.indicators.adjclose.first().map(|a| &a.adjclose);
    let mut bars: Vec<Bar> = Vec::with_capacity(n);
    for (i, &t) in r.timestamp.iter().enumerate() {
        let at = |col: &[Option<f64>]| col.get(i).copied().flatten();
        let (o, h, l, c) = (at(&q.open), at(&q.high), at(&q.low), at(&q.close));
        let (Some(open), Some(high), Some(low), Some(close)) = (o, h, l, c) else {
            if o.is_some() || h.is_some() || l.is_some() || c.is_some() {
                return Err(malformed(format!("row {i}: some prices null, others not")));
            }
            continue; // no trade that day
        };
        let date = local_date(t, offset)?;
        if date < req.start || date > req.end {
            return Err(malformed(format!(
                "row {i}: {date} is outside the requested {}..{} of {want}",
                req.start, req.end
            )));
        }
        if bars.last().is_some_and(|p| p.date >= date) {
            return Err(malformed(format!(
                "row {i}: {date} is not after the previous row"
            )));
        }
        let factor = match adj.and_then(|a| a.get(i).copied().flatten()) {
            None => 1.0,
            Some(ac) => {
                let f = ac / close;
                if !(f.is_finite() && f > 0.0) {
                    return Err(malformed(format!(
                        "row {i} ({date}): adjclose {ac} / close {close} is not a positive factor"
                    )));
                }
                f
            }
        };
        bars.push(Bar {
            date,
            open,
            high,
            low,
            close,
            pre_close: f64::NAN,
            volume: at(&q.volume).unwrap_or(0.0),
            amount: f64::NAN,
            adj_factor: factor,
        });
    }
    let mut dividends = r
        .events
        .dividends
        .values()
        .map(|d| {
            Ok(Dividend {
                date: local_date(d.date, offset)?,
                amount: d.amount,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    dividends.sort_by_key(|d| d.date);
    let mut splits = r
        .events
        .splits
        .values()
        .map(|s| {
            let date = local_date(s.date, offset)?;
            if !(s.numerator > 0.0 && s.denominator > 0.0) {
                return Err(malformed(format!(
                    "split on {date}: {}:{} is not a positive ratio",
                    s.numerator, s.denominator
                )));
            }
            Ok(Split {
                date,
                numerator: s.numerator,
                denominator: s.denominator,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    splits.sort_by_key(|s| s.date);
    Ok(Chart {
        bars,
        dividends,
        splits,
        currency: r.meta.currency.unwrap_or_default(),
    })
}

/// Yahoo's own error reply (`{"chart": {"error": …}}`, sent with a 4xx) as
/// an [`Error::Api`]; `None` for any other body.
pub fn decode_error_body(body: &[u8]) -> Option<Error> {
    let env = serde_json::from_slice::<Envelope>(body).ok()?;
    env.chart.error.map(api_error)
}

impl Yahoo {
    /// A client for `base_url` (the chart host or a local fake).
    ///
    /// # Errors
    /// [`Error::Config`] when the HTTP client cannot be built.
    pub fn new(settings: &ClientSettings, base_url: &str) -> Result<Self> {
        Ok(Self {
            http: Transport::with_limits(
                "yahoo",
                settings,
                Limits {
                    max_body_bytes: MAX_BODY_BYTES,
                    max_pages: MAX_PAGES,
                },
            )?,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }

    /// Daily bars with dividends and splits.
    ///
    /// # Errors
    /// See [`Error`]; Yahoo's `chart.error` (unknown symbol…) is an
    /// [`Error::Api`] carrying its description.
    pub async fn daily_with_events(&self, req: &BarRequest) -> Result<Chart> {
        let url = format!(
            "{}/v8/finance/chart/{}",
            self.base_url,
            venue_symbol(&req.symbol)
        );
        let p1 = req.start.and_time(NaiveTime::MIN).and_utc().timestamp();
        let p2 = req
            .end
            .succ_opt()
            .unwrap_or(req.end)
            .and_time(NaiveTime::MIN)
            .and_utc()
            .timestamp();
        let query = [
            ("period1", p1.to_string()),
            ("period2", p2.to_string()),
            ("interval", "1d".to_string()),
            ("events", "div,splits".to_string()),
        ];
        self.http
            .call(
                "chart",
                |c| c.get(&url).query(&query),
                |r| decode_chart(req, &r.body),
            )
            .await
            // the JSON error body that comes with a 4xx
            .map_err(|e| e.or_api_body(|body| decode_error_body(body.as_bytes())))
    }
}

#[async_trait]
impl DataProvider for Yahoo {
    fn name(&self) -> &str {
        "yahoo"
    }

    async fn daily_bars(&self, req: &BarRequest) -> Result<Vec<Bar>> {
        Ok(self.daily_with_events(req).await?.bars)
    }

    /// Index bars: the symbol gets Yahoo's `^` prefix when it lacks one.
    async fn index_daily(&self, req: &BarRequest) -> Result<Vec<Bar>> {
        let mut r = req.clone();
        if !r.symbol.starts_with('^') && !r.symbol.contains('.') {
            r.symbol = format!("^{}", r.symbol);
        }
        self.daily_bars(&r).await
    }
}
