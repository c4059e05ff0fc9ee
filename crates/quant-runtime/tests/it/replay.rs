//! A session stepped by the runner with the journal tap writes what the
//! backtest writes; restored from a snapshot with the journal's tail, it
//! re-runs the day checking every entry and ends with the same bytes.

use std::path::{Path, PathBuf};

use quant_backtest::BacktestConfig;
use quant_backtest::report::{equity_csv, orders_csv, trades_csv};
use quant_backtest::run::{prepare, run_prepared};
use quant_runtime::{Entry, JournalTap, MemorySink, Runner, Sink};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn csvs(r: &quant_backtest::BacktestResult) -> [String; 3] {
    [trades_csv(r), equity_csv(r), orders_csv(r)]
}

#[test]
fn a_tapped_session_writes_the_backtests_files() {
    for rel in ["config/backtest.toml", "config/examples/intraday-5m.toml"] {
        let cfg = BacktestConfig::load(&root().join(rel)).unwrap();
        let prepared = prepare(&cfg).unwrap();
        let backtest = run_prepared(&cfg, prepared.clone(), |_, _| {}).unwrap();
        let mut runner = Runner::new(&cfg, prepared).unwrap();
        let mut sink = MemorySink::default();
        let mut tap = JournalTap::new(&mut sink, Vec::new(), 0);
        while runner.step(&mut tap).unwrap().is_some() {
            tap.flush().unwrap();
        }
        runner.finish(&mut tap).unwrap();
        tap.flush().unwrap();
        assert_eq!(csvs(&runner.result()), csvs(&backtest), "{rel}");
        // every command was journaled, after the event it answers
        let submits = sink.entries.iter().filter(|e| e.tag == "submit").count();
        assert_eq!(submits, backtest.record.orders.len(), "{rel}");
        assert_eq!(
            sink.entries
                .iter()
                .filter(|e| e.tag == "session_open")
                .count(),
            backtest.record.equity.len()
        );
    }
}

/// A sink that fails after `ok` appends (a crash).
struct Failing {
    inner: MemorySink,
    ok: usize,
}

impl Sink for Failing {
    fn append(&mut self, entries: &[Entry]) -> Result<u64, String> {
        if self.ok == 0 {
            return Err("disk gone".into());
        }
        self.ok -= 1;
        self.inner.append(entries)
    }
}

#[test]
fn resumed_from_a_snapshot_and_the_tail_it_ends_with_the_same_bytes() {
    let cfg = BacktestConfig::load(&root().join("config/backtest.toml")).unwrap();
    let prepared = prepare(&cfg).unwrap();
    let whole = run_prepared(&cfg, prepared.clone(), |_, _| {}).unwrap();
    for (snap_day, crash_after) in [(0usize, 40usize), (100, 250), (700, 900)] {
        // a session snapshotted after `snap_day` days that dies at its
        // `crash_after`-th append
        let mut runner = Runner::new(&cfg, prepared.clone()).unwrap();
        let mut sink = Failing {
            inner: MemorySink::default(),
            ok: crash_after,
        };
        let mut snapshot = None;
        let mut seq_at_snapshot = 0;
        {
            let mut tap = JournalTap::new(&mut sink, Vec::new(), 0);
            loop {
                match runner.step(&mut tap) {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("no crash"),
                    Err(_) => break,
                }
                if tap.flush().is_err() {
                    break;
                }
                if runner.days_done() == snap_day + 1 {
                    snapshot = Some(runner.snapshot().unwrap().to_bytes().unwrap());
                    seq_at_snapshot = tap.last_seq();
                }
            }
        }
        let journal = sink.inner.entries.clone();
        let snap = quant_runtime::SessionSnapshot::from_bytes(&snapshot.unwrap()).unwrap();
        // resume: the snapshot, the journal's tail checked on the re-run
        let tail: Vec<(u64, Entry)> = journal
            .iter()
            .enumerate()
            .skip(seq_at_snapshot as usize)
            .map(|(k, e)| (k as u64 + 1, e.clone()))
            .collect();
        assert!(!tail.is_empty());
        let mut runner = Runner::restore(&cfg, prepared.clone(), &snap).unwrap();
        let mut sink2 = MemorySink {
            entries: journal.clone(),
        };
        let mut tap = JournalTap::new(&mut sink2, tail, seq_at_snapshot);
        while runner.step(&mut tap).unwrap().is_some() {
            tap.flush().unwrap();
        }
        runner.finish(&mut tap).unwrap();
        tap.flush().unwrap();
        assert_eq!(tap.tail_left(), 0);
        assert_eq!(
            csvs(&runner.result()),
            csvs(&whole),
            "snapshot after day {snap_day}"
        );
        // nothing journaled twice: the resumed journal equals an uninterrupted one
        let mut full = MemorySink::default();
        let mut r = Runner::new(&cfg, prepared.clone()).unwrap();
        let mut t = JournalTap::new(&mut full, Vec::new(), 0);
        while r.step(&mut t).unwrap().is_some() {
            t.flush().unwrap();
        }
        r.finish(&mut t).unwrap();
        t.flush().unwrap();
        assert_eq!(sink2.entries, full.entries);
    }
}

#[test]
fn a_rerun_on_other_data_is_refused() {
    let cfg = BacktestConfig::load(&root().join("config/backtest.toml")).unwrap();
    let prepared = prepare(&cfg).unwrap();
    let mut runner = Runner::new(&cfg, prepared.clone()).unwrap();
    let mut sink = MemorySink::default();
    let snap = runner.snapshot().unwrap();
    let mut tap = JournalTap::new(&mut sink, Vec::new(), 0);
    for _ in 0..5 {
        runner.step(&mut tap).unwrap();
        tap.flush().unwrap();
    }
    let tail: Vec<(u64, Entry)> = sink
        .entries
        .iter()
        .enumerate()
        .map(|(k, e)| (k as u64 + 1, e.clone()))
        .collect();
    // the same days on data whose closes moved
    let mut other = prepared.clone();
    for c in &mut other.series[0].close {
        *c *= 1.01;
    }
    let mut runner = Runner::restore(&cfg, other, &snap).unwrap();
    let mut sink2 = MemorySink::default();
    let mut tap = JournalTap::new(&mut sink2, tail, 0);
    let mut err = None;
    for _ in 0..5 {
        if let Err(e) = runner
            .step(&mut tap)
            .map_err(|e| e.to_string())
            .and_then(|_| tap.flush().map_err(|e| e.to_string()))
        {
            err = Some(e);
            break;
        }
    }
    let e = err.expect("a divergence");
    assert!(e.contains("the data or the program changed"), "{e}");
}
