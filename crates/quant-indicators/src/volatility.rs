//! Volatility indicators: TRANGE, ATR, NATR (TA-Lib) and the Donchian and
//! Keltner channels.

use crate::overlap::{Ema, check_hlc};
use crate::util::{
    BarSlices, RollingMax, RollingMin, Row, batch_bars, check_lengths, check_min, check_real,
    ensure_enough, hlc_clean, is_zero, one,
};
use crate::{Indicator, Ohlcv, Result};

/// TA-Lib's `TRUE_RANGE`: the largest of high − low, |high − prev close|,
/// |low − prev close|.
#[inline]
pub(crate) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    // branch-free (one `maxsd` each; which term wins is unpredictable on
    // real data). Never sees NaN: NaN rows are missing bars, skipped before.
    max2(
        max2(high - low, (high - prev_close).abs()),
        (low - prev_close).abs(),
    )
}

/// The larger of two non-`NaN` numbers, as one `maxsd` (`f64::max` adds
/// `NaN` handling that the callers do not need).
#[inline]
fn max2(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// True range, TA-Lib `TRANGE(high, low, close)`: `max(high, prev close) −
/// min(low, prev close)`. Lookback 1 (bar 0 has no previous close). Units:
/// price. Source: Wilder (1978).
#[derive(Debug, Clone, Default)]
pub struct Trange {
    prev_close: Option<f64>,
}

impl Trange {
    /// A `TRANGE`.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Indicator for Trange {
    type Input = Ohlcv;
    type Output = f64;

    #[inline]
    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let (h, l, c) = (bar.high(), bar.low(), bar.close());
        if h.is_nan() || l.is_nan() || c.is_nan() {
            return None;
        }
        self.prev_close.replace(c).map(|yc| true_range(h, l, yc))
    }

    fn lookback(&self) -> usize {
        1
    }

    fn reset(&mut self) {
        self.prev_close = None;
    }
}

/// Batch [`Trange`].
///
/// # Errors
/// Mismatched lengths, high < low, fewer than 2 usable rows.
pub fn trange(high: &[f64], low: &[f64], close: &[f64]) -> Result<Vec<f64>> {
    batch_bars("TRANGE", Trange::new(), BarSlices::hlc(high, low, close)).map(one)
}

/// Average true range, TA-Lib `ATR(high, low, close, timeperiod=14)`.
///
/// Wilder smoothing of [`Trange`]: seeded with the mean of the first `n`
/// true ranges (bars 1..=n), then `ATR = ATR·(n−1)/n + TR/n` (TA-Lib:
/// `(ATR·(n−1) + TR)/n`, equal to a few ulps). Lookback `n`;
/// `n ≥ 1` (period 1 is the true range). Units: price. Source: Wilder
/// (1978); TA-Lib `ta_ATR.c`.
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    tr: Trange,
    seen: usize,
    value: f64,
}

impl Atr {
    /// An `ATR(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0.
    pub fn new(period: usize) -> Result<Self> {
        check_min("ATR", "timeperiod", period, 1)?;
        Ok(Self {
            period,
            tr: Trange::new(),
            seen: 0,
            value: 0.0,
        })
    }
}

impl Indicator for Atr {
    type Input = Ohlcv;
    type Output = f64;

    #[inline]
    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let tr = self.tr.update(bar)?;
        if self.period == 1 {
            return Some(tr);
        }
        self.seen += 1;
        let n = self.period as f64;
        if self.seen < self.period {
            self.value += tr;
            return None;
        }
        if self.seen == self.period {
            self.value = (self.value + tr) / n;
        } else {
            // Wilder: ATR·(n−1)/n + TR/n as one fused multiply-add (one
            // rounding; the batch kernel does the same)
            self.value = self.value.mul_add((n - 1.0) / n, tr * (1.0 / n));
        }
        Some(self.value)
    }

    fn lookback(&self) -> usize {
        self.period
    }

    fn reset(&mut self) {
        self.tr.reset();
        self.seen = 0;
        self.value = 0.0;
    }
}

/// Batch [`Atr`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    let mut out = vec![0.0; close.len()];
    atr_into(high, low, close, period, &mut out)?;
    Ok(out)
}

