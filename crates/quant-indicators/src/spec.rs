//! Indicators by name: `RSI(14)`, `MACD(12,26,9).hist`, `BBANDS(20,2,2).upper`.
//!
//! One parser ([`parse_spec`]) and one registry ([`available`]) serve
//! declarative strategy files, the `quant-data indicators` command and
//! users. A spec is `NAME`, `NAME(p1, p2, …)` or either followed by
//! `.output`; names are TA-Lib's (case-insensitive); parameters may be left
//! off from the right and take TA-Lib's defaults. Periods come first and
//! MA types last (`STOCH(5,3,3)` is fast %K 5, slow %K 3, slow %D 3, SMAs),
//! so the common short forms mean what they say.
//!
//! Column names: the name and the parameters as written, joined by `_`
//! (all defaults when none is written), then `_output` for multi-output
//! indicators: `RSI(14)` → `RSI_14`, `MACD(12,26,9)` →
//! `MACD_12_26_9_macd`, `…_signal`, `…_hist`; `OBV` → `OBV`.

use crate::candles::{Candle, Pattern};
use crate::momentum::{Aroon, Cci, Macd, Mfi, Mom, Roc, Rsi, Stoch, StochRsi, Ultosc, Willr};
use crate::overlap::{Bbands, Dema, Ema, Kama, MaType, Sar, Sma, Tema, Wma};
use crate::statistic::{LinearRegSlope, StdDev, ZScore};
use crate::trend::{Adx, Ichimoku, MinusDi, PlusDi};
use crate::util::{Row, check_inputs, ensure_enough};
use crate::volatility::{Atr, Donchian, Keltner, Natr, Trange};
use crate::volume::{Ad, Adosc, Obv, Vwap};
use crate::{Error, Indicator, Ohlcv, Result};

/// Up to four output values of one step, in the indicator's output order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Values {
    vals: [f64; 4],
    len: usize,
}

impl Values {
    /// The values, one per output.
    pub fn as_slice(&self) -> &[f64] {
        &self.vals[..self.len]
    }
}

impl Values {
    fn of_row<R: Row>(r: R) -> Self {
        Self {
            vals: r.values(),
            len: R::N,
        }
    }
}

/// A streaming indicator built from a spec, fed whole bars.
pub trait DynIndicator: Send {
    /// Consumes one bar; all outputs (or the selected one) once past the
    /// lookback. Indicators of one series read the close.
    fn update(&mut self, bar: Ohlcv) -> Option<Values>;
    /// Usable bars consumed before the first output.
    fn lookback(&self) -> usize;
    /// Forgets all state.
    fn reset(&mut self);
    /// The indicator's whole state, to save (a snapshot of a strategy).
    fn save(&self) -> IndicatorState;
    /// Replaces the state with a saved one ([`DynIndicator::save`]).
    ///
    /// # Errors
    /// [`Error::State`] when `state` is another indicator's, or the same
    /// indicator's with another lookback (other parameters); the state
    /// is then left as it was.
    fn load(&mut self, state: IndicatorState) -> Result<()>;
}

