//! Time for every mode: instants in UTC nanoseconds, bar intervals and
//! their stamp conventions, and exchange sessions.
//!
//! An instant is a [`UnixNanos`] (nanoseconds since 1970-01-01 UTC); the
//! exchange's time zone ([`Exchange::timezone`]) gives its local time, its
//! trading day and its sessions. A bar covers `[close − interval, close)`
//! and is known at its close: [`Sessions::bar_close`] turns a source's
//! stamp (A-share intraday files stamp the bar's **end** in Beijing time;
//! Binance stamps the **open** in UTC) into that close instant, so a
//! strategy can never see a bar before it has ended.
//!
//! Sessions (`shared/docs/protocols/a-share-rules.md`, exchange rules):
//!
//! | exchange | local sessions |
//! |---|---|
//! | SSE, SZSE, BSE | 09:30–11:30, 13:00–15:00 Asia/Shanghai (continuous auction; the 14:57–15:00 closing call of SZSE is inside the last segment) |
//! | US | 09:30–16:00 America/New_York (regular hours) |
//! | crypto | 00:00–24:00 UTC, every day |
//!
//! Holidays are not here: which days are trading days is the
//! [`crate::TradingCalendar`]'s (built from index bars), sessions say what
//! hours of a trading day trade.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::instrument::Exchange;

/// Nanoseconds in one second.
const NANOS_PER_SEC: i64 = 1_000_000_000;

/// An instant: nanoseconds since 1970-01-01 00:00:00 UTC (covers the
/// years 1677..2262).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixNanos(pub i64);

impl UnixNanos {
    /// The instant of a UTC date-time; `None` outside 1677..2262.
    pub fn from_utc(t: DateTime<Utc>) -> Option<Self> {
        t.timestamp_nanos_opt().map(Self)
    }

    /// The instant of `local` in the zone `tz`; `None` for a local time
    /// that does not exist or is ambiguous there (a DST change) or is
    /// outside the covered years.
    pub fn from_local<Tz: TimeZone>(tz: &Tz, local: NaiveDateTime) -> Option<Self> {
        let t = tz.from_local_datetime(&local).single()?;
        Self::from_utc(t.with_timezone(&Utc))
    }

    /// The UTC date-time of this instant.
    pub fn to_utc(self) -> DateTime<Utc> {
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let nanos = u32::try_from(self.0.rem_euclid(NANOS_PER_SEC)).unwrap_or(0);
        DateTime::from_timestamp(secs, nanos).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The local date-time of this instant in `tz`.
    pub fn local<Tz: TimeZone>(self, tz: &Tz) -> NaiveDateTime {
        self.to_utc().with_timezone(tz).naive_local()
    }

    /// `self + nanos`, `None` on overflow.
    pub fn checked_add(self, nanos: i64) -> Option<Self> {
        self.0.checked_add(nanos).map(Self)
    }

    /// `self − nanos`, `None` on overflow.
    pub fn checked_sub(self, nanos: i64) -> Option<Self> {
        self.0.checked_sub(nanos).map(Self)
    }
}

impl fmt::Display for UnixNanos {
    /// RFC 3339 in UTC, with nanoseconds only when there are any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.to_utc();
        if self.0.rem_euclid(NANOS_PER_SEC) == 0 {
            write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%SZ"))
        } else {
            write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S%.9fZ"))
        }
    }
}

/// A bar's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Interval {
    /// One minute.
    M1,
    /// Five minutes.
    M5,
    /// Fifteen minutes.
    M15,
    /// Thirty minutes.
    M30,
    /// One hour.
    H1,
    /// One trading day (a daily bar: the whole of the day's sessions).
    D1,
}

impl Interval {
    /// Every interval, shortest first.
    pub const ALL: [Interval; 6] = [Self::M1, Self::M5, Self::M15, Self::M30, Self::H1, Self::D1];

    /// The length in nanoseconds (a day counts 24 hours; a daily bar's
    /// real span is its sessions).
    pub fn nanos(self) -> i64 {
        let minutes: i64 = match self {
            Self::M1 => 1,
            Self::M5 => 5,
            Self::M15 => 15,
            Self::M30 => 30,
            Self::H1 => 60,
            Self::D1 => 24 * 60,
        };
        minutes * 60 * NANOS_PER_SEC
    }

