//! Calendar schedules: on which trading day of each day, week, month or
//! quarter a strategy decides, and at which moment of that day.
//!
//! A schedule is a calendar rule, not weekday arithmetic (rules:
//! `shared/docs/runtime.md`, "Time, intervals, calendars, schedules"):
//! `day = 1` is the first **trading day** of the period on the exchange
//! calendar ([`TradingCalendar`], built from index bars), `day = -1` the
//! last, `day = -2` the one before it, and so on. Holidays and make-up
//! workdays come from the calendar: an A-share weekend workday (2024-02-18,
//! a Sunday) is not a trading day, so it is never scheduled.
//!
//! Periods: [`Period::Day`] (each calendar day), [`Period::Week`] (ISO
//! weeks, Monday to Sunday), [`Period::Month`], [`Period::Quarter`]
//! (January–March, April–June, July–September, October–December).
//!
//! A period **has no scheduled day** (it is skipped) when
//! - it holds fewer trading days than `|day|` (a week of the Chinese New
//!   Year holiday with no trading day, a week of one trading day for
//!   `day = 2`), or
//! - the calendar does not reach far enough to know the day: with
//!   `day > 0` the period begins before the calendar's first day (the
//!   trading days before it are unknown), with `day < 0` it ends after the
//!   calendar's last day (trading days after it are unknown).
//!
//! At which moment ([`At`]): `close` decides at the scheduled day's close
//! (a daily run fills at the next trading day's open); `open` trades at
//! the scheduled day's open, so a daily run decides at the close of the
//! trading day **before** it (the information one has before that open)
//! and fills at the scheduled open; `"HH:MM"` (exchange-local) needs
//! intraday bars and is refused on a daily run
//! ([`Schedule::check_daily`]).
//!
//! In TOML a schedule is a named shortcut (`"month_end"`, see
//! [`Schedule::NAMES`]) or an inline table
//! `{ every = "month", day = -1, at = "close" }` (`every` and `day`
//! required, `at` defaults to `"close"`).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::calendar::TradingCalendar;
use crate::error::{Error, Result};

/// Largest `|day|` of a week, month or quarter schedule: 23 (the most
/// weekday trading days a month can have).
pub const MAX_DAY: i32 = 23;

/// The calendar period a schedule picks one trading day of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// Each calendar day (its one trading day, if it is one).
    Day,
    /// ISO week, Monday to Sunday.
    Week,
    /// Calendar month.
    Month,
    /// Calendar quarter: Jan–Mar, Apr–Jun, Jul–Sep, Oct–Dec.
    Quarter,
}

impl Period {
    /// The TOML names, as error messages list them.
    pub const NAMES: &'static str = "day, week, month, quarter";

    /// The TOML name: `day`, `week`, `month`, `quarter`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
        }
    }

    /// Largest `|day|` this period allows: 1 for a day, 7 for a week (a
    /// market trading every day, such as crypto), [`MAX_DAY`] for a month or
    /// a quarter.
    pub fn max_day(self) -> i32 {
        match self {
            Self::Day => 1,
            Self::Week => 7,
            Self::Month | Self::Quarter => MAX_DAY,
        }
    }

    /// First and last calendar dates (inclusive) of the period containing
    /// `date` (clamped to [`NaiveDate::MIN`]/[`NaiveDate::MAX`] at the ends
    /// of chrono's range).
    pub fn bounds(self, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Self::Day => (date, date),
            Self::Week => {
                let back = u64::from(date.weekday().num_days_from_monday());
                let monday = date
                    .checked_sub_days(Days::new(back))
                    .unwrap_or(NaiveDate::MIN);
                let sunday = monday
                    .checked_add_days(Days::new(6))
                    .unwrap_or(NaiveDate::MAX);
                (monday, sunday)
            }
            Self::Month => (
                first_of(date.year(), date.month()),
                last_of(date.year(), date.month()),
            ),
            Self::Quarter => {
                let m = (date.month() - 1) / 3 * 3 + 1;
                (first_of(date.year(), m), last_of(date.year(), m + 2))
            }
        }
    }
}

impl FromStr for Period {
    type Err = Error;

    /// Parses a TOML name (`week`).
    ///
    /// # Errors
    /// [`Error::Schedule`] for key `every` listing [`Period::NAMES`].
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "day" => Self::Day,
            "week" => Self::Week,
            "month" => Self::Month,
            "quarter" => Self::Quarter,
            other => {
                return Err(bad(
                    "every",
                    format!("unknown period `{other}`; expected one of: {}", Self::NAMES),
                ));
            }
        })
    }
}

