//! Exactly rounded sums and moving averages.
//!
//! A crossover rule compares two means that can be mathematically equal
//! (SMA(10) = SMA(30) = 28.804 on 600036.SH on 2018-12-12); a running sum
//! that drifts by an ulp decides such a tie at random. [`ExactSum`] keeps a
//! sum exactly and rounds once; [`ExactSma`] gives the correctly rounded
//! window mean (`math.fsum(window)/n`, backtrader's SMA) and compares two
//! of them exactly.

use crate::Indicator;
use crate::util::{Ring, check_period};
use crate::volume::RunningSum;

/// An exact running sum of `f64` values: adding and removing values loses
/// nothing, and [`ExactSum::value`] is the exact sum rounded once to the
/// nearest `f64` — the number Python's `math.fsum` gives.
///
/// Values with magnitude in [2^-20, 2^40) (every price and most analytics)
/// are accumulated as integers in units of 2^-72 in an `i128`: such a value
/// times 2^72 is an integer below 2^112, so the sum is exact, and the final
/// `i128 → f64` conversion rounds to nearest. Other values (tiny, huge,
/// or an `i128` overflow) go to Shewchuk's non-overlapping partials (the
/// algorithm of `math.fsum`), allocated only when first needed; the two
/// parts are combined exactly when read. The common case is 32 bytes with
/// no heap, so two sums fit one cache line.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ExactSum {
    fixed: i128,
    partials: Option<Box<Partials>>,
}

const FIXED_BITS: i32 = 72;

/// Shewchuk partials, inline. Sums need two or three; should inputs ever need
/// more than [`Partials::CAPACITY`] (values spanning over 400 bits of
/// magnitude), the two smallest are merged, rounding far below an ulp.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "PartialsRepr")]
#[repr(C)]
struct Partials {
    len: usize,
    p: [f64; Partials::CAPACITY],
}

/// [`Partials`] as saved, before its length is checked.
#[derive(serde::Deserialize)]
struct PartialsRepr {
    len: usize,
    p: [f64; Partials::CAPACITY],
}

impl TryFrom<PartialsRepr> for Partials {
    type Error = String;

    fn try_from(r: PartialsRepr) -> Result<Self, String> {
        if r.len > Self::CAPACITY {
            return Err(format!(
                "{} partial sums, at most {}",
                r.len,
                Self::CAPACITY
            ));
        }
        Ok(Self { len: r.len, p: r.p })
    }
}

impl Partials {
    const CAPACITY: usize = 6;

