//! Date partitions inside a symbol's file: one row group per year, and a
//! date-range read that leaves the other years unread.

use chrono::{Datelike, NaiveDate};
use parquet::file::reader::{FileReader, SerializedFileReader};
use quant_data::parquet_io::{read_parquet, read_parquet_range, write_parquet};

use super::fixtures;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn one_row_group_per_year_and_ranges_equal_slices_of_the_whole() {
    let csv = quant_data::csv_io::read_csv(&fixtures().join("cn/daily/600519.SH.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("600519.SH.parquet");
    write_parquet(&path, &csv).unwrap();
    let years: std::collections::BTreeSet<i32> = csv.dates.iter().map(|d| d.year()).collect();
    let r = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(r.metadata().num_row_groups(), years.len());

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
fn a_range_read_does_not_touch_other_years() {
    let csv = quant_data::csv_io::read_csv(&fixtures().join("cn/daily/600036.SH.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("600036.SH.parquet");
    write_parquet(&path, &csv).unwrap();
    // wreck every data byte of the first year's row group
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

    // a later range loads: the wrecked year is never read
    let last_year = csv.dates.last().unwrap().year();
    let from = NaiveDate::from_ymd_opt(last_year, 1, 1).unwrap();
    let part = read_parquet_range(&path, from, NaiveDate::MAX).unwrap();
    assert_eq!(part.dates, csv.slice_dates(from, NaiveDate::MAX).dates);
    // the whole file (or the wrecked year) does not
    assert!(read_parquet(&path).is_err());
    let y0 = NaiveDate::from_ymd_opt(first_year, 6, 1).unwrap();
    assert!(read_parquet_range(&path, y0, y0).is_err());
}