/// The first day of month `m` of year `y` (`NaiveDate::MIN` outside
/// chrono's range).
fn first_of(y: i32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MIN)
}

/// The last day of month `m` of year `y` (`NaiveDate::MAX` at the end of
/// chrono's range).
fn last_of(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// The moment of the scheduled day at which the schedule trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum At {
    /// At the close: decided with the scheduled day's bar.
    Close,
    /// At the open: decided before it, with what is known at the previous
    /// trading day's close.
    Open,
    /// At a time of day, exchange-local (Beijing time for SSE/SZSE); needs
    /// intraday bars.
    Time(NaiveTime),
}

impl At {
    /// `close`, `open` or `HH:MM`.
    fn text(self) -> String {
        match self {
            Self::Close => "close".into(),
            Self::Open => "open".into(),
            Self::Time(t) => t.format("%H:%M").to_string(),
        }
    }
}

impl FromStr for At {
    type Err = Error;

    /// Parses `close`, `open` or a 24-hour `HH:MM` (`14:50`).
    ///
    /// # Errors
    /// [`Error::Schedule`] for key `at` naming the allowed values.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "close" => return Ok(Self::Close),
            "open" => return Ok(Self::Open),
            _ => {}
        }
        let b = s.as_bytes();
        let shaped =
            b.len() == 5 && b[2] == b':' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit());
        match NaiveTime::parse_from_str(s, "%H:%M") {
            Ok(t) if shaped => Ok(Self::Time(t)),
            _ => Err(bad(
                "at",
                format!(
                    "expected \"close\", \"open\" or a 24-hour exchange-local time \"HH:MM\" (\"14:50\"), got `{s}`"
                ),
            )),
        }
    }
}

/// A calendar schedule: trading day `day` of each `every` period, at `at`.
/// See the module docs for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Schedule {
    every: Period,
    day: i32,
    at: At,
}

/// The named shortcuts, in the order error messages list them.
const SHORTCUTS: [(&str, Schedule); 9] = [
    ("daily", Schedule::DAILY),
    ("weekly", Schedule::WEEKLY),
    ("monthly", Schedule::MONTHLY),
    ("week_start", Schedule::WEEK_START),
    ("week_end", Schedule::WEEK_END),
    ("month_start", Schedule::MONTH_START),
    ("month_end", Schedule::MONTH_END),
    ("quarter_start", Schedule::QUARTER_START),
    ("quarter_end", Schedule::QUARTER_END),
];

impl Schedule {
    /// `daily`: every trading day at the close.
    pub const DAILY: Self = Self::raw(Period::Day, 1, At::Close);
    /// `weekly`: the first trading day of each ISO week, at the close.
    pub const WEEKLY: Self = Self::raw(Period::Week, 1, At::Close);
    /// `monthly`: the first trading day of each month, at the close.
    pub const MONTHLY: Self = Self::raw(Period::Month, 1, At::Close);
    /// `week_start`: the open of each week's first trading day.
    pub const WEEK_START: Self = Self::raw(Period::Week, 1, At::Open);
    /// `week_end`: the close of each week's last trading day.
    pub const WEEK_END: Self = Self::raw(Period::Week, -1, At::Close);
    /// `month_start`: the open of each month's first trading day.
    pub const MONTH_START: Self = Self::raw(Period::Month, 1, At::Open);
    /// `month_end`: the close of each month's last trading day.
    pub const MONTH_END: Self = Self::raw(Period::Month, -1, At::Close);
    /// `quarter_start`: the open of each quarter's first trading day.
    pub const QUARTER_START: Self = Self::raw(Period::Quarter, 1, At::Open);
    /// `quarter_end`: the close of each quarter's last trading day.
    pub const QUARTER_END: Self = Self::raw(Period::Quarter, -1, At::Close);

    /// The shortcut names, as error messages list them.
    pub const NAMES: &'static str = "daily, weekly, monthly, week_start, week_end, month_start, month_end, quarter_start, quarter_end";

    const fn raw(every: Period, day: i32, at: At) -> Self {
        Self { every, day, at }
    }

    /// A checked schedule.
    ///
    /// # Errors
    /// [`Error::Schedule`] for key `day` when `day` is 0 or `|day|` exceeds
    /// the period's [`Period::max_day`] (1 for a day, 7 for a week, 23 for a
    /// month or quarter).
    pub fn new(every: Period, day: i32, at: At) -> Result<Self> {
        if day == 0 || day.unsigned_abs() > every.max_day().unsigned_abs() {
            return Err(day_error(every, i64::from(day)));
        }
        Ok(Self { every, day, at })
    }

