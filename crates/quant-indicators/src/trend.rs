//! Directional movement (TA-Lib's PLUS_DI, MINUS_DI, ADX) and the Ichimoku
//! cloud.

use crate::util::{BarSlices, RollingMax, RollingMin, Row, batch_bars, check_period, is_zero, one};
use crate::volatility::true_range;
use crate::{Indicator, Ohlcv, Result};

/// Wilder's running sums of +DM, −DM and true range, TA-Lib's way: the
/// first `n − 1` bars after bar 0 are summed, then every bar updates
/// `S = S − S/n + x`; yields from bar `n` on.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct DmSums {
    period: usize,
    seen: usize,
    prev_high: f64,
    prev_low: f64,
    prev_close: f64,
    plus: f64,
    minus: f64,
    tr: f64,
}

impl DmSums {
    fn new(period: usize) -> Self {
        Self {
            period,
            seen: 0,
            prev_high: 0.0,
            prev_low: 0.0,
            prev_close: 0.0,
            plus: 0.0,
            minus: 0.0,
            tr: 0.0,
        }
    }

    /// Returns (+DM sum, −DM sum, TR sum) from bar `n` on.
    #[inline]
    fn update(&mut self, bar: Ohlcv) -> Option<(f64, f64, f64)> {
        let (h, l, c) = (bar.high(), bar.low(), bar.close());
        if h.is_nan() || l.is_nan() || c.is_nan() {
            return None;
        }
        self.seen += 1;
        if self.seen == 1 {
            self.prev_high = h;
            self.prev_low = l;
            self.prev_close = c;
            return None;
        }
        let diff_p = h - self.prev_high;
        let diff_m = self.prev_low - l;
        self.prev_high = h;
        self.prev_low = l;
        // +DM only if the up-move is positive and beats the down-move; ties give neither
        let (p, m) = if diff_m > 0.0 && diff_p < diff_m {
            (0.0, diff_m)
        } else if diff_p > 0.0 && diff_p > diff_m {
            (diff_p, 0.0)
        } else {
            (0.0, 0.0)
        };
        let tr = true_range(h, l, self.prev_close);
        self.prev_close = c;
        let n = self.period as f64;
        if self.seen <= self.period {
            // bars 1..n−1 are summed; bar n is the first Wilder step
            self.plus += p;
            self.minus += m;
            self.tr += tr;
            return None;
        }
        self.plus = self.plus - self.plus / n + p;
        self.minus = self.minus - self.minus / n + m;
        self.tr = self.tr - self.tr / n + tr;
        Some((self.plus, self.minus, self.tr))
    }

    fn reset(&mut self) {
        *self = Self::new(self.period);
    }
}

/// `100·DM/TR`, 0 when TR is zero.
#[inline]
fn di(dm: f64, tr: f64) -> f64 {
    if is_zero(tr) { 0.0 } else { 100.0 * (dm / tr) }
}

/// Plus directional indicator, TA-Lib `PLUS_DI(high, low, close,
/// timeperiod=14)`: `100·S(+DM)/S(TR)` with Wilder sums (see the crate
/// docs on TA-Lib's seeding). Range [0, 100]. Lookback `n`; `n ≥ 2`.
/// Source: Wilder (1978); TA-Lib `ta_PLUS_DI.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PlusDi {
    sums: DmSums,
}

impl PlusDi {
    /// A `PLUS_DI(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("PLUS_DI", "timeperiod", period, 2)?;
        Ok(Self {
            sums: DmSums::new(period),
        })
    }
}

impl Indicator for PlusDi {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let (p, _, tr) = self.sums.update(bar)?;
        Some(di(p, tr))
    }

    fn lookback(&self) -> usize {
        self.sums.period
    }

    fn reset(&mut self) {
        self.sums.reset();
    }
}

/// Batch [`PlusDi`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn plus_di(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_bars(
        "PLUS_DI",
        PlusDi::new(period)?,
        BarSlices::hlc(high, low, close),
    )
    .map(one)
}

/// Minus directional indicator, TA-Lib `MINUS_DI(high, low, close,
/// timeperiod=14)`: `100·S(−DM)/S(TR)`. Range [0, 100]. Lookback `n`;
/// `n ≥ 2`. Source: Wilder (1978); TA-Lib `ta_MINUS_DI.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MinusDi {
    sums: DmSums,
}

