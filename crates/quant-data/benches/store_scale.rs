//! Scale benchmark of the Parquet store: write and load back every daily
//! bar of a synthetic 5000-symbol, 20-year A-share market (≈25 million
//! rows), and import the real `shared/data/cn/daily` folder when present.
//! Reports rows per second and bytes on disk per row; the load is on one
//! core (this process's thread).
//!
//! Run: `cargo bench -p quant-data --bench store_scale`
//! (optional arguments after `--`: SYMBOLS DAYS; `SHARED_CN_DAILY=DIR`
//! points at the real data, default `../shared/data/cn/daily` beside the
//! checkout; `STORE_SCALE_DIR=DIR` writes the synthetic store there and
//! keeps it, and reuses it when it is already there, for profiling the
//! load alone).

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Instant;

use chrono::Datelike;

use quant_core::Bar;
use quant_data::BarSeries;
use quant_data::store::{files_with_extension, import_dir, load_store};

fn dir_bytes(dir: &Path) -> u64 {
    files_with_extension(dir, "parquet")
        .unwrap()
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

/// A seeded random walk in cents, A-share-like: prices to the cent, volumes
/// in whole lots, a factor that steps up on a few ex-dates.
fn synthetic(sym: usize, days: usize, start: chrono::NaiveDate) -> BarSeries {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15 ^ (sym as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let cents = |x: f64| (x * 100.0).round() / 100.0;
    let mut out = BarSeries::default();
    let mut close = 5.0 + 50.0 * next();
    let mut factor = 1.0;
    let mut date = start;
    for _ in 0..days {
        let prev = close;
        close = cents((close * (1.0 + 0.04 * (next() - 0.5))).max(1.0));
        let open = cents(prev * (1.0 + 0.01 * (next() - 0.5))).max(0.5);
        let high = cents(open.max(close) * (1.0 + 0.01 * next()));
        let low = cents(open.min(close) * (1.0 - 0.01 * next()));
        let volume = (1.0 + 5000.0 * next()).round() * 100.0;
        if next() < 0.001 {
            factor *= 1.1;
        }
        out.push(&Bar {
            date,
            open,
            high,
            low,
            close,
            pre_close: prev,
            volume,
            amount: (volume * (open + close) / 2.0).round(),
            adj_factor: factor,
        });
        // trading days: weekdays, so 5000 bars span about 20 years
        date = date.succ_opt().unwrap();
        while matches!(date.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
            date = date.succ_opt().unwrap();
        }
    }
    out
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (n_sym, n_days) = (
        args.first().copied().unwrap_or(5000),
        args.get(1).copied().unwrap_or(5000),
    );
    let tmp = tempfile::tempdir().unwrap();
    let root = std::env::var_os("STORE_SCALE_DIR")
        .map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
    let store = root.join("cn/daily");
    std::fs::create_dir_all(&store).unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2005, 1, 4).unwrap();
    let reuse = std::fs::read_dir(&store).unwrap().next().is_some();

    let t = Instant::now();
    let mut rows = 0usize;
    for i in (0..n_sym).filter(|_| !reuse) {
        let mut s = synthetic(i, n_days, start);
        let code = if i % 2 == 0 { 600_000 + i } else { i };
        let name = format!("{code:06}.{}", if i % 2 == 0 { "SH" } else { "SZ" });
        s.symbol = Some(quant_core::Symbol::new(name.as_str()).unwrap());
        rows += s.len();
        quant_data::parquet_io::write_parquet(&store.join(format!("{name}.parquet")), &s).unwrap();
    }
    let write = t.elapsed();
    if reuse {
        rows = load_store(&root).unwrap().iter().map(BarSeries::len).sum();
        println!("reusing the synthetic store in {}", root.display());
    }
    let bytes = dir_bytes(&store);
    println!(
        "synthetic: {n_sym} symbols × {n_days} days = {rows} rows; write {write:.2?} ({:.2} M rows/s); {:.1} MB on disk, {:.2} bytes/row",
        rows as f64 / write.as_secs_f64() / 1e6,
        bytes as f64 / 1e6,
        bytes as f64 / rows as f64
    );
    for round in 1..=3 {
        let t = Instant::now();
        let all = load_store(&root).unwrap();
        let load = t.elapsed();
        let n: usize = all.iter().map(BarSeries::len).sum();
        assert_eq!(n, rows);
        println!(
            "synthetic load #{round} (one core, validated): {load:.2?} ({:.2} M rows/s)",
            rows as f64 / load.as_secs_f64() / 1e6
        );
    }

    let real = std::env::var("SHARED_CN_DAILY").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/cn/daily").to_string()
    });
    let real = Path::new(&real);
    if !real.is_dir() {
        println!("real data: {} not found, skipped", real.display());
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let rep = import_dir(
        real,
        out.path(),
        &quant_data::store::ImportOptions::default(),
        |_, _| {},
    )
    .unwrap();
    let import = t.elapsed();
    let bytes = dir_bytes(out.path());
    let t = Instant::now();
    let all = load_store(out.path()).unwrap();
    let load = t.elapsed();
    assert_eq!(all.iter().map(BarSeries::len).sum::<usize>(), rep.rows);
    println!(
        "real cn/daily: {} files, {} rows; import (CSV read + validate + Parquet write) {import:.2?} ({:.2} M rows/s); load {load:.2?} ({:.2} M rows/s); {:.1} MB, {:.2} bytes/row",
        rep.files.len(),
        rep.rows,
        rep.rows as f64 / import.as_secs_f64() / 1e6,
        rep.rows as f64 / load.as_secs_f64() / 1e6,
        bytes as f64 / 1e6,
        bytes as f64 / rep.rows as f64
    );
}
