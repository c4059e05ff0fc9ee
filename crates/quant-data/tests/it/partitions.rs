//! Date partitions inside a symbol's file: one row group per calendar
//! decade, and a date-range read that leaves the other decades unread;
//! the compact column forms read back bit for bit.

use chrono::{Datelike, NaiveDate};
use parquet::file::reader::{FileReader, SerializedFileReader};
use quant_data::parquet_io::{read_parquet, read_parquet_range, write_parquet};

use super::fixtures;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn one_row_group_per_decade_and_ranges_equal_slices_of_the_whole() {
    let csv = quant_data::csv_io::read_csv(&fixtures().join("cn/daily/600519.SH.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("600519.SH.parquet");
    write_parquet(&path, &csv).unwrap();
    let decades: std::collections::BTreeSet<i32> =
        csv.dates.iter().map(|d| d.year() / 10).collect();
    assert!(decades.len() >= 2, "the fixture spans decades");
    let r = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(r.metadata().num_row_groups(), decades.len());

    let all = read_parquet(&path).unwrap();
    assert_eq!(all.dates, csv.dates);
    assert_eq!(all.close, csv.close);
    for (from, to) in [
        ("2020-03-15", "2021-02-10"),
        ("2019-01-01", "2019-12-31"),
        ("2000-01-01", "2001-01-01"),
        ("2021-12-31", "2030-01-01"),
        ("2021-06-06", "2021-06-06"),
    ] {
        let (from, to) = (d(from), d(to));
        let part = read_parquet_range(&path, from, to).unwrap();
        let want = all.slice_dates(from, to);
        assert_eq!(part.dates, want.dates, "{from}..{to}");
        assert_eq!(part.open, want.open);
        assert_eq!(part.adj_factor, want.adj_factor);
        assert_eq!(part.symbol, want.symbol);
    }
}

#[test]
fn a_range_read_does_not_touch_other_decades() {
    let csv = quant_data::csv_io::read_csv(&fixtures().join("cn/daily/600036.SH.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("600036.SH.parquet");
    write_parquet(&path, &csv).unwrap();
    // wreck every data byte of the first decade's row group
    let r = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let g = r.metadata().row_group(0);
    let first_year = csv.dates[0].year();
    let mut bytes = std::fs::read(&path).unwrap();
    for c in g.columns() {
        let (start, len) = c.byte_range();
        for b in &mut bytes[start as usize..(start + len) as usize] {
            *b ^= 0xA5;
        }
    }
    std::fs::write(&path, &bytes).unwrap();

    // a later range loads: the wrecked decade is never read
    let last_year = csv.dates.last().unwrap().year();
    let from = NaiveDate::from_ymd_opt(last_year, 1, 1).unwrap();
    let part = read_parquet_range(&path, from, NaiveDate::MAX).unwrap();
    assert_eq!(part.dates, csv.slice_dates(from, NaiveDate::MAX).dates);
    // the whole file (or the wrecked decade) does not
    assert!(read_parquet(&path).is_err());
    let y0 = NaiveDate::from_ymd_opt(first_year, 6, 1).unwrap();
    assert!(read_parquet_range(&path, y0, y0).is_err());
}

#[test]
fn every_fixture_reads_back_bit_for_bit_in_the_compact_forms() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["cn/daily", "cn/index", "cn/etf", "us/daily", "crypto/daily"] {
        for f in quant_data::store::files_with_extension(&fixtures().join(sub), "csv").unwrap() {
            let csv = quant_data::csv_io::read_csv(&f).unwrap();
            let path = dir
                .path()
                .join(f.file_name().unwrap())
                .with_extension("parquet");
            write_parquet(&path, &csv).unwrap();
            let back = read_parquet(&path).unwrap();
            assert_eq!(back.dates, csv.dates, "{}", f.display());
            for (a, b) in back.value_columns().into_iter().zip(csv.value_columns()) {
                let bits = |v: &Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(a), bits(b), "{}", f.display());
            }
        }
    }
}

#[test]
fn columns_without_a_short_decimal_form_stay_doubles_and_round_trip() {
    let csv = quant_data::csv_io::read_csv(&fixtures().join("cn/daily/600519.SH.csv")).unwrap();
    // forward-adjusted prices have long expansions; a NaN amount is absent
    let mut s = csv.adjusted(quant_data::Adjust::Forward);
    s.amount[0] = f64::NAN;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("600519.SH.parquet");
    write_parquet(&path, &s).unwrap();
    let r = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let schema = r.metadata().file_metadata().schema_descr();
    let physical = |name: &str| {
        schema
            .columns()
            .iter()
            .find(|c| c.name() == name)
            .unwrap()
            .physical_type()
    };
    assert_eq!(physical("close"), parquet::basic::Type::DOUBLE);
    assert_eq!(physical("volume"), parquet::basic::Type::INT64);
    assert_eq!(physical("amount"), parquet::basic::Type::INT64);
    let back = read_parquet(&path).unwrap();
    assert!(back.amount[0].is_nan());
    assert_eq!(back.amount[1..], s.amount[1..]);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back.close), bits(&s.close));
    assert_eq!(bits(&back.open), bits(&s.open));
    assert_eq!(bits(&back.volume), bits(&s.volume));
}