    /// `1m`, `5m`, `15m`, `30m`, `1h`, `1d`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::M1 => "1m",
            Self::M5 => "5m",
            Self::M15 => "15m",
            Self::M30 => "30m",
            Self::H1 => "1h",
            Self::D1 => "1d",
        }
    }

    /// The interval `nanos` long, if it is one of [`Interval::ALL`] below
    /// a day.
    pub fn from_nanos(nanos: i64) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|i| *i != Self::D1 && i.nanos() == nanos)
    }

    /// Whether bars of this interval roll up into bars of `coarser`
    /// (each `coarser` bar is a whole number of these).
    pub fn divides(self, coarser: Interval) -> bool {
        coarser == Self::D1 || (coarser.nanos() % self.nanos() == 0 && coarser >= self)
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interval {
    type Err = Error;

    /// `1m`, `5m`, `15m`, `30m`, `1h` (or `60m`), `1d` (or `d`, `daily`).
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim() {
            "1m" => Self::M1,
            "5m" => Self::M5,
            "15m" => Self::M15,
            "30m" => Self::M30,
            "1h" | "60m" => Self::H1,
            "1d" | "d" | "daily" => Self::D1,
            other => {
                return Err(Error::InvalidValue {
                    what: "interval",
                    value: format!("{other:?} (one of 1m, 5m, 15m, 30m, 1h, 1d)"),
                });
            }
        })
    }
}

impl TryFrom<String> for Interval {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Interval> for String {
    fn from(i: Interval) -> Self {
        i.as_str().to_string()
    }
}

/// Which end of its window a source's bar stamp names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StampAt {
    /// The bar's open (Binance klines, Yahoo).
    Open,
    /// The bar's end (A-share TDX exports: `09:35` is the first 5-minute bar).
    Close,
}