// The saved state of a streaming indicator of the registry (see
// `DynIndicator::save`): the indicator itself, with its parameters,
// windows and running sums, serialisable with serde.
macro_rules! indicator_states {
    ($($t:ident),* $(,)?) => {
        /// The saved state of one streaming indicator of the registry, by
        /// type: the indicator itself (parameters, windows, running sums),
        /// serialisable with serde. Floats are kept as they are (a binary
        /// format such as CBOR keeps them bit for bit, NaN and infinities
        /// included).
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
        pub enum IndicatorState {
            $(
                #[doc = concat!("A saved [`", stringify!($t), "`].")]
                $t($t),
            )*
        }

        impl IndicatorState {
            /// The indicator type's name (`Sma`, `Candle`…).
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Self::$t(_) => stringify!($t),)*
                }
            }
        }

        $(
            impl Saved for $t {
                const KIND: &'static str = stringify!($t);
                fn save(&self) -> IndicatorState {
                    IndicatorState::$t(self.clone())
                }
                fn load(state: IndicatorState) -> Option<Self> {
                    match state {
                        IndicatorState::$t(x) => Some(x),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )*
    };
}

/// A streaming type that has an [`IndicatorState`] variant.
trait Saved: Sized {
    const KIND: &'static str;
    fn save(&self) -> IndicatorState;
    fn load(state: IndicatorState) -> Option<Self>;
}

indicator_states!(
    Sma,
    Ema,
    Wma,
    Dema,
    Tema,
    Kama,
    Rsi,
    Macd,
    Bbands,
    Atr,
    Natr,
    Trange,
    Adx,
    PlusDi,
    MinusDi,
    Cci,
    Stoch,
    StochRsi,
    Willr,
    Roc,
    Mom,
    Obv,
    Ad,
    Adosc,
    Mfi,
    Sar,
    Aroon,
    Ultosc,
    StdDev,
    LinearRegSlope,
    Vwap,
    Donchian,
    Keltner,
    Ichimoku,
    ZScore,
    Candle,
);

/// `inner` replaced by the indicator saved in `state` when that is of
/// the same type and lookback.
fn load_into<I: Saved + Indicator>(inner: &mut I, state: IndicatorState) -> Result<()> {
    let found = state.kind();
    match I::load(state) {
        Some(x) if x.lookback() == inner.lookback() => {
            *inner = x;
            Ok(())
        }
        Some(x) => Err(Error::State {
            expected: I::KIND,
            found,
            reason: format!(
                "its lookback is {}, this indicator's {}",
                x.lookback(),
                inner.lookback()
            ),
        }),
        None => Err(Error::State {
            expected: I::KIND,
            found,
            reason: "another indicator".into(),
        }),
    }
}

struct OnClose<I>(I);
struct OnBar<I>(I);

impl<I> DynIndicator for OnClose<I>
where
    I: Indicator<Input = f64> + Saved + Send,
    I::Output: Row,
{
    fn update(&mut self, bar: Ohlcv) -> Option<Values> {
        self.0.update(bar.close()).map(Values::of_row)
    }
    fn lookback(&self) -> usize {
        self.0.lookback()
    }
    fn reset(&mut self) {
        self.0.reset();
    }
    fn save(&self) -> IndicatorState {
        self.0.save()
    }
    fn load(&mut self, state: IndicatorState) -> Result<()> {
        load_into(&mut self.0, state)
    }
}

impl<I> DynIndicator for OnBar<I>
where
    I: Indicator<Input = Ohlcv> + Saved + Send,
    I::Output: Row,
{
    fn update(&mut self, bar: Ohlcv) -> Option<Values> {
        self.0.update(bar).map(Values::of_row)
    }
    fn lookback(&self) -> usize {
        self.0.lookback()
    }
    fn reset(&mut self) {
        self.0.reset();
    }
    fn save(&self) -> IndicatorState {
        self.0.save()
    }
    fn load(&mut self, state: IndicatorState) -> Result<()> {
        load_into(&mut self.0, state)
    }
}

fn close<I>(i: I) -> Box<dyn DynIndicator>
where
    I: Indicator<Input = f64> + Saved + Send + 'static,
    I::Output: Row,
{
    Box::new(OnClose(i))
}

fn bars<I>(i: I) -> Box<dyn DynIndicator>
where
    I: Indicator<Input = Ohlcv> + Saved + Send + 'static,
    I::Output: Row,
{
    Box::new(OnBar(i))
}

/// Whether a parameter is an integer (a period, an MA type) or a real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Real,
}

/// One registry entry.
struct Def {
    name: &'static str,
    params: &'static [(&'static str, Kind, f64)],
    outputs: &'static [&'static str],
    /// Input columns read (`open`, `high`, `low`, `close`, `volume`).
    inputs: &'static [&'static str],
    /// Builds from the parameters, defaults filled in, in registry order
    /// (a fixed-size array: the closures' constant indices cannot be out
    /// of bounds).
    build: fn(&[f64; MAX_PARAMS]) -> Result<Box<dyn DynIndicator>>,
}

/// Most parameters of a registry entry (STOCH has five).
const MAX_PARAMS: usize = 5;

const C: &[&str] = &["close"];
const HL: &[&str] = &["high", "low"];
const HLC: &[&str] = &["high", "low", "close"];
const HLCV: &[&str] = &["high", "low", "close", "volume"];
const OHLC: &[&str] = &["open", "high", "low", "close"];
const P: Kind = Kind::Int;
const R: Kind = Kind::Real;

#[inline]
fn u(x: f64) -> usize {
    x as usize
}

fn ma(name: &'static str, param: &'static str, x: f64) -> Result<MaType> {
    MaType::from_code(name, param, x as i64)
}

fn candle(p: Pattern) -> Result<Box<dyn DynIndicator>> {
    Ok(bars(Candle::new(p)?))
}

