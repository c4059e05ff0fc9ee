//! `momentum_breakout`: buy a close above the highest high of the previous
//! `entry_days` bars (the Donchian channel of the bars before today),
//! confirmed by volume at least `volume_ratio` × its `volume_days`-bar
//! average and a positive `momentum_days` trailing return; sell a close
//! below the lowest low of the previous `exit_days` bars. Entries are
//! ranked by the trailing return (stronger first).
//!
//! Parameters (besides the book's, see [`crate::library`]): `entry_days`
//! (default 55), `exit_days` (default 20, ≤ `entry_days`),
//! `volume_days` (default 20), `volume_ratio` (default 1.5; 0 turns the
//! volume check off), `momentum_days` (default 120).
//!
//! Source: Richard Donchian's four-week rule; the 55/20-day pair is the
//! Turtle traders' System 2 (Curtis Faith, *Way of the Turtle*, 2007).

use quant_indicators::Indicator;
use quant_indicators::momentum::Roc;
use quant_indicators::overlap::Sma;
use quant_indicators::volatility::Donchian;
use serde::Deserialize;

use super::{Kind, Library, indicator_error, param_error};
use crate::book::{at, ohlcv};
use crate::context::SeriesView;
use crate::error::Result;

const NAME: &str = "momentum_breakout";

/// Parameters of [`Breakout`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakoutParams {
    /// Channel window of the entry, bars.
    #[serde(default = "default_entry")]
    pub entry_days: usize,
    /// Channel window of the exit, bars.
    #[serde(default = "default_exit")]
    pub exit_days: usize,
    /// Volume average window, bars.
    #[serde(default = "default_volume_days")]
    pub volume_days: usize,
    /// Volume needed on the breakout bar, multiple of its average.
    #[serde(default = "default_volume_ratio")]
    pub volume_ratio: f64,
    /// Trailing-return window, bars.
    #[serde(default = "default_momentum")]
    pub momentum_days: usize,
}

fn default_entry() -> usize {
    55
}
fn default_exit() -> usize {
    20
}
fn default_volume_days() -> usize {
    20
}
fn default_volume_ratio() -> f64 {
    1.5
}
fn default_momentum() -> usize {
    120
}

/// One instrument's channels, volume average and momentum.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct State {
    entry: Donchian,
    exit: Donchian,
    volume: Sma,
    roc: Roc,
    /// Channels of the bars before the newest one.
    prev_entry_upper: Option<f64>,
    prev_exit_lower: Option<f64>,
    entry_upper: Option<f64>,
    exit_lower: Option<f64>,
    /// Average volume before the newest bar.
    prev_volume: Option<f64>,
    avg_volume: Option<f64>,
    momentum: Option<f64>,
    close: f64,
    volume_now: f64,
}

/// The momentum-breakout logic; see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct BreakoutKind;

/// Momentum breakout rules; see the module docs.
pub type Breakout = Library<BreakoutKind>;

impl Kind for BreakoutKind {
    const NAME: &'static str = NAME;
    type Params = BreakoutParams;
    type State = State;

    /// A window of 0, `exit_days` above `entry_days`, a negative or
    /// non-finite `volume_ratio` are refused.
    fn check(params: &BreakoutParams) -> Result<()> {
        for (key, v) in [
            ("entry_days", params.entry_days),
            ("exit_days", params.exit_days),
            ("volume_days", params.volume_days),
            ("momentum_days", params.momentum_days),
        ] {
            if v == 0 {
                return Err(param_error(NAME, key, "must be ≥ 1"));
            }
        }
        if params.exit_days > params.entry_days {
            return Err(param_error(
                NAME,
                "exit_days",
                format!(
                    "{} is longer than params.entry_days {}",
                    params.exit_days, params.entry_days
                ),
            ));
        }
        if !(params.volume_ratio.is_finite() && (0.0..=100.0).contains(&params.volume_ratio)) {
            return Err(param_error(
                NAME,
                "volume_ratio",
                format!("must be in [0, 100], got {:?}", params.volume_ratio),
            ));
        }
        Ok(())
    }

    fn fresh(p: &BreakoutParams) -> Result<State> {
        let e = |key| indicator_error(NAME, key);
        Ok(State {
            entry: Donchian::new(p.entry_days).map_err(e("entry_days"))?,
            exit: Donchian::new(p.exit_days).map_err(e("exit_days"))?,
            volume: Sma::new(p.volume_days).map_err(e("volume_days"))?,
            roc: Roc::new(p.momentum_days).map_err(e("momentum_days"))?,
            prev_entry_upper: None,
            prev_exit_lower: None,
            entry_upper: None,
            exit_lower: None,
            prev_volume: None,
            avg_volume: None,
            momentum: None,
            close: f64::NAN,
            volume_now: f64::NAN,
        })
    }

