//! Positions with the quantity sellable today under T+1.

use serde::{Deserialize, Serialize};

use crate::money::{Cash, Price, Quantity};

/// A long position in one instrument.
///
/// `sellable` is the part of `quantity` that may be sold today: under T+1
/// (A-share stocks) shares bought today are not sellable until the next
/// trading day; under T+0 everything is sellable at once.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Position {
    /// Units held.
    pub quantity: Quantity,
    /// Units that may be sold today (≤ `quantity`).
    pub sellable: Quantity,
    /// Total cost of the units held, fees included, in account currency
    /// (average-cost method: a sell removes its pro-rata share).
    pub cost: Cash,
}

impl Position {
    /// Rolls the position into a new trading day: everything held becomes sellable.
    pub fn roll_day(&mut self) {
        self.sellable = self.quantity;
    }

    /// Books a buy of `qty` at total cost `cost` (value + fees).
    /// Under T+1 (`t_plus_one`) the units are not sellable today.
    pub fn on_buy(&mut self, qty: Quantity, cost: Cash, t_plus_one: bool) {
        self.quantity += qty;
        self.cost += cost;
        if !t_plus_one {
            self.sellable += qty;
        }
    }

    /// Books a sell of `qty` (≤ `sellable`) and returns the cost basis removed.
    pub fn on_sell(&mut self, qty: Quantity) -> Cash {
        let removed = if self.quantity.is_zero() {
            Cash::ZERO
        } else if qty == self.quantity {
            self.cost
        } else {
            Cash(self.cost.0 * qty.0 / self.quantity.0)
        };
        self.quantity -= qty;
        self.sellable -= qty;
        self.cost -= removed;
        removed
    }

    /// Average cost per unit (fees included), `None` when flat.
    pub fn avg_cost(&self) -> Option<Price> {
        if self.quantity.is_zero() {
            None
        } else {
            Some(Price(self.cost.0 / self.quantity.0))
        }
    }

    /// True when nothing is held.
    pub fn is_flat(&self) -> bool {
        self.quantity.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_plus_one_blocks_same_day_sale() {
        let mut p = Position::default();
        p.on_buy(
            Quantity::from_units(500),
            Cash::from_f64(5000.0).unwrap(),
            true,
        );
        assert_eq!(p.sellable, Quantity::ZERO);
        p.roll_day();
        assert_eq!(p.sellable, Quantity::from_units(500));
        let removed = p.on_sell(Quantity::from_units(200));
        assert_eq!(removed, Cash::from_f64(2000.0).unwrap());
        assert_eq!(p.quantity, Quantity::from_units(300));
        assert_eq!(p.sellable, Quantity::from_units(300));
    }
}