static REGISTRY: &[Def] = &[
    Def {
        name: "SMA",
        params: &[("timeperiod", P, 30.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(Sma::new(u(p[0]))?)),
    },
    Def {
        name: "EMA",
        params: &[("timeperiod", P, 30.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(Ema::new(u(p[0]))?)),
    },
    Def {
        name: "WMA",
        params: &[("timeperiod", P, 30.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(Wma::new(u(p[0]))?)),
    },
    Def {
        name: "DEMA",
        params: &[("timeperiod", P, 30.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(Dema::new(u(p[0]))?)),
    },
    Def {
        name: "TEMA",
        params: &[("timeperiod", P, 30.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(Tema::new(u(p[0]))?)),
    },
    Def {
        name: "KAMA",
        params: &[("timeperiod", P, 30.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(Kama::new(u(p[0]))?)),
    },
    Def {
        name: "RSI",
        params: &[("timeperiod", P, 14.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(Rsi::new(u(p[0]))?)),
    },
    Def {
        name: "MACD",
        params: &[
            ("fastperiod", P, 12.0),
            ("slowperiod", P, 26.0),
            ("signalperiod", P, 9.0),
        ],
        outputs: &["macd", "signal", "hist"],
        inputs: C,
        build: |p| Ok(close(Macd::new(u(p[0]), u(p[1]), u(p[2]))?)),
    },
    Def {
        name: "BBANDS",
        params: &[
            ("timeperiod", P, 5.0),
            ("nbdevup", R, 2.0),
            ("nbdevdn", R, 2.0),
            ("matype", P, 0.0),
        ],
        outputs: &["upper", "middle", "lower"],
        inputs: C,
        build: |p| {
            Ok(close(Bbands::new(
                u(p[0]),
                p[1],
                p[2],
                ma("BBANDS", "matype", p[3])?,
            )?))
        },
    },
    Def {
        name: "ATR",
        params: &[("timeperiod", P, 14.0)],
        outputs: &[],
        inputs: HLC,
        build: |p| Ok(bars(Atr::new(u(p[0]))?)),
    },
    Def {
        name: "NATR",
        params: &[("timeperiod", P, 14.0)],
        outputs: &[],
        inputs: HLC,
        build: |p| Ok(bars(Natr::new(u(p[0]))?)),
    },
    Def {
        name: "TRANGE",
        params: &[],
        outputs: &[],
        inputs: HLC,
        build: |_| Ok(bars(Trange::new())),
    },
    Def {
        name: "ADX",
        params: &[("timeperiod", P, 14.0)],
        outputs: &[],
        inputs: HLC,
        build: |p| Ok(bars(Adx::new(u(p[0]))?)),
    },
    Def {
        name: "PLUS_DI",
        params: &[("timeperiod", P, 14.0)],
        outputs: &[],
        inputs: HLC,
        build: |p| Ok(bars(PlusDi::new(u(p[0]))?)),
    },
    Def {
        name: "MINUS_DI",
        params: &[("timeperiod", P, 14.0)],
        outputs: &[],
        inputs: HLC,
        build: |p| Ok(bars(MinusDi::new(u(p[0]))?)),
    },
    Def {
        name: "CCI",
        params: &[("timeperiod", P, 14.0)],
        outputs: &[],
        inputs: HLC,
        build: |p| Ok(bars(Cci::new(u(p[0]))?)),
    },
    Def {
        name: "STOCH",
        params: &[
            ("fastk_period", P, 5.0),
            ("slowk_period", P, 3.0),
            ("slowd_period", P, 3.0),
            ("slowk_matype", P, 0.0),
            ("slowd_matype", P, 0.0),
        ],
        outputs: &["slowk", "slowd"],
        inputs: HLC,
        build: |p| {
            Ok(bars(Stoch::new(
                u(p[0]),
                u(p[1]),
                ma("STOCH", "slowk_matype", p[3])?,
                u(p[2]),
                ma("STOCH", "slowd_matype", p[4])?,
            )?))
        },
    },
    Def {
        name: "STOCHRSI",
        params: &[
            ("timeperiod", P, 14.0),
            ("fastk_period", P, 5.0),
            ("fastd_period", P, 3.0),
            ("fastd_matype", P, 0.0),
        ],
        outputs: &["fastk", "fastd"],
        inputs: C,
        build: |p| {
            Ok(close(StochRsi::new(
                u(p[0]),
                u(p[1]),
                u(p[2]),
                ma("STOCHRSI", "fastd_matype", p[3])?,
            )?))
        },
    },
    Def {
        name: "WILLR",
        params: &[("timeperiod", P, 14.0)],
        outputs: &[],
        inputs: HLC,
        build: |p| Ok(bars(Willr::new(u(p[0]))?)),
    },
    Def {
        name: "ROC",
        params: &[("timeperiod", P, 10.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(Roc::new(u(p[0]))?)),
    },
    Def {
        name: "MOM",
        params: &[("timeperiod", P, 10.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(Mom::new(u(p[0]))?)),
    },
    Def {
        name: "OBV",
        params: &[],
        outputs: &[],
        inputs: &["close", "volume"],
        build: |_| Ok(bars(Obv::new())),
    },
    Def {
        name: "AD",
        params: &[],
        outputs: &[],
        inputs: HLCV,
        build: |_| Ok(bars(Ad::new())),
    },
    Def {
        name: "ADOSC",
        params: &[("fastperiod", P, 3.0), ("slowperiod", P, 10.0)],
        outputs: &[],
        inputs: HLCV,
        build: |p| Ok(bars(Adosc::new(u(p[0]), u(p[1]))?)),
    },
    Def {
        name: "MFI",
        params: &[("timeperiod", P, 14.0)],
        outputs: &[],
        inputs: HLCV,
        build: |p| Ok(bars(Mfi::new(u(p[0]))?)),
    },
    Def {
        name: "SAR",
        params: &[("acceleration", R, 0.02), ("maximum", R, 0.2)],
        outputs: &[],
        inputs: HL,
        build: |p| Ok(bars(Sar::new(p[0], p[1])?)),
    },
    Def {
        name: "AROON",
        params: &[("timeperiod", P, 14.0)],
        outputs: &["down", "up"],
        inputs: HL,
        build: |p| Ok(bars(Aroon::new(u(p[0]))?)),
    },
    Def {
        name: "ULTOSC",
        params: &[
            ("timeperiod1", P, 7.0),
            ("timeperiod2", P, 14.0),
            ("timeperiod3", P, 28.0),
        ],
        outputs: &[],
        inputs: HLC,
        build: |p| Ok(bars(Ultosc::new(u(p[0]), u(p[1]), u(p[2]))?)),
    },
    Def {
        name: "STDDEV",
        params: &[("timeperiod", P, 5.0), ("nbdev", R, 1.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(StdDev::new(u(p[0]), p[1])?)),
    },
    Def {
        name: "LINEARREG_SLOPE",
        params: &[("timeperiod", P, 14.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(LinearRegSlope::new(u(p[0]))?)),
    },
    Def {
        name: "VWAP",
        params: &[("timeperiod", P, 20.0)],
        outputs: &[],
        inputs: HLCV,
        build: |p| Ok(bars(Vwap::new(u(p[0]))?)),
    },
    Def {
        name: "DONCHIAN",
        params: &[("timeperiod", P, 20.0)],
        outputs: &["upper", "middle", "lower"],
        inputs: HL,
        build: |p| Ok(bars(Donchian::new(u(p[0]))?)),
    },
    Def {
        name: "KELTNER",
        params: &[
            ("timeperiod", P, 20.0),
            ("mult", R, 2.0),
            ("atr_period", P, 10.0),
        ],
        outputs: &["upper", "middle", "lower"],
        inputs: HLC,
        build: |p| Ok(bars(Keltner::new(u(p[0]), p[1], u(p[2]))?)),
    },
    Def {
        name: "ICHIMOKU",
        params: &[("tenkan", P, 9.0), ("kijun", P, 26.0), ("senkou", P, 52.0)],
        outputs: &["tenkan", "kijun", "senkou_a", "senkou_b"],
        inputs: HL,
        build: |p| Ok(bars(Ichimoku::new(u(p[0]), u(p[1]), u(p[2]))?)),
    },
    Def {
        name: "ZSCORE",
        params: &[("timeperiod", P, 20.0)],
        outputs: &[],
        inputs: C,
        build: |p| Ok(close(ZScore::new(u(p[0]))?)),
    },
    Def {
        name: "CDLENGULFING",
        params: &[],
        outputs: &[],
        inputs: OHLC,
        build: |_| candle(Pattern::Engulfing),
    },
    Def {
        name: "CDLDOJI",
        params: &[],
        outputs: &[],
        inputs: OHLC,
        build: |_| candle(Pattern::Doji),
    },
    Def {
        name: "CDLHAMMER",
        params: &[],
        outputs: &[],
        inputs: OHLC,
        build: |_| candle(Pattern::Hammer),
    },
    Def {
        name: "CDLSHOOTINGSTAR",
        params: &[],
        outputs: &[],
        inputs: OHLC,
        build: |_| candle(Pattern::ShootingStar),
    },
    Def {
        name: "CDLMORNINGSTAR",
        params: &[("penetration", R, 0.3)],
        outputs: &[],
        inputs: OHLC,
        build: |p| candle(Pattern::MorningStar { penetration: p[0] }),
    },
    Def {
        name: "CDLEVENINGSTAR",
        params: &[("penetration", R, 0.3)],
        outputs: &[],
        inputs: OHLC,
        build: |p| candle(Pattern::EveningStar { penetration: p[0] }),
    },
    Def {
        name: "CDLHARAMI",
        params: &[],
        outputs: &[],
        inputs: OHLC,
        build: |_| candle(Pattern::Harami),
    },
    Def {
        name: "CDL3WHITESOLDIERS",
        params: &[],
        outputs: &[],
        inputs: OHLC,
        build: |_| candle(Pattern::ThreeWhiteSoldiers),
    },
    Def {
        name: "CDL3BLACKCROWS",
        params: &[],
        outputs: &[],
        inputs: OHLC,
        build: |_| candle(Pattern::ThreeBlackCrows),
    },
    Def {
        name: "CDLMARUBOZU",
        params: &[],
        outputs: &[],
        inputs: OHLC,
        build: |_| candle(Pattern::Marubozu),
    },
];

fn signature(d: &Def) -> String {
    let mut s = d.name.to_string();
    if !d.params.is_empty() {
        let ps: Vec<String> = d
            .params
            .iter()
            .map(|(n, _, v)| format!("{n}={}", fmt_num(*v)))
            .collect();
        s.push_str(&format!("({})", ps.join(", ")));
    }
    if !d.outputs.is_empty() {
        s.push_str(&format!(" → {}", d.outputs.join("|")));
    }
    s
}

/// Every indicator the registry knows, with parameters, defaults and
/// outputs: `RSI(timeperiod=14)`, `MACD(fastperiod=12, …) → macd|signal|hist`.
pub fn available() -> Vec<String> {
    REGISTRY.iter().map(signature).collect()
}

/// A number as it appears in a column name: `14`, `2`, `0.02`.
fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// A parsed indicator spec.
#[derive(Clone)]
pub struct IndicatorSpec {
    text: String,
    def: &'static Def,
    /// All parameters, defaults filled in.
    params: Vec<f64>,
    /// Parameters as written (for the column name).
    written: usize,
    /// Selected output index, if any.
    output: Option<usize>,
}

impl std::fmt::Debug for IndicatorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndicatorSpec")
            .field("text", &self.text)
            .field("name", &self.def.name)
            .field("params", &self.params)
            .field("output", &self.output)
            .finish()
    }
}

/// Longest spec text [`parse_spec`] reads: 256 bytes (`BBANDS(20, 2, 2,
/// 0).upper` is 24). Longer text is an [`Error::Spec`] before any parsing.
pub const MAX_SPEC_LEN: usize = 256;

/// Parses `NAME`, `NAME(p, …)`, optionally followed by `.output`.
///
/// Any text is answered with a spec or an error, never a panic: text
/// longer than [`MAX_SPEC_LEN`], non-ASCII, empty or unbalanced
/// parentheses, numbers that are not finite or out of range are errors.
///
/// # Errors
/// [`Error::UnknownIndicator`] (listing every name), [`Error::UnknownOutput`]
/// (listing the outputs), [`Error::Spec`] for text longer than
/// [`MAX_SPEC_LEN`], syntax, a wrong parameter count, a non-integer period
/// or one above [`crate::MAX_PERIOD`], and [`Error::InvalidParameter`]
/// naming the parameter, the value and the allowed range for a value the
/// indicator refuses (checked by building it once).
pub fn parse_spec(text: &str) -> Result<IndicatorSpec> {
    if text.len() > MAX_SPEC_LEN {
        // quote only the start of an oversized spec
        let cut = (0..=48)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        return Err(Error::Spec {
            spec: format!("{}…", &text[..cut]),
            reason: format!(
                "{} bytes long; a spec has at most {MAX_SPEC_LEN}",
                text.len()
            ),
        });
    }
    let spec_err = |reason: String| Error::Spec {
        spec: text.to_string(),
        reason,
    };
    let s = text.trim();
    let (head, output) = match s.rfind(')') {
        Some(close) => {
            let rest = s[close + 1..].trim();
            let out = match rest.strip_prefix('.') {
                Some(o) => Some(o.trim()),
                None if rest.is_empty() => None,
                None => {
                    return Err(spec_err(format!(
                        "unexpected `{rest}` after `)`; expected `.output`"
                    )));
                }
            };
            (&s[..=close], out)
        }
        None => match s.split_once('.') {
            Some((h, o)) => (h, Some(o.trim())),
            None => (s, None),
        },
    };
    let (name, args) = match head.find('(') {
        Some(open) => {
            let inner = head[open + 1..]
                .strip_suffix(')')
                .ok_or_else(|| spec_err("missing `)`".into()))?;
            (head[..open].trim(), Some(inner))
        }
        None => {
            if head.contains(')') {
                return Err(spec_err("`)` without `(`".into()));
            }
            (head.trim(), None)
        }
    };
    let upper = name.to_ascii_uppercase();
    let def = REGISTRY
        .iter()
        .find(|d| d.name == upper)
        .ok_or_else(|| Error::UnknownIndicator {
            name: name.to_string(),
            available: available().join(", "),
        })?;
    let mut params: Vec<f64> = Vec::new();
    if let Some(inner) = args
        && !inner.trim().is_empty()
    {
        for (k, a) in inner.split(',').enumerate() {
            let a = a.trim();
            let Some((pname, kind, _)) = def.params.get(k) else {
                return Err(spec_err(format!(
                    "{} takes {} parameter(s): {}",
                    def.name,
                    def.params.len(),
                    signature(def)
                )));
            };
            let v: f64 = a
                .parse()
                .map_err(|_| spec_err(format!("parameter `{pname}` = `{a}` is not a number")))?;
            if !v.is_finite() || (*kind == Kind::Int && (v.fract() != 0.0 || v < 0.0)) {
                return Err(spec_err(format!(
                    "parameter `{pname}` = `{a}` must be {}",
                    if *kind == Kind::Int {
                        "a non-negative integer"
                    } else {
                        "a finite number"
                    }
                )));
            }
            // periods (and MA type codes) above the limit are refused here,
            // as written, before a conversion to an integer could saturate
            if *kind == Kind::Int && v > crate::MAX_PERIOD as f64 {
                return Err(spec_err(format!(
                    "parameter `{pname}` = `{a}` is out of range: periods are integers ≤ {}",
                    crate::MAX_PERIOD
                )));
            }
            params.push(v);
        }
    }
    let written = params.len();
    params.extend(def.params.iter().skip(written).map(|(_, _, d)| *d));
    let output = match output {
        None => None,
        Some(o) => {
            let idx = def.outputs.iter().position(|x| x.eq_ignore_ascii_case(o));
            match idx {
                Some(i) => Some(i),
                None => {
                    return Err(Error::UnknownOutput {
                        spec: text.to_string(),
                        indicator: def.name,
                        output: o.to_string(),
                        available: if def.outputs.is_empty() {
                            "a single unnamed output".into()
                        } else {
                            def.outputs.join(", ")
                        },
                    });
                }
            }
        }
    };
    let spec = IndicatorSpec {
        text: text.to_string(),
        def,
        params,
        written,
        output,
    };
    spec.build()?; // parameter values checked here, once
    Ok(spec)
}

/// Named input columns for [`IndicatorSpec::compute`]; a missing column is
/// `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Columns<'a> {
    /// Opening prices.
    pub open: Option<&'a [f64]>,
    /// Highs.
    pub high: Option<&'a [f64]>,
    /// Lows.
    pub low: Option<&'a [f64]>,
    /// Closes.
    pub close: Option<&'a [f64]>,
    /// Volumes.
    pub volume: Option<&'a [f64]>,
}

impl Columns<'_> {
    fn get(&self, name: &str) -> Option<&[f64]> {
        match name {
            "open" => self.open,
            "high" => self.high,
            "low" => self.low,
            "close" => self.close,
            "volume" => self.volume,
            _ => None,
        }
    }
}

impl IndicatorSpec {
    /// The spec as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The registry name (`RSI`).
    pub fn name(&self) -> &'static str {
        self.def.name
    }

    /// All parameters, defaults filled in, in registry order.
    pub fn params(&self) -> &[f64] {
        &self.params
    }

    /// The input columns the indicator reads.
    pub fn inputs(&self) -> &'static [&'static str] {
        self.def.inputs
    }

    /// The column stem: the name and the parameters as written (all
    /// defaults when none is), e.g. `MACD_12_26_9`.
    pub fn stem(&self) -> String {
        let shown = if self.written == 0 {
            self.params.len()
        } else {
            self.written
        };
        let mut base = self.def.name.to_string();
        for v in self.params.iter().take(shown) {
            base.push('_');
            base.push_str(&fmt_num(*v));
        }
        base
    }

    /// Output column names (see the module docs).
    pub fn columns(&self) -> Vec<String> {
        let base = self.stem();
        match (self.def.outputs, self.output) {
            ([], _) => vec![base],
            (outs, Some(i)) => outs
                .get(i)
                .map(|o| format!("{base}_{o}"))
                .into_iter()
                .collect(),
            (outs, None) => outs.iter().map(|o| format!("{base}_{o}")).collect(),
        }
    }

    /// A fresh streaming instance (all outputs; [`IndicatorSpec::select`]
    /// picks the chosen one from its values).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a value the indicator refuses.
    pub fn build(&self) -> Result<Box<dyn DynIndicator>> {
        let mut p = [f64::NAN; MAX_PARAMS];
        for (to, from) in p.iter_mut().zip(&self.params) {
            *to = *from;
        }
        (self.def.build)(&p)
    }

    /// The values this spec names, from a step's [`Values`]: all of them,
    /// or the selected output.
    pub fn select<'v>(&self, values: &'v Values) -> &'v [f64] {
        match self.output {
            Some(i) => values.as_slice().get(i..=i).unwrap_or_default(),
            None => values.as_slice(),
        }
    }

    /// Computes the spec over whole columns: one `(name, values)` per output
    /// column, `NaN` over the lookback and on missing rows.
    ///
    /// # Errors
    /// A needed column missing ([`Error::Spec`]), mismatched lengths, a high
    /// below its low, or too few usable rows.
    pub fn compute(&self, cols: &Columns<'_>) -> Result<Vec<(String, Vec<f64>)>> {
        let mut named = Vec::new();
        for &input in self.def.inputs {
            let s = cols.get(input).ok_or_else(|| Error::Spec {
                spec: self.text.clone(),
                reason: format!(
                    "{} reads `{input}`, which the input does not have",
                    self.def.name
                ),
            })?;
            named.push((input, s));
        }
        let (n, usable) = check_inputs(self.def.name, &named)?;
        let mut ind = self.build()?;
        ensure_enough(self.def.name, usable, ind.lookback())?;
        let names = self.columns();
        let mut out = vec![vec![f64::NAN; n]; names.len()];
        let g = |s: Option<&[f64]>, i: usize| s.and_then(|s| s.get(i)).copied().unwrap_or(f64::NAN);
        let used = |k: &str| self.def.inputs.contains(&k);
        let pick = |k: &str, i: usize| if used(k) { g(cols.get(k), i) } else { f64::NAN };
        for i in 0..n {
            let bar = Ohlcv::unchecked(
                pick("open", i),
                pick("high", i),
                pick("low", i),
                pick("close", i),
                pick("volume", i),
            );
            if let Some(v) = ind.update(bar) {
                for (col, x) in out.iter_mut().zip(self.select(&v)) {
                    if let Some(c) = col.get_mut(i) {
                        *c = *x;
                    }
                }
            }
        }
        Ok(names.into_iter().zip(out).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_as_written() {
        let cols = |s: &str| parse_spec(s).unwrap().columns();
        assert_eq!(cols("RSI(14)"), vec!["RSI_14"]);
        assert_eq!(cols("rsi"), vec!["RSI_14"]);
        assert_eq!(
            cols("MACD(12,26,9)"),
            vec![
                "MACD_12_26_9_macd",
                "MACD_12_26_9_signal",
                "MACD_12_26_9_hist"
            ]
        );
        assert_eq!(cols("MACD(12, 26, 9).hist"), vec!["MACD_12_26_9_hist"]);
        assert_eq!(cols("BBANDS(20,2,2).upper"), vec!["BBANDS_20_2_2_upper"]);
        assert_eq!(cols("SAR(0.02,0.2)"), vec!["SAR_0.02_0.2"]);
        assert_eq!(cols("OBV"), vec!["OBV"]);
        assert_eq!(
            cols("STOCH(5,3,3)"),
            vec!["STOCH_5_3_3_slowk", "STOCH_5_3_3_slowd"]
        );
    }

    #[test]
    fn every_entry_fits_the_parameter_array() {
        for d in REGISTRY {
            assert!(d.params.len() <= MAX_PARAMS, "{}", d.name);
            // every entry builds with its defaults
            let spec = parse_spec(d.name).unwrap();
            assert!(spec.build().is_ok(), "{}", d.name);
        }
    }

    #[test]
    fn errors_name_what_is_available() {
        let e = parse_spec("RSX(14)").unwrap_err().to_string();
        assert!(
            e.contains("unknown indicator `RSX`") && e.contains("RSI(timeperiod=14)"),
            "{e}"
        );
        let e = parse_spec("MACD(12,26,9).foo").unwrap_err().to_string();
        assert!(e.contains("macd, signal, hist"), "{e}");
        let e = parse_spec("RSI(0)").unwrap_err().to_string();
        assert!(e.contains("timeperiod") && e.contains("≥ 2"), "{e}");
        let e = parse_spec("RSI(14.5)").unwrap_err().to_string();
        assert!(e.contains("integer"), "{e}");
        let e = parse_spec("RSI(14,3)").unwrap_err().to_string();
        assert!(e.contains("takes 1 parameter"), "{e}");
        let e = parse_spec("RSI(14").unwrap_err().to_string();
        assert!(e.contains("missing `)`"), "{e}");
        assert!(parse_spec("BBANDS(20,2,2,5)").is_err()); // TRIMA not provided
    }

    /// Deterministic bars (a random walk from an LCG), every 17th missing.
    fn walk(n: usize) -> Vec<Option<Ohlcv>> {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut close = 10.0;
        (0..n)
            .map(|k| {
                let open = close * (1.0 + 0.02 * (next() - 0.5));
                close = open * (1.0 + 0.04 * (next() - 0.5));
                let high = open.max(close) * (1.0 + 0.01 * next());
                let low = open.min(close) * (1.0 - 0.01 * next());
                let bar = Ohlcv::new(open, high, low, close, 1e5 * (0.5 + next())).unwrap();
                (k % 17 != 16).then_some(bar)
            })
            .collect()
    }

    fn bits(v: Option<Values>) -> Option<Vec<u64>> {
        v.map(|v| v.as_slice().iter().map(|x| x.to_bits()).collect())
    }

    #[test]
    fn a_saved_state_continues_exactly() {
        let bars = walk(300);
        let mut specs: Vec<String> = REGISTRY.iter().map(|d| d.name.to_string()).collect();
        // every moving-average type inside the indicators that take one
        for t in [0, 1, 2, 3, 4, 6] {
            specs.push(format!("BBANDS(10,2,2,{t})"));
            specs.push(format!("STOCH(5,3,3,{t},{t})"));
        }
        for spec in &specs {
            let spec = parse_spec(spec).unwrap();
            for split in [0, 1, 7, 40, 150, 299] {
                let mut whole = spec.build().unwrap();
                let mut saved = spec.build().unwrap();
                for b in bars.iter().take(split).flatten() {
                    whole.update(*b);
                    saved.update(*b);
                }
                let mut bytes = Vec::new();
                ciborium::into_writer(&saved.save(), &mut bytes).unwrap();
                drop(saved);
                let state: IndicatorState = ciborium::from_reader(bytes.as_slice()).unwrap();
                let mut restored = spec.build().unwrap();
                restored.load(state).unwrap();
                for b in bars.iter().skip(split).flatten() {
                    assert_eq!(
                        bits(whole.update(*b)),
                        bits(restored.update(*b)),
                        "{spec:?} restored after {split} bars"
                    );
                }
            }
        }
    }

    #[test]
    fn a_state_of_another_indicator_is_refused() {
        let mut rsi = parse_spec("RSI(14)").unwrap().build().unwrap();
        let sma = parse_spec("SMA(14)").unwrap().build().unwrap();
        let e = rsi.load(sma.save()).unwrap_err().to_string();
        assert!(e.contains("Sma") && e.contains("Rsi"), "{e}");
        let rsi5 = parse_spec("RSI(5)").unwrap().build().unwrap();
        let e = rsi.load(rsi5.save()).unwrap_err().to_string();
        assert!(e.contains("lookback is 5"), "{e}");
        // the two DI lines have the same shape but are not the same indicator
        let mut plus = parse_spec("PLUS_DI(14)").unwrap().build().unwrap();
        let minus = parse_spec("MINUS_DI(14)").unwrap().build().unwrap();
        assert!(plus.load(minus.save()).is_err());
    }

    #[test]
    fn an_inconsistent_window_does_not_decode() {
        let mut sma = parse_spec("SMA(3)").unwrap().build().unwrap();
        for b in walk(5).into_iter().flatten() {
            sma.update(b);
        }
        let mut value = ciborium::Value::serialized(&sma.save()).unwrap();
        // move the ring's head past its buffer
        fn set_head(v: &mut ciborium::Value) -> bool {
            match v {
                ciborium::Value::Map(entries) => entries.iter_mut().any(|(k, v)| {
                    if k.as_text() == Some("head") {
                        *v = ciborium::Value::Integer(99.into());
                        true
                    } else {
                        set_head(v)
                    }
                }),
                _ => false,
            }
        }
        assert!(set_head(&mut value));
        let e = value
            .deserialized::<IndicatorState>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("inconsistent window"), "{e}");
    }
}
