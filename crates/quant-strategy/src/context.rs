//! What a strategy sees at each close, and what it answers.

use chrono::NaiveDate;
use quant_core::{Bar, Cash, Instrument, InstrumentIndex, OrderQty, OrderType, Position, Side};

/// History of signal prices up to and including the current day.
///
/// `closes(i)` holds one value per bar the instrument traded (suspended days
/// have no row), oldest first, the last being today's when it traded today.
/// Closes are raw or back-adjusted (后复权, `close × adj_factor`) as the run
/// is configured; back-adjustment uses only factors known on each day, so it
/// never looks ahead.
pub trait History {
    /// Signal closes of instrument `i`, up to and including today.
    fn closes(&self, i: InstrumentIndex) -> &[f64];
    /// The newest signal close of instrument `i` (today's when it traded
    /// today), `None` before its first bar. Equal to `closes(i).last()`;
    /// feeds may answer it from today's bars without touching the history.
    fn last_close(&self, i: InstrumentIndex) -> Option<f64> {
        self.closes(i).last().copied()
    }
    /// Closes of the benchmark (index points), up to and including today.
    fn benchmark_closes(&self) -> &[f64];
}

/// The state a strategy sees at a trading day's close.
pub struct Context<'a> {
    /// Today (exchange-local trading day).
    pub date: NaiveDate,
    /// The run's instruments, indexed by [`InstrumentIndex`].
    pub instruments: &'a [Instrument],
    /// Today's raw bar per instrument; `None` when it did not trade (suspended).
    pub bars: &'a [Option<Bar>],
    /// History up to today.
    pub history: &'a dyn History,
    /// Positions per instrument.
    pub positions: &'a [Position],
    /// Cash in account currency.
    pub cash: Cash,
    /// Equity at today's close (cash + Σ quantity × close), account currency.
    pub equity: f64,
}

/// What a strategy asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// One explicit order.
    Order {
        /// Instrument.
        instrument: InstrumentIndex,
        /// Buy or sell.
        side: Side,
        /// Size.
        qty: OrderQty,
        /// Market or limit.
        order_type: OrderType,
    },
    /// Rebalance to these weights (fractions of equity, summing to ≤ 1);
    /// instruments not listed go to zero.
    TargetWeights(Vec<(InstrumentIndex, f64)>),
}
