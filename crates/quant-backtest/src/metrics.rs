//! Performance metrics of a daily equity curve, following
//! `shared/docs/conventions.md` (empyrical's definitions).
//!
//! N equity points give N−1 simple daily returns r; the annualisation
//! factor is 252; the annual risk-free rate `rf` is divided by 252 per day.
//! - `total_return` = final/initial − 1;
//! - `cagr` = (final/initial)^(252/(N−1)) − 1;
//! - `annual_volatility` = std(r, ddof 1) × √252;
//! - `sharpe` = mean(r − rf_d) / std(r − rf_d, ddof 1) × √252;
//! - `sortino` = mean(r − rf_d) × 252 / downside_risk, with
//!   `downside_risk` = √(mean(min(r − rf_d, 0)²)) × √252 over all returns;
//! - `max_drawdown`: largest fall from a running peak (the starting equity
//!   counts as a peak), a **positive** fraction; `calmar` = cagr / max_drawdown;
//! - `max_drawdown_duration`: longest stretch, in trading days, from a peak
//!   to its recovery (or to the end when not recovered);
//! - `beta` = cov(r, b) / var(b), population (ddof 0), on dates where both
//!   exist; `alpha` = (1 + mean((r − rf_d) − β(b − rf_d)))^252 − 1;
//! - `information_ratio` = mean(r − b) / std(r − b, ddof 1), daily, not
//!   annualised; `information_ratio_annualised` = that × √252;
//!   `tracking_error` = std(r − b, ddof 1) × √252;
//! - `var_95` = 5th percentile of r (linear interpolation); `cvar_95` = mean
//!   of the int((N−2) × 0.05) + 1 smallest returns;
//! - `num_trades` = fills; `win_rate` = share of closed round trips (flat →
//!   flat per instrument, fees and dividends included) with positive P&L;
//! - `turnover` = annualised one-way turnover: Σ|fill value| / 2 / mean
//!   equity × 252/(N−1);
//! - `exposure` = mean over days of (equity − cash) / equity;
//! - `monthly_returns`: month-end equity over the previous month-end (the
//!   initial equity for the first month) − 1.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use quant_core::Side;
use quant_engine::RunRecord;

/// Trading days per year used for annualisation.
pub const PERIODS_PER_YEAR: f64 = 252.0;

/// One month's return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReturn {
    /// Calendar year.
    pub year: i32,
    /// Month 1–12.
    pub month: u32,
    /// Simple return of the month (fraction).
    #[serde(rename = "return")]
    pub ret: f64,
}

/// The metrics of a run; fractions unless named otherwise, annualised where
/// named. `None` (JSON `null`) where undefined (e.g. no benchmark).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// First trading day.
    pub start: NaiveDate,
    /// Last trading day.
    pub end: NaiveDate,
    /// Equity points (trading days).
    pub num_days: usize,
    /// Annual risk-free rate used.
    pub risk_free_rate: f64,
    /// Starting equity, account currency.
    pub initial_equity: f64,
    /// Final equity, account currency.
    pub final_equity: f64,
    /// final/initial − 1.
    pub total_return: f64,
    /// Compound annual growth rate (252-day years).
    pub cagr: f64,
    /// Annualised volatility of daily returns.
    pub annual_volatility: f64,
    /// Annualised Sharpe ratio.
    pub sharpe: f64,
    /// Annualised Sortino ratio.
    pub sortino: f64,
    /// Annualised downside deviation.
    pub downside_risk: f64,
    /// Maximum drawdown, positive fraction.
    pub max_drawdown: f64,
    /// Longest peak-to-recovery stretch in trading days.
    pub max_drawdown_duration: usize,
    /// Peak date of the maximum drawdown.
    pub max_drawdown_peak: NaiveDate,
    /// Trough date of the maximum drawdown.
    pub max_drawdown_trough: NaiveDate,
    /// Recovery date of the maximum drawdown, `None` when not recovered.
    pub max_drawdown_recovery: Option<NaiveDate>,
    /// CAGR / max drawdown.
    pub calmar: f64,
    /// Jensen's alpha, annualised (compounded).
    pub alpha: Option<f64>,
    /// Beta to the benchmark.
    pub beta: Option<f64>,
    /// Daily information ratio (not annualised).
    pub information_ratio: Option<f64>,
    /// Information ratio × √252.
    pub information_ratio_annualised: Option<f64>,
    /// Annualised tracking error.
    pub tracking_error: Option<f64>,
    /// Benchmark total return over the run.
    pub benchmark_total_return: Option<f64>,
    /// Benchmark CAGR.
    pub benchmark_cagr: Option<f64>,
    /// Benchmark maximum drawdown, positive fraction.
    pub benchmark_max_drawdown: Option<f64>,
    /// 5% historical value at risk of daily returns (a negative return).
    pub var_95: f64,
    /// 5% conditional value at risk (expected shortfall) of daily returns.
    pub cvar_95: f64,
    /// Best daily return.
    pub best_day: f64,
    /// Worst daily return.
    pub worst_day: f64,
    /// Number of fills.
    pub num_trades: usize,
    /// Closed round trips.
    pub num_round_trips: usize,
    /// Share of closed round trips with positive P&L, `None` without any.
    pub win_rate: Option<f64>,
    /// Annualised one-way turnover (multiple of mean equity per year).
    pub turnover: f64,
    /// Mean fraction of equity invested.
    pub exposure: f64,
    /// Orders rejected.
    pub num_rejected: usize,
    /// Orders filled with less than asked.
    pub num_cut: usize,
    /// Month-by-month returns.
    pub monthly_returns: Vec<MonthlyReturn>,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

