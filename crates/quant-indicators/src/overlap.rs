//! Overlap studies (TA-Lib's group): moving averages, Bollinger Bands,
//! parabolic SAR.

use crate::util::{
    BarSlices, Ring, Row, batch_bars, batch_real, check_period, check_real, is_zero, one,
};
use crate::{Indicator, Ohlcv, Result};

// ---------------------------------------------------------------- SMA

/// Simple moving average, TA-Lib `SMA(real, timeperiod=30)`.
///
/// `SMA_t = (x_{t−n+1} + … + x_t) / n` over a running sum: the first window
/// summed, then `+ (x_t − x_{t−n})` per value (one add in the loop-carried
/// chain; TA-Lib adds the new value and subtracts the oldest in two, the
/// same to a few ulps).
/// Lookback `n − 1`; `n ≥ 2` (TA-Lib's minimum). Units: those of the input.
/// For a mean that is exactly rounded whatever the history, see
/// [`crate::ExactSma`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Sma {
    period: usize,
    ring: Ring,
    total: f64,
}

impl Sma {
    /// An `SMA(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("SMA", "timeperiod", period, 2)?;
        Ok(Self::unchecked(period))
    }

    pub(crate) fn unchecked(period: usize) -> Self {
        Self {
            period,
            ring: Ring::new(period),
            total: 0.0,
        }
    }
}

impl Indicator for Sma {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        // once full, one add per value in the running sum: `x − oldest`
        match self.ring.push(x) {
            Some(old) => self.total += x - old,
            None => self.total += x,
        }
        self.ring.is_full().then(|| self.total / self.period as f64)
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        self.ring.clear();
        self.total = 0.0;
    }
}

/// Batch [`Sma`]: one value per input row, `NaN` over the lookback.
///
/// # Errors
/// Invalid period or fewer than `period` usable rows.
pub fn sma(real: &[f64], period: usize) -> Result<Vec<f64>> {
    let mut out = vec![0.0; real.len()];
    sma_into(real, period, &mut out)?;
    Ok(out)
}

/// [`sma`] into a caller's buffer of the input's length (no allocation;
/// reuse one buffer across instruments).
///
/// # Errors
/// As [`sma`], and [`crate::Error::LengthMismatch`] for a wrong `out` length.
pub fn sma_into(real: &[f64], period: usize, out: &mut [f64]) -> Result<()> {
    let ind = Sma::new(period)?;
    check_out("SMA", real.len(), out.len())?;
    if real.len() < period || sma_kernel(real, period, out).is_nan() {
        // a NaN row poisons the running sum for good: take the streaming
        // path, which skips missing rows (and reports short input)
        return stream_into("SMA", ind, real, out);
    }
    Ok(())
}

/// The SMA loop (the same operations as [`Sma`]); returns the final
/// running sum, `NaN` when a `NaN` was met. Compiled for AVX2 CPUs too and
/// chosen at run time (no fused operations: every CPU gives the same bits).
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn sma_kernel(real: &[f64], period: usize, out: &mut [f64]) -> f64 {
    let p = period;
    let pf = p as f64;
    let mut total = 0.0;
    for &v in &real[..p] {
        total += v;
    }
    out[..p - 1].fill(f64::NAN);
    out[p - 1] = total / pf;
    // block by block: the running sums (one add per value in the chain),
    // then the block's divisions from cache, which vectorise
    let (new, old) = (&real[p..], &real[..real.len() - p]);
    for (b, o) in out[p..].chunks_mut(SMA_BLOCK).enumerate() {
        let rows = b * SMA_BLOCK..b * SMA_BLOCK + o.len();
        for ((o, &x), &y) in o.iter_mut().zip(&new[rows.clone()]).zip(&old[rows]) {
            total += x - y;
            *o = total;
        }
        for o in o.iter_mut() {
            *o /= pf;
        }
    }
    total
}

/// Rows per block of [`sma_kernel`] (a block of the output stays in L1).
const SMA_BLOCK: usize = 1024;

/// `out` must be as long as the input.
pub(crate) fn check_out(indicator: &'static str, n: usize, got: usize) -> Result<()> {
    if n != got {
        return Err(crate::Error::LengthMismatch {
            indicator,
            input: "out",
            expected: n,
            got,
        });
    }
    Ok(())
}

