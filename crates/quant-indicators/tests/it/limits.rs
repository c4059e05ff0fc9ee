//! Crafted parameters and spec texts: every constructor, batch function and
//! the spec parser answer with an error naming the parameter, the value and
//! the allowed range — never a panic, an overflow or an allocation of
//! `usize::MAX` values.

use proptest::prelude::*;
use quant_indicators::candles::{self, Pattern};
use quant_indicators::spec::Columns;
use quant_indicators::{
    Error, MAX_PERIOD, available, momentum, overlap, parse_spec, statistic, trend, volatility,
    volume,
};

/// The periods no indicator may take: one past the limit, the largest
/// `usize` (what `as usize` makes of a huge float) and one below it (so a
/// `period + 1` would overflow).
const HUGE: [usize; 3] = [MAX_PERIOD + 1, usize::MAX - 1, usize::MAX];

/// The error names `param`, the value and the allowed range.
fn refused(r: Result<impl Sized, Error>, param: &str, value: usize) {
    let e = r.err().expect("a huge period must be refused");
    let text = e.to_string();
    assert!(
        matches!(&e, Error::InvalidParameter { param: p, .. } if *p == param),
        "{param}: {text}"
    );
    assert!(text.contains(&value.to_string()), "{text}");
    assert!(text.contains("100000"), "no range in: {text}");
}

/// Open, high, low, close and volume columns.
type Ohlcv5 = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

fn series(n: usize) -> Ohlcv5 {
    let c: Vec<f64> = (0..n).map(|i| 10.0 + (i as f64 * 0.3).sin()).collect();
    let h: Vec<f64> = c.iter().map(|x| x + 0.5).collect();
    let l: Vec<f64> = c.iter().map(|x| x - 0.5).collect();
    let o = c.clone();
    let v = vec![1000.0; n];
    (o, h, l, c, v)
}

#[test]
fn huge_periods_are_refused_by_every_streaming_constructor() {
    use overlap::MaType::Sma as S;
    for p in HUGE {
        refused(overlap::Sma::new(p), "timeperiod", p);
        refused(overlap::Ema::new(p), "timeperiod", p);
        refused(overlap::Wma::new(p), "timeperiod", p);
        refused(overlap::Dema::new(p), "timeperiod", p);
        refused(overlap::Tema::new(p), "timeperiod", p);
        refused(overlap::Kama::new(p), "timeperiod", p);
        refused(overlap::Ma::new(overlap::MaType::Ema, p), "timeperiod", p);
        refused(overlap::Bbands::new(p, 2.0, 2.0, S), "timeperiod", p);
        refused(quant_indicators::ExactSma::new(p), "timeperiod", p);
        refused(momentum::Rsi::new(p), "timeperiod", p);
        refused(momentum::Macd::new(p, 26, 9), "fastperiod", p);
        refused(momentum::Macd::new(12, p, 9), "slowperiod", p);
        refused(momentum::Macd::new(12, 26, p), "signalperiod", p);
        refused(momentum::Stoch::new(p, 3, S, 3, S), "fastk_period", p);
        refused(momentum::Stoch::new(5, p, S, 3, S), "slowk_period", p);
        refused(momentum::Stoch::new(5, 3, S, p, S), "slowd_period", p);
        refused(momentum::StochRsi::new(p, 5, 3, S), "timeperiod", p);
        refused(momentum::StochRsi::new(14, p, 3, S), "fastk_period", p);
        refused(momentum::StochRsi::new(14, 5, p, S), "fastd_period", p);
        refused(momentum::Willr::new(p), "timeperiod", p);
        refused(momentum::Roc::new(p), "timeperiod", p);
        refused(momentum::Mom::new(p), "timeperiod", p);
        refused(momentum::Cci::new(p), "timeperiod", p);
        refused(momentum::Mfi::new(p), "timeperiod", p);
        refused(momentum::Ultosc::new(p, 14, 28), "timeperiod1", p);
        refused(momentum::Ultosc::new(7, p, 28), "timeperiod2", p);
        refused(momentum::Ultosc::new(7, 14, p), "timeperiod3", p);
        refused(momentum::Aroon::new(p), "timeperiod", p);
        refused(volatility::Atr::new(p), "timeperiod", p);
        refused(volatility::Natr::new(p), "timeperiod", p);
        refused(volatility::Donchian::new(p), "timeperiod", p);
        refused(volatility::Keltner::new(p, 2.0, 10), "timeperiod", p);
        refused(volatility::Keltner::new(20, 2.0, p), "atr_period", p);
        refused(trend::Adx::new(p), "timeperiod", p);
        refused(trend::PlusDi::new(p), "timeperiod", p);
        refused(trend::MinusDi::new(p), "timeperiod", p);
        refused(trend::Ichimoku::new(p, 26, 52), "tenkan", p);
        refused(trend::Ichimoku::new(9, p, 52), "kijun", p);
        refused(trend::Ichimoku::new(9, 26, p), "senkou", p);
        refused(statistic::StdDev::new(p, 1.0), "timeperiod", p);
        refused(statistic::LinearRegSlope::new(p), "timeperiod", p);
        refused(statistic::ZScore::new(p), "timeperiod", p);
        refused(volume::Adosc::new(p, 10), "fastperiod", p);
        refused(volume::Adosc::new(3, p), "slowperiod", p);
        refused(volume::Vwap::new(p), "timeperiod", p);
    }
    // the limit itself is allowed
    assert!(overlap::Sma::new(MAX_PERIOD).is_ok());
    assert!(momentum::Roc::new(MAX_PERIOD).is_ok());
}

