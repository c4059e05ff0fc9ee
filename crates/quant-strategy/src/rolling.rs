//! Streaming helpers used by the built-ins until they move to `quant-indicators`.

/// An exact running sum of `f64` values (Shewchuk's non-overlapping
/// partials, the algorithm of Python's `math.fsum`): adding and removing
/// values loses nothing, and [`ExactSum::value`] is the exact sum rounded
/// once to the nearest `f64`.
#[derive(Debug, Clone, Default)]
pub struct ExactSum {
    partials: Vec<f64>,
}

impl ExactSum {
    /// Adds `x` exactly.
    #[inline]
    pub fn add(&mut self, mut x: f64) {
        let mut i = 0;
        for k in 0..self.partials.len() {
            let mut y = self.partials[k];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    /// The exact sum, correctly rounded to `f64`.
    #[inline]
    pub fn value(&self) -> f64 {
        let p = &self.partials;
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

/// Simple moving average over the last `n` values, streaming. The window
/// sum is kept exactly ([`ExactSum`]) so each mean is the correctly rounded
/// window sum divided by `n` — the same number as `math.fsum(window) / n`
/// (backtrader's SMA) and within rounding of TA-Lib's running-sum `TA_SMA`.
/// Exactness matters: a crossover rule compares two means that can be
/// mathematically equal, and a drifting running sum flips such ties.
/// Returns `None` until `n` values were seen.
#[derive(Debug, Clone)]
pub struct RollingMean {
    n: usize,
    buf: Vec<f64>,
    head: usize,
    count: usize,
    sum: ExactSum,
}

impl RollingMean {
    /// A mean over `n ≥ 1` values.
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        Self {
            n,
            buf: vec![0.0; n],
            head: 0,
            count: 0,
            sum: ExactSum::default(),
        }
    }

    /// Adds a value; returns the mean once the window is full.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if self.count >= self.n {
            self.sum.add(-self.buf[self.head]);
        } else {
            self.count += 1;
        }
        self.sum.add(x);
        self.buf[self.head] = x;
        self.head += 1;
        if self.head == self.n {
            self.head = 0;
        }
        (self.count >= self.n).then(|| self.sum.value() / self.n as f64)
    }
}

/// Mean of the last `n` values of a slice, `None` when shorter than `n`.
pub fn mean_last(xs: &[f64], n: usize) -> Option<f64> {
    (n > 0 && xs.len() >= n).then(|| xs[xs.len() - n..].iter().sum::<f64>() / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut m = RollingMean::new(10);
        let mut last = None;
        for _ in 0..25 {
            last = m.update(0.1);
        }
        assert_eq!(last, Some(0.1)); // exact window sum 1.0 (rounded once) / 10
    }

    #[test]
    fn streaming_matches_batch() {
        let xs: Vec<f64> = (0..50)
            .map(|i| (i as f64 * 0.7).sin() * 10.0 + 20.0)
            .collect();
        let mut m = RollingMean::new(5);
        for i in 0..xs.len() {
            let s = m.update(xs[i]);
            let b = mean_last(&xs[..=i], 5);
            match (s, b) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-12),
                (None, None) => {}
                other => panic!("{other:?} at {i}"),
            }
        }
    }
}