/// The streaming path of the `_into` functions (input with `NaN` rows).
pub(crate) fn stream_into<I>(
    indicator: &'static str,
    ind: I,
    real: &[f64],
    out: &mut [f64],
) -> Result<()>
where
    I: Indicator<Input = f64, Output = f64>,
{
    let cols = batch_real(indicator, ind, real)?;
    out.copy_from_slice(&cols[0]);
    Ok(())
}

// ---------------------------------------------------------------- EMA

/// Exponential moving average, TA-Lib `EMA(real, timeperiod=30)`.
///
/// `k = 2/(n+1)`; seeded with the SMA of the first `n` values (the first
/// output, at index `n − 1`), then `EMA_t = EMA_{t−1}·(1−k) + x_t·k` as one
/// fused multiply-add (TA-Lib writes `(x_t − EMA_{t−1})·k + EMA_{t−1}`: the
/// same to a few ulps, with one operation in the loop-carried chain). Lookback
/// `n − 1`; `n ≥ 2`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ema {
    period: usize,
    k: f64,
    seen: usize,
    value: f64,
}

impl Ema {
    /// An `EMA(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("EMA", "timeperiod", period, 2)?;
        Ok(Self::unchecked(period))
    }

    pub(crate) fn unchecked(period: usize) -> Self {
        Self {
            period,
            k: 2.0 / (period + 1) as f64,
            seen: 0,
            value: 0.0,
        }
    }
}

impl Indicator for Ema {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        self.seen += 1;
        if self.seen < self.period {
            self.value += x;
            return None;
        }
        if self.seen == self.period {
            self.value = (self.value + x) / self.period as f64;
        } else {
            self.value = self.value.mul_add(1.0 - self.k, x * self.k);
        }
        Some(self.value)
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.value = 0.0;
    }
}

/// Batch [`Ema`].
///
/// # Errors
/// Invalid period or fewer than `period` usable rows.
pub fn ema(real: &[f64], period: usize) -> Result<Vec<f64>> {
    let mut out = vec![0.0; real.len()];
    ema_into(real, period, &mut out)?;
    Ok(out)
}

/// [`ema`] into a caller's buffer of the input's length.
///
/// # Errors
/// As [`ema`], and [`crate::Error::LengthMismatch`] for a wrong `out` length.
pub fn ema_into(real: &[f64], period: usize, out: &mut [f64]) -> Result<()> {
    let ind = Ema::new(period)?;
    check_out("EMA", real.len(), out.len())?;
    if real.len() < period || ema_kernel(real, period, out).is_nan() {
        // a NaN row (it poisons the running value) or too short: the
        // streaming path skips missing rows and reports short input
        return stream_into("EMA", ind, real, out);
    }
    Ok(())
}

/// EMA of `x` into `out` (same length): `NaN` for the first `period − 1`
/// values, then the same operations as [`Ema`]. Returns the last value,
/// `NaN` when a `NaN` was met (the caller then takes the streaming path).
/// Compiled for AVX2+FMA CPUs too and chosen at run time; every CPU gives
/// the same correctly rounded values.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
pub(crate) fn ema_kernel(x: &[f64], period: usize, out: &mut [f64]) -> f64 {
    let k = 2.0 / (period + 1) as f64;
    let k1 = 1.0 - k;
    out[..period - 1].fill(f64::NAN);
    let mut total = 0.0;
    for &v in &x[..period - 1] {
        total += v;
    }
    let mut prev = (total + x[period - 1]) / period as f64;
    out[period - 1] = prev;
    for (o, &v) in out[period..].iter_mut().zip(&x[period..]) {
        prev = prev.mul_add(k1, v * k);
        *o = prev;
    }
    prev
}

// ---------------------------------------------------------------- WMA

/// Weighted moving average, TA-Lib `WMA(real, timeperiod=30)`.
///
/// Weights `1..=n`, newest heaviest: `Σ w_i·x_i / (n(n+1)/2)`, kept with
/// TA-Lib's running weighted sum. Lookback `n − 1`; `n ≥ 2`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Wma {
    period: usize,
    ring: Ring,
    sum: f64,
    sub: f64,
    trailing: f64,
}

