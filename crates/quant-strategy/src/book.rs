//! Signal strategies: per-instrument entry and exit [`Rules`] run by one
//! [`Book`] that owns everything else a demanding trader expects around
//! them: the universe filter, the fundamental gate, ranking entries into a
//! limited number of position slots, position sizing (quant-risk's
//! [`Sizing`], rounded to lots by the venue) and protective exits
//! (quant-risk's [`ExitRules`]: stop-loss, take-profit, R-multiple,
//! chandelier ATR trail, time stop).
//!
//! Each day at the close, in this order:
//! 1. every instrument's new bars feed the rules and the book's own ATR,
//!    return-volatility and liquidity averages (every day, schedule or not);
//! 2. a held position is closed (`Sell`, the whole sellable quantity) when
//!    a protective exit fires or the rules ask for an exit — exits are
//!    checked daily whatever the entry schedule;
//! 3. on the run's first day and at the close of each decision day of the
//!    entry schedule (`rebalance`, a [`quant_core::Schedule`] on the run's
//!    calendar: `daily`; `weekly` and `monthly`, the first trading day of
//!    each ISO week or month; `week_end`, `month_end`, … or
//!    `{ every, day, at }`), the instruments that traded
//!    today, are not held, pass the universe filter and the fundamental gate
//!    and whose rules say *enter* are ranked by the rules' score (higher
//!    first; ties: lower instrument index) and bought into the free slots
//!    (`max_positions` minus positions held, counting those being sold
//!    today), each sized by the sizing rule at today's raw close and capped
//!    at `max_weight` of equity and by the cash not yet committed today
//!    (less 0.5 % for fees).
//!
//! Entry prices for the exits are the fill prices, brought onto the signal
//! price basis (raw or back-adjusted) with the fill day's ratio of signal
//! close to raw close, so stops and targets compare like with like.

use chrono::NaiveDate;
use quant_core::{
    AssetClass, Board, Cash, Exchange, Instrument, InstrumentIndex, OrderQty, Schedule,
};
use quant_core::{OrderType, Side};
use quant_indicators::MAX_PERIOD;
use quant_indicators::overlap::{Ma, MaType};
use quant_indicators::statistic::StdDev;
use quant_indicators::volatility::Atr;
use quant_indicators::{Indicator, Ohlcv};
use quant_risk::exits::{ExitRules, OpenTrade};
use quant_risk::sizing::Sizing;
use serde::{Deserialize, Serialize};

use crate::context::{Context, Fundamentals, SeriesView, Signal};
use crate::error::{Error, Result};
use crate::momentum::decides;
use crate::snapshot;

