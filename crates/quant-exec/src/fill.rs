//! Fill models of the simulated venue as pure functions: whether an order
//! fills on one bar, at which price and for how many units.
//!
//! Nothing here reads a clock, a random source or a file, and the per-bar
//! functions do not allocate: the same bar and order always give the same
//! answer. The venue owns the orders and calls these functions bar by bar
//! (the sources of each rule are in the table below; `runtime.md` is
//! `shared/docs/runtime.md`, section "Simulated venue"):
//!
//! 1. [`eligible`]: has the order's latency passed for this bar?
//! 2. [`TickBar::new`]: the bar's prices on the tick grid; no bar, zero
//!    volume → [`NoFill::Suspended`].
//! 3. [`trigger`]: does the order's kind fill on this bar, and at which
//!    model price (before slippage)? ([`Trigger`])
//! 4. [`price_limit_check`]: A-share limit-up / limit-down.
//! 5. [`max_fill_units`]: the quantity, capped by a share of the bar's
//!    volume and rounded down to board lots.
//! 6. [`Slippage::bps`] and [`slipped_price`]: the fill price, moved
//!    against the trader, on the tick grid, inside the bar and never
//!    through the order's limit.
//! 7. after the bar: [`trail_after_bar`] for trailing stops.
//!
//! [`fill_on_bar`] chains steps 3–6 for one order on one bar.
//!
//! | rule | implementation | source |
//! |---|---|---|
//! | market order | [`FillModel::NextOpen`]: the open; [`FillModel::SameClose`]: the close; [`FillModel::Vwap`]: `amount / volume` of the bar, else the typical price `(high + low + close) / 3` | runtime.md; `docs/market-rules.md` (next open / same close as in `sim.rs`); typical price as in TA-Lib `TYPPRICE` |
//! | market-on-open / -on-close | the open / the close (the opening and closing call auctions) | `shared/docs/protocols/a-share-rules.md` §2 |
//! | limit (resting across bars) | buy fills when `low ≤ limit` at `min(open, limit)`: a gap down through the limit fills at the better open; sell when `high ≥ limit` at `max(open, limit)`. [`LimitFill::Through`] (queue-position pessimism): the price must trade through the limit (`low < limit` for a buy), a touch is not enough | runtime.md ("limit orders resting until touched, with queue-position pessimism option") |
//! | stop | buy triggers when `high ≥ stop`, fills at `max(open, stop)`; sell when `low ≤ stop`, at `min(open, stop)`: a gap through the stop fills at the open | runtime.md ("stop triggers on the bar's range, gaps fill at the open") |
//! | stop-limit | triggers as a stop; see [`stop_limit_trigger`] for the conservative rule on the trigger bar | as stop and limit |
//! | trailing stop | a stop whose level follows the best price (high for a sell, low for a buy) of bars that have **closed**: a bar triggers only against the level of earlier bars | [`trail_after_bar`]; no look-ahead (`docs/ARCHITECTURE.md`, determinism) |
//! | price limits | a buy is blocked at or above limit-up, a sell at or below limit-down ([`PriceLimitRule::AtLimit`], as `sim.rs` does today), or only when the bar shows no trade off the limit ([`PriceLimitRule::LockedBar`]) | `quant_core::rules::MarketRules::price_limit`, `a-share-rules.md` §1 |
//! | suspension | no bar, zero or NaN volume: no fill | `a-share-rules.md` §6; `quant_core::Bar::is_suspended` |
//! | volume cap | at most `participation × bar volume` units per bar, rounded down to lots (STAR: 200 minimum, then 1-share steps); a sell of the whole sellable position may include an odd lot | runtime.md; `MarketRules::round_buy` / `round_sell`, `a-share-rules.md` §3 |
//! | slippage | fixed bps, or `k × (units / bar volume)^exponent` bps (square-root impact at 0.5), applied against the trader, snapped to the tick against the trader, inside `[low, high]` and never through a limit | runtime.md; Almgren, Thum, Hauptmann & Li (2005); Tóth et al. (2011), see [`Slippage`] |
//! | latency | whole bars, or milliseconds to the first bar whose open is at or after submit + latency | runtime.md |
//!
//! Units: prices in the instrument's quote currency (CNY for A-shares),
//! quantities in shares (coins for crypto), slippage in basis points (1 bp
//! = 0.01 %), participation and trail fractions as fractions (0.1 = 10 %).
//!
//! What is left unfilled on a bar (not touched, blocked by a price limit,
//! beyond the volume cap) is the venue's to keep working or to expire by
//! the order's time in force; these functions never decide that.

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::{Deserialize, Serialize};

use quant_core::money::decimal_to_f64;
use quant_core::{
    AssetClass, Bar, Instrument, Interval, MarketRules, OrderType, Price, PriceLimit, Quantity,
    Side, Trail, UnixNanos,
};

use crate::error::{Error, Result};

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

/// The price at which a market order fills on its fill bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillModel {
    /// The bar's open (orders decided at a close fill at the next bar's
    /// open; the default, as in `sim.rs`).
    #[default]
    NextOpen,
    /// The bar's close (the venue hands the decision bar itself; see
    /// [`TickBar::close_only`] for the other order kinds).
    SameClose,
    /// The bar's volume-weighted average price, `amount / volume`, or the
    /// typical price `(high + low + close) / 3` when the bar has no
    /// turnover ([`TickBar::vwap`]).
    Vwap,
}

/// When a resting limit order counts as reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitFill {
    /// A trade at the limit fills it (`low ≤ limit` for a buy): the order is
    /// assumed at the front of the queue at its price. Default.
    #[default]
    Touch,
    /// Queue-position pessimism: the price must trade through the limit
    /// (`low < limit` for a buy, `high > limit` for a sell); a bar that only
    /// touches the limit may have filled the queue ahead of the order.
    Through,
}

/// When an A-share price limit blocks a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceLimitRule {
    /// A buy never fills at or above limit-up, a sell never at or below
    /// limit-down (today's `sim.rs` and `docs/market-rules.md`). Default.
    #[default]
    AtLimit,
    /// A buy at limit-up is blocked only when the bar never traded below
    /// limit-up (`low ≥ limit-up`: locked all bar, e.g. open = high = low =
    /// limit-up), a sell at limit-down only when it never traded above it;
    /// a board that opened during the bar is assumed to have filled the
    /// order at the limit price.
    LockedBar,
}

/// Largest share of a bar's volume one order may take, a fraction in (0, 1]
/// (0.1 = at most 10 % of the bar's volume).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Participation(f64);

impl Participation {
    /// The whole bar's volume (1.0).
    pub const FULL: Self = Self(1.0);

    /// A participation of `fraction` of the bar's volume.
    ///
    /// # Errors
    /// [`Error::Setting`] (key `participation`) unless `fraction` lies in
    /// (0, 1].
    pub fn new(fraction: f64) -> Result<Self> {
        if fraction > 0.0 && fraction <= 1.0 {
            Ok(Self(fraction))
        } else {
            Err(Error::Setting {
                key: "participation".into(),
                value: fraction.to_string(),
                expected: "a fraction of the bar's volume in (0, 1]".into(),
            })
        }
    }

    /// The fraction (0.1 = 10 %).
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Participation {
    type Error = Error;

    fn try_from(fraction: f64) -> Result<Self> {
        Self::new(fraction)
    }
}

impl From<Participation> for f64 {
    fn from(p: Participation) -> Self {
        p.0
    }
}

/// Largest fixed slippage and largest impact coefficient, in basis points:
/// 1,000 bps = 10 %, the A-share main board's daily price limit (the same
/// bound as `sim::MAX_SLIPPAGE_BPS`).
pub const MAX_SLIPPAGE_BPS: f64 = 1000.0;

/// Largest exponent of [`Slippage::VolumeShare`] (2: quadratic impact;
/// the literature's estimates lie between 0.4 and 1).
pub const MAX_IMPACT_EXPONENT: f64 = 2.0;

/// How far a fill price moves against the trader from the model price
/// (buys up, sells down), in basis points of the model price.
///
/// The volume-share model is the "square-root law" of market impact in
/// its simplest form: impact ≈ Y σ √(Q / V) (Tóth, Lempérière, Deremble,
/// de Lataillade, Kockelkoren & Bouchaud, "Anomalous price impact and the
/// critical nature of liquidity in financial markets", Phys. Rev. X 1,
/// 021006, 2011), generalised to an exponent as in Almgren, Thum,
/// Hauptmann & Li, "Direct estimation of equity market impact", Risk 18(7),
/// 2005 (temporary impact exponent estimated near 3/5). `k_bps` stands for
/// `Y σ` (the daily volatility in bps times a constant of order one), so
/// it is per instrument in reality and one number here.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slippage {
    /// A fixed number of basis points (5 = 0.05 %), any size.
    Bps(f64),
    /// `k_bps × (units / bar volume)^exponent` basis points, where `units`
    /// is what fills on the bar (after the volume cap).
    VolumeShare {
        /// Impact, in basis points, of an order the size of the bar's whole
        /// volume.
        k_bps: f64,
        /// Exponent of the volume share (0.5 = square-root impact, 1 =
        /// linear).
        exponent: f64,
    },
}

impl Default for Slippage {
    fn default() -> Self {
        Self::Bps(0.0)
    }
}

impl Slippage {
    /// The slippage in basis points for `units` filling on a bar that
    /// traded `bar_volume` units. Monotone non-decreasing in `units`. A
    /// volume that is zero, negative or NaN counts as a share of 1 (such a
    /// bar is a suspension and never fills); negative or NaN results count
    /// as 0 (slippage never improves a price).
    pub fn bps(&self, units: Quantity, bar_volume: f64) -> f64 {
        let clean = |x: f64| if x > 0.0 { x } else { 0.0 };
        match *self {
            Self::Bps(b) => clean(b),
            Self::VolumeShare { k_bps, exponent } => {
                let u = units.to_f64();
                if u.is_nan() || u <= 0.0 {
                    return 0.0;
                }
                let share = if bar_volume > 0.0 {
                    u / bar_volume
                } else {
                    1.0
                };
                clean(clean(k_bps) * share.powf(exponent))
            }
        }
    }