impl Wma {
    /// A `WMA(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("WMA", "timeperiod", period, 2)?;
        Ok(Self::unchecked(period))
    }

    pub(crate) fn unchecked(period: usize) -> Self {
        Self {
            period,
            ring: Ring::new(period),
            sum: 0.0,
            sub: 0.0,
            trailing: 0.0,
        }
    }
}

impl Indicator for Wma {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        self.ring.push(x);
        let n = self.period;
        if !self.ring.is_full() {
            self.sub += x;
            self.sum += x * self.ring.len() as f64;
            return None;
        }
        self.sub += x;
        self.sub -= self.trailing;
        self.sum += x * n as f64;
        self.trailing = self.ring.back(n - 1);
        let out = self.sum / ((n * (n + 1)) as f64 / 2.0);
        self.sum -= self.sub;
        Some(out)
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        *self = Self::unchecked(self.period);
    }
}

/// Batch [`Wma`].
///
/// # Errors
/// Invalid period or fewer than `period` usable rows.
pub fn wma(real: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_real("WMA", Wma::new(period)?, real).map(one)
}

// ---------------------------------------------------------------- DEMA / TEMA

/// Double exponential moving average, TA-Lib `DEMA(real, timeperiod=30)`:
/// `2·EMA(x) − EMA(EMA(x))`, each stage SMA-seeded on its own first `n`
/// inputs. Lookback `2(n − 1)`; `n ≥ 2`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Dema {
    e1: Ema,
    e2: Ema,
}

impl Dema {
    /// A `DEMA(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("DEMA", "timeperiod", period, 2)?;
        Ok(Self {
            e1: Ema::unchecked(period),
            e2: Ema::unchecked(period),
        })
    }
}

impl Indicator for Dema {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        let a = self.e1.update(x)?;
        let b = self.e2.update(a)?;
        Some(2.0 * a - b)
    }

    fn lookback(&self) -> usize {
        2 * self.e1.lookback()
    }

    fn reset(&mut self) {
        self.e1.reset();
        self.e2.reset();
    }
}

/// Batch [`Dema`].
///
/// # Errors
/// Invalid period or too few usable rows.
pub fn dema(real: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_real("DEMA", Dema::new(period)?, real).map(one)
}

/// Triple exponential moving average, TA-Lib `TEMA(real, timeperiod=30)`:
/// `3·EMA1 − 3·EMA2 + EMA3` with EMA2 = EMA(EMA1), EMA3 = EMA(EMA2), each
/// SMA-seeded. Lookback `3(n − 1)`; `n ≥ 2`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Tema {
    e1: Ema,
    e2: Ema,
    e3: Ema,
}

impl Tema {
    /// A `TEMA(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("TEMA", "timeperiod", period, 2)?;
        Ok(Self {
            e1: Ema::unchecked(period),
            e2: Ema::unchecked(period),
            e3: Ema::unchecked(period),
        })
    }
}

impl Indicator for Tema {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        let a = self.e1.update(x)?;
        let b = self.e2.update(a)?;
        let c = self.e3.update(b)?;
        Some(c + (3.0 * a - 3.0 * b))
    }

    fn lookback(&self) -> usize {
        3 * self.e1.lookback()
    }

    fn reset(&mut self) {
        self.e1.reset();
        self.e2.reset();
        self.e3.reset();
    }
}

/// Batch [`Tema`].
///
/// # Errors
/// Invalid period or too few usable rows.
pub fn tema(real: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_real("TEMA", Tema::new(period)?, real).map(one)
}

// ---------------------------------------------------------------- KAMA

/// Kaufman adaptive moving average, TA-Lib `KAMA(real, timeperiod=30)`.
///
/// Efficiency ratio `ER = |x_t − x_{t−n}| / Σ|x_i − x_{i−1}|` (1 when the
/// path length is zero or not above the net change), smoothing
/// `sc = (ER·(2/3 − 2/31) + 2/31)²`, `KAMA_t = (x_t − KAMA_{t−1})·sc +
/// KAMA_{t−1}`, seeded with the previous close. Lookback `n`; `n ≥ 2`.
/// Source: Kaufman, *Smarter Trading* (1995); TA-Lib `ta_KAMA.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Kama {
    period: usize,
    ring: Ring,
    sum_roc1: f64,
    trailing: f64,
    prev: f64,
}

