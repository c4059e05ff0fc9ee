//! `mean_reversion`: buy a sharp dip in a name that is otherwise in a
//! long-term uptrend — RSI below `oversold` and the close below the lower
//! Bollinger band, while the close is above its `trend_days` simple moving
//! average; sell when RSI recovers above `exit_rsi` or the close reaches
//! the middle band. Entries are ranked by how oversold they are (lower RSI
//! first). "Quality names": pair it with the book's `fundamentals` gate
//! (e.g. ROE ≥ 10 %, PE ≤ 30) and `universe` liquidity filter.
//!
//! Parameters (besides the book's, see [`crate::library`]): `rsi_days`
//! (default 2), `oversold` (default 10), `exit_rsi` (default 70),
//! `bb_days` (default 20), `bb_width` (σ multiples, default 2),
//! `trend_days` (default 200; 0 turns the trend filter off).
//!
//! Source: Larry Connors and Cesar Alvarez, *Short Term Trading Strategies
//! That Work* (2009), the RSI(2) rule with the 200-day trend filter; John
//! Bollinger, *Bollinger on Bollinger Bands* (2001).

use quant_indicators::Indicator;
use quant_indicators::momentum::Rsi;
use quant_indicators::overlap::{Bbands, MaType, Sma};
use serde::Deserialize;

use super::{Kind, Library, indicator_error, param_error};
use crate::book::at;
use crate::context::SeriesView;
use crate::error::Result;

const NAME: &str = "mean_reversion";

/// Parameters of [`MeanReversion`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanReversionParams {
    /// RSI window, bars.
    #[serde(default = "default_rsi_days")]
    pub rsi_days: usize,
    /// RSI below which a name is oversold.
    #[serde(default = "default_oversold")]
    pub oversold: f64,
    /// RSI above which a held name is sold.
    #[serde(default = "default_exit_rsi")]
    pub exit_rsi: f64,
    /// Bollinger window, bars.
    #[serde(default = "default_bb_days")]
    pub bb_days: usize,
    /// Bollinger band width, standard deviations.
    #[serde(default = "default_bb_width")]
    pub bb_width: f64,
    /// Long-term trend SMA window, bars (0: no trend filter).
    #[serde(default = "default_trend_days")]
    pub trend_days: usize,
}

fn default_rsi_days() -> usize {
    2
}
fn default_oversold() -> f64 {
    10.0
}
fn default_exit_rsi() -> f64 {
    70.0
}
fn default_bb_days() -> usize {
    20
}
fn default_bb_width() -> f64 {
    2.0
}
fn default_trend_days() -> usize {
    200
}

/// One instrument's RSI, bands and trend average.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct State {
    rsi: Rsi,
    bands: Bbands,
    trend: Option<Sma>,
    last_rsi: Option<f64>,
    lower: Option<f64>,
    middle: Option<f64>,
    trend_ma: Option<f64>,
    close: f64,
}

/// The mean-reversion logic; see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct MeanReversionKind;

/// Mean-reversion rules; see the module docs.
pub type MeanReversion = Library<MeanReversionKind>;

impl Kind for MeanReversionKind {
    const NAME: &'static str = NAME;
    type Params = MeanReversionParams;
    type State = State;

    /// An RSI or Bollinger window below 2, RSI levels outside [0, 100] or
    /// `exit_rsi` ≤ `oversold`, a band width ≤ 0 are refused.
    fn check(p: &MeanReversionParams) -> Result<()> {
        if p.rsi_days < 2 {
            return Err(param_error(NAME, "rsi_days", "must be ≥ 2"));
        }
        if p.bb_days < 2 {
            return Err(param_error(NAME, "bb_days", "must be ≥ 2"));
        }
        for (key, v) in [("oversold", p.oversold), ("exit_rsi", p.exit_rsi)] {
            if !(0.0..=100.0).contains(&v) {
                return Err(param_error(NAME, key, format!("{v} is not in [0, 100]")));
            }
        }
        if p.exit_rsi <= p.oversold {
            return Err(param_error(
                NAME,
                "exit_rsi",
                format!(
                    "{} must be above params.oversold {}",
                    p.exit_rsi, p.oversold
                ),
            ));
        }
        let (_, widest) = quant_indicators::MULTIPLIER_RANGE;
        if !(p.bb_width.is_finite() && p.bb_width > 0.0 && p.bb_width <= widest) {
            return Err(param_error(
                NAME,
                "bb_width",
                format!("must be in (0, {widest}], got {:?}", p.bb_width),
            ));
        }
        Ok(())
    }

