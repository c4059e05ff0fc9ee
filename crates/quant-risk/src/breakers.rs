//! Portfolio circuit breakers.
//!
//! - **Daily loss limit**: when equity falls by `daily_loss_limit` (a
//!   fraction of the day's opening equity) new buys are halted for the rest
//!   of the day.
//! - **Maximum drawdown**: when equity is `max_drawdown` below its running
//!   peak (the starting equity counts as a peak), new buys are halted — and
//!   with `flatten_on_drawdown` every position is to be closed — until the
//!   drawdown recovers to `resume_drawdown`, or `cooldown_days` trading
//!   days have passed (the peak then restarts from current equity, so a
//!   flattened book does not stay halted for good); with neither, halted
//!   for the rest of the run.
//! - **Losing streak**: after `losing_streak` consecutive losing trades,
//!   sizes are multiplied by `streak_size_factor` (default one half) until
//!   a winning trade.
//!
//! Every trip is recorded as a [`Trip`] with the numbers that tripped it.
//! The runner calls [`Breakers::on_day_start`] with each day's opening
//! equity, [`Breakers::on_equity`] whenever equity is marked, and
//! [`Breakers::on_trade_closed`] with each round trip's profit; before a
//! buy it asks [`Breakers::allows_buy`] and scales sizes by
//! [`Breakers::size_factor`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::checks::{Rule, Violation};
use crate::error::{Result, count_in, in_range};
use crate::{MAX_DAYS, MAX_STREAK};

/// Breaker settings (the `[risk.breakers]` table); all optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Loss over the day's opening equity that halts buys for the day
    /// (fraction, e.g. 0.03).
    pub daily_loss_limit: Option<f64>,
    /// Drawdown from the equity peak that halts buys (fraction, e.g. 0.2).
    pub max_drawdown: Option<f64>,
    /// Close every position when the drawdown breaker trips.
    #[serde(default)]
    pub flatten_on_drawdown: bool,
    /// Drawdown at or below which buying resumes after the drawdown breaker
    /// (fraction, below `max_drawdown`); unset: halted for good.
    pub resume_drawdown: Option<f64>,
    /// Trading days after a drawdown trip when buying resumes and the peak
    /// restarts from current equity (≥ 1).
    pub cooldown_days: Option<u32>,
    /// Consecutive losing trades that throttle sizes.
    pub losing_streak: Option<u32>,
    /// Size multiplier while throttled (0, 1].
    #[serde(default = "half")]
    pub streak_size_factor: f64,
}

fn half() -> f64 {
    0.5
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            daily_loss_limit: None,
            max_drawdown: None,
            flatten_on_drawdown: false,
            resume_drawdown: None,
            cooldown_days: None,
            losing_streak: None,
            streak_size_factor: half(),
        }
    }
}

impl BreakerConfig {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`crate::Error::Setting`] naming the key, the value and the range:
    /// limits in (0, 1], `resume_drawdown` in [0, `max_drawdown`),
    /// `streak_size_factor` in (0, 1], `cooldown_days` in [1,
    /// [`MAX_DAYS`]], `losing_streak` in [1, [`MAX_STREAK`]].
    pub fn validate(&self) -> Result<()> {
        if let Some(x) = self.daily_loss_limit {
            in_range("daily_loss_limit", x, f64::MIN_POSITIVE, 1.0)?;
        }
        if let Some(x) = self.max_drawdown {
            in_range("max_drawdown", x, f64::MIN_POSITIVE, 1.0)?;
            if let Some(r) = self.resume_drawdown {
                in_range("resume_drawdown", r, 0.0, x * (1.0 - f64::EPSILON))?;
            }
        }
        in_range(
            "streak_size_factor",
            self.streak_size_factor,
            f64::MIN_POSITIVE,
            1.0,
        )?;
        count_in("cooldown_days", self.cooldown_days.map(u64::from), MAX_DAYS)?;
        count_in(
            "losing_streak",
            self.losing_streak.map(u64::from),
            MAX_STREAK,
        )?;
        Ok(())
    }
}

