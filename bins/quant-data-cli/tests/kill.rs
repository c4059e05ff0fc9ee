//! Kill tests (docs/RELIABILITY.md): `quant-data import` and `update`
//! SIGKILLed between files, in the middle of a file, just before and just
//! after the commit record, during the publish, and at random moments.
//! After each kill the store must read as exactly the old data or exactly
//! the new data (every file, byte for byte), hold no leftovers once
//! opened, and the next command must succeed.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_quant-data"));
    c.env_remove("QUANT_FAILPOINT").env_remove("RUST_LOG");
    c
}

/// Every data file of the store (bookkeeping and the live catalog left
/// out), with its bytes, read under the store's read lock — which first
/// finishes whatever a killed command committed.
fn snapshot(store: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let _guard = quant_data::commit::read_lock(store).unwrap();
    let mut out = BTreeMap::new();
    let mut stack = vec![store.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name == ".quant-store" || name.starts_with("catalog.sqlite") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(store).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Nothing left over once the store has been opened: no staged
/// transaction, no temporary file anywhere.
fn assert_clean(store: &Path, when: &str) {
    let txn = store.join(".quant-store/txn");
    if txn.is_dir() {
        let n = std::fs::read_dir(&txn).unwrap().count();
        assert_eq!(n, 0, "{when}: transactions left in {}", txn.display());
    }
    let mut stack = vec![store.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert!(!name.ends_with(".tmp"), "{when}: {} left", p.display());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

/// Runs `cmd` with the failpoint armed and SIGKILLs it once it reports
/// reaching it. Returns false when the command ended without reaching it.
fn kill_at(mut cmd: Command, failpoint: &str) -> bool {
    let mut child = cmd
        .env("QUANT_FAILPOINT", failpoint)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let name = failpoint.split(':').next().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains(&format!("failpoint {name} reached")) {
                let _ = tx.send(true);
                return;
            }
        }
        let _ = tx.send(false);
    });
    let reached = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the command neither reached its failpoint nor ended");
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    if reached {
        assert!(!status.success(), "killed, so not a success");
    }
    reached
}

/// Runs `cmd` and SIGKILLs it after `delay`.
fn kill_after(mut cmd: Command, delay: Duration) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait().unwrap();
}

/// A small deterministic sequence of delays in `[0, max)`.
fn delays(n: usize, max: Duration, seed: u64) -> Vec<Duration> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let frac = (x >> 11) as f64 / (1u64 << 53) as f64;
            max.mul_f64(frac)
        })
        .collect()
}

/// The first `n` data rows of a fixture file.
fn head(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().take(n + 1).collect::<Vec<_>>().join("\n") + "\n"
}

/// Where each kill point sits relative to the commit point.
const BEFORE_COMMIT: [&str; 6] = [
    "staged-file:1",
    "staged-file:4",
    "mid-file:1",
    "mid-file:3",
    "before-commit-record:1",
    "staged-file:9",
];
const AFTER_COMMIT: [&str; 5] = [
    "after-commit-record:1",
    "publish-first-file:1",
    "publish-before-generation:1",
    // the generation file written, not yet renamed (a random kill found
    // that its temporary file was left behind)
    "replace-file-before-rename:1",
    "after-publish:1",
];