impl Kama {
    /// A `KAMA(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("KAMA", "timeperiod", period, 2)?;
        Ok(Self {
            period,
            ring: Ring::new(period + 1),
            sum_roc1: 0.0,
            trailing: 0.0,
            prev: 0.0,
        })
    }
}

impl Indicator for Kama {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        const MAX: f64 = 2.0 / (30.0 + 1.0);
        let diff = 2.0 / (2.0 + 1.0) - MAX;
        let had = self.ring.len();
        let first = had == self.period; // this value completes the first window
        let prior = if had > 0 { self.ring.back(0) } else { f64::NAN };
        if had < self.period {
            if had > 0 {
                self.sum_roc1 += (prior - x).abs();
            }
            self.ring.push(x);
            return None;
        }
        self.ring.push(x);
        let oldest = self.ring.back(self.period); // x_{t−n}
        if first {
            self.sum_roc1 += (prior - x).abs();
            self.prev = prior;
        } else {
            self.sum_roc1 -= (self.trailing - oldest).abs();
            self.sum_roc1 += (x - prior).abs();
        }
        self.trailing = oldest;
        let roc = x - oldest;
        let er = if self.sum_roc1 <= roc || is_zero(self.sum_roc1) {
            1.0
        } else {
            (roc / self.sum_roc1).abs()
        };
        let mut sc = er * diff + MAX;
        sc *= sc;
        self.prev = (x - self.prev) * sc + self.prev;
        Some(self.prev)
    }

    fn lookback(&self) -> usize {
        self.period
    }

    fn reset(&mut self) {
        self.ring.clear();
        self.sum_roc1 = 0.0;
        self.trailing = 0.0;
        self.prev = 0.0;
    }
}

/// Batch [`Kama`].
///
/// # Errors
/// Invalid period or too few usable rows.
pub fn kama(real: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_real("KAMA", Kama::new(period)?, real).map(one)
}

// ---------------------------------------------------------------- MA type

/// TA-Lib's `matype` codes for the moving averages other indicators use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaType {
    /// 0: [`Sma`].
    Sma,
    /// 1: [`Ema`].
    Ema,
    /// 2: [`Wma`].
    Wma,
    /// 3: [`Dema`].
    Dema,
    /// 4: [`Tema`].
    Tema,
    /// 6: [`Kama`].
    Kama,
}

impl MaType {
    /// From TA-Lib's integer code (0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 6 KAMA).
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for other codes (TRIMA, MAMA, T3
    /// are not provided).
    pub fn from_code(indicator: &'static str, param: &'static str, code: i64) -> Result<Self> {
        Ok(match code {
            0 => Self::Sma,
            1 => Self::Ema,
            2 => Self::Wma,
            3 => Self::Dema,
            4 => Self::Tema,
            6 => Self::Kama,
            _ => {
                return Err(crate::Error::InvalidParameter {
                    indicator,
                    param,
                    value: code.to_string(),
                    expected: "a TA-Lib MA type: 0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 6 KAMA"
                        .into(),
                });
            }
        })
    }
}

/// A moving average of a [`MaType`], as TA-Lib's `TA_MA`: period 1 passes
/// the input through.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Ma {
    /// Period 1: the input itself.
    Identity,
    /// [`Sma`].
    Sma(Sma),
    /// [`Ema`].
    Ema(Ema),
    /// [`Wma`].
    Wma(Wma),
    /// [`Dema`].
    Dema(Dema),
    /// [`Tema`].
    Tema(Tema),
    /// [`Kama`].
    Kama(Kama),
}

impl Ma {
    /// A moving average of `kind` over `period ≥ 1` values.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(kind: MaType, period: usize) -> Result<Self> {
        check_period("MA", "timeperiod", period, 1)?;
        if period == 1 {
            return Ok(Self::Identity);
        }
        Ok(match kind {
            MaType::Sma => Self::Sma(Sma::new(period)?),
            MaType::Ema => Self::Ema(Ema::new(period)?),
            MaType::Wma => Self::Wma(Wma::new(period)?),
            MaType::Dema => Self::Dema(Dema::new(period)?),
            MaType::Tema => Self::Tema(Tema::new(period)?),
            MaType::Kama => Self::Kama(Kama::new(period)?),
        })
    }
}

