//! Technical indicators and candlestick patterns that give TA-Lib's numbers.
//!
//! Every indicator comes twice:
//! - a **batch** function over slices (`&[f64]` in, `Vec<f64>` or a struct of
//!   them out, one output row per input row) with `NaN` over the lookback,
//!   exactly where TA-Lib has no value;
//! - a **streaming** type implementing [`Indicator`]: `update(input)` returns
//!   `Some(output)` once the lookback has passed, bar by bar, with the same
//!   numbers as the batch function (bit for bit: tested), for paper and live
//!   trading.
//!
//! Names, parameters, defaults and lookbacks follow TA-Lib 0.8.x (the
//! conventions are in `docs/indicators.md`; golden outputs of TA-Lib 0.8.2 on
//! real daily data are checked to 1e-9 in the tests). Beyond TA-Lib:
//! rolling VWAP, Donchian and Keltner channels, Ichimoku and a rolling
//! z-score. Indicators are named with parameters (`RSI(14)`,
//! `MACD(12,26,9).hist`) through [`spec`].
//!
//! # Bad input
//! A period of 0 (or below TA-Lib's minimum) or above [`MAX_PERIOD`], a
//! multiplier outside [`MULTIPLIER_RANGE`] or a fraction outside
//! [`FRACTION_RANGE`], fewer usable rows than the lookback + 1, slices of
//! different lengths and a high below its low are [`Error`]s, never
//! garbage output or a panic. The limits are checked by every constructor
//! of a streaming type and so by every batch function and spec, whatever
//! the source of the numbers (a strategy file, a command line).
//!
//! # NaN inside the input
//! A row with `NaN` in any field the indicator reads is a **missing bar**
//! (a suspension, a gap in a panel): its output is `NaN` (`None` when
//! streaming) and the indicator's state does not move, so the next row
//! continues as if the missing one were not there. Leading `NaN`s (a series
//! that starts late in an aligned panel) therefore just delay the first
//! value; the lookback counts usable rows. This matches TA-Lib on gap-free
//! input and never lets one `NaN` poison a running sum for good.

pub mod candles;
mod error;
pub mod exact;
pub mod momentum;
pub mod overlap;
pub mod spec;
pub mod statistic;
pub mod trend;
mod util;
pub mod volatility;
pub mod volume;

pub use error::{Error, Result};

/// Largest period (window length, in bars) of any indicator parameter:
/// 100,000 bars, four centuries of daily bars or more than a year of
/// one-minute A-share bars. Larger values are refused with
/// [`Error::InvalidParameter`] (they could only exhaust memory: a window
/// holds its values).
pub const MAX_PERIOD: usize = 100_000;

/// Allowed range of the standard-deviation and ATR multipliers
/// (`BBANDS` `nbdevup`/`nbdevdn`, `STDDEV` `nbdev`, `KELTNER` `mult`):
/// `[0, 100]`. TA-Lib accepts any real; a band 100 standard deviations
/// wide, or one inverted by a negative multiplier, is a typo.
pub const MULTIPLIER_RANGE: (f64, f64) = (0.0, 100.0);

/// Allowed range of fractional parameters (`SAR` `acceleration` and
/// `maximum`, the candlestick `penetration`): `[0, 1]`.
pub const FRACTION_RANGE: (f64, f64) = (0.0, 1.0);
pub use exact::{ExactSma, ExactSum};
pub use spec::{IndicatorSpec, available, parse_spec};

/// A streaming indicator: feed one input at a time, get the output once the
/// lookback has passed.
///
/// `update` returns `None` while the indicator is in its lookback and for a
/// missing input (a `NaN` in a field it reads; the state does not move).
/// After `lookback()` usable inputs, every usable input gives `Some`.
pub trait Indicator {
    /// What one step consumes: `f64` (a close or any value) or [`Ohlcv`].
    type Input: Copy;
    /// What one step produces: `f64`, `i32` (candlestick patterns) or a
    /// struct of named outputs.
    type Output: Copy;

    /// Consumes one input; see the trait docs.
    fn update(&mut self, input: Self::Input) -> Option<Self::Output>;

    /// Usable inputs consumed before the first output (TA-Lib's lookback).
    fn lookback(&self) -> usize;

    /// Forgets all state, as if newly built with the same parameters.
    fn reset(&mut self);
}

/// One bar's open, high, low, close and volume for the streaming indicators.
///
/// Built with [`Ohlcv::new`], which refuses a high below its low; fields an
/// indicator does not read may be `NaN` (e.g. [`Ohlcv::hlc`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ohlcv {
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

impl Ohlcv {
    /// A bar; prices in any one currency, volume in shares/coins.
    ///
    /// # Errors
    /// [`Error::HighBelowLow`] (index 0) when `high < low`.
    pub fn new(open: f64, high: f64, low: f64, close: f64, volume: f64) -> Result<Self> {
        if high < low {
            return Err(Error::HighBelowLow {
                index: 0,
                high,
                low,
            });
        }
        Ok(Self {
            open,
            high,
            low,
            close,
            volume,
        })
    }

    /// A bar with only high, low and close (open and volume `NaN`), for the
    /// indicators that read no more (ATR, ADX, STOCH, CCI, WILLR…).
    ///
    /// # Errors
    /// [`Error::HighBelowLow`] when `high < low`.
    pub fn hlc(high: f64, low: f64, close: f64) -> Result<Self> {
        Self::new(f64::NAN, high, low, close, f64::NAN)
    }

    /// Built by the batch functions after they checked high ≥ low.
    #[inline]
    pub(crate) fn unchecked(open: f64, high: f64, low: f64, close: f64, volume: f64) -> Self {
        Self {
            open,
            high,
            low,
            close,
            volume,
        }
    }

    /// Opening price.
    #[inline]
    pub fn open(&self) -> f64 {
        self.open
    }
    /// Highest price.
    #[inline]
    pub fn high(&self) -> f64 {
        self.high
    }
    /// Lowest price.
    #[inline]
    pub fn low(&self) -> f64 {
        self.low
    }
    /// Closing price.
    #[inline]
    pub fn close(&self) -> f64 {
        self.close
    }
    /// Traded volume.
    #[inline]
    pub fn volume(&self) -> f64 {
        self.volume
    }
}

impl TryFrom<&quant_core::Bar> for Ohlcv {
    type Error = Error;

    /// The bar's raw open, high, low, close and volume.
    fn try_from(bar: &quant_core::Bar) -> Result<Self> {
        Self::new(bar.open, bar.high, bar.low, bar.close, bar.volume)
    }
}
