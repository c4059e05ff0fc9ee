//! Volatility indicators: TRANGE, ATR, NATR (TA-Lib) and the Donchian and
//! Keltner channels.

use crate::overlap::{Ema, check_hlc};
use crate::util::{
    BarSlices, RollingMax, RollingMin, Row, batch_bars, check_lengths, check_period, check_real,
    ensure_enough, hlc_bad, hlc_clean, is_zero, one,
};
use crate::{Indicator, Ohlcv, Result};

/// TA-Lib's `TRUE_RANGE`: the largest of high − low, |high − prev close|,
/// |low − prev close|.
#[inline]
pub(crate) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    // branch-free (one `maxsd` each; which term wins is unpredictable on
    // real data). Not for NaN rows: callers skip them (missing bars) or,
    // in the batch ATR, throw the block's values away.
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
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
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
/// true ranges (bars 1..=n), then `ATR_t = a·ATR_{t−1} + y_t` with
/// `a = (n−1)/n` and `y_t = TR_t/n` (TA-Lib: `(ATR·(n−1) + TR)/n`).
/// From the second bar after the seed the recursion is taken two bars at a
/// step, `ATR_t = a²·ATR_{t−2} + (a·y_{t−1} + y_t)` (each side one fused
/// multiply-add): the same value to within a few ulps (≈ 1e-15 relative),
/// and it lets the batch kernel run two independent chains instead of one
/// ([`atr_into`] computes exactly these operations, so batch equals
/// streaming bit for bit). Lookback `n`; `n ≥ 1` (period 1 is the true
/// range). Units: price. Source: Wilder (1978); TA-Lib `ta_ATR.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Atr {
    period: usize,
    coeffs: Wilder,
    tr: Trange,
    seen: usize,
    /// The seed's running sum of true ranges, then `ATR_{t−1}`.
    value: f64,
    /// `ATR_{t−2}` (from the second bar after the seed).
    before: f64,
    /// `y_{t−1} = TR_{t−1}/n`.
    prev_y: f64,
}

/// The constants of the Wilder recursion `v_t = a·v_{t−1} + TR_t/n`, each
/// computed once, in one place, for [`Atr`] and [`atr_into`] alike.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Wilder {
    /// `a = (n−1)/n`.
    a: f64,
    /// `a²` (rounded once), the two-bar step's factor.
    a2: f64,
    /// `1/n`: `y_t = TR_t · (1/n)`.
    inv: f64,
}

impl Wilder {
    fn new(period: usize) -> Self {
        let n = period as f64;
        let a = (n - 1.0) / n;
        Self {
            a,
            a2: a * a,
            inv: 1.0 / n,
        }
    }

    /// One bar: `a·v + y`.
    #[inline(always)]
    fn step(self, v: f64, y: f64) -> f64 {
        v.mul_add(self.a, y)
    }

    /// Two bars: `a²·v_{t−2} + (a·y_{t−1} + y_t)`.
    #[inline(always)]
    fn step2(self, v_before: f64, prev_y: f64, y: f64) -> f64 {
        self.a2.mul_add(v_before, self.a.mul_add(prev_y, y))
    }
}

