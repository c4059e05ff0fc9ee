//! Every indicator against TA-Lib 0.8.2 (C 0.8.1) on real daily data:
//! `tests/data/golden/*.csv` (copied from `shared/golden/indicators`) and
//! `tests/data/extra/*.csv` (made by `tests/data/extra/make_extra.py` with
//! the same TA-Lib, for the patterns the shared goldens do not cover).

use quant_indicators::spec::Columns;
use quant_indicators::{candles, momentum, overlap, parse_spec, volatility};

use crate::common::{Table, assert_close, data, read_table, repo, zero_crossing_floor};

/// Golden column stem → spec, where the golden name is not the spec's own.
const RENAMED: &[(&str, &str)] = &[
    ("KELTNER_20_2_ATR10", "KELTNER(20,2,10)"),
    ("CDLMORNINGSTAR", "CDLMORNINGSTAR"),
];

/// Series that cross zero (absolute floor), per the goldens' README.
const CROSSING: &[&str] = &["MACD", "MOM", "ROC", "LINEARREG_SLOPE", "ADOSC", "CCI"];

const SPECS: &[&str] = &[
    "SMA(20)",
    "EMA(20)",
    "WMA(20)",
    "DEMA(20)",
    "TEMA(20)",
    "KAMA(30)",
    "RSI(14)",
    "MACD(12,26,9)",
    "BBANDS(20,2,2)",
    "ATR(14)",
    "NATR(14)",
    "TRANGE",
    "ADX(14)",
    "PLUS_DI(14)",
    "MINUS_DI(14)",
    "CCI(14)",
    "STOCH(5,3,3)",
    "STOCHRSI(14,5,3)",
    "WILLR(14)",
    "ROC(10)",
    "MOM(10)",
    "OBV",
    "MFI(14)",
    "SAR(0.02,0.2)",
    "AROON(14)",
    "ULTOSC(7,14,28)",
    "STDDEV(20,1)",
    "LINEARREG_SLOPE(14)",
    "AD",
    "ADOSC(3,10)",
    "CDLENGULFING",
    "CDLDOJI",
    "CDLHAMMER",
    "VWAP(20)",
    "DONCHIAN(20)",
];

fn columns(bars: &Table) -> Columns<'_> {
    Columns {
        open: Some(bars.col("open")),
        high: Some(bars.col("high")),
        low: Some(bars.col("low")),
        close: Some(bars.col("close")),
        volume: Some(bars.col("volume")),
    }
}

fn floor_for(name: &str, want: &[f64]) -> f64 {
    if CROSSING.iter().any(|c| name.starts_with(c)) {
        zero_crossing_floor(want)
    } else {
        1e-12
    }
}

/// Checks every spec against the golden table; returns the columns checked.
fn check_specs(bars: &Table, golden: &Table, specs: &[&str], rename: &[(&str, &str)]) -> usize {
    assert_eq!(bars.dates, golden.dates, "golden rows are the input's rows");
    let cols = columns(bars);
    let mut checked = 0;
    let mut all: Vec<(String, String)> = specs.iter().map(|s| (s.to_string(), String::new())).collect();
    all.extend(rename.iter().map(|(g, s)| (s.to_string(), g.to_string())));
    for (spec, golden_stem) in all {
        let parsed = parse_spec(&spec).unwrap();
        for (name, values) in parsed.compute(&cols).unwrap() {
            let golden_name = if golden_stem.is_empty() {
                name.clone()
            } else {
                name.replacen(&parsed.stem(), &golden_stem, 1)
            };
            let want = golden.col(&golden_name);
            assert_close(&format!("{spec} → {golden_name}"), &values, want, floor_for(&golden_name, want));
            checked += 1;
        }
    }
    checked
}

#[test]
fn every_golden_column_of_600519_matches_talib() {
    let bars = read_table(&repo("fixtures/cn/daily/600519.SH.csv"));
    let golden = read_table(&data("golden/600519.SH.csv"));
    let n = check_specs(&bars, &golden, SPECS, RENAMED);
    assert_eq!(n, golden.order.len(), "every golden column is checked");
}

#[test]
fn every_golden_column_of_btc_matches_talib() {
    let bars = read_table(&repo("fixtures/crypto/daily/BTC-USDT.csv"));
    let golden = read_table(&data("golden/BTC-USDT.csv"));
    let n = check_specs(&bars, &golden, SPECS, RENAMED);
    assert_eq!(n, golden.order.len(), "every golden column is checked");
}

#[test]
fn extra_patterns_match_talib() {
    for (input, golden) in [
        ("fixtures/cn/daily/600519.SH.csv", "extra/600519.SH.csv"),
        ("fixtures/crypto/daily/BTC-USDT.csv", "extra/BTC-USDT.csv"),
        ("crates/quant-indicators/tests/data/extra/synthetic_bars.csv", "extra/synthetic.csv"),
    ] {
        let bars = read_table(&repo(input));
        let golden = read_table(&data(golden));
        let specs: Vec<&str> = golden.order.iter().map(String::as_str).collect();
        let n = check_specs(&bars, &golden, &specs, &[]);
        assert_eq!(n, golden.order.len());
    }
}

/// The hand-written batch kernels (no `NaN` in the input) against TA-Lib too.
#[test]
fn batch_kernels_match_talib() {
    for (input, gold) in [
        ("fixtures/cn/daily/600519.SH.csv", "golden/600519.SH.csv"),
        ("fixtures/crypto/daily/BTC-USDT.csv", "golden/BTC-USDT.csv"),
    ] {
        let bars = read_table(&repo(input));
        let g = read_table(&data(gold));
        let (h, l, c) = (bars.col("high"), bars.col("low"), bars.col("close"));
        let f = |k: &str| zero_crossing_floor(g.col(k));
        assert_close("sma", &overlap::sma(c, 20).unwrap(), g.col("SMA_20"), 0.0);
        assert_close("ema", &overlap::ema(c, 20).unwrap(), g.col("EMA_20"), 0.0);
        assert_close("rsi", &momentum::rsi(c, 14).unwrap(), g.col("RSI_14"), 0.0);
        assert_close("atr", &volatility::atr(h, l, c, 14).unwrap(), g.col("ATR_14"), 0.0);
        let m = momentum::macd(c, 12, 26, 9).unwrap();
        assert_close("macd", &m.macd, g.col("MACD_12_26_9_macd"), f("MACD_12_26_9_macd"));
        assert_close("signal", &m.signal, g.col("MACD_12_26_9_signal"), f("MACD_12_26_9_signal"));
        assert_close("hist", &m.hist, g.col("MACD_12_26_9_hist"), f("MACD_12_26_9_hist"));
        let b = overlap::bbands(c, 20, 2.0, 2.0, overlap::MaType::Sma).unwrap();
        assert_close("upper", &b.upper, g.col("BBANDS_20_2_2_upper"), 0.0);
        assert_close("middle", &b.middle, g.col("BBANDS_20_2_2_middle"), 0.0);
        assert_close("lower", &b.lower, g.col("BBANDS_20_2_2_lower"), 0.0);
        let o = bars.col("open");
        assert_close(
            "engulfing",
            &candles::cdlengulfing(o, h, l, c).unwrap(),
            g.col("CDLENGULFING"),
            0.0,
        );
    }
}