    /// Checks the ranges: bps and `k_bps` in [0, [`MAX_SLIPPAGE_BPS`]],
    /// `exponent` in (0, [`MAX_IMPACT_EXPONENT`]].
    ///
    /// # Errors
    /// [`Error::Setting`] naming `slippage.bps`,
    /// `slippage.volume_share.k_bps` or `slippage.volume_share.exponent`,
    /// the value and the range.
    pub fn validate(&self) -> Result<()> {
        let bps_range = |key: &str, v: f64| {
            if (0.0..=MAX_SLIPPAGE_BPS).contains(&v) {
                Ok(())
            } else {
                Err(Error::Setting {
                    key: key.into(),
                    value: v.to_string(),
                    expected: format!("must lie in [0, {MAX_SLIPPAGE_BPS}] basis points"),
                })
            }
        };
        match *self {
            Self::Bps(b) => bps_range("slippage.bps", b),
            Self::VolumeShare { k_bps, exponent } => {
                bps_range("slippage.volume_share.k_bps", k_bps)?;
                if exponent > 0.0 && exponent <= MAX_IMPACT_EXPONENT {
                    Ok(())
                } else {
                    Err(Error::Setting {
                        key: "slippage.volume_share.exponent".into(),
                        value: exponent.to_string(),
                        expected: format!("must lie in (0, {MAX_IMPACT_EXPONENT}]"),
                    })
                }
            }
        }
    }
}

/// Largest latency in bars (1,000: about four years of daily bars).
pub const MAX_LATENCY_BARS: u32 = 1000;

/// Largest latency in milliseconds (86,400,000: one day).
pub const MAX_LATENCY_MILLIS: u64 = 86_400_000;

/// How long after its submission an order reaches the venue's book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Latency {
    /// An order submitted during bar t is first eligible on bar t + 1 + n
    /// (0: the next bar, the default).
    Bars(u32),
    /// An order is first eligible on the first bar after its submission
    /// bar whose **open** instant is at or after the submit instant plus
    /// this many milliseconds.
    Millis(u64),
}

impl Default for Latency {
    fn default() -> Self {
        Self::Bars(0)
    }
}

impl Latency {
    /// Checks the ranges: bars in [0, [`MAX_LATENCY_BARS`]], milliseconds in
    /// [0, [`MAX_LATENCY_MILLIS`]].
    ///
    /// # Errors
    /// [`Error::Setting`] naming `latency.bars` or `latency.millis`, the
    /// value and the range.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Self::Bars(n) if n > MAX_LATENCY_BARS => Err(Error::Setting {
                key: "latency.bars".into(),
                value: n.to_string(),
                expected: format!("must lie in [0, {MAX_LATENCY_BARS}] bars"),
            }),
            Self::Millis(ms) if ms > MAX_LATENCY_MILLIS => Err(Error::Setting {
                key: "latency.millis".into(),
                value: ms.to_string(),
                expected: format!("must lie in [0, {MAX_LATENCY_MILLIS}] milliseconds"),
            }),
            _ => Ok(()),
        }
    }
}

/// Checks a trailing stop's trail ([`quant_core::Trail`]): an amount above
/// zero, a fraction in (0, 1).
///
/// # Errors
/// [`Error::Setting`] naming `trail.amount` or `trail.fraction`.
pub fn validate_trail(trail: &Trail) -> Result<()> {
    match *trail {
        Trail::Amount(p) if p.0 <= Decimal::ZERO => Err(Error::Setting {
            key: "trail.amount".into(),
            value: p.to_string(),
            expected: "must be above 0 (quote currency)".into(),
        }),
        Trail::Fraction(f) if f <= Decimal::ZERO || f >= Decimal::ONE => Err(Error::Setting {
            key: "trail.fraction".into(),
            value: f.to_string(),
            expected: "must lie in (0, 1) (0.05 = 5 %)".into(),
        }),
        _ => Ok(()),
    }
}

/// The fill settings of a simulated venue, as a run config will carry them
/// (every key optional; the defaults reproduce today's next-open venue
/// without slippage).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FillConfig {
    /// Market-order price.
    pub model: FillModel,
    /// Touch or trade-through for resting limits.
    pub limit_fill: LimitFill,
    /// Largest share of a bar's volume per order and bar; `None` = no cap.
    pub participation: Option<Participation>,
    /// Slippage model.
    pub slippage: Slippage,
    /// Order latency ([`eligible`]; not read by [`fill_on_bar`]).
    pub latency: Latency,
    /// When price limits block.
    pub price_limits: PriceLimitRule,
}

impl FillConfig {
    /// Checks slippage and latency ranges (participation is checked when
    /// it is built or read).
    ///
    /// # Errors
    /// [`Error::Setting`] from [`Slippage::validate`] or
    /// [`Latency::validate`].
    pub fn validate(&self) -> Result<()> {
        self.slippage.validate()?;
        self.latency.validate()
    }
}

// ---------------------------------------------------------------------------
// Bars
// ---------------------------------------------------------------------------

/// One bar as the fill functions read it: raw (unadjusted) prices in quote
/// currency, volume in shares (coins), turnover in quote currency (NaN when
/// unknown). Daily bars convert with `From<&Bar>`; intraday series fill the
/// fields from their columns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarInput {
    /// Opening price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Closing price.
    pub close: f64,
    /// Traded volume (0 or NaN: no trading).
    pub volume: f64,
    /// Turnover (NaN when unknown).
    pub amount: f64,
}

impl From<&Bar> for BarInput {
    fn from(b: &Bar) -> Self {
        Self {
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
            amount: b.amount,
        }
    }
}

/// A tradable bar with its prices on the instrument's tick grid (decimal,
/// quote currency), checked once so that every fill function can rely on
/// `0 < low ≤ open, close, vwap ≤ high`. Build one per instrument and bar
/// with [`TickBar::new`] and hand it to every order of that instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickBar {
    open: Price,
    high: Price,
    low: Price,
    close: Price,
    vwap: Price,
    vwap_from_turnover: bool,
    volume: f64,
    tick: Decimal,
}

/// `x` rounded down to a multiple of `tick`; `None` on decimal overflow.
fn floor_tick(x: Decimal, tick: Decimal) -> Option<Decimal> {
    Some(x.checked_div(tick)?.floor().checked_mul(tick)?.normalize())
}

/// `x` rounded up to a multiple of `tick`; `None` on decimal overflow.
fn ceil_tick(x: Decimal, tick: Decimal) -> Option<Decimal> {
    Some(x.checked_div(tick)?.ceil().checked_mul(tick)?.normalize())
}

impl TickBar {
    /// Checks `bar` and snaps its prices half-up to multiples of `tick`
    /// (quote currency) with quant-core's [`Price::from_f64_tick`]: exchange
    /// prices are on the grid already and stay exact; off-grid (adjusted)
    /// prices move to the nearest tick. The VWAP is `amount / volume` when
    /// that lies within the bar's range (half a tick of tolerance for a
    /// rounded turnover), else the typical price `(high + low + close) / 3`
    /// (turnover unknown, or in other units than price × volume); snapped
    /// and kept inside `[low, high]`.
    ///
    /// # Errors
    /// [`NoFill::Suspended`] for a zero, negative or NaN volume (no trading,
    /// as [`Bar::is_suspended`]); [`NoFill::BadBar`] for an infinite
    /// volume, a tick that is not positive, a price that is not finite and
    /// positive on the grid, or a range that does not hold open and close.
    pub fn new(bar: &BarInput, tick: Decimal) -> Result<Self, NoFill> {
        if tick <= Decimal::ZERO {
            return Err(NoFill::BadBar);
        }
        if bar.volume.is_nan() || bar.volume <= 0.0 {
            return Err(NoFill::Suspended);
        }
        if !bar.volume.is_finite() {
            return Err(NoFill::BadBar);
        }
        let snap = |x: f64| Price::from_f64_tick(x, tick).map_err(|_| NoFill::BadBar);
        let (open, high, low, close) = (
            snap(bar.open)?,
            snap(bar.high)?,
            snap(bar.low)?,
            snap(bar.close)?,
        );
        if low.0 <= Decimal::ZERO || low > open || low > close || high < open || high < close {
            return Err(NoFill::BadBar);
        }
        let half = decimal_to_f64(tick) / 2.0;
        let turnover = bar.amount / bar.volume;
        let from_turnover =
            turnover.is_finite() && turnover >= bar.low - half && turnover <= bar.high + half;
        let raw = if from_turnover {
            turnover
        } else {
            (bar.high + bar.low + bar.close) / 3.0
        };
        let vwap = snap(raw).unwrap_or(close).clamp(low, high);
        Ok(Self {
            open,
            high,
            low,
            close,
            vwap,
            vwap_from_turnover: from_turnover,
            volume: bar.volume,
            tick,
        })
    }

    /// The one-price bar of the closing auction: open, high, low and VWAP
    /// all at this bar's close, same volume. Under
    /// [`FillModel::SameClose`] the venue evaluates an order decided at a
    /// close against this on the decision bar (only the closing price is
    /// still to come then), and against whole bars afterwards.
    pub fn close_only(&self) -> Self {
        Self {
            open: self.close,
            high: self.close,
            low: self.close,
            vwap: self.close,
            vwap_from_turnover: false,
            ..*self
        }
    }

    /// Opening price.
    pub fn open(&self) -> Price {
        self.open
    }

    /// Highest price.
    pub fn high(&self) -> Price {
        self.high
    }

    /// Lowest price.
    pub fn low(&self) -> Price {
        self.low
    }

    /// Closing price.
    pub fn close(&self) -> Price {
        self.close
    }

    /// Volume-weighted average price (see [`TickBar::new`]).
    pub fn vwap(&self) -> Price {
        self.vwap
    }

