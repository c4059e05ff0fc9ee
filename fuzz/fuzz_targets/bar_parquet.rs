//! The Parquet bar reader on any bytes (a damaged or hostile file).
//!
//! `read_parquet_bytes` contains panics of the third-party decoder (it
//! turns them into errors); libFuzzer's panic hook would still abort on
//! them, so this target keeps the default unwinding: a panic that escapes
//! the reader still crashes the target.
#![no_main]

use libfuzzer_sys::fuzz_target;

static QUIET: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let path = std::path::Path::new("600519.SH.parquet");
    let (lo, hi) = (chrono::NaiveDate::MIN, chrono::NaiveDate::MAX);
    let _ = quant_data::parquet_io::read_parquet_bytes(data.to_vec(), path, lo, hi);
});
