//! Momentum indicators (TA-Lib's group): RSI, MACD, STOCH, STOCHRSI, WILLR,
//! ROC, MOM, CCI, MFI, ULTOSC, AROON.

use crate::overlap::{Ema, Ma, MaType};
use crate::util::{
    BarSlices, Ring, RollingMax, RollingMin, Row, batch_bars, batch_real, check_period, is_zero,
    one,
};
use crate::{Indicator, Ohlcv, Result};

// ---------------------------------------------------------------- RSI

/// Relative strength index, TA-Lib `RSI(real, timeperiod=14)`.
///
/// Wilder: average gain and loss seeded with the simple mean of the first
/// `n` changes (from bar 1), then `avg = avg·(n−1)/n + x/n` (TA-Lib:
/// `(avg·(n−1) + x)/n`, equal to a few ulps); the first value uses the sums;
/// `RSI = 100·gain/(gain + loss)`, 0 when both are zero (a flat series).
/// Range [0, 100]. Lookback `n`; `n ≥ 2`. Source: Wilder (1978); TA-Lib
/// `ta_RSI.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Rsi {
    period: usize,
    seen: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// An `RSI(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("RSI", "timeperiod", period, 2)?;
        Ok(Self {
            period,
            seen: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
        })
    }
}

#[inline]
fn rsi_value(gain: f64, loss: f64) -> f64 {
    rsi_ratio(gain, gain + loss)
}

/// `100·gain/total`, 0 when the total is (near) zero: a flat window.
#[inline]
fn rsi_ratio(gain: f64, total: f64) -> f64 {
    if is_zero(total) {
        0.0
    } else {
        100.0 * (gain / total)
    }
}

impl Indicator for Rsi {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        self.seen += 1;
        if self.seen == 1 {
            self.prev = x;
            return None;
        }
        let d = x - self.prev;
        self.prev = x;
        let n = self.period as f64;
        if self.seen <= self.period + 1 {
            // the first n changes are summed; RSI of the sums, then averages
            if d < 0.0 {
                self.loss -= d;
            } else {
                self.gain += d;
            }
            if self.seen <= self.period {
                return None;
            }
            let out = rsi_value(self.gain, self.loss);
            self.loss /= n;
            self.gain /= n;
            return Some(out);
        }
        // Wilder: avg·(n−1)/n + x/n as one fused multiply-add (TA-Lib:
        // (avg·(n−1) + x)/n, the same to a few ulps); branch-free, so random
        // ups and downs cost nothing
        let (a, inv) = ((n - 1.0) / n, 1.0 / n);
        let (up, down) = if d < 0.0 { (0.0, -d) } else { (d, 0.0) };
        self.gain = self.gain.mul_add(a, up * inv);
        self.loss = self.loss.mul_add(a, down * inv);
        Some(rsi_value(self.gain, self.loss))
    }

    fn lookback(&self) -> usize {
        self.period
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.gain = 0.0;
        self.loss = 0.0;
    }
}

/// Batch [`Rsi`].
///
/// # Errors
/// Invalid period or fewer than `period + 1` usable rows.
pub fn rsi(real: &[f64], period: usize) -> Result<Vec<f64>> {
    let mut out = vec![0.0; real.len()];
    rsi_into(real, period, &mut out)?;
    Ok(out)
}

/// [`rsi`] into a caller's buffer of the input's length.
///
/// # Errors
/// As [`rsi`], and [`crate::Error::LengthMismatch`] for a wrong `out` length.
pub fn rsi_into(real: &[f64], period: usize, out: &mut [f64]) -> Result<()> {
    let ind = Rsi::new(period)?;
    crate::overlap::check_out("RSI", real.len(), out.len())?;
    if real.len() <= period || rsi_kernel(real, period, out).is_nan() {
        return crate::overlap::stream_into("RSI", ind, real, out);
    }
    Ok(())
}

/// The RSI loop (the same operations as [`Rsi`]); returns the final average
/// gain plus loss, `NaN` when a `NaN` was met.
fn rsi_kernel(real: &[f64], period: usize, out: &mut [f64]) -> f64 {
    let n = period as f64;
    let (mut gain, mut loss) = (0.0, 0.0);
    for w in real[..=period].windows(2) {
        let d = w[1] - w[0];
        if d < 0.0 {
            loss -= d;
        } else {
            gain += d;
        }
    }
    out[..period].fill(f64::NAN);
    out[period] = rsi_value(gain, loss);
    rsi_tail(
        (gain / n, loss / n),
        ((n - 1.0) / n, 1.0 / n),
        &real[period..],
        &mut out[period + 1..],
    )
}