/// Entry and exit rules of a signal strategy, per instrument.
pub trait Rules: Send {
    /// The strategy's name.
    fn name(&self) -> &str;
    /// Prepares per-instrument state for the run's instruments.
    ///
    /// # Errors
    /// [`Error::Config`] when the rules cannot run on this universe.
    fn on_start(&mut self, instruments: &[Instrument]) -> Result<()>;
    /// Feeds instrument `i`'s history; called once per day on which `i`
    /// has new rows, with all of its history so far (the rules keep count
    /// of what they have consumed).
    fn update(&mut self, i: usize, series: SeriesView<'_>);
    /// `Some(score)` when instrument `i` is to be bought today (higher
    /// scores get slots first), `None` otherwise.
    fn entry(&self, i: usize) -> Option<f64>;
    /// True when a held instrument `i` is to be sold today.
    fn exit(&self, i: usize) -> bool;

    /// Feeds instrument `i`'s history as [`Rules::update`] does, with the
    /// day's whole context at hand for rules that also read bars of other
    /// intervals ([`crate::History::series_of`]); called instead of
    /// `update`. The default calls `update`.
    fn update_from(&mut self, i: usize, series: SeriesView<'_>, ctx: &Context<'_>) {
        let _ = ctx;
        self.update(i, series);
    }

    /// Checks, at the first bar a strategy sees, that the run gives what
    /// the rules read (bars of the intervals they name).
    ///
    /// # Errors
    /// [`Error::Config`] naming what is missing; the book then stops (see
    /// [`Book`]). The default: nothing to check.
    fn check(&self, ctx: &Context<'_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Everything the rules have learned from the history so far, for the
    /// book's saved state ([`crate::Strategy::save_state`]).
    ///
    /// # Errors
    /// [`Error::Config`] when the rules cannot save their state (the
    /// default).
    fn save_state(&self) -> Result<Vec<u8>> {
        Err(Error::Config {
            strategy: self.name().to_string(),
            message: "these rules cannot save their state for a snapshot".into(),
        })
    }

    /// Loads a state saved by [`Rules::save_state`] (after
    /// [`Rules::on_start`] with the same instruments).
    ///
    /// # Errors
    /// [`Error::Config`] when the state does not decode or belongs to
    /// other parameters or another universe (the default: always).
    fn load_state(&mut self, state: &[u8]) -> Result<()> {
        let _ = state;
        Err(Error::Config {
            strategy: self.name().to_string(),
            message: "these rules cannot load a saved state".into(),
        })
    }
}

/// The rows of a history of `len` rows not consumed yet (`*fed`
/// onwards); marks them consumed.
pub(crate) fn new_rows(fed: &mut usize, len: usize) -> std::ops::Range<usize> {
    let from = (*fed).min(len);
    *fed = len;
    from..len
}

/// Row `r` of `s` as an indicator bar; `None` for a row the indicators
/// refuse (a high below its low). A column shorter than the closes (a
/// feed breaking [`SeriesView`]'s one-length promise) reads as missing
/// (`NaN`), never out of bounds.
pub(crate) fn ohlcv(s: &SeriesView<'_>, r: usize) -> Option<Ohlcv> {
    Ohlcv::new(
        at(s.open, r),
        at(s.high, r),
        at(s.low, r),
        at(s.close, r),
        at(s.volume, r),
    )
    .ok()
}

/// Row `r` of a history column, `NaN` (missing) past its end.
#[inline]
pub(crate) fn at(col: &[f64], r: usize) -> f64 {
    col.get(r).copied().unwrap_or(f64::NAN)
}

/// Which market an instrument trades in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Market {
    /// China A-shares and funds (SSE, SZSE, BSE).
    Cn,
    /// US exchanges.
    Us,
    /// Crypto spot.
    Crypto,
}

impl Market {
    fn of(exchange: Exchange) -> Self {
        match exchange {
            Exchange::Sse | Exchange::Szse | Exchange::Bse => Self::Cn,
            Exchange::Us => Self::Us,
            Exchange::Crypto => Self::Crypto,
        }
    }
}

/// Which instruments may be bought (`[universe]` in a strategy file,
/// `[strategy.params.universe]` for a library strategy). All optional;
/// indices are never bought.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniverseFilter {
    /// Only this market.
    pub market: Option<Market>,
    /// Only these boards (`main`, `chinext`, `star`, `bse`, or 主板…).
    pub boards: Option<Vec<String>>,
    /// Only these asset classes (`stock`, `etf`, `crypto`).
    pub asset_classes: Option<Vec<AssetClass>>,
    /// Smallest raw close, quote currency.
    pub min_price: Option<f64>,
    /// Smallest average daily turnover over `liquidity_days`, quote
    /// currency (volume × close where the source has no amount).
    pub min_avg_amount: Option<f64>,
    /// Smallest average daily volume over `liquidity_days`, shares.
    pub min_avg_volume: Option<f64>,
    /// Window of the liquidity averages, bars (default 20).
    #[serde(default = "default_liquidity_days")]
    pub liquidity_days: usize,
    /// Leave out risk-warning (ST, *ST) names.
    #[serde(default)]
    pub exclude_st: bool,
    /// Bars of history an instrument needs before it may be bought.
    #[serde(default)]
    pub min_history: usize,
}

fn default_liquidity_days() -> usize {
    20
}

