//! A tiny in-memory clock, feed and scripted strategy for scenarios.

use chrono::NaiveDate;
use quant_core::{
    Bar, Cash, Instrument, InstrumentIndex, OrderQty, OrderType, Side, Symbol, TradingCalendar,
};
use quant_engine::{Clock, CorporateActions, DataFeed, EngineConfig, RunRecord};
use quant_exec::{SimConfig, SimulatedVenue};
use quant_strategy::{Context, History, SeriesView, Signal, Strategy};

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

/// Days and, per instrument, an optional bar per day.
pub struct Feed {
    pub instruments: Vec<Instrument>,
    pub days: Vec<NaiveDate>,
    pub calendar: TradingCalendar,
    pub bars: Vec<Vec<Option<Bar>>>, // [instrument][day]
    pub closes: Vec<Vec<f64>>,
    /// open, high, low, volume, amount per instrument
    pub others: Vec<[Vec<f64>; 5]>,
    pub day: usize,
    pub today: Vec<Option<Bar>>,
}

impl Feed {
    pub fn new(instruments: Vec<Instrument>, days: &[&str], bars: Vec<Vec<Option<Bar>>>) -> Self {
        let n = instruments.len();
        let days: Vec<NaiveDate> = days.iter().map(|s| d(s)).collect();
        Self {
            instruments,
            calendar: TradingCalendar::new(days.clone()).unwrap(),
            days,
            bars,
            closes: vec![Vec::new(); n],
            others: vec![Default::default(); n],
            day: 0,
            today: vec![None; n],
        }
    }
}

impl History for Feed {
    fn closes(&self, i: InstrumentIndex) -> &[f64] {
        &self.closes[i.get()]
    }
    fn benchmark_closes(&self) -> &[f64] {
        &[]
    }
    fn series(&self, i: InstrumentIndex) -> SeriesView<'_> {
        let [open, high, low, volume, amount] = &self.others[i.get()];
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

impl DataFeed for Feed {
    fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }
    fn advance(&mut self, date: NaiveDate) -> quant_engine::Result<()> {
        let k = self.days.iter().position(|x| *x == date).unwrap();
        for (i, slot) in self.today.iter_mut().enumerate() {
            *slot = self.bars[i][k];
            if let Some(b) = slot {
                self.closes[i].push(b.close);
                for (col, v) in self.others[i]
                    .iter_mut()
                    .zip([b.open, b.high, b.low, b.volume, b.amount])
                {
                    col.push(v);
                }
            }
        }
        self.day = k;
        Ok(())
    }
    fn bars(&self) -> &[Option<Bar>] {
        &self.today
    }
    fn history(&self) -> &dyn History {
        self
    }
    fn benchmark_close(&self) -> f64 {
        f64::NAN
    }
    fn calendar(&self) -> &TradingCalendar {
        &self.calendar
    }
}

pub struct DaysClock(pub Vec<NaiveDate>, pub usize);

impl Clock for DaysClock {
    fn next_session(&mut self) -> Option<NaiveDate> {
        let r = self.0.get(self.1).copied();
        self.1 += 1;
        r
    }
}

/// Emits scripted orders on given dates.
pub struct Script(pub Vec<(NaiveDate, usize, Side, OrderQty)>);

impl Strategy for Script {
    fn name(&self) -> &str {
        "script"
    }
    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>) {
        for (date, i, side, qty) in &self.0 {
            if *date == ctx.date {
                out.push(Signal::Order {
                    instrument: InstrumentIndex(*i as u32),
                    side: *side,
                    qty: *qty,
                    order_type: OrderType::Market,
                });
            }
        }
    }
}

pub fn units(n: i64) -> OrderQty {
    OrderQty::Units(quant_core::Quantity::from_units(n))
}

pub fn run(
    feed: &mut Feed,
    sim: SimConfig,
    cash: f64,
    script: Vec<(NaiveDate, usize, Side, OrderQty)>,
) -> RunRecord {
    run_with(
        feed,
        sim,
        cash,
        CorporateActions::None,
        Box::new(Script(script)),
    )
}

pub fn run_with(
    feed: &mut Feed,
    sim: SimConfig,
    cash: f64,
    ca: CorporateActions,
    strategy: Box<dyn Strategy>,
) -> RunRecord {
    run_with_risk(feed, sim, cash, ca, None, strategy)
}

/// [`run_with`] with the risk gate configured.
pub fn run_with_risk(
    feed: &mut Feed,
    sim: SimConfig,
    cash: f64,
    ca: CorporateActions,
    risk: Option<quant_risk::RiskConfig>,
    strategy: Box<dyn Strategy>,
) -> RunRecord {
    let mut clock = DaysClock(feed.days.clone(), 0);
    let mut venue = SimulatedVenue::new(sim);
    let config = EngineConfig {
        initial_cash: Cash::from_f64(cash).unwrap(),
        corporate_actions: ca,
        size_at: Default::default(),
        risk,
        ..Default::default()
    };
    quant_engine::run_strategy(config, &mut clock, feed, &mut venue, strategy, |_| {}).unwrap()
}