    fn add(&mut self, mut x: f64) {
        let mut i = 0;
        for k in 0..self.len {
            let mut y = self.p[k];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.p[i] = lo;
                i += 1;
            }
            x = hi;
        }
        if i == Self::CAPACITY {
            self.p[1] += self.p[0];
            self.p.copy_within(1.., 0);
            i -= 1;
        }
        self.p[i] = x;
        self.len = i + 1;
    }

    fn value(&self) -> f64 {
        let p = &self.p[..self.len];
        let mut n = p.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

/// `v` rounded to the nearest `f64` (ties to even), like `v as f64`, without
/// the compiler's generic 128-bit conversion routine.
#[inline]
fn i128_to_f64(v: i128) -> f64 {
    let a = v.unsigned_abs();
    let bits = 128 - a.leading_zeros();
    if bits <= 53 {
        let m = a as u64 as f64; // exact
        return if v < 0 { -m } else { m };
    }
    let shift = bits - 53;
    let mut m = (a >> shift) as u64;
    let rem = a & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    if rem > half || (rem == half && m & 1 == 1) {
        m += 1; // may carry to 2^53: still exact as f64
    }
    // m × 2^shift, exact: shift ≤ 75, so the power of two is a normal f64
    let x = m as f64 * f64::from_bits(((1023 + shift) as u64) << 52);
    if v < 0 { -x } else { x }
}

/// `x × 2^72` as an integer when `x` is zero or |x| ∈ [2^-20, 2^40).
#[inline]
fn to_fixed(x: f64) -> Option<i128> {
    if x == 0.0 {
        return Some(0);
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let e = biased - 1023; // |x| = 1.m × 2^e
    if biased == 0 || biased == 0x7ff || !(-20..40).contains(&e) {
        return None;
    }
    let m = i128::from((bits & ((1u64 << 52) - 1)) | (1u64 << 52)); // |x| = m × 2^(e−52)
    let v = m << (e - 52 + FIXED_BITS) as u32; // e + 20 ∈ [0, 60)
    Some(if bits >> 63 == 1 { -v } else { v })
}

impl ExactSum {
    /// Adds `x` exactly.
    #[inline]
    pub fn add(&mut self, x: f64) {
        match to_fixed(x).and_then(|v| self.fixed.checked_add(v)) {
            Some(total) => self.fixed = total,
            None => self.partials.get_or_insert_with(Box::default).add(x),
        }
    }

    /// The exact sum, correctly rounded to `f64`.
    #[inline]
    pub fn value(&self) -> f64 {
        // 2^-72, exact
        let scale = f64::from_bits(((1023 - FIXED_BITS) as u64) << 52);
        let Some(partials) = &self.partials else {
            // rounded to nearest once; scaling by a power of two is exact
            return i128_to_f64(self.fixed) * scale;
        };
        // split the fixed part into three exact doubles, then sum everything exactly
        let mut all = **partials;
        let mut rest = self.fixed;
        for _ in 0..3 {
            let part = rest as f64;
            all.add(part * scale);
            rest -= part as i128;
        }
        all.value()
    }
}

/// Simple moving average whose value is the **correctly rounded** mean of
/// the window, `fsum(window)/n` — within an ulp of TA-Lib's running-sum
/// [`crate::overlap::Sma`], but never drifting and deciding ties exactly.
///
/// [`ExactSma::value`] reads a compensated running sum (Neumaier; a few
/// ulps at worst); [`ExactSma::compare`] orders two means exactly: when
/// their compensated values are within 1e-12 relative, both windows are
/// summed exactly ([`ExactSum`]). Lookback `n − 1`; `n ≥ 1`. Units: those
/// of the input.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ExactSma {
    period: usize,
    ring: Ring,
    sum: RunningSum,
}

impl ExactSma {
    /// A mean over the last `period ≥ 1` values.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is 0 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> crate::Result<Self> {
        check_period("SMA", "timeperiod", period, 1)?;
        Ok(Self {
            period,
            ring: Ring::new(period),
            sum: RunningSum::default(),
        })
    }

    /// The mean (compensated sum / n) once the window is full.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.ring
            .is_full()
            .then(|| self.sum.value() / self.period as f64)
    }

    /// The correctly rounded mean, summing the window exactly.
    pub fn exact_value(&self) -> Option<f64> {
        if !self.ring.is_full() {
            return None;
        }
        let mut s = ExactSum::default();
        for v in self.ring.iter() {
            s.add(v);
        }
        Some(s.value() / self.period as f64)
    }

    /// Orders this mean against `other`'s as their correctly rounded values
    /// would be ordered; `None` until both windows are full.
    pub fn compare(&self, other: &ExactSma) -> Option<std::cmp::Ordering> {
        let (a, b) = (self.value()?, other.value()?);
        if (a - b).abs() > 1e-12 * a.abs().max(b.abs()) {
            return a.partial_cmp(&b);
        }
        self.exact_value()?.partial_cmp(&other.exact_value()?)
    }
}

impl Indicator for ExactSma {
    type Input = f64;
    type Output = f64;