#[test]
fn a_killed_import_leaves_the_old_store_or_the_new_one() {
    let root = tempfile::tempdir().unwrap();
    let daily = fixtures().join("cn/daily");
    let names = [
        "600519.SH",
        "600036.SH",
        "000001.SZ",
        "000651.SZ",
        "601318.SH",
        "300750.SZ",
    ];
    // the old store: the first 300 bars of six stocks
    let old_in = root.path().join("old-in/cn/daily");
    std::fs::create_dir_all(&old_in).unwrap();
    for n in names {
        std::fs::write(
            old_in.join(format!("{n}.csv")),
            head(&daily.join(format!("{n}.csv")), 300),
        )
        .unwrap();
    }
    let base = root.path().join("base");
    let import = |input: &Path, store: &Path| {
        let mut c = bin();
        c.args(["import", "--input"])
            .arg(input)
            .arg("--store")
            .arg(store);
        c
    };
    let o = import(&root.path().join("old-in"), &base).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // the new input: every bar of the six, two more stocks, and one bad
    // row (a quarantine file is part of the commit)
    let new_in = root.path().join("new-in/cn/daily");
    std::fs::create_dir_all(&new_in).unwrap();
    for n in names.iter().chain(&["600900.SH", "000858.SZ"]) {
        std::fs::copy(
            daily.join(format!("{n}.csv")),
            new_in.join(format!("{n}.csv")),
        )
        .unwrap();
    }
    let mut text = std::fs::read_to_string(new_in.join("600900.SH.csv")).unwrap();
    text.push_str("2022-01-17,20,19,21,20,100,2000,20,1\n");
    std::fs::write(new_in.join("600900.SH.csv"), text).unwrap();
    let new_in = root.path().join("new-in");

    let old = snapshot(&base);
    let want = {
        let s = root.path().join("want");
        copy_tree(&base, &s);
        let started = Instant::now();
        let o = import(&new_in, &s).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (snapshot(&s), started.elapsed())
    };
    let (new, full_run) = want;
    assert_ne!(old, new);
    assert_eq!(new.len(), 9, "8 series and one quarantine file");

    let mut cases = 0;
    let check = |store: &Path, when: &str, expect: Option<&BTreeMap<PathBuf, Vec<u8>>>| {
        let got = snapshot(store);
        match expect {
            Some(e) => assert!(&got == e, "{when}: the store is neither as expected"),
            None => assert!(got == old || got == new, "{when}: a mix of old and new"),
        }
        assert_clean(store, when);
        // the next command succeeds and gives the new store
        let o = import(&new_in, store).output().unwrap();
        assert!(
            o.status.success(),
            "{when}: rerun: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(snapshot(store) == new, "{when}: rerun gives the new store");
        assert_clean(store, when);
    };
    for (points, expect) in [(&BEFORE_COMMIT[..], &old), (&AFTER_COMMIT[..], &new)] {
        for fp in points {
            let store = root.path().join(format!("case-{cases}"));
            copy_tree(&base, &store);
            assert!(kill_at(import(&new_in, &store), fp), "{fp} was not reached");
            check(&store, fp, Some(expect));
            cases += 1;
        }
    }
    for (k, d) in delays(8, full_run * 2, 7).into_iter().enumerate() {
        let store = root.path().join(format!("random-{k}"));
        copy_tree(&base, &store);
        kill_after(import(&new_in, &store), d);
        check(&store, &format!("kill after {d:?}"), None);
        cases += 1;
    }
    eprintln!("{cases} kills of import checked (a full run takes {full_run:?})");
}

/// A fake Eastmoney K-line server on 127.0.0.1 serving the real fixture
/// stocks (`secid` 1.xxxxxx for SSE, 0.xxxxxx for SZSE); returns its URL.
fn fake_eastmoney() -> String {
    use axum::extract::Query;
    use std::collections::HashMap;
    let mut all = HashMap::new();
    for f in quant_data::store::files_with_extension(&fixtures().join("cn/daily"), "csv").unwrap() {
        let s = quant_data::csv_io::read_csv(&f).unwrap();
        let sym = s.symbol.clone().unwrap().to_string();
        let (code, ex) = sym.split_once('.').unwrap();
        let secid = format!("{}.{code}", if ex == "SH" { 1 } else { 0 });
        all.insert(secid, (code.to_string(), s));
    }
    let all = std::sync::Arc::new(all);
    let handler = move |Query(q): Query<HashMap<String, String>>| {
        let all = all.clone();
        async move {
            let day = |k: &str| chrono::NaiveDate::parse_from_str(&q[k], "%Y%m%d").unwrap();
            let (beg, end) = (day("beg"), day("end"));
            let Some((code, s)) = all.get(&q["secid"]) else {
                return axum::Json(serde_json::json!({"rc": 0, "data": null}));
            };
            let klines: Vec<String> = (0..s.len())
                .filter(|&i| s.dates[i] >= beg && s.dates[i] <= end)
                .map(|i| {
                    format!(
                        "{},{},{},{},{},{},{:.2},0,0,0,0",
                        s.dates[i],
                        s.open[i],
                        s.close[i],
                        s.high[i],
                        s.low[i],
                        s.volume[i] / 100.0,
                        s.amount[i]
                    )
                })
                .collect();
            axum::Json(serde_json::json!({"rc": 0, "data": {"code": code, "klines": klines}}))
        }
    };
    common::serve(axum::Router::new().route("/api/qt/stock/kline/get", axum::routing::get(handler)))
}

/// Lines of update history the catalog holds.
fn history_rows(dir: &Path, store: &Path) -> usize {
    let o = bin()
        .current_dir(dir)
        .args(["catalog", "history", "--limit", "1000", "--store"])
        .arg(store)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).lines().count() - 1
}