#[test]
fn huge_periods_are_refused_by_every_batch_function() {
    use overlap::MaType::Sma as S;
    let (o, h, l, c, v) = series(50);
    let mut out = vec![0.0; 50];
    for p in HUGE {
        refused(overlap::sma(&c, p), "timeperiod", p);
        refused(overlap::sma_into(&c, p, &mut out), "timeperiod", p);
        refused(overlap::ema(&c, p), "timeperiod", p);
        refused(overlap::ema_into(&c, p, &mut out), "timeperiod", p);
        refused(overlap::wma(&c, p), "timeperiod", p);
        refused(overlap::dema(&c, p), "timeperiod", p);
        refused(overlap::tema(&c, p), "timeperiod", p);
        refused(overlap::kama(&c, p), "timeperiod", p);
        refused(overlap::bbands(&c, p, 2.0, 2.0, S), "timeperiod", p);
        refused(momentum::rsi(&c, p), "timeperiod", p);
        refused(momentum::rsi_into(&c, p, &mut out), "timeperiod", p);
        refused(momentum::macd(&c, 12, p, 9), "slowperiod", p);
        refused(
            momentum::stoch(&h, &l, &c, p, 3, S, 3, S),
            "fastk_period",
            p,
        );
        refused(momentum::stochrsi(&c, 14, 5, p, S), "fastd_period", p);
        refused(momentum::willr(&h, &l, &c, p), "timeperiod", p);
        refused(momentum::roc(&c, p), "timeperiod", p);
        refused(momentum::mom(&c, p), "timeperiod", p);
        refused(momentum::cci(&h, &l, &c, p), "timeperiod", p);
        refused(momentum::mfi(&h, &l, &c, &v, p), "timeperiod", p);
        refused(momentum::ultosc(&h, &l, &c, 7, 14, p), "timeperiod3", p);
        refused(momentum::aroon(&h, &l, p), "timeperiod", p);
        refused(volatility::atr(&h, &l, &c, p), "timeperiod", p);
        refused(
            volatility::atr_into(&h, &l, &c, p, &mut out),
            "timeperiod",
            p,
        );
        refused(volatility::natr(&h, &l, &c, p), "timeperiod", p);
        refused(volatility::donchian(&h, &l, p), "timeperiod", p);
        refused(volatility::keltner(&h, &l, &c, 20, 2.0, p), "atr_period", p);
        refused(trend::adx(&h, &l, &c, p), "timeperiod", p);
        refused(trend::plus_di(&h, &l, &c, p), "timeperiod", p);
        refused(trend::minus_di(&h, &l, &c, p), "timeperiod", p);
        refused(trend::ichimoku(&h, &l, 9, p, 52), "kijun", p);
        refused(statistic::stddev(&c, p, 1.0), "timeperiod", p);
        refused(statistic::linearreg_slope(&c, p), "timeperiod", p);
        refused(statistic::zscore(&c, p), "timeperiod", p);
        refused(volume::adosc(&h, &l, &c, &v, 3, p), "slowperiod", p);
        refused(volume::vwap(&h, &l, &c, &v, p), "timeperiod", p);
    }
    let _ = o;
}