    /// The period.
    pub fn every(&self) -> Period {
        self.every
    }

    /// Which trading day of the period: 1 the first, −1 the last.
    pub fn day(&self) -> i32 {
        self.day
    }

    /// The moment of that day.
    pub fn at(&self) -> At {
        self.at
    }

    /// The shortcut name of this schedule, when it has one.
    pub fn name(&self) -> Option<&'static str> {
        SHORTCUTS.iter().find(|(_, s)| s == self).map(|(n, _)| *n)
    }

    /// The scheduled trading day of the period containing `date` (any date
    /// of it, trading day or not); `None` when the period has none (see the
    /// module docs: too few trading days, or not known to the calendar).
    pub fn scheduled_day(&self, calendar: &TradingCalendar, date: NaiveDate) -> Option<NaiveDate> {
        let days = calendar.days();
        let (first, last) = (*days.first()?, *days.last()?);
        let (start, end) = self.every.bounds(date);
        let lo = days.partition_point(|d| *d < start);
        let hi = days.partition_point(|d| *d <= end).max(lo);
        let period = &days[lo..hi];
        let k = self.day.unsigned_abs() as usize;
        if self.day > 0 {
            if start < first {
                return None;
            }
            period.get(k - 1).copied()
        } else {
            if end > last {
                return None;
            }
            period.len().checked_sub(k).map(|i| period[i])
        }
    }

    /// True when `date` is the scheduled trading day of its period
    /// (`scheduled_day(calendar, date) == Some(date)`).
    pub fn is_due(&self, calendar: &TradingCalendar, date: NaiveDate) -> bool {
        self.scheduled_day(calendar, date) == Some(date)
    }

    /// `Ok` when a daily-bar run can follow the schedule (`at` is `close`
    /// or `open`).
    ///
    /// # Errors
    /// [`Error::Schedule`] for key `at` when `at = "HH:MM"`, which needs
    /// intraday bars.
    pub fn check_daily(&self) -> Result<()> {
        match self.at {
            At::Close | At::Open => Ok(()),
            At::Time(t) => Err(bad(
                "at",
                format!(
                    "\"{}\" needs intraday bars; a daily-bar run decides only at a close (at = \"close\", or at = \"open\" for the next open)",
                    t.format("%H:%M")
                ),
            )),
        }
    }

    /// On a daily-bar run, the trading day at whose close the decision for
    /// the period containing `date` is taken: the scheduled day for
    /// `at = close`; the trading day before it for `at = open` (`None` when
    /// the scheduled day is the calendar's first). Orders then fill at the
    /// next trading day's open: the day after the scheduled day for
    /// `close`, the scheduled day itself for `open`.
    ///
    /// # Errors
    /// As [`Schedule::check_daily`].
    pub fn decision_day(
        &self,
        calendar: &TradingCalendar,
        date: NaiveDate,
    ) -> Result<Option<NaiveDate>> {
        self.check_daily()?;
        let s = self.scheduled_day(calendar, date);
        Ok(match self.at {
            At::Open => s.and_then(|s| calendar.prev_before(s)),
            _ => s,
        })
    }

    /// On a daily-bar run, true when the close of `date` is a decision
    /// ([`Schedule::decision_day`] of some period): `date` is due for
    /// `at = close`; the next trading day is due for `at = open`.
    ///
    /// # Errors
    /// As [`Schedule::check_daily`].
    pub fn decides_at_close(&self, calendar: &TradingCalendar, date: NaiveDate) -> Result<bool> {
        self.check_daily()?;
        Ok(match self.at {
            At::Open => {
                calendar.is_trading_day(date)
                    && calendar
                        .next_after(date)
                        .is_some_and(|next| self.is_due(calendar, next))
            }
            _ => self.is_due(calendar, date),
        })
    }

    /// A schedule from the fields of a TOML table (`at` defaults to close).
    fn from_table(every: &str, day: i64, at: Option<&str>) -> Result<Self> {
        let every: Period = every.parse()?;
        let at = at.map_or(Ok(At::Close), str::parse)?;
        let day = i32::try_from(day).map_err(|_| day_error(every, day))?;
        Self::new(every, day, at)
    }
}

/// The error of a `day` out of `every`'s range.
fn day_error(every: Period, day: i64) -> Error {
    let max = every.max_day();
    let range = if max == 1 {
        "1 or -1".to_string()
    } else {
        format!("an integer in [1, {max}] or [-{max}, -1]")
    };
    bad(
        "day",
        format!(
            "must be {range} for every = \"{}\" (1 = the first trading day of the period, -1 = the last, -2 the one before it), got {day}",
            every.name()
        ),
    )
}

