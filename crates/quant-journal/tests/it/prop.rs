//! Property: random append batches read back identical, across reopening.

use std::sync::Mutex;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use quant_core::UnixNanos;
use quant_journal::{Entry, EntryKind};

use crate::support::Fixture;

fn entry() -> impl Strategy<Value = Entry> {
    (
        any::<bool>(),
        any::<i64>(),
        "\\PC{0,12}",
        vec(any::<u8>(), 0..300),
    )
        .prop_map(|(command, time, tag, payload)| Entry {
            kind: if command {
                EntryKind::Command
            } else {
                EntryKind::Event
            },
            time: UnixNanos(time),
            tag,
            payload,
        })
}

fn batches() -> impl Strategy<Value = Vec<Vec<Entry>>> {
    vec(vec(entry(), 0..8), 1..5)
}

fn run(fx: &Fixture, rt: &tokio::runtime::Runtime) {
    let j = rt.block_on(fx.open());
    let all: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&batches(), |batches| {
        rt.block_on(async {
            let before = j
                .last_seq()
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut expect = before;
            for b in &batches {
                expect += b.len() as u64;
                let got = j
                    .append(b)
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(got, expect, "append returns the last seq");
                all.lock()
                    .map_err(|_| TestCaseError::fail("poisoned"))?
                    .extend(b.iter().cloned());
            }
            let back = j
                .entries_after(before, None)
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let flat: Vec<Entry> = batches.iter().flatten().cloned().collect();
            prop_assert_eq!(
                back.iter().map(|r| r.seq).collect::<Vec<_>>(),
                (before + 1..=expect).collect::<Vec<_>>()
            );
            prop_assert_eq!(back.into_iter().map(|r| r.entry).collect::<Vec<_>>(), flat);
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    rt.block_on(j.close());
    let j = rt.block_on(fx.open());
    let back = rt.block_on(j.entries_after(0, None)).expect("read the log");
    let all = all.into_inner().expect("not poisoned");
    assert_eq!(back.len(), all.len());
    assert!(back.iter().enumerate().all(|(i, r)| r.seq == i as u64 + 1));
    assert!(back.into_iter().map(|r| r.entry).eq(all));
    rt.block_on(j.close());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn random_batches_read_back_identical_sqlite() {
    let rt = runtime();
    run(&Fixture::sqlite(), &rt);
}

#[test]
fn random_batches_read_back_identical_postgres() {
    let rt = runtime();
    let Some(fx) = rt.block_on(Fixture::postgres("prop")) else {
        return;
    };
    run(&fx, &rt);
}