impl Default for UniverseFilter {
    fn default() -> Self {
        Self {
            market: None,
            boards: None,
            asset_classes: None,
            min_price: None,
            min_avg_amount: None,
            min_avg_volume: None,
            liquidity_days: default_liquidity_days(),
            exclude_st: false,
            min_history: 0,
        }
    }
}

/// An inclusive range; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Smallest value allowed.
    pub min: Option<f64>,
    /// Largest value allowed.
    pub max: Option<f64>,
}

impl Range {
    /// True when `x` lies in the range (a NaN never does).
    pub fn contains(&self, x: f64) -> bool {
        !x.is_nan() && self.min.is_none_or(|m| x >= m) && self.max.is_none_or(|m| x <= m)
    }
}

/// What the fundamental gate does with a name whose figure is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Let it through (the gate only judges what it knows).
    #[default]
    Pass,
    /// Keep it out.
    Fail,
}

/// Ranges on point-in-time fundamentals (`[fundamentals]`); applied when
/// the feed has fundamentals ([`crate::History::fundamentals`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundamentalGate {
    /// Price / earnings.
    pub pe: Option<Range>,
    /// Price / book.
    pub pb: Option<Range>,
    /// Return on equity, fraction.
    pub roe: Option<Range>,
    /// Total market value, quote currency.
    pub total_mv: Option<Range>,
    /// Free-float market value, quote currency.
    pub float_mv: Option<Range>,
    /// Unknown figures: `pass` (default) or `fail`.
    #[serde(default)]
    pub missing: Missing,
}

impl FundamentalGate {
    /// True when `f` (None: nothing known) passes every configured range.
    pub fn passes(&self, f: Option<&Fundamentals>) -> bool {
        let checks = [
            (self.pe, f.map(|f| f.pe)),
            (self.pb, f.map(|f| f.pb)),
            (self.roe, f.map(|f| f.roe)),
            (self.total_mv, f.map(|f| f.total_mv)),
            (self.float_mv, f.map(|f| f.float_mv)),
        ];
        checks.iter().all(|&(range, value)| match (range, value) {
            (None, _) => true,
            (Some(r), Some(x)) if !x.is_nan() => r.contains(x),
            (Some(_), _) => self.missing == Missing::Pass,
        })
    }
}

/// What the book does around the rules: slots, sizing, exits, schedule
/// and filters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookParams {
    /// Positions held at most (default 5).
    #[serde(default = "default_max_positions")]
    pub max_positions: usize,
    /// Sizing of a new position (default: equal weight over
    /// `max_positions`).
    #[serde(default)]
    pub sizing: Option<Sizing>,
    /// Largest new position, fraction of equity (default 1: only the
    /// sizing rule and the cash decide). Volatility sizing gives calm
    /// names big positions; this caps them.
    #[serde(default = "default_max_weight")]
    pub max_weight: f64,
    /// Protective exits (default: none).
    #[serde(default)]
    pub exits: ExitRules,
    /// ATR window for the chandelier exit and ATR sizing, bars (default 14).
    #[serde(default = "default_atr_period")]
    pub atr_period: usize,
    /// Entry schedule (default daily).
    #[serde(
        default = "default_schedule",
        deserialize_with = "crate::momentum::rebalance_param"
    )]
    pub rebalance: Schedule,
    /// Which instruments may be bought.
    #[serde(default)]
    pub universe: UniverseFilter,
    /// Ranges on fundamentals.
    #[serde(default)]
    pub fundamentals: Option<FundamentalGate>,
}

fn default_max_positions() -> usize {
    5
}
fn default_max_weight() -> f64 {
    1.0
}
fn default_atr_period() -> usize {
    14
}
fn default_schedule() -> Schedule {
    Schedule::DAILY
}

impl Default for BookParams {
    fn default() -> Self {
        Self {
            max_positions: default_max_positions(),
            sizing: None,
            max_weight: default_max_weight(),
            exits: ExitRules::default(),
            atr_period: default_atr_period(),
            rebalance: default_schedule(),
            universe: UniverseFilter::default(),
            fundamentals: None,
        }
    }
}

/// Most positions a book holds (`max_positions`): 10,000.
pub const MAX_POSITIONS: usize = 10_000;

