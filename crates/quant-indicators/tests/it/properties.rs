//! Invariants on random markets: streaming equals batch, outputs are finite
//! after the lookback, bounded indicators stay in range, missing rows are
//! skipped, and bad input is an error.

use proptest::prelude::*;
use quant_indicators::spec::Columns;
use quant_indicators::{
    Error, Indicator, Ohlcv, available, momentum, overlap, parse_spec, volatility,
};

/// A random market: closes from log returns, opens near the previous close,
/// shadows around the body, positive volume.
#[derive(Debug, Clone)]
struct Market {
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

impl Market {
    fn columns(&self) -> Columns<'_> {
        Columns {
            open: Some(&self.open),
            high: Some(&self.high),
            low: Some(&self.low),
            close: Some(&self.close),
            volume: Some(&self.volume),
        }
    }

    fn bar(&self, i: usize) -> Ohlcv {
        Ohlcv::new(
            self.open[i],
            self.high[i],
            self.low[i],
            self.close[i],
            self.volume[i],
        )
        .unwrap()
    }

    fn without(&self, gone: &[bool]) -> Market {
        let keep = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .zip(gone)
                .filter(|(_, g)| !**g)
                .map(|(x, _)| *x)
                .collect()
        };
        Market {
            open: keep(&self.open),
            high: keep(&self.high),
            low: keep(&self.low),
            close: keep(&self.close),
            volume: keep(&self.volume),
        }
    }
}

fn market(min: usize, max: usize) -> impl Strategy<Value = Market> {
    prop::collection::vec(
        (
            -0.05f64..0.05,
            -0.01f64..0.01,
            0.0f64..0.02,
            0.0f64..0.02,
            1.0f64..1e6,
            any::<bool>(),
        ),
        min..max,
    )
    .prop_map(|rows| {
        let mut m = Market {
            open: vec![],
            high: vec![],
            low: vec![],
            close: vec![],
            volume: vec![],
        };
        let mut prev = 100.0f64;
        for (r, gap, up, dn, v, tick) in rows {
            let o = prev * (1.0 + gap);
            let mut c = prev * (1.0 + r);
            if tick {
                // tick-rounded prices give exact ties, flat bars and equal highs
                c = (c * 100.0).round() / 100.0;
            }
            let o = if tick { (o * 100.0).round() / 100.0 } else { o };
            m.open.push(o);
            m.close.push(c);
            m.high.push(o.max(c) * (1.0 + up));
            m.low.push(o.min(c) * (1.0 - dn));
            m.volume.push(v.round());
            prev = c;
        }
        m
    })
}