#[test]
fn multipliers_and_fractions_have_ranges() {
    use overlap::MaType::Sma as S;
    let (o, h, l, c, _) = series(50);
    let check = |r: Result<Vec<f64>, Error>, param: &str, range: &str| {
        let e = r.expect_err("refused").to_string();
        assert!(e.contains(param) && e.contains(range), "{e}");
    };
    for bad in [f64::NAN, f64::INFINITY, -1.0, 101.0, 1e300] {
        let bb = overlap::bbands(&c, 5, bad, 2.0, S).map(|b| b.upper);
        check(bb, "nbdevup", "[0, 100]");
        let bb = overlap::bbands(&c, 5, 2.0, bad, S).map(|b| b.upper);
        check(bb, "nbdevdn", "[0, 100]");
        check(statistic::stddev(&c, 5, bad), "nbdev", "[0, 100]");
        let k = volatility::keltner(&h, &l, &c, 20, bad, 10).map(|k| k.upper);
        check(k, "mult", "[0, 100]");
    }
    for bad in [f64::NAN, -0.01, 1.5, 1e300] {
        check(overlap::sar(&h, &l, bad, 0.2), "acceleration", "[0, 1]");
        check(overlap::sar(&h, &l, 0.02, bad), "maximum", "[0, 1]");
        check(
            candles::cdlmorningstar(&o, &h, &l, &c, bad),
            "penetration",
            "[0, 1]",
        );
        check(
            candles::pattern(&o, &h, &l, &c, Pattern::EveningStar { penetration: bad }),
            "penetration",
            "[0, 1]",
        );
    }
}

/// Texts a user (or an attacker) may hand the spec parser; each is an
/// error, none a panic.
const CRAFTED: &[&str] = &[
    "SMA(18446744073709551615)",
    "SMA(18446744073709551616)",
    "ROC(18446744073709551615)",
    "KAMA(9223372036854775807)",
    "MACD(12,18446744073709551615,9)",
    "ICHIMOKU(9,18446744073709551615,52)",
    "STOCH(5,3,3,18446744073709551615)",
    "BBANDS(20,2,2,9999999999)",
    "SMA(100001)",
    "SMA(1e308)",
    "SMA(1e400)",
    "SMA(-5)",
    "SMA(-0)",
    "SMA(NaN)",
    "SMA(nan)",
    "SMA(inf)",
    "SMA(-inf)",
    "SMA(infinity)",
    "SMA(0x10)",
    "SMA(1_000)",
    "SMA(5.5)",
    "SMA()()",
    "SMA(())",
    "SMA((5))",
    "SMA(5))",
    "SMA((5)",
    "SMA(5",
    "SMA5)",
    "SMA(,)",
    "SMA(5,)",
    "SMA(,5)",
    "SMA(5,,5)",
    "(",
    ")",
    "()",
    ").x",
    "",
    " ",
    ".",
    "..",
    "SMA.",
    "SMA..x",
    ".upper",
    "MACD(12,26,9).",
    "MACD(12,26,9).hist.x",
    "MACD(12,26,9) hist",
    "MACD(12,26,9)x",
    "ＳＭＡ(5)",
    "SMA(５)",
    "SMA(5)\u{0}",
    "\u{feff}SMA(5)",
    "RSI(14)🙂",
    "é(1)",
    "BBANDS(20,1e300,2)",
    "BBANDS(20,-2,2)",
    "BBANDS(20,NaN,2)",
    "KELTNER(20,-1,10)",
    "STDDEV(5,1e9)",
    "SAR(5,5)",
    "SAR(-0.02,0.2)",
    "CDLMORNINGSTAR(NaN)",
    "CDLEVENINGSTAR(1e308)",
    "CDLDOJI(1)",
    "OBV(5)",
];

