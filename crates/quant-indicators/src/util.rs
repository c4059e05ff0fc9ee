//! Shared plumbing: parameter and input checks, the batch driver over a
//! streaming type, a ring buffer and rolling extremes.

use crate::{Error, Indicator, MAX_PERIOD, Ohlcv, Result};

/// TA-Lib's "is zero" test (`TA_IS_ZERO`): |x| < 1e-14.
#[inline]
pub(crate) fn is_zero(x: f64) -> bool {
    x.abs() < 1e-14
}

/// A period-like parameter must lie in `[min, MAX_PERIOD]`.
///
/// # Errors
/// [`Error::InvalidParameter`] naming the indicator, the parameter, the
/// value and the allowed range.
pub(crate) fn check_period(
    indicator: &'static str,
    param: &'static str,
    value: usize,
    min: usize,
) -> Result<()> {
    if !(min..=MAX_PERIOD).contains(&value) {
        return Err(Error::InvalidParameter {
            indicator,
            param,
            value: value.to_string(),
            expected: format!("an integer ≥ {min} and ≤ {MAX_PERIOD}"),
        });
    }
    Ok(())
}

/// A real parameter must be finite and lie in `[lo, hi]`.
///
/// # Errors
/// [`Error::InvalidParameter`] naming the indicator, the parameter, the
/// value and the allowed range.
pub(crate) fn check_real(
    indicator: &'static str,
    param: &'static str,
    value: f64,
    (lo, hi): (f64, f64),
) -> Result<()> {
    if !(value.is_finite() && value >= lo && value <= hi) {
        return Err(Error::InvalidParameter {
            indicator,
            param,
            // `1e300`, not its 301 digits
            value: format!("{value:?}"),
            expected: format!("a number in [{lo}, {hi}]"),
        });
    }
    Ok(())
}

/// One output row as columns: `f64` and `i32` fill one column,
/// multi-output structs one column per field. The one conversion of
/// outputs to numbers: batch columns and the registry's `Values` use it.
pub(crate) trait Row: Copy {
    /// Number of columns (≤ 4).
    const N: usize;
    /// The row's values in output order; entries past `N` are `NaN`.
    fn values(self) -> [f64; 4];
    /// Writes this row at `i`.
    #[inline]
    fn put(self, cols: &mut [Vec<f64>], i: usize) {
        let v = self.values();
        for (col, x) in cols.iter_mut().zip(&v[..Self::N]) {
            col[i] = *x;
        }
    }
}

impl Row for f64 {
    const N: usize = 1;
    #[inline]
    fn values(self) -> [f64; 4] {
        [self, f64::NAN, f64::NAN, f64::NAN]
    }
}

impl Row for i32 {
    const N: usize = 1;
    #[inline]
    fn values(self) -> [f64; 4] {
        [f64::from(self), f64::NAN, f64::NAN, f64::NAN]
    }
}

