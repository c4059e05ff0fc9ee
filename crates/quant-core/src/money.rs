//! Decimal money types: prices, quantities and cash.
//!
//! Cash and order prices are exact decimals (`rust_decimal`); analytics use
//! `f64`. The crossing from an `f64` analytics price back to an order price is
//! explicit: [`Price::from_f64_tick`] snaps to the tick size.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `d` as the nearest `f64`. Fast and correctly rounded for the common case
/// of a mantissa below 2^53 and at most 22 decimals (both operands of one
/// IEEE division are then exact); otherwise `rust_decimal`'s conversion.
/// NaN only if that fails.
#[inline]
pub fn decimal_to_f64(d: Decimal) -> f64 {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let m = d.mantissa();
    let s = d.scale() as usize;
    if m.unsigned_abs() < (1u128 << 53) && s < POW10.len() {
        return m as i64 as f64 / POW10[s];
    }
    d.to_f64().unwrap_or(f64::NAN)
}

/// A price per unit in the instrument's quote currency (CNY per share for A-shares).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Price(pub Decimal);

/// A quantity in shares (A-shares, US) or coins (crypto); may be fractional for crypto.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Quantity(pub Decimal);

/// An amount of money in the account currency (CNY for A-share accounts).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cash(pub Decimal);

impl Price {
    /// Converts an analytics price to a decimal price rounded half-up
    /// (midpoint away from zero) to a multiple of `tick`. Midpoints are
    /// judged with a tolerance of 1e-9 ticks, so that a decimal midpoint such
    /// as 18.205 (stored in binary as 18.20499…) rounds up as written.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when `x` is NaN, infinite or negative, or `tick` is not positive.
    pub fn from_f64_tick(x: f64, tick: Decimal) -> Result<Self> {
        let bad = || Error::InvalidValue {
            what: "price",
            value: x.to_string(),
        };
        if !x.is_finite() || x < 0.0 || tick <= Decimal::ZERO {
            return Err(bad());
        }
        let tick_f = decimal_to_f64(tick);
        let steps = (x / tick_f + 0.5 + 1e-9).floor();
        if steps >= 9.0e15 {
            return Err(bad());
        }
        // tick = m × 10^-k (0.01 = 1 × 10^-2): price = steps × m × 10^-k, exact
        let price = Decimal::from_i128_with_scale(steps as i128 * tick.mantissa(), tick.scale());
        Ok(Self(price.normalize()))
    }

    /// Converts an `f64` price to a decimal with up to 15 significant digits,
    /// without snapping to a tick (for prices that are not exchange prices).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for NaN, infinite or negative input.
    pub fn from_f64(x: f64) -> Result<Self> {
        if !x.is_finite() || x < 0.0 {
            return Err(Error::InvalidValue {
                what: "price",
                value: x.to_string(),
            });
        }
        Decimal::from_f64(x)
            .map(|d| Self(d.normalize()))
            .ok_or(Error::InvalidValue {
                what: "price",
                value: x.to_string(),
            })
    }

    /// The price as `f64` for analytics.
    #[inline]
    pub fn to_f64(self) -> f64 {
        decimal_to_f64(self.0)
    }
}

impl Quantity {
    /// Zero units.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// Whole units from an integer.
    pub fn from_units(n: i64) -> Self {
        Self(Decimal::from(n))
    }

    /// True when zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// The quantity as `f64` for analytics.
    #[inline]
    pub fn to_f64(self) -> f64 {
        decimal_to_f64(self.0)
    }

    /// The smaller of two quantities.
    pub fn min(self, other: Self) -> Self {
        if self <= other { self } else { other }
    }
}

impl Cash {
    /// Zero.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// Cash from an `f64` amount rounded half away from zero to the cent
    /// (0.01): the crossing from an analytics amount (a target value) to money.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for NaN, infinite or out-of-range input (|x| ≥ 9e13).
    pub fn from_f64_cents(x: f64) -> Result<Self> {
        let cents = (x * 100.0).round();
        if !cents.is_finite() || cents.abs() >= 9.0e15 {
            return Err(Error::InvalidValue {
                what: "cash",
                value: x.to_string(),
            });
        }
        Ok(Self(Decimal::new(cents as i64, 2)))
    }

