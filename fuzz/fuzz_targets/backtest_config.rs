//! Backtest run configs (docs/config.md) on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = std::path::Path::new("config/fuzz.toml");
    let _ = quant_backtest::BacktestConfig::parse(text, path);
});
