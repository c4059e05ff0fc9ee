//! Volume indicators: OBV, AD, ADOSC (TA-Lib) and a rolling VWAP.

use crate::util::{BarSlices, Ring, batch_bars, check_period, one};
use crate::{Indicator, Ohlcv, Result};

fn hlcv<'a>(high: &'a [f64], low: &'a [f64], close: &'a [f64], volume: &'a [f64]) -> BarSlices<'a> {
    BarSlices {
        volume: Some(volume),
        ..BarSlices::hlc(high, low, close)
    }
}

/// On-balance volume, TA-Lib `OBV(close, volume)`: starts at bar 0's
/// volume, then adds the volume on an up close and subtracts it on a down
/// close. Units: volume. Lookback 0. Source: Granville (1963).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Obv {
    prev: Option<(f64, f64)>,
}

impl Obv {
    /// An `OBV`.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Indicator for Obv {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let (c, v) = (bar.close(), bar.volume());
        if c.is_nan() || v.is_nan() {
            return None;
        }
        let obv = match self.prev {
            None => v,
            Some((pc, obv)) if c > pc => obv + v,
            Some((pc, obv)) if c < pc => obv - v,
            Some((_, obv)) => obv,
        };
        self.prev = Some((c, obv));
        Some(obv)
    }

    fn lookback(&self) -> usize {
        0
    }

    fn reset(&mut self) {
        self.prev = None;
    }
}

/// Batch [`Obv`].
///
/// # Errors
/// Mismatched lengths or no usable row.
pub fn obv(close: &[f64], volume: &[f64]) -> Result<Vec<f64>> {
    let bars = BarSlices {
        close: Some(close),
        volume: Some(volume),
        ..BarSlices::default()
    };
    batch_bars("OBV", Obv::new(), bars).map(one)
}

/// The accumulation/distribution step: `((c − l) − (h − c))/(h − l) × v`
/// added when `h > l`.
#[inline]
fn ad_step(ad: f64, bar: &Ohlcv) -> f64 {
    let (h, l, c, v) = (bar.high(), bar.low(), bar.close(), bar.volume());
    let range = h - l;
    if range > 0.0 {
        ad + (((c - l) - (h - c)) / range) * v
    } else {
        ad
    }
}

fn hlcv_missing(bar: &Ohlcv) -> bool {
    bar.high().is_nan() || bar.low().is_nan() || bar.close().is_nan() || bar.volume().is_nan()
}

/// Chaikin accumulation/distribution line, TA-Lib `AD(high, low, close,
/// volume)`: the running sum of the close location value × volume, from
/// bar 0. Units: volume. Lookback 0. Source: Chaikin; TA-Lib `ta_AD.c`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Ad {
    value: f64,
}

impl Ad {
    /// An `AD`.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Indicator for Ad {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        if hlcv_missing(&bar) {
            return None;
        }
        self.value = ad_step(self.value, &bar);
        Some(self.value)
    }

    fn lookback(&self) -> usize {
        0
    }

    fn reset(&mut self) {
        self.value = 0.0;
    }
}

/// Batch [`Ad`].
///
/// # Errors
/// Mismatched lengths, high < low, or no usable row.
pub fn ad(high: &[f64], low: &[f64], close: &[f64], volume: &[f64]) -> Result<Vec<f64>> {
    batch_bars("AD", Ad::new(), hlcv(high, low, close, volume)).map(one)
}

/// Chaikin A/D oscillator, TA-Lib `ADOSC(high, low, close, volume,
/// fastperiod=3, slowperiod=10)`: `EMA_fast(AD) − EMA_slow(AD)` where both
/// EMAs are seeded with AD at bar 0 and use `k·AD + (1 − k)·EMA`. Lookback
/// `max(fast, slow) − 1`; periods ≥ 2. Units: volume. Source: TA-Lib
/// `ta_ADOSC.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Adosc {
    fast_k: f64,
    slow_k: f64,
    lookback: usize,
    seen: usize,
    ad: f64,
    fast: f64,
    slow: f64,
}