/// [`atr`] into a caller's buffer of the input's length.
///
/// # Errors
/// As [`atr`], and [`crate::Error::LengthMismatch`] for a wrong `out` length.
pub fn atr_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    out: &mut [f64],
) -> Result<()> {
    let ind = Atr::new(period)?;
    check_lengths("ATR", high, &[("low", low), ("close", close)])?;
    crate::overlap::check_out("ATR", close.len(), out.len())?;
    if period > 1 && close.len() > period && atr_fast(high, low, close, period, out) {
        return Ok(());
    }
    // a gap, a bad row (reported here) or short input: check everything and
    // take the streaming path
    let (usable, gaps) = check_hlc("ATR", high, low, close)?;
    ensure_enough("ATR", usable, period)?;
    debug_assert!(gaps || period == 1);
    let cols = batch_bars("ATR", ind, BarSlices::hlc(high, low, close))?;
    out.copy_from_slice(&cols[0]);
    Ok(())
}

/// Gap-free [`atr_into`] (`period ≥ 2`, more than `period` rows) in one
/// pass: every row is checked (no `NaN`, high ≥ low) in the same loop that
/// computes it, off the loop-carried chain, so the inputs come from memory
/// once. Returns `false` when some row is not clean (`out` is then
/// overwritten by the caller).
fn atr_fast(high: &[f64], low: &[f64], close: &[f64], period: usize, out: &mut [f64]) -> bool {
    let len = close.len();
    if !hlc_clean(&high[..=period], &low[..=period], &close[..=period]) {
        return false;
    }
    out[..period].fill(f64::NAN);
    let n = period as f64;
    let mut v = 0.0;
    for i in 1..period {
        v += true_range(high[i], low[i], close[i - 1]);
    }
    v = (v + true_range(high[period], low[period], close[period - 1])) / n;
    out[period] = v;
    let rows = period + 1..len;
    atr_tail(
        v,
        ((n - 1.0) / n, 1.0 / n),
        (
            &high[rows.clone()],
            &low[rows.clone()],
            &close[rows.clone()],
        ),
        &close[period..len - 1],
        &mut out[rows],
    )
}

/// Rows per block of [`atr_tail`]: a block of the inputs stays in L1
/// between its two loops.
const ATR_BLOCK: usize = 512;

/// The Wilder recursion of [`atr_into`] after its seed, block by block:
/// first the chain, one fused multiply-add per bar (`v·a + tr·inv`, rounded
/// once, as [`Atr`] does), then the block's rows are checked as in
/// [`hlc_clean`] from cache, in a loop that vectorises. Compiled for
/// AVX2+FMA CPUs and chosen at run time; other CPUs compute the same
/// correctly rounded values more slowly. `true` when every row was clean.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn atr_tail(
    mut v: f64,
    (a, inv): (f64, f64),
    (high, low, close): (&[f64], &[f64], &[f64]),
    prev_close: &[f64],
    out: &mut [f64],
) -> bool {
    for (b, o) in out.chunks_mut(ATR_BLOCK).enumerate() {
        let rows = b * ATR_BLOCK..b * ATR_BLOCK + o.len();
        let (h, l, yc) = (
            &high[rows.clone()],
            &low[rows.clone()],
            &prev_close[rows.clone()],
        );
        for (((o, &h), &l), &yc) in o.iter_mut().zip(h).zip(l).zip(yc) {
            v = v.mul_add(a, true_range(h, l, yc) * inv);
            *o = v;
        }
        if !hlc_clean(h, l, &close[rows]) {
            return false;
        }
    }
    true
}

/// Normalised ATR in percent of the close, TA-Lib `NATR(high, low, close,
/// timeperiod=14)`: `100·ATR/close` (0 when the close is 0). Lookback `n`.
#[derive(Debug, Clone)]
pub struct Natr {
    atr: Atr,
}

impl Natr {
    /// An `NATR(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0.
    pub fn new(period: usize) -> Result<Self> {
        check_min("NATR", "timeperiod", period, 1)?;
        Ok(Self {
            atr: Atr::new(period)?,
        })
    }
}

impl Indicator for Natr {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let a = self.atr.update(bar)?;
        let c = bar.close();
        Some(if is_zero(c) { 0.0 } else { (a / c) * 100.0 })
    }

    fn lookback(&self) -> usize {
        self.atr.lookback()
    }

    fn reset(&mut self) {
        self.atr.reset();
    }
}

/// Batch [`Natr`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn natr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_bars("NATR", Natr::new(period)?, BarSlices::hlc(high, low, close)).map(one)
}

// ---------------------------------------------------------------- channels

/// One channel value (Donchian, Keltner).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelOutput {
    /// Upper line.
    pub upper: f64,
    /// Middle line.
    pub middle: f64,
    /// Lower line.
    pub lower: f64,
}

impl Row for ChannelOutput {
    const N: usize = 3;
    #[inline]
    fn values(self) -> [f64; 4] {
        [self.upper, self.middle, self.lower, f64::NAN]
    }
}