/// The keys of a library strategy's `[strategy.params]` that belong to the
/// book rather than to the strategy's own parameters.
pub const BOOK_KEYS: [&str; 8] = [
    "max_positions",
    "sizing",
    "max_weight",
    "exits",
    "atr_period",
    "rebalance",
    "universe",
    "fundamentals",
];

impl BookParams {
    /// Splits a library strategy's parameter table: the book's keys
    /// ([`BOOK_KEYS`]) become a [`BookParams`], the rest is returned for
    /// the strategy's own parameters.
    ///
    /// # Errors
    /// [`Error::Config`] for `strategy` naming the bad key.
    pub fn split(strategy: &str, mut table: toml::Table) -> Result<(Self, toml::Table)> {
        let mut own = toml::Table::new();
        for key in BOOK_KEYS {
            if let Some(v) = table.remove(key) {
                own.insert(key.to_string(), v);
            }
        }
        let book = Self::deserialize(toml::Value::Table(own)).map_err(|e| Error::Config {
            strategy: strategy.to_string(),
            message: format!("[strategy.params]: {e}"),
        })?;
        book.validate(strategy)?;
        Ok((book, table))
    }

    /// Checks ranges and names: `max_positions` in [1, [`MAX_POSITIONS`]],
    /// `max_weight` in (0, 1], `atr_period` and `universe.liquidity_days`
    /// in [1, [`MAX_PERIOD`]] bars, `universe.min_history` in [0,
    /// [`MAX_PERIOD`]], the universe's minimums finite and ≥ 0, the
    /// fundamental ranges not NaN with min ≤ max, sizing and exits as
    /// `quant-risk` checks them, a `rebalance` schedule a daily-bar run can
    /// follow (not at a time of day).
    ///
    /// # Errors
    /// [`Error::Config`] naming the key, the value and the allowed range.
    pub fn validate(&self, strategy: &str) -> Result<()> {
        self.check().map_err(|bad| Error::Config {
            strategy: strategy.to_string(),
            // the key as `[strategy.params]` has it: `params.max_positions`
            message: if bad.message.starts_with(&bad.key) {
                format!("params.{}", bad.message)
            } else {
                format!("params.{}: {}", bad.key, bad.message)
            },
        })
    }

    /// [`BookParams::validate`] with the key at fault kept apart from the
    /// message, for callers that name it in their own terms (a strategy
    /// file's `[entry]`/`[exit]` tables).
    pub(crate) fn check(&self) -> std::result::Result<(), Invalid> {
        let bad = |key: &str, message: String| {
            Err(Invalid {
                key: key.to_string(),
                message,
            })
        };
        let count = |key: &str, v: usize, lo: usize, hi: usize| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                bad(key, format!("{key} must be in [{lo}, {hi}], got {v}"))
            }
        };
        count("max_positions", self.max_positions, 1, MAX_POSITIONS)?;
        if !(self.max_weight > 0.0 && self.max_weight <= 1.0) {
            return bad(
                "max_weight",
                format!("max_weight must be in (0, 1], got {:?}", self.max_weight),
            );
        }
        count("atr_period", self.atr_period, 1, MAX_PERIOD)?;
        count(
            "universe.liquidity_days",
            self.universe.liquidity_days,
            1,
            MAX_PERIOD,
        )?;
        count(
            "universe.min_history",
            self.universe.min_history,
            0,
            MAX_PERIOD,
        )?;
        for b in self.universe.boards.iter().flatten() {
            if let Err(e) = Board::parse(b) {
                return bad("universe.boards", format!("universe.boards: {e}"));
            }
        }
        for (key, v) in [
            ("universe.min_price", self.universe.min_price),
            ("universe.min_avg_amount", self.universe.min_avg_amount),
            ("universe.min_avg_volume", self.universe.min_avg_volume),
        ] {
            if let Some(x) = v
                && !(x.is_finite() && x >= 0.0)
            {
                return bad(key, format!("{key} must be a number ≥ 0, got {x:?}"));
            }
        }
        if let Some(g) = &self.fundamentals {
            for (key, r) in [
                ("fundamentals.pe", g.pe),
                ("fundamentals.pb", g.pb),
                ("fundamentals.roe", g.roe),
                ("fundamentals.total_mv", g.total_mv),
                ("fundamentals.float_mv", g.float_mv),
            ] {
                let Some(Range { min, max }) = r else {
                    continue;
                };
                if min.is_some_and(f64::is_nan) || max.is_some_and(f64::is_nan) {
                    return bad(key, format!("{key}: min and max must be numbers, not NaN"));
                }
                if let (Some(lo), Some(hi)) = (min, max)
                    && lo > hi
                {
                    return bad(key, format!("{key}: min {lo} is above max {hi}"));
                }
            }
        }
        // quant-risk names its own keys (`sizing.fraction`, `exits.stop_loss`)
        let risk = |table: &str, e: quant_risk::Error| {
            let key = match &e {
                quant_risk::Error::Setting { key, .. } => (*key).to_string(),
                _ => table.to_string(),
            };
            bad(&key, e.to_string())
        };
        if let Some(s) = &self.sizing
            && let Err(e) = s.validate()
        {
            return risk("sizing", e);
        }
        if let Err(e) = self.exits.validate() {
            return risk("exits", e);
        }
        if let Err(e) = self.rebalance.check_daily() {
            return bad("rebalance", format!("rebalance: {e}"));
        }
        Ok(())
    }

    fn sizing(&self) -> Sizing {
        self.sizing.clone().unwrap_or(Sizing::EqualWeight {
            positions: u32::try_from(self.max_positions).unwrap_or(u32::MAX),
        })
    }
}