#[test]
fn crafted_specs_are_errors_not_panics() {
    for text in CRAFTED {
        assert!(parse_spec(text).is_err(), "`{text}` parsed");
    }
    // periods name the parameter and the range, as written
    let e = parse_spec("SMA(18446744073709551615)")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("timeperiod") && e.contains("18446744073709551615") && e.contains("100000"),
        "{e}"
    );
    let e = parse_spec("SMA(100001)").unwrap_err().to_string();
    assert!(e.contains("timeperiod") && e.contains("100000"), "{e}");
}

#[test]
fn long_and_nested_specs_are_errors() {
    let long = format!("SMA({})", "9".repeat(100_000));
    let e = parse_spec(&long).unwrap_err().to_string();
    assert!(e.contains("at most 256"), "{e}");
    assert!(
        e.len() < 400,
        "the error quotes all of a huge spec: {} bytes",
        e.len()
    );
    let nested = format!("{}SMA(5){}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(parse_spec(&nested).is_err());
    let many = format!("SMA({})", vec!["5"; 50_000].join(","));
    assert!(parse_spec(&many).is_err());
    let wide = "é".repeat(200);
    assert!(parse_spec(&wide).is_err());
    // a multi-byte character straddling the quoted prefix is cut whole
    let e = parse_spec(&format!("{}{}", "a".repeat(47), "é".repeat(200)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("at most 256"), "{e}");
}

/// A spec built from a registry name and parameter texts, often out of range.
fn crafted_spec() -> impl Strategy<Value = String> {
    let names: Vec<String> = available()
        .iter()
        .map(|s| s.split(['(', ' ']).next().unwrap_or_default().to_string())
        .collect();
    let param = prop_oneof![
        (0u64..8).prop_map(|x| x.to_string()),
        (0u64..200).prop_map(|x| x.to_string()),
        Just("99999".to_string()),
        Just("100000".to_string()),
        Just("100001".to_string()),
        Just("18446744073709551615".to_string()),
        Just("9223372036854775807".to_string()),
        Just("1e308".to_string()),
        Just("-1".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        (-10.0f64..10.0).prop_map(|x| format!("{x}")),
        Just(String::new()),
    ];
    (
        proptest::sample::select(names),
        prop::collection::vec(param, 0..7),
        prop_oneof![
            Just(String::new()),
            Just(".upper".to_string()),
            Just(".hist".to_string()),
            Just(".x".to_string()),
            Just(".".to_string()),
        ],
    )
        .prop_map(|(n, ps, out)| {
            if ps.is_empty() {
                format!("{n}{out}")
            } else {
                format!("{n}({}){out}", ps.join(","))
            }
        })
}

fn never_panics(text: &str) {
    let (o, h, l, c, v) = series(40);
    let cols = Columns {
        open: Some(&o),
        high: Some(&h),
        low: Some(&l),
        close: Some(&c),
        volume: Some(&v),
    };
    if let Ok(spec) = parse_spec(text) {
        let _ = spec.columns();
        let _ = spec.stem();
        if let Ok(out) = spec.compute(&cols) {
            for (_, col) in out {
                assert_eq!(col.len(), c.len());
            }
        }
        let short = Columns {
            close: Some(&c[..3]),
            ..cols
        };
        let _ = spec.compute(&short);
        let _ = spec.compute(&Columns::default());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any string: a spec or an error, and a parsed spec computes (or
    /// errs) on a small series without a panic.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,64}") {
        never_panics(&text);
    }

    /// Strings from the spec alphabet, so that more of them get past the
    /// name.
    #[test]
    fn spec_alphabet_never_panics(text in "[A-Za-z_]{0,16}[(]?[0-9eE.,+\\-() NaIinf]{0,24}[)]?(\\.[a-z_]{0,8})?") {
        never_panics(&text);
    }

    /// Registry names with crafted parameters: refused with the parameter
    /// named, or computed.
    #[test]
    fn crafted_parameters_never_panic(text in crafted_spec()) {
        never_panics(&text);
        if let Err(Error::InvalidParameter { param, expected, .. }) = parse_spec(&text) {
            prop_assert!(!param.is_empty() && !expected.is_empty(), "{}", text);
        }
    }
}