/// Every registry entry with its default parameters, plus short forms that
/// make short random series long enough.
fn all_specs() -> Vec<String> {
    let mut specs: Vec<String> = available()
        .iter()
        .map(|s| s.split(['(', ' ']).next().unwrap().to_string())
        .collect();
    specs.extend(
        [
            "SMA(3)",
            "EMA(4)",
            "MACD(3,6,2).hist",
            "BBANDS(5,1.5,2.5)",
            "STOCH(3,2,2,1,1)",
            "ICHIMOKU(3,5,8)",
            "ADX(3)",
            "KAMA(4)",
        ]
        .map(String::from),
    );
    specs
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn stream<I: Indicator<Input = f64, Output = f64>>(mut ind: I, x: &[f64]) -> Vec<f64> {
    x.iter()
        .map(|&v| ind.update(v).unwrap_or(f64::NAN))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The hand-written batch loops give the streaming types' numbers, bit for bit.
    #[test]
    fn streaming_equals_batch_bit_for_bit(m in market(40, 300), p in 2usize..30) {
        let c = &m.close;
        prop_assume!(c.len() > p + 40);
        prop_assert_eq!(bits(&overlap::sma(c, p).unwrap()), bits(&stream(overlap::Sma::new(p).unwrap(), c)));
        prop_assert_eq!(bits(&overlap::ema(c, p).unwrap()), bits(&stream(overlap::Ema::new(p).unwrap(), c)));
        prop_assert_eq!(bits(&momentum::rsi(c, p).unwrap()), bits(&stream(momentum::Rsi::new(p).unwrap(), c)));
        let mut a = volatility::Atr::new(p).unwrap();
        let s: Vec<f64> = (0..c.len()).map(|i| a.update(m.bar(i)).unwrap_or(f64::NAN)).collect();
        prop_assert_eq!(bits(&volatility::atr(&m.high, &m.low, c, p).unwrap()), bits(&s));
        let b = overlap::bbands(c, p, 2.0, 1.5, overlap::MaType::Sma).unwrap();
        let mut sb = overlap::Bbands::new(p, 2.0, 1.5, overlap::MaType::Sma).unwrap();
        for (i, &x) in c.iter().enumerate() {
            let o = sb.update(x);
            prop_assert_eq!(o.map(|o| o.upper.to_bits()), (!b.upper[i].is_nan()).then(|| b.upper[i].to_bits()));
            prop_assert_eq!(o.map(|o| o.lower.to_bits()), (!b.lower[i].is_nan()).then(|| b.lower[i].to_bits()));
            prop_assert_eq!(o.map(|o| o.middle.to_bits()), (!b.middle[i].is_nan()).then(|| b.middle[i].to_bits()));
        }
        // a NaN row sends the batch functions down the streaming path
        let mut holed = c.clone();
        holed[p + 3] = f64::NAN;
        prop_assert_eq!(bits(&overlap::sma(&holed, p).unwrap()), bits(&stream(overlap::Sma::new(p).unwrap(), &holed)));
        prop_assert_eq!(bits(&overlap::ema(&holed, p).unwrap()), bits(&stream(overlap::Ema::new(p).unwrap(), &holed)));
        prop_assert_eq!(bits(&momentum::rsi(&holed, p).unwrap()), bits(&stream(momentum::Rsi::new(p).unwrap(), &holed)));
        let hm = momentum::macd(&holed, 3, 6, 2).unwrap();
        let mut hs = momentum::Macd::new(3, 6, 2).unwrap();
        let hist: Vec<f64> = holed.iter().map(|&x| hs.update(x).map_or(f64::NAN, |o| o.hist)).collect();
        prop_assert_eq!(bits(&hm.hist), bits(&hist));
        let (f, s) = (p.min(12), p.min(12) + 5);
        let md = momentum::macd(c, f, s, 4).unwrap();
        let mut sm = momentum::Macd::new(f, s, 4).unwrap();
        for (i, &x) in c.iter().enumerate() {
            let o = sm.update(x);
            prop_assert_eq!(o.map(|o| o.macd.to_bits()), (!md.macd[i].is_nan()).then(|| md.macd[i].to_bits()));
            prop_assert_eq!(o.map(|o| o.signal.to_bits()), (!md.signal[i].is_nan()).then(|| md.signal[i].to_bits()));
            prop_assert_eq!(o.map(|o| o.hist.to_bits()), (!md.hist[i].is_nan()).then(|| md.hist[i].to_bits()));
        }
    }

    /// ATR's batch kernel (true ranges a block at a time, the Wilder
    /// recursion two bars per step) equals the streaming type bit for bit at
    /// every length from the shortest up, with a missing bar anywhere —
    /// high, low or close, the last row too — and stays within 1e-13 of
    /// TA-Lib's one-bar-at-a-time `(ATR·(n−1) + TR)/n`.
    #[test]
    fn atr_batch_equals_streaming_and_the_one_step_recursion(
        m in market(3, 200), p in 2usize..30, hole in any::<prop::sample::Index>(), field in 0usize..3,
    ) {
        let len = m.close.len();
        prop_assume!(len > p);
        let stream_atr = |h: &[f64], l: &[f64], c: &[f64]| -> Vec<f64> {
            let mut a = volatility::Atr::new(p).unwrap();
            (0..c.len())
                .map(|i| a.update(Ohlcv::hlc(h[i], l[i], c[i]).unwrap()).unwrap_or(f64::NAN))
                .collect()
        };
        let (h, l, c) = (&m.high, &m.low, &m.close);
        let batch = volatility::atr(h, l, c, p).unwrap();
        prop_assert_eq!(bits(&batch), bits(&stream_atr(h, l, c)));
        // TA-Lib's form, one bar per step
        let tr = |i: usize| (h[i] - l[i]).max((h[i] - c[i - 1]).abs()).max((l[i] - c[i - 1]).abs());
        let n = p as f64;
        let mut v = (1..=p).map(tr).sum::<f64>() / n;
        for (i, &b) in batch.iter().enumerate().skip(p) {
            if i > p {
                v = (v * (n - 1.0) + tr(i)) / n;
            }
            prop_assert!(((b - v) / v).abs() < 1e-13, "row {}: {} vs {}", i, b, v);
        }
        let mut holed = [h.clone(), l.clone(), c.clone()];
        holed[field][hole.index(len)] = f64::NAN;
        let [h, l, c] = &holed;
        if let Ok(b) = volatility::atr(h, l, c, p) {
            prop_assert_eq!(bits(&b), bits(&stream_atr(h, l, c)));
        }
    }

    /// Through the registry: every output is finite from the lookback on and
    /// NaN before it; bounded indicators stay in their range.
    #[test]
    fn outputs_are_finite_after_the_lookback_and_in_range(m in market(120, 260)) {
        for spec in all_specs() {
            let s = parse_spec(&spec).unwrap();
            let lookback = s.build().unwrap().lookback();
            for (name, v) in s.compute(&m.columns()).unwrap() {
                for (i, x) in v.iter().enumerate() {
                    prop_assert_eq!(x.is_nan(), i < lookback, "{} at {}: {}", name, i, x);
                    prop_assert!(!x.is_infinite(), "{} at {}", name, i);
                }
                let bounded = ["RSI", "STOCH", "MFI", "ULTOSC", "AROON", "ADX", "PLUS_DI", "MINUS_DI"];
                if bounded.iter().any(|b| name.starts_with(b)) {
                    for x in v.iter().filter(|x| !x.is_nan()) {
                        prop_assert!((-1e-9..=100.0 + 1e-9).contains(x), "{} = {}", name, x);
                    }
                }
                if name.starts_with("WILLR") {
                    for x in v.iter().filter(|x| !x.is_nan()) {
                        prop_assert!((-100.0 - 1e-9..=1e-9).contains(x), "{} = {}", name, x);
                    }
                }
                if name.starts_with("CDL") {
                    for x in v.iter().filter(|x| !x.is_nan()) {
                        prop_assert!([-100.0, -80.0, 0.0, 80.0, 100.0].contains(x), "{} = {}", name, x);
                    }
                }
            }
        }
    }

    #[test]
    fn bollinger_bands_are_ordered(m in market(30, 200), p in 2usize..25, up in 0.0f64..4.0, dn in 0.0f64..4.0) {
        prop_assume!(m.close.len() >= p);
        let b = overlap::bbands(&m.close, p, up, dn, overlap::MaType::Sma).unwrap();
        for i in p - 1..m.close.len() {
            prop_assert!(b.upper[i] >= b.middle[i] && b.middle[i] >= b.lower[i], "at {}: {} {} {}", i, b.upper[i], b.middle[i], b.lower[i]);
        }
    }

    /// A row with NaN is a missing bar: every indicator gives NaN there and,
    /// elsewhere, exactly the numbers of the series without that row.
    #[test]
    fn missing_rows_are_skipped(m in market(150, 260), gone in prop::collection::vec(any::<bool>(), 260)) {
        // about one row in fourteen missing, and the first one (a late start)
        let gone: Vec<bool> = (0..m.close.len()).map(|i| (gone[i] && i % 7 == 0) || i == 0).collect();
        let mut holed = m.clone();
        for (i, g) in gone.iter().enumerate() {
            if *g {
                holed.close[i] = f64::NAN;
                holed.open[i] = f64::NAN;
                holed.high[i] = f64::NAN;
                holed.low[i] = f64::NAN;
                holed.volume[i] = f64::NAN;
            }
        }
        let dense = m.without(&gone);
        for spec in all_specs() {
            let s = parse_spec(&spec).unwrap();
            let a = s.compute(&holed.columns()).unwrap();
            let b = s.compute(&dense.columns()).unwrap();
            for ((name, with_holes), (_, without)) in a.iter().zip(&b) {
                let kept: Vec<f64> = with_holes.iter().zip(&gone).filter(|(_, g)| !**g).map(|(x, _)| *x).collect();
                prop_assert_eq!(bits(&kept), bits(without), "{}", name);
                for (x, g) in with_holes.iter().zip(&gone) {
                    prop_assert!(!*g || x.is_nan(), "{}", name);
                }
            }
        }
    }
}

#[test]
fn bad_input_is_an_error() {
    let x: Vec<f64> = (0..50).map(|i| 10.0 + (i as f64).sin()).collect();
    assert!(matches!(
        overlap::sma(&x, 0),
        Err(Error::InvalidParameter {
            param: "timeperiod",
            ..
        })
    ));
    assert!(matches!(
        overlap::sma(&x, 51),
        Err(Error::InsufficientData {
            needed: 51,
            got: 50,
            ..
        })
    ));
    assert!(matches!(
        momentum::rsi(&x, 50),
        Err(Error::InsufficientData { needed: 51, .. })
    ));
    let hi = x.clone();
    let mut lo: Vec<f64> = x.iter().map(|v| v - 1.0).collect();
    lo[17] = hi[17] + 0.5;
    let e = volatility::atr(&hi, &lo, &x, 14).unwrap_err();
    assert!(matches!(e, Error::HighBelowLow { index: 17, .. }), "{e}");
    assert!(e.to_string().contains("row 17"));
    let e = volatility::atr(&hi, &lo[..40], &x, 14).unwrap_err();
    assert!(
        matches!(
            e,
            Error::LengthMismatch {
                input: "low",
                expected: 50,
                got: 40,
                ..
            }
        ),
        "{e}"
    );
    assert!(Ohlcv::new(1.0, 1.0, 2.0, 1.0, 0.0).is_err());
    assert!(overlap::bbands(&x, 5, f64::NAN, 2.0, overlap::MaType::Sma).is_err());
}

#[test]
fn flat_series_have_documented_values() {
    let flat = vec![5.0; 40];
    let rsi = momentum::rsi(&flat, 14).unwrap();
    assert_eq!(rsi[14..], vec![0.0; 26][..]);
    let sd = quant_indicators::statistic::stddev(&flat, 5, 1.0).unwrap();
    assert!(sd[4..].iter().all(|v| *v == 0.0));
    let z = quant_indicators::statistic::zscore(&flat, 5).unwrap();
    assert!(z[4..].iter().all(|v| *v == 0.0));
}

#[test]
fn small_variance_after_large_values_is_not_lost() {
    // 1e8 for a while, then values near 1 with σ ≈ 7.5e-5: running sums of
    // squares would return 0 or garbage here
    let mut x = vec![1e8; 20];
    x.extend([1.0, 1.0001, 1.0002, 1.0, 1.0001, 1.0, 1.0002, 1.0001].repeat(3));
    let sd = quant_indicators::statistic::stddev(&x, 5, 1.0).unwrap();
    // numpy.std of the window ending at 24 (TA-Lib 0.8.1 agrees: 7.48331477e-05)
    assert!((sd[24] - 7.483314773547058e-05).abs() < 1e-12, "{}", sd[24]);
    assert!((sd[26] - 8.944271909998174e-05).abs() < 1e-12, "{}", sd[26]);
}

#[test]
fn ichimoku_spans_are_the_past_lines_shifted_forward() {
    let n = 120;
    let high: Vec<f64> = (0..n)
        .map(|i| 10.0 + (i as f64 * 0.3).sin() * 2.0 + i as f64 * 0.05)
        .collect();
    let low: Vec<f64> = high.iter().map(|h| h - 1.0).collect();
    let ich = quant_indicators::trend::ichimoku(&high, &low, 9, 26, 52).unwrap();
    let mid = |a: usize, b: usize| {
        let hh = high[a..=b].iter().cloned().fold(f64::MIN, f64::max);
        let ll = low[a..=b].iter().cloned().fold(f64::MAX, f64::min);
        (hh + ll) / 2.0
    };
    for t in 77..n {
        assert_eq!(ich.tenkan[t], mid(t - 8, t));
        assert_eq!(ich.kijun[t], mid(t - 25, t));
        let (tk, kj) = (mid(t - 26 - 8, t - 26), mid(t - 26 - 25, t - 26));
        assert_eq!(ich.senkou_a[t], (tk + kj) / 2.0);
        assert_eq!(ich.senkou_b[t], mid(t - 26 - 51, t - 26));
    }
    assert!(ich.tenkan[76].is_nan());
}

#[test]
fn zscore_matches_its_definition() {
    let x: Vec<f64> = (0..30).map(|i| 50.0 + ((i * 7) % 11) as f64).collect();
    let z = quant_indicators::statistic::zscore(&x, 10).unwrap();
    for t in 9..30 {
        let w = &x[t - 9..=t];
        let mean = w.iter().sum::<f64>() / 10.0;
        let sd = (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 10.0).sqrt();
        assert!((z[t] - (x[t] - mean) / sd).abs() < 1e-12, "{t}");
    }
}
