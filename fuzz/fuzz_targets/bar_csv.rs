//! The daily-bar CSV reader, checked and unchecked, on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("600519.SH.csv");
    let _ = quant_data::csv_io::read_from(data, path, true);
    let _ = quant_data::csv_io::read_from(data, path, false);
});
