//! Row rules applied by every reader.
//!
//! A row is rejected when: a price is NaN, infinite or not positive; volume
//! is NaN or negative; `low ≤ min(open, close)` or `max(open, close) ≤ high`
//! fails; or its date is not strictly after the previous row's (sorted,
//! unique dates). `pre_close` and `adj_factor`, when present, must be
//! positive and finite.

use chrono::NaiveDate;
use quant_core::Bar;

/// Checks one bar against the row rules, given the previous row's date.
///
/// # Errors
/// A lowercase reason naming the field and values.
pub fn check_bar(bar: &Bar, prev_date: Option<NaiveDate>) -> Result<(), String> {
    if let Some(p) = prev_date {
        if bar.date == p {
            return Err(format!("duplicate date {}", bar.date));
        }
        if bar.date < p {
            return Err(format!(
                "date {} is before the previous row's {p} (rows must be sorted)",
                bar.date
            ));
        }
    }
    for (name, v) in [
        ("open", bar.open),
        ("high", bar.high),
        ("low", bar.low),
        ("close", bar.close),
    ] {
        if !v.is_finite() {
            return Err(format!("{name} is not a finite number ({v})"));
        }
        if v <= 0.0 {
            return Err(format!("{name} must be positive, got {v}"));
        }
    }
    if !bar.volume.is_finite() || bar.volume < 0.0 {
        return Err(format!(
            "volume must be a non-negative number, got {}",
            bar.volume
        ));
    }
    if bar.amount.is_infinite() || bar.amount < 0.0 {
        return Err(format!("amount must be non-negative, got {}", bar.amount));
    }
    if bar.low > bar.open.min(bar.close) {
        return Err(format!(
            "low {} is above min(open {}, close {})",
            bar.low, bar.open, bar.close
        ));
    }
    if bar.open.max(bar.close) > bar.high {
        return Err(format!(
            "high {} is below max(open {}, close {})",
            bar.high, bar.open, bar.close
        ));
    }
    if !bar.pre_close.is_nan() && (bar.pre_close.is_infinite() || bar.pre_close <= 0.0) {
        return Err(format!("pre_close must be positive, got {}", bar.pre_close));
    }
    if !bar.adj_factor.is_finite() || bar.adj_factor <= 0.0 {
        return Err(format!(
            "adj_factor must be positive, got {}",
            bar.adj_factor
        ));
    }
    Ok(())
}

/// Whether every row of `s` passes the value rules of [`check_bar`] (not
/// the date order): the same predicate, branch-free over the columns so
/// that a whole series is checked at memory speed. Callers re-run
/// [`check_bar`] row by row only when this fails, to name the row.
pub fn rows_valid(s: &crate::BarSeries) -> bool {
    let n = s.len();
    if s.value_columns().iter().any(|c| c.len() != n) {
        return false;
    }
    // blocks keep the `all` short-circuit without a branch per row
    const BLOCK: usize = 1024;
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK).min(n);
        if !block_valid(
            &s.open[start..end],
            &s.high[start..end],
            &s.low[start..end],
            &s.close[start..end],
            &s.pre_close[start..end],
            &s.volume[start..end],
            &s.amount[start..end],
            &s.adj_factor[start..end],
        ) {
            return false;
        }
        start = end;
    }
    true
}

/// [`rows_valid`] over one block of equal-length column slices. Written
/// with `&` on comparisons, not `&&` or `contains`, so that it stays
/// branch-free; a comparison with NaN is false, which is the rule.
#[allow(
    clippy::too_many_arguments,
    clippy::manual_range_contains,
    clippy::neg_cmp_op_on_partial_ord
)]
fn block_valid(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    pre_close: &[f64],
    volume: &[f64],
    amount: &[f64],
    adj: &[f64],
) -> bool {
    const INF: f64 = f64::INFINITY;
    let positive = |x: f64| (x > 0.0) & (x < INF);
    // equal lengths up front: no bounds check in the loop, so it vectorises
    let n = open.len();
    let (high, low, close) = (&high[..n], &low[..n], &close[..n]);
    let (pre_close, volume, amount, adj) = (&pre_close[..n], &volume[..n], &amount[..n], &adj[..n]);
    let mut ok = true;
    for i in 0..n {
        let (o, h, l, c) = (open[i], high[i], low[i], close[i]);
        let (p, v, a, f) = (pre_close[i], volume[i], amount[i], adj[i]);
        // NaN fails every comparison, so these reject NaN too, as
        // `check_bar` does; pre_close and amount may be NaN (absent)
        ok &= positive(o) & positive(h) & positive(l) & positive(c);
        ok &= (v >= 0.0) & (v < INF);
        ok &= !(a < 0.0) & (a != INF);
        ok &= (l <= o) & (l <= c) & (o <= h) & (c <= h);
        ok &= p.is_nan() | positive(p);
        ok &= positive(f);
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar() -> Bar {
        Bar {
            date: "2021-01-04".parse().unwrap(),
            open: 10.0,
            high: 11.0,
            low: 9.5,
            close: 10.5,
            pre_close: f64::NAN,
            volume: 100.0,
            amount: 1000.0,
            adj_factor: 1.0,
        }
    }

    /// `rows_valid` is `check_bar` over every row, on bars built to sit on
    /// each rule's edge.
    #[test]
    fn rows_valid_agrees_with_check_bar() {
        let special = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            -1.0,
            9.5,
            10.0,
            10.5,
            11.0,
            1e-300,
        ];
        let base = bar();
        let fields = 8;
        for f in 0..fields {
            for &v in &special {
                let mut b = base;
                match f {
                    0 => b.open = v,
                    1 => b.high = v,
                    2 => b.low = v,
                    3 => b.close = v,
                    4 => b.pre_close = v,
                    5 => b.volume = v,
                    6 => b.amount = v,
                    _ => b.adj_factor = v,
                }
                let mut s = crate::BarSeries::default();
                s.push(&base);
                let mut b2 = b;
                b2.date = b.date.succ_opt().unwrap();
                s.push(&b2);
                assert_eq!(
                    rows_valid(&s),
                    check_bar(&b2, None).is_ok(),
                    "field {f} = {v}"
                );
            }
        }
    }

    #[test]
    fn good_bar_passes() {
        assert!(check_bar(&bar(), None).is_ok());
    }

    #[test]
    fn each_rule_rejects() {
        let prev = Some("2021-01-04".parse().unwrap());
        assert!(check_bar(&bar(), prev).unwrap_err().contains("duplicate"));
        let mut b = bar();
        b.low = 10.2;
        assert!(check_bar(&b, None).unwrap_err().contains("low"));
        let mut b = bar();
        b.high = 10.4;
        assert!(check_bar(&b, None).unwrap_err().contains("high"));
        let mut b = bar();
        b.close = f64::NAN;
        assert!(check_bar(&b, None).unwrap_err().contains("close"));
        let mut b = bar();
        b.volume = -1.0;
        assert!(check_bar(&b, None).unwrap_err().contains("volume"));
        let mut b = bar();
        b.date = "2021-01-01".parse().unwrap();
        assert!(check_bar(&b, prev).unwrap_err().contains("sorted"));
    }
}