    fn fresh(p: &MeanReversionParams) -> Result<State> {
        let e = |key| indicator_error(NAME, key);
        Ok(State {
            rsi: Rsi::new(p.rsi_days).map_err(e("rsi_days"))?,
            bands: Bbands::new(p.bb_days, p.bb_width, p.bb_width, MaType::Sma)
                .map_err(e("bb_days"))?,
            trend: match p.trend_days {
                0 => None,
                n => Some(Sma::new(n).map_err(e("trend_days"))?),
            },
            last_rsi: None,
            lower: None,
            middle: None,
            trend_ma: None,
            close: f64::NAN,
        })
    }

    fn step(st: &mut State, s: &SeriesView<'_>, r: usize) {
        let c = at(s.close, r);
        st.last_rsi = st.rsi.update(c);
        let b = st.bands.update(c);
        st.lower = b.map(|b| b.lower);
        st.middle = b.map(|b| b.middle);
        if let Some(t) = &mut st.trend {
            st.trend_ma = t.update(c);
        }
        st.close = c;
    }

    fn entry(p: &MeanReversionParams, st: &State) -> Option<f64> {
        let rsi = st.last_rsi?;
        let lower = st.lower?;
        let uptrend = p.trend_days == 0 || st.trend_ma.is_some_and(|m| st.close > m);
        (rsi < p.oversold && st.close < lower && uptrend).then_some(-rsi)
    }

    fn exit(p: &MeanReversionParams, st: &State) -> bool {
        st.last_rsi.is_some_and(|r| r > p.exit_rsi) || st.middle.is_some_and(|m| st.close >= m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::Rules;

    fn params() -> MeanReversionParams {
        MeanReversionParams {
            rsi_days: 2,
            oversold: 10.0,
            exit_rsi: 70.0,
            bb_days: 5,
            bb_width: 1.0,
            trend_days: 20,
        }
    }

    fn feed(m: &mut MeanReversion, closes: &[f64]) {
        let v = vec![1.0; closes.len()];
        m.update(
            0,
            SeriesView {
                open: closes,
                high: closes,
                low: closes,
                close: closes,
                volume: &v,
                amount: &v,
            },
        );
    }

    #[test]
    fn dip_in_uptrend_by_hand() {
        let inst =
            quant_core::Instrument::infer(quant_core::Symbol::new("600036.SH").unwrap(), false)
                .unwrap();
        let mut m = MeanReversion::new(params()).unwrap();
        m.on_start(std::slice::from_ref(&inst)).unwrap();
        // a steady climb 10, 10.5, …, 19.5, then a sharp drop to 17
        let mut closes: Vec<f64> = (0..20).map(|k| 10.0 + 0.5 * f64::from(k)).collect();
        feed(&mut m, &closes);
        assert_eq!(m.entry(0), None, "no dip yet");
        closes.push(17.0);
        feed(&mut m, &closes);
        let st = &m.state[0];
        // SMA(20) = (10.5 + … + 19.5 + 17) / 20 = 15.1; band over 18 … 19.5, 17:
        // mean 18.4, σ = √0.74, lower = 18.4 − 0.8602 = 17.54
        assert!((st.trend_ma.unwrap() - 15.1).abs() < 1e-9);
        assert!((st.lower.unwrap() - (18.4 - 0.74f64.sqrt())).abs() < 1e-9);
        let rsi = st.last_rsi.unwrap();
        // TA-Lib RSI(2) seeds on the first 2 changes (+0.5, +0.5) then
        // Wilder-smooths: gains 0.5 each step, so after the drop
        // avg_gain = 0.5/2 = 0.25, avg_loss = 2.5/2 = 1.25
        assert!((rsi - 100.0 * 0.25 / (0.25 + 1.25)).abs() < 1e-9, "{rsi}");
        // 16.7 is not below 10: no entry; with oversold 20 it is
        assert_eq!(m.entry(0), None);
        let mut loose = MeanReversion::new(MeanReversionParams {
            oversold: 20.0,
            ..params()
        })
        .unwrap();
        loose.on_start(std::slice::from_ref(&inst)).unwrap();
        feed(&mut loose, &closes);
        assert!((loose.entry(0).unwrap() + rsi).abs() < 1e-12);
        assert!(!loose.exit(0));
        // a rebound to 19.5 takes the close over the middle band (18.7)
        closes.push(19.5);
        feed(&mut loose, &closes);
        assert!(loose.exit(0));
    }

    #[test]
    fn rejects_bad_params() {
        let e = MeanReversion::new(MeanReversionParams {
            exit_rsi: 5.0,
            ..params()
        })
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("params.exit_rsi"), "{e}");
        assert!(
            MeanReversion::new(MeanReversionParams {
                rsi_days: 1,
                ..params()
            })
            .is_err()
        );
    }
}
