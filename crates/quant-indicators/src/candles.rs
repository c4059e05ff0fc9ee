//! Candlestick patterns with TA-Lib's output convention: +100 bullish,
//! −100 bearish, 0 none (±80 for the weaker forms of CDLENGULFING and
//! CDLHARAMI), after the pattern's lookback.
//!
//! "Long", "short", "near" and so on are judged against the average of
//! the previous candles, with TA-Lib's default candle settings
//! ([`CandleSetting`]): e.g. a real body is *short* when it is below the
//! mean real body of the previous 10 candles. The running averages are kept
//! exactly as TA-Lib keeps them (same start, same order of additions), so
//! comparisons decide the same way. Source: TA-Lib `ta_CDL*.c`,
//! `ta_global.c` (`TA_CandleDefaultSettings`); Nison, *Japanese Candlestick
//! Charting Techniques* (1991).

use crate::util::{BarSlices, batch_bars, check_real, one};
use crate::{Indicator, Ohlcv, Result};

/// What a candle setting measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RangeType {
    /// |close − open|.
    RealBody,
    /// high − low.
    HighLow,
    /// Upper + lower shadow (the average is halved: one shadow).
    Shadows,
}

/// A TA-Lib candle setting: `factor × average of the last avg_period
/// candles' range` (the candle's own range when `avg_period` is 0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CandleSetting {
    /// What is measured.
    pub range: RangeType,
    /// Candles averaged (before the one judged).
    pub avg_period: usize,
    /// Multiplier.
    pub factor: f64,
}

const fn setting(range: RangeType, avg_period: usize, factor: f64) -> CandleSetting {
    CandleSetting {
        range,
        avg_period,
        factor,
    }
}

/// Long real body: above the 10-candle mean body.
pub const BODY_LONG: CandleSetting = setting(RangeType::RealBody, 10, 1.0);
/// Short real body: below the 10-candle mean body.
pub const BODY_SHORT: CandleSetting = setting(RangeType::RealBody, 10, 1.0);
/// Doji body: at most 10% of the 10-candle mean high−low range.
pub const BODY_DOJI: CandleSetting = setting(RangeType::HighLow, 10, 0.1);
/// Long shadow: longer than the candle's own real body.
pub const SHADOW_LONG: CandleSetting = setting(RangeType::RealBody, 0, 1.0);
/// Very short shadow: below 10% of the 10-candle mean high−low range.
pub const SHADOW_VERY_SHORT: CandleSetting = setting(RangeType::HighLow, 10, 0.1);
/// Near: within 20% of the 5-candle mean high−low range.
pub const NEAR: CandleSetting = setting(RangeType::HighLow, 5, 0.2);
/// Far: beyond 60% of the 5-candle mean high−low range.
pub const FAR: CandleSetting = setting(RangeType::HighLow, 5, 0.6);

#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
struct C {
    o: f64,
    h: f64,
    l: f64,
    c: f64,
}

impl C {
    #[inline]
    fn body(&self) -> f64 {
        (self.c - self.o).abs()
    }
    #[inline]
    fn top(&self) -> f64 {
        if self.c >= self.o { self.c } else { self.o }
    }
    #[inline]
    fn bottom(&self) -> f64 {
        if self.c >= self.o { self.o } else { self.c }
    }
    #[inline]
    fn upper(&self) -> f64 {
        self.h - self.top()
    }
    #[inline]
    fn lower(&self) -> f64 {
        self.bottom() - self.l
    }
    /// +1 white (close ≥ open), −1 black.
    #[inline]
    fn color(&self) -> i32 {
        if self.c >= self.o { 1 } else { -1 }
    }
    #[inline]
    fn range(&self, set: CandleSetting) -> f64 {
        match set.range {
            RangeType::RealBody => self.body(),
            RangeType::HighLow => self.h - self.l,
            RangeType::Shadows => self.upper() + self.lower(),
        }
    }
}

/// Real body of `a` entirely above that of `b`.
#[inline]
fn gap_up(a: &C, b: &C) -> bool {
    a.bottom() > b.top()
}

/// Real body of `a` entirely below that of `b`.
#[inline]
fn gap_down(a: &C, b: &C) -> bool {
    a.top() < b.bottom()
}

/// A running total of one setting's range over the `avg_period` candles
/// before the candle `offset` bars back.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Total {
    set: CandleSetting,
    offset: usize,
    sum: f64,
}

