//! Intraday bars (5-minute A-share ETFs, hourly crypto) read as the files
//! are (`shared/data/README.md`): a `datetime` column, then
//! `open,high,low,close,volume[,amount]`.
//!
//! | `datetime` form | zone | stamps the bar's |
//! |---|---|---|
//! | `YYYY-MM-DD HH:MM[:SS]` (A-share TDX exports) | the exchange's (Asia/Shanghai) | end |
//! | `YYYY-MM-DDTHH:MM:SSZ` (Binance) | UTC | open |
//!
//! Every bar is keyed by its **close** instant ([`Sessions::bar_close`]):
//! the moment it becomes known. The interval is inferred from the stamps
//! (the most common gap between consecutive bars of one trading day) and
//! must be one of [`Interval::ALL`]; every bar must lie wholly inside a
//! session of its exchange ([`Sessions::holds_bar`]: no bar over the
//! A-share lunch break). Rows follow the row rules and plausibility bounds
//! of [`crate::validate`] and must be strictly increasing in time; the
//! first bad row fails the file with its line and column.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDateTime;
use quant_core::{Bar, Exchange, Interval, Sessions, StampAt, Symbol, UnixNanos};

use crate::error::{Error, Result};

/// One instrument's intraday bars in columns of equal length, keyed by
/// close instant (strictly increasing). Prices raw, in the quote currency;
/// volume in shares (coins); amount in quote currency (NaN when absent).
#[derive(Debug, Clone, PartialEq)]
pub struct IntradaySeries {
    /// Ticker (the file stem, normalised).
    pub symbol: Symbol,
    /// The exchange whose sessions the bars lie in.
    pub exchange: Exchange,
    /// Bar length, inferred from the stamps.
    pub interval: Interval,
    /// What the source's stamps named.
    pub stamped_at: StampAt,
    /// Close instants (when each bar becomes known).
    pub close_times: Vec<UnixNanos>,
    /// Opening prices.
    pub open: Vec<f64>,
    /// Highs.
    pub high: Vec<f64>,
    /// Lows.
    pub low: Vec<f64>,
    /// Closing prices.
    pub close: Vec<f64>,
    /// Volumes.
    pub volume: Vec<f64>,
    /// Turnover (NaN when the file has none).
    pub amount: Vec<f64>,
}

impl IntradaySeries {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.close_times.len()
    }

    /// True when there is no bar.
    pub fn is_empty(&self) -> bool {
        self.close_times.is_empty()
    }

    /// The trading day (exchange-local date) of bar `i`'s open.
    pub fn trading_day(&self, i: usize) -> Option<chrono::NaiveDate> {
        let t = self.close_times.get(i)?.checked_sub(1)?;
        Some(Sessions::of(self.exchange).trading_day(t))
    }
}

/// A parsed stamp: the instant, and the convention its form implies.
fn parse_stamp(text: &str, tz: &chrono_tz::Tz) -> Option<(UnixNanos, StampAt)> {
    if let Some(t) = text.strip_suffix('Z') {
        let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok()?;
        return Some((UnixNanos::from_utc(naive.and_utc())?, StampAt::Open));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .ok()?;
    Some((UnixNanos::from_local(tz, naive)?, StampAt::Close))
}

/// Reads and validates an intraday bar file of an instrument traded on
/// `exchange` (see the module documentation).
///
/// # Errors
/// [`Error::Io`], [`Error::Csv`], [`Error::MissingColumn`];
/// [`Error::BadRow`] naming line and column for a field that does not
/// parse, a stamp out of order, a bar outside the sessions, a mixed stamp
/// form, or a row that breaks the row rules; [`Error::Table`] when no
/// interval can be inferred.
pub fn read_intraday_csv(path: &Path, exchange: Exchange) -> Result<IntradaySeries> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    read_intraday_from(std::io::BufReader::new(file), path, exchange)
}