/// Rows per block of [`rsi_tail`]: its two scratch arrays stay in L1.
const RSI_BLOCK: usize = 512;

/// Wilder's recursion over `real` (`out.len() + 1` values) from the seed
/// averages, block by block: first the two loop-carried chains (one fused
/// multiply-add each, as [`Rsi`] does), then the block's outputs in a
/// separate loop so the divisions vectorise instead of waiting on the chain.
/// Compiled for AVX2+FMA CPUs and chosen at run time; other CPUs compute the
/// same correctly rounded values more slowly. Returns the final average
/// gain plus loss (`NaN` when a `NaN` was met).
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn rsi_tail(
    (mut gain, mut loss): (f64, f64),
    (a, inv): (f64, f64),
    real: &[f64],
    out: &mut [f64],
) -> f64 {
    let mut gains = [0.0; RSI_BLOCK];
    let mut totals = [0.0; RSI_BLOCK];
    for (b, o) in out.chunks_mut(RSI_BLOCK).enumerate() {
        let x = &real[b * RSI_BLOCK..=b * RSI_BLOCK + o.len()];
        for ((w, g), t) in x.windows(2).zip(&mut gains).zip(&mut totals) {
            let d = w[1] - w[0];
            let (up, down) = if d < 0.0 { (0.0, -d) } else { (d, 0.0) };
            gain = gain.mul_add(a, up * inv);
            loss = loss.mul_add(a, down * inv);
            *g = gain;
            *t = gain + loss;
        }
        for ((o, &g), &t) in o.iter_mut().zip(&gains).zip(&totals) {
            *o = rsi_ratio(g, t);
        }
    }
    gain + loss
}

// ---------------------------------------------------------------- MACD

/// One MACD value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdOutput {
    /// Fast EMA − slow EMA.
    pub macd: f64,
    /// EMA of `macd` over the signal period.
    pub signal: f64,
    /// `macd − signal`.
    pub hist: f64,
}

impl Row for MacdOutput {
    const N: usize = 3;
    #[inline]
    fn values(self) -> [f64; 4] {
        [self.macd, self.signal, self.hist, f64::NAN]
    }
}

/// Moving average convergence/divergence, TA-Lib `MACD(real, fastperiod=12,
/// slowperiod=26, signalperiod=9)`.
///
/// TA-Lib aligns the two EMAs: the fast EMA is seeded with the SMA of the
/// `fast` values ending at index `slow − 1` (not at `fast − 1`), so early
/// values differ from `EMA(12) − EMA(26)`. The signal is an SMA-seeded EMA
/// of MACD. All three outputs start at lookback `slow + signal − 2` (33).
/// Periods: fast, slow ≥ 2 (swapped when fast > slow, as TA-Lib does),
/// signal ≥ 1. Units: price. Source: Appel (1979); TA-Lib `ta_MACD.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Macd {
    fast_period: usize,
    slow_period: usize,
    seen: usize,
    fast: Ema,
    slow: Ema,
    signal: Ema,
}

impl Macd {
    /// A `MACD(fast, slow, signal)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a fast or slow period below 2,
    /// a signal period of 0, or any above [`crate::MAX_PERIOD`].
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self> {
        check_period("MACD", "fastperiod", fast, 2)?;
        check_period("MACD", "slowperiod", slow, 2)?;
        check_period("MACD", "signalperiod", signal, 1)?;
        let (fast, slow) = if slow < fast {
            (slow, fast)
        } else {
            (fast, slow)
        };
        Ok(Self {
            fast_period: fast,
            slow_period: slow,
            seen: 0,
            fast: Ema::unchecked(fast),
            slow: Ema::unchecked(slow),
            signal: Ema::unchecked(signal),
        })
    }
}

impl Indicator for Macd {
    type Input = f64;
    type Output = MacdOutput;

    #[inline]
    fn update(&mut self, x: f64) -> Option<MacdOutput> {
        if x.is_nan() {
            return None;
        }
        self.seen += 1;
        let slow = self.slow.update(x);
        if self.seen <= self.slow_period - self.fast_period {
            return None;
        }
        let fast = self.fast.update(x);
        let macd = fast? - slow?;
        let signal = self.signal.update(macd)?;
        Some(MacdOutput {
            macd,
            signal,
            hist: macd - signal,
        })
    }

