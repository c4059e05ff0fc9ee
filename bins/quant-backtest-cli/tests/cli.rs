//! The `quant-backtest` binary end to end: outputs, baselines, exit codes.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Runs `quant-backtest ARGS… DIR` and returns stdout, failing the test
/// (with both streams) unless it succeeded.
fn succeeds(args: &[&str], dir: &Path) -> String {
    let o = bin().args(args).arg(dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_quant-backtest"));
    c.current_dir(root());
    c
}

#[test]
fn run_writes_outputs_and_guards_a_baseline() {
    let out = tempfile::tempdir().unwrap();
    let base = out.path().join("baseline.json");
    let o = bin()
        .args([
            "run",
            "--config",
            "config/examples/sma-600036.toml",
            "--out",
        ])
        .arg(out.path().join("run"))
        .arg("--write-baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("total return") && stdout.contains("18.11%"),
        "{stdout}"
    );
    for f in [
        "summary.json",
        "equity.csv",
        "trades.csv",
        "orders.csv",
        "report.html",
    ] {
        assert!(out.path().join("run").join(f).is_file(), "{f} missing");
    }
    let trades = std::fs::read_to_string(out.path().join("run/trades.csv")).unwrap();
    assert!(trades.starts_with("date,symbol,side,quantity,price,commission,stamp_duty,transfer_fee\n2015-03-17,600036.SH,buy,6400,15.417705,"));

    // the same run matches its baseline
    let o = bin()
        .args([
            "run",
            "--config",
            "config/examples/sma-600036.toml",
            "-q",
            "--out",
        ])
        .arg(out.path().join("run2"))
        .arg("--baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // a moved metric is reported and exits 1
    let text = std::fs::read_to_string(&base).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["metrics"]["num_trades"] = serde_json::json!(75);
    v["metrics"]["sharpe"] = serde_json::json!(0.5);
    std::fs::write(&base, serde_json::to_string(&v).unwrap()).unwrap();
    let o = bin()
        .args([
            "run",
            "--config",
            "config/examples/sma-600036.toml",
            "-q",
            "--out",
        ])
        .arg(out.path().join("run3"))
        .arg("--baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("2 metric(s) drifted")
            && err.contains("num_trades: baseline 75 → now 74")
            && err.contains("sharpe"),
        "{err}"
    );
}

#[test]
fn a_broken_config_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("broken.toml");
    std::fs::write(&cfg, "[backtest]\ninitial_cash = 0\n[data]\nroot = \".\"\nuniverse = [\"a\"]\nbenchmark = \"b\"\n[strategy]\nname = \"sma_cross\"\n").unwrap();
    let o = bin().args(["run", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("broken.toml") && err.contains("backtest.initial_cash"),
        "{err}"
    );
}

#[test]
fn sweep_writes_a_sorted_table_in_csv_and_parquet() {
    let out = tempfile::tempdir().unwrap();
    let sweep = |extra: &[&str]| {
        bin()
            .args(["sweep", "--config"])
            .arg(root().join("config/examples/sma-600036.toml"))
            .arg("--grid")
            .arg(root().join("config/grids/sma-cross.toml"))
            .arg("--out")
            .arg(out.path())
            .args(extra)
            .output()
            .unwrap()
    };
    let o = sweep(&["--threads", "2", "--sort", "cagr"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("12 runs") && stdout.contains("(1 failed)"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(out.path().join("sweep.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 13);
    assert!(
        lines[0].starts_with("rank,fast,slow,total_return,cagr,"),
        "{}",
        lines[0]
    );
    let cagr: Vec<f64> = lines[1..12]
        .iter()
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert!(cagr.windows(2).all(|w| w[0] >= w[1]), "{cagr:?}");
    assert!(
        lines[12].contains("20,20") && lines[12].ends_with('"'),
        "{}",
        lines[12]
    );
    let pq = std::fs::read(out.path().join("sweep.parquet")).unwrap();
    assert_eq!(&pq[..4], b"PAR1");

    // an unknown sort metric names the ones there are
    let o = sweep(&["--sort", "profit"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("sharpe"));
}

#[test]
fn monte_carlo_reads_a_finished_run() {
    let out = tempfile::tempdir().unwrap();
    let o = bin()
        .args([
            "run",
            "--config",
            "config/examples/sma-600036.toml",
            "--quiet",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let stdout = succeeds(
        &[
            "monte-carlo",
            "--method",
            "trades",
            "--paths",
            "300",
            "--run",
        ],
        out.path(),
    );
    assert!(
        stdout.contains("300 paths resampling") && stdout.contains("P(both)"),
        "{stdout}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("monte_carlo.json")).unwrap(),
    )
    .unwrap();
    let p = json["p_both"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert_eq!(json["config"]["method"]["method"], "trades");
    // a folder that is no run
    let o = bin()
        .args(["monte-carlo", "--run", "config"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("equity.csv"));
}

#[test]
fn walk_forward_prints_in_and_out_of_sample_side_by_side() {
    let out = tempfile::tempdir().unwrap();
    let stdout = succeeds(
        &[
            "walk-forward",
            "--config",
            "config/examples/sma-600036.toml",
            "--grid",
            "config/grids/sma-cross.toml",
            "--train",
            "500",
            "--test",
            "250",
            "--out",
        ],
        out.path(),
    );
    assert!(
        stdout.contains("windows (500 in / 250 out of sample, rolling)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("in sample") && stdout.contains("out of sample"),
        "{stdout}"
    );
    for f in ["walk_forward.csv", "oos_equity.csv", "walk_forward.json"] {
        assert!(out.path().join(f).is_file(), "{f}");
    }
}

#[test]
fn check_reads_strategy_files_and_names_the_fault() {
    let o = bin()
        .args(["check", "config/strategies/ema-rsi-confluence.toml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}");
    assert!(
        stdout.contains("`ema-rsi-confluence`, 4 signals (threshold 3 of 5)")
            && stdout.contains("SMA_20(volume)"),
        "{stdout}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text =
        std::fs::read_to_string(root().join("config/strategies/ema-rsi-confluence.toml")).unwrap();
    std::fs::write(&bad, text.replace("RSI(14) between", "RSI(0) between")).unwrap();
    let o = bin()
        .arg("check")
        .arg("config/strategies/trend-adx.toml")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("bad.toml:27: signals[1].when: "),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("ok config/strategies/trend-adx.toml"));
}

/// A closed stdout ends the command quietly (no "Broken pipe" panic), and
/// an error prints each cause once, on stderr, as text or one JSON event.
#[test]
fn closed_stdout_and_errors_at_the_edges() {
    let mut child = bin()
        .args(["check", "config/strategies/trend-adx.toml"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let o = bin()
        .args(["run", "--config", "config/no-such-file.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    let o = bin()
        .args([
            "--log-format",
            "json",
            "run",
            "--config",
            "config/no-such-file.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stderr).trim()).unwrap();
    assert_eq!(v["level"], "ERROR");
    assert!(
        v["fields"]["error"]
            .as_str()
            .unwrap()
            .contains("no-such-file.toml")
    );
}
