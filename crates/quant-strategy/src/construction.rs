//! Portfolio construction: turning a chosen set of assets and their
//! covariance of daily returns into long-only weights that sum to 1, and
//! rebalancing towards them with a drift threshold and a turnover cap.
//!
//! | method | weights | source |
//! |---|---|---|
//! | equal weight | `1/n` | — |
//! | inverse volatility | `(1/σᵢ) / Σⱼ 1/σⱼ` | — |
//! | risk parity | equal risk contributions `wᵢ (Σw)ᵢ` | Maillard, Roncalli, Teïletche (2010); solved by cyclical coordinate descent, Griveau-Billion, Richard, Roncalli (2013) |
//! | minimum variance | `Σ⁻¹1 / 1ᵀΣ⁻¹1`, long-only | Markowitz; assets with a negative weight are dropped and the rest re-solved until none is negative (an active-set method, exact when the dropped set is the optimum's) |
//!
//! Covariances are of daily simple returns (any consistent scale: weights
//! do not depend on it). Every method returns weights ≥ 0 summing to 1.

use crate::error::{Error, Result};

/// A construction method (`equal_weight`, `inverse_volatility`,
/// `risk_parity`, `minimum_variance` in config files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// `1/n` each.
    EqualWeight,
    /// Proportional to the inverse of each asset's volatility.
    InverseVolatility,
    /// Equal risk contributions.
    RiskParity,
    /// Minimum portfolio variance, long-only.
    MinimumVariance,
}

fn bad(what: String) -> Error {
    Error::Construction(what)
}

/// Checks that `cov` is a square, symmetric matrix with positive variances.
fn check(cov: &[Vec<f64>]) -> Result<usize> {
    let n = cov.len();
    if n == 0 {
        return Err(bad("no asset".into()));
    }
    for (i, row) in cov.iter().enumerate() {
        if row.len() != n {
            return Err(bad(format!(
                "covariance row {i} has {} values, not {n}",
                row.len()
            )));
        }
        if !(row[i] > 0.0 && row[i].is_finite()) {
            return Err(bad(format!(
                "variance of asset {i} is {}, not positive",
                row[i]
            )));
        }
        for (j, &c) in row.iter().enumerate() {
            if !c.is_finite() || (c - cov[j][i]).abs() > 1e-12 * (1.0 + c.abs()) {
                return Err(bad(format!(
                    "covariance ({i}, {j}) = {c} is not symmetric or finite"
                )));
            }
        }
    }
    Ok(n)
}

/// Weights of `method` for the assets of `cov` (an `n × n` covariance
/// matrix of daily returns).
///
/// # Errors
/// A non-square or asymmetric matrix, a non-positive variance, or (for
/// minimum variance) a singular matrix.
pub fn weights(method: Method, cov: &[Vec<f64>]) -> Result<Vec<f64>> {
    let n = check(cov)?;
    let w = match method {
        Method::EqualWeight => vec![1.0 / n as f64; n],
        Method::InverseVolatility => {
            let inv: Vec<f64> = (0..n).map(|i| 1.0 / cov[i][i].sqrt()).collect();
            normalise(inv)
        }
        Method::RiskParity => risk_parity(cov, n),
        Method::MinimumVariance => minimum_variance(cov, n)?,
    };
    Ok(w)
}

fn normalise(mut w: Vec<f64>) -> Vec<f64> {
    let s: f64 = w.iter().sum();
    for x in &mut w {
        *x /= s;
    }
    w
}

/// Cyclical coordinate descent on `½ yᵀΣy − (1/n) Σ ln yᵢ`, whose
/// minimiser normalised is the equal-risk-contribution portfolio.
fn risk_parity(cov: &[Vec<f64>], n: usize) -> Vec<f64> {
    let b = 1.0 / n as f64;
    let mut y: Vec<f64> = (0..n).map(|i| 1.0 / cov[i][i].sqrt()).collect();
    for _ in 0..10_000 {
        let mut moved = 0.0f64;
        for i in 0..n {
            let c: f64 = (0..n).filter(|&j| j != i).map(|j| cov[i][j] * y[j]).sum();
            let s = cov[i][i];
            let new = (-c + (c * c + 4.0 * s * b).sqrt()) / (2.0 * s);
            moved = moved.max((new - y[i]).abs() / new);
            y[i] = new;
        }
        if moved < 1e-14 {
            break;
        }
    }
    normalise(y)
}

/// Solves `a x = b` for a symmetric positive-definite `a` (Cholesky);
/// `None` when `a` is not positive definite.
fn solve_spd(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
        y[i] = (b[i] - s) / l[i][i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k][i] * x[k]).sum();
        x[i] = (y[i] - s) / l[i][i];
    }
    Some(x)
}