    fn lookback(&self) -> usize {
        self.slow.lookback() + self.signal.lookback()
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
    }
}

/// Batch MACD: the three outputs as columns.
#[derive(Debug, Clone, PartialEq)]
pub struct MacdSeries {
    /// MACD line.
    pub macd: Vec<f64>,
    /// Signal line.
    pub signal: Vec<f64>,
    /// Histogram.
    pub hist: Vec<f64>,
}

/// The fused MACD loop into `out`: both EMAs and the signal in one pass,
/// the same operations as [`Macd`] (one fused multiply-add per EMA step);
/// `false` when the input is too short or has a NaN. Compiled for AVX2+FMA
/// CPUs too and chosen at run time; every CPU gives the same values.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn macd_kernel(ind: &Macd, real: &[f64], signal: usize, out: &mut MacdSeries) -> bool {
    let lookback = ind.lookback();
    let n = real.len();
    if n <= lookback {
        return false;
    }
    let (fp, sp) = (ind.fast_period, ind.slow_period);
    let ema = |p: usize| {
        let k = 2.0 / (p + 1) as f64;
        (k, 1.0 - k)
    };
    let ((kf, kf1), (ks, ks1), (kg, kg1)) = (ema(fp), ema(sp), ema(signal));
    let seed = |xs: &[f64], last: f64, p: usize| {
        let mut t = 0.0;
        for &v in xs {
            t += v;
        }
        (t + last) / p as f64
    };
    let mut f = seed(&real[sp - fp..sp - 1], real[sp - 1], fp);
    let mut s = seed(&real[..sp - 1], real[sp - 1], sp);
    // the MACD line up to the signal's first value
    let mut line = Vec::with_capacity(signal);
    line.push(f - s);
    for &x in &real[sp..=lookback] {
        f = f.mul_add(kf1, x * kf);
        s = s.mul_add(ks1, x * ks);
        line.push(f - s);
    }
    let mut g = seed(&line[..signal - 1], line[signal - 1], signal);
    let (m, sig, hist) = (&mut out.macd, &mut out.signal, &mut out.hist);
    m[..lookback].fill(f64::NAN);
    sig[..lookback].fill(f64::NAN);
    hist[..lookback].fill(f64::NAN);
    let first = line[signal - 1];
    m[lookback] = first;
    sig[lookback] = g;
    hist[lookback] = first - g;
    let rest = lookback + 1..n;
    let outs = m[rest.clone()]
        .iter_mut()
        .zip(&mut sig[rest.clone()])
        .zip(&mut hist[rest.clone()]);
    for (((m, sg), h), &x) in outs.zip(&real[rest]) {
        f = f.mul_add(kf1, x * kf);
        s = s.mul_add(ks1, x * ks);
        let v = f - s;
        g = g.mul_add(kg1, v * kg);
        *m = v;
        *sg = g;
        *h = v - g;
    }
    !g.is_nan()
}

/// Batch [`Macd`].
///
/// # Errors
/// Invalid periods or too few usable rows.
pub fn macd(real: &[f64], fast: usize, slow: usize, signal: usize) -> Result<MacdSeries> {
    let n = real.len();
    let mut out = MacdSeries {
        macd: vec![0.0; n],
        signal: vec![0.0; n],
        hist: vec![0.0; n],
    };
    macd_into(real, fast, slow, signal, &mut out)?;
    Ok(out)
}

/// [`macd`] into a caller's columns, each of the input's length.
///
/// # Errors
/// As [`macd`], and [`crate::Error::LengthMismatch`] for a wrong column length.
pub fn macd_into(
    real: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
    out: &mut MacdSeries,
) -> Result<()> {
    let ind = Macd::new(fast, slow, signal)?;
    for col in [&out.macd, &out.signal, &out.hist] {
        crate::overlap::check_out("MACD", real.len(), col.len())?;
    }
    if !macd_kernel(&ind, real, signal, out) {
        // a NaN row or short input: the streaming path
        let cols = batch_real("MACD", ind, real)?;
        out.macd.copy_from_slice(&cols[0]);
        out.signal.copy_from_slice(&cols[1]);
        out.hist.copy_from_slice(&cols[2]);
    }
    Ok(())
}

// ---------------------------------------------------------------- STOCH