    /// True when [`TickBar::vwap`] is `amount / volume`, false when it is
    /// the typical-price fallback.
    pub fn vwap_from_turnover(&self) -> bool {
        self.vwap_from_turnover
    }

    /// Traded volume (shares, coins), above zero.
    pub fn volume(&self) -> f64 {
        self.volume
    }

    /// The tick size the prices are on (quote currency).
    pub fn tick(&self) -> Decimal {
        self.tick
    }

    /// True when `price` lies in `[low, high]`.
    pub fn contains(&self, price: Price) -> bool {
        self.low <= price && price <= self.high
    }
}

// ---------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------

/// What an order's kind does on one bar, before price limits, volume and
/// slippage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Not reached (limit not touched, stop not triggered): the order works
    /// on unchanged.
    Pending,
    /// A stop-limit's stop fired but its limit could not be reached on this
    /// bar: from the next bar on it is a plain limit order at its limit.
    Triggered,
    /// Fills at this model price (quote currency, on the grid, inside the
    /// bar). For a stop or stop-limit this also means it fired: whatever
    /// does not fill on this bar (price limit, volume cap) works on as a
    /// market order (stop, trailing stop) or a limit order (stop-limit).
    Fill(Price),
}

/// Why an order did not fill on a bar. Not an error: the venue keeps the
/// order working or ends it by its time in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoFill {
    /// No bar, or zero volume.
    Suspended,
    /// The bar's prices are unusable (not finite or positive, high below
    /// low) or the tick is not positive.
    BadBar,
    /// The instrument cannot be traded (an index).
    NotTradable,
    /// The limit was not touched or the stop not triggered.
    Pending,
    /// A stop-limit triggered but its limit was out of reach (see
    /// [`Trigger::Triggered`]).
    Triggered,
    /// A buy at or above limit-up ([`PriceLimitRule`]).
    LimitUp,
    /// A sell at or below limit-down.
    LimitDown,
    /// The order's remaining quantity is below one board lot.
    BelowLot,
    /// A sell with nothing sellable (no position, or all bought today under
    /// T+1).
    NothingSellable,
    /// The volume cap leaves less than one board lot on this bar.
    VolumeCap,
}

impl NoFill {
    /// Snake-case name (the names that are also `RejectReason`s match
    /// theirs: `suspended`, `limit_up`, `limit_down`, `below_lot`,
    /// `not_tradable`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspended => "suspended",
            Self::BadBar => "bad_bar",
            Self::NotTradable => "not_tradable",
            Self::Pending => "pending",
            Self::Triggered => "triggered",
            Self::LimitUp => "limit_up",
            Self::LimitDown => "limit_down",
            Self::BelowLot => "below_lot",
            Self::NothingSellable => "nothing_sellable",
            Self::VolumeCap => "volume_cap",
        }
    }

    /// True when the order's price condition was met on the bar (a stop's
    /// trigger fired) but something later stopped the fill: a stop or
    /// trailing stop is a market order from now on, a stop-limit a limit
    /// order.
    pub fn fired(self) -> bool {
        matches!(
            self,
            Self::Triggered
                | Self::LimitUp
                | Self::LimitDown
                | Self::BelowLot
                | Self::NothingSellable
                | Self::VolumeCap
        )
    }
}

// ---------------------------------------------------------------------------
// Order kinds and their triggers
// ---------------------------------------------------------------------------

/// The price terms of an order as the fill functions see them (quote
/// currency). Order prices off the tick grid act as the grid allows: a buy
/// limit of 10.005 on a 0.01 grid can only fill at 10.00 or below, a buy
/// stop of 10.005 triggers at 10.01.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    /// At the [`FillModel`]'s price.
    Market,
    /// At the open (opening call auction).
    MarketOnOpen,
    /// At the close (closing call auction).
    MarketOnClose,
    /// A resting limit order.
    Limit(Price),
    /// A stop order (a market order once triggered).
    Stop(Price),
    /// A stop-limit order.
    StopLimit {
        /// Trigger price.
        stop: Price,
        /// Limit once triggered.
        limit: Price,
    },
    /// A trailing stop with its current state (updated by the venue with
    /// [`trail_after_bar`] after each bar).
    TrailingStop(TrailState),
}

impl OrderKind {
    /// The kind of an order of `order_type` (the core order model); a
    /// trailing stop takes its current `trail` state (built with
    /// [`TrailState::new`] when the order is placed). `None` for a
    /// trailing stop without a state.
    pub fn from_order_type(order_type: OrderType, trail: Option<TrailState>) -> Option<Self> {
        Some(match order_type {
            OrderType::Market => Self::Market,
            OrderType::Limit(p) => Self::Limit(p),
            OrderType::Stop(p) => Self::Stop(p),
            OrderType::StopLimit { stop, limit } => Self::StopLimit { stop, limit },
            OrderType::TrailingStop(_) => Self::TrailingStop(trail?),
            OrderType::MarketOnOpen => Self::MarketOnOpen,
            OrderType::MarketOnClose => Self::MarketOnClose,
        })
    }

    /// The limit price, for limit and stop-limit orders (the cap of
    /// [`slipped_price`]).
    pub fn limit_price(&self) -> Option<Price> {
        match *self {
            Self::Limit(p) | Self::StopLimit { limit: p, .. } => Some(p),
            _ => None,
        }
    }
}

/// A limit price on the grid, as far as the order can fill: buy down, sell
/// up (the limit itself when the decimal overflows, which only huge limits
/// do; they never bind).
fn limit_on_grid(side: Side, limit: Price, tick: Decimal) -> Decimal {
    match side {
        Side::Buy => floor_tick(limit.0, tick),
        Side::Sell => ceil_tick(limit.0, tick),
    }
    .unwrap_or(limit.0)
}

/// A stop price on the grid, where it first triggers: buy up, sell down.
fn stop_on_grid(side: Side, stop: Price, tick: Decimal) -> Decimal {
    match side {
        Side::Buy => ceil_tick(stop.0, tick),
        Side::Sell => floor_tick(stop.0, tick),
    }
    .unwrap_or(stop.0)
}

/// The model price of a market order on `bar`: the open, the close or the
/// VWAP (see [`FillModel`]).
pub fn market_price(model: FillModel, bar: &TickBar) -> Price {
    match model {
        FillModel::NextOpen => bar.open,
        FillModel::SameClose => bar.close,
        FillModel::Vwap => bar.vwap,
    }
}

/// A resting limit order on one bar. A buy fills when `low ≤ limit`
/// ([`LimitFill::Touch`]) or `low < limit` ([`LimitFill::Through`]) at
/// `min(open, limit)`: a bar that gaps down through the limit fills at its
/// open, the better price. A sell fills when `high ≥ limit` (`>`) at
/// `max(open, limit)`. The price is always inside the bar.
pub fn limit_trigger(side: Side, limit: Price, bar: &TickBar, fill: LimitFill) -> Trigger {
    let l = limit_on_grid(side, limit, bar.tick);
    let through = fill == LimitFill::Through;
    match side {
        Side::Buy => {
            let low = bar.low.0;
            if low < l || (low == l && !through) {
                Trigger::Fill(Price(bar.open.0.min(l)))
            } else {
                Trigger::Pending
            }
        }
        Side::Sell => {
            let high = bar.high.0;
            if high > l || (high == l && !through) {
                Trigger::Fill(Price(bar.open.0.max(l)))
            } else {
                Trigger::Pending
            }
        }
    }
}

/// A stop order on one bar. A buy stop triggers when `high ≥ stop` and
/// fills at `max(open, stop)` (a gap up through the stop fills at the
/// open, the worse price); a sell stop when `low ≤ stop`, at
/// `min(open, stop)`. The price is always inside the bar.
pub fn stop_trigger(side: Side, stop: Price, bar: &TickBar) -> Trigger {
    let s = stop_on_grid(side, stop, bar.tick);
    match side {
        Side::Buy if bar.high.0 >= s => Trigger::Fill(Price(bar.open.0.max(s))),
        Side::Sell if bar.low.0 <= s => Trigger::Fill(Price(bar.open.0.min(s))),
        _ => Trigger::Pending,
    }
}

/// A stop-limit order on one bar. It triggers as a stop ([`stop_trigger`]);
/// a bar's path between open and close is unknown, so on the trigger bar:
///
/// - **gap** (a buy's open at or above the stop, a sell's at or below): it
///   fired at the open, so the whole bar came after the trigger and it
///   works as a limit order over the whole bar ([`limit_trigger`]: a buy
///   fills at `min(open, limit)` when `low` reaches the limit);
/// - **inside the bar** (the open on the near side of the stop): the price
///   was at the stop when it fired. A buy with `limit > stop` (or `=` with
///   [`LimitFill::Touch`]) is marketable then and fills at the stop (the
///   price at the trigger, never above the limit); a buy with
///   `limit < stop` needs the price to come back down to the limit after
///   the trigger, and whether the bar's low came before or after it is
///   unknown, so the conservative answer is no fill on this bar
///   ([`Trigger::Triggered`]: from the next bar it rests as a limit order).
///   Sells mirror this.
///
/// This is stricter than "limit within `[low, high]`": a limit the bar
/// reached only on the far side of the trigger does not fill. The price is
/// always inside the bar and never through the limit.
pub fn stop_limit_trigger(
    side: Side,
    stop: Price,
    limit: Price,
    bar: &TickBar,
    fill: LimitFill,
) -> Trigger {
    let s = stop_on_grid(side, stop, bar.tick);
    let l = limit_on_grid(side, limit, bar.tick);
    let touch = fill == LimitFill::Touch;
    let (fired, gap, marketable) = match side {
        Side::Buy => (bar.high.0 >= s, bar.open.0 >= s, l > s || (l == s && touch)),
        Side::Sell => (bar.low.0 <= s, bar.open.0 <= s, l < s || (l == s && touch)),
    };
    if !fired {
        Trigger::Pending
    } else if gap {
        match limit_trigger(side, limit, bar, fill) {
            Trigger::Fill(p) => Trigger::Fill(p),
            _ => Trigger::Triggered,
        }
    } else if marketable {
        Trigger::Fill(Price(s))
    } else {
        Trigger::Triggered
    }
}