#[test]
fn a_killed_update_leaves_the_old_store_or_the_new_one() {
    let url = fake_eastmoney();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    std::fs::write(
        dir.join("data.toml"),
        format!(
            "[client]\nmax_attempts = 1\nbase_delay_ms = 1\n\
             [providers.eastmoney]\nbase_url = \"{url}\"\n\
             [markets.cn]\nprimary = \"eastmoney\"\n"
        ),
    )
    .unwrap();
    let base = dir.join("base");
    let symbols = ["600519.SH", "000001.SZ", "600036.SH", "000651.SZ"];
    let mut fetch = bin();
    fetch
        .current_dir(dir)
        .args([
            "fetch",
            "--config",
            "data.toml",
            "--market",
            "cn",
            "--start",
            "2019-01-01",
        ])
        .args(["--end", "2019-06-30", "--store"])
        .arg(&base);
    for s in symbols {
        fetch.args(["--symbol", s]);
    }
    let o = fetch.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let update = |store: &Path| {
        let mut c = bin();
        c.current_dir(dir)
            .args([
                "update",
                "--config",
                "data.toml",
                "--market",
                "cn",
                "--store",
            ])
            .arg(store);
        c
    };
    let old = snapshot(&base);
    let old_history = history_rows(dir, &base);
    let (new, full_run) = {
        let s = dir.join("want");
        copy_tree(&base, &s);
        let started = Instant::now();
        let o = update(&s).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (snapshot(&s), started.elapsed())
    };
    assert_ne!(old, new);
    let check = |store: &Path, when: &str, expect: Option<&BTreeMap<PathBuf, Vec<u8>>>| {
        let got = snapshot(store);
        match expect {
            Some(e) => assert!(&got == e, "{when}: the store is not as expected"),
            None => assert!(got == old || got == new, "{when}: a mix of old and new"),
        }
        assert_clean(store, when);
        // the catalog got all of the command's rows or none of them
        let h = history_rows(dir, store);
        assert!(
            h == old_history || h == old_history + symbols.len(),
            "{when}: {h} history rows (had {old_history})"
        );
        let o = update(store).output().unwrap();
        assert!(
            o.status.success(),
            "{when}: rerun: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(snapshot(store) == new, "{when}: rerun gives the new store");
    };
    let mut cases = 0;
    let before = [
        "staged-file:1",
        "staged-file:3",
        "mid-file:2",
        "before-commit-record:1",
    ];
    for (points, expect) in [(&before[..], &old), (&AFTER_COMMIT[..], &new)] {
        for fp in points {
            let store = dir.join(format!("case-{cases}"));
            copy_tree(&base, &store);
            assert!(kill_at(update(&store), fp), "{fp} was not reached");
            check(&store, fp, Some(expect));
            cases += 1;
        }
    }
    for (k, d) in delays(6, full_run * 2, 11).into_iter().enumerate() {
        let store = dir.join(format!("random-{k}"));
        copy_tree(&base, &store);
        kill_after(update(&store), d);
        check(&store, &format!("kill after {d:?}"), None);
        cases += 1;
    }
    eprintln!("{cases} kills of update checked (a full run takes {full_run:?})");
}

/// Entries beside `store` named `<prefix><store name><suffix>…`: the
/// hidden staging folders of restores (`.`, `.restore-`) and the stores
/// they replaced (``, `.replaced-`).
fn beside(store: &Path, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let name = store.file_name().unwrap().to_string_lossy().into_owned();
    let start = format!("{prefix}{name}{suffix}");
    std::fs::read_dir(store.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(&start))
        .collect()
}

fn staging_left(store: &Path) -> Vec<PathBuf> {
    beside(store, ".", ".restore-")
}

fn replaced(store: &Path) -> Vec<PathBuf> {
    beside(store, "", ".replaced-")
}

#[test]
fn a_killed_restore_or_backup_leaves_a_whole_store_and_a_whole_archive() {
    let root = tempfile::tempdir().unwrap();
    let daily = fixtures().join("cn/daily");
    let make = |dir: &str, names: &[&str]| {
        let input = root.path().join(format!("{dir}-in"));
        std::fs::create_dir_all(&input).unwrap();
        for n in names {
            std::fs::copy(
                daily.join(format!("{n}.csv")),
                input.join(format!("{n}.csv")),
            )
            .unwrap();
        }
        let store = root.path().join(dir);
        let o = bin()
            .args(["import", "--input"])
            .arg(&input)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        store
    };
    let base = make("old", &["600519.SH", "600036.SH", "000001.SZ"]);
    let other = make("new", &["601318.SH", "300750.SZ"]);
    let archive = root.path().join("new.tar.zst");
    let backup = |store: &Path, out: &Path| {
        let mut c = bin();
        c.args(["backup", "--store"])
            .arg(store)
            .arg("--out")
            .arg(out);
        c
    };
    let o = backup(&other, &archive).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let old = snapshot(&base);
    let new = snapshot(&other);
    let restore = |store: &Path| {
        let mut c = bin();
        c.args(["restore", "--replace", "--archive"])
            .arg(&archive)
            .arg("--store")
            .arg(store);
        c
    };
    let mut cases = 0;
    for (fp, expect) in [
        ("restore-unpacked:1", &old),
        ("restore-before-swap:1", &old),
        ("restore-after-swap:1", &new),
    ] {
        let case = root.path().join(format!("restore-{cases}"));
        let store = case.join("store");
        copy_tree(&base, &store);
        assert!(kill_at(restore(&store), fp), "{fp} was not reached");
        assert!(
            snapshot(&store) == *expect,
            "{fp}: the store is not as expected"
        );
        if expect == &new {
            // the replaced store was kept aside, whole
            let aside = replaced(&store);
            assert_eq!(aside.len(), 1, "{fp}: {aside:?}");
            assert!(snapshot(&aside[0]) == old, "{fp}: the old store kept aside");
            assert!(staging_left(&store).is_empty(), "{fp}");
        }
        // the next restore succeeds and cleans up
        let o = restore(&store).output().unwrap();
        assert!(
            o.status.success(),
            "{fp}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(snapshot(&store) == new, "{fp}: rerun");
        assert!(staging_left(&store).is_empty(), "{fp}: staging left");
        cases += 1;
    }
    // a backup killed before its rename leaves the previous archive whole
    let out = root.path().join("backups/store.tar.zst");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let o = backup(&base, &out).output().unwrap();
    assert!(o.status.success());
    let before = std::fs::read(&out).unwrap();
    assert!(kill_at(backup(&other, &out), "backup-before-rename:1"));
    assert_eq!(std::fs::read(&out).unwrap(), before);
    let o = backup(&other, &out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let left: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("store.tar.zst")],
        "temp files cleaned"
    );
    eprintln!("{} kills of restore and backup checked", cases + 1);
}

/// `export` and `indicators` write a user's file whole or not at all: a
/// kill before the rename leaves the previous file as it was.
#[test]
fn a_killed_export_leaves_the_previous_output_whole() {
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("in/cn/daily");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(
        fixtures().join("cn/daily/600519.SH.csv"),
        input.join("600519.SH.csv"),
    )
    .unwrap();
    let store = root.path().join("store");
    let o = bin()
        .args(["import", "--input"])
        .arg(root.path().join("in"))
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(o.status.success());
    for name in ["out.csv", "out.parquet"] {
        let out = root.path().join(name);
        let export = |adjust: &str| {
            let mut c = bin();
            c.args([
                "export",
                "--market",
                "cn",
                "--symbol",
                "600519.SH",
                "--adjust",
                adjust,
            ])
            .arg("--store")
            .arg(&store)
            .arg("--out")
            .arg(&out);
            c
        };
        assert!(export("none").output().unwrap().status.success());
        let before = std::fs::read(&out).unwrap();
        assert!(kill_at(export("forward"), "output-before-rename:1"));
        assert_eq!(std::fs::read(&out).unwrap(), before, "{name}");
        assert!(export("forward").output().unwrap().status.success());
        assert_ne!(std::fs::read(&out).unwrap(), before, "{name}");
    }
    let table = root.path().join("rsi.csv");
    let ind = || {
        let mut c = bin();
        c.args(["indicators", "--spec", "RSI(14)", "--input"])
            .arg(store.join("cn/daily/600519.SH.parquet"))
            .arg("--out")
            .arg(&table);
        c
    };
    assert!(kill_at(ind(), "output-before-rename:1"));
    assert!(!table.exists(), "no half table under the name");
    assert!(ind().output().unwrap().status.success());
    assert!(table.is_file());
}
