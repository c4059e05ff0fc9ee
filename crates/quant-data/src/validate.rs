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
