//! Streaming helpers used by the built-ins until they move to `quant-indicators`.

/// Simple moving average over the last `n` values, streaming: a running sum
/// updated by adding the new value and subtracting the one leaving the window
/// (TA-Lib's `TA_SMA` method). Returns `None` until `n` values were seen.
#[derive(Debug, Clone)]
pub struct RollingMean {
    n: usize,
    buf: Vec<f64>,
    head: usize,
    count: usize,
    sum: f64,
}

impl RollingMean {
    /// A mean over `n ≥ 1` values.
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        Self { n, buf: vec![0.0; n], head: 0, count: 0, sum: 0.0 }
    }

    /// Adds a value; returns the mean once the window is full.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if self.count >= self.n {
            self.sum -= self.buf[self.head];
        } else {
            self.count += 1;
        }
        self.sum += x;
        self.buf[self.head] = x;
        self.head += 1;
        if self.head == self.n {
            self.head = 0;
        }
        (self.count >= self.n).then(|| self.sum / self.n as f64)
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
    fn streaming_matches_batch() {
        let xs: Vec<f64> = (0..50).map(|i| (i as f64 * 0.7).sin() * 10.0 + 20.0).collect();
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