impl Adosc {
    /// An `ADOSC(fast, slow)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a period below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(fast: usize, slow: usize) -> Result<Self> {
        check_period("ADOSC", "fastperiod", fast, 2)?;
        check_period("ADOSC", "slowperiod", slow, 2)?;
        Ok(Self {
            fast_k: 2.0 / (fast + 1) as f64,
            slow_k: 2.0 / (slow + 1) as f64,
            lookback: fast.max(slow) - 1,
            seen: 0,
            ad: 0.0,
            fast: 0.0,
            slow: 0.0,
        })
    }
}

impl Indicator for Adosc {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        if hlcv_missing(&bar) {
            return None;
        }
        self.ad = ad_step(self.ad, &bar);
        self.seen += 1;
        if self.seen == 1 {
            self.fast = self.ad;
            self.slow = self.ad;
        } else {
            self.fast = self.fast_k * self.ad + (1.0 - self.fast_k) * self.fast;
            self.slow = self.slow_k * self.ad + (1.0 - self.slow_k) * self.slow;
        }
        (self.seen > self.lookback).then_some(self.fast - self.slow)
    }

    fn lookback(&self) -> usize {
        self.lookback
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.ad = 0.0;
    }
}

/// Batch [`Adosc`].
///
/// # Errors
/// Invalid periods, mismatched lengths, high < low, too few usable rows.
pub fn adosc(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    fast: usize,
    slow: usize,
) -> Result<Vec<f64>> {
    batch_bars(
        "ADOSC",
        Adosc::new(fast, slow)?,
        hlcv(high, low, close, volume),
    )
    .map(one)
}

/// A running sum with Neumaier's compensation: its error stays within a
/// few ulps however many values come and go.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct RunningSum {
    sum: f64,
    comp: f64,
}

impl RunningSum {
    #[inline]
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.comp += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    #[inline]
    pub(crate) fn value(self) -> f64 {
        self.sum + self.comp
    }
}

/// Rolling volume-weighted average price (not in TA-Lib):
/// `Σ(TP·volume)/Σvolume` over the last `n` bars **including the current
/// one**, `TP = (high + low + close)/3`; `NaN` when the window traded no
/// volume. Compensated running sums keep it exact to a few ulps over any
/// history. Units: price. Lookback `n − 1`; `n ≥ 1`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Vwap {
    pv: Ring,
    v: Ring,
    pv_sum: RunningSum,
    v_sum: RunningSum,
    period: usize,
}

impl Vwap {
    /// A `VWAP(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("VWAP", "timeperiod", period, 1)?;
        Ok(Self {
            pv: Ring::new(period),
            v: Ring::new(period),
            pv_sum: RunningSum::default(),
            v_sum: RunningSum::default(),
            period,
        })
    }
}

impl Indicator for Vwap {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        if hlcv_missing(&bar) {
            return None;
        }
        let tp = (bar.high() + bar.low() + bar.close()) / 3.0;
        let pv = tp * bar.volume();
        if let Some(old) = self.pv.push(pv) {
            self.pv_sum.add(-old);
        }
        if let Some(old) = self.v.push(bar.volume()) {
            self.v_sum.add(-old);
        }
        self.pv_sum.add(pv);
        self.v_sum.add(bar.volume());
        if !self.v.is_full() {
            return None;
        }
        let v = self.v_sum.value();
        Some(if v != 0.0 {
            self.pv_sum.value() / v
        } else {
            f64::NAN
        })
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        *self = Self {
            pv: Ring::new(self.period),
            v: Ring::new(self.period),
            pv_sum: RunningSum::default(),
            v_sum: RunningSum::default(),
            period: self.period,
        };
    }
}

/// Batch [`Vwap`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn vwap(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    period: usize,
) -> Result<Vec<f64>> {
    batch_bars("VWAP", Vwap::new(period)?, hlcv(high, low, close, volume)).map(one)
}