/// Equal lengths: every `others` slice has `first`'s length.
///
/// # Errors
/// [`Error::LengthMismatch`] naming the first slice that differs.
pub(crate) fn check_lengths(
    indicator: &'static str,
    first: &[f64],
    others: &[(&'static str, &[f64])],
) -> Result<()> {
    for (input, s) in others {
        if s.len() != first.len() {
            return Err(Error::LengthMismatch {
                indicator,
                input,
                expected: first.len(),
                got: s.len(),
            });
        }
    }
    Ok(())
}

/// High ≥ low and no `NaN` in high, low or close, on every row (equal
/// lengths). Branch-free over the rows so it vectorises.
#[inline]
pub(crate) fn hlc_clean(high: &[f64], low: &[f64], close: &[f64]) -> bool {
    let mut bad = false;
    for ((&h, &l), &c) in high.iter().zip(low).zip(close) {
        bad |= hlc_bad(h, l, c);
    }
    !bad
}

/// One row of [`hlc_clean`]: high < low or a `NaN` in high, low or close.
/// `!(h >= l)` is one comparison that is also true when h or l is `NaN`;
/// `|`, not `||`: no branches, so loops over rows vectorise.
#[inline(always)]
pub(crate) fn hlc_bad(high: f64, low: f64, close: f64) -> bool {
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    let bad = !(high >= low) | close.is_nan();
    bad
}

/// Checks named input slices: equal lengths (the first sets it), high ≥ low
/// where both are given. Returns (rows, usable rows with no `NaN`).
pub(crate) fn check_inputs(
    indicator: &'static str,
    inputs: &[(&'static str, &[f64])],
) -> Result<(usize, usize)> {
    let n = inputs.first().map_or(0, |(_, s)| s.len());
    if let Some(((_, first), rest)) = inputs.split_first() {
        check_lengths(indicator, first, rest)?;
    }
    let find = |want: &str| inputs.iter().find(|(k, _)| *k == want).map(|(_, s)| *s);
    if let Some((high, low)) = find("high").zip(find("low"))
        && let Some(index) = high.iter().zip(low).position(|(h, l)| h < l)
    {
        return Err(Error::HighBelowLow {
            index,
            high: high[index],
            low: low[index],
        });
    }
    // gap-free input (the common case) is one fast scan per slice
    let usable = if inputs.iter().any(|(_, s)| s.iter().any(|v| v.is_nan())) {
        (0..n)
            .filter(|&i| inputs.iter().all(|(_, s)| !s[i].is_nan()))
            .count()
    } else {
        n
    };
    Ok((n, usable))
}

/// Enough usable rows for one value?
pub(crate) fn ensure_enough(indicator: &'static str, usable: usize, lookback: usize) -> Result<()> {
    if usable <= lookback {
        return Err(Error::InsufficientData {
            indicator,
            needed: lookback + 1,
            got: usable,
        });
    }
    Ok(())
}

/// Runs a streaming indicator over `n` rows into `NaN`-filled columns.
pub(crate) fn drive<I>(ind: &mut I, n: usize, input: impl Fn(usize) -> I::Input) -> Vec<Vec<f64>>
where
    I: Indicator,
    I::Output: Row,
{
    let mut cols = vec![vec![f64::NAN; n]; <I::Output as Row>::N];
    for i in 0..n {
        if let Some(out) = ind.update(input(i)) {
            out.put(&mut cols, i);
        }
    }
    cols
}

/// Batch over one real series by way of the streaming type.
pub(crate) fn batch_real<I>(
    indicator: &'static str,
    mut ind: I,
    real: &[f64],
) -> Result<Vec<Vec<f64>>>
where
    I: Indicator<Input = f64>,
    I::Output: Row,
{
    let (n, usable) = check_inputs(indicator, &[("real", real)])?;
    ensure_enough(indicator, usable, ind.lookback())?;
    Ok(drive(&mut ind, n, |i| real[i]))
}

/// The price/volume slices a bar indicator reads; `None` = not read.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BarSlices<'a> {
    pub open: Option<&'a [f64]>,
    pub high: Option<&'a [f64]>,
    pub low: Option<&'a [f64]>,
    pub close: Option<&'a [f64]>,
    pub volume: Option<&'a [f64]>,
}

impl<'a> BarSlices<'a> {
    pub(crate) fn hlc(high: &'a [f64], low: &'a [f64], close: &'a [f64]) -> Self {
        Self {
            high: Some(high),
            low: Some(low),
            close: Some(close),
            ..Self::default()
        }
    }

    pub(crate) fn ohlc(open: &'a [f64], high: &'a [f64], low: &'a [f64], close: &'a [f64]) -> Self {
        Self {
            open: Some(open),
            high: Some(high),
            low: Some(low),
            close: Some(close),
            volume: None,
        }
    }

    fn named(&self) -> Vec<(&'static str, &'a [f64])> {
        [
            ("open", self.open),
            ("high", self.high),
            ("low", self.low),
            ("close", self.close),
            ("volume", self.volume),
        ]
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k, s)))
        .collect()
    }

    #[inline]
    fn bar(&self, i: usize) -> Ohlcv {
        let g = |s: Option<&[f64]>| s.map_or(f64::NAN, |s| s[i]);
        Ohlcv::unchecked(
            g(self.open),
            g(self.high),
            g(self.low),
            g(self.close),
            g(self.volume),
        )
    }
}

/// Batch over bars by way of the streaming type.
pub(crate) fn batch_bars<I>(
    indicator: &'static str,
    mut ind: I,
    bars: BarSlices<'_>,
) -> Result<Vec<Vec<f64>>>
where
    I: Indicator<Input = Ohlcv>,
    I::Output: Row,
{
    let (n, usable) = check_inputs(indicator, &bars.named())?;
    ensure_enough(indicator, usable, ind.lookback())?;
    Ok(drive(&mut ind, n, |i| bars.bar(i)))
}

/// Takes the single column of a one-output batch.
pub(crate) fn one(mut cols: Vec<Vec<f64>>) -> Vec<f64> {
    cols.swap_remove(0)
}

/// A fixed-capacity ring of the last `cap` values.
///
/// Deserialised only when consistent (a non-empty buffer, `head` inside
/// it, `len` at most its capacity), so a saved state read back can never
/// index out of bounds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RingRepr")]
pub(crate) struct Ring {
    buf: Vec<f64>,
    head: usize,
    len: usize,
}

/// [`Ring`] as saved, before its consistency is checked.
#[derive(serde::Deserialize)]
struct RingRepr {
    buf: Vec<f64>,
    head: usize,
    len: usize,
}

impl TryFrom<RingRepr> for Ring {
    type Error = String;

    fn try_from(r: RingRepr) -> std::result::Result<Self, String> {
        let cap = r.buf.len();
        if cap == 0 || r.head >= cap || r.len > cap {
            return Err(format!(
                "inconsistent window: head {}, length {} of capacity {cap}",
                r.head, r.len
            ));
        }
        Ok(Self {
            buf: r.buf,
            head: r.head,
            len: r.len,
        })
    }
}

