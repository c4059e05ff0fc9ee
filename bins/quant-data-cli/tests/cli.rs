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