impl MinusDi {
    /// A `MINUS_DI(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("MINUS_DI", "timeperiod", period, 2)?;
        Ok(Self {
            sums: DmSums::new(period),
        })
    }
}

impl Indicator for MinusDi {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let (_, m, tr) = self.sums.update(bar)?;
        Some(di(m, tr))
    }

    fn lookback(&self) -> usize {
        self.sums.period
    }

    fn reset(&mut self) {
        self.sums.reset();
    }
}

/// Batch [`MinusDi`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn minus_di(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_bars(
        "MINUS_DI",
        MinusDi::new(period)?,
        BarSlices::hlc(high, low, close),
    )
    .map(one)
}

/// Average directional index, TA-Lib `ADX(high, low, close, timeperiod=14)`.
///
/// `DX = 100·|+DI − −DI|/(+DI + −DI)`; ADX is seeded with the mean of the
/// first `n` DX values and then Wilder-smoothed, `(ADX·(n−1) + DX)/n` (a bar
/// with zero TR or zero DI sum leaves it unchanged, as TA-Lib). Range
/// [0, 100]. Lookback `2n − 1`; `n ≥ 2`. Source: Wilder (1978); TA-Lib
/// `ta_ADX.c`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Adx {
    sums: DmSums,
    dx_seen: usize,
    value: f64,
}

impl Adx {
    /// An `ADX(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("ADX", "timeperiod", period, 2)?;
        Ok(Self {
            sums: DmSums::new(period),
            dx_seen: 0,
            value: 0.0,
        })
    }
}

impl Indicator for Adx {
    type Input = Ohlcv;
    type Output = f64;

    fn update(&mut self, bar: Ohlcv) -> Option<f64> {
        let (p, m, tr) = self.sums.update(bar)?;
        let period = self.sums.period;
        let n = period as f64;
        self.dx_seen += 1;
        let dx = if is_zero(tr) {
            None
        } else {
            let minus_di = 100.0 * (m / tr);
            let plus_di = 100.0 * (p / tr);
            let sum = minus_di + plus_di;
            (!is_zero(sum)).then(|| 100.0 * ((minus_di - plus_di).abs() / sum))
        };
        if self.dx_seen <= period {
            if let Some(dx) = dx {
                self.value += dx;
            }
            if self.dx_seen < period {
                return None;
            }
            self.value /= n;
            return Some(self.value);
        }
        if let Some(dx) = dx {
            self.value = (self.value * (n - 1.0) + dx) / n;
        }
        Some(self.value)
    }

    fn lookback(&self) -> usize {
        2 * self.sums.period - 1
    }

    fn reset(&mut self) {
        self.sums.reset();
        self.dx_seen = 0;
        self.value = 0.0;
    }
}

/// Batch [`Adx`].
///
/// # Errors
/// Invalid period, mismatched lengths, high < low, too few usable rows.
pub fn adx(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_bars("ADX", Adx::new(period)?, BarSlices::hlc(high, low, close)).map(one)
}

// ---------------------------------------------------------------- Ichimoku

/// One Ichimoku value, every line as known at the bar's close.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IchimokuOutput {
    /// Conversion line: midpoint of the last `tenkan` bars' range.
    pub tenkan: f64,
    /// Base line: midpoint of the last `kijun` bars' range.
    pub kijun: f64,
    /// Leading span A **for this bar**: (tenkan + kijun)/2 as computed
    /// `kijun` bars ago (the cloud edge drawn at this bar).
    pub senkou_a: f64,
    /// Leading span B for this bar: midpoint of the `senkou` bars' range
    /// ending `kijun` bars ago.
    pub senkou_b: f64,
}

impl Row for IchimokuOutput {
    const N: usize = 4;
    #[inline]
    fn values(self) -> [f64; 4] {
        [self.tenkan, self.kijun, self.senkou_a, self.senkou_b]
    }
}