    fn step(st: &mut State, s: &SeriesView<'_>, r: usize) {
        let Some(bar) = ohlcv(s, r) else { return };
        st.prev_entry_upper = st.entry_upper;
        st.prev_exit_lower = st.exit_lower;
        st.prev_volume = st.avg_volume;
        st.entry_upper = st.entry.update(bar).map(|c| c.upper);
        st.exit_lower = st.exit.update(bar).map(|c| c.lower);
        st.avg_volume = st.volume.update(at(s.volume, r));
        st.momentum = st.roc.update(at(s.close, r));
        st.close = at(s.close, r);
        st.volume_now = at(s.volume, r);
    }

    fn entry(p: &BreakoutParams, st: &State) -> Option<f64> {
        let upper = st.prev_entry_upper?;
        let momentum = st.momentum?;
        let volume_ok = p.volume_ratio == 0.0
            || st
                .prev_volume
                .is_some_and(|v| st.volume_now >= p.volume_ratio * v);
        (st.close > upper && momentum > 0.0 && volume_ok).then_some(momentum)
    }

    fn exit(_: &BreakoutParams, st: &State) -> bool {
        st.prev_exit_lower.is_some_and(|lower| st.close < lower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::Rules;

    fn view<'a>(c: &'a [f64], h: &'a [f64], l: &'a [f64], v: &'a [f64]) -> SeriesView<'a> {
        SeriesView {
            open: c,
            high: h,
            low: l,
            close: c,
            volume: v,
            amount: v,
        }
    }

    #[test]
    fn breaks_out_and_exits_by_hand() {
        let mut b = Breakout::new(BreakoutParams {
            entry_days: 3,
            exit_days: 2,
            volume_days: 3,
            volume_ratio: 1.5,
            momentum_days: 2,
        })
        .unwrap();
        let inst =
            quant_core::Instrument::infer(quant_core::Symbol::new("600036.SH").unwrap(), false)
                .unwrap();
        b.on_start(&[inst]).unwrap();
        // highs 10.5, 11, 10.8 → channel upper 11 before day 4
        let mut c = vec![10.0, 10.6, 10.4];
        let mut h = vec![10.5, 11.0, 10.8];
        let mut l = vec![9.5, 10.1, 10.0];
        let mut v = vec![100.0, 100.0, 100.0];
        b.update(0, view(&c, &h, &l, &v));
        assert_eq!(b.entry(0), None);
        // day 4: close 11.2 > 11 on volume 160 ≥ 1.5 × 100, ROC(2) = 11.2/10.6 − 1 > 0
        c.push(11.2);
        h.push(11.3);
        l.push(10.9);
        v.push(160.0);
        b.update(0, view(&c, &h, &l, &v));
        let score = b.entry(0).unwrap();
        assert!(
            (score - (11.2 / 10.6 - 1.0) * 100.0).abs() < 1e-9,
            "{score}"
        );
        assert!(!b.exit(0));
        // the same breakout on thin volume (140 < 150) is not taken
        let mut thin = b.clone();
        thin.state[0].volume_now = 140.0;
        assert_eq!(thin.entry(0), None);
        // day 5: close 10.85 below the 2-day low before it (min(10.0, 10.9) = 10.0)? no: 10.85 > 10.0
        c.push(10.85);
        h.push(11.0);
        l.push(10.8);
        v.push(100.0);
        b.update(0, view(&c, &h, &l, &v));
        assert!(!b.exit(0));
        // day 6: close 10.7 < min(10.9, 10.8) = 10.8 → exit
        c.push(10.7);
        h.push(10.9);
        l.push(10.6);
        v.push(100.0);
        b.update(0, view(&c, &h, &l, &v));
        assert!(b.exit(0));
    }

    #[test]
    fn rejects_bad_params() {
        let p = |entry_days, exit_days, volume_ratio| BreakoutParams {
            entry_days,
            exit_days,
            volume_days: 20,
            volume_ratio,
            momentum_days: 20,
        };
        assert!(Breakout::new(p(0, 0, 1.0)).is_err());
        let e = Breakout::new(p(10, 20, 1.0)).err().unwrap().to_string();
        assert!(e.contains("params.exit_days"), "{e}");
        let e = Breakout::new(p(20, 10, -1.0)).err().unwrap().to_string();
        assert!(e.contains("params.volume_ratio"), "{e}");
    }
}
