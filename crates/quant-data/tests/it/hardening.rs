//! Hostile and careless input to `import`: nothing lost, nothing silent.

use std::path::{Path, PathBuf};

use quant_data::quality::Rule;
use quant_data::store::{ImportOptions, import_dir};
use quant_data::{Error, load_series};

use super::fixtures;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The first `n` data rows of a fixture (header kept).
fn head(fixture: &str, n: usize) -> String {
    let text = std::fs::read_to_string(fixtures().join(fixture)).unwrap();
    text.lines().take(n + 1).collect::<Vec<_>>().join("\n") + "\n"
}

fn opts() -> ImportOptions<'static> {
    ImportOptions::default()
}

fn replace() -> ImportOptions<'static> {
    ImportOptions {
        replace: true,
        ..ImportOptions::default()
    }
}

/// A store holding 600519.SH (all fixture rows) and the stored file's bytes.
fn stored_600519(root: &Path) -> (PathBuf, Vec<u8>) {
    let input = root.join("in0");
    write(
        &input.join("600519.SH.csv"),
        &head("cn/daily/600519.SH.csv", 100_000),
    );
    let store = root.join("store");
    import_dir(&input, &store, &opts(), |_, _| {}).unwrap();
    let bytes = std::fs::read(store.join("600519.SH.parquet")).unwrap();
    (store, bytes)
}

