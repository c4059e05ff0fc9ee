//! An in-memory market and a scripted strategy for engine tests.

use chrono::NaiveDate;
use quant_core::{
    Bar, Cash, Instrument, InstrumentIndex, OrderQty, OrderType, Side, Symbol, TradingCalendar,
};
use quant_engine::{CorporateActions, EngineConfig};
use quant_strategy::{Context, History, SeriesView, Signal, Strategy};
use serde::{Deserialize, Serialize};

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn bar(date: &str, open: f64, high: f64, low: f64, close: f64) -> Bar {
    Bar {
        date: d(date),
        open,
        high,
        low,
        close,
        pre_close: f64::NAN,
        volume: 1e6,
        amount: f64::NAN,
        adj_factor: 1.0,
    }
}

pub fn inst(sym: &str) -> Instrument {
    Instrument::infer(Symbol::new(sym).unwrap(), false).unwrap()
}

pub fn config(cash: f64) -> EngineConfig {
    EngineConfig {
        initial_cash: Cash::from_f64(cash).unwrap(),
        corporate_actions: CorporateActions::None,
        size_at: Default::default(),
        risk: None,
        ..Default::default()
    }
}

pub fn units(n: i64) -> OrderQty {
    OrderQty::Units(quant_core::Quantity::from_units(n))
}

/// History of the bars fed so far.
#[derive(Default)]
pub struct Hist {
    pub closes: Vec<Vec<f64>>,
    pub cols: Vec<[Vec<f64>; 5]>,
}

impl Hist {
    pub fn new(n: usize) -> Self {
        Self {
            closes: vec![Vec::new(); n],
            cols: vec![Default::default(); n],
        }
    }

    pub fn push(&mut self, bars: &[Option<Bar>]) {
        for (i, b) in bars.iter().enumerate() {
            if let Some(b) = b {
                self.closes[i].push(b.close);
                for (c, v) in self.cols[i]
                    .iter_mut()
                    .zip([b.open, b.high, b.low, b.volume, b.amount])
                {
                    c.push(v);
                }
            }
        }
    }
}

impl History for Hist {
    fn closes(&self, i: InstrumentIndex) -> &[f64] {
        &self.closes[i.get()]
    }
    fn benchmark_closes(&self) -> &[f64] {
        &[]
    }
    fn series(&self, i: InstrumentIndex) -> SeriesView<'_> {
        let [open, high, low, volume, amount] = &self.cols[i.get()];
        SeriesView {
            open,
            high,
            low,
            close: &self.closes[i.get()],
            volume,
            amount,
        }
    }
}

/// Orders on given days; remembers how many fills it saw (state to save).
#[derive(Clone, Serialize, Deserialize)]
pub struct Script {
    pub orders: Vec<(NaiveDate, usize, Side, OrderQty, OrderType)>,
    pub fills_seen: u32,
    pub bars_seen: u32,
}

impl Script {
    pub fn new(orders: Vec<(NaiveDate, usize, Side, OrderQty, OrderType)>) -> Self {
        Self {
            orders,
            fills_seen: 0,
            bars_seen: 0,
        }
    }
}

impl Strategy for Script {
    fn name(&self) -> &str {
        "script"
    }
    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>) {
        self.bars_seen += 1;
        for (date, i, side, qty, ty) in &self.orders {
            if *date == ctx.date {
                out.push(Signal::Order {
                    instrument: InstrumentIndex(*i as u32),
                    side: *side,
                    qty: *qty,
                    order_type: *ty,
                });
            }
        }
    }
    fn on_fill(&mut self, _: &quant_core::Fill) {
        self.fills_seen += 1;
    }
    fn save_state(&self) -> quant_strategy::Result<Vec<u8>> {
        Ok(serde_json_like(self))
    }
    fn load_state(&mut self, state: &[u8]) -> quant_strategy::Result<()> {
        let (f, b) = parse_counts(state);
        self.fills_seen = f;
        self.bars_seen = b;
        Ok(())
    }
}

/// The script's counters as text (its orders come from its parameters).
fn serde_json_like(s: &Script) -> Vec<u8> {
    format!("{} {}", s.fills_seen, s.bars_seen).into_bytes()
}

fn parse_counts(b: &[u8]) -> (u32, u32) {
    let t = String::from_utf8_lossy(b);
    let mut it = t.split(' ').map(|x| x.parse().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

/// A one-instrument calendar.
pub fn calendar(days: &[&str]) -> TradingCalendar {
    TradingCalendar::new(days.iter().map(|s| d(s)).collect()).unwrap()
}
