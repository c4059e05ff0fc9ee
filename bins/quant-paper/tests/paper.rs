//! `quant-paper` end to end on the shipped data: a replay writes the
//! backtest's files byte for byte; SIGKILLs at random moments and a
//! SIGTERM lose nothing and write nothing twice; status; alerts reach a
//! local signed-webhook receiver once each, and no secret lands in the
//! state dir.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_quant-paper"));
    c.env_remove("RUST_LOG");
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main_config() -> PathBuf {
    repo().join("config/backtest.toml")
}

/// The backtest's trades, orders and equity of `config` over `from..=to`.
fn backtest_files(config: &Path, from: &str, to: &str) -> BTreeMap<&'static str, String> {
    let mut cfg = quant_backtest::BacktestConfig::load(config).expect("config");
    cfg.backtest.start = Some(from.parse().expect("from"));
    cfg.backtest.end = Some(to.parse().expect("to"));
    let res = quant_backtest::run_backtest(&cfg, |_, _| {}).expect("backtest");
    BTreeMap::from([
        ("trades.csv", quant_backtest::report::trades_csv(&res)),
        ("orders.csv", quant_backtest::report::orders_csv(&res)),
        ("equity.csv", quant_backtest::report::equity_csv(&res)),
    ])
}

fn exported(state: &Path, out: &Path) -> BTreeMap<&'static str, String> {
    let o = bin()
        .args(["export", "--state"])
        .arg(state)
        .arg("--out")
        .arg(out)
        .output()
        .expect("export");
    assert!(
        o.status.success(),
        "export: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    ["trades.csv", "orders.csv", "equity.csv"]
        .into_iter()
        .map(|f| {
            (
                f,
                std::fs::read_to_string(out.join(f)).expect("exported file"),
            )
        })
        .collect()
}

fn start(config: &Path, state: &Path, from: &str, to: &str) -> Command {
    let mut c = bin();
    c.arg("run")
        .arg("--config")
        .arg(config)
        .arg("--state")
        .arg(state)
        .args([
            "--replay", "--from", from, "--to", to, "--speed", "max", "-q",
        ]);
    c
}

fn resume(state: &Path) -> Command {
    let mut c = bin();
    c.arg("run").arg("--state").arg(state).arg("-q");
    c
}

/// Every journal entry as (seq, kind, time, tag, payload).
fn journal(state: &Path) -> Vec<(u64, String, i64, String, Vec<u8>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let j = quant_journal::Journal::open_reader(state, &Default::default())
            .await
            .expect("journal");
        let all = j.entries_after(0, None).await.expect("entries");
        j.close().await;
        all.into_iter()
            .map(|r| {
                (
                    r.seq,
                    r.entry.kind.as_str().to_string(),
                    r.entry.time.0,
                    r.entry.tag,
                    r.entry.payload,
                )
            })
            .collect()
    })
}

