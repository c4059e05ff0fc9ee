//! Indicator specs by name (`RSI(14)`, `MACD(12,26,9).hist`): parsed and,
//! when they parse, computed over a short series.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(spec) = quant_indicators::parse_spec(text) else { return };
    let close: Vec<f64> = (0..64).map(|i| 10.0 + (f64::from(i) * 0.7).sin()).collect();
    let high: Vec<f64> = close.iter().map(|c| c + 0.5).collect();
    let low: Vec<f64> = close.iter().map(|c| c - 0.5).collect();
    let volume = vec![1000.0; close.len()];
    let cols = quant_indicators::spec::Columns {
        open: Some(&close),
        high: Some(&high),
        low: Some(&low),
        close: Some(&close),
        volume: Some(&volume),
    };
    let _ = spec.compute(&cols);
});
