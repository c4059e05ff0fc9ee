//! The engine's risk gate: `quant-risk`'s pre-trade checks and circuit
//! breakers applied to every order of every mode (backtest, paper, live)
//! before it reaches the venue.
//!
//! Per day: the breakers see the day's opening equity (the previous
//! close's) and the decision-time equity (marked at the close, before the
//! strategy decides); a tripped drawdown breaker with `flatten_on_drawdown`
//! sends a sell of every held position. Per order: buys first ask the
//! breakers, then every order runs the pre-trade checks with the position
//! marks as prices and the 20-day average volume of the instrument's bars.
//! A blocked order is rejected with [`RejectReason::Risk`] and a
//! [`RiskEvent`] naming the rule and the numbers; every breaker trip and
//! release is a [`RiskEvent`] too. Round trips (flat to flat) feed the
//! losing-streak breaker with their cash flows, fees included.

use std::collections::{BTreeMap, VecDeque};

use chrono::NaiveDate;
use quant_core::{Fill, Instrument, Order, OrderId, OrderQty, Side, Symbol};
use quant_risk::checks::check;
use quant_risk::{
    Breakers, Holding, MarketView, OrderRequest, PortfolioView, RiskConfig, Trip, Violation,
};
use serde::{Deserialize, Serialize};

use quant_exec::Portfolio;

/// Days in the average daily volume of the liquidity check.
const ADV_DAYS: usize = 20;

/// What the gate recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskEventKind {
    /// An order blocked by a check or a breaker.
    Blocked,
    /// A breaker tripped.
    Trip,
    /// A breaker released.
    Release,
}

impl RiskEventKind {
    /// Snake-case name used in `risk_events.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::Trip => "trip",
            Self::Release => "release",
        }
    }
}

/// One blocked order or breaker trip, with the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskEvent {
    /// Trading day.
    pub date: NaiveDate,
    /// Blocked order, trip or release.
    pub kind: RiskEventKind,
    /// The order's symbol (blocked orders).
    pub symbol: Option<Symbol>,
    /// The order (blocked orders).
    pub order: Option<OrderId>,
    /// The rule or breaker (`position_weight`, `drawdown`…).
    pub rule: String,
    /// The value that tripped it (fraction, count).
    pub value: f64,
    /// The configured limit.
    pub limit: f64,
    /// A sentence with the numbers.
    pub detail: String,
}

/// The gate's state over a run (part of the engine's snapshot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RiskGate {
    cfg: RiskConfig,
    breakers: Breakers,
    volumes: Vec<VecDeque<f64>>,
    orders_today: u32,
    /// Per instrument: open quantity and cash flow of the current round trip.
    trips: Vec<(f64, f64)>,
    /// Per instrument: the quantity change of today's orders that passed
    /// (sells negative), so that a rotation's sells count before its buys.
    pending: Vec<f64>,
    fills_seen: usize,
}

impl RiskGate {
    /// A gate for `n` instruments and a run starting with `equity`.
    pub(crate) fn new(cfg: RiskConfig, n: usize, equity: f64) -> Self {
        let breakers = Breakers::new(cfg.breakers.clone(), equity);
        Self {
            cfg,
            breakers,
            volumes: vec![VecDeque::with_capacity(ADV_DAYS + 1); n],
            orders_today: 0,
            trips: vec![(0.0, 0.0); n],
            pending: vec![0.0; n],
            fills_seen: 0,
        }
    }

    /// A new day opening at `equity` (the previous close's).
    pub(crate) fn on_day_start(&mut self, date: NaiveDate, equity: f64) {
        self.orders_today = 0;
        self.pending.iter_mut().for_each(|p| *p = 0.0);
        self.breakers.on_day_start(date, equity);
    }

    /// Today's bar volume of instrument `i` (for the 20-day average).
    pub(crate) fn on_volume(&mut self, i: usize, volume: f64) {
        if let Some(v) = self.volumes.get_mut(i) {
            v.push_back(volume);
            if v.len() > ADV_DAYS {
                v.pop_front();
            }
        }
    }

    /// Equity marked at the close, before decisions: breaker trips and
    /// releases go to `out`.
    pub(crate) fn on_equity(&mut self, date: NaiveDate, equity: f64, out: &mut Vec<RiskEvent>) {
        for t in self.breakers.on_equity(date, equity) {
            out.push(trip_event(&t));
        }
    }