    /// Returns the compensated mean; use [`ExactSma::compare`] for ties.
    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        if let Some(old) = self.ring.push(x) {
            self.sum.add(-old);
        }
        self.sum.add(x);
        self.value()
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        self.ring.clear();
        self.sum = RunningSum::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i128_conversion_rounds_like_the_cast() {
        let mut x: i128 = 0x1234_5678_9abc_def0_1357_9bdf_0246_8ace;
        let cases = [
            0i128,
            1,
            -1,
            (1 << 53) + 1,
            (1 << 54) + 2,
            (1 << 54) + 6,
            i128::MAX,
            i128::MIN + 1,
            -(1 << 90) - 12345,
        ];
        for v in cases {
            assert_eq!(i128_to_f64(v).to_bits(), (v as f64).to_bits(), "{v}");
        }
        for _ in 0..10_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for v in [x, x >> 20, x >> 50, x >> 70, x >> 100] {
                assert_eq!(i128_to_f64(v).to_bits(), (v as f64).to_bits(), "{v}");
            }
        }
    }

    #[test]
    fn fixed_and_partials_paths_agree() {
        // huge and tiny values take the partials path; mixed with prices
        let mut s = ExactSum::default();
        for x in [1e300, 12.34, -1e300, 5.67, 1e-30, 3.0] {
            s.add(x);
        }
        // expected values from Python's math.fsum: the three prices sum exactly
        // to the midpoint between two doubles (a tie, to even), and 1e-30
        // breaks the tie upwards
        assert_eq!(s.value(), 21.01);
        let mut t = ExactSum::default();
        for x in [12.34, 5.67, 3.0] {
            t.add(x);
        }
        assert_eq!(t.value(), 21.009999999999998);
        // adding and removing leaves nothing behind
        let mut u = ExactSum::default();
        for k in 0..1000 {
            u.add(k as f64 * 0.37);
        }
        for k in 0..1000 {
            u.add(-(k as f64 * 0.37));
        }
        assert_eq!(u.value(), 0.0);
    }

    #[test]
    fn a_saved_sum_and_mean_continue_exactly() {
        let cbor = |s: &ExactSum| {
            let mut b = Vec::new();
            ciborium::into_writer(s, &mut b).unwrap();
            ciborium::from_reader::<ExactSum, _>(b.as_slice()).unwrap()
        };
        // the fixed-point part (an i128 beyond 64 bits) and the partials
        let mut s = ExactSum::default();
        for x in [1e300, 12.34, -1e300, 5.67, 1e-30, 3.0, 4e15, 1e-300] {
            s.add(x);
        }
        let mut t = cbor(&s);
        for x in [0.1, -4e15, 1e300, -1e300] {
            s.add(x);
            t.add(x);
        }
        assert_eq!(s.value().to_bits(), t.value().to_bits());
        let mut a = ExactSma::new(4).unwrap();
        for x in [1.0, 2.5, f64::NAN, 3.25] {
            a.update(x);
        }
        let mut b = Vec::new();
        ciborium::into_writer(&a, &mut b).unwrap();
        let mut r: ExactSma = ciborium::from_reader(b.as_slice()).unwrap();
        for x in [7.0, -0.0, 1e-9] {
            assert_eq!(a.update(x).map(f64::to_bits), r.update(x).map(f64::to_bits));
        }
        assert_eq!(a.compare(&r), Some(std::cmp::Ordering::Equal));
        // more partials than the inline array holds is refused
        let bad = ciborium::Value::Map(vec![
            (
                ciborium::Value::Text("fixed".into()),
                ciborium::Value::Integer(0.into()),
            ),
            (
                ciborium::Value::Text("partials".into()),
                ciborium::Value::Map(vec![
                    (
                        ciborium::Value::Text("len".into()),
                        ciborium::Value::Integer(7.into()),
                    ),
                    (
                        ciborium::Value::Text("p".into()),
                        ciborium::Value::Array(vec![ciborium::Value::Float(0.0); 6]),
                    ),
                ]),
            ),
        ]);
        assert!(bad.deserialized::<ExactSum>().is_err());
    }

    #[test]
    fn exact_sum_is_correctly_rounded() {
        let mut s = ExactSum::default();
        for x in [1e16, 1.0, -1e16, 0.1, 0.2] {
            s.add(x);
        }
        assert_eq!(s.value(), 1.3); // 1 + 0.1 + 0.2, the 1 survives ±1e16
        // ten times 0.1: a plain running sum gives 0.9999999999999999
        let naive: f64 = [0.1; 10].iter().sum();
        assert_ne!(naive, 1.0);
        let mut m = ExactSma::new(10).unwrap();
        for _ in 0..25 {
            m.update(0.1);
        }
        assert_eq!(m.exact_value(), Some(0.1)); // exact window sum 1.0 (rounded once) / 10
    }

    #[test]
    fn compare_decides_ties_on_exact_means() {
        // 0.1 + 0.2 + 0.3 and 0.3 + 0.2 + 0.1 differ by an ulp when summed
        // left to right; their exact means are equal
        let mut a = ExactSma::new(3).unwrap();
        let mut b = ExactSma::new(3).unwrap();
        for x in [0.1, 0.2, 0.3] {
            a.update(x);
        }
        for x in [0.3, 0.2, 0.1] {
            b.update(x);
        }
        assert_eq!(a.compare(&b), Some(std::cmp::Ordering::Equal));
        let mut c = ExactSma::new(3).unwrap();
        for x in [0.1, 0.2, 0.30000000000000004] {
            c.update(x);
        }
        assert_eq!(c.compare(&a), Some(std::cmp::Ordering::Greater));
    }
}
