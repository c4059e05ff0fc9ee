//! Exits of an open long position, decided on each bar's close (the
//! engine's decision point; the order fills at the next open).
//!
//! | exit | fires when the close is… | level |
//! |---|---|---|
//! | stop-loss `s` | ≤ `entry · (1 − s)` | fixed at entry |
//! | take-profit `t` | ≥ `entry · (1 + t)` | fixed at entry |
//! | R-multiple `m` | ≥ `entry + m · R`, `R = entry − stop` (needs a stop-loss) | fixed at entry |
//! | chandelier `k` | ≤ `highest high since entry − k · ATR` | trails up, never down |
//! | time stop `n` | any close `n` bars after the entry bar | — |
//!
//! When several fire on one bar the first in this order wins: stop-loss,
//! chandelier, take-profit, R-multiple, time stop (protective exits
//! first). The chandelier exit is from Charles Le Beau's "chandelier exit"
//! (highest high minus a multiple of ATR; 22 bars and 3 × ATR are the
//! usual settings).

use serde::Deserialize;

use crate::error::{Result, count_in, in_range};
use crate::{MAX_DAYS, MAX_MULTIPLE};

/// Exit settings (the `[exits]` table); all optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitRules {
    /// Stop-loss below the entry price (fraction, e.g. 0.08).
    pub stop_loss: Option<f64>,
    /// Take-profit above the entry price (fraction, e.g. 0.25).
    pub take_profit: Option<f64>,
    /// Take profit at this multiple of the initial risk `R` (needs
    /// `stop_loss`).
    pub r_multiple: Option<f64>,
    /// Chandelier trailing stop: ATR multiples below the highest high
    /// since entry.
    pub chandelier_atr: Option<f64>,
    /// Close after this many bars held.
    pub time_stop_bars: Option<u32>,
}

impl ExitRules {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`crate::Error::Setting`] naming the key, the value and the range:
    /// stop-loss in (0, 1), multiples and take-profit in (0,
    /// [`MAX_MULTIPLE`]], `r_multiple` only with `stop_loss`, time stop in
    /// [1, [`MAX_DAYS`]] bars.
    pub fn validate(&self) -> Result<()> {
        if let Some(s) = self.stop_loss {
            in_range("exits.stop_loss", s, f64::MIN_POSITIVE, 1.0 - f64::EPSILON)?;
        }
        for (key, v) in [
            ("exits.take_profit", self.take_profit),
            ("exits.r_multiple", self.r_multiple),
            ("exits.chandelier_atr", self.chandelier_atr),
        ] {
            if let Some(x) = v {
                in_range(key, x, f64::MIN_POSITIVE, MAX_MULTIPLE)?;
            }
        }
        if self.r_multiple.is_some() && self.stop_loss.is_none() {
            return Err(crate::Error::Setting {
                key: "exits.r_multiple",
                value: format!("{:?}", self.r_multiple),
                expected: "needs exits.stop_loss to define the initial risk R".into(),
            });
        }
        count_in(
            "exits.time_stop_bars",
            self.time_stop_bars.map(u64::from),
            MAX_DAYS,
        )?;
        Ok(())
    }
}

/// Why a position is to be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// The fixed stop-loss.
    StopLoss,
    /// The chandelier trailing stop.
    Chandelier,
    /// The fixed take-profit.
    TakeProfit,
    /// The R-multiple target.
    RMultiple,
    /// The time stop.
    TimeStop,
}

impl ExitReason {
    /// The reason's name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::StopLoss => "stop_loss",
            Self::Chandelier => "chandelier",
            Self::TakeProfit => "take_profit",
            Self::RMultiple => "r_multiple",
            Self::TimeStop => "time_stop",
        }
    }
}

/// An exit decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExitSignal {
    /// The exit that fired.
    pub reason: ExitReason,
    /// Its level (price units; the close for a time stop).
    pub level: f64,
    /// The close that crossed it.
    pub close: f64,
}

/// An open long position as the exits track it (serialisable: a
/// strategy's saved state holds its open trades).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenTrade {
    /// Entry price.
    pub entry: f64,
    /// Bars since the entry bar (0 on the entry bar).
    pub bars_held: u32,
    /// Highest high since entry.
    pub highest: f64,
    /// The chandelier stop so far (never lowered).
    pub trail: f64,
}

impl OpenTrade {
    /// A position entered at `entry`.
    pub fn new(entry: f64) -> Self {
        Self {
            entry,
            bars_held: 0,
            highest: entry,
            trail: f64::NEG_INFINITY,
        }
    }