impl Indicator for Ma {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        match self {
            Self::Identity => (!x.is_nan()).then_some(x),
            Self::Sma(m) => m.update(x),
            Self::Ema(m) => m.update(x),
            Self::Wma(m) => m.update(x),
            Self::Dema(m) => m.update(x),
            Self::Tema(m) => m.update(x),
            Self::Kama(m) => m.update(x),
        }
    }

    fn lookback(&self) -> usize {
        match self {
            Self::Identity => 0,
            Self::Sma(m) => m.lookback(),
            Self::Ema(m) => m.lookback(),
            Self::Wma(m) => m.lookback(),
            Self::Dema(m) => m.lookback(),
            Self::Tema(m) => m.lookback(),
            Self::Kama(m) => m.lookback(),
        }
    }

    fn reset(&mut self) {
        match self {
            Self::Identity => {}
            Self::Sma(m) => m.reset(),
            Self::Ema(m) => m.reset(),
            Self::Wma(m) => m.reset(),
            Self::Dema(m) => m.reset(),
            Self::Tema(m) => m.reset(),
            Self::Kama(m) => m.reset(),
        }
    }
}

// ---------------------------------------------------------------- rolling variance

/// Population variance of the last `n` values, numerically stable: sums of
/// deviations from an anchor that is moved to the window mean (and the sums
/// recomputed) every `max(n, 64)` values, so rounding never builds up, and at once
/// whenever the variance is below 1e-6 of the anchored sum of squares (a
/// level shift), so a small variance after large values is neither lost nor
/// clipped to 0. Relative error ≲ 1e-10.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct RollingVar {
    ring: Ring,
    core: VarCore,
}

/// The arithmetic of [`RollingVar`], shared with the batch kernel (which
/// reads its window from the input slice): identical operations, identical
/// bits.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct VarCore {
    n: usize,
    /// `1/n`: one reciprocal, no division per value.
    inv: f64,
    /// Values between two scheduled re-anchorings: `max(n, 64)`.
    every: usize,
    anchor: f64,
    s1: f64,
    s2: f64,
    steps: usize,
}

impl VarCore {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            n,
            inv: 1.0 / n as f64,
            every: n.max(64),
            anchor: f64::NAN,
            s1: 0.0,
            s2: 0.0,
            steps: 0,
        }
    }

    /// Adds a value before the window is full; the very first value is the
    /// anchor.
    #[inline]
    pub(crate) fn fill(&mut self, x: f64) {
        if self.anchor.is_nan() {
            self.anchor = x;
        }
        let d = x - self.anchor;
        self.s1 += d;
        self.s2 += d * d;
    }

    /// Adds `x`, removes `old` (`None` while filling up to exactly `n`), and
    /// returns the variance of `window` (oldest first, ending with `x`).
    #[inline]
    pub(crate) fn step<W: Iterator<Item = f64> + Clone>(
        &mut self,
        x: f64,
        old: Option<f64>,
        window: W,
    ) -> f64 {
        if self.anchor.is_nan() {
            self.anchor = x;
        }
        let d = x - self.anchor;
        if let Some(old) = old {
            // one add per sum in the loop-carried chain
            let e = old - self.anchor;
            self.s1 += d - e;
            self.s2 += d * d - e * e;
        } else {
            self.s1 += d;
            self.s2 += d * d;
        }
        self.steps += 1;
        if self.steps == self.every {
            self.steps = 0;
            self.reanchor(window.clone());
        }
        let mut m2 = self.s2 - self.s1 * self.s1 * self.inv;
        if m2 < 1e-6 * self.s2 {
            // cancellation: the window's spread is tiny next to its distance
            // from the anchor (a level shift); recompute around the mean
            self.reanchor(window);
            m2 = self.s2 - self.s1 * self.s1 * self.inv;
        }
        (m2 * self.inv).max(0.0)
    }

    /// Moves the anchor to the window's mean (from the running sum) and
    /// recomputes both sums from the window in one pass, dropping the
    /// rounding built up since the last time.
    #[cold]
    fn reanchor<W: Iterator<Item = f64> + Clone>(&mut self, window: W) {
        self.anchor += self.s1 * self.inv;
        let (mut s1, mut s2) = (0.0, 0.0);
        for v in window {
            let d = v - self.anchor;
            s1 += d;
            s2 += d * d;
        }
        self.s1 = s1;
        self.s2 = s2;
    }
}

