//! What a strategy sees at each close, and what it answers.

use chrono::NaiveDate;
use quant_core::{
    Bar, Cash, Instrument, InstrumentIndex, OrderQty, OrderType, Position, Side, TradingCalendar,
};

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
    /// Whole bars of instrument `i` up to and including today: one row per
    /// bar traded, prices on the same basis as [`History::closes`] (raw,
    /// or back-adjusted with the day's own factor), volume in shares and
    /// amount in quote currency as traded (never adjusted).
    /// `series(i).close == closes(i)`.
    fn series(&self, i: InstrumentIndex) -> SeriesView<'_>;
    /// Whole bars of instrument `i` at `interval` — a coarser interval
    /// than the run's (daily bars in an intraday run) — completed bars
    /// only: a bar is visible once it has closed, never before. `None`
    /// when the feed has no bars of that interval (the default).
    fn series_of(
        &self,
        i: InstrumentIndex,
        interval: quant_core::Interval,
    ) -> Option<SeriesView<'_>> {
        let _ = (i, interval);
        None
    }
    /// The newest fundamentals of instrument `i` known at today's close
    /// (dated today or earlier), `None` when the feed has none. Feeds
    /// without a fundamentals source keep this default.
    fn fundamentals(&self, i: InstrumentIndex) -> Option<Fundamentals> {
        let _ = i;
        None
    }
}

/// Column slices of one instrument's bar history, oldest first, all of
/// one length (see [`History::series`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SeriesView<'a> {
    /// Opening prices.
    pub open: &'a [f64],
    /// Highs.
    pub high: &'a [f64],
    /// Lows.
    pub low: &'a [f64],
    /// Closes.
    pub close: &'a [f64],
    /// Volumes in shares (coins).
    pub volume: &'a [f64],
    /// Turnover in quote currency, NaN where the source has none.
    pub amount: &'a [f64],
}

impl SeriesView<'_> {
    /// Rows in the view.
    pub fn len(&self) -> usize {
        self.close.len()
    }

    /// True when the instrument has no bar yet.
    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }
}

/// Point-in-time fundamentals of one instrument; NaN where unknown.
///
/// Ratios as TuShare's `daily_basic` reports them: `pe` and `pb` are plain
/// multiples, `roe` a fraction (0.15 = 15 %), market values in quote
/// currency (CNY for A-shares; TuShare's 万元 converted on import).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fundamentals {
    /// The date the values are as of.
    pub date: NaiveDate,
    /// Price / earnings (TTM when the source has it).
    pub pe: f64,
    /// Price / book.
    pub pb: f64,
    /// Return on equity, fraction.
    pub roe: f64,
    /// Total market value, quote currency.
    pub total_mv: f64,
    /// Free-float (circulating) market value, quote currency.
    pub float_mv: f64,
}

impl Fundamentals {
    /// Fundamentals as of `date` with every value unknown.
    pub fn unknown(date: NaiveDate) -> Self {
        Self {
            date,
            pe: f64::NAN,
            pb: f64::NAN,
            roe: f64::NAN,
            total_mv: f64::NAN,
            float_mv: f64::NAN,
        }
    }
}

/// The state a strategy sees at a trading day's close.
pub struct Context<'a> {
    /// Today (exchange-local trading day).
    pub date: NaiveDate,
    /// The bars' close instant when the run's bars are intraday (`None`
    /// on daily bars).
    pub time: Option<quant_core::UnixNanos>,
    /// The run's trading calendar (the exchange's trading days, holidays
    /// and make-up workdays left out; every day the run walks, today
    /// included): schedules ([`quant_core::Schedule`]) pick their days on
    /// it. Knowing the coming trading days is no look-ahead: exchanges
    /// publish their holidays in advance.
    pub calendar: &'a TradingCalendar,
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
    /// One order with every term: its type (stops, trailing stops, MOO,
    /// MOC…), time in force and, when `take_profit` or `stop_loss` is set,
    /// a bracket: once the entry fills, a sell limit at the take-profit and
    /// a sell stop at the stop-loss are placed for the quantity filled, and
    /// the first of them to fill cancels the other.
    Place(OrderRequest),
}

/// The terms of one order ([`Signal::Place`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderRequest {
    /// Instrument.
    pub instrument: InstrumentIndex,
    /// Buy or sell.
    pub side: Side,
    /// Size.
    pub qty: OrderQty,
    /// Type and prices.
    pub order_type: OrderType,
    /// How long it works.
    pub tif: quant_core::TimeInForce,
    /// A bracket's take-profit price (a buy entry's sell limit), quote currency.
    pub take_profit: Option<quant_core::Price>,
    /// A bracket's stop-loss price (a buy entry's sell stop), quote currency.
    pub stop_loss: Option<quant_core::Price>,
    /// How the order is worked (default: sent as it is; a TWAP or an
    /// iceberg otherwise, [`quant_core::Execution`]).
    pub exec: quant_core::Execution,
}