/// Which breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerKind {
    /// The daily loss limit.
    DailyLoss,
    /// The maximum drawdown.
    Drawdown,
    /// The losing-streak throttle.
    LosingStreak,
}

impl BreakerKind {
    /// The breaker's name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::DailyLoss => "daily_loss",
            Self::Drawdown => "drawdown",
            Self::LosingStreak => "losing_streak",
        }
    }
}

/// One trip (or release) of a breaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trip {
    /// The day.
    pub date: NaiveDate,
    /// The breaker.
    pub breaker: BreakerKind,
    /// `true` for a trip, `false` when the breaker released.
    pub tripped: bool,
    /// The measured value (loss, drawdown as fractions; streak length).
    pub value: f64,
    /// The configured limit.
    pub limit: f64,
    /// A sentence with the numbers.
    pub detail: String,
}

/// Breaker state over a run (serialisable: engine snapshots keep it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakers {
    cfg: BreakerConfig,
    peak: f64,
    day: Option<NaiveDate>,
    day_open: f64,
    daily_halt: bool,
    drawdown_halt: bool,
    /// Trading days since the drawdown breaker tripped.
    halted_days: u32,
    streak: u32,
    trips: Vec<Trip>,
}

impl Breakers {
    /// Breakers for a run starting with `equity` (the first peak).
    pub fn new(cfg: BreakerConfig, equity: f64) -> Self {
        Self {
            cfg,
            peak: equity,
            day: None,
            day_open: equity,
            daily_halt: false,
            drawdown_halt: false,
            halted_days: 0,
            streak: 0,
            trips: Vec::new(),
        }
    }

    /// A new trading day opening at `equity`: the daily limit resets.
    pub fn on_day_start(&mut self, date: NaiveDate, equity: f64) {
        self.day = Some(date);
        self.day_open = equity;
        self.daily_halt = false;
        if self.drawdown_halt {
            // saturates: a halt longer than u32::MAX days stays halted
            self.halted_days = self.halted_days.saturating_add(1);
        }
    }

    /// Equity marked at `equity` on `date`; returns the trips (and
    /// releases) this caused, also kept in [`Breakers::trips`].
    pub fn on_equity(&mut self, date: NaiveDate, equity: f64) -> Vec<Trip> {
        if self.day != Some(date) {
            self.on_day_start(date, equity);
        }
        let mut out = Vec::new();
        self.peak = self.peak.max(equity);
        if let Some(limit) = self.cfg.daily_loss_limit {
            // (open − equity)/open: exact for round numbers, unlike 1 − equity/open
            let loss = (self.day_open - equity) / self.day_open;
            if !self.daily_halt && loss >= limit {
                self.daily_halt = true;
                out.push(Trip {
                    date,
                    breaker: BreakerKind::DailyLoss,
                    tripped: true,
                    value: loss,
                    limit,
                    detail: format!(
                        "equity {equity:.2} is {:.2}% below the day's open {:.2} (limit {:.2}%): buys halted for the day",
                        loss * 100.0,
                        self.day_open,
                        limit * 100.0
                    ),
                });
            }
        }
        if let Some(limit) = self.cfg.max_drawdown {
            let dd = (self.peak - equity) / self.peak;
            if !self.drawdown_halt && dd >= limit {
                self.drawdown_halt = true;
                self.halted_days = 0;
                out.push(Trip {
                    date,
                    breaker: BreakerKind::Drawdown,
                    tripped: true,
                    value: dd,
                    limit,
                    detail: format!(
                        "equity {equity:.2} is {:.2}% below the peak {:.2} (limit {:.2}%): buys halted{}",
                        dd * 100.0,
                        self.peak,
                        limit * 100.0,
                        if self.cfg.flatten_on_drawdown { ", positions to be closed" } else { "" }
                    ),
                });
            } else if self.drawdown_halt
                && let Some(days) = self.cfg.cooldown_days
                && self.halted_days >= days
            {
                self.drawdown_halt = false;
                out.push(Trip {
                    date,
                    breaker: BreakerKind::Drawdown,
                    tripped: false,
                    value: dd,
                    limit,
                    detail: format!(
                        "{days} trading days since the drawdown trip: buys allowed again, the peak restarts at {equity:.2}"
                    ),
                });
                self.peak = equity;
            } else if self.drawdown_halt
                && let Some(resume) = self.cfg.resume_drawdown
                && dd <= resume
            {
                self.drawdown_halt = false;
                out.push(Trip {
                    date,
                    breaker: BreakerKind::Drawdown,
                    tripped: false,
                    value: dd,
                    limit: resume,
                    detail: format!(
                        "drawdown back to {:.2}% (resume at {:.2}%): buys allowed again",
                        dd * 100.0,
                        resume * 100.0
                    ),
                });
            }
        }
        self.trips.extend(out.iter().cloned());
        out
    }