/// Fast %K of a close against the window's highest high and lowest low, as
/// TA-Lib computes it: `(close − LL)/((HH − LL)/100)`, 0 on a flat window.
#[inline]
fn fast_k(close: f64, hh: f64, ll: f64) -> f64 {
    let diff = (hh - ll) / 100.0;
    if diff != 0.0 {
        (close - ll) / diff
    } else {
        0.0
    }
}

/// One stochastic value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StochOutput {
    /// Slow %K (the MA of fast %K), in [0, 100].
    pub slowk: f64,
    /// Slow %D (the MA of slow %K), in [0, 100].
    pub slowd: f64,
}

impl Row for StochOutput {
    const N: usize = 2;
    #[inline]
    fn values(self) -> [f64; 4] {
        [self.slowk, self.slowd, f64::NAN, f64::NAN]
    }
}

/// Slow stochastic, TA-Lib `STOCH(high, low, close, fastk_period=5,
/// slowk_period=3, slowk_matype=0, slowd_period=3, slowd_matype=0)`.
///
/// Fast %K over the last `fastk` bars, slow %K = MA(fast %K), slow %D =
/// MA(slow %K). Both outputs start at `fastk − 1 + MA lookbacks` (8 for
/// 5,3,3 with SMAs). Periods ≥ 1. Source: Lane (1950s); TA-Lib `ta_STOCH.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Stoch {
    hh: RollingMax,
    ll: RollingMin,
    fastk_period: usize,
    slowk: Ma,
    slowd: Ma,
}

impl Stoch {
    /// A `STOCH(fastk, slowk, slowk_matype, slowd, slowd_matype)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a period of 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(
        fastk: usize,
        slowk: usize,
        slowk_matype: MaType,
        slowd: usize,
        slowd_matype: MaType,
    ) -> Result<Self> {
        check_period("STOCH", "fastk_period", fastk, 1)?;
        check_period("STOCH", "slowk_period", slowk, 1)?;
        check_period("STOCH", "slowd_period", slowd, 1)?;
        Ok(Self {
            hh: RollingMax::new(fastk),
            ll: RollingMin::new(fastk),
            fastk_period: fastk,
            slowk: Ma::new(slowk_matype, slowk)?,
            slowd: Ma::new(slowd_matype, slowd)?,
        })
    }
}

impl Indicator for Stoch {
    type Input = Ohlcv;
    type Output = StochOutput;

    fn update(&mut self, bar: Ohlcv) -> Option<StochOutput> {
        let (h, l, c) = (bar.high(), bar.low(), bar.close());
        if h.is_nan() || l.is_nan() || c.is_nan() {
            return None;
        }
        let hh = self.hh.push(h);
        let ll = self.ll.push(l);
        if !self.hh.is_full() {
            return None;
        }
        let slowk = self.slowk.update(fast_k(c, hh, ll))?;
        let slowd = self.slowd.update(slowk)?;
        Some(StochOutput { slowk, slowd })
    }

    fn lookback(&self) -> usize {
        self.fastk_period - 1 + self.slowk.lookback() + self.slowd.lookback()
    }

    fn reset(&mut self) {
        self.hh.clear();
        self.ll.clear();
        self.slowk.reset();
        self.slowd.reset();
    }
}

/// Batch stochastic outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct StochSeries {
    /// Slow %K.
    pub slowk: Vec<f64>,
    /// Slow %D.
    pub slowd: Vec<f64>,
}

fn two(cols: Vec<Vec<f64>>) -> (Vec<f64>, Vec<f64>) {
    let mut it = cols.into_iter();
    let a = it.next().unwrap_or_default();
    let b = it.next().unwrap_or_default();
    (a, b)
}

/// Batch [`Stoch`].
///
/// # Errors
/// Invalid periods, mismatched lengths, high < low, too few usable rows.
#[expect(clippy::too_many_arguments, reason = "TA-Lib's STOCH signature")]
pub fn stoch(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    fastk: usize,
    slowk: usize,
    slowk_matype: MaType,
    slowd: usize,
    slowd_matype: MaType,
) -> Result<StochSeries> {
    let ind = Stoch::new(fastk, slowk, slowk_matype, slowd, slowd_matype)?;
    let (slowk, slowd) = two(batch_bars("STOCH", ind, BarSlices::hlc(high, low, close))?);
    Ok(StochSeries { slowk, slowd })
}

// ---------------------------------------------------------------- STOCHRSI