/// A trailing stop's state: its trail, the best price of the bars that have
/// closed since it was placed (highest high for a sell, lowest low for a
/// buy) and the stop level that follows from them (quote currency, on the
/// grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailState {
    trail: Trail,
    best: Price,
    level: Price,
}

/// The stop level `trail` away from `best`: a sell's below it rounded down
/// to the tick, a buy's above it rounded up (the trail is at least the
/// distance asked); never below zero. `None` on overflow.
fn trail_level(side: Side, trail: Trail, best: Price, tick: Decimal) -> Option<Decimal> {
    let b = best.0;
    match side {
        Side::Sell => {
            let raw = match trail {
                Trail::Amount(d) => b.checked_sub(d.0)?,
                Trail::Fraction(f) => b.checked_mul(Decimal::ONE.checked_sub(f)?)?,
            };
            Some(floor_tick(raw, tick)?.max(Decimal::ZERO))
        }
        Side::Buy => {
            let raw = match trail {
                Trail::Amount(d) => b.checked_add(d.0)?,
                Trail::Fraction(f) => b.checked_mul(Decimal::ONE.checked_add(f)?)?,
            };
            ceil_tick(raw, tick)
        }
    }
}

impl TrailState {
    /// A trailing stop placed when the price was `reference` (quote
    /// currency; the decision bar's close, say): level `reference − amount`
    /// or `reference × (1 − fraction)` for a sell (rounded down to `tick`),
    /// `reference + amount` or `reference × (1 + fraction)` for a buy
    /// (rounded up).
    ///
    /// # Errors
    /// [`Error::Setting`] for a trail that [`validate_trail`] refuses, or
    /// a `reference` or `tick` that is not positive (key `trail.reference`,
    /// `trail.tick`) or too large for a decimal.
    pub fn new(side: Side, trail: Trail, reference: Price, tick: Decimal) -> Result<Self> {
        validate_trail(&trail)?;
        let bad = |key: &str, value: String| Error::Setting {
            key: key.into(),
            value,
            expected: "must be above 0 (quote currency)".into(),
        };
        if tick <= Decimal::ZERO {
            return Err(bad("trail.tick", tick.to_string()));
        }
        if reference.0 <= Decimal::ZERO {
            return Err(bad("trail.reference", reference.to_string()));
        }
        let level = trail_level(side, trail, reference, tick)
            .ok_or_else(|| bad("trail.reference", reference.to_string()))?;
        Ok(Self {
            trail,
            best: reference,
            level: Price(level),
        })
    }

    /// The trail.
    pub fn trail(&self) -> Trail {
        self.trail
    }

    /// The best price so far (quote currency).
    pub fn best(&self) -> Price {
        self.best
    }

    /// The stop level the next bar is checked against (quote currency).
    pub fn level(&self) -> Price {
        self.level
    }
}

/// The trailing stop's state after `bar` has closed: the best price takes
/// the bar's high (a sell) or low (a buy) and the level follows it, only
/// ever tightening (a sell's level never falls, a buy's never rises). Call
/// it after checking the bar with [`trailing_stop_trigger`], so that a bar
/// is only ever checked against the level of earlier bars (no look-ahead:
/// whether the high came before or after the low is unknown). A level that
/// overflows the decimal keeps the old one.
pub fn trail_after_bar(state: TrailState, side: Side, bar: &TickBar) -> TrailState {
    let best = match side {
        Side::Sell => state.best.max(bar.high),
        Side::Buy => state.best.min(bar.low),
    };
    let new = trail_level(side, state.trail, best, bar.tick).map(Price);
    let level = match (side, new) {
        (Side::Sell, Some(l)) => state.level.max(l),
        (Side::Buy, Some(l)) => state.level.min(l),
        (_, None) => state.level,
    };
    TrailState {
        trail: state.trail,
        best,
        level,
    }
}

/// A trailing stop on one bar: a stop at the state's current level
/// ([`stop_trigger`]; a gap through it fills at the open).
pub fn trailing_stop_trigger(side: Side, state: &TrailState, bar: &TickBar) -> Trigger {
    stop_trigger(side, state.level, bar)
}

/// Any order kind on one bar: the model price it fills at, if it does.
/// `model` applies to [`OrderKind::Market`] only, `fill` to limits and
/// stop-limits.
pub fn trigger(
    kind: &OrderKind,
    side: Side,
    bar: &TickBar,
    model: FillModel,
    fill: LimitFill,
) -> Trigger {
    match *kind {
        OrderKind::Market => Trigger::Fill(market_price(model, bar)),
        OrderKind::MarketOnOpen => Trigger::Fill(bar.open),
        OrderKind::MarketOnClose => Trigger::Fill(bar.close),
        OrderKind::Limit(l) => limit_trigger(side, l, bar, fill),
        OrderKind::Stop(s) => stop_trigger(side, s, bar),
        OrderKind::StopLimit { stop, limit } => stop_limit_trigger(side, stop, limit, bar, fill),
        OrderKind::TrailingStop(ref st) => trailing_stop_trigger(side, st, bar),
    }
}

// ---------------------------------------------------------------------------
// Price limits
// ---------------------------------------------------------------------------

