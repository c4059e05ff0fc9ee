//! `trend_following`: hold names in an established uptrend — the fast,
//! middle and slow exponential moving averages stacked in order
//! (`EMA(fast) > EMA(mid) > EMA(slow)`), the close above the fast one,
//! the trend strong (`ADX(adx_days) > adx_min`, 25 by default) and pointing
//! up (`PLUS_DI > MINUS_DI`); sell when the fast average falls below the
//! middle one. Entries are ranked by ADX (stronger trends first).
//!
//! Parameters (besides the book's, see [`crate::library`]): `fast`
//! (default 10), `mid` (default 20), `slow` (default 50) EMA windows in
//! bars, `fast < mid < slow`; `adx_days` (default 14), `adx_min` (default
//! 25).
//!
//! Source: J. Welles Wilder, *New Concepts in Technical Trading Systems*
//! (1978) for ADX and the directional indicators, where a reading above 25
//! marks a trending market; moving-average alignment as in Alexander Elder,
//! *Trading for a Living* (1993).

use quant_indicators::Indicator;
use quant_indicators::overlap::Ema;
use quant_indicators::trend::{Adx, MinusDi, PlusDi};
use serde::Deserialize;

use super::{Kind, Library, indicator_error, param_error};
use crate::book::{at, ohlcv};
use crate::context::SeriesView;
use crate::error::Result;

const NAME: &str = "trend_following";

/// Parameters of [`TrendFollowing`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendParams {
    /// Fast EMA window, bars.
    #[serde(default = "default_fast")]
    pub fast: usize,
    /// Middle EMA window, bars.
    #[serde(default = "default_mid")]
    pub mid: usize,
    /// Slow EMA window, bars.
    #[serde(default = "default_slow")]
    pub slow: usize,
    /// ADX window, bars.
    #[serde(default = "default_adx_days")]
    pub adx_days: usize,
    /// ADX above which the market trends.
    #[serde(default = "default_adx_min")]
    pub adx_min: f64,
}

fn default_fast() -> usize {
    10
}
fn default_mid() -> usize {
    20
}
fn default_slow() -> usize {
    50
}
fn default_adx_days() -> usize {
    14
}
fn default_adx_min() -> f64 {
    25.0
}

/// One instrument's moving averages and directional indicators.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct State {
    emas: [Ema; 3],
    adx: Adx,
    plus: PlusDi,
    minus: MinusDi,
    ma: [Option<f64>; 3],
    last_adx: Option<f64>,
    di: (Option<f64>, Option<f64>),
    close: f64,
}

/// The trend-following logic; see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct TrendKind;

/// Trend-following rules; see the module docs.
pub type TrendFollowing = Library<TrendKind>;

impl Kind for TrendKind {
    const NAME: &'static str = NAME;
    type Params = TrendParams;
    type State = State;

    /// Windows not in the order `fast < mid < slow`, an ADX window below 2,
    /// `adx_min` outside [0, 100] are refused.
    fn check(p: &TrendParams) -> Result<()> {
        if !(p.fast >= 1 && p.fast < p.mid && p.mid < p.slow) {
            return Err(param_error(
                NAME,
                "fast",
                format!(
                    "windows must rise: fast {} < mid {} < slow {}",
                    p.fast, p.mid, p.slow
                ),
            ));
        }
        if p.adx_days < 2 {
            return Err(param_error(NAME, "adx_days", "must be ≥ 2"));
        }
        if !(0.0..=100.0).contains(&p.adx_min) {
            return Err(param_error(NAME, "adx_min", "must be in [0, 100]"));
        }
        Ok(())
    }

    fn fresh(p: &TrendParams) -> Result<State> {
        let e = |key| indicator_error(NAME, key);
        Ok(State {
            emas: [
                Ema::new(p.fast).map_err(e("fast"))?,
                Ema::new(p.mid).map_err(e("mid"))?,
                Ema::new(p.slow).map_err(e("slow"))?,
            ],
            adx: Adx::new(p.adx_days).map_err(e("adx_days"))?,
            plus: PlusDi::new(p.adx_days).map_err(e("adx_days"))?,
            minus: MinusDi::new(p.adx_days).map_err(e("adx_days"))?,
            ma: [None; 3],
            last_adx: None,
            di: (None, None),
            close: f64::NAN,
        })
    }

    fn step(st: &mut State, s: &SeriesView<'_>, r: usize) {
        let c = at(s.close, r);
        for (ma, ema) in st.ma.iter_mut().zip(&mut st.emas) {
            *ma = ema.update(c);
        }
        if let Some(bar) = ohlcv(s, r) {
            st.last_adx = st.adx.update(bar);
            st.di = (st.plus.update(bar), st.minus.update(bar));
        }
        st.close = c;
    }

    fn entry(p: &TrendParams, st: &State) -> Option<f64> {
        let [Some(f), Some(m), Some(s)] = st.ma else {
            return None;
        };
        let adx = st.last_adx?;
        let (Some(plus), Some(minus)) = st.di else {
            return None;
        };
        (f > m && m > s && st.close > f && adx > p.adx_min && plus > minus).then_some(adx)
    }

    fn exit(_: &TrendParams, st: &State) -> bool {
        matches!(st.ma, [Some(f), Some(m), _] if f < m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::Rules;

    #[test]
    fn steady_uptrend_enters_and_a_reversal_exits() {
        let inst =
            quant_core::Instrument::infer(quant_core::Symbol::new("600036.SH").unwrap(), false)
                .unwrap();
        let mut t = TrendFollowing::new(TrendParams {
            fast: 3,
            mid: 5,
            slow: 8,
            adx_days: 3,
            adx_min: 25.0,
        })
        .unwrap();
        t.on_start(std::slice::from_ref(&inst)).unwrap();
        // 30 bars rising 1 % a day with ranges around the close
        let mut c: Vec<f64> = (0..30).map(|k| 10.0 * 1.01f64.powi(k)).collect();
        let feed = |t: &mut TrendFollowing, c: &[f64]| {
            let h: Vec<f64> = c.iter().map(|x| x * 1.005).collect();
            let l: Vec<f64> = c.iter().map(|x| x * 0.995).collect();
            let v = vec![1.0; c.len()];
            t.update(
                0,
                SeriesView {
                    open: c,
                    high: &h,
                    low: &l,
                    close: c,
                    volume: &v,
                    amount: &v,
                },
            );
        };
        feed(&mut t, &c);
        let [f, m, s] = t.state[0].ma.map(Option::unwrap);
        assert!(f > m && m > s);
        // every bar's +DM is 1 % of the price and −DM is 0: ADX is 100
        let adx = t.entry(0).unwrap();
        assert!((adx - 100.0).abs() < 1e-9, "{adx}");
        assert!(!t.exit(0));
        // a 6-bar slide of 3 % a day crosses the fast EMA below the middle one
        for _ in 0..6 {
            let last = *c.last().unwrap();
            c.push(last * 0.97);
        }
        feed(&mut t, &c);
        assert!(t.exit(0));
        assert_eq!(t.entry(0), None);
    }

    #[test]
    fn rejects_unordered_windows() {
        let e = TrendFollowing::new(TrendParams {
            fast: 20,
            mid: 10,
            slow: 50,
            adx_days: 14,
            adx_min: 25.0,
        })
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("fast 20 < mid 10"), "{e}");
    }
}