/// Ichimoku Kinkō Hyō (not in TA-Lib), parameters `(tenkan=9, kijun=26,
/// senkou=52)`, displacement = `kijun`.
///
/// Outputs are causal: at bar t the leading spans are the cloud drawn *at*
/// t (computed from data up to t − kijun), so a strategy can compare the
/// close with the cloud without look-ahead. The lagging span (the close
/// drawn `kijun` bars back) is a chart device, not a value known at t, and
/// is not produced. Lookback `max(tenkan, kijun, senkou) − 1 + kijun` (77
/// for 9/26/52). Units: price. Source: Hosoda (1969); the common
/// charting definition.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ichimoku {
    t_hi: RollingMax,
    t_lo: RollingMin,
    k_hi: RollingMax,
    k_lo: RollingMin,
    s_hi: RollingMax,
    s_lo: RollingMin,
    /// Spans computed at each bar, waiting `kijun` bars to be shown.
    pending_a: crate::util::Ring,
    pending_b: crate::util::Ring,
    kijun: usize,
    longest: usize,
    seen: usize,
}

impl Ichimoku {
    /// An `ICHIMOKU(tenkan, kijun, senkou)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a period of 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(tenkan: usize, kijun: usize, senkou: usize) -> Result<Self> {
        check_period("ICHIMOKU", "tenkan", tenkan, 1)?;
        check_period("ICHIMOKU", "kijun", kijun, 1)?;
        check_period("ICHIMOKU", "senkou", senkou, 1)?;
        Ok(Self {
            t_hi: RollingMax::new(tenkan),
            t_lo: RollingMin::new(tenkan),
            k_hi: RollingMax::new(kijun),
            k_lo: RollingMin::new(kijun),
            s_hi: RollingMax::new(senkou),
            s_lo: RollingMin::new(senkou),
            pending_a: crate::util::Ring::new(kijun + 1),
            pending_b: crate::util::Ring::new(kijun + 1),
            kijun,
            longest: tenkan.max(kijun).max(senkou),
            seen: 0,
        })
    }
}

impl Indicator for Ichimoku {
    type Input = Ohlcv;
    type Output = IchimokuOutput;

    fn update(&mut self, bar: Ohlcv) -> Option<IchimokuOutput> {
        let (h, l) = (bar.high(), bar.low());
        if h.is_nan() || l.is_nan() {
            return None;
        }
        self.seen += 1;
        let tenkan = (self.t_hi.push(h) + self.t_lo.push(l)) / 2.0;
        let kijun = (self.k_hi.push(h) + self.k_lo.push(l)) / 2.0;
        let span_b = (self.s_hi.push(h) + self.s_lo.push(l)) / 2.0;
        self.pending_a.push((tenkan + kijun) / 2.0);
        self.pending_b.push(span_b);
        if self.seen <= self.lookback() {
            return None;
        }
        Some(IchimokuOutput {
            tenkan,
            kijun,
            senkou_a: self.pending_a.back(self.kijun),
            senkou_b: self.pending_b.back(self.kijun),
        })
    }

    fn lookback(&self) -> usize {
        self.longest - 1 + self.kijun
    }

    fn reset(&mut self) {
        self.t_hi.clear();
        self.t_lo.clear();
        self.k_hi.clear();
        self.k_lo.clear();
        self.s_hi.clear();
        self.s_lo.clear();
        self.pending_a.clear();
        self.pending_b.clear();
        self.seen = 0;
    }
}

/// Batch Ichimoku lines as columns.
#[derive(Debug, Clone, PartialEq)]
pub struct IchimokuSeries {
    /// Conversion line.
    pub tenkan: Vec<f64>,
    /// Base line.
    pub kijun: Vec<f64>,
    /// Leading span A at each bar.
    pub senkou_a: Vec<f64>,
    /// Leading span B at each bar.
    pub senkou_b: Vec<f64>,
}

/// Batch [`Ichimoku`].
///
/// # Errors
/// Invalid periods, mismatched lengths, high < low, too few usable rows.
pub fn ichimoku(
    high: &[f64],
    low: &[f64],
    tenkan: usize,
    kijun: usize,
    senkou: usize,
) -> Result<IchimokuSeries> {
    let bars = BarSlices {
        high: Some(high),
        low: Some(low),
        ..BarSlices::default()
    };
    let cols = batch_bars("ICHIMOKU", Ichimoku::new(tenkan, kijun, senkou)?, bars)?;
    let mut it = cols.into_iter();
    let mut next = || it.next().unwrap_or_default();
    Ok(IchimokuSeries {
        tenkan: next(),
        kijun: next(),
        senkou_a: next(),
        senkou_b: next(),
    })
}