/// One exchange's trading hours on a trading day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sessions {
    exchange: Exchange,
    /// Local `[start, end)` segments, in order; a segment ending at
    /// midnight is written with `end` = `None`.
    segments: Vec<(NaiveTime, Option<NaiveTime>)>,
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl Sessions {
    /// The sessions of `exchange` (see the module documentation).
    pub fn of(exchange: Exchange) -> Self {
        let segments = match exchange {
            Exchange::Sse | Exchange::Szse | Exchange::Bse => {
                vec![(hm(9, 30), Some(hm(11, 30))), (hm(13, 0), Some(hm(15, 0)))]
            }
            Exchange::Us => vec![(hm(9, 30), Some(hm(16, 0)))],
            Exchange::Crypto => vec![(NaiveTime::MIN, None)],
        };
        Self { exchange, segments }
    }

    /// The exchange.
    pub fn exchange(&self) -> Exchange {
        self.exchange
    }

    /// The local trading day of instant `t` (the calendar date in the
    /// exchange's zone; crypto days are UTC days).
    pub fn trading_day(&self, t: UnixNanos) -> NaiveDate {
        t.local(&self.exchange.timezone()).date()
    }

    /// The UTC instants `[start, end)` of each session segment of `day`
    /// (whether `day` trades at all is the calendar's question).
    pub fn segments_on(&self, day: NaiveDate) -> Vec<(UnixNanos, UnixNanos)> {
        let tz = self.exchange.timezone();
        self.segments
            .iter()
            .filter_map(|(s, e)| {
                let start = UnixNanos::from_local(&tz, day.and_time(*s))?;
                let end = match e {
                    Some(e) => UnixNanos::from_local(&tz, day.and_time(*e))?,
                    None => UnixNanos::from_local(&tz, day.succ_opt()?.and_time(NaiveTime::MIN))?,
                };
                Some((start, end))
            })
            .collect()
    }

    /// The first session's opening instant on `day`.
    pub fn open_on(&self, day: NaiveDate) -> Option<UnixNanos> {
        self.segments_on(day).first().map(|s| s.0)
    }

    /// The last session's closing instant on `day`.
    pub fn close_on(&self, day: NaiveDate) -> Option<UnixNanos> {
        self.segments_on(day).last().map(|s| s.1)
    }

    /// Whether instant `t` is inside a session (`[start, end)`).
    pub fn is_open(&self, t: UnixNanos) -> bool {
        self.segments_on(self.trading_day(t))
            .iter()
            .any(|(s, e)| *s <= t && t < *e)
    }

    /// The close instant of a bar stamped `stamp` with `at` convention.
    /// `None` on overflow.
    pub fn bar_close(
        &self,
        stamp: UnixNanos,
        at: StampAt,
        interval: Interval,
    ) -> Option<UnixNanos> {
        match at {
            StampAt::Close => Some(stamp),
            StampAt::Open => stamp.checked_add(interval.nanos()),
        }
    }

    /// Whether the intraday bar closing at `close` lies wholly inside one
    /// session segment of its day: `[close − interval, close]` within
    /// `[start, end]` (a bar may end exactly at the segment's end).
    pub fn holds_bar(&self, close: UnixNanos, interval: Interval) -> bool {
        let Some(open) = close.checked_sub(interval.nanos()) else {
            return false;
        };
        self.segments_on(self.trading_day(open))
            .iter()
            .any(|(s, e)| *s <= open && close <= *e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> UnixNanos {
        UnixNanos::from_utc(s.parse::<DateTime<Utc>>().unwrap()).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_share_sessions_have_the_lunch_break() {
        let s = Sessions::of(Exchange::Sse);
        let seg = s.segments_on(day("2021-04-22"));
        let text: Vec<String> = seg.iter().map(|(a, b)| format!("{a}..{b}")).collect();
        assert_eq!(
            text,
            [
                "2021-04-22T01:30:00Z..2021-04-22T03:30:00Z",
                "2021-04-22T05:00:00Z..2021-04-22T07:00:00Z"
            ]
        );
        assert!(s.is_open(utc("2021-04-22T01:30:00Z")));
        assert!(!s.is_open(utc("2021-04-22T04:00:00Z")), "lunch");
        assert!(!s.is_open(utc("2021-04-22T07:00:00Z")), "after the close");
        // the first and last 5-minute bars of each segment, stamped at their end
        for (end, inside) in [
            ("2021-04-22T01:35:00Z", true),  // 09:35
            ("2021-04-22T03:30:00Z", true),  // 11:30
            ("2021-04-22T05:05:00Z", true),  // 13:05
            ("2021-04-22T07:00:00Z", true),  // 15:00
            ("2021-04-22T03:35:00Z", false), // 11:35
            ("2021-04-22T01:30:00Z", false), // 09:30: would start in the call auction
        ] {
            assert_eq!(s.holds_bar(utc(end), Interval::M5), inside, "{end}");
        }
        assert_eq!(
            s.trading_day(utc("2021-04-21T16:30:00Z")),
            day("2021-04-22")
        );
    }

    #[test]
    fn us_sessions_follow_daylight_saving() {
        let s = Sessions::of(Exchange::Us);
        assert_eq!(
            s.open_on(day("2024-01-02")).unwrap().to_string(),
            "2024-01-02T14:30:00Z"
        );
        assert_eq!(
            s.close_on(day("2024-07-01")).unwrap().to_string(),
            "2024-07-01T20:00:00Z"
        );
    }

    #[test]
    fn crypto_trades_around_the_clock_and_open_stamps_move_to_the_close() {
        let s = Sessions::of(Exchange::Crypto);
        let open = utc("2017-08-17T23:00:00Z");
        let close = s.bar_close(open, StampAt::Open, Interval::H1).unwrap();
        assert_eq!(close.to_string(), "2017-08-18T00:00:00Z");
        assert!(s.holds_bar(close, Interval::H1));
        assert_eq!(s.trading_day(open), day("2017-08-17"));
        assert_eq!(
            s.close_on(day("2017-08-17")).unwrap().to_string(),
            "2017-08-18T00:00:00Z"
        );
    }

    #[test]
    fn intervals_parse_print_and_nest() {
        for i in Interval::ALL {
            assert_eq!(i.as_str().parse::<Interval>().unwrap(), i);
            let json = serde_json::to_string(&i).unwrap();
            assert_eq!(serde_json::from_str::<Interval>(&json).unwrap(), i);
        }
        assert_eq!("60m".parse::<Interval>().unwrap(), Interval::H1);
        assert!("7m".parse::<Interval>().is_err());
        assert_eq!(
            Interval::from_nanos(300 * NANOS_PER_SEC),
            Some(Interval::M5)
        );
        assert!(Interval::M5.divides(Interval::M15));
        assert!(Interval::M15.divides(Interval::D1));
        assert!(!Interval::H1.divides(Interval::M5));
        assert!(!Interval::M15.divides(Interval::M5));
    }

    #[test]
    fn instants_round_trip_and_print() {
        let t = utc("2024-03-01T07:00:00Z");
        assert_eq!(UnixNanos::from_utc(t.to_utc()), Some(t));
        assert_eq!(
            t.checked_add(1).unwrap().to_string(),
            "2024-03-01T07:00:00.000000001Z"
        );
        let tz = Exchange::Sse.timezone();
        assert_eq!(t.local(&tz).to_string(), "2024-03-01 15:00:00");
        assert_eq!(UnixNanos(i64::MAX).checked_add(1), None);
        assert_eq!(UnixNanos(-1).to_string(), "1969-12-31T23:59:59.999999999Z");
    }

    proptest::proptest! {
        /// A bar closing inside a session is open at every instant of its
        /// window but its end.
        #[test]
        fn held_bars_are_open_throughout(minute in 0i64..(60 * 24), days in 0i64..2000) {
            let s = Sessions::of(Exchange::Szse);
            let base = utc("2019-01-01T00:00:00Z").0 + days * 86_400 * NANOS_PER_SEC;
            let close = UnixNanos(base + minute * 60 * NANOS_PER_SEC);
            if s.holds_bar(close, Interval::M5) {
                for k in 0..5 {
                    let t = UnixNanos(close.0 - Interval::M5.nanos() + k * 60 * NANOS_PER_SEC);
                    proptest::prop_assert!(s.is_open(t), "{t}");
                }
            }
        }
    }
}
