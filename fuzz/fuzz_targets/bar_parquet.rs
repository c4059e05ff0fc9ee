//! The Parquet bar reader on any bytes (a damaged or hostile file).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("600519.SH.parquet");
    let (lo, hi) = (chrono::NaiveDate::MIN, chrono::NaiveDate::MAX);
    let _ = quant_data::parquet_io::read_parquet_bytes(data.to_vec(), path, lo, hi);
});