impl Total {
    const fn new(set: CandleSetting, offset: usize) -> Self {
        Self {
            set,
            offset,
            sum: 0.0,
        }
    }

    /// TA-Lib's `TA_CANDLEAVERAGE` for the candle `c`.
    #[inline]
    fn avg(&self, c: &C) -> f64 {
        let p = self.set.avg_period;
        let base = if p != 0 {
            self.sum / p as f64
        } else {
            c.range(self.set)
        };
        let div = if self.set.range == RangeType::Shadows {
            2.0
        } else {
            1.0
        };
        self.set.factor * base / div
    }
}

/// The patterns provided.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Pattern {
    /// `CDLENGULFING`: a body that engulfs the previous opposite-colour
    /// body; ±100, or ±80 when one end of the bodies is equal. Lookback 2.
    Engulfing,
    /// `CDLDOJI`: body ≤ 10% of the mean range; +100. Lookback 10.
    Doji,
    /// `CDLHAMMER`: short body, long lower shadow, very short upper shadow,
    /// body near the previous low; +100. Lookback 11.
    Hammer,
    /// `CDLSHOOTINGSTAR`: short body gapping up, long upper shadow, very
    /// short lower shadow; −100. Lookback 11.
    ShootingStar,
    /// `CDLMORNINGSTAR(penetration=0.3)`: long black, short body gapping
    /// down, white closing above the first body by `penetration` of it;
    /// +100. Lookback 12.
    MorningStar {
        /// Fraction of the first body the third close must reach into.
        penetration: f64,
    },
    /// `CDLEVENINGSTAR(penetration=0.3)`: the bearish mirror; −100.
    /// Lookback 12.
    EveningStar {
        /// Fraction of the first body the third close must reach into.
        penetration: f64,
    },
    /// `CDLHARAMI`: a short body inside the previous long body; −100 after
    /// a white, +100 after a black; ±80 when one end touches. Lookback 11.
    Harami,
    /// `CDL3WHITESOLDIERS`: three rising white candles with very short upper
    /// shadows, each opening within or near the previous body and not far
    /// shorter; +100. Lookback 12.
    ThreeWhiteSoldiers,
    /// `CDL3BLACKCROWS`: a white candle then three falling black ones with
    /// very short lower shadows, each opening within the previous body;
    /// −100. Lookback 13.
    ThreeBlackCrows,
    /// `CDLMARUBOZU`: a long body with very short shadows; ±100 by colour.
    /// Lookback 10.
    Marubozu,
}