/// The A-share price-limit check of a fill at model price `price` (before
/// slippage, as `sim.rs` checks its reference price): with
/// [`PriceLimitRule::AtLimit`] a buy at or above limit-up and a sell at or
/// below limit-down are blocked; with [`PriceLimitRule::LockedBar`] only
/// when, in addition, the bar never traded off the limit (`low` at
/// limit-up for a buy, `high` at limit-down for a sell). `limit` comes from
/// `MarketRules::price_limit` (board, date, IPO day, `pre_close`) and its
/// `blocks_buy` / `blocks_sell` decide; [`PriceLimit::None`] never blocks.
///
/// # Errors
/// [`NoFill::LimitUp`] or [`NoFill::LimitDown`] when blocked.
pub fn price_limit_check(
    side: Side,
    price: Price,
    bar: &TickBar,
    limit: PriceLimit,
    rule: PriceLimitRule,
) -> Result<(), NoFill> {
    let locked = |extreme: Price, blocks: fn(&PriceLimit, f64) -> bool| {
        rule == PriceLimitRule::AtLimit || blocks(&limit, extreme.to_f64())
    };
    match side {
        Side::Buy
            if limit.blocks_buy(price.to_f64()) && locked(bar.low, PriceLimit::blocks_buy) =>
        {
            Err(NoFill::LimitUp)
        }
        Side::Sell
            if limit.blocks_sell(price.to_f64()) && locked(bar.high, PriceLimit::blocks_sell) =>
        {
            Err(NoFill::LimitDown)
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// Quantity
// ---------------------------------------------------------------------------

/// Which lot rule a quantity follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LotSide {
    /// A buy: board lots ([`MarketRules::round_buy`]).
    Buy,
    /// A sell of a position of which `sellable` units may be sold today:
    /// lots, or the whole sellable quantity with its odd lot
    /// ([`MarketRules::round_sell`]).
    Sell {
        /// Units sellable today (after T+1).
        sellable: Quantity,
    },
}

/// The raw volume cap of one bar, `participation × bar_volume` units
/// before lot rounding, computed in decimal from the shortest decimal forms
/// of both numbers (so 1,000 × 0.3 is 300, not 299.99…). Zero for a zero,
/// negative or NaN volume; `None` (no cap) when the volume is beyond the
/// decimal range.
pub fn volume_cap(bar_volume: f64, participation: Participation) -> Option<Quantity> {
    if bar_volume.is_nan() || bar_volume <= 0.0 {
        return Some(Quantity::ZERO);
    }
    let v = Decimal::from_f64(bar_volume)?;
    let p = Decimal::from_f64(participation.get())?;
    v.checked_mul(p).map(Quantity)
}

/// `qty` rounded to what the market accepts on `side`.
fn round_lots(qty: Quantity, rules: &MarketRules, inst: &Instrument, side: LotSide) -> Quantity {
    match side {
        LotSide::Buy => rules.round_buy(inst, qty),
        LotSide::Sell { sellable } => {
            if sellable.0 <= Decimal::ZERO {
                Quantity::ZERO
            } else {
                rules.round_sell(inst, qty, sellable)
            }
        }
    }
}

/// The most units an order with `leaves` units left may fill on a bar that
/// traded `bar_volume` units: `min(leaves, participation × bar_volume)`
/// ([`volume_cap`]), rounded down by the market's lot rules through
/// `quant_core` (A-shares: multiples of 100; STAR at least 200 then 1-share
/// steps; BSE at least 100 then 1-share steps; US whole shares; crypto
/// multiples of the lot). A sell may take the whole sellable quantity with
/// its odd lot when that is within both bounds (the A-share odd-lot rule,
/// `a-share-rules.md` §3); it never exceeds `sellable`. Zero when less than
/// one lot fits: the rest stays working or expires by the order's time in
/// force, which the venue decides.
pub fn max_fill_units(
    leaves: Quantity,
    bar_volume: f64,
    participation: Participation,
    rules: &MarketRules,
    inst: &Instrument,
    side: LotSide,
) -> Quantity {
    let want = match volume_cap(bar_volume, participation) {
        Some(cap) => leaves.min(cap),
        None => leaves,
    };
    if want.0 <= Decimal::ZERO {
        return Quantity::ZERO;
    }
    round_lots(want, rules, inst, side)
}

// ---------------------------------------------------------------------------
// Slippage
// ---------------------------------------------------------------------------

/// The fill price: `model` (the trigger's price) moved `bps` basis points
/// against the trader (buy `model × (1 + bps / 10,000)`, sell
/// `model × (1 − bps / 10,000)`, exact in decimal), rounded to the tick
/// against the trader (buy up, sell down), then held inside the bar (a buy
/// at most the high, a sell at least the low: no fill prints outside the
/// bar, which caps the slippage on a narrow bar) and never through the
/// order's `limit` (a buy at most its limit, a sell at least). Never better
/// for the trader than `model`; NaN or negative bps count as zero, bps too
/// large for a decimal go to the cap. Monotone in `bps`. `model` is a
/// [`Trigger::Fill`] price, inside the bar and not through the limit;
/// given any other price the bar's range still holds and wins over the
/// limit.
pub fn slipped_price(
    side: Side,
    model: Price,
    bps: f64,
    bar: &TickBar,
    limit: Option<Price>,
) -> Price {
    let tick = bar.tick;
    let frac = if bps > 0.0 {
        Decimal::from_f64(bps / 10_000.0)
    } else {
        Some(Decimal::ZERO)
    };
    let p = match side {
        Side::Buy => {
            let cap = match limit {
                Some(l) => bar.high.0.min(limit_on_grid(side, l, tick)),
                None => bar.high.0,
            };
            let floor = model.0.min(cap);
            frac.and_then(|f| Decimal::ONE.checked_add(f))
                .and_then(|f| model.0.checked_mul(f))
                .and_then(|x| ceil_tick(x, tick))
                .map_or(cap, |x| x.min(cap).max(floor))
        }
        Side::Sell => {
            let cap = match limit {
                Some(l) => bar.low.0.max(limit_on_grid(side, l, tick)),
                None => bar.low.0,
            };
            let ceiling = model.0.max(cap);
            frac.and_then(|f| Decimal::ONE.checked_sub(f))
                .and_then(|f| model.0.checked_mul(f))
                .and_then(|x| floor_tick(x, tick))
                .map_or(cap, |x| x.max(cap).min(ceiling))
        }
    };
    // a model price no trigger gives (through an unreachable limit): the
    // bar wins, no fill prints outside it
    Price(p.clamp(bar.low.0, bar.high.0).normalize())
}

// ---------------------------------------------------------------------------
// Latency
// ---------------------------------------------------------------------------

/// Whether an order submitted at instant `submitted_at`, during the bar
/// `bars_since_submit` bars before this one (0 = this bar is its
/// submission bar), may fill on the bar that opens at `bar_open_at`:
///
/// - [`Latency::Bars`]`(n)`: from bar t + 1 + n on (`bars_since_submit ≥
///   n + 1`); the instants are not read;
/// - [`Latency::Millis`]`(ms)`: not on its submission bar, and only once
///   `bar_open_at ≥ submitted_at + ms` (the first bar that opens after the
///   order reached the book).
///
/// Same-close fills (the closing auction of the submission bar) are the
/// one exception and do not ask this. Intraday bars carry close instants:
/// [`intraday_open`] gives the open; a daily bar opens at
/// `Sessions::open_on(day)`.
pub fn eligible(
    submitted_at: UnixNanos,
    bar_open_at: UnixNanos,
    latency: Latency,
    bars_since_submit: u32,
) -> bool {
    match latency {
        Latency::Bars(n) => u64::from(bars_since_submit) > u64::from(n),
        Latency::Millis(ms) => {
            bars_since_submit >= 1
                && i128::from(bar_open_at.0)
                    >= i128::from(submitted_at.0) + i128::from(ms) * 1_000_000
        }
    }
}

/// The open instant of an intraday bar that closes at `close`: `close −
/// interval`. `None` for [`Interval::D1`] (a daily bar's span is its
/// sessions, not 24 hours: use `Sessions::open_on`) or on overflow.
pub fn intraday_open(close: UnixNanos, interval: Interval) -> Option<UnixNanos> {
    if interval == Interval::D1 {
        return None;
    }
    close.checked_sub(interval.nanos())
}

// ---------------------------------------------------------------------------
// One order on one bar
// ---------------------------------------------------------------------------

/// One working order as [`fill_on_bar`] needs it.
#[derive(Debug, Clone, Copy)]
pub struct FillRequest<'a> {
    /// Buy or sell.
    pub side: Side,
    /// Price terms.
    pub kind: OrderKind,
    /// Units still to fill (orders sized by value are turned into units by
    /// the venue first).
    pub leaves: Quantity,
    /// Units sellable today (T+1 applied); read for sells only.
    pub sellable: Quantity,
    /// The market's rules (lots).
    pub rules: &'a MarketRules,
    /// The instrument.
    pub inst: &'a Instrument,
    /// Today's price band (`MarketRules::price_limit`).
    pub price_limit: PriceLimit,
}

/// A fill on one bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarFill {
    /// Fill price after slippage (quote currency, on the grid, inside the
    /// bar).
    pub price: Price,
    /// Units filled (lot-rounded; at most leaves and the volume cap).
    pub quantity: Quantity,
    /// The trigger's price before slippage.
    pub model_price: Price,
    /// The slippage asked for, in basis points (the price may move less:
    /// it is capped by the bar and the limit).
    pub slippage_bps: f64,
}