/// [`read_intraday_csv`] from any reader; `path` names the source in
/// errors and gives the symbol. Never panics, whatever the bytes.
///
/// # Errors
/// As [`read_intraday_csv`].
pub fn read_intraday_from(
    reader: impl std::io::Read,
    path: &Path,
    exchange: Exchange,
) -> Result<IntradaySeries> {
    let symbol = crate::csv_io::symbol_from_path(path)?;
    let tz = exchange.timezone();
    let sessions = Sessions::of(exchange);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let headers = rdr
        .byte_headers()
        .map_err(|source| Error::Csv {
            path: path.to_path_buf(),
            source,
        })?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h == name.as_bytes());
    let need = |name: &'static str| {
        find(name).ok_or_else(|| Error::MissingColumn {
            path: path.to_path_buf(),
            column: name,
            have: headers
                .iter()
                .map(|h| String::from_utf8_lossy(h).into_owned())
                .collect::<Vec<_>>()
                .join(","),
        })
    };
    let cols = [
        need("datetime")?,
        need("open")?,
        need("high")?,
        need("low")?,
        need("close")?,
        need("volume")?,
    ];
    let c_amount = find("amount");
    let bad = |line: u64, col: Option<(usize, &str)>, reason: String| Error::BadRow {
        path: path.to_path_buf(),
        line,
        column: col.map(|(c, n)| format!("{} ({n})", c + 1)),
        reason,
    };
    let mut stamps: Vec<(UnixNanos, u64)> = Vec::new();
    let mut rows: Vec<[f64; 6]> = Vec::new();
    let mut form: Option<StampAt> = None;
    let mut rec = csv::ByteRecord::new();
    let mut line: u64 = 1;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(source) => {
                return Err(Error::Csv {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        line = rec.position().map_or(line + 1, csv::Position::line);
        let text = |c: usize, name: &str| -> Result<&str> {
            std::str::from_utf8(rec.get(c).unwrap_or_default())
                .map(str::trim)
                .map_err(|_| bad(line, Some((c, name)), "invalid UTF-8".into()))
        };
        let num = |c: usize, name: &str| -> Result<f64> {
            let s = text(c, name)?;
            s.parse::<f64>().map_err(|_| {
                bad(
                    line,
                    Some((c, name)),
                    format!(
                        "{name} `{}` is not a number",
                        s.chars().take(40).collect::<String>()
                    ),
                )
            })
        };
        let stamp_text = text(cols[0], "datetime")?;
        let (stamp, at) = parse_stamp(stamp_text, &tz).ok_or_else(|| {
            bad(
                line,
                Some((cols[0], "datetime")),
                format!(
                    "`{}` is neither `YYYY-MM-DD HH:MM` (local) nor `YYYY-MM-DDTHH:MM:SSZ` (UTC)",
                    stamp_text.chars().take(40).collect::<String>()
                ),
            )
        })?;
        match form {
            None => form = Some(at),
            Some(f) if f != at => {
                return Err(bad(
                    line,
                    Some((cols[0], "datetime")),
                    "mixes local and UTC stamps".into(),
                ));
            }
            Some(_) => {}
        }
        if let Some((prev, _)) = stamps.last()
            && stamp <= *prev
        {
            return Err(bad(
                line,
                Some((cols[0], "datetime")),
                format!("{stamp} is not after the previous row's {prev} (rows must be sorted)"),
            ));
        }
        let amount = match c_amount {
            Some(c) if !text(c, "amount")?.is_empty() => num(c, "amount")?,
            _ => f64::NAN,
        };
        rows.push([
            num(cols[1], "open")?,
            num(cols[2], "high")?,
            num(cols[3], "low")?,
            num(cols[4], "close")?,
            num(cols[5], "volume")?,
            amount,
        ]);
        stamps.push((stamp, line));
    }
    let stamped_at = form.unwrap_or(StampAt::Close);
    let interval = infer_interval(&stamps, &sessions).ok_or_else(|| Error::Table {
        path: path.to_path_buf(),
        message:
            "cannot tell the bar interval: consecutive bars are not 1m, 5m, 15m, 30m or 1h apart"
                .into(),
    })?;
    let n = rows.len();
    let mut out = IntradaySeries {
        symbol,
        exchange,
        interval,
        stamped_at,
        close_times: Vec::with_capacity(n),
        open: Vec::with_capacity(n),
        high: Vec::with_capacity(n),
        low: Vec::with_capacity(n),
        close: Vec::with_capacity(n),
        volume: Vec::with_capacity(n),
        amount: Vec::with_capacity(n),
    };
    for ((stamp, line), [o, h, l, c, v, a]) in stamps.into_iter().zip(rows) {
        let close_at = sessions
            .bar_close(stamp, stamped_at, interval)
            .ok_or_else(|| bad(line, None, format!("{stamp}: out of range")))?;
        if !sessions.holds_bar(close_at, interval) {
            return Err(bad(
                line,
                None,
                format!(
                    "the {interval} bar ending {} ({} local) is outside the {:?} sessions",
                    close_at,
                    close_at.local(&tz),
                    exchange
                ),
            ));
        }
        let date = sessions.trading_day(close_at.checked_sub(1).unwrap_or(close_at));
        let bar = Bar {
            date,
            open: o,
            high: h,
            low: l,
            close: c,
            pre_close: f64::NAN,
            volume: v,
            amount: a,
            adj_factor: 1.0,
        };
        crate::validate::check_bar(&bar, None).map_err(|r| bad(line, None, r))?;
        out.close_times.push(close_at);
        out.open.push(o);
        out.high.push(h);
        out.low.push(l);
        out.close.push(c);
        out.volume.push(v);
        out.amount.push(a);
    }
    Ok(out)
}

/// The most common gap between consecutive stamps of one trading day,
/// when it is a known intraday interval.
fn infer_interval(stamps: &[(UnixNanos, u64)], sessions: &Sessions) -> Option<Interval> {
    let mut gaps: BTreeMap<i64, usize> = BTreeMap::new();
    for w in stamps.windows(2) {
        let (a, b) = (w[0].0, w[1].0);
        if sessions.trading_day(a) == sessions.trading_day(b) {
            *gaps.entry(b.0 - a.0).or_insert(0) += 1;
        }
    }
    let (gap, _) = gaps
        .iter()
        .max_by_key(|(g, n)| (**n, std::cmp::Reverse(**g)))?;
    Interval::from_nanos(*gap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, text: &str, ex: Exchange) -> Result<IntradaySeries> {
        read_intraday_from(text.as_bytes(), Path::new(name), ex)
    }

    const ETF: &str = "datetime,open,high,low,close,volume,amount\n\
        2021-04-22 09:35,5.101,5.118,5.088,5.09,29487900,150510976\n\
        2021-04-22 09:40,5.09,5.096,5.081,5.091,18135700,92250512\n\
        2021-04-22 09:45,5.091,5.1,5.09,5.095,1000,5095\n";

    #[test]
    fn a_share_bars_are_keyed_by_their_end_in_beijing_time() {
        let s = read("510300.SH.csv", ETF, Exchange::Sse).unwrap();
        assert_eq!(s.interval, Interval::M5);
        assert_eq!(s.stamped_at, StampAt::Close);
        assert_eq!(s.close_times[0].to_string(), "2021-04-22T01:35:00Z");
        assert_eq!(s.trading_day(0), "2021-04-22".parse().ok());
        assert_eq!(s.amount[2], 5095.0);
    }

    #[test]
    fn crypto_bars_move_from_their_open_to_their_close() {
        let text = "datetime,open,high,low,close,volume\n\
            2017-08-17T22:00:00Z,4261.48,4313.62,4261.32,4308.83,47.181009\n\
            2017-08-17T23:00:00Z,4308.83,4328.69,4291.37,4315.32,23.234916\n";
        let s = read("BTC-USDT.csv", text, Exchange::Crypto).unwrap();
        assert_eq!(s.interval, Interval::H1);
        assert_eq!(s.close_times[1].to_string(), "2017-08-18T00:00:00Z");
        assert_eq!(
            s.trading_day(1),
            "2017-08-17".parse().ok(),
            "the bar of 23:00 belongs to its day"
        );
        assert!(s.amount[0].is_nan());
    }

    #[test]
    fn bad_rows_are_located() {
        let cases = [
            (
                "2021-04-22 09:40,5.09,5.096,5.081,5.091,1,1\n",
                "rows must be sorted",
            ),
            (
                "2021-04-22 12:00,5.09,5.096,5.081,5.091,1,1\n",
                "outside the Sse sessions",
            ),
            (
                "2021-04-22 09:50,5.09,5.0,5.081,5.091,1,1\n",
                "high 5 is below",
            ),
            (
                "2021-04-22 09:50,5.09,x,5.081,5.091,1,1\n",
                "column 3 (high): high `x`",
            ),
            (
                "2021-04-22T01:50:00Z,5.09,5.1,5.081,5.091,1,1\n",
                "mixes local and UTC",
            ),
            ("22/04/2021 09:50,5.09,5.1,5.081,5.091,1,1\n", "is neither"),
        ];
        for (row, want) in cases {
            let err = read("510300.SH.csv", &format!("{ETF}{row}"), Exchange::Sse)
                .unwrap_err()
                .to_string();
            assert!(err.contains("510300.SH.csv:5"), "{err}");
            assert!(err.contains(want), "{err} should contain {want}");
        }
        let err = read("X.csv", "date,open,high,low,close,volume\n", Exchange::Sse).unwrap_err();
        assert!(
            err.to_string().contains("missing column `datetime`"),
            "{err}"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_an_error_or_bars(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut text = ETF.as_bytes().to_vec();
            text.extend(bytes);
            let _ = read_intraday_from(&text[..], Path::new("510300.SH.csv"), Exchange::Sse);
        }
    }
}