/// Class 1: a CSV with a header and no rows used to replace a stored
/// series with nothing, exit 0.
#[test]
fn an_empty_file_does_not_replace_a_stored_series() {
    let root = tempfile::tempdir().unwrap();
    let (store, before) = stored_600519(root.path());
    let input = root.path().join("in1");
    write(
        &input.join("600519.SH.csv"),
        "date,open,high,low,close,volume\n",
    );
    let err = import_dir(&input, &store, &opts(), |_, _| {}).unwrap_err();
    assert!(matches!(err, Error::WouldShrink { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("600519.SH.parquet") && msg.contains("--replace"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(store.join("600519.SH.parquet")).unwrap(),
        before
    );

    // a new, empty series is refused as well
    write(
        &input.join("000001.SZ.csv"),
        "date,open,high,low,close,volume\n",
    );
    std::fs::remove_file(input.join("600519.SH.csv")).unwrap();
    let msg = import_dir(&input, &store, &opts(), |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(msg.contains("no bars to store"), "{msg}");
    assert!(!store.join("000001.SZ.parquet").exists());

    // said explicitly, it is done
    write(
        &input.join("600519.SH.csv"),
        "date,open,high,low,close,volume\n",
    );
    std::fs::remove_file(input.join("000001.SZ.csv")).unwrap();
    import_dir(&input, &store, &replace(), |_, _| {}).unwrap();
    assert_eq!(
        load_series(&store.join("600519.SH.parquet")).unwrap().len(),
        0
    );
}

/// Class 1: an import that would drop stored dates is refused without
/// `--replace`; one that only adds dates is not.
#[test]
fn a_shrinking_import_is_refused_and_a_growing_one_is_not() {
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("in");
    let store = root.path().join("store");
    write(
        &input.join("600519.SH.csv"),
        &head("cn/daily/600519.SH.csv", 200),
    );
    import_dir(&input, &store, &opts(), |_, _| {}).unwrap();
    // more rows: fine
    write(
        &input.join("600519.SH.csv"),
        &head("cn/daily/600519.SH.csv", 300),
    );
    import_dir(&input, &store, &opts(), |_, _| {}).unwrap();
    let before = std::fs::read(store.join("600519.SH.parquet")).unwrap();
    // fewer rows: refused, store unchanged
    write(
        &input.join("600519.SH.csv"),
        &head("cn/daily/600519.SH.csv", 250),
    );
    let msg = import_dir(&input, &store, &opts(), |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("would drop 50 of its 300 stored bars"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(store.join("600519.SH.parquet")).unwrap(),
        before
    );
    import_dir(&input, &store, &replace(), |_, _| {}).unwrap();
    assert_eq!(
        load_series(&store.join("600519.SH.parquet")).unwrap().len(),
        250
    );
}

/// Class 9: the real SSE Composite from 1990 (`shared/data/cn/index`)
/// breaks OHLC consistency on 18 early rows. It used to fail the whole
/// import; now those rows are quarantined with their reasons and reported,
/// and `--strict` still fails naming the first bad line.
#[test]
fn the_sse_composite_imports_with_its_bad_rows_quarantined() {
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("in/cn/index");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/000001.SH.1990s.csv"),
        input.join("000001.SH.csv"),
    )
    .unwrap();
    let store = root.path().join("store");
    let rep = import_dir(&root.path().join("in"), &store, &opts(), |_, _| {}).unwrap();
    assert_eq!(rep.quarantined, 18, "{}", rep.report.render());
    assert_eq!(rep.rows, 1526 - 18);
    assert!(rep.report.issues.iter().all(|i| i.rule == Rule::BadRow));
    let q = std::fs::read_to_string(store.join("quarantine/cn/index/000001.SH.csv")).unwrap();
    assert_eq!(q.lines().count(), 19, "header + 18 rows");
    assert!(
        q.contains("1991-05-09") && q.contains("low 109.31 is above"),
        "{q}"
    );
    let stored = load_series(&store.join("cn/index/000001.SH.parquet")).unwrap();
    assert_eq!(stored.len(), 1526 - 18);

    let strict = ImportOptions {
        strict: true,
        ..ImportOptions::default()
    };
    let other = root.path().join("strict-store");
    let msg = import_dir(&root.path().join("in"), &other, &strict, |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(msg.contains("000001.SH.csv:99: low 109.31"), "{msg}");
    assert!(!other.join("cn").exists());
}

/// Class 3: implausible values are not stored: quarantined with a reason
/// naming the value (or, strict, an error naming the line).
#[test]
fn implausible_values_are_quarantined_not_stored() {
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("in");
    let mut text = head("cn/daily/600519.SH.csv", 5);
    text.push_str("2015-01-13,1e308,1e308,200,210,100,1000,200,1\n");
    text.push_str("2099-01-14,200,210,190,200,100,1000,200,1\n");
    text.push_str("2099-01-15,200,210,190,200,-100,1000,200,1\n");
    write(&input.join("600519.SH.csv"), &text);
    let store = root.path().join("store");
    let rep = import_dir(&input, &store, &opts(), |_, _| {}).unwrap();
    assert_eq!((rep.rows, rep.quarantined), (5, 3));
    let reasons: Vec<&str> = rep
        .report
        .issues
        .iter()
        .map(|i| i.detail.as_str())
        .collect();
    assert!(
        reasons[0].contains("open 1e308 is outside the plausible range"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("in the future"), "{reasons:?}");
    assert!(
        reasons[2].contains("in the future") || reasons[2].contains("volume"),
        "{reasons:?}"
    );
    let strict = ImportOptions {
        strict: true,
        ..ImportOptions::default()
    };
    let msg = import_dir(&input, &root.path().join("s2"), &strict, |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("600519.SH.csv:7:") && msg.contains("plausible"),
        "{msg}"
    );
}

/// Class 3: rows out of order are reported (hard) by the pipeline, which
/// used to sort them silently.
#[test]
fn rows_out_of_order_are_reported() {
    let root = tempfile::tempdir().unwrap();
    let p = root.path().join("600519.SH.csv");
    let text = head("cn/daily/600519.SH.csv", 6);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(3, 4);
    write(&p, &(lines.join("\n") + "\n"));
    let s = quant_data::csv_io::read_csv_unchecked(&p).unwrap();
    let bars: Vec<_> = (0..s.len()).map(|i| s.bar(i)).collect();
    let c = quant_data::quality::check_symbol(
        "600519.SH",
        false,
        &bars,
        None,
        quant_data::quality::QualityConfig::default(),
    );
    assert_eq!(c.report.hard(), 1, "{}", c.report.render());
    assert_eq!(c.report.issues[0].rule, Rule::OutOfOrder);
    assert!(c.report.issues[0].detail.contains("comes after row 3"));
    assert_eq!(c.clean.len(), 6, "kept, sorted into place");
    assert!(c.clean.windows(2).all(|w| w[0].date < w[1].date));
    // the checked reader (backtests) refuses the file with its line
    let msg = quant_data::csv_io::read_csv(&p).unwrap_err().to_string();
    assert!(
        msg.contains("600519.SH.csv:5:") && msg.contains("sorted"),
        "{msg}"
    );
}

/// Class 9: a store inside the input folder would be imported into itself.
#[test]
fn a_store_inside_the_input_folder_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("data");
    write(
        &input.join("600519.SH.csv"),
        &head("cn/daily/600519.SH.csv", 10),
    );
    let msg = import_dir(&input, &input.join("store"), &opts(), |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(msg.contains("inside the input folder"), "{msg}");
    assert!(!input.join("store").exists());
    // and the other way round
    import_dir(&input, &root.path().join("store"), &opts(), |_, _| {}).unwrap();
    let inner = root.path().join("store/more");
    write(
        &inner.join("000001.SZ.csv"),
        &head("cn/daily/000001.SZ.csv", 10),
    );
    let msg = import_dir(&inner, &root.path().join("store"), &opts(), |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(msg.contains("inside the store"), "{msg}");
}

/// Class 9: symbols are normalised at the entry point: `600519.sh.csv`
/// is 600519.SH, and beside `600519.SH.csv` it is the same series.
#[test]
fn lower_case_file_names_are_one_series_with_the_upper_case_ones() {
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("in");
    write(
        &input.join("600519.sh.csv"),
        &head("cn/daily/600519.SH.csv", 10),
    );
    let store = root.path().join("store");
    let rep = import_dir(&input, &store, &opts(), |_, _| {}).unwrap();
    assert_eq!(rep.files, vec![PathBuf::from("600519.SH.parquet")]);
    let s = load_series(&store.join("600519.SH.parquet")).unwrap();
    assert_eq!(s.symbol.unwrap().as_str(), "600519.SH");
    write(
        &input.join("600519.SH.csv"),
        &head("cn/daily/600519.SH.csv", 10),
    );
    let msg = import_dir(&input, &store, &opts(), |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(msg.contains("same series"), "{msg}");
}

/// A file name that is not a symbol (a path trick) never becomes a store
/// path.
#[test]
fn file_names_that_are_not_symbols_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("in");
    write(&input.join("a b.csv"), &head("cn/daily/600519.SH.csv", 3));
    let msg = import_dir(&input, &root.path().join("store"), &opts(), |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("a b.csv") && msg.contains("invalid symbol"),
        "{msg}"
    );
}