impl Atr {
    /// An `ATR(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("ATR", "timeperiod", period, 1)?;
        Ok(Self {
            period,
            coeffs: Wilder::new(period),
            tr: Trange::new(),
            seen: 0,
            value: 0.0,
            before: 0.0,
            prev_y: 0.0,
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
        if self.seen < self.period {
            self.value += tr;
            return None;
        }
        if self.seen == self.period {
            self.value = (self.value + tr) / self.period as f64;
            return Some(self.value);
        }
        let w = self.coeffs;
        let y = tr * w.inv;
        let v = if self.seen == self.period + 1 {
            w.step(self.value, y)
        } else {
            w.step2(self.before, self.prev_y, y)
        };
        self.before = self.value;
        self.value = v;
        self.prev_y = y;
        Some(v)
    }

    fn lookback(&self) -> usize {
        self.period
    }

    fn reset(&mut self) {
        self.tr.reset();
        self.seen = 0;
        self.value = 0.0;
        self.before = 0.0;
        self.prev_y = 0.0;
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
    if period > 1 && close.len() > period + 1 && atr_fast(high, low, close, period, out) {
        return Ok(());
    }
    // a gap, a bad row (reported here) or short input: check everything and
    // take the streaming path
    let (usable, gaps) = check_hlc("ATR", high, low, close)?;
    ensure_enough("ATR", usable, period)?;
    debug_assert!(gaps || period == 1 || close.len() == period + 1);
    let cols = batch_bars("ATR", ind, BarSlices::hlc(high, low, close))?;
    out.copy_from_slice(&cols[0]);
    Ok(())
}

/// Gap-free [`atr_into`] (`period ≥ 2`, more than `period + 1` rows): the
/// seed and the first bar after it as [`Atr`] computes them, then
/// [`atr_tail`]. Returns `false` when some row is not clean (`NaN`, or
/// high < low); `out` is then overwritten by the caller.
fn atr_fast(high: &[f64], low: &[f64], close: &[f64], period: usize, out: &mut [f64]) -> bool {
    let len = close.len();
    let first = period + 1;
    if !hlc_clean(&high[..=first], &low[..=first], &close[..=first]) || close[len - 1].is_nan() {
        return false;
    }
    out[..period].fill(f64::NAN);
    let w = Wilder::new(period);
    let mut seed = 0.0;
    for i in 1..period {
        seed += true_range(high[i], low[i], close[i - 1]);
    }
    seed = (seed + true_range(high[period], low[period], close[period - 1])) / period as f64;
    let y = true_range(high[first], low[first], close[period]) * w.inv;
    let v = w.step(seed, y);
    out[period] = seed;
    out[first] = v;
    let rows = first + 1..len;
    atr_tail(
        (seed, v, y),
        w,
        (&high[rows.clone()], &low[rows.clone()]),
        &close[first..len - 1],
        &mut out[rows],
    )
}

/// Rows per block of [`atr_tail`]: a block's two loops meet in L1, and the
/// next block's true ranges are computed while this one's chains finish.
/// Measured at 10M rows: 64 best; 32 and 128 ≈ 5 % slower, 256 and up
/// slower still.
const ATR_BLOCK: usize = 64;

/// The Wilder recursion of [`atr_into`] from the second bar after the seed,
/// `state = (ATR_{t−2}, ATR_{t−1}, y_{t−1})`, block by block
/// ([`atr_block`]); `high`, `low`, `prev_close` (the close before each row)
/// and `out` have one length. Compiled for AVX2+FMA CPUs and chosen at run
/// time; other CPUs compute the same correctly rounded values more slowly.
/// `true` when every row was clean.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn atr_tail(
    mut state: (f64, f64, f64),
    w: Wilder,
    (high, low): (&[f64], &[f64]),
    prev_close: &[f64],
    out: &mut [f64],
) -> bool {
    debug_assert!(high.len() == out.len() && low.len() == out.len());
    debug_assert!(prev_close.len() == out.len());
    // whole blocks as arrays: their loops have a length known at compile time
    let (blocks, rest) = out.as_chunks_mut::<ATR_BLOCK>();
    let whole = blocks.len() * ATR_BLOCK;
    let inputs = high
        .as_chunks::<ATR_BLOCK>()
        .0
        .iter()
        .zip(low.as_chunks::<ATR_BLOCK>().0)
        .zip(prev_close.as_chunks::<ATR_BLOCK>().0);
    for (o, ((h, l), yc)) in blocks.iter_mut().zip(inputs) {
        if !atr_block(&mut state, w, (h, l, yc), o) {
            return false;
        }
    }
    atr_block(
        &mut state,
        w,
        (&high[whole..], &low[whole..], &prev_close[whole..]),
        rest,
    )
}

/// One block of [`atr_tail`]: first the block's `y_t = TR_t/n` go into
/// `out` while every row is checked as [`hlc_clean`] does (the caller
/// checks the last close) — a loop that vectorises; then
/// [`Wilder::step2`] over the block, whose two interleaved chains (even and
/// odd bars) each take one fused multiply-add per two bars. `false` (and
/// the chains not run) when a row is not clean.
#[inline(always)]
fn atr_block(
    (before, v, prev_y): &mut (f64, f64, f64),
    w: Wilder,
    (high, low, prev_close): (&[f64], &[f64], &[f64]),
    out: &mut [f64],
) -> bool {
    let mut bad = false;
    for (((o, &h), &l), &yc) in out.iter_mut().zip(high).zip(low).zip(prev_close) {
        bad |= hlc_bad(h, l, yc);
        *o = true_range(h, l, yc) * w.inv;
    }
    if bad {
        return false;
    }
    for o in out {
        let y = *o;
        let next = w.step2(*before, *prev_y, y);
        *before = *v;
        *v = next;
        *prev_y = y;
        *o = next;
    }
    true
}

/// Normalised ATR in percent of the close, TA-Lib `NATR(high, low, close,
/// timeperiod=14)`: `100·ATR/close` (0 when the close is 0). Lookback `n`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Natr {
    atr: Atr,
}

impl Natr {
    /// An `NATR(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("NATR", "timeperiod", period, 1)?;
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
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Donchian {
    hh: RollingMax,
    ll: RollingMin,
    period: usize,
}

impl Donchian {
    /// A `DONCHIAN(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("DONCHIAN", "timeperiod", period, 1)?;
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
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Keltner {
    ema: Ema,
    atr: Atr,
    mult: f64,
}

impl Keltner {
    /// A `KELTNER(period, mult, atr_period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a period outside `[2,
    /// MAX_PERIOD]` (`atr_period`: `[1, MAX_PERIOD]`) or a multiplier
    /// outside [`crate::MULTIPLIER_RANGE`].
    pub fn new(period: usize, mult: f64, atr_period: usize) -> Result<Self> {
        check_period("KELTNER", "timeperiod", period, 2)?;
        check_period("KELTNER", "atr_period", atr_period, 1)?;
        check_real("KELTNER", "mult", mult, crate::MULTIPLIER_RANGE)?;
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
