//! Integration tests of quant-data on the real demo data in `fixtures/`.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use quant_data::csv_io::read_csv;
use quant_data::store::load_store;
use quant_data::{import_dir, load_series};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn import_round_trips_every_fixture_bar() {
    let input = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("cn/daily"), &input.path().join("cn/daily"));
    copy_dir(&fixtures().join("cn/index"), &input.path().join("cn/index"));
    let store = tempfile::tempdir().unwrap();
    let report = import_dir(
        input.path(),
        store.path(),
        &quant_data::store::ImportOptions::default(),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(report.files.len(), 17);
    let csv = read_csv(&fixtures().join("cn/daily/600036.SH.csv")).unwrap();
    let pq = load_series(&store.path().join("cn/daily/600036.SH.parquet")).unwrap();
    assert_eq!(csv.len(), pq.len());
    assert_eq!(csv.dates, pq.dates);
    assert_eq!(csv.close, pq.close);
    assert_eq!(csv.adj_factor, pq.adj_factor);
    assert_eq!(csv.pre_close, pq.pre_close);
    let all = load_store(store.path()).unwrap();
    assert_eq!(all.iter().map(|s| s.len()).sum::<usize>(), report.rows);
    // no temporary file is left behind
    let leftovers: Vec<_> = std::fs::read_dir(store.path().join("cn/daily"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_bad_row_fails_the_import_and_leaves_the_store_as_it_was() {
    let input = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("cn/index"), input.path());
    let store = tempfile::tempdir().unwrap();
    import_dir(
        input.path(),
        store.path(),
        &quant_data::store::ImportOptions::default(),
        |_, _| {},
    )
    .unwrap();
    let before = std::fs::read(store.path().join("000300.SH.parquet")).unwrap();

    // corrupt a copy: line 5 of 000300.SH gets a high below its low
    let p = input.path().join("000300.SH.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut f: Vec<String> = lines[4].split(',').map(String::from).collect();
    f[2] = "1.0".into();
    lines[4] = f.join(",");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    // and add a new, valid file that must not appear either
    std::fs::copy(
        fixtures().join("cn/daily/600519.SH.csv"),
        input.path().join("600519.SH.csv"),
    )
    .unwrap();

    let strict = quant_data::store::ImportOptions {
        strict: true,
        ..Default::default()
    };
    let err = import_dir(input.path(), store.path(), &strict, |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("000300.SH.csv:5:"), "{err}");
    assert!(err.contains("high 1 is below"), "{err}");
    assert_eq!(
        std::fs::read(store.path().join("000300.SH.parquet")).unwrap(),
        before
    );
    assert!(!store.path().join("600519.SH.parquet").exists());
    let names: Vec<_> = std::fs::read_dir(store.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != ".quant-store")
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// The quality pipeline on every real A-share fixture: no hard problems,
/// no limit breaches (exchange data respects the limits once `pre_close`
/// carries the ex-rights price), and the gaps it reports against the SSE
/// Composite's trading days are days the stock has no row.
#[test]
fn quality_pipeline_on_real_a_shares() {
    use quant_core::{Instrument, MarketRules, RuleSet};
    use quant_data::quality::{CheckContext, QualityConfig, Rule, check_series};

    let index = read_csv(&fixtures().join("cn/index/000001.SH.csv")).unwrap();
    let rules = MarketRules::new(RuleSet::CnA);
    let mut checked = 0;
    for e in std::fs::read_dir(fixtures().join("cn/daily")).unwrap() {
        let path = e.unwrap().path();
        let s = read_csv(&path).unwrap();
        let sym = s.symbol.clone().unwrap();
        let inst = Instrument::infer(sym.clone(), false).unwrap();
        let bars: Vec<_> = (0..s.len()).map(|i| s.bar(i)).collect();
        let ctx = CheckContext {
            instrument: Some(&inst),
            rules: Some(&rules),
            calendar: Some(&index.dates),
            config: QualityConfig::default(),
        };
        let c = check_series(sym.as_str(), &bars, &ctx);
        assert_eq!(c.clean.len(), bars.len());
        let summary = c.report.summary();
        for ((_, rule), n) in &summary {
            assert!(
                matches!(rule, Rule::Gap | Rule::StalePrice),
                "{sym}: {n} × {rule:?}\n{}",
                c.report.render()
            );
        }
        for i in c.report.issues.iter().filter(|i| i.rule == Rule::Gap) {
            assert!(s.index_of(i.date).is_none());
        }
        checked += 1;
    }
    assert!(checked >= 10);
}

/// Adjusted prices on read, on real data: 000651.SZ went ex-dividend on
/// 2021-08-23. Forward (qfq) and backward (hfq) series make the ex-date's
/// return the real one, `close / pre_close` (the exchange's ex-rights
/// reference), while raw prices show a drop. A published qfq file of the
/// same window (`tests/data/000651.SZ.qfq.csv`, from
/// `shared/data/cn/daily_qfq_2021_2026`) is *additive* — raw minus the
/// later cash dividends (14.00 CNY before the ex-date, 11.22 after) — so its
/// ratios differ from TuShare's multiplicative convention that we follow;
/// the test pins that finding too.
#[test]
fn adjusted_prices_make_ex_date_returns_real() {
    use quant_data::Adjust;
    let raw = read_csv(&fixtures().join("cn/daily/000651.SZ.csv")).unwrap();
    let theirs =
        read_csv(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/000651.SZ.qfq.csv"))
            .unwrap();
    let window = raw.slice_dates(theirs.dates[0], *theirs.dates.last().unwrap());
    assert_eq!(window.dates, theirs.dates);
    let ex = window.index_of("2021-08-23".parse().unwrap()).unwrap();
    let real = window.close[ex] / window.pre_close[ex];
    let raw_move = window.close[ex] / window.close[ex - 1];
    assert!(
        real - raw_move > 0.02,
        "the dividend shows as a drop in raw prices"
    );
    for how in [Adjust::Forward, Adjust::Backward] {
        let adj = window.adjusted(how);
        let r = adj.close[ex] / adj.close[ex - 1];
        assert!((r / real - 1.0).abs() < 1e-7, "{how:?}: {r} vs {real}");
        assert!(adj.adj_factor.iter().all(|f| *f == 1.0));
    }
    let qfq = window.adjusted(Adjust::Forward);
    assert_eq!(
        qfq.close.last(),
        window.close.last(),
        "qfq keeps the last real price"
    );
    let hfq = window.adjusted(Adjust::Backward);
    assert!((hfq.close[0] / (window.close[0] * window.adj_factor[0]) - 1.0).abs() < 1e-15);
    // the published file: raw − qfq is a constant per dividend period
    for i in 0..window.len() {
        let offset = if i < ex { 14.00 } else { 11.22 };
        assert!(
            (window.close[i] - theirs.close[i] - offset).abs() < 0.006,
            "{}",
            window.dates[i]
        );
    }
}

mod backup;

mod partitions;

#[test]
fn import_takes_parquet_files_too_and_refuses_two_files_of_one_series() {
    // a store's Parquet file and a CSV, imported into a second store
    let first = tempfile::tempdir().unwrap();
    let input = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("cn/daily"), input.path());
    import_dir(
        input.path(),
        first.path(),
        &quant_data::store::ImportOptions::default(),
        |_, _| {},
    )
    .unwrap();
    let mixed = tempfile::tempdir().unwrap();
    std::fs::copy(
        first.path().join("600519.SH.parquet"),
        mixed.path().join("600519.SH.parquet"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("cn/daily/000001.SZ.csv"),
        mixed.path().join("000001.SZ.csv"),
    )
    .unwrap();
    let second = tempfile::tempdir().unwrap();
    let rep = import_dir(
        mixed.path(),
        second.path(),
        &quant_data::store::ImportOptions::default(),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(rep.files.len(), 2);
    let a = load_series(&first.path().join("600519.SH.parquet")).unwrap();
    let b = load_series(&second.path().join("600519.SH.parquet")).unwrap();
    assert_eq!(a.dates, b.dates);
    assert_eq!(a.close, b.close);

    // 600519.SH as CSV and as Parquet: which one is meant? refused
    std::fs::copy(
        fixtures().join("cn/daily/600519.SH.csv"),
        mixed.path().join("600519.SH.csv"),
    )
    .unwrap();
    let third = tempfile::tempdir().unwrap();
    let e = import_dir(
        mixed.path(),
        third.path(),
        &quant_data::store::ImportOptions::default(),
        |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("600519.SH") && e.contains("same series"), "{e}");
    assert_eq!(std::fs::read_dir(third.path()).unwrap().count(), 0);
}

mod hardening;

mod props;

mod intraday;