/// Batch channel lines as columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelSeries {
    /// Upper line.
    pub upper: Vec<f64>,
    /// Middle line.
    pub middle: Vec<f64>,
    /// Lower line.
    pub lower: Vec<f64>,
}

fn channel_series(cols: Vec<Vec<f64>>) -> ChannelSeries {
    let mut it = cols.into_iter();
    let mut next = || it.next().unwrap_or_default();
    ChannelSeries {
        upper: next(),
        middle: next(),
        lower: next(),
    }
}

/// Donchian channel (not in TA-Lib): upper = highest high and lower =
/// lowest low of the last `n` bars **including the current one**, middle =
/// (upper + lower)/2. Lookback `n − 1`; `n ≥ 1`. Units: price. Source:
/// Donchian (1960s); the convention of pandas `rolling(n).max()`.
#[derive(Debug, Clone)]
pub struct Donchian {
    hh: RollingMax,
    ll: RollingMin,
    period: usize,
}

impl Donchian {
    /// A `DONCHIAN(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0.
    pub fn new(period: usize) -> Result<Self> {
        check_min("DONCHIAN", "timeperiod", period, 1)?;
        Ok(Self {
            hh: RollingMax::new(period),
            ll: RollingMin::new(period),
            period,
        })
    }
}

impl Indicator for Donchian {
    type Input = Ohlcv;
    type Output = ChannelOutput;

    fn update(&mut self, bar: Ohlcv) -> Option<ChannelOutput> {
        let (h, l) = (bar.high(), bar.low());
        if h.is_nan() || l.is_nan() {
            return None;
        }
        let upper = self.hh.push(h);
        let lower = self.ll.push(l);
        self.hh.is_full().then(|| ChannelOutput {
            upper,
            middle: (upper + lower) / 2.0,
            lower,
        })
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        self.hh.clear();
        self.ll.clear();
    }
}

/// Batch [`Donchian`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn donchian(high: &[f64], low: &[f64], period: usize) -> Result<ChannelSeries> {
    let bars = BarSlices {
        high: Some(high),
        low: Some(low),
        ..BarSlices::default()
    };
    batch_bars("DONCHIAN", Donchian::new(period)?, bars).map(channel_series)
}

/// Keltner channel (not in TA-Lib): middle = `EMA(close, n)` (TA-Lib's,
/// SMA-seeded), upper/lower = middle ± `mult × ATR(atr_period)` (TA-Lib's
/// Wilder ATR). Lookback `max(n − 1, atr_period)`; `n ≥ 2`,
/// `atr_period ≥ 1`, `mult ≥ 0`. Units: price. Source: Keltner (1960),
/// in the EMA/ATR form popularised by Raschke.
#[derive(Debug, Clone)]
pub struct Keltner {
    ema: Ema,
    atr: Atr,
    mult: f64,
}

impl Keltner {
    /// A `KELTNER(period, mult, atr_period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a bad period or multiplier.
    pub fn new(period: usize, mult: f64, atr_period: usize) -> Result<Self> {
        check_min("KELTNER", "timeperiod", period, 2)?;
        check_min("KELTNER", "atr_period", atr_period, 1)?;
        check_real("KELTNER", "mult", mult, mult >= 0.0, "a number ≥ 0")?;
        Ok(Self {
            ema: Ema::new(period)?,
            atr: Atr::new(atr_period)?,
            mult,
        })
    }
}

impl Indicator for Keltner {
    type Input = Ohlcv;
    type Output = ChannelOutput;

    fn update(&mut self, bar: Ohlcv) -> Option<ChannelOutput> {
        if bar.high().is_nan() || bar.low().is_nan() || bar.close().is_nan() {
            return None;
        }
        let m = self.ema.update(bar.close());
        let a = self.atr.update(bar);
        let (middle, atr) = (m?, a?);
        Some(ChannelOutput {
            upper: middle + self.mult * atr,
            middle,
            lower: middle - self.mult * atr,
        })
    }

    fn lookback(&self) -> usize {
        self.ema.lookback().max(self.atr.lookback())
    }

    fn reset(&mut self) {
        self.ema.reset();
        self.atr.reset();
    }
}

/// Batch [`Keltner`].
///
/// # Errors
/// Invalid parameters, mismatched lengths, high < low, too few usable rows.
pub fn keltner(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    mult: f64,
    atr_period: usize,
) -> Result<ChannelSeries> {
    batch_bars(
        "KELTNER",
        Keltner::new(period, mult, atr_period)?,
        BarSlices::hlc(high, low, close),
    )
    .map(channel_series)
}