impl Pattern {
    /// TA-Lib's function name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Engulfing => "CDLENGULFING",
            Self::Doji => "CDLDOJI",
            Self::Hammer => "CDLHAMMER",
            Self::ShootingStar => "CDLSHOOTINGSTAR",
            Self::MorningStar { .. } => "CDLMORNINGSTAR",
            Self::EveningStar { .. } => "CDLEVENINGSTAR",
            Self::Harami => "CDLHARAMI",
            Self::ThreeWhiteSoldiers => "CDL3WHITESOLDIERS",
            Self::ThreeBlackCrows => "CDL3BLACKCROWS",
            Self::Marubozu => "CDLMARUBOZU",
        }
    }

    fn lookback(&self) -> usize {
        match self {
            Self::Engulfing => 2,
            Self::Doji | Self::Marubozu => 10,
            Self::Hammer | Self::ShootingStar | Self::Harami => 11,
            Self::MorningStar { .. } | Self::EveningStar { .. } | Self::ThreeWhiteSoldiers => 12,
            Self::ThreeBlackCrows => 13,
        }
    }

    fn totals(&self) -> Vec<Total> {
        match self {
            Self::Engulfing => vec![],
            Self::Doji => vec![Total::new(BODY_DOJI, 0)],
            Self::Hammer => vec![
                Total::new(BODY_SHORT, 0),
                Total::new(SHADOW_LONG, 0),
                Total::new(SHADOW_VERY_SHORT, 0),
                Total::new(NEAR, 1),
            ],
            Self::ShootingStar => vec![
                Total::new(BODY_SHORT, 0),
                Total::new(SHADOW_LONG, 0),
                Total::new(SHADOW_VERY_SHORT, 0),
            ],
            Self::MorningStar { .. } | Self::EveningStar { .. } => vec![
                Total::new(BODY_LONG, 2),
                Total::new(BODY_SHORT, 1),
                Total::new(BODY_SHORT, 0),
            ],
            Self::Harami => vec![Total::new(BODY_LONG, 1), Total::new(BODY_SHORT, 0)],
            Self::ThreeWhiteSoldiers => vec![
                Total::new(SHADOW_VERY_SHORT, 2),
                Total::new(SHADOW_VERY_SHORT, 1),
                Total::new(SHADOW_VERY_SHORT, 0),
                Total::new(NEAR, 2),
                Total::new(NEAR, 1),
                Total::new(FAR, 2),
                Total::new(FAR, 1),
                Total::new(BODY_SHORT, 0),
            ],
            Self::ThreeBlackCrows => vec![
                Total::new(SHADOW_VERY_SHORT, 2),
                Total::new(SHADOW_VERY_SHORT, 1),
                Total::new(SHADOW_VERY_SHORT, 0),
            ],
            Self::Marubozu => vec![Total::new(BODY_LONG, 0), Total::new(SHADOW_VERY_SHORT, 0)],
        }
    }

    /// The pattern at the newest candle `b[0]` (`b[k]` = k bars back).
    fn eval(&self, b: &[C], t: &[Total]) -> i32 {
        let (c0, c1) = (&b[0], &b[1]);
        match *self {
            Self::Engulfing => {
                let white_engulfs = c0.color() == 1
                    && c1.color() == -1
                    && ((c0.c >= c1.o && c0.o < c1.c) || (c0.c > c1.o && c0.o <= c1.c));
                let black_engulfs = c0.color() == -1
                    && c1.color() == 1
                    && ((c0.o >= c1.c && c0.c < c1.o) || (c0.o > c1.c && c0.c <= c1.o));
                if white_engulfs || black_engulfs {
                    if c0.o != c1.c && c0.c != c1.o {
                        c0.color() * 100
                    } else {
                        c0.color() * 80
                    }
                } else {
                    0
                }
            }
            Self::Doji => {
                if c0.body() <= t[0].avg(c0) {
                    100
                } else {
                    0
                }
            }
            Self::Hammer => {
                if c0.body() < t[0].avg(c0)
                    && c0.lower() > t[1].avg(c0)
                    && c0.upper() < t[2].avg(c0)
                    && c0.bottom() <= c1.l + t[3].avg(c1)
                {
                    100
                } else {
                    0
                }
            }
            Self::ShootingStar => {
                if c0.body() < t[0].avg(c0)
                    && c0.upper() > t[1].avg(c0)
                    && c0.lower() < t[2].avg(c0)
                    && gap_up(c0, c1)
                {
                    -100
                } else {
                    0
                }
            }
            Self::MorningStar { penetration } => {
                let c2 = &b[2];
                if c2.body() > t[0].avg(c2)
                    && c2.color() == -1
                    && c1.body() <= t[1].avg(c1)
                    && gap_down(c1, c2)
                    && c0.body() > t[2].avg(c0)
                    && c0.color() == 1
                    && c0.c > c2.c + c2.body() * penetration
                {
                    100
                } else {
                    0
                }
            }
            Self::EveningStar { penetration } => {
                let c2 = &b[2];
                if c2.body() > t[0].avg(c2)
                    && c2.color() == 1
                    && c1.body() <= t[1].avg(c1)
                    && gap_up(c1, c2)
                    && c0.body() > t[2].avg(c0)
                    && c0.color() == -1
                    && c0.c < c2.c - c2.body() * penetration
                {
                    -100
                } else {
                    0
                }
            }
            Self::Harami => {
                if c1.body() > t[0].avg(c1) && c0.body() <= t[1].avg(c0) {
                    if c0.top() < c1.top() && c0.bottom() > c1.bottom() {
                        -c1.color() * 100
                    } else if c0.top() <= c1.top() && c0.bottom() >= c1.bottom() {
                        -c1.color() * 80
                    } else {
                        0
                    }
                } else {
                    0
                }
            }
            Self::ThreeWhiteSoldiers => {
                let c2 = &b[2];
                if c2.color() == 1
                    && c2.upper() < t[0].avg(c2)
                    && c1.color() == 1
                    && c1.upper() < t[1].avg(c1)
                    && c0.color() == 1
                    && c0.upper() < t[2].avg(c0)
                    && c0.c > c1.c
                    && c1.c > c2.c
                    && c1.o > c2.o
                    && c1.o <= c2.c + t[3].avg(c2)
                    && c0.o > c1.o
                    && c0.o <= c1.c + t[4].avg(c1)
                    && c1.body() > c2.body() - t[5].avg(c2)
                    && c0.body() > c1.body() - t[6].avg(c1)
                    && c0.body() > t[7].avg(c0)
                {
                    100
                } else {
                    0
                }
            }
            Self::ThreeBlackCrows => {
                let (c2, c3) = (&b[2], &b[3]);
                if c3.color() == 1
                    && c2.color() == -1
                    && c2.lower() < t[0].avg(c2)
                    && c1.color() == -1
                    && c1.lower() < t[1].avg(c1)
                    && c0.color() == -1
                    && c0.lower() < t[2].avg(c0)
                    && c1.o < c2.o
                    && c1.o > c2.c
                    && c0.o < c1.o
                    && c0.o > c1.c
                    && c3.h > c2.c
                    && c2.c > c1.c
                    && c1.c > c0.c
                {
                    -100
                } else {
                    0
                }
            }
            Self::Marubozu => {
                if c0.body() > t[0].avg(c0)
                    && c0.upper() < t[1].avg(c0)
                    && c0.lower() < t[1].avg(c0)
                {
                    c0.color() * 100
                } else {
                    0
                }
            }
        }
    }
}