fn bad(key: &'static str, message: String) -> Error {
    Error::Schedule { key, message }
}

impl FromStr for Schedule {
    type Err = Error;

    /// Parses a shortcut name (`month_end`).
    ///
    /// # Errors
    /// [`Error::Schedule`] listing [`Schedule::NAMES`] and the table form.
    fn from_str(s: &str) -> Result<Self> {
        SHORTCUTS
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, sch)| *sch)
            .ok_or_else(|| {
                bad(
                    "",
                    format!(
                        "unknown schedule `{s}`; expected one of: {}, or a table {{ every = \"week\" | \"month\" | \"quarter\", day = 1 | -1 | -2 …, at = \"close\" | \"open\" | \"HH:MM\" }}",
                        Self::NAMES
                    ),
                )
            })
    }
}

impl fmt::Display for Schedule {
    /// The shortcut name, or the inline table
    /// (`{ every = "month", day = -2, at = "close" }`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(
                f,
                "{{ every = \"{}\", day = {}, at = \"{}\" }}",
                self.every.name(),
                self.day,
                self.at.text()
            ),
        }
    }
}

impl Serialize for Schedule {
    /// The shortcut name when there is one, else the table.
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if let Some(n) = self.name() {
            return s.serialize_str(n);
        }
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("every", self.every.name())?;
        m.serialize_entry("day", &self.day)?;
        m.serialize_entry("at", &self.at.text())?;
        m.end()
    }
}

/// The table form as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    every: String,
    day: i64,
    #[serde(default)]
    at: Option<String>,
}