    /// A round trip closed with profit `pnl` (currency units; fees
    /// included) on `date`.
    pub fn on_trade_closed(&mut self, date: NaiveDate, pnl: f64) {
        let Some(n) = self.cfg.losing_streak else {
            return;
        };
        if pnl < 0.0 {
            self.streak = self.streak.saturating_add(1);
            if self.streak == n {
                self.trips.push(Trip {
                    date,
                    breaker: BreakerKind::LosingStreak,
                    tripped: true,
                    value: f64::from(self.streak),
                    limit: f64::from(n),
                    detail: format!(
                        "{n} losing trades in a row: sizes × {}",
                        self.cfg.streak_size_factor
                    ),
                });
            }
        } else {
            if self.streak >= n {
                self.trips.push(Trip {
                    date,
                    breaker: BreakerKind::LosingStreak,
                    tripped: false,
                    value: f64::from(self.streak),
                    limit: f64::from(n),
                    detail: "a winning trade ends the streak: full sizes again".into(),
                });
            }
            self.streak = 0;
        }
    }

    /// Whether a new buy may go out now.
    ///
    /// # Errors
    /// A [`Violation`] of [`Rule::Breaker`] naming the breaker that halts
    /// buying.
    pub fn allows_buy(&self) -> Result<(), Violation> {
        let halt = |kind: BreakerKind| {
            let last = self
                .trips
                .iter()
                .rev()
                .find(|t| t.breaker == kind && t.tripped);
            Violation {
                rule: Rule::Breaker,
                value: last.map_or(f64::NAN, |t| t.value),
                limit: last.map_or(f64::NAN, |t| t.limit),
                detail: format!(
                    "{} breaker: {}",
                    kind.name(),
                    last.map_or("tripped", |t| t.detail.as_str())
                ),
            }
        };
        if self.drawdown_halt {
            return Err(halt(BreakerKind::Drawdown));
        }
        if self.daily_halt {
            return Err(halt(BreakerKind::DailyLoss));
        }
        Ok(())
    }

    /// Whether every position is to be closed (the drawdown breaker tripped
    /// with `flatten_on_drawdown`).
    pub fn must_flatten(&self) -> bool {
        self.drawdown_halt && self.cfg.flatten_on_drawdown
    }

    /// The multiplier for new sizes: `streak_size_factor` during a losing
    /// streak, else 1.
    pub fn size_factor(&self) -> f64 {
        match self.cfg.losing_streak {
            Some(n) if self.streak >= n => self.cfg.streak_size_factor,
            _ => 1.0,
        }
    }