    /// Fills recorded since the last call: closed round trips feed the
    /// losing-streak breaker (its trips go to `out`).
    pub(crate) fn on_fills(&mut self, fills: &[Fill], out: &mut Vec<RiskEvent>) {
        let before = self.breakers.trips().len();
        for f in fills.iter().skip(self.fills_seen) {
            let Some(t) = self.trips.get_mut(f.instrument.get()) else {
                continue;
            };
            let q = f.quantity.to_f64();
            t.0 += if f.side == Side::Buy { q } else { -q };
            t.1 += f.cash_flow().to_f64();
            if t.0.abs() < 1e-9 {
                self.breakers.on_trade_closed(f.date, t.1);
                *t = (0.0, 0.0);
            }
        }
        self.fills_seen = fills.len();
        out.extend(self.breakers.trips()[before..].iter().map(trip_event));
    }

    /// Whether every position is to be sold (drawdown breaker with
    /// `flatten_on_drawdown`).
    pub(crate) fn must_flatten(&self) -> bool {
        self.breakers.must_flatten()
    }

    /// The size multiplier of the losing-streak breaker (1 without one).
    pub(crate) fn size_factor(&self) -> f64 {
        self.breakers.size_factor()
    }

    /// Reviews `order` (`instruments` indexed as the order's instrument);
    /// `None` when it may go to the venue (it then counts towards the day's
    /// orders).
    pub(crate) fn review(
        &mut self,
        order: &Order,
        instruments: &[Instrument],
        portfolio: &Portfolio,
        equity: f64,
    ) -> Option<Violation> {
        let i = order.instrument.get();
        let inst = &instruments[i];
        let mark = portfolio.marks.get(i).copied().unwrap_or(f64::NAN);
        if order.side == Side::Buy
            && let Err(v) = self.breakers.allows_buy()
        {
            return Some(v);
        }
        let quantity = match order.requested {
            OrderQty::Units(q) => q.to_f64(),
            OrderQty::Value(v) => v.to_f64() / mark,
            OrderQty::AllCash => portfolio.cash.to_f64() / mark,
            OrderQty::AllPosition => portfolio.positions[i].quantity.to_f64(),
        };
        // held quantities after today's passed orders (sells first in a
        // rebalance, so an exit frees its slot and weight for the buys)
        let positions: BTreeMap<String, Holding> = portfolio
            .positions
            .iter()
            .enumerate()
            .map(|(k, p)| (k, p.quantity.to_f64() + self.pending[k]))
            .filter(|&(_, q)| q.abs() > 1e-9)
            .map(|(k, q)| {
                (
                    instruments[k].symbol.as_str().to_string(),
                    Holding {
                        quantity: q,
                        price: portfolio.marks[k],
                        sector: self
                            .cfg
                            .sectors
                            .get(instruments[k].symbol.as_str())
                            .cloned(),
                    },
                )
            })
            .collect();
        let view = PortfolioView {
            equity,
            positions,
            orders_today: self.orders_today,
        };
        let adv = self
            .volumes
            .get(i)
            .filter(|v| !v.is_empty())
            .map(|v| v.iter().sum::<f64>() / v.len() as f64);
        let req = OrderRequest {
            symbol: inst.symbol.as_str(),
            side: order.side,
            quantity,
            price: mark,
            limit_price: order.order_type.limit_price().map(|p| p.to_f64()),
            sector: self
                .cfg
                .sectors
                .get(inst.symbol.as_str())
                .map(String::as_str),
        };
        match check(
            &self.cfg.limits,
            &req,
            &view,
            &MarketView {
                last: mark,
                adv20: adv,
            },
        ) {
            Ok(()) => {
                self.orders_today = self.orders_today.saturating_add(1);
                self.pending[i] += match order.side {
                    Side::Buy => quantity,
                    Side::Sell => -quantity,
                };
                None
            }
            Err(v) => Some(v),
        }
    }
}

fn trip_event(t: &Trip) -> RiskEvent {
    RiskEvent {
        date: t.date,
        kind: if t.tripped {
            RiskEventKind::Trip
        } else {
            RiskEventKind::Release
        },
        symbol: None,
        order: None,
        rule: t.breaker.name().to_string(),
        value: t.value,
        limit: t.limit,
        detail: t.detail.clone(),
    }
}

/// The event of a blocked order.
pub(crate) fn blocked_event(date: NaiveDate, order: &Order, v: &Violation) -> RiskEvent {
    RiskEvent {
        date,
        kind: RiskEventKind::Blocked,
        symbol: Some(order.symbol.clone()),
        order: Some(order.id),
        rule: v.rule.name().to_string(),
        value: v.value,
        limit: v.limit,
        detail: v.detail.clone(),
    }
}
