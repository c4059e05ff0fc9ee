//! Statistic functions: STDDEV, LINEARREG_SLOPE (TA-Lib) and a rolling
//! z-score.

use crate::overlap::RollingVar;
use crate::util::{Ring, batch_real, check_period, check_real, one};
use crate::{Indicator, Result};

/// Standard deviation, TA-Lib `STDDEV(real, timeperiod=5, nbdev=1)`:
/// `nbdev × σ` with σ the population (ddof 0) standard deviation of the
/// last `n` values, computed stably (small variances are kept, not clipped
/// to 0). Lookback `n − 1`; `n ≥ 2`. Units: those of the input.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StdDev {
    var: RollingVar,
    period: usize,
    nbdev: f64,
}

impl StdDev {
    /// A `STDDEV(period, nbdev)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a period outside
    /// `[2, MAX_PERIOD]` or an `nbdev` outside [`crate::MULTIPLIER_RANGE`].
    pub fn new(period: usize, nbdev: f64) -> Result<Self> {
        check_period("STDDEV", "timeperiod", period, 2)?;
        check_real("STDDEV", "nbdev", nbdev, crate::MULTIPLIER_RANGE)?;
        Ok(Self {
            var: RollingVar::new(period),
            period,
            nbdev,
        })
    }
}

impl Indicator for StdDev {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        let sd = self.var.push(x)?.sqrt();
        Some(if self.nbdev == 1.0 {
            sd
        } else {
            sd * self.nbdev
        })
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        self.var.clear();
    }
}

/// Batch [`StdDev`].
///
/// # Errors
/// Invalid parameters or too few usable rows.
pub fn stddev(real: &[f64], period: usize, nbdev: f64) -> Result<Vec<f64>> {
    batch_real("STDDEV", StdDev::new(period, nbdev)?, real).map(one)
}

/// Slope of the least-squares line through the last `n` values, TA-Lib
/// `LINEARREG_SLOPE(real, timeperiod=14)`, in input units per bar.
/// Lookback `n − 1`; `n ≥ 2`. Source: TA-Lib `ta_LINEARREG_SLOPE.c`
/// (ordinary least squares with x = 0..n−1).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinearRegSlope {
    ring: Ring,
    period: usize,
}

impl LinearRegSlope {
    /// A `LINEARREG_SLOPE(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("LINEARREG_SLOPE", "timeperiod", period, 2)?;
        Ok(Self {
            ring: Ring::new(period),
            period,
        })
    }
}

impl Indicator for LinearRegSlope {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        self.ring.push(x);
        if !self.ring.is_full() {
            return None;
        }
        let n = self.period as f64;
        let sum_x = n * (n - 1.0) * 0.5;
        let sum_x_sqr = n * (n - 1.0) * (2.0 * n - 1.0) / 6.0;
        let divisor = sum_x * sum_x - n * sum_x_sqr;
        // TA-Lib's x counts back from the newest bar (x = n−1 … 0)
        let (mut sum_xy, mut sum_y) = (0.0, 0.0);
        for i in (0..self.period).rev() {
            let v = self.ring.back(i);
            sum_y += v;
            sum_xy += i as f64 * v;
        }
        Some((n * sum_xy - sum_x * sum_y) / divisor)
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        self.ring.clear();
    }
}

/// Batch [`LinearRegSlope`].
///
/// # Errors
/// Invalid period or too few usable rows.
pub fn linearreg_slope(real: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_real("LINEARREG_SLOPE", LinearRegSlope::new(period)?, real).map(one)
}

/// Rolling z-score (not in TA-Lib): `(x_t − mean)/σ` over the last `n`
/// values including `x_t`, σ the population standard deviation (as
/// [`StdDev`]); 0 when σ is 0 (a flat window). Dimensionless. Lookback
/// `n − 1`; `n ≥ 2`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ZScore {
    var: RollingVar,
    ring: Ring,
    sum: crate::exact::ExactSum,
    period: usize,
}

impl ZScore {
    /// A `ZSCORE(period)`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `period` is below 2 or above
    /// [`crate::MAX_PERIOD`].
    pub fn new(period: usize) -> Result<Self> {
        check_period("ZSCORE", "timeperiod", period, 2)?;
        Ok(Self {
            var: RollingVar::new(period),
            ring: Ring::new(period),
            sum: crate::exact::ExactSum::default(),
            period,
        })
    }
}

impl Indicator for ZScore {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        if x.is_nan() {
            return None;
        }
        if let Some(old) = self.ring.push(x) {
            self.sum.add(-old);
        }
        self.sum.add(x);
        let var = self.var.push(x)?;
        let sd = var.sqrt();
        let mean = self.sum.value() / self.period as f64;
        Some(if sd > 0.0 { (x - mean) / sd } else { 0.0 })
    }

    fn lookback(&self) -> usize {
        self.period - 1
    }

    fn reset(&mut self) {
        self.var.clear();
        self.ring.clear();
        self.sum = crate::exact::ExactSum::default();
    }
}

/// Batch [`ZScore`].
///
/// # Errors
/// Invalid period or too few usable rows.
pub fn zscore(real: &[f64], period: usize) -> Result<Vec<f64>> {
    batch_real("ZSCORE", ZScore::new(period)?, real).map(one)
}
