//! Backup and restore of a whole store built from the real fixtures.

use std::path::Path;

use quant_data::backup::{backup, restore};
use quant_data::store::files_with_extension;
use quant_data::{import_dir, load_series};

use super::{copy_dir, fixtures};

/// A store of the fixture's A-share bars plus a quarantine file and a
/// catalog-like file.
fn store_with_everything(root: &Path) -> std::path::PathBuf {
    let input = root.join("input");
    copy_dir(&fixtures().join("cn/daily"), &input.join("cn/daily"));
    copy_dir(&fixtures().join("cn/index"), &input.join("cn/index"));
    let store = root.join("store");
    import_dir(
        &input,
        &store,
        &quant_data::store::ImportOptions::default(),
        |_, _| {},
    )
    .unwrap();
    std::fs::create_dir_all(store.join("quarantine/cn")).unwrap();
    std::fs::write(store.join("quarantine/cn/600519.SH.csv"), "date,reason\n").unwrap();
    std::fs::write(store.join("catalog.sqlite"), b"live database").unwrap();
    // what a killed writer leaves: never archived
    std::fs::write(store.join("cn/daily/.write-abc.tmp"), b"half").unwrap();
    store
}

fn read_all(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            // the store's bookkeeping (locks, generation) is not data
            if p.file_name().is_some_and(|n| n == ".quant-store") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_backup_restores_byte_for_byte_with_the_catalog_snapshot_in_place_of_the_live_file() {
    let root = tempfile::tempdir().unwrap();
    let store = store_with_everything(root.path());
    let snapshot = root.path().join("snapshot.sqlite");
    std::fs::write(&snapshot, b"consistent snapshot").unwrap();
    let archive = root.path().join("backups/store.tar.zst");
    let rep = backup(
        &store,
        &archive,
        |rel| rel == Path::new("catalog.sqlite"),
        &[("catalog.sqlite".into(), snapshot.clone())],
    )
    .unwrap();
    // 17 bar files, the quarantine file and the catalog
    assert_eq!(rep.files, 19);
    assert!(rep.archive_bytes > 0 && rep.archive_bytes < rep.bytes);
    // no temporary file left beside the archive
    assert_eq!(
        std::fs::read_dir(archive.parent().unwrap())
            .unwrap()
            .count(),
        1
    );

    let target = root.path().join("restored");
    let r = restore(&archive, &target, false).unwrap();
    assert_eq!((r.files, r.series, r.replaced), (19, 17, None));
    let mut want = read_all(&store);
    want.retain(|(p, _)| !p.to_string_lossy().contains(".write-"));
    for (p, bytes) in &mut want {
        if p == Path::new("catalog.sqlite") {
            *bytes = b"consistent snapshot".to_vec();
        }
    }
    assert_eq!(read_all(&target), want);
    let a = load_series(&store.join("cn/daily/600519.SH.parquet")).unwrap();
    let b = load_series(&target.join("cn/daily/600519.SH.parquet")).unwrap();
    assert_eq!(a.close, b.close);
    let rows: usize = files_with_extension(&target, "parquet")
        .unwrap()
        .iter()
        .map(|p| load_series(p).unwrap().len())
        .sum();
    assert_eq!(r.rows, rows);

    // the same store backed up twice: identical archives
    let again = root.path().join("backups/again.tar.zst");
    backup(
        &store,
        &again,
        |rel| rel == Path::new("catalog.sqlite"),
        &[("catalog.sqlite".into(), snapshot)],
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

#[test]
fn restore_over_a_store_needs_replace_and_keeps_the_old_one_aside() {
    let root = tempfile::tempdir().unwrap();
    let store = store_with_everything(root.path());
    let archive = root.path().join("store.tar.zst");
    backup(&store, &archive, |_| false, &[]).unwrap();
    std::fs::remove_file(store.join("cn/daily/600519.SH.parquet")).unwrap();
    let before = read_all(&store);

    let e = restore(&archive, &store, false).unwrap_err().to_string();
    assert!(e.contains("--replace"), "{e}");
    assert_eq!(read_all(&store), before);

    let r = restore(&archive, &store, true).unwrap();
    let aside = r.replaced.unwrap();
    assert!(aside.to_string_lossy().contains("store.replaced-"));
    // the old store, less the stray temporary file its opening cleaned up
    let mut kept = before.clone();
    kept.retain(|(p, _)| !p.to_string_lossy().contains(".write-"));
    assert_eq!(read_all(&aside), kept);
    assert!(store.join("cn/daily/600519.SH.parquet").is_file());
}

#[test]
fn a_damaged_archive_or_a_bad_bar_file_restores_nothing() {
    let root = tempfile::tempdir().unwrap();
    let store = store_with_everything(root.path());
    let archive = root.path().join("store.tar.zst");
    backup(&store, &archive, |_| false, &[]).unwrap();
    let target = root.path().join("restored");

    // one flipped byte in the compressed stream
    let mut bytes = std::fs::read(&archive).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    let damaged = root.path().join("damaged.tar.zst");
    std::fs::write(&damaged, &bytes).unwrap();
    let e = restore(&damaged, &target, false).unwrap_err().to_string();
    assert!(e.contains("damaged.tar.zst"), "{e}");
    assert!(!target.exists());

    // a bar file that does not validate (high below low) is caught before
    // anything moves into place
    let bad = root.path().join("bad-store");
    std::fs::create_dir_all(bad.join("cn/daily")).unwrap();
    let mut s = load_series(&store.join("cn/daily/600519.SH.parquet")).unwrap();
    s.high[10] = s.low[10] - 1.0;
    quant_data::parquet_io::write_parquet(&bad.join("cn/daily/600519.SH.parquet"), &s).unwrap();
    let bad_archive = root.path().join("bad.tar.zst");
    backup(&bad, &bad_archive, |_| false, &[]).unwrap();
    let e = restore(&bad_archive, &target, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("600519.SH.parquet"), "{e}");
    assert!(!target.exists());
    // no staging folder left behind
    assert!(std::fs::read_dir(root.path()).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".restore-")
    }));
}