/// A book parameter out of range: its key in the book's own terms
/// (`max_positions`, `universe.min_price`, `sizing.fraction`,
/// `exits.stop_loss`…) and the message naming it.
#[derive(Debug, Clone)]
pub(crate) struct Invalid {
    pub(crate) key: String,
    pub(crate) message: String,
}

/// Per-instrument state of the book.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Slot {
    /// Rows of history consumed.
    fed: usize,
    atr: Atr,
    last_atr: Option<f64>,
    ret_sd: StdDev,
    last_sd: Option<f64>,
    prev_close: f64,
    avg_amount: Ma,
    last_amount: Option<f64>,
    avg_volume: Ma,
    last_volume: Option<f64>,
    /// The open trade the exits track.
    trade: Option<OpenTrade>,
    /// Raw price of the newest buy fill not yet turned into a trade.
    filled_at: Option<(NaiveDate, f64)>,
    /// Today's protective exit fired.
    exit_fired: bool,
}

impl Slot {
    fn new(params: &BookParams) -> Result<Self> {
        let ind = |e: quant_indicators::Error| Error::Config {
            strategy: "book".into(),
            message: e.to_string(),
        };
        let days = params.universe.liquidity_days;
        Ok(Self {
            fed: 0,
            atr: Atr::new(params.atr_period).map_err(ind)?,
            last_atr: None,
            ret_sd: StdDev::new(20, 1.0).map_err(ind)?,
            last_sd: None,
            prev_close: f64::NAN,
            avg_amount: Ma::new(MaType::Sma, days).map_err(ind)?,
            last_amount: None,
            avg_volume: Ma::new(MaType::Sma, days).map_err(ind)?,
            last_volume: None,
            trade: None,
            filled_at: None,
            exit_fired: false,
        })
    }
}

/// A book's saved state, as written.
#[derive(Serialize)]
struct BookStateRef<'a> {
    started: bool,
    slots: &'a [Slot],
    /// The rules' own saved state ([`Rules::save_state`]).
    rules: Vec<u8>,
}

/// A book's saved state, as read.
#[derive(Deserialize)]
struct BookState {
    started: bool,
    slots: Vec<Slot>,
    rules: Vec<u8>,
}