use quant_risk::figures::sample_std;
pub use quant_risk::figures::simple_returns;

/// (max drawdown as positive fraction, peak index, trough index) of a value series.
pub fn max_drawdown(values: &[f64]) -> (f64, usize, usize) {
    let (mut peak, mut peak_i) = (f64::NEG_INFINITY, 0);
    let (mut best, mut best_peak, mut best_trough) = (0.0, 0, 0);
    for (i, &v) in values.iter().enumerate() {
        if v > peak {
            peak = v;
            peak_i = i;
        }
        let dd = 1.0 - v / peak;
        if dd > best {
            best = dd;
            best_peak = peak_i;
            best_trough = i;
        }
    }
    (best, best_peak, best_trough)
}

/// Longest stretch in steps from a running peak to the first point back at
/// or above it (or to the end), as (length, peak index).
pub fn longest_drawdown(values: &[f64]) -> (usize, usize) {
    let (mut peak, mut peak_i, mut under) = (f64::NEG_INFINITY, 0, false);
    let (mut best, mut best_i) = (0, 0);
    for (i, &v) in values.iter().enumerate() {
        if v >= peak {
            if under && i - peak_i > best {
                (best, best_i) = (i - peak_i, peak_i);
            }
            (peak, peak_i, under) = (v, i, false);
        } else {
            under = true;
        }
    }
    let last = values.len().saturating_sub(1);
    if under && last - peak_i > best {
        (best, best_i) = (last - peak_i, peak_i);
    }
    (best, best_i)
}

