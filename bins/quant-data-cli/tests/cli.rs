//! The `quant-data` binary: import, and a failed import that names the bad row.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}

#[test]
fn import_and_refuse_a_bad_row() {
    let store = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args(["import", "--input"])
        .arg(fixtures().join("cn/index"))
        .arg("--store")
        .arg(store.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("imported 2 files"));
    assert!(store.path().join("000300.SH.parquet").is_file());

    let input = tempfile::tempdir().unwrap();
    std::fs::write(
        input.path().join("BAD.SH.csv"),
        "date,open,high,low,close,volume\n2021-01-04,10,11,9,10,100\n2021-01-05,10,11,9,,100\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args(["import", "--input"])
        .arg(input.path())
        .arg("--store")
        .arg(store.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("BAD.SH.csv:3: close is empty"), "{err}");
    assert!(!store.path().join("BAD.SH.parquet").exists());
}

fn golden(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/quant-indicators/tests/data/golden")
        .join(rel)
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_quant-data"))
        .args(args)
        .output()
        .unwrap()
}

/// Rows of a CSV as (header, rows of cells).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn indicators_writes_talib_numbers_named_from_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ind.csv");
    let input = fixtures().join("cn/daily/600519.SH.csv");
    let o = run(&[
        "indicators",
        "--input",
        input.to_str().unwrap(),
        "--spec",
        "RSI(14)",
        "--spec",
        "MACD(12,26,9)",
        "--spec",
        "BBANDS(20,2,2).upper",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        [
            "date",
            "RSI_14",
            "MACD_12_26_9_macd",
            "MACD_12_26_9_signal",
            "MACD_12_26_9_hist",
            "BBANDS_20_2_2_upper"
        ]
    );
    let (gh, grows) = read_csv(&golden("600519.SH.csv"));
    assert_eq!(rows.len(), grows.len());
    for (k, name) in header.iter().enumerate().skip(1) {
        let gk = gh.iter().position(|h| h == name).unwrap();
        for (r, g) in rows.iter().zip(&grows) {
            assert_eq!(r[0], g[0]);
            // empty exactly where TA-Lib has no value
            assert_eq!(r[k].is_empty(), g[gk].is_empty(), "{name} on {}", r[0]);
            if r[k].is_empty() {
                continue;
            }
            let (a, b): (f64, f64) = (r[k].parse().unwrap(), g[gk].parse().unwrap());
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{name} on {}: {a} vs {b}",
                r[0]
            );
            // 17 significant digits, as printf's %.17g
            let digits = r[k].trim_start_matches('-').replace('.', "");
            assert!(digits.trim_start_matches('0').len() <= 17, "{}", r[k]);
        }
    }
    // RSI(14) of 2015-01-23 printed in full, 17 significant digits: the
    // very digits of TA-Lib's golden file
    assert_eq!(rows[14][0], "2015-01-23");
    assert_eq!(rows[14][1], "23.857003891050624");

    // Parquet when the name says so
    let pq = dir.path().join("ind.parquet");
    let o = run(&[
        "indicators",
        "--input",
        input.to_str().unwrap(),
        "--spec",
        "ATR(14)",
        "--out",
        pq.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&pq).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
}

#[test]
fn indicators_refuses_a_bad_spec_listing_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    let input = fixtures().join("cn/daily/600519.SH.csv");
    let o = run(&[
        "indicators",
        "--input",
        input.to_str().unwrap(),
        "--spec",
        "RSX(14)",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown indicator `RSX`"), "{err}");
    assert!(
        err.contains("RSI(timeperiod=14)") && err.contains("MACD("),
        "{err}"
    );
    assert!(!out.exists());
    let o = run(&[
        "indicators",
        "--input",
        input.to_str().unwrap(),
        "--spec",
        "MACD(12,26,9).foo",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("macd, signal, hist"));
    let o = run(&["indicators", "--list"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).lines().count() >= 45);
}
