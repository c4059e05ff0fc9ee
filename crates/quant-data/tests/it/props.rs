//! Property tests of the readers of outside input (the fuzz targets in
//! `fuzz/` run the same entry points with coverage guidance): no input
//! makes them panic, and what they accept is what the rules allow.

use std::path::Path;

use proptest::prelude::*;
use quant_data::csv_io::read_from;
use quant_data::parquet_io::read_parquet_bytes;
use quant_data::validate::check_bar;

const HEADER: &str = "date,open,high,low,close,pre_close,volume,amount,adj_factor\n";

/// Text that looks like bar CSV often enough to get past the header.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop_oneof![
        Just(String::new()),
        "[0-9]{1,6}(\\.[0-9]{1,4})?",
        "-?[0-9]{1,3}e[0-9]{1,3}",
        Just("NaN".to_string()),
        Just("inf".to_string()),
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]",
        "\\PC{0,8}",
        Just("\"a,b\"".to_string()),
    ];
    let row = prop::collection::vec(cell, 0..11).prop_map(|c| c.join(","));
    (
        prop::bool::ANY,
        prop::collection::vec(row, 0..12),
        prop::collection::vec(any::<u8>(), 0..4),
    )
        .prop_map(|(header, rows, junk)| {
            let mut out = Vec::new();
            if header {
                out.extend_from_slice(HEADER.as_bytes());
            }
            for r in rows {
                out.extend_from_slice(r.as_bytes());
                out.push(b'\n');
            }
            // a few raw bytes anywhere (invalid UTF-8, NUL, lone quotes)
            for (k, b) in junk.into_iter().enumerate() {
                let at = (k * 7919) % (out.len() + 1);
                out.insert(at, b);
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes: an error or bars, never a panic; accepted bars pass the
    /// row rules (checked mode) or at least parsed (unchecked mode).
    #[test]
    fn the_csv_reader_never_panics(bytes in csvish()) {
        let path = Path::new("600519.SH.csv");
        if let Ok(s) = read_from(&bytes[..], path, true) {
            for i in 0..s.len() {
                let prev = i.checked_sub(1).map(|p| s.dates[p]);
                prop_assert!(check_bar(&s.bar(i), prev).is_ok());
            }
        }
        let _ = read_from(&bytes[..], path, false);
    }

    /// Arbitrary bytes are never a panic either.
    #[test]
    fn the_csv_reader_takes_raw_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = read_from(&bytes[..], Path::new("X.csv"), true);
    }
}

/// A real bar file as Parquet, then damaged byte by byte: the reader
/// reports an error (or, when the damage hits no data, reads valid bars),
/// and never panics.
#[test]
fn damaged_parquet_files_are_errors_not_panics() {
    let src = super::fixtures().join("cn/daily/600519.SH.csv");
    let s = quant_data::csv_io::read_csv(&src).unwrap();
    let mut good = Vec::new();
    quant_data::parquet_io::write_parquet_to(&mut good, Path::new("600519.SH.parquet"), &s)
        .unwrap();
    let path = Path::new("600519.SH.parquet");
    let (lo, hi) = (chrono::NaiveDate::MIN, chrono::NaiveDate::MAX);
    assert_eq!(
        read_parquet_bytes(good.clone(), path, lo, hi)
            .unwrap()
            .len(),
        s.len()
    );
    let errors = std::cell::Cell::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(1500));
    let damage = (
        prop::collection::vec((0..good.len(), any::<u8>()), 1..6),
        0..=good.len(),
    );
    runner
        .run(&damage, |(flips, cut)| {
            let mut bad = good.clone();
            for (at, b) in flips {
                bad[at] = b;
            }
            bad.truncate(cut.max(1));
            match read_parquet_bytes(bad, path, lo, hi) {
                Ok(r) => {
                    for i in 0..r.len() {
                        let prev = i.checked_sub(1).map(|p| r.dates[p]);
                        prop_assert!(check_bar(&r.bar(i), prev).is_ok());
                    }
                }
                Err(_) => errors.set(errors.get() + 1),
            }
            Ok(())
        })
        .unwrap();
    assert!(errors.get() > 0);
}

/// Found by the `bar_parquet` fuzz target (kept as
/// `fuzz/regressions/bar_parquet/delta-subtract-overflow.parquet`): a
/// damaged DELTA_BINARY_PACKED page makes parquet 60.1's decoder subtract
/// with overflow (a panic where overflow checks are on). The reader
/// reports the file as damaged instead of aborting the command.
#[test]
fn a_delta_page_that_overflows_the_decoder_is_an_error() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fuzz/delta-subtract-overflow.parquet"),
    )
    .unwrap();
    let path = Path::new("600519.SH.parquet");
    let (lo, hi) = (chrono::NaiveDate::MIN, chrono::NaiveDate::MAX);
    match read_parquet_bytes(bytes, path, lo, hi) {
        Err(e) => assert!(e.to_string().contains("600519.SH.parquet"), "{e}"),
        Ok(s) => {
            for i in 0..s.len() {
                let prev = i.checked_sub(1).map(|p| s.dates[p]);
                assert!(check_bar(&s.bar(i), prev).is_ok());
            }
        }
    }
}

/// Found by the `bar_parquet` fuzz target (kept as
/// `fuzz/regressions/bar_parquet/footer-claims-huge-row-count.parquet`): a
/// footer claiming about 2^59 rows made the reader reserve memory for all
/// of them up front and abort on the allocation. The claim is now capped
/// (what is reserved, the batch size) and the decoder finds the file
/// short: an error naming it, not an abort.
#[test]
fn a_footer_claiming_a_huge_row_count_is_an_error_not_an_abort() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fuzz/footer-claims-huge-row-count.parquet"),
    )
    .unwrap();
    let path = Path::new("600519.SH.parquet");
    let (lo, hi) = (chrono::NaiveDate::MIN, chrono::NaiveDate::MAX);
    match read_parquet_bytes(bytes, path, lo, hi) {
        Err(e) => assert!(e.to_string().contains("600519.SH.parquet"), "{e}"),
        Ok(s) => assert!(s.len() < 1 << 20),
    }
}