fn status_json(state: &Path) -> serde_json::Value {
    let o = bin()
        .args(["status", "--json", "--state"])
        .arg(state)
        .output()
        .expect("status");
    assert!(
        o.status.success(),
        "status: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("status JSON")
}

#[test]
fn a_replay_of_the_main_job_writes_the_backtests_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state");
    let (from, to) = ("2016-01-04", "2022-01-14");
    let o = start(&main_config(), &state, from, to)
        .output()
        .expect("run");
    assert!(
        o.status.success(),
        "run: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("finished: 1470 trading days"));
    let want = backtest_files(&main_config(), from, to);
    let got = exported(&state, &dir.path().join("out"));
    for (f, text) in &want {
        assert!(got[f] == *text, "{f} differs from the backtest's");
    }
    let st = status_json(&state);
    for key in [
        "mode",
        "equity",
        "cash",
        "positions",
        "last_seq",
        "working_orders",
        "health",
    ] {
        assert!(st.get(key).is_some(), "status lacks `{key}`: {st}");
    }
    assert_eq!(st["mode"], "replay");
    assert_eq!(st["status"], "finished");
    assert_eq!(st["days"], 1470);
    assert_eq!(st["health"]["read_model_lag"], 0);
    let last_equity = want["equity.csv"]
        .lines()
        .last()
        .expect("a row")
        .split(',')
        .nth(1)
        .expect("equity");
    let e = st["equity"].as_f64().expect("equity number");
    assert!((e - last_equity.parse::<f64>().expect("number")).abs() < 1e-6);
    // the last day's report was written at the end; another day on demand
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(state.join("reports/report-2022-01-14.json")).expect("report"),
    )
    .expect("report JSON");
    assert_eq!(json["strategy_health"]["paper_days"], 1470);
    assert_eq!(
        json["strategy_health"]["tracking_error"], 0.0,
        "paper equals its backtest"
    );
    assert_eq!(json["strategy_health"]["slippage_bps"], 0.0);
    assert!(state.join("reports/report-2022-01-14.html").is_file());
    let rep = dir.path().join("rep");
    let o = bin()
        .args(["report", "--date", "2019-06-28", "--state"])
        .arg(&state)
        .arg("--out")
        .arg(&rep)
        .output()
        .expect("report");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(rep.join("report-2019-06-28.html")).expect("html");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
    let md = std::fs::read_to_string(rep.join("report-2019-06-28.md")).expect("md");
    assert!(md.contains("2019-06-28"));
    let o = bin()
        .args(["report", "--date", "2019-06-29", "--state"])
        .arg(&state)
        .arg("--out")
        .arg(&rep)
        .output()
        .expect("report");
    assert_eq!(o.status.code(), Some(2), "a Saturday is not a trading day");
    // a finished session resumed does nothing more
    let before = journal(&state).len();
    let o = resume(&state).output().expect("resume");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(journal(&state).len(), before);
}

/// A small deterministic generator (the kill moments are printed, so a
/// failure can be replayed with QP_KILL_SEED).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn sigkill_at_random_moments_then_resume_gives_the_same_bytes_and_journal() {
    let dir = tempfile::tempdir().expect("tmp");
    let (from, to) = ("2016-01-04", "2022-01-14");
    // uninterrupted
    let clean = dir.path().join("clean");
    let o = start(&main_config(), &clean, from, to)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let clean_journal = journal(&clean);
    let clean_files = exported(&clean, &dir.path().join("clean-out"));
    assert_eq!(clean_files, backtest_files(&main_config(), from, to));

    let seed = std::env::var("QP_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
    eprintln!("QP_KILL_SEED={seed}");
    let mut rng = Lcg(seed);
    let state = dir.path().join("killed");
    let mut kills = 0;
    let mut first = true;
    for _ in 0..20 {
        let mut c = if first {
            start(&main_config(), &state, from, to)
        } else {
            resume(&state)
        };
        let mut child = c
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let wait = Duration::from_millis(100 + rng.next() % 800);
        let t = Instant::now();
        let mut done = false;
        while t.elapsed() < wait {
            if let Some(s) = child.try_wait().expect("wait") {
                assert!(s.success(), "the session failed");
                done = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if done {
            break;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        kills += 1;
        // a session is there once session.json is (it is written first)
        first = !state.join("session.json").exists();
    }
    // finish whatever is left
    let o = if first {
        start(&main_config(), &state, from, to).output()
    } else {
        resume(&state).output()
    }
    .expect("final run");
    assert!(
        o.status.success(),
        "final run: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("{kills} kills");
    assert!(
        kills >= 3,
        "the session was killed {kills} times (seed {seed}); expected some"
    );
    assert_eq!(
        exported(&state, &dir.path().join("killed-out")),
        clean_files,
        "seed {seed}"
    );
    let killed_journal = journal(&state);
    assert_eq!(killed_journal.len(), clean_journal.len(), "seed {seed}");
    assert!(
        killed_journal == clean_journal,
        "journals differ (seed {seed})"
    );
}

#[test]
fn sigterm_stops_between_days_and_the_session_resumes() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state");
    let (from, to) = ("2016-01-04", "2016-12-30");
    // a paced replay (200 steps a second) so the signal comes mid-run
    let mut c = bin();
    c.arg("run")
        .arg("--config")
        .arg(main_config())
        .arg("--state")
        .arg(&state)
        .args([
            "--replay", "--from", from, "--to", to, "--speed", "200", "-q",
        ]);
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(800));
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let o = child.wait_with_output().expect("wait");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("stopped after"), "{out}");
    let st = status_json(&state);
    assert_eq!(st["status"], "stopped");
    assert!(
        st["days"].as_u64().is_some_and(|d| d > 0 && d < 244),
        "{st}"
    );
    let o = resume(&state).output().expect("resume");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        exported(&state, &dir.path().join("out")),
        backtest_files(&main_config(), from, to)
    );
}