/// numpy `percentile(xs, q)` with linear interpolation, of values already
/// sorted ascending.
pub fn percentile_of_sorted(s: &[f64], q: f64) -> f64 {
    let pos = (s.len() - 1) as f64 * q / 100.0;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

fn cagr_of(first: f64, last: f64, n_returns: usize) -> f64 {
    (last / first).powf(PERIODS_PER_YEAR / n_returns as f64) - 1.0
}

/// Profit of every round trip of a run (flat to flat per symbol), in the
/// order they closed: cash flows of the fills, fees included, plus the
/// cash dividends booked while the position was open. Account currency.
pub fn round_trips(record: &RunRecord) -> Vec<f64> {
    let mut trips = RoundTrips::default();
    let mut div_iter = record.dividends.iter().peekable();
    for f in &record.fills {
        while let Some(d) = div_iter.next_if(|d| d.date <= f.date) {
            trips.dividend(d.symbol.as_str(), d.amount.to_f64());
        }
        let q = f.quantity.to_f64();
        let signed = if f.side == Side::Buy { q } else { -q };
        trips.fill(f.symbol.as_str(), signed, f.cash_flow().to_f64());
    }
    trips.closed
}

/// Round trips built fill by fill: per symbol the open quantity and the
/// cash flow so far; a trip closes when the quantity returns to zero
/// (within 1e-12). Used on a run in memory ([`round_trips`]) and on a
/// run's output files (`montecarlo::load_run`).
#[derive(Debug, Clone, Default)]
pub struct RoundTrips {
    open: HashMap<String, (f64, f64)>,
    /// Profits of the closed trips, in the order they closed.
    pub closed: Vec<f64>,
}

impl RoundTrips {
    /// A cash dividend of `amount` on `symbol`, credited to its open trip
    /// (none when flat).
    pub fn dividend(&mut self, symbol: &str, amount: f64) {
        if let Some(t) = self.open.get_mut(symbol) {
            t.1 += amount;
        }
    }

    /// A fill of `signed_qty` units (negative for a sell) with net
    /// `cash_flow` (negative for a buy, fees included).
    pub fn fill(&mut self, symbol: &str, signed_qty: f64, cash_flow: f64) {
        let e = self.open.entry(symbol.to_string()).or_insert((0.0, 0.0));
        e.1 += cash_flow;
        e.0 += signed_qty;
        if e.0.abs() < 1e-12 {
            self.closed.push(e.1);
            self.open.remove(symbol);
        }
    }
}

/// Computes [`Metrics`] of a run with annual risk-free rate `rf`.
///
/// # Panics
/// When the run has fewer than two equity points (a config guarantees two).
pub fn compute_metrics(record: &RunRecord, rf: f64) -> Metrics {
    let eq: Vec<f64> = record.equity.iter().map(|p| p.equity).collect();
    let dates: Vec<NaiveDate> = record.equity.iter().map(|p| p.date).collect();
    assert!(eq.len() >= 2, "metrics need at least two equity points");
    let n = eq.len() - 1;
    let r = simple_returns(&eq);
    let rf_d = rf / PERIODS_PER_YEAR;
    let adj: Vec<f64> = r.iter().map(|x| x - rf_d).collect();
    let ann = PERIODS_PER_YEAR.sqrt();
    let vol = sample_std(&r) * ann;
    let sharpe = mean(&adj) / sample_std(&adj) * ann;
    let downside =
        (adj.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / adj.len() as f64).sqrt() * ann;
    let sortino = mean(&adj) * PERIODS_PER_YEAR / downside;
    let cagr = cagr_of(eq[0], eq[n], n);
    let (mdd, peak_i, trough_i) = max_drawdown(&eq);
    let recovery = (trough_i..eq.len())
        .find(|&i| eq[i] >= eq[peak_i])
        .map(|i| dates[i]);
    let (dd_len, _) = longest_drawdown(&eq);

    // benchmark: join on dates where both exist
    let bench: Vec<f64> = record.equity.iter().map(|p| p.benchmark).collect();
    let common: Vec<usize> = (0..eq.len())
        .filter(|&i| bench[i].is_finite() && bench[i] > 0.0)
        .collect();
    let (mut alpha, mut beta, mut ir, mut ir_ann, mut te, mut btr, mut bcagr, mut bmdd) =
        (None, None, None, None, None, None, None, None);
    if common.len() >= 3 {
        let e_c: Vec<f64> = common.iter().map(|&i| eq[i]).collect();
        let b_c: Vec<f64> = common.iter().map(|&i| bench[i]).collect();
        let rs = simple_returns(&e_c);
        let bs = simple_returns(&b_c);
        // equal lengths, ≥ 2 pairs: beta cannot fail here
        let b = quant_risk::figures::beta(&rs, &bs).unwrap_or(f64::NAN);
        let a: Vec<f64> = rs
            .iter()
            .zip(&bs)
            .map(|(x, y)| (x - rf_d) - b * (y - rf_d))
            .collect();
        alpha = Some((1.0 + mean(&a)).powf(PERIODS_PER_YEAR) - 1.0);
        beta = Some(b);
        let active: Vec<f64> = rs.iter().zip(&bs).map(|(x, y)| x - y).collect();
        let sd = sample_std(&active);
        ir = Some(mean(&active) / sd);
        ir_ann = Some(mean(&active) / sd * ann);
        te = Some(sd * ann);
        btr = Some(b_c[b_c.len() - 1] / b_c[0] - 1.0);
        bcagr = Some(cagr_of(b_c[0], b_c[b_c.len() - 1], b_c.len() - 1));
        bmdd = Some(max_drawdown(&b_c).0);
    }

    // one return (two equity points): it is its own tail
    let one = r.first().copied().unwrap_or(f64::NAN);
    let var_95 = quant_risk::figures::historical_var(&r, 0.05).unwrap_or(one);
    let cvar_95 = quant_risk::figures::historical_cvar(&r, 0.05).unwrap_or(one);

    let trips = round_trips(record);
    let traded_value: f64 = record.fills.iter().map(|f| f.value().to_f64()).sum();
    let wins = trips.iter().filter(|p| **p > 0.0).count();
    let mean_equity = mean(&eq);
    let exposure = mean(
        &record
            .equity
            .iter()
            .map(|p| (p.equity - p.cash.to_f64()) / p.equity)
            .collect::<Vec<_>>(),
    );

    let mut monthly = Vec::new();
    let mut prev = eq[0];
    for i in 0..eq.len() {
        let last_of_month = i + 1 == eq.len()
            || (dates[i + 1].year(), dates[i + 1].month()) != (dates[i].year(), dates[i].month());
        if last_of_month {
            monthly.push(MonthlyReturn {
                year: dates[i].year(),
                month: dates[i].month(),
                ret: eq[i] / prev - 1.0,
            });
            prev = eq[i];
        }
    }

    let rejected = record
        .orders
        .iter()
        .filter(|o| o.status == quant_core::OrderStatus::Rejected)
        .count();
    let cut = record
        .orders
        .iter()
        .filter(|o| o.status == quant_core::OrderStatus::Filled && o.reason.is_some())
        .count();
    Metrics {
        start: dates[0],
        end: dates[n],
        num_days: eq.len(),
        risk_free_rate: rf,
        initial_equity: eq[0],
        final_equity: eq[n],
        total_return: eq[n] / eq[0] - 1.0,
        cagr,
        annual_volatility: vol,
        sharpe,
        sortino,
        downside_risk: downside,
        max_drawdown: mdd,
        max_drawdown_duration: dd_len,
        max_drawdown_peak: dates[peak_i],
        max_drawdown_trough: dates[trough_i],
        max_drawdown_recovery: recovery,
        calmar: cagr / mdd,
        alpha,
        beta,
        information_ratio: ir,
        information_ratio_annualised: ir_ann,
        tracking_error: te,
        benchmark_total_return: btr,
        benchmark_cagr: bcagr,
        benchmark_max_drawdown: bmdd,
        var_95,
        cvar_95,
        best_day: r.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        worst_day: r.iter().copied().fold(f64::INFINITY, f64::min),
        num_trades: record.fills.len(),
        num_round_trips: trips.len(),
        win_rate: (!trips.is_empty()).then(|| wins as f64 / trips.len() as f64),
        turnover: traded_value / 2.0 / mean_equity * PERIODS_PER_YEAR / n as f64,
        exposure,
        num_rejected: rejected,
        num_cut: cut,
        monthly_returns: monthly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_counts_start_as_peak() {
        let v = [100.0, 90.0, 95.0, 80.0, 100.0, 101.0];
        let (dd, p, t) = max_drawdown(&v);
        assert!((dd - 0.2).abs() < 1e-12);
        assert_eq!((p, t), (0, 3));
        assert_eq!(longest_drawdown(&v), (4, 0)); // peak at 0, back to 100 at 4
        assert_eq!(longest_drawdown(&[100.0, 101.0, 99.0, 98.0]), (2, 1)); // not recovered: to the end
        assert_eq!(longest_drawdown(&[100.0, 101.0, 102.0]), (0, 0));
    }

    #[test]
    fn percentile_is_linear() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((percentile_of_sorted(&xs, 5.0) - 1.2).abs() < 1e-12);
        assert!((percentile_of_sorted(&xs, 50.0) - 3.0).abs() < 1e-12);
    }
}