/// Runs [`Rules`] with slots, sizing, exits, schedule and filters; see the
/// module docs.
///
/// At the first bar it sees (after a start or a load), the book asks
/// [`Rules::check`] whether the run gives what the rules read. When it
/// does not, the book stops: it sends no order from then on, its
/// [`Book::fault`] says why and [`crate::Strategy::save_state`] refuses
/// with that message. ([`crate::Strategy::on_bar`] cannot return an
/// error; a runner that knows the run's interval beforehand refuses such
/// a file at load: [`crate::rules::file::StrategyFile::check_interval`].)
pub struct Book<R> {
    rules: R,
    params: BookParams,
    sizing: Sizing,
    boards: Option<Vec<Board>>,
    slots: Vec<Slot>,
    tradable: Vec<bool>,
    /// True once the run's first bar has been seen.
    started: bool,
    /// True once [`Rules::check`] has been asked (not saved: asked again
    /// after a load).
    checked: bool,
    /// Why the book stopped, when [`Rules::check`] refused the run.
    fault: Option<Error>,
}

impl<R: Rules> Book<R> {
    /// A book around `rules`.
    ///
    /// # Errors
    /// [`Error::Config`] from [`BookParams::validate`].
    pub fn new(rules: R, params: BookParams) -> Result<Self> {
        params.validate(rules.name())?;
        // the indicator windows are built here once, so a window the
        // indicators refuse is an error now rather than at the run's start
        Slot::new(&params)?;
        let boards = params
            .universe
            .boards
            .as_ref()
            .map(|bs| bs.iter().filter_map(|b| Board::parse(b).ok()).collect());
        Ok(Self {
            sizing: params.sizing(),
            rules,
            params,
            boards,
            slots: Vec::new(),
            tradable: Vec::new(),
            started: false,
            checked: false,
            fault: None,
        })
    }

    /// The rules.
    pub fn rules(&self) -> &R {
        &self.rules
    }

    /// Why the book stopped trading at its first bar ([`Rules::check`]
    /// refused the run), `None` while it trades.
    pub fn fault(&self) -> Option<&Error> {
        self.fault.as_ref()
    }

    fn feed(&mut self, i: usize, s: SeriesView<'_>) {
        let slot = &mut self.slots[i];
        for r in new_rows(&mut slot.fed, s.len()) {
            if let Some(bar) = ohlcv(&s, r) {
                slot.last_atr = slot.atr.update(bar);
            }
            let c = at(s.close, r);
            if slot.prev_close > 0.0 {
                slot.last_sd = slot.ret_sd.update(c / slot.prev_close - 1.0);
            }
            slot.prev_close = c;
            let volume = at(s.volume, r);
            let amount = match at(s.amount, r) {
                a if a.is_finite() => a,
                _ => volume * c,
            };
            slot.last_amount = slot.avg_amount.update(amount);
            slot.last_volume = slot.avg_volume.update(volume);
            if let Some(t) = &mut slot.trade
                && t.on_bar(&self.params.exits, at(s.high, r), c, slot.last_atr)
                    .is_some()
            {
                slot.exit_fired = true;
            }
        }
    }

    fn eligible(&self, ctx: &Context<'_>, i: usize) -> bool {
        let inst = &ctx.instruments[i];
        let u = &self.params.universe;
        let slot = &self.slots[i];
        let Some(bar) = ctx.bars[i] else {
            return false;
        };
        self.tradable[i]
            && u.market.is_none_or(|m| m == Market::of(inst.exchange))
            && self.boards.as_ref().is_none_or(|b| b.contains(&inst.board))
            && u.asset_classes
                .as_ref()
                .is_none_or(|a| a.contains(&inst.asset_class))
            && !(u.exclude_st && inst.st)
            && u.min_price.is_none_or(|p| bar.close >= p)
            && u.min_avg_amount
                .is_none_or(|m| slot.last_amount.is_some_and(|a| a >= m))
            && u.min_avg_volume
                .is_none_or(|m| slot.last_volume.is_some_and(|v| v >= m))
            && slot.fed >= u.min_history
            && self.params.fundamentals.as_ref().is_none_or(|g| {
                g.passes(ctx.history.fundamentals(InstrumentIndex(i as u32)).as_ref())
            })
    }
}

