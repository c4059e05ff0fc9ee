//! Every indicator against TA-Lib 0.8.2 (C 0.8.1) on real daily data:
//! `tests/data/golden/*.csv` (copied from `shared/golden/indicators`) and
//! `tests/data/extra/*.csv` (made by `tests/data/extra/make_extra.py` with
//! the same TA-Lib, for the patterns the shared goldens do not cover).

use quant_indicators::spec::Columns;
use quant_indicators::{candles, momentum, overlap, parse_spec, volatility};

use crate::common::{Table, assert_close, data, read_table, repo, zero_crossing_floor};

/// Series that cross zero (absolute floor), per the goldens' README.
const CROSSING: &[&str] = &["MACD", "MOM", "ROC", "LINEARREG_SLOPE", "ADOSC", "CCI"];

/// The spec a golden column was made with: `MACD_12_26_9_hist` →
/// `MACD(12,26,9).hist`, `SAR_0.02_0.2` → `SAR(0.02,0.2)`, `OBV` → `OBV`.
fn spec_of(column: &str) -> String {
    let column = column.replace("KELTNER_20_2_ATR10", "KELTNER_20_2_10");
    let names: Vec<String> = quant_indicators::available()
        .iter()
        .map(|s| s.split(['(', ' ']).next().unwrap().to_string())
        .collect();
    let name = names
        .iter()
        .filter(|n| column == **n || column.starts_with(&format!("{n}_")))
        .max_by_key(|n| n.len())
        .unwrap_or_else(|| panic!("no indicator for golden column {column}"));
    let rest = column[name.len()..].trim_start_matches('_');
    let (mut params, mut output) = (Vec::new(), Vec::new());
    for tok in rest.split('_').filter(|t| !t.is_empty()) {
        if output.is_empty() && tok.parse::<f64>().is_ok() {
            params.push(tok);
        } else {
            output.push(tok);
        }
    }
    let mut spec = name.clone();
    if !params.is_empty() {
        spec.push_str(&format!("({})", params.join(",")));
    }
    if !output.is_empty() {
        spec.push_str(&format!(".{}", output.join("_")));
    }
    spec
}

fn columns(bars: &Table) -> Columns<'_> {
    Columns {
        open: Some(bars.col("open")),
        high: Some(bars.col("high")),
        low: Some(bars.col("low")),
        close: Some(bars.col("close")),
        volume: Some(bars.col("volume")),
    }
}

/// Absolute floor: 1e-9 × the median magnitude for series that cross zero
/// (the goldens' README); for the others 1e-12 × it, which only matters
/// where a bounded oscillator touches 0 and both sides hold running-sum
/// residue of order 1e-14.
fn floor_for(name: &str, want: &[f64]) -> f64 {
    if CROSSING.iter().any(|c| name.starts_with(c)) {
        zero_crossing_floor(want)
    } else {
        zero_crossing_floor(want) * 1e-3
    }
}

/// Checks every golden column by computing its spec through the registry
/// (the streaming path); returns the number of columns checked.
fn check_all(bars: &Table, golden: &Table) -> usize {
    assert_eq!(bars.dates, golden.dates, "golden rows are the input's rows");
    let cols = columns(bars);
    for column in &golden.order {
        let spec = spec_of(column);
        let computed = parse_spec(&spec).unwrap().compute(&cols).unwrap();
        assert_eq!(computed.len(), 1, "{spec} selects one output");
        let want = golden.col(column);
        assert_close(
            &format!("{spec} vs {column}"),
            &computed[0].1,
            want,
            floor_for(column, want),
        );
    }
    golden.order.len()
}

#[test]
fn every_golden_column_of_600519_matches_talib() {
    let bars = read_table(&repo("fixtures/cn/daily/600519.SH.csv"));
    let golden = read_table(&data("golden/600519.SH.csv"));
    assert_eq!(
        check_all(&bars, &golden),
        48,
        "every golden column is checked"
    );
}

#[test]
fn every_golden_column_of_btc_matches_talib() {
    let bars = read_table(&repo("fixtures/crypto/daily/BTC-USDT.csv"));
    let golden = read_table(&data("golden/BTC-USDT.csv"));
    assert_eq!(
        check_all(&bars, &golden),
        48,
        "every golden column is checked"
    );
}

#[test]
fn extra_patterns_match_talib() {
    for (input, golden) in [
        ("fixtures/cn/daily/600519.SH.csv", "extra/600519.SH.csv"),
        ("fixtures/crypto/daily/BTC-USDT.csv", "extra/BTC-USDT.csv"),
        (
            "crates/quant-indicators/tests/data/extra/synthetic_bars.csv",
            "extra/synthetic.csv",
        ),
    ] {
        let bars = read_table(&repo(input));
        let golden = read_table(&data(golden));
        assert!(check_all(&bars, &golden) >= 10);
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
        assert_close(
            "atr",
            &volatility::atr(h, l, c, 14).unwrap(),
            g.col("ATR_14"),
            0.0,
        );
        let m = momentum::macd(c, 12, 26, 9).unwrap();
        assert_close(
            "macd",
            &m.macd,
            g.col("MACD_12_26_9_macd"),
            f("MACD_12_26_9_macd"),
        );
        assert_close(
            "signal",
            &m.signal,
            g.col("MACD_12_26_9_signal"),
            f("MACD_12_26_9_signal"),
        );
        assert_close(
            "hist",
            &m.hist,
            g.col("MACD_12_26_9_hist"),
            f("MACD_12_26_9_hist"),
        );
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