    /// Feeds one bar (its high and close; `atr` for the chandelier) and
    /// returns the exit that fires, if any. Call once per bar after the
    /// entry bar.
    pub fn on_bar(
        &mut self,
        rules: &ExitRules,
        high: f64,
        close: f64,
        atr: Option<f64>,
    ) -> Option<ExitSignal> {
        self.bars_held = self.bars_held.saturating_add(1);
        self.highest = self.highest.max(high);
        if let (Some(k), Some(atr)) = (rules.chandelier_atr, atr) {
            self.trail = self.trail.max(self.highest - k * atr);
        }
        let fire = |reason, level| {
            Some(ExitSignal {
                reason,
                level,
                close,
            })
        };
        let stop = rules.stop_loss.map(|s| self.entry * (1.0 - s));
        if let Some(level) = stop
            && close <= level
        {
            return fire(ExitReason::StopLoss, level);
        }
        if rules.chandelier_atr.is_some() && close <= self.trail {
            return fire(ExitReason::Chandelier, self.trail);
        }
        if let Some(t) = rules.take_profit {
            let level = self.entry * (1.0 + t);
            if close >= level {
                return fire(ExitReason::TakeProfit, level);
            }
        }
        if let (Some(m), Some(stop)) = (rules.r_multiple, stop) {
            let level = self.entry + m * (self.entry - stop);
            if close >= level {
                return fire(ExitReason::RMultiple, level);
            }
        }
        if let Some(n) = rules.time_stop_bars
            && self.bars_held >= n
        {
            return fire(ExitReason::TimeStop, close);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_levels_by_hand() {
        let rules = ExitRules {
            stop_loss: Some(0.08),
            take_profit: Some(0.25),
            ..Default::default()
        };
        let mut t = OpenTrade::new(50.0);
        assert_eq!(t.on_bar(&rules, 51.0, 46.01, None), None);
        let s = t.on_bar(&rules, 47.0, 46.0, None).unwrap(); // 50 × 0.92
        assert_eq!((s.reason, s.level), (ExitReason::StopLoss, 46.0));
        let mut t = OpenTrade::new(50.0);
        let s = t.on_bar(&rules, 63.0, 62.5, None).unwrap();
        assert_eq!((s.reason, s.level), (ExitReason::TakeProfit, 62.5));
    }

    #[test]
    fn r_multiple_and_time_stop() {
        let rules = ExitRules {
            stop_loss: Some(0.05),
            r_multiple: Some(3.0),
            time_stop_bars: Some(3),
            ..Default::default()
        };
        // R = 100 − 95 = 5; target 115
        let mut t = OpenTrade::new(100.0);
        assert_eq!(t.on_bar(&rules, 110.0, 114.99, None), None);
        let s = t.on_bar(&rules, 116.0, 115.0, None).unwrap();
        assert_eq!((s.reason, s.level), (ExitReason::RMultiple, 115.0));
        let mut t = OpenTrade::new(100.0);
        assert_eq!(t.on_bar(&rules, 101.0, 100.5, None), None);
        assert_eq!(t.on_bar(&rules, 101.0, 100.5, None), None);
        let s = t.on_bar(&rules, 101.0, 100.7, None).unwrap();
        assert_eq!((s.reason, s.level), (ExitReason::TimeStop, 100.7));
        assert!(
            ExitRules {
                r_multiple: Some(2.0),
                ..Default::default()
            }
            .validate()
            .unwrap_err()
            .to_string()
            .contains("stop_loss")
        );
    }

    #[test]
    fn chandelier_trails_up_and_never_down() {
        let rules = ExitRules {
            chandelier_atr: Some(3.0),
            ..Default::default()
        };
        let mut t = OpenTrade::new(20.0);
        // high 22, ATR 0.5 → trail 20.5; close 21 stays
        assert_eq!(t.on_bar(&rules, 22.0, 21.0, Some(0.5)), None);
        assert_eq!(t.trail, 20.5);
        // ATR widens to 1.0: 22 − 3 = 19 < 20.5, the trail stays at 20.5
        assert_eq!(t.on_bar(&rules, 21.5, 20.6, Some(1.0)), None);
        assert_eq!(t.trail, 20.5);
        let s = t.on_bar(&rules, 21.0, 20.4, Some(1.0)).unwrap();
        assert_eq!((s.reason, s.level), (ExitReason::Chandelier, 20.5));
    }
}