/// One stochastic RSI value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StochRsiOutput {
    /// Fast %K of the RSI, in [0, 100].
    pub fastk: f64,
    /// MA of fast %K, in [0, 100].
    pub fastd: f64,
}

impl Row for StochRsiOutput {
    const N: usize = 2;
    #[inline]
    fn values(self) -> [f64; 4] {
        [self.fastk, self.fastd, f64::NAN, f64::NAN]
    }
}

/// Stochastic RSI, TA-Lib `STOCHRSI(real, timeperiod=14, fastk_period=5,
/// fastd_period=3, fastd_matype=0)`: the fast stochastic (`STOCHF`) of
/// `RSI(timeperiod)` used as high, low and close. Lookback
/// `timeperiod + fastk − 1 + MA lookback` (20 for 14,5,3). Source: Chande &
/// Kroll, *The New Technical Trader* (1994); TA-Lib `ta_STOCHRSI.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StochRsi {
    rsi: Rsi,
    hh: RollingMax,
    ll: RollingMin,
    fastk_period: usize,
    fastd: Ma,
}

impl StochRsi {
    /// A `STOCHRSI(timeperiod, fastk, fastd, fastd_matype)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for `timeperiod < 2`, a period of
    /// 0, or any above [`crate::MAX_PERIOD`].
    pub fn new(
        timeperiod: usize,
        fastk: usize,
        fastd: usize,
        fastd_matype: MaType,
    ) -> Result<Self> {
        check_period("STOCHRSI", "timeperiod", timeperiod, 2)?;
        check_period("STOCHRSI", "fastk_period", fastk, 1)?;
        check_period("STOCHRSI", "fastd_period", fastd, 1)?;
        Ok(Self {
            rsi: Rsi::new(timeperiod)?,
            hh: RollingMax::new(fastk),
            ll: RollingMin::new(fastk),
            fastk_period: fastk,
            fastd: Ma::new(fastd_matype, fastd)?,
        })
    }
}

impl Indicator for StochRsi {
    type Input = f64;
    type Output = StochRsiOutput;

    fn update(&mut self, x: f64) -> Option<StochRsiOutput> {
        let r = self.rsi.update(x)?;
        let hh = self.hh.push(r);
        let ll = self.ll.push(r);
        if !self.hh.is_full() {
            return None;
        }
        let fastk = fast_k(r, hh, ll);
        let fastd = self.fastd.update(fastk)?;
        Some(StochRsiOutput { fastk, fastd })
    }

    fn lookback(&self) -> usize {
        self.rsi.lookback() + self.fastk_period - 1 + self.fastd.lookback()
    }

    fn reset(&mut self) {
        self.rsi.reset();
        self.hh.clear();
        self.ll.clear();
        self.fastd.reset();
    }
}

/// Batch stochastic RSI outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct StochRsiSeries {
    /// Fast %K.
    pub fastk: Vec<f64>,
    /// Fast %D.
    pub fastd: Vec<f64>,
}

/// Batch [`StochRsi`].
///
/// # Errors
/// Invalid periods or too few usable rows.
pub fn stochrsi(
    real: &[f64],
    timeperiod: usize,
    fastk: usize,
    fastd: usize,
    fastd_matype: MaType,
) -> Result<StochRsiSeries> {
    let ind = StochRsi::new(timeperiod, fastk, fastd, fastd_matype)?;
    let (fastk, fastd) = two(batch_real("STOCHRSI", ind, real)?);
    Ok(StochRsiSeries { fastk, fastd })
}

// ---------------------------------------------------------------- WILLR

/// Williams' %R, TA-Lib `WILLR(high, low, close, timeperiod=14)`:
/// `−100·(HH − close)/(HH − LL)` over the last `n` bars, 0 on a flat window.
/// Range [−100, 0]. Lookback `n − 1`; `n ≥ 2`. Source: Williams (1973);
/// TA-Lib `ta_WILLR.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Willr {
    hh: RollingMax,
    ll: RollingMin,
    period: usize,
}

impl Willr {
    /// A `WILLR(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("WILLR", "timeperiod", period, 2)?;
        Ok(Self {
            hh: RollingMax::new(period),
            ll: RollingMin::new(period),
            period,
        })
    }
}

