//! The bar CSV readers on any bytes: daily (checked and unchecked) and
//! intraday (A-share local stamps, crypto UTC stamps).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("600519.SH.csv");
    let _ = quant_data::csv_io::read_from(data, path, true);
    let _ = quant_data::csv_io::read_from(data, path, false);
    for ex in [quant_core::Exchange::Sse, quant_core::Exchange::Crypto] {
        let _ = quant_data::intraday::read_intraday_from(data, path, ex);
    }
});
