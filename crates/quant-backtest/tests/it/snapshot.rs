//! Snapshots of a whole backtest session (issue 14): every shipped run
//! config is run once through; then, for a few seeded random days k, it
//! is stepped day by day to k, the engine (portfolio, order book, risk
//! gate, strategy) and the simulated venue are saved to CBOR and dropped,
//! a fresh feed and clock are brought to day k, the engine is restored
//! into a freshly built strategy, the venue decoded, and the run continued
//! to the end: every output file is byte-identical to the uninterrupted
//! run's. Restore points: the first day, the last, and three seeded
//! random days of each config.

use std::path::{Path, PathBuf};

use quant_backtest::run::{Prepared, Session, prepare, result, run_prepared};
use quant_backtest::{BacktestConfig, BacktestResult};
use quant_engine::{Clock, DataFeed, Engine, Snapshot, Stepper};
use quant_exec::{SimulatedVenue, Venue};

/// Random restore points per config (besides the first and the last day).
const POINTS: usize = 3;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every shipped run config: `config/*.toml` (but `data.toml`),
/// `config/examples/*.toml`, and `config/backtest.toml` running each
/// strategy file of `config/strategies/` (as `--strategy FILE` does).
fn shipped() -> Vec<(String, BacktestConfig)> {
    let toml_in = |dir: &str| {
        let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        v.sort();
        v
    };
    let label = |p: &Path| p.strip_prefix(root()).unwrap().display().to_string();
    let mut out = Vec::new();
    for p in toml_in("config")
        .into_iter()
        .chain(toml_in("config/examples"))
    {
        if p.file_name().is_some_and(|n| n == "data.toml") {
            continue;
        }
        out.push((label(&p), BacktestConfig::load(&p).unwrap()));
    }
    for file in toml_in("config/strategies") {
        let mut cfg = BacktestConfig::load(&root().join("config/backtest.toml")).unwrap();
        cfg.strategy.name.clear();
        cfg.strategy.params.clear();
        cfg.use_strategy_file(&file).unwrap();
        out.push((
            format!("config/backtest.toml --strategy {}", label(&file)),
            cfg,
        ));
    }
    out
}

/// Every output file of `res` (`write_outputs`), by name.
fn outputs(res: &BacktestResult) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(String, Vec<u8>)> = quant_backtest::report::write_outputs(res, dir.path())
        .unwrap()
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The first day, the last (nothing left but the working orders'
/// expiry) and [`POINTS`] day indices in 0..days seeded by the config's
/// label (SplitMix64), so the test is the same on every run.
fn restore_days(label: &str, days: usize) -> Vec<usize> {
    let mut seed = label.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut next = || {
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut ks: Vec<usize> = (0..POINTS)
        .map(|_| (next() % days as u64) as usize)
        .chain([0, days - 1])
        .collect();
    ks.sort_unstable();
    ks
}

/// A session of `cfg` stepped through days 0..=k, then saved: the
/// engine's snapshot and the venue, both as CBOR bytes.
fn run_to(cfg: &BacktestConfig, prepared: &Prepared, k: usize) -> (Vec<u8>, Vec<u8>) {
    let mut s = Session::new(cfg, prepared.clone()).unwrap();
    let instruments = s.feed.instruments().to_vec();
    let t1 = instruments.iter().map(|i| s.venue.t_plus_one(i)).collect();
    let strategy = cfg.strategy.build().unwrap();
    let mut engine = Engine::new(s.engine.clone(), instruments, t1, strategy).unwrap();
    let mut stepper = Stepper::default();
    for _ in 0..=k {
        let day = s.clock.next_session().unwrap();
        stepper
            .day(&mut engine, day, &mut s.feed, &mut s.venue)
            .unwrap();
    }
    let (mut snapshot, mut venue) = (Vec::new(), Vec::new());
    ciborium::into_writer(&engine.snapshot().unwrap(), &mut snapshot).unwrap();
    ciborium::into_writer(&s.venue, &mut venue).unwrap();
    (snapshot, venue)
}

/// A fresh session of `cfg` brought to day k, the engine and the venue
/// restored from the bytes of [`run_to`], run to the end.
fn resume(
    cfg: &BacktestConfig,
    prepared: &Prepared,
    k: usize,
    snapshot: &[u8],
    venue: &[u8],
) -> BacktestResult {
    let mut s = Session::new(cfg, prepared.clone()).unwrap();
    for _ in 0..=k {
        let day = s.clock.next_session().unwrap();
        s.feed.advance(day).unwrap();
    }
    let snapshot: Snapshot = ciborium::from_reader(snapshot).unwrap();
    let mut engine = Engine::restore(&snapshot, cfg.strategy.build().unwrap()).unwrap();
    let mut venue: SimulatedVenue = ciborium::from_reader(venue).unwrap();
    let mut stepper = Stepper::default();
    while let Some(day) = s.clock.next_session() {
        stepper
            .day(&mut engine, day, &mut s.feed, &mut venue)
            .unwrap();
    }
    stepper.finish(&mut engine, &mut venue).unwrap();
    result(cfg, prepared.instruments.clone(), engine.into_record())
}

/// The first line where two texts differ, for the failure message.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    a.lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map_or_else(
            || format!("lengths {} and {}", a.len(), b.len()),
            |(n, (x, y))| format!("line {}: `{x}` vs `{y}`", n + 1),
        )
}

#[test]
fn a_session_restored_from_a_snapshot_writes_the_same_files() {
    let configs = shipped();
    assert!(configs.len() >= 14, "{} shipped configs", configs.len());
    let mut checked = 0;
    for (label, cfg) in &configs {
        let prepared = prepare(cfg).unwrap();
        let days = prepared.calendar.len();
        let whole = outputs(&run_prepared(cfg, prepared.clone(), |_, _| {}).unwrap());
        assert!(whole.len() >= 7, "{label}: {} files", whole.len());
        for k in restore_days(label, days) {
            let (snapshot, venue) = run_to(cfg, &prepared, k);
            let resumed = outputs(&resume(cfg, &prepared, k, &snapshot, &venue));
            assert_eq!(
                whole.iter().map(|f| &f.0).collect::<Vec<_>>(),
                resumed.iter().map(|f| &f.0).collect::<Vec<_>>(),
                "{label}"
            );
            for ((name, a), (_, b)) in whole.iter().zip(&resumed) {
                assert!(
                    a == b,
                    "{label}: restored after day {k} of {days}: {name} differs at {}",
                    first_difference(a, b)
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, configs.len() * (POINTS + 2));
}