impl Indicator for Willr {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let (h, l, c) = (bar.high(), bar.low(), bar.close());
        if h.is_nan() || l.is_nan() || c.is_nan() {
            return None;
        }
        let hh = self.hh.push(h);
        let ll = self.ll.push(l);
        if !self.hh.is_full() {
            return None;
        }
        let diff = (hh - ll) / -100.0;
        Some(if diff != 0.0 { (hh - c) / diff } else { 0.0 })
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        self.hh.clear();
        self.ll.clear();
    }
}

/// Batch [`Willr`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn willr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_bars(
        "WILLR",
        Willr::new(period)?,
        BarSlices::hlc(high, low, close),
    )
    .map(one)
}

// ---------------------------------------------------------------- ROC / MOM

/// Rate of change in percent, TA-Lib `ROC(real, timeperiod=10)`:
/// `(x_t / x_{t−n} − 1)·100`, 0 when `x_{t−n}` is 0. Lookback `n`; `n ≥ 1`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Roc {
    ring: Ring,
    period: usize,
}

impl Roc {
    /// A `ROC(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("ROC", "timeperiod", period, 1)?;
        Ok(Self {
            ring: Ring::new(period + 1),
            period,
        })
    }
}

impl Indicator for Roc {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        self.ring.push(x);
        if !self.ring.is_full() {
            return None;
        }
        let prev = self.ring.back(self.period);
        Some(if prev != 0.0 {
            (x / prev - 1.0) * 100.0
        } else {
            0.0
        })
    }

    fn lookback(&self) -> usize {
        self.period
    }

    fn reset(&mut self) {
        self.ring.clear();
    }
}

/// Batch [`Roc`].
///
/// # Errors
/// Invalid period or too few usable rows.
pub fn roc(real: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_real("ROC", Roc::new(period)?, real).map(one)
}

/// Momentum, TA-Lib `MOM(real, timeperiod=10)`: `x_t − x_{t−n}`, in the
/// input's units. Lookback `n`; `n ≥ 1`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Mom {
    ring: Ring,
    period: usize,
}

impl Mom {
    /// A `MOM(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("MOM", "timeperiod", period, 1)?;
        Ok(Self {
            ring: Ring::new(period + 1),
            period,
        })
    }
}

impl Indicator for Mom {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        self.ring.push(x);
        self.ring.is_full().then(|| x - self.ring.back(self.period))
    }

    fn lookback(&self) -> usize {
        self.period
    }

    fn reset(&mut self) {
        self.ring.clear();
    }
}

/// Batch [`Mom`].
///
/// # Errors
/// Invalid period or too few usable rows.
pub fn mom(real: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_real("MOM", Mom::new(period)?, real).map(one)
}

// ---------------------------------------------------------------- CCI

/// Commodity channel index, TA-Lib `CCI(high, low, close, timeperiod=14)`.
///
/// Typical price `TP = (h + l + c)/3`; `CCI = (TP − SMA(TP))/(0.015·MD)`
/// with MD the mean absolute deviation of the window from its mean; 0 when
/// either is zero. Lookback `n − 1`; `n ≥ 2`. Source: Lambert (1980); TA-Lib
/// `ta_CCI.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Cci {
    ring: Ring,
    period: usize,
}

impl Cci {
    /// A `CCI(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("CCI", "timeperiod", period, 2)?;
        Ok(Self {
            ring: Ring::new(period),
            period,
        })
    }
}

impl Indicator for Cci {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let (h, l, c) = (bar.high(), bar.low(), bar.close());
        if h.is_nan() || l.is_nan() || c.is_nan() {
            return None;
        }
        let tp = (h + l + c) / 3.0;
        self.ring.push(tp);
        if !self.ring.is_full() {
            return None;
        }
        let n = self.period as f64;
        let avg = self.ring.iter().sum::<f64>() / n;
        let dev: f64 = self.ring.iter().map(|v| (v - avg).abs()).sum();
        let num = tp - avg;
        Some(if num != 0.0 && dev != 0.0 {
            num / (0.015 * (dev / n))
        } else {
            0.0
        })
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        self.ring.clear();
    }
}

/// Batch [`Cci`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn cci(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_bars("CCI", Cci::new(period)?, BarSlices::hlc(high, low, close)).map(one)
}

// ---------------------------------------------------------------- MFI