    /// Cash from an `f64` amount (config input), rounded to 15 significant digits.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for NaN or infinite input.
    pub fn from_f64(x: f64) -> Result<Self> {
        Decimal::from_f64(x)
            .map(|d| Self(d.normalize()))
            .ok_or(Error::InvalidValue {
                what: "cash",
                value: x.to_string(),
            })
    }

    /// The amount as `f64` for analytics.
    #[inline]
    pub fn to_f64(self) -> f64 {
        decimal_to_f64(self.0)
    }

    /// Multiplies by a rate (a fraction, e.g. 0.00025 for 0.025%).
    pub fn times_rate(self, rate: Decimal) -> Self {
        Self(self.0 * rate)
    }

    /// The larger of two amounts.
    pub fn max(self, other: Self) -> Self {
        if self >= other { self } else { other }
    }

    /// True when strictly below zero.
    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
}

impl Mul<Quantity> for Price {
    type Output = Cash;
    /// Notional: price × quantity.
    fn mul(self, q: Quantity) -> Cash {
        Cash(self.0 * q.0)
    }
}

macro_rules! additive {
    ($t:ty) => {
        impl Add for $t {
            type Output = Self;
            fn add(self, o: Self) -> Self {
                Self(self.0 + o.0)
            }
        }
        impl Sub for $t {
            type Output = Self;
            fn sub(self, o: Self) -> Self {
                Self(self.0 - o.0)
            }
        }
        impl AddAssign for $t {
            fn add_assign(&mut self, o: Self) {
                self.0 += o.0;
            }
        }
        impl SubAssign for $t {
            fn sub_assign(&mut self, o: Self) {
                self.0 -= o.0;
            }
        }
        impl Neg for $t {
            type Output = Self;
            fn neg(self) -> Self {
                Self(-self.0)
            }
        }
        impl Sum for $t {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(Self(Decimal::ZERO), |a, b| a + b)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.normalize(), f)
            }
        }
    };
}
additive!(Quantity);
additive!(Cash);

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.normalize(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn tick_snapping_is_half_up() {
        assert_eq!(
            Price::from_f64_tick(16.56, dec!(0.01)).unwrap().0,
            dec!(16.56)
        );
        assert_eq!(
            Price::from_f64_tick(3.6885, dec!(0.001)).unwrap().0,
            dec!(3.689)
        );
        assert_eq!(
            Price::from_f64_tick(18.205, dec!(0.01)).unwrap().0,
            dec!(18.21)
        );
        assert!(Price::from_f64_tick(f64::NAN, dec!(0.01)).is_err());
        assert!(Price::from_f64_tick(-1.0, dec!(0.01)).is_err());
    }

    #[test]
    fn fast_decimal_to_f64_is_correctly_rounded() {
        for d in [
            dec!(15.417705),
            dec!(0.1),
            dec!(-98673.312),
            dec!(0.00001),
            dec!(123456789012.34),
            dec!(0),
        ] {
            assert_eq!(
                decimal_to_f64(d),
                d.to_string().parse::<f64>().unwrap(),
                "{d}"
            );
        }
        let big = Decimal::from_i128_with_scale(12345678901234567890123, 5);
        assert_eq!(decimal_to_f64(big), 123456789012345678.90123);
    }

    #[test]
    fn cents() {
        assert_eq!(Cash::from_f64_cents(1234.5678).unwrap().0, dec!(1234.57));
        assert_eq!(Cash::from_f64_cents(-0.005).unwrap().0, dec!(-0.01));
        assert!(Cash::from_f64_cents(f64::NAN).is_err());
    }

    #[test]
    fn notional_is_price_times_quantity() {
        let c = Price(dec!(15.417705)) * Quantity(dec!(6400));
        assert_eq!(c.0, dec!(98673.312));
    }
}