#[test]
fn misuse_is_an_error_naming_the_dir_or_flag() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state");
    // resume of nothing
    let o = resume(&state).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no session here"));
    // a second session in a used dir
    let o = start(&main_config(), &state, "2016-01-04", "2016-02-29")
        .output()
        .expect("run");
    assert!(o.status.success());
    let o = start(&main_config(), &state, "2016-01-04", "2016-02-29")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already holds a session"));
    // a bad speed
    let o = start(
        &main_config(),
        &dir.path().join("s2"),
        "2016-01-04",
        "2016-02-29",
    )
    .args(["--speed", "fast"])
    .output()
    .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--speed"));
}

/// A local receiver of signed webhooks: every (event id, body) that
/// verifies; the count of those that did not.
#[derive(Default)]
struct Received {
    good: Vec<(String, serde_json::Value)>,
    bad: usize,
}

fn receiver(secret: &'static str) -> (u16, Arc<Mutex<Received>>) {
    let got = Arc::new(Mutex::new(Received::default()));
    let g = got.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/hook",
                axum::routing::post(
                    move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                        let g = g.clone();
                        async move {
                            let sig = headers
                                .get(quant_alerts::SIGNATURE_HEADER)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            let id = headers
                                .get(quant_alerts::EVENT_ID_HEADER)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_string();
                            let mut r = g.lock().expect("lock");
                            if quant_alerts::verify_webhook_signature(secret.as_bytes(), &body, sig)
                            {
                                r.good
                                    .push((id, serde_json::from_slice(&body).unwrap_or_default()));
                                axum::http::StatusCode::NO_CONTENT
                            } else {
                                r.bad += 1;
                                axum::http::StatusCode::UNAUTHORIZED
                            }
                        }
                    },
                ),
            );
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(l.local_addr().expect("addr").port())
                .expect("send port");
            axum::serve(l, app).await.expect("serve");
        });
    });
    (rx.recv().expect("port"), got)
}