/// Money flow index, TA-Lib `MFI(high, low, close, volume, timeperiod=14)`.
///
/// Raw money flow `TP·volume` counts as positive when TP rose, negative
/// when it fell; a change with |ΔTP| ≤ 1e-14·(|TP| + |TP_prev|) counts as
/// neither (TA-Lib 0.8: an exact comparison misreads tick-rounded prices).
/// `MFI = 100·pos/(pos + neg)` over the last `n` changes, 0 when both are
/// zero. Range [0, 100]. Lookback `n`; `n ≥ 2`. Source: Quong & Soudack
/// (1989); TA-Lib `ta_MFI.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Mfi {
    period: usize,
    seen: usize,
    prev_tp: f64,
    pos: Ring,
    neg: Ring,
    pos_sum: f64,
    neg_sum: f64,
}

impl Mfi {
    /// An `MFI(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("MFI", "timeperiod", period, 2)?;
        Ok(Self {
            period,
            seen: 0,
            prev_tp: 0.0,
            pos: Ring::new(period),
            neg: Ring::new(period),
            pos_sum: 0.0,
            neg_sum: 0.0,
        })
    }
}

impl Indicator for Mfi {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let (h, l, c, v) = (bar.high(), bar.low(), bar.close(), bar.volume());
        if h.is_nan() || l.is_nan() || c.is_nan() || v.is_nan() {
            return None;
        }
        let tp = (h + l + c) / 3.0;
        self.seen += 1;
        if self.seen == 1 {
            self.prev_tp = tp;
            return None;
        }
        let d = tp - self.prev_tp;
        let flat = d.abs() <= 1e-14 * (tp.abs() + self.prev_tp.abs());
        self.prev_tp = tp;
        let flow = tp * v;
        let (p, m) = if flat {
            (0.0, 0.0)
        } else if d < 0.0 {
            (0.0, flow)
        } else {
            (flow, 0.0)
        };
        if let Some(old) = self.pos.push(p) {
            self.pos_sum -= old;
        }
        if let Some(old) = self.neg.push(m) {
            self.neg_sum -= old;
        }
        self.pos_sum += p;
        self.neg_sum += m;
        if !self.pos.is_full() {
            return None;
        }
        let total = self.pos_sum + self.neg_sum;
        Some(if is_zero(total) {
            0.0
        } else {
            100.0 * (self.pos_sum / total)
        })
    }

    fn lookback(&self) -> usize {
        self.period
    }

    fn reset(&mut self) {
        *self = Self {
            seen: 0,
            pos: Ring::new(self.period),
            neg: Ring::new(self.period),
            pos_sum: 0.0,
            neg_sum: 0.0,
            ..*self
        };
    }
}

/// Batch [`Mfi`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn mfi(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    period: usize,
) -> Result<Vec<f64>> {
    let bars = BarSlices {
        volume: Some(volume),
        ..BarSlices::hlc(high, low, close)
    };
    batch_bars("MFI", Mfi::new(period)?, bars).map(one)
}

// ---------------------------------------------------------------- ULTOSC

/// Ultimate oscillator, TA-Lib `ULTOSC(high, low, close, timeperiod1=7,
/// timeperiod2=14, timeperiod3=28)`.
///
/// Buying pressure `BP = close − min(low, prev close)`, true range
/// `TR = max(high, prev close) − min(low, prev close)`; with `A_k = ΣBP/ΣTR`
/// over the three windows (sorted shortest first),
/// `ULTOSC = 100·(4A₁ + 2A₂ + A₃)/7` (a window with ΣTR = 0 adds 0). Range
/// [0, 100]. Lookback = the longest period; periods ≥ 1. Source: Williams
/// (1985); TA-Lib `ta_ULTOSC.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ultosc {
    periods: [usize; 3],
    seen: usize,
    prev_close: f64,
    bp: Ring,
    tr: Ring,
    a: [f64; 3],
    b: [f64; 3],
}

impl Ultosc {
    /// An `ULTOSC(p1, p2, p3)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a period of 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(p1: usize, p2: usize, p3: usize) -> Result<Self> {
        check_period("ULTOSC", "timeperiod1", p1, 1)?;
        check_period("ULTOSC", "timeperiod2", p2, 1)?;
        check_period("ULTOSC", "timeperiod3", p3, 1)?;
        let mut periods = [p1, p2, p3];
        periods.sort_unstable();
        Ok(Self {
            periods,
            seen: 0,
            prev_close: 0.0,
            bp: Ring::new(periods[2]),
            tr: Ring::new(periods[2]),
            a: [0.0; 3],
            b: [0.0; 3],
        })
    }
}