/// One order on one bar: [`trigger`] → [`price_limit_check`] →
/// quantity ([`max_fill_units`] with `config.participation`, else the
/// lot-rounded leaves) → [`Slippage::bps`] on the filled units →
/// [`slipped_price`] capped by the bar and the order's limit.
/// `config.latency` is not read: ask [`eligible`] first. Cash, fees and
/// T+1 (beyond `sellable`) are the venue's.
///
/// # Errors
/// A [`NoFill`] saying why nothing fills: `NotTradable` (an index),
/// `Pending` / `Triggered` (price not reached), `LimitUp` / `LimitDown`,
/// `NothingSellable` (a sell with nothing sellable), `BelowLot` (leaves
/// under one lot), `VolumeCap` (the cap leaves under one lot).
pub fn fill_on_bar(
    req: &FillRequest<'_>,
    bar: &TickBar,
    config: &FillConfig,
) -> Result<BarFill, NoFill> {
    if req.inst.asset_class == AssetClass::Index {
        return Err(NoFill::NotTradable);
    }
    let model = match trigger(&req.kind, req.side, bar, config.model, config.limit_fill) {
        Trigger::Fill(p) => p,
        Trigger::Pending => return Err(NoFill::Pending),
        Trigger::Triggered => return Err(NoFill::Triggered),
    };
    price_limit_check(req.side, model, bar, req.price_limit, config.price_limits)?;
    let lots = match req.side {
        Side::Buy => LotSide::Buy,
        Side::Sell if req.sellable.0 <= Decimal::ZERO => return Err(NoFill::NothingSellable),
        Side::Sell => LotSide::Sell {
            sellable: req.sellable,
        },
    };
    if req.leaves.0 <= Decimal::ZERO || round_lots(req.leaves, req.rules, req.inst, lots).is_zero()
    {
        return Err(NoFill::BelowLot);
    }
    let quantity = match config.participation {
        Some(p) => max_fill_units(req.leaves, bar.volume, p, req.rules, req.inst, lots),
        None => round_lots(req.leaves, req.rules, req.inst, lots),
    };
    if quantity.is_zero() {
        return Err(NoFill::VolumeCap);
    }
    let bps = config.slippage.bps(quantity, bar.volume);
    let price = slipped_price(req.side, model, bps, bar, req.kind.limit_price());
    Ok(BarFill {
        price,
        quantity,
        model_price: model,
        slippage_bps: bps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quant_core::{RuleSet, Symbol};
    use rust_decimal_macros::dec;

    fn inst(s: &str) -> Instrument {
        Instrument::infer(Symbol::new(s).unwrap(), false).unwrap()
    }
    fn p(x: Decimal) -> Price {
        Price(x)
    }
    fn q(n: i64) -> Quantity {
        Quantity::from_units(n)
    }
    fn raw(o: f64, h: f64, l: f64, c: f64) -> BarInput {
        BarInput {
            open: o,
            high: h,
            low: l,
            close: c,
            volume: 1e6,
            amount: f64::NAN,
        }
    }
    /// A stock bar on the 0.01 grid.
    fn bar(o: f64, h: f64, l: f64, c: f64) -> TickBar {
        TickBar::new(&raw(o, h, l, c), dec!(0.01)).unwrap()
    }
    const B: Side = Side::Buy;
    const S: Side = Side::Sell;
    const T: LimitFill = LimitFill::Touch;
    const TH: LimitFill = LimitFill::Through;

    #[test]
    fn market_prices_by_model() {
        let mut r = raw(10.20, 10.50, 9.90, 10.00);
        r.amount = 10_150_000.0; // VWAP 10.15
        let b = TickBar::new(&r, dec!(0.01)).unwrap();
        assert_eq!(market_price(FillModel::NextOpen, &b), p(dec!(10.20)));
        assert_eq!(market_price(FillModel::SameClose, &b), p(dec!(10.00)));
        assert_eq!(market_price(FillModel::Vwap, &b), p(dec!(10.15)));
        assert!(b.vwap_from_turnover());
        // no turnover: typical price (10.50 + 9.90 + 10.00) / 3 = 10.1333 → 10.13
        let b = bar(10.20, 10.50, 9.90, 10.00);
        assert_eq!(b.vwap(), p(dec!(10.13)));
        assert!(!b.vwap_from_turnover());
        // turnover in other units (thousands of CNY): outside the range → typical
        r.amount = 10_150.0;
        let b = TickBar::new(&r, dec!(0.01)).unwrap();
        assert_eq!(b.vwap(), p(dec!(10.13)));
        // the auction kinds ignore the model
        for m in [FillModel::NextOpen, FillModel::SameClose, FillModel::Vwap] {
            assert_eq!(
                trigger(&OrderKind::MarketOnOpen, B, &b, m, T),
                Trigger::Fill(p(dec!(10.20)))
            );
            assert_eq!(
                trigger(&OrderKind::MarketOnClose, S, &b, m, T),
                Trigger::Fill(p(dec!(10.00)))
            );
        }
    }

    #[test]
    fn limits_rest_until_touched_and_gaps_fill_at_the_open() {
        let b = bar(10.20, 10.50, 9.90, 10.00);
        // buy limit inside the range: at the limit
        assert_eq!(
            limit_trigger(B, p(dec!(10.00)), &b, T),
            Trigger::Fill(p(dec!(10.00)))
        );
        // not reached
        assert_eq!(limit_trigger(B, p(dec!(9.89)), &b, T), Trigger::Pending);
        // gap down through the limit: the open, a better price
        let gap = bar(9.80, 9.95, 9.70, 9.90);
        assert_eq!(
            limit_trigger(B, p(dec!(10.00)), &gap, T),
            Trigger::Fill(p(dec!(9.80)))
        );
        // sells mirror it
        assert_eq!(
            limit_trigger(S, p(dec!(10.40)), &b, T),
            Trigger::Fill(p(dec!(10.40)))
        );
        assert_eq!(limit_trigger(S, p(dec!(10.51)), &b, T), Trigger::Pending);
        let up = bar(10.60, 10.80, 10.55, 10.70);
        assert_eq!(
            limit_trigger(S, p(dec!(10.40)), &up, T),
            Trigger::Fill(p(dec!(10.60)))
        );
    }

    #[test]
    fn touch_versus_through() {
        let b = bar(10.20, 10.50, 10.00, 10.10);
        // low exactly at the buy limit: a touch
        assert_eq!(
            limit_trigger(B, p(dec!(10.00)), &b, T),
            Trigger::Fill(p(dec!(10.00)))
        );
        assert_eq!(limit_trigger(B, p(dec!(10.00)), &b, TH), Trigger::Pending);
        // one tick higher: traded through
        assert_eq!(
            limit_trigger(B, p(dec!(10.01)), &b, TH),
            Trigger::Fill(p(dec!(10.01)))
        );
        // high exactly at the sell limit
        assert_eq!(limit_trigger(S, p(dec!(10.50)), &b, TH), Trigger::Pending);
        assert_eq!(
            limit_trigger(S, p(dec!(10.49)), &b, TH),
            Trigger::Fill(p(dec!(10.49)))
        );
    }

    #[test]
    fn off_grid_order_prices_act_as_the_grid_allows() {
        let b = bar(10.20, 10.50, 9.90, 10.00);
        // a buy limit of 10.005 can fill at 10.00 at most
        assert_eq!(
            limit_trigger(B, p(dec!(10.005)), &b, T),
            Trigger::Fill(p(dec!(10.00)))
        );
        // a sell limit of 10.405 at 10.41 at least
        assert_eq!(
            limit_trigger(S, p(dec!(10.405)), &b, T),
            Trigger::Fill(p(dec!(10.41)))
        );
        // a buy stop of 10.495 triggers at 10.50
        assert_eq!(
            stop_trigger(B, p(dec!(10.495)), &b),
            Trigger::Fill(p(dec!(10.50)))
        );
        assert_eq!(stop_trigger(B, p(dec!(10.501)), &b), Trigger::Pending);
    }

    #[test]
    fn stops_trigger_on_the_range_and_gaps_fill_at_the_open() {
        let b = bar(10.20, 10.50, 9.90, 10.00);
        assert_eq!(
            stop_trigger(B, p(dec!(10.30)), &b),
            Trigger::Fill(p(dec!(10.30)))
        );
        assert_eq!(stop_trigger(B, p(dec!(10.51)), &b), Trigger::Pending);
        assert_eq!(
            stop_trigger(S, p(dec!(9.95)), &b),
            Trigger::Fill(p(dec!(9.95)))
        );
        assert_eq!(stop_trigger(S, p(dec!(9.89)), &b), Trigger::Pending);
        // gap up through a buy stop: the open, the worse price
        let up = bar(10.60, 10.80, 10.55, 10.70);
        assert_eq!(
            stop_trigger(B, p(dec!(10.30)), &up),
            Trigger::Fill(p(dec!(10.60)))
        );
        // gap down through a sell stop
        let down = bar(9.80, 9.85, 9.60, 9.70);
        assert_eq!(
            stop_trigger(S, p(dec!(9.95)), &down),
            Trigger::Fill(p(dec!(9.80)))
        );
    }

    #[test]
    fn stop_limits() {
        let b = bar(10.20, 10.50, 9.90, 10.00);
        let sl = |side, s, l, bar: &TickBar, f| stop_limit_trigger(side, p(s), p(l), bar, f);
        // intrabar trigger, limit above the stop: fills at the stop
        assert_eq!(
            sl(B, dec!(10.30), dec!(10.35), &b, T),
            Trigger::Fill(p(dec!(10.30)))
        );
        // limit equal to the stop: a touch, refused under trade-through
        assert_eq!(
            sl(B, dec!(10.30), dec!(10.30), &b, T),
            Trigger::Fill(p(dec!(10.30)))
        );
        assert_eq!(sl(B, dec!(10.30), dec!(10.30), &b, TH), Trigger::Triggered);
        // limit below the stop: whether the low came after the trigger is
        // unknown, so it triggers but does not fill
        assert_eq!(sl(B, dec!(10.30), dec!(10.00), &b, T), Trigger::Triggered);
        // not triggered
        assert_eq!(sl(B, dec!(10.60), dec!(10.70), &b, T), Trigger::Pending);
        // gap up through the stop, open within the limit: the open
        let up = bar(10.32, 10.80, 10.31, 10.70);
        assert_eq!(
            sl(B, dec!(10.30), dec!(10.35), &up, T),
            Trigger::Fill(p(dec!(10.32)))
        );
        // gap up above the limit, never back down to it: triggers, no fill
        let up = bar(10.60, 10.80, 10.40, 10.70);
        assert_eq!(sl(B, dec!(10.30), dec!(10.35), &up, T), Trigger::Triggered);
        // gap up above the limit, back down to it later in the bar: the limit
        let up = bar(10.60, 10.80, 10.30, 10.70);
        assert_eq!(
            sl(B, dec!(10.30), dec!(10.35), &up, T),
            Trigger::Fill(p(dec!(10.35)))
        );
        // sells mirror it
        assert_eq!(
            sl(S, dec!(9.95), dec!(9.92), &b, T),
            Trigger::Fill(p(dec!(9.95)))
        );
        assert_eq!(sl(S, dec!(9.95), dec!(10.10), &b, T), Trigger::Triggered);
        let down = bar(9.80, 9.85, 9.60, 9.70);
        assert_eq!(sl(S, dec!(9.95), dec!(9.90), &down, T), Trigger::Triggered);
        assert_eq!(
            sl(S, dec!(9.95), dec!(9.75), &down, T),
            Trigger::Fill(p(dec!(9.80)))
        );
        assert_eq!(
            sl(S, dec!(9.95), dec!(9.82), &down, T),
            Trigger::Fill(p(dec!(9.82)))
        );
    }

    #[test]
    fn trailing_stop_ratchets_and_triggers_on_the_next_bar_only() {
        let t = Trail::Amount(p(dec!(0.50)));
        let st = TrailState::new(S, t, p(dec!(10.00)), dec!(0.01)).unwrap();
        assert_eq!(st.level(), p(dec!(9.50)));
        // bar 1 rallies to 10.80 then falls to 9.60: 9.60 is below the level
        // that bar 1's own high implies (10.30), but the bar is checked
        // against the level of earlier bars only
        let b1 = bar(10.10, 10.80, 9.60, 9.70);
        assert_eq!(trailing_stop_trigger(S, &st, &b1), Trigger::Pending);
        let st = trail_after_bar(st, S, &b1);
        assert_eq!((st.best(), st.level()), (p(dec!(10.80)), p(dec!(10.30))));
        // bar 2 trades down through 10.30: fills at the level
        let b2 = bar(10.40, 10.45, 10.20, 10.25);
        assert_eq!(
            trailing_stop_trigger(S, &st, &b2),
            Trigger::Fill(p(dec!(10.30)))
        );
        // a lower high never loosens the stop
        let b3 = bar(10.40, 10.45, 10.35, 10.40);
        assert_eq!(trail_after_bar(st, S, &b3).level(), p(dec!(10.30)));
        // a gap below the level fills at the open
        let b4 = bar(10.00, 10.05, 9.90, 9.95);
        assert_eq!(
            trigger(&OrderKind::TrailingStop(st), S, &b4, FillModel::NextOpen, T),
            Trigger::Fill(p(dec!(10.00)))
        );
        // by a fraction: 5 % below 10.80 = 10.26
        let st = TrailState::new(S, Trail::Fraction(dec!(0.05)), p(dec!(10.00)), dec!(0.01));
        let st = st.unwrap();
        assert_eq!(st.level(), p(dec!(9.50)));
        assert_eq!(trail_after_bar(st, S, &b1).level(), p(dec!(10.26)));
        // 3 % below 10.13 = 9.8261, rounded down to 9.82 (at least the trail)
        let st = TrailState::new(S, Trail::Fraction(dec!(0.03)), p(dec!(10.13)), dec!(0.01));
        assert_eq!(st.unwrap().level(), p(dec!(9.82)));
        // a buy trailing stop follows the lowest low, rounded up
        let st = TrailState::new(B, t, p(dec!(10.00)), dec!(0.01)).unwrap();
        assert_eq!(st.level(), p(dec!(10.50)));
        let st = trail_after_bar(st, B, &bar(9.80, 9.90, 9.40, 9.50));
        assert_eq!(st.level(), p(dec!(9.90)));
        let st = trail_after_bar(st, B, &bar(9.80, 9.95, 9.60, 9.70));
        assert_eq!(st.level(), p(dec!(9.90)));
        assert_eq!(
            trailing_stop_trigger(B, &st, &bar(9.80, 9.95, 9.60, 9.70)),
            Trigger::Fill(p(dec!(9.90)))
        );
        // bad trails are refused
        assert!(TrailState::new(S, Trail::Fraction(dec!(1)), p(dec!(10)), dec!(0.01)).is_err());
        assert!(TrailState::new(S, Trail::Amount(p(dec!(0))), p(dec!(10)), dec!(0.01)).is_err());
        assert!(TrailState::new(S, t, p(dec!(0)), dec!(0.01)).is_err());
        assert!(TrailState::new(S, t, p(dec!(10)), dec!(0)).is_err());
        // a trail wider than the price: level 0, never triggers
        let st = TrailState::new(S, Trail::Amount(p(dec!(20))), p(dec!(10)), dec!(0.01));
        assert_eq!(st.unwrap().level(), p(dec!(0)));
    }

    #[test]
    fn kinds_from_the_core_order_type() {
        let l = p(dec!(10.00));
        assert_eq!(
            OrderKind::from_order_type(OrderType::Limit(l), None),
            Some(OrderKind::Limit(l))
        );
        assert_eq!(
            OrderKind::from_order_type(OrderType::MarketOnClose, None),
            Some(OrderKind::MarketOnClose)
        );
        let t = Trail::Fraction(dec!(0.05));
        assert_eq!(
            OrderKind::from_order_type(OrderType::TrailingStop(t), None),
            None
        );
        let st = TrailState::new(S, t, l, dec!(0.01)).unwrap();
        assert_eq!(
            OrderKind::from_order_type(OrderType::TrailingStop(t), Some(st)),
            Some(OrderKind::TrailingStop(st))
        );
        let sl = OrderType::StopLimit { stop: l, limit: l };
        assert_eq!(
            OrderKind::from_order_type(sl, None).and_then(|k| k.limit_price()),
            Some(l)
        );
        assert!(validate_trail(&Trail::Amount(p(dec!(-1)))).is_err());
        assert!(validate_trail(&Trail::Fraction(dec!(0.5))).is_ok());
    }

    fn band() -> PriceLimit {
        // main board, pre_close 10.00: ±10 %
        MarketRules::new(RuleSet::CnA).price_limit(
            &inst("600000.SH"),
            "2024-01-02".parse().unwrap(),
            10.0,
            None,
        )
    }

    #[test]
    fn price_limits_block_locked_bars() {
        let lim = band();
        assert_eq!(
            lim,
            PriceLimit::Band {
                up: 11.0,
                down: 9.0
            }
        );
        let at = PriceLimitRule::AtLimit;
        let locked = PriceLimitRule::LockedBar;
        // locked at limit-up: no buy under either rule; sells are fine
        let up = bar(11.00, 11.00, 11.00, 11.00);
        let up_px = p(dec!(11.00));
        assert_eq!(
            price_limit_check(B, up_px, &up, lim, at),
            Err(NoFill::LimitUp)
        );
        assert_eq!(
            price_limit_check(B, up_px, &up, lim, locked),
            Err(NoFill::LimitUp)
        );
        assert_eq!(price_limit_check(S, up_px, &up, lim, at), Ok(()));
        // opens at limit-up, trades below later: blocked at the limit (as
        // sim.rs), fills with LockedBar
        let opened = bar(11.00, 11.00, 10.50, 10.80);
        assert_eq!(
            price_limit_check(B, up_px, &opened, lim, at),
            Err(NoFill::LimitUp)
        );
        assert_eq!(price_limit_check(B, up_px, &opened, lim, locked), Ok(()));
        // below the limit: fine
        assert_eq!(
            price_limit_check(B, p(dec!(10.99)), &opened, lim, at),
            Ok(())
        );
        // locked at limit-down: no sell
        let down = bar(9.00, 9.00, 9.00, 9.00);
        assert_eq!(
            price_limit_check(S, p(dec!(9.00)), &down, lim, locked),
            Err(NoFill::LimitDown)
        );
        assert_eq!(price_limit_check(B, p(dec!(9.00)), &down, lim, at), Ok(()));
        // no band: never blocks
        assert_eq!(
            price_limit_check(B, up_px, &up, PriceLimit::None, at),
            Ok(())
        );
    }

    #[test]
    fn suspended_and_bad_bars_never_fill() {
        let mut r = raw(10.0, 10.0, 10.0, 10.0);
        r.volume = 0.0;
        assert_eq!(TickBar::new(&r, dec!(0.01)), Err(NoFill::Suspended));
        r.volume = f64::NAN;
        assert_eq!(TickBar::new(&r, dec!(0.01)), Err(NoFill::Suspended));
        r.volume = f64::INFINITY;
        assert_eq!(TickBar::new(&r, dec!(0.01)), Err(NoFill::BadBar));
        for bad in [
            raw(10.0, 9.0, 9.5, 9.5),
            raw(f64::NAN, 10.0, 9.0, 9.5),
            raw(10.0, 10.0, -1.0, 9.5),
            raw(0.001, 0.001, 0.001, 0.001),
        ] {
            assert_eq!(
                TickBar::new(&bad, dec!(0.01)),
                Err(NoFill::BadBar),
                "{bad:?}"
            );
        }
        assert_eq!(
            TickBar::new(&raw(10.0, 10.0, 10.0, 10.0), dec!(0)),
            Err(NoFill::BadBar)
        );
    }

    #[test]
    fn participation_caps_round_to_lots() {
        let r = MarketRules::new(RuleSet::CnA);
        let main = inst("600000.SH");
        let star = inst("688001.SH");
        let p10 = Participation::new(0.1).unwrap();
        // 10 % of 2,500 = 250 → 200 on the main board
        assert_eq!(
            max_fill_units(q(1000), 2500.0, p10, &r, &main, LotSide::Buy),
            q(200)
        );
        // STAR: 250 stays (1-share steps above 200) …
        assert_eq!(
            max_fill_units(q(1000), 2500.0, p10, &r, &star, LotSide::Buy),
            q(250)
        );
        assert_eq!(
            max_fill_units(q(1000), 2015.0, p10, &r, &star, LotSide::Buy),
            q(201)
        );
        // … but 199.9 is below its 200 minimum
        assert_eq!(
            max_fill_units(q(1000), 1999.0, p10, &r, &star, LotSide::Buy),
            q(0)
        );
        // the leaves bind before the cap
        assert_eq!(
            max_fill_units(q(300), 1e6, p10, &r, &main, LotSide::Buy),
            q(300)
        );
        // exact decimal: 1,000 × 0.3 = 300, not 299.99…
        let p30 = Participation::new(0.3).unwrap();
        assert_eq!(
            max_fill_units(q(1000), 1000.0, p30, &r, &main, LotSide::Buy),
            q(300)
        );
        // sells: the whole sellable 150 with its odd lot when it fits …
        let sell = LotSide::Sell { sellable: q(150) };
        assert_eq!(max_fill_units(q(150), 1e6, p10, &r, &main, sell), q(150));
        // … else whole lots (a cap of 120 → 100)
        assert_eq!(max_fill_units(q(150), 1200.0, p10, &r, &main, sell), q(100));
        // never more than sellable
        assert_eq!(max_fill_units(q(500), 1e6, p10, &r, &main, sell), q(150));
        // crypto: fractional caps, lot 1e-8
        let c = MarketRules::new(RuleSet::Crypto);
        let btc = inst("BTC-USDT");
        assert_eq!(
            max_fill_units(q(1), 0.5, p10, &c, &btc, LotSide::Buy),
            Quantity(dec!(0.05))
        );
        // zero volume: nothing
        assert_eq!(
            max_fill_units(q(1000), 0.0, Participation::FULL, &r, &main, LotSide::Buy),
            q(0)
        );
        assert_eq!(volume_cap(f64::NAN, p10), Some(q(0)));
        assert_eq!(volume_cap(1e300, p10), None);
        for bad in [0.0, -0.1, 1.01, f64::NAN, f64::INFINITY] {
            assert!(Participation::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slippage_is_against_the_trader_on_the_grid_and_inside_the_bar() {
        let b = bar(10.00, 10.50, 9.50, 10.20);
        // 5 bps of 10.00 = 0.005: buy 10.005 → 10.01 (up), sell 9.995 → 9.99 (down)
        assert_eq!(
            slipped_price(B, p(dec!(10.00)), 5.0, &b, None),
            p(dec!(10.01))
        );
        assert_eq!(
            slipped_price(S, p(dec!(10.00)), 5.0, &b, None),
            p(dec!(9.99))
        );
        // zero (or NaN, or negative) bps: the model price
        for z in [0.0, f64::NAN, -3.0] {
            assert_eq!(
                slipped_price(B, p(dec!(10.00)), z, &b, None),
                p(dec!(10.00))
            );
        }
        // capped by the bar: 100 bps of 10.48 = 10.5848 → the high 10.50
        assert_eq!(
            slipped_price(B, p(dec!(10.48)), 100.0, &b, None),
            p(dec!(10.50))
        );
        assert_eq!(
            slipped_price(S, p(dec!(9.52)), 100.0, &b, None),
            p(dec!(9.50))
        );
        // huge bps: the cap, no panic
        assert_eq!(
            slipped_price(B, p(dec!(10.00)), 1e300, &b, None),
            p(dec!(10.50))
        );
        assert_eq!(
            slipped_price(S, p(dec!(10.00)), f64::INFINITY, &b, None),
            p(dec!(9.50))
        );
        // never through the limit
        assert_eq!(
            slipped_price(B, p(dec!(10.00)), 50.0, &b, Some(p(dec!(10.02)))),
            p(dec!(10.02))
        );
        assert_eq!(
            slipped_price(B, p(dec!(10.00)), 50.0, &b, Some(p(dec!(10.00)))),
            p(dec!(10.00))
        );
        assert_eq!(
            slipped_price(S, p(dec!(10.00)), 50.0, &b, Some(p(dec!(9.98)))),
            p(dec!(9.98))
        );
        // ETF tick 0.001: 3.000 × 1.0005 = 3.0015 → 3.002; sell 2.9985 → 2.998
        let mut r = raw(3.0, 3.1, 2.9, 3.0);
        r.amount = f64::NAN;
        let e = TickBar::new(&r, dec!(0.001)).unwrap();
        assert_eq!(
            slipped_price(B, p(dec!(3.000)), 5.0, &e, None),
            p(dec!(3.002))
        );
        assert_eq!(
            slipped_price(S, p(dec!(3.000)), 5.0, &e, None),
            p(dec!(2.998))
        );
    }

    #[test]
    fn slippage_models() {
        assert_eq!(Slippage::Bps(5.0).bps(q(1), 1e6), 5.0);
        assert_eq!(Slippage::Bps(5.0).bps(q(1_000_000), 1e6), 5.0);
        let sqrt = Slippage::VolumeShare {
            k_bps: 10.0,
            exponent: 0.5,
        };
        // 10,000 of 1,000,000 = 1 %: 10 × √0.01 = 1 bp
        assert!((sqrt.bps(q(10_000), 1e6) - 1.0).abs() < 1e-12);
        // 25 %: 5 bps
        assert!((sqrt.bps(q(250_000), 1e6) - 5.0).abs() < 1e-12);
        assert_eq!(sqrt.bps(q(0), 1e6), 0.0);
        // no volume: share 1
        assert_eq!(sqrt.bps(q(100), 0.0), 10.0);
        let mut last = 0.0;
        for n in [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000] {
            let b = sqrt.bps(q(n), 1e6);
            assert!(b >= last);
            last = b;
        }
        assert!(Slippage::Bps(5.0).validate().is_ok());
        assert!(sqrt.validate().is_ok());
        let key = |s: Slippage| match s.validate() {
            Err(Error::Setting { key, .. }) => key,
            other => panic!("{other:?}"),
        };
        assert_eq!(key(Slippage::Bps(-1.0)), "slippage.bps");
        assert_eq!(key(Slippage::Bps(f64::NAN)), "slippage.bps");
        assert_eq!(key(Slippage::Bps(1000.5)), "slippage.bps");
        assert_eq!(
            key(Slippage::VolumeShare {
                k_bps: 1e4,
                exponent: 0.5
            }),
            "slippage.volume_share.k_bps"
        );
        assert_eq!(
            key(Slippage::VolumeShare {
                k_bps: 10.0,
                exponent: 0.0
            }),
            "slippage.volume_share.exponent"
        );
    }

    #[test]
    fn latency_by_bars_and_millis() {
        let t = UnixNanos(1_700_000_000_000_000_000);
        assert!(!eligible(t, t, Latency::Bars(0), 0));
        assert!(eligible(t, t, Latency::Bars(0), 1));
        assert!(!eligible(t, t, Latency::Bars(2), 2));
        assert!(eligible(t, t, Latency::Bars(2), 3));
        assert!(!eligible(t, t, Latency::Bars(u32::MAX), u32::MAX));
        let ms = 1_000_000;
        // 250 ms: a bar opening at the submit instant is too early …
        assert!(!eligible(t, t, Latency::Millis(250), 1));
        assert!(!eligible(
            t,
            UnixNanos(t.0 + 249 * ms),
            Latency::Millis(250),
            1
        ));
        // … one opening 250 ms later is the first
        assert!(eligible(
            t,
            UnixNanos(t.0 + 250 * ms),
            Latency::Millis(250),
            1
        ));
        // never the submission bar
        assert!(!eligible(
            t,
            UnixNanos(t.0 + 1000 * ms),
            Latency::Millis(0),
            0
        ));
        assert!(eligible(t, t, Latency::Millis(0), 1));
        // no overflow
        assert!(!eligible(
            UnixNanos(i64::MAX),
            UnixNanos(i64::MAX),
            Latency::Millis(u64::MAX),
            5
        ));
        // intraday opens
        let close = UnixNanos(t.0 + 300 * 1000 * ms);
        assert_eq!(intraday_open(close, Interval::M5), Some(t));
        assert_eq!(intraday_open(close, Interval::D1), None);
        assert_eq!(intraday_open(UnixNanos(i64::MIN), Interval::M1), None);
        assert!(Latency::Bars(1000).validate().is_ok());
        assert!(Latency::Bars(1001).validate().is_err());
        assert!(Latency::Millis(86_400_001).validate().is_err());
    }

    #[test]
    fn fill_on_bar_chains_the_rules() {
        let r = MarketRules::new(RuleSet::CnA);
        let main = inst("600000.SH");
        let req = |side, kind, leaves| FillRequest {
            side,
            kind,
            leaves,
            sellable: q(1000),
            rules: &r,
            inst: &main,
            price_limit: band(),
        };
        let cfg = FillConfig {
            participation: Some(Participation::new(0.01).unwrap()),
            slippage: Slippage::Bps(5.0),
            ..FillConfig::default()
        };
        let mut input = raw(10.00, 10.50, 9.50, 10.20);
        input.volume = 25_000.0;
        let b = TickBar::new(&input, dec!(0.01)).unwrap();
        // 1 % of 25,000 = 250 → 200; at the open 10.00 + 5 bps → 10.01
        let f = fill_on_bar(&req(B, OrderKind::Market, q(1000)), &b, &cfg).unwrap();
        assert_eq!(
            (f.price, f.quantity, f.model_price),
            (p(dec!(10.01)), q(200), p(dec!(10.00)))
        );
        // a buy limit at the open: slippage cannot push it through the limit
        let f = fill_on_bar(&req(B, OrderKind::Limit(p(dec!(10.00))), q(1000)), &b, &cfg);
        assert_eq!(f.unwrap().price, p(dec!(10.00)));
        // reasons
        let no = |rq: FillRequest<'_>, b: &TickBar| fill_on_bar(&rq, b, &cfg).unwrap_err();
        assert_eq!(
            no(req(B, OrderKind::Limit(p(dec!(9.00))), q(100)), &b),
            NoFill::Pending
        );
        assert_eq!(no(req(B, OrderKind::Market, q(50)), &b), NoFill::BelowLot);
        let mut thin = input;
        thin.volume = 9_000.0; // cap 90 < 100
        let thin = TickBar::new(&thin, dec!(0.01)).unwrap();
        assert_eq!(
            no(req(B, OrderKind::Market, q(1000)), &thin),
            NoFill::VolumeCap
        );
        assert!(NoFill::VolumeCap.fired());
        let locked = bar(11.00, 11.00, 11.00, 11.00);
        assert_eq!(
            no(req(B, OrderKind::Market, q(100)), &locked),
            NoFill::LimitUp
        );
        // a stop that gaps to a locked limit-up fires but cannot fill
        let e = no(req(B, OrderKind::Stop(p(dec!(10.80))), q(100)), &locked);
        assert_eq!(e, NoFill::LimitUp);
        assert!(e.fired());
        let mut rq = req(S, OrderKind::Market, q(100));
        rq.sellable = q(0);
        assert_eq!(no(rq, &b), NoFill::NothingSellable);
        let idx = Instrument::infer(Symbol::new("000300.SH").unwrap(), true).unwrap();
        let mut rq = req(B, OrderKind::Market, q(100));
        rq.inst = &idx;
        assert_eq!(no(rq, &b), NoFill::NotTradable);
        // same-close: a buy limit evaluated on the closing auction only
        let cfg = FillConfig::default();
        let c = b.close_only();
        let rq = req(B, OrderKind::Limit(p(dec!(10.00))), q(100));
        assert_eq!(fill_on_bar(&rq, &c, &cfg), Err(NoFill::Pending));
        let rq = req(B, OrderKind::Limit(p(dec!(10.20))), q(100));
        assert_eq!(fill_on_bar(&rq, &c, &cfg).unwrap().price, p(dec!(10.20)));
        assert_eq!(NoFill::Suspended.as_str(), "suspended");
        assert!(!NoFill::Pending.fired());
    }

    #[test]
    fn settings_read_from_config_values() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error as DeError, MapAccessDeserializer, MapDeserializer};
        let unit = |s: &'static str| FillModel::deserialize(s.into_deserializer());
        let unit: fn(&'static str) -> std::result::Result<FillModel, DeError> = unit;
        assert_eq!(unit("next_open").unwrap(), FillModel::NextOpen);
        assert_eq!(unit("same_close").unwrap(), FillModel::SameClose);
        assert_eq!(unit("vwap").unwrap(), FillModel::Vwap);
        assert!(unit("midpoint").is_err());
        let slip: std::result::Result<Slippage, DeError> = Slippage::deserialize(
            MapAccessDeserializer::new(MapDeserializer::new([("bps", 5.0f64)].into_iter())),
        );
        assert_eq!(slip.unwrap(), Slippage::Bps(5.0));
        let lat: std::result::Result<Latency, DeError> = Latency::deserialize(
            MapAccessDeserializer::new(MapDeserializer::new([("millis", 250u64)].into_iter())),
        );
        assert_eq!(lat.unwrap(), Latency::Millis(250));
        let part: std::result::Result<Participation, DeError> =
            Participation::deserialize(0.25f64.into_deserializer());
        assert_eq!(part.unwrap().get(), 0.25);
        let part: std::result::Result<Participation, DeError> =
            Participation::deserialize(1.5f64.into_deserializer());
        assert!(part.is_err());
        let lf: std::result::Result<LimitFill, DeError> =
            LimitFill::deserialize("through".into_deserializer());
        assert_eq!(lf.unwrap(), LimitFill::Through);
        let rule: std::result::Result<PriceLimitRule, DeError> =
            PriceLimitRule::deserialize("locked_bar".into_deserializer());
        assert_eq!(rule.unwrap(), PriceLimitRule::LockedBar);
        assert!(FillConfig::default().validate().is_ok());
        let bad = FillConfig {
            latency: Latency::Bars(5000),
            ..FillConfig::default()
        };
        assert!(matches!(bad.validate(), Err(Error::Setting { key, .. }) if key == "latency.bars"));
    }
}