/// A streaming candlestick pattern: `update(bar)` returns +100/−100/0
/// (±80 where the pattern has a weaker form) once the lookback has passed.
/// Reads open, high, low and close. A saved state is deserialised only
/// when it fits its pattern (lookback, settings, window lengths).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "CandleRepr")]
pub struct Candle {
    pattern: Pattern,
    lookback: usize,
    totals: Vec<Total>,
    /// The last `lookback + 1` candles, newest at `head − 1`.
    ring: Vec<C>,
    head: usize,
    seen: usize,
    scratch: Vec<C>,
}

/// [`Candle`] as saved, before its consistency is checked.
#[derive(serde::Deserialize)]
struct CandleRepr {
    pattern: Pattern,
    lookback: usize,
    totals: Vec<Total>,
    ring: Vec<C>,
    head: usize,
    seen: usize,
    scratch: Vec<C>,
}

impl TryFrom<CandleRepr> for Candle {
    type Error = String;

    fn try_from(r: CandleRepr) -> std::result::Result<Self, String> {
        let want = r.pattern.totals();
        let settings_fit = r.totals.len() == want.len()
            && r.totals
                .iter()
                .zip(&want)
                .all(|(a, b)| a.set == b.set && a.offset == b.offset);
        let window = r.pattern.lookback() + 1;
        if r.lookback != r.pattern.lookback()
            || !settings_fit
            || r.ring.len() != window
            || r.scratch.len() != window
            || r.head >= window
        {
            return Err(format!(
                "inconsistent {} state (lookback {}, {} candles held, head {})",
                r.pattern.name(),
                r.lookback,
                r.ring.len(),
                r.head
            ));
        }
        Ok(Self {
            pattern: r.pattern,
            lookback: r.lookback,
            totals: r.totals,
            ring: r.ring,
            head: r.head,
            seen: r.seen,
            scratch: r.scratch,
        })
    }
}

impl Candle {
    /// A detector for `pattern`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for a penetration outside
    /// [`crate::FRACTION_RANGE`] (or not finite).
    pub fn new(pattern: Pattern) -> Result<Self> {
        if let Pattern::MorningStar { penetration } | Pattern::EveningStar { penetration } = pattern
        {
            check_real(
                pattern.name(),
                "penetration",
                penetration,
                crate::FRACTION_RANGE,
            )?;
        }
        let lookback = pattern.lookback();
        Ok(Self {
            pattern,
            lookback,
            totals: pattern.totals(),
            ring: vec![C::default(); lookback + 1],
            head: 0,
            seen: 0,
            scratch: vec![C::default(); lookback + 1],
        })
    }

    /// The candle `k` bars back (0 = newest).
    #[inline]
    fn back(&self, k: usize) -> C {
        let cap = self.ring.len();
        self.ring[(self.head + cap - 1 - k) % cap]
    }
}

impl Indicator for Candle {
    type Input = Ohlcv;
    type Output = i32;