impl Indicator for Ultosc {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let (h, l, c) = (bar.high(), bar.low(), bar.close());
        if h.is_nan() || l.is_nan() || c.is_nan() {
            return None;
        }
        self.seen += 1;
        let day = self.seen - 1;
        let yc = self.prev_close;
        self.prev_close = c;
        if day == 0 {
            return None;
        }
        let true_low = l.min(yc);
        let true_high = h.max(yc);
        let bp = c - true_low;
        let tr = true_high - true_low;
        self.bp.push(bp);
        self.tr.push(tr);
        let longest = self.periods[2];
        if day < longest {
            // prime each window from the day its first full window starts
            for k in 0..3 {
                if day + self.periods[k] > longest {
                    self.a[k] += bp;
                    self.b[k] += tr;
                }
            }
            return None;
        }
        for k in 0..3 {
            self.a[k] += bp;
            self.b[k] += tr;
        }
        let mut out = 0.0;
        for (k, w) in [4.0, 2.0, 1.0].into_iter().enumerate() {
            if !is_zero(self.b[k]) {
                out += w * (self.a[k] / self.b[k]);
            }
        }
        for k in 0..3 {
            let back = self.periods[k] - 1;
            self.a[k] -= self.bp.back(back);
            self.b[k] -= self.tr.back(back);
        }
        Some(100.0 * (out / 7.0))
    }

    fn lookback(&self) -> usize {
        self.periods[2]
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.bp.clear();
        self.tr.clear();
        self.a = [0.0; 3];
        self.b = [0.0; 3];
    }
}

/// Batch [`Ultosc`].
///
/// # Errors
/// Invalid periods, mismatched lengths, high < low, too few usable rows.
pub fn ultosc(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    p1: usize,
    p2: usize,
    p3: usize,
) -> Result<Vec<f64>> {
    batch_bars(
        "ULTOSC",
        Ultosc::new(p1, p2, p3)?,
        BarSlices::hlc(high, low, close),
    )
    .map(one)
}

// ---------------------------------------------------------------- AROON

/// One Aroon value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AroonOutput {
    /// `100·(n − bars since the lowest low)/n`, in [0, 100].
    pub down: f64,
    /// `100·(n − bars since the highest high)/n`, in [0, 100].
    pub up: f64,
}

impl Row for AroonOutput {
    const N: usize = 2;
    #[inline]
    fn values(self) -> [f64; 4] {
        [self.down, self.up, f64::NAN, f64::NAN]
    }
}

/// Aroon, TA-Lib `AROON(high, low, timeperiod=14)`: outputs `aroondown`,
/// `aroonup`. The window holds `n + 1` bars; ties go to the most recent
/// extreme. Lookback `n`; `n ≥ 2`. Source: Chande (1995); TA-Lib
/// `ta_AROON.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Aroon {
    hh: RollingMax,
    ll: RollingMin,
    period: usize,
}

impl Aroon {
    /// An `AROON(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("AROON", "timeperiod", period, 2)?;
        Ok(Self {
            hh: RollingMax::new(period + 1),
            ll: RollingMin::new(period + 1),
            period,
        })
    }
}

impl Indicator for Aroon {
    type Input = Ohlcv;
    type Output = AroonOutput;

    fn update(&mut self, bar: Ohlcv) -> Option<AroonOutput> {
        let (h, l) = (bar.high(), bar.low());
        if h.is_nan() || l.is_nan() {
            return None;
        }
        self.hh.push(h);
        self.ll.push(l);
        if !self.hh.is_full() {
            return None;
        }
        let factor = 100.0 / self.period as f64;
        let n = self.period as f64;
        Some(AroonOutput {
            down: factor * (n - self.ll.age() as f64),
            up: factor * (n - self.hh.age() as f64),
        })
    }

    fn lookback(&self) -> usize {
        self.period
    }

    fn reset(&mut self) {
        self.hh.clear();
        self.ll.clear();
    }
}

/// Batch Aroon outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct AroonSeries {
    /// Aroon down.
    pub down: Vec<f64>,
    /// Aroon up.
    pub up: Vec<f64>,
}

/// Batch [`Aroon`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn aroon(high: &[f64], low: &[f64], period: usize) -> Result<AroonSeries> {
    let bars = BarSlices {
        high: Some(high),
        low: Some(low),
        ..BarSlices::default()
    };
    let (down, up) = two(batch_bars("AROON", Aroon::new(period)?, bars)?);
    Ok(AroonSeries { down, up })
}