impl<R: Rules> crate::Strategy for Book<R> {
    fn name(&self) -> &str {
        self.rules.name()
    }

    fn fault(&self) -> Option<String> {
        self.fault.as_ref().map(ToString::to_string)
    }

    fn on_start(&mut self, instruments: &[Instrument]) -> Result<()> {
        self.tradable = instruments
            .iter()
            .map(|i| i.asset_class != AssetClass::Index)
            .collect();
        self.slots = (0..instruments.len())
            .map(|_| Slot::new(&self.params))
            .collect::<Result<_>>()?;
        self.started = false;
        self.checked = false;
        self.fault = None;
        self.rules.on_start(instruments)
    }

    /// The first-bar flag, every instrument's slot (ATR, return volatility
    /// and liquidity averages, the open trade the exits track, the newest
    /// buy fill, a fired exit) and the rules' own state.
    fn save_state(&self) -> Result<Vec<u8>> {
        if let Some(e) = &self.fault {
            return Err(snapshot::state_error(
                self.rules.name(),
                format!("the strategy stopped at its first bar: {e}"),
            ));
        }
        let state = BookStateRef {
            started: self.started,
            slots: &self.slots,
            rules: self.rules.save_state()?,
        };
        let params = snapshot::fingerprint(&self.params);
        snapshot::save(self.rules.name(), &params, self.tradable.len(), &state)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<()> {
        let (name, n) = (self.rules.name(), self.tradable.len());
        let params = snapshot::fingerprint(&self.params);
        let s: BookState = snapshot::load(name, &params, n, state)?;
        snapshot::check_len(name, "book slots", s.slots.len(), n)?;
        self.rules.load_state(&s.rules)?;
        self.slots = s.slots;
        self.started = s.started;
        self.checked = false;
        self.fault = None;
        Ok(())
    }

    fn on_fill(&mut self, fill: &quant_core::Fill) {
        if fill.side == Side::Buy
            && let Some(slot) = self.slots.get_mut(fill.instrument.get())
        {
            slot.filled_at = Some((fill.date, fill.price.to_f64()));
        }
    }

    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>) {
        if !std::mem::replace(&mut self.checked, true) {
            self.fault = self.rules.check(ctx).err();
        }
        if self.fault.is_some() {
            return;
        }
        let n = ctx.instruments.len();
        for i in 0..n {
            if !self.tradable[i] {
                continue;
            }
            let s = ctx.history.series(InstrumentIndex(i as u32));
            if s.len() > self.slots[i].fed {
                self.rules.update_from(i, s, ctx);
                self.feed(i, s);
            }
        }
        // open trades follow the positions
        for i in 0..n {
            let held = !ctx.positions[i].is_flat();
            let slot = &mut self.slots[i];
            if !held {
                slot.trade = None;
                slot.filled_at = None;
                slot.exit_fired = false;
                continue;
            }
            if slot.trade.is_none() {
                // the fill's raw price on the signal basis of today's bar
                let basis = match (
                    ctx.bars[i],
                    ctx.history.last_close(InstrumentIndex(i as u32)),
                ) {
                    (Some(b), Some(sig)) if b.close > 0.0 => sig / b.close,
                    _ => 1.0,
                };
                let entry = slot.filled_at.map_or(slot.prev_close, |(_, p)| p * basis);
                slot.trade = Some(OpenTrade::new(entry));
                slot.exit_fired = false;
            }
        }
        let mut held = 0usize;
        for i in 0..n {
            if ctx.positions[i].is_flat() {
                continue;
            }
            held += 1;
            let slot = &mut self.slots[i];
            let fired = std::mem::take(&mut slot.exit_fired);
            if ctx.positions[i].sellable.0 > rust_decimal::Decimal::ZERO
                && (fired || self.rules.exit(i))
            {
                out.push(Signal::Order {
                    instrument: InstrumentIndex(i as u32),
                    side: Side::Sell,
                    qty: OrderQty::AllPosition,
                    order_type: OrderType::Market,
                });
            }
        }
        // entries from the run's first close on, then on the schedule's
        // decision days (the period-change rule of old counted the first
        // close as a new period: `weekly`/`monthly` outputs stay the same)
        let first = !std::mem::replace(&mut self.started, true);
        let due = first || decides(&self.params.rebalance, ctx);
        let free = self.params.max_positions.saturating_sub(held);
        if !due || free == 0 {
            return;
        }
        let mut candidates: Vec<(f64, usize)> = (0..n)
            .filter(|&i| ctx.positions[i].is_flat() && self.eligible(ctx, i))
            .filter_map(|i| self.rules.entry(i).map(|s| (s, i)))
            .filter(|(s, _)| !s.is_nan())
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut budget = ctx.cash.to_f64() * 0.995;
        for &(_, i) in candidates.iter().take(free) {
            let Some(bar) = ctx.bars[i] else { continue };
            let slot = &self.slots[i];
            let raw_per_signal = match ctx.history.last_close(InstrumentIndex(i as u32)) {
                Some(sig) if sig > 0.0 => bar.close / sig,
                _ => 1.0,
            };
            let vol = match self.sizing {
                Sizing::AtrTarget { .. } => slot.last_atr.map(|a| a * raw_per_signal),
                Sizing::StddevTarget { .. } => slot.last_sd,
                _ => None,
            };
            let value = (self.sizing.shares(ctx.equity, bar.close, vol) * bar.close)
                .min(self.params.max_weight * ctx.equity)
                .min(budget);
            if value.is_nan() || value <= 0.0 {
                continue;
            }
            let Ok(cash) = Cash::from_f64_cents(value) else {
                continue;
            };
            budget -= value;
            out.push(Signal::Order {
                instrument: InstrumentIndex(i as u32),
                side: Side::Buy,
                qty: OrderQty::Value(cash),
                order_type: OrderType::Market,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_gate() {
        let r = Range {
            min: Some(0.0),
            max: Some(30.0),
        };
        assert!(r.contains(0.0) && r.contains(30.0) && !r.contains(30.1) && !r.contains(f64::NAN));
        let d = NaiveDate::from_ymd_opt(2021, 1, 4).unwrap();
        let mut f = Fundamentals::unknown(d);
        let gate = FundamentalGate {
            pe: Some(r),
            ..Default::default()
        };
        // unknown PE passes by default, fails with missing = fail
        assert!(gate.passes(Some(&f)) && gate.passes(None));
        let strict = FundamentalGate {
            missing: Missing::Fail,
            ..gate.clone()
        };
        assert!(!strict.passes(Some(&f)) && !strict.passes(None));
        f.pe = 45.0;
        assert!(!gate.passes(Some(&f)));
        f.pe = 12.0;
        assert!(gate.passes(Some(&f)) && strict.passes(Some(&f)));
    }

    #[test]
    fn split_and_validate() {
        let t: toml::Table = toml::from_str(
            "fast = 5\nmax_positions = 3\n[sizing]\nmethod = \"fixed_fraction\"\nfraction = 0.2\n[exits]\nstop_loss = 0.1",
        )
        .unwrap();
        let (book, rest) = BookParams::split("x", t).unwrap();
        assert_eq!(book.max_positions, 3);
        assert_eq!(book.exits.stop_loss, Some(0.1));
        assert_eq!(rest.keys().collect::<Vec<_>>(), ["fast"]);
        let bad = |text: &str| {
            let t: toml::Table = toml::from_str(text).unwrap();
            BookParams::split("x", t).err().unwrap().to_string()
        };
        assert!(bad("max_positions = 0").contains("max_positions"));
        assert!(bad("[universe]\nboards = [\"moon\"]").contains("universe.boards"));
        assert!(bad("[exits]\nstop_loss = 1.5").contains("exits.stop_loss"));
        assert!(bad("[sizing]\nmethod = \"fixed_fraction\"\nfraction = 2").contains("fraction"));
        assert!(bad("[fundamentals]\npe = { min = 30, max = 10 }").contains("fundamentals.pe"));
        assert!(bad("[universe]\nmin_pricee = 3").contains("min_pricee"));
    }
}
