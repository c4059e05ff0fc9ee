//! Portfolio risk figures over daily simple returns (fractions), with the
//! conventions of `docs/metrics.md` (empyrical's):
//!
//! - **historical VaR** at level `a` (0.05 for 95 %): the `a`-quantile of
//!   the returns with linear interpolation between order statistics
//!   (numpy's default `percentile`); a loss is negative;
//! - **historical CVaR**: the mean of the `⌊(n − 1)·a⌋ + 1` smallest
//!   returns (empyrical's `conditional_value_at_risk`);
//! - **parametric VaR**: `μ + σ·z_a` of a normal fit (mean, sample
//!   standard deviation with ddof 1; `z_a` the standard normal quantile),
//!   and **parametric CVaR** `μ − σ·φ(z_a)/a`, the normal's expected
//!   shortfall;
//! - **beta**: population covariance over population variance (ddof 0) of
//!   the returns against the benchmark's on the same days;
//! - **correlation matrix**: Pearson correlations of equal-length series.

use ndarray::Array2;
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use crate::error::{Error, Result, in_range};

fn need(what: &'static str, xs: &[f64], n: usize) -> Result<()> {
    if xs.len() < n {
        Err(Error::TooShort {
            what,
            need: n,
            got: xs.len(),
        })
    } else {
        Ok(())
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

/// The `q`-quantile (0 ≤ q ≤ 1) of ascending `s`, linear interpolation.
fn quantile_sorted(s: &[f64], q: f64) -> f64 {
    let pos = (s.len() - 1) as f64 * q;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// Historical VaR at level `a` (0.05 = 95 %): a return (negative for a
/// loss).
///
/// # Errors
/// [`Error::TooShort`] for fewer than 2 returns; [`Error::Setting`] for `a`
/// outside (0, 0.5].
pub fn historical_var(returns: &[f64], a: f64) -> Result<f64> {
    need("historical VaR", returns, 2)?;
    in_range("var level", a, f64::MIN_POSITIVE, 0.5)?;
    Ok(quantile_sorted(&sorted(returns), a))
}

/// Historical CVaR (expected shortfall) at level `a`: the mean of the
/// `⌊(n − 1)·a⌋ + 1` smallest returns.
///
/// # Errors
/// As [`historical_var`].
pub fn historical_cvar(returns: &[f64], a: f64) -> Result<f64> {
    need("historical CVaR", returns, 2)?;
    in_range("var level", a, f64::MIN_POSITIVE, 0.5)?;
    let s = sorted(returns);
    let k = ((s.len() - 1) as f64 * a) as usize;
    Ok(mean(&s[..=k]))
}

/// Simple returns `v[t] / v[t−1] − 1` of a value series (prices or
/// equity), one fewer than the values; fractions per period.
pub fn simple_returns(values: &[f64]) -> Vec<f64> {
    values.windows(2).map(|w| w[1] / w[0] - 1.0).collect()
}

/// Sample standard deviation (ddof 1) of `xs`, in the units of `xs`:
/// `√(Σ(x − x̄)² / (n − 1))`; NaN for fewer than two values.
pub fn sample_std(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// Mean and sample standard deviation (ddof 1).
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    (mean(xs), sample_std(xs))
}

fn std_normal() -> Normal {
    // mean 0, sd 1 is always a valid normal
    Normal::standard()
}

/// Parametric (normal) VaR at level `a`: `μ + σ·z_a`.
///
/// # Errors
/// As [`historical_var`].
pub fn parametric_var(returns: &[f64], a: f64) -> Result<f64> {
    need("parametric VaR", returns, 2)?;
    in_range("var level", a, f64::MIN_POSITIVE, 0.5)?;
    let (m, sd) = mean_sd(returns);
    Ok(m + sd * std_normal().inverse_cdf(a))
}

/// Parametric (normal) CVaR at level `a`: `μ − σ·φ(z_a)/a`.
///
/// # Errors
/// As [`historical_var`].
pub fn parametric_cvar(returns: &[f64], a: f64) -> Result<f64> {
    need("parametric CVaR", returns, 2)?;
    in_range("var level", a, f64::MIN_POSITIVE, 0.5)?;
    let (m, sd) = mean_sd(returns);
    let n = std_normal();
    Ok(m - sd * n.pdf(n.inverse_cdf(a)) / a)
}

/// Beta of `returns` against `benchmark` (same days, same length):
/// population covariance over population variance.
///
/// # Errors
/// [`Error::Lengths`] for different lengths; [`Error::TooShort`] for fewer
/// than 2 pairs.
pub fn beta(returns: &[f64], benchmark: &[f64]) -> Result<f64> {
    if returns.len() != benchmark.len() {
        return Err(Error::Lengths {
            what: "beta",
            a: returns.len(),
            b: benchmark.len(),
        });
    }
    need("beta", returns, 2)?;
    let (mr, mb) = (mean(returns), mean(benchmark));
    let n = returns.len() as f64;
    let cov = returns
        .iter()
        .zip(benchmark)
        .map(|(x, y)| (x - mr) * (y - mb))
        .sum::<f64>()
        / n;
    let var = benchmark.iter().map(|y| (y - mb).powi(2)).sum::<f64>() / n;
    Ok(cov / var)
}

/// Pearson correlation matrix of `series` (each the same length ≥ 2): a
/// symmetric `k × k` array with ones on the diagonal (NaN for a constant
/// series).
///
/// # Errors
/// [`Error::Lengths`] when a series differs in length from the first;
/// [`Error::TooShort`] for fewer than 2 values.
pub fn correlation_matrix(series: &[Vec<f64>]) -> Result<Array2<f64>> {
    let k = series.len();
    let n = series.first().map_or(0, Vec::len);
    for s in series {
        if s.len() != n {
            return Err(Error::Lengths {
                what: "correlation matrix",
                a: n,
                b: s.len(),
            });
        }
    }
    if k > 0 {
        need("correlation matrix", &series[0], 2)?;
    }
    let centred: Vec<Vec<f64>> = series
        .iter()
        .map(|s| {
            let m = mean(s);
            s.iter().map(|x| x - m).collect()
        })
        .collect();
    let norms: Vec<f64> = centred
        .iter()
        .map(|c| c.iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    let mut out = Array2::<f64>::zeros((k, k));
    for i in 0..k {
        for j in i..k {
            let r = if i == j && norms[i] > 0.0 {
                1.0
            } else {
                centred[i]
                    .iter()
                    .zip(&centred[j])
                    .map(|(x, y)| x * y)
                    .sum::<f64>()
                    / (norms[i] * norms[j])
            };
            out[[i, j]] = r;
            out[[j, i]] = r;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twenty returns with known order statistics.
    fn rets() -> Vec<f64> {
        vec![
            0.01, -0.02, 0.015, -0.035, 0.004, 0.02, -0.01, 0.0, 0.03, -0.05, 0.012, -0.005, 0.008,
            -0.015, 0.025, -0.002, 0.006, -0.025, 0.018, 0.001,
        ]
    }

    #[test]
    fn historical_by_hand() {
        // sorted: −0.05, −0.035, −0.025, −0.02, …; pos = 19 × 0.05 = 0.95
        let v = historical_var(&rets(), 0.05).unwrap();
        assert!((v - (-0.05 + 0.95 * 0.015)).abs() < 1e-15, "{v}");
        // k = ⌊0.95⌋ = 0 → the single smallest
        assert_eq!(historical_cvar(&rets(), 0.05).unwrap(), -0.05);
        // a = 0.2: pos 3.8 → −0.02 + 0.8 × (−0.015 + 0.02); k = 3 → 4 smallest
        let v = historical_var(&rets(), 0.2).unwrap();
        assert!((v - (-0.02 + 0.8 * 0.005)).abs() < 1e-15, "{v}");
        let c = historical_cvar(&rets(), 0.2).unwrap();
        assert!((c - (-0.05 - 0.035 - 0.025 - 0.02) / 4.0).abs() < 1e-15);
    }

    #[test]
    fn parametric_by_hand() {
        let r = rets();
        let m = r.iter().sum::<f64>() / 20.0;
        let sd = (r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 19.0).sqrt();
        // z_0.05 = −1.6448536269514722, φ(z) = 0.10313564037537128
        let v = parametric_var(&r, 0.05).unwrap();
        assert!(
            (v - (m - 1.644_853_626_951_472_2 * sd)).abs() < 1e-12,
            "{v}"
        );
        let c = parametric_cvar(&r, 0.05).unwrap();
        assert!(
            (c - (m - sd * 0.103_135_640_375_371_28 / 0.05)).abs() < 1e-12,
            "{c}"
        );
        assert!(c < v, "shortfall beyond VaR");
    }

    #[test]
    fn beta_and_correlation() {
        let b = vec![0.01, -0.02, 0.03, 0.0, -0.01];
        let twice: Vec<f64> = b.iter().map(|x| 2.0 * x + 0.001).collect();
        assert!((beta(&twice, &b).unwrap() - 2.0).abs() < 1e-12);
        let m = correlation_matrix(&[b.clone(), twice.clone(), b.iter().map(|x| -x).collect()])
            .unwrap();
        assert_eq!(m.shape(), &[3, 3]);
        assert!((m[[0, 1]] - 1.0).abs() < 1e-12);
        assert!((m[[0, 2]] + 1.0).abs() < 1e-12);
        assert_eq!(m[[1, 0]], m[[0, 1]]);
        assert!(beta(&b, &b[..4]).is_err());
        assert!(historical_var(&[0.1], 0.05).is_err());
        assert!(historical_var(&b, 0.7).is_err());
    }
}