fn minimum_variance(cov: &[Vec<f64>], n: usize) -> Result<Vec<f64>> {
    let mut active: Vec<usize> = (0..n).collect();
    loop {
        let sub: Vec<Vec<f64>> = active
            .iter()
            .map(|&i| active.iter().map(|&j| cov[i][j]).collect())
            .collect();
        let x = solve_spd(&sub, &vec![1.0; active.len()]).ok_or_else(|| {
            bad("the covariance matrix is singular (not positive definite)".into())
        })?;
        let s: f64 = x.iter().sum();
        let w: Vec<f64> = x.iter().map(|v| v / s).collect();
        if w.iter().all(|&v| v >= 0.0) {
            let mut out = vec![0.0; n];
            for (k, &i) in active.iter().enumerate() {
                out[i] = w[k];
            }
            return Ok(out);
        }
        active = active
            .iter()
            .zip(&w)
            .filter(|&(_, &v)| v > 0.0)
            .map(|(&i, _)| i)
            .collect();
    }
}

/// The sample covariance matrix (ddof 1) of equal-length return series.
///
/// # Errors
/// Series of different lengths or fewer than 2 values.
pub fn covariance(returns: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
    let n = returns.len();
    let t = returns.first().map_or(0, Vec::len);
    if t < 2 || returns.iter().any(|r| r.len() != t) {
        return Err(bad(format!(
            "covariance needs {n} series of one length ≥ 2"
        )));
    }
    let means: Vec<f64> = returns
        .iter()
        .map(|r| r.iter().sum::<f64>() / t as f64)
        .collect();
    let mut c = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in i..n {
            let v = returns[i]
                .iter()
                .zip(&returns[j])
                .map(|(a, b)| (a - means[i]) * (b - means[j]))
                .sum::<f64>()
                / (t - 1) as f64;
            c[i][j] = v;
            c[j][i] = v;
        }
    }
    Ok(c)
}