    fn update(&mut self, bar: Ohlcv) -> Option<i32> {
        let c = C {
            o: bar.open(),
            h: bar.high(),
            l: bar.low(),
            c: bar.close(),
        };
        if c.o.is_nan() || c.h.is_nan() || c.l.is_nan() || c.c.is_nan() {
            return None;
        }
        let cap = self.ring.len();
        self.ring[self.head] = c;
        self.head = (self.head + 1) % cap;
        let k = self.seen;
        self.seen += 1;
        let lb = self.lookback;
        if k < lb {
            // TA-Lib primes each total over bars [lb − p, lb) − offset
            for i in 0..self.totals.len() {
                let t = self.totals[i];
                let p = t.set.avg_period;
                if p > 0 && k + p >= lb {
                    let r = self.back(t.offset).range(t.set);
                    self.totals[i].sum += r;
                }
            }
            return None;
        }
        for j in 0..=lb.min(3) {
            self.scratch[j] = self.back(j);
        }
        let out = self.pattern.eval(&self.scratch, &self.totals);
        for i in 0..self.totals.len() {
            let t = self.totals[i];
            let p = t.set.avg_period;
            if p > 0 {
                let add = self.back(t.offset).range(t.set);
                let sub = self.back(t.offset + p).range(t.set);
                self.totals[i].sum += add - sub;
            }
        }
        Some(out)
    }

    fn lookback(&self) -> usize {
        self.lookback
    }

    fn reset(&mut self) {
        self.totals = self.pattern.totals();
        self.head = 0;
        self.seen = 0;
    }
}

/// Batch pattern over OHLC slices: `NaN` over the lookback, then
/// +100/−100/0 (±80) as `f64`.
///
/// # Errors
/// Invalid penetration, mismatched lengths, high < low, too few usable rows.
pub fn pattern(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    pattern: Pattern,
) -> Result<Vec<f64>> {
    batch_bars(
        pattern.name(),
        Candle::new(pattern)?,
        BarSlices::ohlc(open, high, low, close),
    )
    .map(one)
}

macro_rules! batch_fn {
    ($(#[$doc:meta])* $name:ident, $pat:expr) => {
        $(#[$doc])*
        ///
        /// # Errors
        /// Mismatched lengths, high < low, too few usable rows.
        pub fn $name(open: &[f64], high: &[f64], low: &[f64], close: &[f64]) -> Result<Vec<f64>> {
            pattern(open, high, low, close, $pat)
        }
    };
}

batch_fn!(
    /// TA-Lib `CDLENGULFING`; see [`Pattern::Engulfing`].
    cdlengulfing,
    Pattern::Engulfing
);
batch_fn!(
    /// TA-Lib `CDLDOJI`; see [`Pattern::Doji`].
    cdldoji,
    Pattern::Doji
);
batch_fn!(
    /// TA-Lib `CDLHAMMER`; see [`Pattern::Hammer`].
    cdlhammer,
    Pattern::Hammer
);
batch_fn!(
    /// TA-Lib `CDLSHOOTINGSTAR`; see [`Pattern::ShootingStar`].
    cdlshootingstar,
    Pattern::ShootingStar
);
batch_fn!(
    /// TA-Lib `CDLHARAMI`; see [`Pattern::Harami`].
    cdlharami,
    Pattern::Harami
);
batch_fn!(
    /// TA-Lib `CDL3WHITESOLDIERS`; see [`Pattern::ThreeWhiteSoldiers`].
    cdl3whitesoldiers,
    Pattern::ThreeWhiteSoldiers
);
batch_fn!(
    /// TA-Lib `CDL3BLACKCROWS`; see [`Pattern::ThreeBlackCrows`].
    cdl3blackcrows,
    Pattern::ThreeBlackCrows
);
batch_fn!(
    /// TA-Lib `CDLMARUBOZU`; see [`Pattern::Marubozu`].
    cdlmarubozu,
    Pattern::Marubozu
);

/// TA-Lib `CDLMORNINGSTAR(penetration=0.3)`; see [`Pattern::MorningStar`].
///
/// # Errors
/// Bad penetration, mismatched lengths, high < low, too few usable rows.
pub fn cdlmorningstar(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    penetration: f64,
) -> Result<Vec<f64>> {
    pattern(open, high, low, close, Pattern::MorningStar { penetration })
}

/// TA-Lib `CDLEVENINGSTAR(penetration=0.3)`; see [`Pattern::EveningStar`].
///
/// # Errors
/// Bad penetration, mismatched lengths, high < low, too few usable rows.
pub fn cdleveningstar(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    penetration: f64,
) -> Result<Vec<f64>> {
    pattern(open, high, low, close, Pattern::EveningStar { penetration })
}
