//! Trading calendars.
//!
//! A-share trading days are weekdays minus exchange holidays; weekend make-up
//! workdays are not trading days, so a calendar cannot be computed from
//! weekdays. Calendars are built from an exchange list or from the dates of a
//! benchmark index, never from one stock's rows (a stock has no row on a
//! suspended day).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An ordered list of trading days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradingCalendar {
    days: Vec<NaiveDate>,
}

impl TradingCalendar {
    /// Builds a calendar from strictly increasing dates.
    ///
    /// # Errors
    /// [`Error::UnsortedCalendar`] naming the first date that is not after its predecessor.
    pub fn new(days: Vec<NaiveDate>) -> Result<Self> {
        if let Some(w) = days.windows(2).find(|w| w[1] <= w[0]) {
            return Err(Error::UnsortedCalendar { date: w[1] });
        }
        Ok(Self { days })
    }

    /// The trading days, ascending.
    pub fn days(&self) -> &[NaiveDate] {
        &self.days
    }

    /// Number of trading days.
    pub fn len(&self) -> usize {
        self.days.len()
    }

    /// True when the calendar holds no day.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// True when `date` is a trading day.
    pub fn is_trading_day(&self, date: NaiveDate) -> bool {
        self.days.binary_search(&date).is_ok()
    }

    /// Position of `date` in the calendar, if it is a trading day.
    pub fn index_of(&self, date: NaiveDate) -> Option<usize> {
        self.days.binary_search(&date).ok()
    }

    /// The first trading day strictly after `date`.
    pub fn next_after(&self, date: NaiveDate) -> Option<NaiveDate> {
        let i = self.days.partition_point(|d| *d <= date);
        self.days.get(i).copied()
    }

    /// The last trading day strictly before `date`.
    pub fn prev_before(&self, date: NaiveDate) -> Option<NaiveDate> {
        let i = self.days.partition_point(|d| *d < date);
        i.checked_sub(1).map(|i| self.days[i])
    }

    /// The sub-calendar of days in `[start, end]` (inclusive; `None` = open).
    pub fn between(&self, start: Option<NaiveDate>, end: Option<NaiveDate>) -> Self {
        let lo = start.map_or(0, |s| self.days.partition_point(|d| *d < s));
        let hi = end.map_or(self.days.len(), |e| self.days.partition_point(|d| *d <= e));
        Self {
            days: self.days[lo..hi.max(lo)].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn navigation() {
        let c =
            TradingCalendar::new(vec![d("2024-02-08"), d("2024-02-19"), d("2024-02-20")]).unwrap();
        assert!(!c.is_trading_day(d("2024-02-18"))); // a make-up workday (Sunday) is not a trading day
        assert_eq!(c.next_after(d("2024-02-08")), Some(d("2024-02-19")));
        assert_eq!(c.prev_before(d("2024-02-19")), Some(d("2024-02-08")));
        assert_eq!(c.prev_before(d("2024-02-08")), None);
        assert_eq!(c.between(Some(d("2024-02-10")), None).len(), 2);
        assert!(TradingCalendar::new(vec![d("2024-02-19"), d("2024-02-19")]).is_err());
    }
}