impl RollingVar {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            ring: Ring::new(n),
            core: VarCore::new(n),
        }
    }

    /// Pushes a (non-NaN) value; the variance once the window is full.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> Option<f64> {
        let evicted = self.ring.push(x);
        if !self.ring.is_full() {
            self.core.fill(x);
            return None;
        }
        Some(self.core.step(x, evicted, self.ring.iter()))
    }

    pub(crate) fn n(&self) -> usize {
        self.core.n
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::new(self.core.n);
    }
}

// ---------------------------------------------------------------- BBANDS

/// One Bollinger Bands value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BbandsOutput {
    /// middle + nbdevup × σ.
    pub upper: f64,
    /// The moving average.
    pub middle: f64,
    /// middle − nbdevdn × σ.
    pub lower: f64,
}

impl Row for BbandsOutput {
    const N: usize = 3;
    #[inline]
    fn values(self) -> [f64; 4] {
        [self.upper, self.middle, self.lower, f64::NAN]
    }
}

/// Bollinger Bands, TA-Lib `BBANDS(real, timeperiod=5, nbdevup=2, nbdevdn=2,
/// matype=0)`.
///
/// middle = MA(n) of `matype`; σ = population standard deviation (ddof 0)
/// of the last `n` values, computed stably; upper/lower = middle ± k·σ.
/// Lookback that of the MA (`n − 1` for SMA); `n ≥ 2`, deviations finite.
/// Source: Bollinger, *Bollinger on Bollinger Bands* (2001); TA-Lib
/// `ta_BBANDS.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Bbands {
    ma: Ma,
    var: RollingVar,
    up: f64,
    dn: f64,
}

impl Bbands {
    /// A `BBANDS(period, nbdevup, nbdevdn, matype)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a period outside `[2,
    /// MAX_PERIOD]` or a deviation multiplier outside
    /// [`crate::MULTIPLIER_RANGE`].
    pub fn new(period: usize, nbdevup: f64, nbdevdn: f64, matype: MaType) -> Result<Self> {
        check_period("BBANDS", "timeperiod", period, 2)?;
        check_real("BBANDS", "nbdevup", nbdevup, crate::MULTIPLIER_RANGE)?;
        check_real("BBANDS", "nbdevdn", nbdevdn, crate::MULTIPLIER_RANGE)?;
        Ok(Self {
            ma: Ma::new(matype, period)?,
            var: RollingVar::new(period),
            up: nbdevup,
            dn: nbdevdn,
        })
    }
}

#[inline]
fn bands(middle: f64, sd: f64, up: f64, dn: f64) -> BbandsOutput {
    BbandsOutput {
        upper: middle + sd * up,
        middle,
        lower: middle - sd * dn,
    }
}

impl Indicator for Bbands {
    type Input = f64;
    type Output = BbandsOutput;

    #[inline]
    fn update(&mut self, x: f64) -> Option<BbandsOutput> {
        if x.is_nan() {
            return None;
        }
        let var = self.var.push(x);
        let middle = self.ma.update(x)?;
        let sd = var?.sqrt();
        Some(bands(middle, sd, self.up, self.dn))
    }

    fn lookback(&self) -> usize {
        self.ma.lookback().max(self.var.n() - 1)
    }

    fn reset(&mut self) {
        self.ma.reset();
        self.var.clear();
    }
}

/// Batch Bollinger Bands: the three bands as columns.
#[derive(Debug, Clone, PartialEq)]
pub struct BbandsSeries {
    /// Upper band.
    pub upper: Vec<f64>,
    /// Middle band (the MA).
    pub middle: Vec<f64>,
    /// Lower band.
    pub lower: Vec<f64>,
}

/// Batch [`Bbands`].
///
/// # Errors
/// Invalid parameters or too few usable rows.
pub fn bbands(
    real: &[f64],
    period: usize,
    nbdevup: f64,
    nbdevdn: f64,
    matype: MaType,
) -> Result<BbandsSeries> {
    let n = real.len();
    let mut out = BbandsSeries {
        upper: vec![0.0; n],
        middle: vec![0.0; n],
        lower: vec![0.0; n],
    };
    bbands_into(real, period, nbdevup, nbdevdn, matype, &mut out)?;
    Ok(out)
}

