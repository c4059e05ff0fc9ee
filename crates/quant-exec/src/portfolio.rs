//! Portfolio accounting: cash, positions and marks in dense arrays.

use quant_core::{Cash, Fill, Position, Quantity, Side};
use serde::{Deserialize, Serialize};

/// Cash and positions of one account. Positions and marks are dense arrays
/// indexed by instrument. Cash is exact decimal in account currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    /// Cash in account currency.
    pub cash: Cash,
    /// Position per instrument.
    pub positions: Vec<Position>,
    /// Last known close per instrument (carried through suspensions), NaN before the first bar.
    pub marks: Vec<f64>,
    qty: Vec<f64>,
    /// Instruments with T+1 units bought since the last roll.
    unsettled: Vec<usize>,
}

impl Portfolio {
    /// An all-cash portfolio over `n` instruments.
    pub fn new(cash: Cash, n: usize) -> Self {
        Self {
            cash,
            positions: vec![Position::default(); n],
            marks: vec![f64::NAN; n],
            qty: vec![0.0; n],
            unsettled: Vec::new(),
        }
    }

    /// Books a fill: cash by [`Fill::cash_flow`], position by quantity (T+1
    /// units not sellable until the next day when `t_plus_one`).
    pub fn apply_fill(&mut self, fill: &Fill, t_plus_one: bool) {
        let i = fill.instrument.get();
        self.cash += fill.cash_flow();
        let p = &mut self.positions[i];
        match fill.side {
            Side::Buy => {
                p.on_buy(fill.quantity, fill.value() + fill.total_fees(), t_plus_one);
                if t_plus_one {
                    self.unsettled.push(i);
                }
            }
            Side::Sell => {
                p.on_sell(fill.quantity);
            }
        }
        self.qty[i] = p.quantity.to_f64();
    }

    /// Sets the quantity of a position directly (corporate actions), keeping its cost.
    pub fn set_quantity(&mut self, i: usize, q: Quantity) {
        let p = &mut self.positions[i];
        p.quantity = q;
        p.sellable = p.sellable.min(q);
        self.qty[i] = q.to_f64();
    }

    /// Starts a new trading day: everything held becomes sellable.
    pub fn roll_day(&mut self) {
        for p in &mut self.positions {
            p.roll_day();
        }
        self.unsettled.clear();
    }

    /// Like [`Portfolio::roll_day`], touching only positions with units
    /// bought under T+1 through [`Portfolio::apply_fill`] since the last
    /// roll (the engine's per-day path; positions changed by other means
    /// need [`Portfolio::roll_day`]).
    pub fn roll_unsettled(&mut self) {
        for i in self.unsettled.drain(..) {
            self.positions[i].roll_day();
        }
    }

    /// Value of positions at their marks (account currency, `f64`).
    pub fn market_value(&self) -> f64 {
        self.qty
            .iter()
            .zip(&self.marks)
            .filter(|(q, _)| **q != 0.0)
            .map(|(q, m)| q * m)
            .sum()
    }

    /// Equity = cash + Σ quantity × mark.
    pub fn equity(&self) -> f64 {
        self.cash.to_f64() + self.market_value()
    }

    /// Value of one position at its mark.
    pub fn position_value(&self, i: usize) -> f64 {
        if self.qty[i] == 0.0 {
            0.0
        } else {
            self.qty[i] * self.marks[i]
        }
    }
}