/// Rebalancing towards `target` from `current` weights (same assets, in
/// the same order): nothing when no weight is more than `drift` away;
/// otherwise the full move, scaled down so that one-way turnover
/// (`Σ|Δ|/2`) is at most `max_turnover`. Returns the new weights.
pub fn rebalance(current: &[f64], target: &[f64], drift: f64, max_turnover: f64) -> Vec<f64> {
    let delta: Vec<f64> = target.iter().zip(current).map(|(t, c)| t - c).collect();
    let max_drift = delta.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    if max_drift <= drift {
        return current.to_vec();
    }
    let turnover = delta.iter().map(|d| d.abs()).sum::<f64>() / 2.0;
    let scale = if turnover > max_turnover {
        max_turnover / turnover
    } else {
        1.0
    };
    current
        .iter()
        .zip(&delta)
        .map(|(c, d)| c + d * scale)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two uncorrelated assets with volatilities 1 % and 2 %, and a third
    /// correlated 0.5 with the first.
    fn cov() -> Vec<Vec<f64>> {
        let (a, b, c) = (0.01, 0.02, 0.015);
        vec![
            vec![a * a, 0.0, 0.5 * a * c],
            vec![0.0, b * b, 0.0],
            vec![0.5 * a * c, 0.0, c * c],
        ]
    }

    #[test]
    fn equal_and_inverse_volatility_by_hand() {
        assert_eq!(
            weights(Method::EqualWeight, &cov()).unwrap(),
            vec![1.0 / 3.0; 3]
        );
        // 1/0.01 : 1/0.02 : 1/0.015 = 100 : 50 : 66.67 → / 216.67
        let w = weights(Method::InverseVolatility, &cov()).unwrap();
        let s = 100.0 + 50.0 + 1.0 / 0.015;
        for (x, want) in w.iter().zip([100.0 / s, 50.0 / s, (1.0 / 0.015) / s]) {
            assert!((x - want).abs() < 1e-12, "{w:?}");
        }
    }

    #[test]
    fn risk_parity_equalises_risk_contributions() {
        let c = cov();
        let w = weights(Method::RiskParity, &c).unwrap();
        let rc: Vec<f64> = (0..3)
            .map(|i| w[i] * (0..3).map(|j| c[i][j] * w[j]).sum::<f64>())
            .collect();
        for r in &rc {
            assert!((r / rc[0] - 1.0).abs() < 1e-9, "{rc:?}");
        }
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // uncorrelated: risk parity is inverse volatility
        let diag = vec![vec![1e-4, 0.0], vec![0.0, 4e-4]];
        let w = weights(Method::RiskParity, &diag).unwrap();
        assert!((w[0] - 2.0 / 3.0).abs() < 1e-12, "{w:?}");
    }

    #[test]
    fn minimum_variance_by_hand_and_long_only() {
        // uncorrelated: weights ∝ 1/σ² = 1/1e-4 : 1/4e-4 → 0.8 : 0.2
        let diag = vec![vec![1e-4, 0.0], vec![0.0, 4e-4]];
        let w = weights(Method::MinimumVariance, &diag).unwrap();
        assert!(
            (w[0] - 0.8).abs() < 1e-12 && (w[1] - 0.2).abs() < 1e-12,
            "{w:?}"
        );
        // a highly correlated, more volatile asset would be shorted: dropped
        let (a, b) = (0.01, 0.02);
        let c = vec![vec![a * a, 0.9 * a * b], vec![0.9 * a * b, b * b]];
        let w = weights(Method::MinimumVariance, &c).unwrap();
        assert_eq!(w, vec![1.0, 0.0]);
        // no other long-only mix has less variance
        let var = |w: &[f64]| {
            (0..2)
                .map(|i| (0..2).map(|j| w[i] * c[i][j] * w[j]).sum::<f64>())
                .sum::<f64>()
        };
        for k in 1..100 {
            let x = f64::from(k) / 100.0;
            assert!(var(&w) <= var(&[1.0 - x, x]) + 1e-18);
        }
        let singular = vec![vec![1e-4, 1e-4], vec![1e-4, 1e-4]];
        assert!(weights(Method::MinimumVariance, &singular).is_err());
    }

    #[test]
    fn covariance_and_bad_matrices() {
        let c = covariance(&[vec![0.01, -0.01, 0.02], vec![0.0, 0.01, 0.01]]).unwrap();
        // means 0.006667 and 0.006667; hand-computed sample covariance
        let m = 0.02 / 3.0;
        let want =
            ((0.01 - m) * (0.0 - m) + (-0.01 - m) * (0.01 - m) + (0.02 - m) * (0.01 - m)) / 2.0;
        assert!((c[0][1] - want).abs() < 1e-15);
        assert_eq!(c[0][1], c[1][0]);
        assert!(weights(Method::EqualWeight, &[vec![1.0, 0.0]]).is_err());
        assert!(weights(Method::RiskParity, &[vec![0.0]]).is_err());
        assert!(weights(Method::RiskParity, &[vec![1.0, 0.5], vec![0.4, 1.0]]).is_err());
    }

    /// Positive-definite matrices `AᵀA + εI` from a fixed sequence: every
    /// method gives weights ≥ 0 that sum to 1, and risk parity equal risk.
    #[test]
    fn every_method_gives_long_only_weights_on_many_matrices() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for n in 2..7 {
            for _ in 0..20 {
                let a: Vec<Vec<f64>> = (0..n + 2)
                    .map(|_| (0..n).map(|_| next() * 0.02).collect())
                    .collect();
                let cov: Vec<Vec<f64>> = (0..n)
                    .map(|i| {
                        (0..n)
                            .map(|j| {
                                a.iter().map(|r| r[i] * r[j]).sum::<f64>()
                                    + if i == j { 1e-6 } else { 0.0 }
                            })
                            .collect()
                    })
                    .collect();
                for m in [
                    Method::EqualWeight,
                    Method::InverseVolatility,
                    Method::RiskParity,
                    Method::MinimumVariance,
                ] {
                    let w = weights(m, &cov).unwrap();
                    assert!(w.iter().all(|&x| x >= 0.0), "{m:?} {w:?}");
                    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{m:?} {w:?}");
                }
                let w = weights(Method::RiskParity, &cov).unwrap();
                let rc: Vec<f64> = (0..n)
                    .map(|i| w[i] * (0..n).map(|j| cov[i][j] * w[j]).sum::<f64>())
                    .collect();
                assert!(rc.iter().all(|r| (r / rc[0] - 1.0).abs() < 1e-6), "{rc:?}");
            }
        }
    }

    #[test]
    fn rebalancing_respects_drift_and_turnover() {
        let cur = [0.5, 0.3, 0.2];
        // every weight within 5 %: no trade
        assert_eq!(rebalance(&cur, &[0.52, 0.28, 0.2], 0.05, 1.0), cur.to_vec());
        // a full move of turnover 0.2, capped at 0.1: half way
        let w = rebalance(&cur, &[0.3, 0.5, 0.2], 0.05, 0.1);
        for (x, want) in w.iter().zip([0.4, 0.4, 0.2]) {
            assert!((x - want).abs() < 1e-12, "{w:?}");
        }
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // under the cap: the whole way
        assert_eq!(
            rebalance(&cur, &[0.3, 0.5, 0.2], 0.05, 0.5),
            vec![0.3, 0.5, 0.2]
        );
    }
}