/// [`bbands`] into a caller's columns, each of the input's length.
///
/// # Errors
/// As [`bbands`], and [`crate::Error::LengthMismatch`] for a wrong column length.
pub fn bbands_into(
    real: &[f64],
    period: usize,
    nbdevup: f64,
    nbdevdn: f64,
    matype: MaType,
    out: &mut BbandsSeries,
) -> Result<()> {
    let ind = Bbands::new(period, nbdevup, nbdevdn, matype)?;
    let n = real.len();
    for col in [&out.upper, &out.middle, &out.lower] {
        check_out("BBANDS", n, col.len())?;
    }
    if matype != MaType::Sma
        || n < period
        || !bbands_sma_kernel(real, period, nbdevup, nbdevdn, out)
    {
        // another MA, short input or a NaN row: the streaming path skips
        // missing rows
        let cols = batch_real("BBANDS", ind, real)?;
        out.upper.copy_from_slice(&cols[0]);
        out.middle.copy_from_slice(&cols[1]);
        out.lower.copy_from_slice(&cols[2]);
    }
    Ok(())
}

/// [`bbands_into`] with the SMA over gap-free input (at least `period`
/// rows), with the operations of the streaming type ([`Sma`] and
/// [`RollingVar`]), so the same bits. Pass 1 is the loop-carried part
/// (window sums into `middle`, variances into `upper`); pass 2 is per row
/// and vectorises. Compiled for AVX2+FMA CPUs and chosen at run time (no
/// fused operations here, so every CPU gives the same values). `false` when
/// a `NaN` was met (the caller then overwrites `out`).
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn bbands_sma_kernel(
    real: &[f64],
    period: usize,
    up: f64,
    dn: f64,
    out: &mut BbandsSeries,
) -> bool {
    let (n, lb) = (real.len(), period - 1);
    let (upper, middle, lower) = (&mut out.upper, &mut out.middle, &mut out.lower);
    for v in [&mut *upper, &mut *middle, &mut *lower] {
        v[..lb].fill(f64::NAN);
    }
    let pf = period as f64;
    let mut total = 0.0;
    let mut var = VarCore::new(period);
    for &v in &real[..lb] {
        total += v;
        var.fill(v);
    }
    // the first full window has nothing to drop
    total += real[lb];
    middle[lb] = total;
    upper[lb] = var.step(real[lb], None, real[..=lb].iter().copied());
    for i in period..n {
        let (x, old) = (real[i], real[i - period]);
        total += x - old;
        middle[i] = total;
        upper[i] = var.step(x, Some(old), real[i - lb..=i].iter().copied());
    }
    if total.is_nan() {
        return false;
    }
    for ((u, m), l) in upper[lb..]
        .iter_mut()
        .zip(&mut middle[lb..])
        .zip(&mut lower[lb..])
    {
        let b = bands(*m / pf, u.sqrt(), up, dn);
        *u = b.upper;
        *m = b.middle;
        *l = b.lower;
    }
    true
}

// ---------------------------------------------------------------- SAR

/// Parabolic SAR, TA-Lib `SAR(high, low, acceleration=0.02, maximum=0.2)`.
///
/// Wilder's stop-and-reverse: the stop moves by `af·(EP − SAR)` each bar,
/// `af` grows by `acceleration` on each new extreme up to `maximum`, and
/// never enters the last two bars' range. The first direction is long
/// unless bar 1 has a positive −DM (TA-Lib's rule). Lookback 1. Units:
/// price. Source: Wilder, *New Concepts in Technical Trading Systems*
/// (1978); TA-Lib `ta_SAR.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Sar {
    accel: f64,
    max: f64,
    seen: usize,
    long: bool,
    af: f64,
    ep: f64,
    sar: f64,
    new_high: f64,
    new_low: f64,
}