impl Ring {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            buf: vec![0.0; cap.max(1)],
            head: 0,
            len: 0,
        }
    }

    /// Pushes `x`; returns the value it replaced once full.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> Option<f64> {
        let cap = self.buf.len();
        let old = std::mem::replace(&mut self.buf[self.head], x);
        self.head += 1;
        if self.head == cap {
            self.head = 0;
        }
        if self.len == cap {
            Some(old)
        } else {
            self.len += 1;
            None
        }
    }

    /// The value `k` pushes ago (0 = newest); `k < len`.
    #[inline]
    pub(crate) fn back(&self, k: usize) -> f64 {
        let cap = self.buf.len();
        self.buf[(self.head + cap - 1 - k) % cap]
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Values oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = f64> + Clone + '_ {
        (0..self.len).rev().map(move |k| self.back(k))
    }
}

/// Rolling maximum (`MAX = true`) or minimum over the last `window` values,
/// with the age of the extreme; ties go to the most recent value (TA-Lib's
/// `>=`/`<=` scans, which AROON depends on). Deserialised only when
/// consistent (the extreme's index before the count seen, no more values
/// held than seen).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "ExtremeRepr")]
pub(crate) struct Extreme<const MAX: bool> {
    ring: Ring,
    /// Count of values seen.
    seen: usize,
    /// Absolute index (0-based count) of the extreme.
    best_at: usize,
    best: f64,
}

/// [`Extreme`] as saved, before its consistency is checked.
#[derive(serde::Deserialize)]
struct ExtremeRepr {
    ring: Ring,
    seen: usize,
    best_at: usize,
    best: f64,
}

impl<const MAX: bool> TryFrom<ExtremeRepr> for Extreme<MAX> {
    type Error = String;

    fn try_from(r: ExtremeRepr) -> std::result::Result<Self, String> {
        let fresh = r.seen == 0 && r.best_at == 0;
        if !(fresh || r.best_at < r.seen) || r.ring.len() > r.seen {
            return Err(format!(
                "inconsistent rolling extreme: index {} of {} seen, {} held",
                r.best_at,
                r.seen,
                r.ring.len()
            ));
        }
        Ok(Self {
            ring: r.ring,
            seen: r.seen,
            best_at: r.best_at,
            best: r.best,
        })
    }
}

impl<const MAX: bool> Extreme<MAX> {
    pub(crate) fn new(window: usize) -> Self {
        Self {
            ring: Ring::new(window),
            seen: 0,
            best_at: 0,
            best: f64::NAN,
        }
    }

    #[inline]
    fn better_or_equal(a: f64, b: f64) -> bool {
        if MAX { a >= b } else { a <= b }
    }

    /// Pushes `x`; returns the extreme of the window so far.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> f64 {
        let window = self.ring.buf.len();
        self.ring.push(x);
        let today = self.seen;
        self.seen += 1;
        let oldest = (today + 1).saturating_sub(window);
        if self.seen == 1 || self.best_at < oldest {
            // rescan the window, oldest first, ties to the most recent
            let len = self.ring.len();
            let mut best = self.ring.back(len - 1);
            let mut at = today + 1 - len;
            for k in (0..len - 1).rev() {
                let v = self.ring.back(k);
                if Self::better_or_equal(v, best) {
                    best = v;
                    at = today - k;
                }
            }
            self.best = best;
            self.best_at = at;
        } else if Self::better_or_equal(x, self.best) {
            self.best = x;
            self.best_at = today;
        }
        self.best
    }

    /// Bars since the extreme (0 = the newest value).
    #[inline]
    pub(crate) fn age(&self) -> usize {
        self.seen - 1 - self.best_at
    }

    pub(crate) fn is_full(&self) -> bool {
        self.ring.is_full()
    }

    pub(crate) fn clear(&mut self) {
        self.ring.clear();
        self.seen = 0;
        self.best_at = 0;
        self.best = f64::NAN;
    }
}

/// Rolling maximum.
pub(crate) type RollingMax = Extreme<true>;
/// Rolling minimum.
pub(crate) type RollingMin = Extreme<false>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_track_the_window_and_prefer_recent_ties() {
        let xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0];
        let mut mx = RollingMax::new(3);
        let mut mn = RollingMin::new(3);
        for (i, &x) in xs.iter().enumerate() {
            let w = &xs[i.saturating_sub(2)..=i];
            assert_eq!(mx.push(x), w.iter().cloned().fold(f64::MIN, f64::max));
            assert_eq!(mn.push(x), w.iter().cloned().fold(f64::MAX, f64::min));
        }
        // window [3, 5] then [5, 3, 5]: the max 5 is the newest
        assert_eq!(mx.age(), 0);
        let mut m = RollingMax::new(3);
        for x in [5.0, 5.0, 1.0] {
            m.push(x);
        }
        assert_eq!(m.age(), 1);
    }

    #[test]
    fn ring_evicts_oldest() {
        let mut r = Ring::new(2);
        assert_eq!(r.push(1.0), None);
        assert_eq!(r.push(2.0), None);
        assert_eq!(r.push(3.0), Some(1.0));
        assert_eq!(r.back(0), 3.0);
        assert_eq!(r.back(1), 2.0);
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2.0, 3.0]);
    }
}