impl<'de> Deserialize<'de> for Schedule {
    /// A shortcut name or a table `{ every, day, at }`, checked.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Schedule;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a schedule: one of {} or a table {{ every, day, at }}",
                    Schedule::NAMES
                )
            }

            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Schedule, E> {
                s.parse().map_err(E::custom)
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Schedule, A::Error> {
                let t = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Schedule::from_table(&t.every, t.day, t.at.as_deref()).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The SSE trading days of the shipped SSE Composite bars
    /// (2015-01-05 .. 2026-07-31).
    fn sse() -> TradingCalendar {
        let text = include_str!("../../../fixtures/cn/index/000001.SH.csv");
        let days = text
            .lines()
            .skip(1)
            .map(|l| d(l.split(',').next().unwrap()))
            .collect();
        TradingCalendar::new(days).unwrap()
    }

    fn sched(every: Period, day: i32, at: At) -> Schedule {
        Schedule::new(every, day, at).unwrap()
    }

    #[test]
    fn calendar_facts_the_tests_rely_on() {
        let c = sse();
        for day in [
            "2020-09-30",
            "2020-10-09",
            "2024-02-08",
            "2024-02-19",
            "2025-01-27",
            "2025-02-05",
        ] {
            assert!(c.is_trading_day(d(day)), "{day}");
        }
        // National Day 2020 (Oct 1–8), the make-up Sunday 2020-09-27 and
        // Saturday 2020-10-10; Chinese New Year 2024 (Feb 9–17) with the
        // make-up Sundays Feb 4 and Feb 18; 2025 (Jan 28–Feb 4) with the
        // make-up Sunday Jan 26 and Saturday Feb 8
        for day in [
            "2020-09-27",
            "2020-10-01",
            "2020-10-08",
            "2020-10-10",
            "2024-02-04",
            "2024-02-09",
            "2024-02-18",
            "2025-01-26",
            "2025-01-28",
            "2025-02-04",
            "2025-02-08",
        ] {
            assert!(!c.is_trading_day(d(day)), "{day}");
        }
    }

    #[test]
    fn month_and_quarter_ends_before_national_day() {
        let c = sse();
        let me = Schedule::MONTH_END;
        // any date of September 2020 names its last trading day, Wed 09-30
        for day in ["2020-09-01", "2020-09-27", "2020-09-30"] {
            assert_eq!(me.scheduled_day(&c, d(day)), Some(d("2020-09-30")));
        }
        assert!(me.is_due(&c, d("2020-09-30")));
        assert!(!me.is_due(&c, d("2020-09-29")));
        // October 2020 starts on Fri 10-09 after the holiday
        assert_eq!(
            Schedule::MONTH_START.scheduled_day(&c, d("2020-10-01")),
            Some(d("2020-10-09"))
        );
        assert_eq!(
            Schedule::MONTHLY.scheduled_day(&c, d("2020-10-31")),
            Some(d("2020-10-09"))
        );
        // month_start trades at 10-09's open: decided at 09-30's close
        assert_eq!(
            Schedule::MONTH_START
                .decision_day(&c, d("2020-10-15"))
                .unwrap(),
            Some(d("2020-09-30"))
        );
        assert!(
            Schedule::MONTH_START
                .decides_at_close(&c, d("2020-09-30"))
                .unwrap()
        );
        assert!(
            !Schedule::MONTH_START
                .decides_at_close(&c, d("2020-10-09"))
                .unwrap()
        );
        assert!(
            Schedule::MONTH_END
                .decides_at_close(&c, d("2020-09-30"))
                .unwrap()
        );
        // the two day-before-last days of September
        let m2 = sched(Period::Month, -2, At::Close);
        assert_eq!(m2.scheduled_day(&c, d("2020-09-10")), Some(d("2020-09-29")));
        // Q3 2020 ends 09-30, Q4 starts 10-09; September 2024 ends Mon 09-30
        assert_eq!(
            Schedule::QUARTER_END.scheduled_day(&c, d("2020-07-01")),
            Some(d("2020-09-30"))
        );
        assert_eq!(
            Schedule::QUARTER_START.scheduled_day(&c, d("2020-12-31")),
            Some(d("2020-10-09"))
        );
        assert_eq!(me.scheduled_day(&c, d("2024-09-02")), Some(d("2024-09-30")));
        assert_eq!(
            Schedule::MONTH_START.scheduled_day(&c, d("2024-10-02")),
            Some(d("2024-10-08"))
        );
    }

    #[test]
    fn weeks_with_holidays_and_make_up_workdays() {
        let c = sse();
        // 2020-10-05 .. 10-11: only Fri 10-09 trades (Sat 10-10 is a make-up workday)
        for s in [Schedule::WEEKLY, Schedule::WEEK_END, Schedule::WEEK_START] {
            assert_eq!(s.scheduled_day(&c, d("2020-10-10")), Some(d("2020-10-09")));
        }
        assert_eq!(
            sched(Period::Week, 2, At::Close).scheduled_day(&c, d("2020-10-07")),
            None
        );
        // 2024-02-12 .. 02-18: the Chinese New Year week; Sun 02-18 is a
        // make-up workday, not a trading day: the week has no scheduled day
        for s in [Schedule::WEEKLY, Schedule::WEEK_END, Schedule::WEEK_START] {
            assert_eq!(s.scheduled_day(&c, d("2024-02-18")), None);
            assert!(!s.is_due(&c, d("2024-02-18")));
        }
        // the week before ends Thu 02-08; the week after starts Mon 02-19
        assert_eq!(
            Schedule::WEEK_END.scheduled_day(&c, d("2024-02-05")),
            Some(d("2024-02-08"))
        );
        assert_eq!(
            Schedule::WEEK_START.scheduled_day(&c, d("2024-02-25")),
            Some(d("2024-02-19"))
        );
        // week_start of 02-19 is decided at 02-08's close, 11 calendar days before
        assert_eq!(
            Schedule::WEEK_START
                .decision_day(&c, d("2024-02-21"))
                .unwrap(),
            Some(d("2024-02-08"))
        );
        assert!(
            Schedule::WEEK_START
                .decides_at_close(&c, d("2024-02-08"))
                .unwrap()
        );
        // 2025: Mon 01-27 is the week's, and January's, only and last
        // trading day before the holiday; Sun 01-26 works but does not trade
        assert_eq!(
            Schedule::WEEK_START.scheduled_day(&c, d("2025-01-26")),
            Some(d("2025-01-20"))
        );
        assert_eq!(
            Schedule::WEEK_START.scheduled_day(&c, d("2025-01-30")),
            Some(d("2025-01-27"))
        );
        assert_eq!(
            Schedule::WEEK_END.scheduled_day(&c, d("2025-02-02")),
            Some(d("2025-01-27"))
        );
        assert_eq!(
            Schedule::MONTH_END.scheduled_day(&c, d("2025-01-02")),
            Some(d("2025-01-27"))
        );
        // 2025-02-03 .. 02-09: Wed 02-05 .. Fri 02-07 (Sat 02-08 works, does not trade)
        assert_eq!(
            Schedule::WEEK_START.scheduled_day(&c, d("2025-02-08")),
            Some(d("2025-02-05"))
        );
        assert_eq!(
            Schedule::WEEK_END.scheduled_day(&c, d("2025-02-08")),
            Some(d("2025-02-07"))
        );
        assert_eq!(
            sched(Period::Week, -3, At::Close).scheduled_day(&c, d("2025-02-08")),
            Some(d("2025-02-05"))
        );
        assert_eq!(
            sched(Period::Week, 4, At::Close).scheduled_day(&c, d("2025-02-08")),
            None
        );
        assert_eq!(
            Schedule::MONTH_START.scheduled_day(&c, d("2025-02-28")),
            Some(d("2025-02-05"))
        );
    }

    #[test]
    fn the_calendar_edges_are_unknown_territory() {
        let c = sse(); // 2015-01-05 (Mon) .. 2026-07-31 (Fri)
        // January 2015 began before the calendar: its first trading day is unknown
        assert_eq!(Schedule::MONTHLY.scheduled_day(&c, d("2015-01-20")), None);
        // its last is known, and so is the first of the week starting 01-05
        assert_eq!(
            Schedule::MONTH_END.scheduled_day(&c, d("2015-01-20")),
            Some(d("2015-01-30"))
        );
        assert_eq!(
            Schedule::WEEKLY.scheduled_day(&c, d("2015-01-07")),
            Some(d("2015-01-05"))
        );
        // July 2026 ends on the calendar's last day: known; the week of
        // 2026-07-27 ends on Sunday 08-02, after it: its last day is unknown
        assert_eq!(
            Schedule::MONTH_END.scheduled_day(&c, d("2026-07-01")),
            Some(d("2026-07-31"))
        );
        assert_eq!(Schedule::WEEK_END.scheduled_day(&c, d("2026-07-29")), None);
        assert_eq!(
            Schedule::WEEK_START.scheduled_day(&c, d("2026-07-29")),
            Some(d("2026-07-27"))
        );
        // a run's calendar cut mid-month knows neither end of that month
        let run = c.between(Some(d("2020-09-14")), Some(d("2020-10-16")));
        assert_eq!(
            Schedule::MONTH_END.scheduled_day(&run, d("2020-10-01")),
            None
        );
        assert_eq!(Schedule::MONTHLY.scheduled_day(&run, d("2020-09-20")), None);
        assert_eq!(
            Schedule::MONTH_END.scheduled_day(&run, d("2020-09-20")),
            Some(d("2020-09-30"))
        );
        // the first trading day has no day before it to decide an open on
        let run = c.between(Some(d("2020-10-09")), None);
        assert_eq!(
            Schedule::WEEK_START.scheduled_day(&run, d("2020-10-09")),
            None
        );
        let run = c.between(Some(d("2020-10-12")), None);
        assert_eq!(
            Schedule::WEEK_START.scheduled_day(&run, d("2020-10-12")),
            Some(d("2020-10-12"))
        );
        assert_eq!(
            Schedule::WEEK_START
                .decision_day(&run, d("2020-10-12"))
                .unwrap(),
            None
        );
        assert!(
            Schedule::DAILY
                .scheduled_day(&TradingCalendar::new(vec![]).unwrap(), d("2020-10-12"))
                .is_none()
        );
    }

    #[test]
    fn daily_is_every_trading_day() {
        let c = sse();
        assert!(Schedule::DAILY.is_due(&c, d("2024-02-19")));
        assert!(!Schedule::DAILY.is_due(&c, d("2024-02-18")));
        assert_eq!(Schedule::DAILY.scheduled_day(&c, d("2024-02-18")), None);
        let open = sched(Period::Day, 1, At::Open);
        assert!(open.decides_at_close(&c, d("2024-02-08")).unwrap()); // for 02-19's open
        assert!(!open.decides_at_close(&c, d("2024-02-10")).unwrap()); // not a trading day
        assert!(!open.decides_at_close(&c, d("2026-07-31")).unwrap()); // no next day known
        assert_eq!(
            sched(Period::Day, -1, At::Close).scheduled_day(&c, d("2024-02-19")),
            Some(d("2024-02-19"))
        );
    }

    #[test]
    fn shortcuts_tables_and_errors() {
        // serde_json stands in for TOML (no dependency of core); the
        // strategy crates test the TOML forms
        let j = |text: &str| serde_json::from_str::<Schedule>(text);
        assert_eq!(j("\"month_end\"").unwrap(), Schedule::MONTH_END);
        assert_eq!(j("\"weekly\"").unwrap(), sched(Period::Week, 1, At::Close));
        assert_eq!(
            j("\"monthly\"").unwrap(),
            sched(Period::Month, 1, At::Close)
        );
        assert_eq!(
            j("\"week_start\"").unwrap(),
            sched(Period::Week, 1, At::Open)
        );
        assert_eq!(j("\"daily\"").unwrap(), sched(Period::Day, 1, At::Close));
        assert_eq!(
            j(r#"{"every": "month", "day": -1, "at": "close"}"#).unwrap(),
            Schedule::MONTH_END
        );
        assert_eq!(
            j(r#"{"every": "quarter", "day": 1, "at": "open"}"#).unwrap(),
            Schedule::QUARTER_START
        );
        let t = j(r#"{"every": "week", "day": -2}"#).unwrap();
        assert_eq!((t.every(), t.day(), t.at()), (Period::Week, -2, At::Close));
        let t = j(r#"{"every": "month", "day": 1, "at": "14:50"}"#).unwrap();
        assert_eq!(
            t.at(),
            At::Time(NaiveTime::from_hms_opt(14, 50, 0).unwrap())
        );
        assert_eq!(
            t.to_string(),
            r#"{ every = "month", day = 1, at = "14:50" }"#
        );
        assert_eq!(Schedule::MONTH_END.to_string(), "month_end");
        // serialized and read back
        for s in [
            Schedule::MONTH_END,
            t,
            sched(Period::Quarter, -23, At::Open),
        ] {
            let text = serde_json::to_string(&s).unwrap();
            assert_eq!(j(&text).unwrap(), s, "{text}");
        }
        assert_eq!(
            serde_json::to_string(&Schedule::WEEKLY).unwrap(),
            "\"weekly\""
        );
        let e = |text: &str| j(text).unwrap_err().to_string();
        let m = e("\"month_ends\"");
        assert!(
            m.contains("unknown schedule `month_ends`") && m.contains("month_end, quarter_start"),
            "{m}"
        );
        let m = e(r#"{"every": "fortnight", "day": 1}"#);
        assert!(
            m.contains(
                "every: unknown period `fortnight`; expected one of: day, week, month, quarter"
            ),
            "{m}"
        );
        let m = e(r#"{"every": "month", "day": 0}"#);
        assert!(
            m.contains("day: must be an integer in [1, 23] or [-23, -1] for every = \"month\"")
                && m.contains("got 0"),
            "{m}"
        );
        assert!(e(r#"{"every": "month", "day": 24}"#).contains("got 24"));
        assert!(e(r#"{"every": "week", "day": -8}"#).contains("[1, 7] or [-7, -1]"));
        assert!(e(r#"{"every": "day", "day": 2}"#).contains("must be 1 or -1"));
        assert!(e(r#"{"every": "month", "day": 99999999999}"#).contains("got 99999999999"));
        let m = e(r#"{"every": "month", "day": 1, "at": "2:50pm"}"#);
        assert!(
            m.contains("at: expected \"close\", \"open\" or a 24-hour"),
            "{m}"
        );
        assert!(e(r#"{"every": "month", "day": 1, "at": "9:30"}"#).contains("got `9:30`"));
        assert!(e(r#"{"every": "month", "day": 1, "at": "24:00"}"#).contains("got `24:00`"));
        assert!(e(r#"{"every": "month", "dya": 1}"#).contains("unknown field `dya`"));
        assert!(e(r#"{"every": "month"}"#).contains("missing field `day`"));
        assert!(e("3").contains("a schedule: one of daily"));
        // intraday times are refused on a daily run
        let m = t.check_daily().unwrap_err().to_string();
        assert!(m.starts_with("at: \"14:50\" needs intraday bars"), "{m}");
        assert!(t.decides_at_close(&sse(), d("2024-02-19")).is_err());
        assert!(t.decision_day(&sse(), d("2024-02-19")).is_err());
    }

    /// A calendar of `n` days from 2019-12-23 (a Monday), each kept when
    /// its bit is set.
    fn calendar_of(keep: &[bool]) -> TradingCalendar {
        let start = d("2019-12-23");
        TradingCalendar::new(
            keep.iter()
                .enumerate()
                .filter(|(_, k)| **k)
                .map(|(i, _)| start + Days::new(i as u64))
                .collect(),
        )
        .unwrap()
    }

    fn any_schedule() -> impl Strategy<Value = Schedule> {
        (0..4usize, 1..=23i32, any::<bool>(), any::<bool>()).prop_map(|(p, k, neg, open)| {
            let every = [Period::Day, Period::Week, Period::Month, Period::Quarter][p];
            let k = k.min(every.max_day());
            let at = if open { At::Open } else { At::Close };
            sched(every, if neg { -k } else { k }, at)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Every period the calendar covers whole and that has at least
        /// |day| trading days has exactly one due day, the |day|-th from
        /// its start or end (for day = -1 its last trading day); shorter
        /// periods have none; every date of a period names the same day;
        /// is_due agrees with scheduled_day; decisions agree with
        /// decision_day.
        #[test]
        fn one_scheduled_day_per_period(
            keep in proptest::collection::vec(prop::bool::weighted(0.7), 1..500),
            s in any_schedule(),
        ) {
            let c = calendar_of(&keep);
            let days = c.days();
            if days.is_empty() {
                return Ok(());
            }
            let (first, last) = (days[0], days[days.len() - 1]);
            let mut date = first;
            while date <= last {
                let (start, end) = s.every().bounds(date);
                let in_period: Vec<NaiveDate> =
                    days.iter().copied().filter(|x| (start..=end).contains(x)).collect();
                let due: Vec<NaiveDate> =
                    in_period.iter().copied().filter(|x| s.is_due(&c, *x)).collect();
                let covered = start >= first && end <= last;
                let k = s.day().unsigned_abs() as usize;
                if covered {
                    if in_period.len() >= k {
                        prop_assert_eq!(due.len(), 1);
                        let want = if s.day() > 0 { in_period[k - 1] } else { in_period[in_period.len() - k] };
                        prop_assert_eq!(due[0], want);
                        if s.day() == -1 {
                            prop_assert_eq!(Some(due[0]), in_period.last().copied());
                        }
                    } else {
                        prop_assert!(due.is_empty());
                    }
                }
                prop_assert!(due.len() <= 1);
                let mut x = start.max(first);
                while x <= end.min(last) {
                    let sd = s.scheduled_day(&c, x);
                    prop_assert_eq!(sd, due.first().copied());
                    prop_assert_eq!(s.is_due(&c, x), sd == Some(x));
                    let decides = s.decides_at_close(&c, x).unwrap();
                    let by_period = [x, c.next_after(x).unwrap_or(x)]
                        .iter()
                        .any(|y| s.decision_day(&c, *y).unwrap() == Some(x));
                    prop_assert_eq!(decides, by_period && c.is_trading_day(x));
                    x = x.succ_opt().unwrap();
                }
                date = end.succ_opt().unwrap();
            }
        }

        /// `weekly`, `monthly` and `daily` are the old period-change rule:
        /// after the calendar's first day, a day is due exactly when the
        /// trading day before it lies in another period.
        #[test]
        fn first_day_shortcuts_are_the_period_change_rule(
            keep in proptest::collection::vec(prop::bool::weighted(0.7), 1..500),
        ) {
            let c = calendar_of(&keep);
            for w in c.days().windows(2) {
                let (prev, today) = (w[0], w[1]);
                let key = |p: Period, x: NaiveDate| p.bounds(x).0;
                for (s, p) in [(Schedule::DAILY, Period::Day), (Schedule::WEEKLY, Period::Week), (Schedule::MONTHLY, Period::Month)] {
                    prop_assert_eq!(s.is_due(&c, today), key(p, prev) != key(p, today));
                }
            }
        }
    }

    #[test]
    fn period_bounds() {
        let b = |p: Period, x: &str| p.bounds(d(x));
        assert_eq!(
            b(Period::Week, "2024-02-18"),
            (d("2024-02-12"), d("2024-02-18"))
        );
        assert_eq!(
            b(Period::Week, "2024-02-12"),
            (d("2024-02-12"), d("2024-02-18"))
        );
        assert_eq!(
            b(Period::Week, "2021-01-01"),
            (d("2020-12-28"), d("2021-01-03"))
        );
        assert_eq!(
            b(Period::Month, "2024-02-10"),
            (d("2024-02-01"), d("2024-02-29"))
        );
        assert_eq!(
            b(Period::Month, "2024-12-10"),
            (d("2024-12-01"), d("2024-12-31"))
        );
        assert_eq!(
            b(Period::Quarter, "2024-02-10"),
            (d("2024-01-01"), d("2024-03-31"))
        );
        assert_eq!(
            b(Period::Quarter, "2024-06-30"),
            (d("2024-04-01"), d("2024-06-30"))
        );
        assert_eq!(
            b(Period::Quarter, "2024-08-01"),
            (d("2024-07-01"), d("2024-09-30"))
        );
        assert_eq!(
            b(Period::Quarter, "2024-10-01"),
            (d("2024-10-01"), d("2024-12-31"))
        );
        assert_eq!(
            b(Period::Day, "2024-10-01"),
            (d("2024-10-01"), d("2024-10-01"))
        );
        // the ends of chrono's range are clamped, not a panic
        let _ = Period::Week.bounds(NaiveDate::MIN);
        let _ = Period::Month.bounds(NaiveDate::MAX);
        let _ = Period::Quarter.bounds(NaiveDate::MAX);
    }
}
