//! Row rules applied by every reader.
//!
//! A row is rejected when: a price is NaN, infinite or not positive; volume
//! is NaN or negative; `low ≤ min(open, close)` or `max(open, close) ≤ high`
//! fails; or its date is not strictly after the previous row's (sorted,
//! unique dates). `pre_close` and `adj_factor`, when present, must be
//! positive and finite.
//!
//! Plausibility bounds catch values no market has printed, which are
//! almost always a unit or parsing slip upstream (a price in 1e308, a date
//! in 2099): prices (and `pre_close`) in [[`MIN_PRICE`], [`MAX_PRICE`]],
//! volume ≤ [`MAX_VOLUME`], amount ≤ [`MAX_AMOUNT`], `adj_factor` in
//! [[`MIN_ADJ_FACTOR`], [`MAX_ADJ_FACTOR`]], dates from [`MIN_DATE`] to
//! [`latest_plausible_date`] (tomorrow, UTC: no bar is dated in the
//! future).

use std::sync::OnceLock;

use chrono::NaiveDate;
use quant_core::Bar;

/// Smallest plausible price, quote currency (sub-cent coins trade at
/// 1e-6 USDT; nothing trades at 1e-8).
pub const MIN_PRICE: f64 = 1e-8;
/// Largest plausible price, quote currency (the dearest share, Berkshire
/// A, is under 1e6 USD; index points are under 1e6).
pub const MAX_PRICE: f64 = 1e9;
/// Largest plausible daily volume, shares or coins (a whole A-share index
/// trades under 1e12 shares a day).
pub const MAX_VOLUME: f64 = 1e15;
/// Largest plausible daily amount, quote currency (the whole A-share
/// market turns over ~1e12 CNY a day).
pub const MAX_AMOUNT: f64 = 1e17;
/// Smallest plausible cumulative adjustment factor.
pub const MIN_ADJ_FACTOR: f64 = 1e-6;
/// Largest plausible cumulative adjustment factor (decades of A-share
/// bonus issues reach a few thousand).
pub const MAX_ADJ_FACTOR: f64 = 1e6;
/// Earliest plausible bar date.
pub const MIN_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1800, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest plausible bar date: tomorrow in UTC (Asia/Shanghai is at
/// most one calendar day ahead of UTC). Read from the clock once per
/// process, so one run applies one bound.
pub fn latest_plausible_date() -> NaiveDate {
    static LATEST: OnceLock<NaiveDate> = OnceLock::new();
    *LATEST.get_or_init(|| {
        let today = chrono::Utc::now().date_naive();
        today.succ_opt().unwrap_or(today)
    })
}

/// Checks a date against [`MIN_DATE`] and [`latest_plausible_date`].
///
/// # Errors
/// A lowercase reason naming the date and the bound.
pub fn check_date(date: NaiveDate) -> Result<(), String> {
    if date < MIN_DATE {
        return Err(format!("date {date} is before {MIN_DATE} (implausible)"));
    }
    let latest = latest_plausible_date();
    if date > latest {
        return Err(format!(
            "date {date} is in the future (after {latest}, implausible)"
        ));
    }
    Ok(())
}

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
    check_date(bar.date)?;
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
        if !(MIN_PRICE..=MAX_PRICE).contains(&v) {
            return Err(format!(
                "{name} {v:?} is outside the plausible range [{MIN_PRICE:e}, {MAX_PRICE:e}]"
            ));
        }
    }
    if !bar.volume.is_finite() || bar.volume < 0.0 {
        return Err(format!(
            "volume must be a non-negative number, got {}",
            bar.volume
        ));
    }
    if bar.volume > MAX_VOLUME {
        return Err(format!(
            "volume {:?} is above the plausible {MAX_VOLUME:e}",
            bar.volume
        ));
    }
    if bar.amount.is_infinite() || bar.amount < 0.0 {
        return Err(format!("amount must be non-negative, got {}", bar.amount));
    }
    if bar.amount > MAX_AMOUNT {
        return Err(format!(
            "amount {:?} is above the plausible {MAX_AMOUNT:e}",
            bar.amount
        ));
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
    if !bar.pre_close.is_nan() && !(MIN_PRICE..=MAX_PRICE).contains(&bar.pre_close) {
        return Err(format!(
            "pre_close {:?} is outside the plausible range [{MIN_PRICE:e}, {MAX_PRICE:e}]",
            bar.pre_close
        ));
    }
    if !bar.adj_factor.is_finite() || bar.adj_factor <= 0.0 {
        return Err(format!(
            "adj_factor must be positive, got {}",
            bar.adj_factor
        ));
    }
    if !(MIN_ADJ_FACTOR..=MAX_ADJ_FACTOR).contains(&bar.adj_factor) {
        return Err(format!(
            "adj_factor {:?} is outside the plausible range [{MIN_ADJ_FACTOR:e}, {MAX_ADJ_FACTOR:e}]",
            bar.adj_factor
        ));
    }
    Ok(())
}

/// Whether every row of `s` passes the value rules of [`check_bar`] (not
/// the dates: their order and bounds are the caller's): the same predicate, branch-free over the columns so
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
    // the bounds reject NaN and infinities too (comparisons with NaN are false)
    let positive = |x: f64| (x >= MIN_PRICE) & (x <= MAX_PRICE);
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
        ok &= (v >= 0.0) & (v <= MAX_VOLUME);
        ok &= a.is_nan() | ((a >= 0.0) & (a <= MAX_AMOUNT));
        ok &= (l <= o) & (l <= c) & (o <= h) & (c <= h);
        ok &= p.is_nan() | positive(p);
        ok &= (f >= MIN_ADJ_FACTOR) & (f <= MAX_ADJ_FACTOR);
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
            1e-9,
            1e-8,
            1e9,
            1.1e9,
            1e15,
            1.1e15,
            1e17,
            1e18,
            1e6,
            2e6,
            1e308,
            f64::MAX,
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

    #[test]
    fn implausible_values_are_rejected() {
        type Case = (fn(&mut Bar), &'static str);
        let cases: [Case; 8] = [
            (
                |b| b.high = 1e308,
                "high 1e308 is outside the plausible range",
            ),
            (|b| b.low = 1e-12, "low 1e-12 is outside"),
            (|b| b.volume = 1e16, "volume 1e16 is above"),
            (|b| b.amount = 1e20, "amount 1e20 is above"),
            (|b| b.adj_factor = 1e9, "adj_factor 1000000000.0 is outside"),
            (
                |b| b.pre_close = 1e12,
                "pre_close 1000000000000.0 is outside",
            ),
            (|b| b.date = "2099-01-02".parse().unwrap(), "in the future"),
            (
                |b| b.date = "1700-01-01".parse().unwrap(),
                "before 1800-01-01",
            ),
        ];
        for (set, want) in cases {
            let mut b = bar();
            set(&mut b);
            let err = check_bar(&b, None).unwrap_err();
            assert!(err.contains(want), "{err} should contain {want}");
        }
        // the edges are plausible
        let mut b = bar();
        b.date = latest_plausible_date();
        assert!(check_bar(&b, None).is_ok());
        b.date = MIN_DATE;
        assert!(check_bar(&b, None).is_ok());
    }
}