#[test]
fn risk_alerts_reach_a_signed_webhook_once_and_no_secret_is_stored() {
    const SECRET: &str = "qp-test-secret-7f3a9c";
    let (port, got) = receiver(SECRET);
    let dir = tempfile::tempdir().expect("tmp");
    // the risk example with a webhook channel, its data paths made absolute
    let text =
        std::fs::read_to_string(repo().join("config/examples/momentum-risk.toml")).expect("config");
    let fixtures = std::fs::canonicalize(repo().join("fixtures")).expect("fixtures");
    let text = text.replace(
        "root = \"../../fixtures\"",
        &format!("root = {:?}", fixtures.display().to_string()),
    ) + &format!(
        "\n[[alerts.channels]]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{port}/hook\"\nsecret_env = \"QP_TEST_WEBHOOK_SECRET\"\n"
    );
    let config = dir.path().join("risk.toml");
    std::fs::write(&config, text).expect("write config");
    let state = dir.path().join("state");
    let o = start(&config, &state, "2016-01-04", "2016-12-30")
        .env("QP_TEST_WEBHOOK_SECRET", SECRET)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let n_good = {
        let r = got.lock().expect("lock");
        assert_eq!(r.bad, 0, "every webhook verifies");
        let ids: std::collections::BTreeSet<_> = r.good.iter().map(|g| g.0.clone()).collect();
        assert_eq!(ids.len(), r.good.len(), "no event delivered twice");
        let risk: Vec<_> = r.good.iter().filter(|g| g.1["kind"] == "risk").collect();
        assert!(
            risk.len() >= 3,
            "the daily-loss trip and its blocked orders: {:?}",
            r.good
        );
        assert!(risk.iter().any(|g| {
            g.1["title"]
                .as_str()
                .is_some_and(|t| t.contains("daily_loss"))
        }));
        r.good.len()
    };
    let st = status_json(&state);
    assert_eq!(st["health"]["undelivered_alerts"], 0, "{st}");
    // resuming the finished session sends nothing again
    let o = resume(&state)
        .env("QP_TEST_WEBHOOK_SECRET", SECRET)
        .output()
        .expect("resume");
    assert!(o.status.success());
    assert_eq!(got.lock().expect("lock").good.len(), n_good);
    // the secret is nowhere in the state dir, the export or the output
    let out = dir.path().join("out");
    exported(&state, &out);
    for d in [&state, &out] {
        for e in std::fs::read_dir(d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_file() {
                let bytes = std::fs::read(&p).expect("read");
                assert!(
                    !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                    "{} holds the secret",
                    p.display()
                );
            }
        }
    }
    assert!(!String::from_utf8_lossy(&o.stderr).contains(SECRET));
    // without the secret in the environment the session refuses to start, naming the variable
    let o = start(&config, &dir.path().join("s2"), "2016-01-04", "2016-02-29")
        .env_remove("QP_TEST_WEBHOOK_SECRET")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("QP_TEST_WEBHOOK_SECRET"));
}

/// A copy of the main config in `dir` with its data root made absolute
/// and `extra` appended.
fn main_config_copy(dir: &Path, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(main_config()).expect("config");
    let fixtures = std::fs::canonicalize(repo().join("fixtures")).expect("fixtures");
    let text = text.replace(
        "root = \"../fixtures\"",
        &format!("root = {:?}", fixtures.display().to_string()),
    ) + extra;
    let p = dir.join("main.toml");
    std::fs::write(&p, text).expect("write config");
    p
}

#[test]
fn a_session_journaled_in_postgresql_survives_a_sigkill() {
    let Ok(admin) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL is not set: PostgreSQL session test skipped");
        return;
    };
    let schema = format!("qp_session_{}", std::process::id());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let exec = |sql: String| {
        rt.block_on(async {
            use sqlx::Connection as _;
            sqlx::any::install_default_drivers();
            let mut c = sqlx::AnyConnection::connect(&admin).await.expect("connect");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .expect("sql");
            let _ = c.close().await;
        });
    };
    exec(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
    exec(format!("CREATE SCHEMA \"{schema}\""));
    let sep = if admin.contains('?') { '&' } else { '?' };
    let url = format!("{admin}{sep}options[search_path]={schema}");
    let dir = tempfile::tempdir().expect("tmp");
    let config = main_config_copy(dir.path(), &format!("\n[journal]\nurl = {url:?}\n"));
    let state = dir.path().join("state");
    let (from, to) = ("2016-01-04", "2017-06-30");
    let mut child = start(&config, &state, from, to)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(1500));
    let _ = child.kill();
    child.wait().expect("reap");
    let o = if state.join("session.json").exists() {
        resume(&state).output()
    } else {
        start(&config, &state, from, to).output()
    }
    .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let st = status_json(&state);
    assert_eq!(st["status"], "finished");
    assert!(
        st["journal"]
            .as_str()
            .is_some_and(|j| j.starts_with("postgres")),
        "{st}"
    );
    assert!(
        !state.join("journal.db").exists(),
        "no SQLite journal beside a PostgreSQL one"
    );
    let got = exported(&state, &dir.path().join("out"));
    exec(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
    assert_eq!(got, backtest_files(&main_config(), from, to));
}