    /// Every trip and release so far, in order.
    pub fn trips(&self) -> &[Trip] {
        &self.trips
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, day).unwrap()
    }

    #[test]
    fn daily_loss_halts_for_the_day_only() {
        let cfg = BreakerConfig {
            daily_loss_limit: Some(0.03),
            ..Default::default()
        };
        let mut b = Breakers::new(cfg, 100_000.0);
        b.on_day_start(d(4), 100_000.0);
        assert!(b.on_equity(d(4), 97_100.0).is_empty()); // −2.9 %
        let t = b.on_equity(d(4), 96_900.0); // −3.1 %
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].breaker, BreakerKind::DailyLoss);
        assert!((t[0].value - 0.031).abs() < 1e-12);
        let v = b.allows_buy().unwrap_err();
        assert_eq!(v.rule, Rule::Breaker);
        assert!(v.detail.contains("3.10%"), "{v}");
        // no second trip the same day
        assert!(b.on_equity(d(4), 95_000.0).is_empty());
        b.on_day_start(d(5), 95_000.0);
        assert!(b.allows_buy().is_ok());
    }

    #[test]
    fn drawdown_halts_flattens_and_resumes() {
        let cfg = BreakerConfig {
            max_drawdown: Some(0.2),
            flatten_on_drawdown: true,
            resume_drawdown: Some(0.1),
            ..Default::default()
        };
        let mut b = Breakers::new(cfg, 100_000.0);
        b.on_equity(d(4), 125_000.0); // new peak
        assert!(b.on_equity(d(5), 100_001.0).is_empty()); // 19.9992 %
        let t = b.on_equity(d(6), 100_000.0); // exactly 20 % of 125,000
        assert_eq!(t[0].breaker, BreakerKind::Drawdown);
        assert!((t[0].value - 0.2).abs() < 1e-12);
        assert!(b.must_flatten());
        assert!(b.allows_buy().is_err());
        assert!(b.on_equity(d(7), 112_000.0).is_empty()); // 10.4 %: still halted
        let t = b.on_equity(d(8), 112_500.0); // 10 %: resumes
        assert_eq!(t.len(), 1);
        assert!(!t[0].tripped);
        assert!(b.allows_buy().is_ok());
        assert!(!b.must_flatten());
        assert_eq!(b.trips().len(), 2);
    }

    #[test]
    fn a_cooldown_resumes_buying_and_restarts_the_peak() {
        let cfg = BreakerConfig {
            max_drawdown: Some(0.1),
            flatten_on_drawdown: true,
            cooldown_days: Some(2),
            ..Default::default()
        };
        let mut b = Breakers::new(cfg, 100.0);
        b.on_day_start(d(4), 100.0);
        assert_eq!(b.on_equity(d(4), 90.0).len(), 1); // −10 %: trip
        b.on_day_start(d(5), 90.0);
        assert!(b.on_equity(d(5), 90.0).is_empty()); // one day halted
        assert!(b.allows_buy().is_err());
        b.on_day_start(d(6), 90.0);
        let t = b.on_equity(d(6), 90.0); // two days: release
        assert_eq!(t.len(), 1);
        assert!(!t[0].tripped && t[0].detail.contains("peak restarts at 90.00"));
        assert!(b.allows_buy().is_ok());
        // −10 % from the new peak of 90 trips again
        b.on_day_start(d(7), 90.0);
        assert_eq!(b.on_equity(d(7), 81.0).len(), 1);
    }

    #[test]
    fn losing_streak_halves_sizes_until_a_win() {
        let cfg = BreakerConfig {
            losing_streak: Some(3),
            ..Default::default()
        };
        let mut b = Breakers::new(cfg, 1.0);
        for pnl in [-10.0, -5.0] {
            b.on_trade_closed(d(4), pnl);
        }
        assert_eq!(b.size_factor(), 1.0);
        b.on_trade_closed(d(5), -1.0);
        assert_eq!(b.size_factor(), 0.5);
        b.on_trade_closed(d(6), -1.0);
        assert_eq!(b.size_factor(), 0.5);
        assert_eq!(b.trips().len(), 1);
        b.on_trade_closed(d(7), 20.0);
        assert_eq!(b.size_factor(), 1.0);
        assert_eq!(b.trips().len(), 2);
        assert!(b.allows_buy().is_ok(), "the streak throttles, never halts");
    }

    #[test]
    fn settings_are_checked() {
        let bad = BreakerConfig {
            max_drawdown: Some(0.2),
            resume_drawdown: Some(0.25),
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("resume_drawdown")
        );
        let bad = BreakerConfig {
            streak_size_factor: 0.0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        assert!(BreakerConfig::default().validate().is_ok());
    }
}