impl Sar {
    /// A `SAR(acceleration, maximum)`; an acceleration above the maximum
    /// is cut to it (TA-Lib).
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a value outside
    /// [`crate::FRACTION_RANGE`] (or not finite).
    pub fn new(acceleration: f64, maximum: f64) -> Result<Self> {
        check_real("SAR", "acceleration", acceleration, crate::FRACTION_RANGE)?;
        check_real("SAR", "maximum", maximum, crate::FRACTION_RANGE)?;
        let accel = acceleration.min(maximum);
        Ok(Self {
            accel,
            max: maximum,
            seen: 0,
            long: true,
            af: accel,
            ep: 0.0,
            sar: 0.0,
            new_high: 0.0,
            new_low: 0.0,
        })
    }
}

impl Indicator for Sar {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let (high, low) = (bar.high(), bar.low());
        if high.is_nan() || low.is_nan() {
            return None;
        }
        self.seen += 1;
        if self.seen == 1 {
            self.new_high = high;
            self.new_low = low;
            return None;
        }
        if self.seen == 2 {
            // direction from bar 1's −DM; start from bar 0's extreme
            let diff_p = high - self.new_high;
            let diff_m = self.new_low - low;
            let minus_dm = diff_m > 0.0 && diff_p < diff_m;
            self.long = !minus_dm;
            if self.long {
                self.ep = high;
                self.sar = self.new_low;
            } else {
                self.ep = low;
                self.sar = self.new_high;
            }
            self.new_high = high;
            self.new_low = low;
        }
        let prev_low = self.new_low;
        let prev_high = self.new_high;
        self.new_low = low;
        self.new_high = high;
        let out;
        if self.long {
            if low <= self.sar {
                self.long = false;
                self.sar = self.ep.max(prev_high).max(high);
                out = self.sar;
                self.af = self.accel;
                self.ep = low;
                self.sar += self.af * (self.ep - self.sar);
                self.sar = self.sar.max(prev_high).max(high);
            } else {
                out = self.sar;
                if high > self.ep {
                    self.ep = high;
                    self.af = (self.af + self.accel).min(self.max);
                }
                self.sar += self.af * (self.ep - self.sar);
                self.sar = self.sar.min(prev_low).min(low);
            }
        } else if high >= self.sar {
            self.long = true;
            self.sar = self.ep.min(prev_low).min(low);
            out = self.sar;
            self.af = self.accel;
            self.ep = high;
            self.sar += self.af * (self.ep - self.sar);
            self.sar = self.sar.min(prev_low).min(low);
        } else {
            out = self.sar;
            if low < self.ep {
                self.ep = low;
                self.af = (self.af + self.accel).min(self.max);
            }
            self.sar += self.af * (self.ep - self.sar);
            self.sar = self.sar.max(prev_high).max(high);
        }
        Some(out)
    }

    fn lookback(&self) -> usize {
        1
    }

    fn reset(&mut self) {
        *self = Self {
            seen: 0,
            long: true,
            af: self.accel,
            ..self.clone()
        };
    }
}

/// Batch [`Sar`] over high and low.
///
/// # Errors
/// Invalid parameters, mismatched lengths, high < low, too few rows.
pub fn sar(high: &[f64], low: &[f64], acceleration: f64, maximum: f64) -> Result<Vec<f64>> {
    let bars = BarSlices {
        high: Some(high),
        low: Some(low),
        ..BarSlices::default()
    };
    batch_bars("SAR", Sar::new(acceleration, maximum)?, bars).map(one)
}

/// Checks high/low/close for the hand-written ATR kernel: lengths,
/// high ≥ low, and whether any `NaN` is present — what
/// [`crate::util::check_inputs`] checks, in one fused pass over the three
/// slices (the generic check costs ATR(14) 41.5 instead of 29.9 ms on 10M
/// points).
pub(crate) fn check_hlc(
    indicator: &'static str,
    high: &[f64],
    low: &[f64],
    close: &[f64],
) -> Result<(usize, bool)> {
    let n = high.len();
    crate::util::check_lengths(indicator, high, &[("low", low), ("close", close)])?;
    let mut usable = 0;
    for (i, ((&h, &l), &c)) in high.iter().zip(low).zip(close).enumerate() {
        if h < l {
            return Err(crate::Error::HighBelowLow {
                index: i,
                high: h,
                low: l,
            });
        }
        usable += usize::from(!(h.is_nan() || l.is_nan() || c.is_nan()));
    }
    Ok((usable, usable < n))
}
