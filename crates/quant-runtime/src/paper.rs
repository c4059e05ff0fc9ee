//! Paper sessions in a state dir: the journal, the session's settings, the
//! loop that steps trading days through the write-ahead tap, the read
//! model, snapshots, alerts and their delivery, and resuming after a
//! stop or a crash.
//!
//! # The state dir
//!
//! | file | holds |
//! |---|---|
//! | `session.json` | how the session was started: mode, the config's and the strategy file's original paths, `from`, `to`, `speed`, the session id (written once, atomically, before anything else) |
//! | `config.toml` | a copy of the config (the session runs on this copy; its relative paths still resolve from the original config's folder) |
//! | `strategy.toml` | a copy of `--strategy FILE`, when given |
//! | `journal.db` | the journal (SQLite; or `[journal] url` names a PostgreSQL one) |
//! | `LOCK` | held by the running session |
//! | `reports/` | daily reports |
//!
//! # What a kill leaves
//!
//! Every event and command is durable in the journal before the engine
//! acts on it or the venue sees it ([`crate::log`]). Snapshots are taken
//! every `[paper] snapshot_every_days` days (default 20), at a stop and at
//! the end. `quant-paper run --state DIR` after a SIGKILL, a power cut or a
//! Ctrl-C loads the latest snapshot, re-runs the days after it, checking
//! every re-produced entry against the journal (nothing is written twice),
//! and goes on: the session ends with the same journal, read model and
//! exports as one never interrupted. The read model is written after each
//! day's entries in its own transaction and is rewritten by the re-run
//! when a kill fell between the two.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::NaiveDate;
use quant_backtest::BacktestConfig;
use quant_backtest::run::prepare;
use quant_core::{Price, UnixNanos};
use quant_engine::RunRecord;
use quant_journal::{
    Journal, JournalConfig, NewAlert, PositionRow, ReadModelUpdate, Retry, Severity,
};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

use crate::error::{Error, Result};
use crate::log::{Entry, EntryKind, JournalTap, Sink};
use crate::runner::{Runner, SessionSnapshot};

/// The session's settings file in the state dir.
pub const SESSION_FILE: &str = "session.json";
/// The config copy in the state dir.
pub const CONFIG_COPY: &str = "config.toml";
/// The strategy file copy in the state dir.
pub const STRATEGY_COPY: &str = "strategy.toml";
/// The daily reports' folder in the state dir.
pub const REPORTS_DIR: &str = "reports";
/// Days between snapshots unless `[paper] snapshot_every_days` says.
pub const DEFAULT_SNAPSHOT_EVERY_DAYS: usize = 20;
/// Trading days without a new order before a "no signals" alert unless
/// `[paper] no_signal_days` says.
pub const DEFAULT_NO_SIGNAL_DAYS: usize = 20;

/// How fast a replay steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speed {
    /// As fast as it goes.
    Max,
    /// This many time steps (bar events) a second.
    PerSecond(f64),
}

impl Speed {
    /// `max` or a positive number of steps a second.
    ///
    /// # Errors
    /// [`Error::Usage`] for anything else.
    pub fn parse(s: &str) -> Result<Self> {
        if s == "max" {
            return Ok(Self::Max);
        }
        match s.parse::<f64>() {
            Ok(n) if n.is_finite() && n > 0.0 && n <= 1e6 => Ok(Self::PerSecond(n)),
            _ => Err(Error::Usage {
                key: "--speed".into(),
                message: format!("`{s}`: give max or a number of steps a second in (0, 1e6]"),
            }),
        }
    }

    /// The pause after each step (`None` at `max`).
    pub fn pace(self) -> Option<Duration> {
        match self {
            Self::Max => None,
            Self::PerSecond(n) => Some(Duration::from_secs_f64(1.0 / n)),
        }
    }
}

/// How a session was started (`session.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionFile {
    /// `replay` (stored history at a chosen speed) or `live`.
    pub mode: String,
    /// A stable id of the session (alerts' event ids start with it).
    pub id: String,
    /// The config's original path (its relative paths resolve from there).
    pub config_path: PathBuf,
    /// `--strategy FILE`'s original path, when given.
    pub strategy_path: Option<PathBuf>,
    /// First day of a replay.
    pub from: Option<NaiveDate>,
    /// Last day of a replay.
    pub to: Option<NaiveDate>,
    /// Replay speed.
    pub speed: Speed,
}

/// What `quant-paper run` was asked to start or resume.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// The state dir.
    pub state: PathBuf,
    /// `--config FILE`: a new session (`None`: resume the one in `state`).
    pub config: Option<PathBuf>,
    /// `--strategy FILE`.
    pub strategy: Option<PathBuf>,
    /// `--replay`.
    pub replay: bool,
    /// `--from`.
    pub from: Option<NaiveDate>,
    /// `--to`.
    pub to: Option<NaiveDate>,
    /// `--speed`.
    pub speed: Speed,
}

/// `[paper]` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperSettings {
    /// Trading days between snapshots (1–10000).
    #[serde(default = "default_snapshot_every")]
    pub snapshot_every_days: usize,
    /// Trading days without a new order before a "no signals" strategy
    /// alert (1–10000).
    #[serde(default = "default_no_signal_days")]
    pub no_signal_days: usize,
    /// Write the daily report of the last day done into `DIR/reports`
    /// when a run ends or stops (default true).
    #[serde(default = "default_true")]
    pub reports: bool,
}

fn default_snapshot_every() -> usize {
    DEFAULT_SNAPSHOT_EVERY_DAYS
}
fn default_no_signal_days() -> usize {
    DEFAULT_NO_SIGNAL_DAYS
}
fn default_true() -> bool {
    true
}

impl Default for PaperSettings {
    fn default() -> Self {
        Self {
            snapshot_every_days: DEFAULT_SNAPSHOT_EVERY_DAYS,
            no_signal_days: DEFAULT_NO_SIGNAL_DAYS,
            reports: true,
        }
    }
}

impl PaperSettings {
    /// The `[paper]` table of `cfg` (defaults when absent).
    ///
    /// # Errors
    /// [`Error::Setting`] naming the key for unknown keys or values out
    /// of range.
    pub fn of(cfg: &BacktestConfig) -> Result<Self> {
        let s: Self = section(cfg, "paper", cfg.paper.as_ref())?;
        for (key, v) in [
            ("paper.snapshot_every_days", s.snapshot_every_days),
            ("paper.no_signal_days", s.no_signal_days),
        ] {
            if !(1..=10_000).contains(&v) {
                return Err(Error::Setting {
                    path: cfg.path.clone(),
                    key: key.into(),
                    message: format!("{v} is outside 1..=10000"),
                });
            }
        }
        Ok(s)
    }
}

/// The config's optional `table` (named `key` in errors) as a `T`, or
/// `T::default()` when absent.
fn section<T: serde::de::DeserializeOwned + Default>(
    cfg: &BacktestConfig,
    key: &str,
    table: Option<&toml::Table>,
) -> Result<T> {
    match table {
        None => Ok(T::default()),
        Some(t) => t.clone().try_into().map_err(|e| Error::Setting {
            path: cfg.path.clone(),
            key: key.into(),
            message: e.to_string(),
        }),
    }
}

/// The session's `[journal]` table.
///
/// # Errors
/// [`Error::Setting`] for a table that is not a journal config.
pub fn journal_config(cfg: &BacktestConfig) -> Result<JournalConfig> {
    section(cfg, "journal", cfg.journal.as_ref())
}

/// The session's `[security]` table as a network policy (`in_session`:
/// the flag the session raises while the market is open).
///
/// # Errors
/// [`Error::Setting`] for a bad table.
pub fn net_policy(
    cfg: &BacktestConfig,
    in_session: Arc<AtomicBool>,
) -> Result<quant_net::NetPolicy> {
    let Some(table) = &cfg.security else {
        return Ok(quant_net::NetPolicy::open());
    };
    let sec: quant_net::SecurityConfig = section(cfg, "security", Some(table))?;
    quant_net::NetPolicy::new(&sec, in_session).map_err(|e| Error::Setting {
        path: cfg.path.clone(),
        key: "security".into(),
        message: e.to_string(),
    })
}

/// The session's alert channels (none without `[alerts]`); secrets come
/// from the environment variables the channels name.
///
/// # Errors
/// [`Error::Setting`] for a bad table or a missing secret (named by its
/// variable, never its value).
pub fn channels(
    cfg: &BacktestConfig,
    policy: &quant_net::NetPolicy,
) -> Result<quant_alerts::Channels> {
    let ac: quant_alerts::AlertsConfig = section(cfg, "alerts", cfg.alerts.as_ref())?;
    quant_alerts::Channels::from_env(&ac, policy).map_err(|e| Error::Setting {
        path: cfg.path.clone(),
        key: "alerts".into(),
        message: e.to_string(),
    })
}

/// A tokio runtime for the session's I/O (the journal, alert delivery).
///
/// # Errors
/// [`Error::Io`] when the runtime cannot start.
pub fn io_runtime() -> Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))
}

fn jerr(e: quant_journal::Error) -> Error {
    Error::Journal(e.to_string())
}

/// Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync of
/// the folder).
///
/// # Errors
/// [`Error::Io`] naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        d.sync_all().map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

/// The session file of `state`.
///
/// # Errors
/// [`Error::State`] when there is none or it does not parse.
pub fn read_session(state: &Path) -> Result<SessionFile> {
    let p = state.join(SESSION_FILE);
    let text = std::fs::read_to_string(&p).map_err(|e| Error::State {
        dir: state.to_path_buf(),
        message: format!(
            "no session here ({}: {e}); start one with --config",
            p.display()
        ),
    })?;
    serde_json::from_str(&text).map_err(|e| Error::State {
        dir: state.to_path_buf(),
        message: format!("{}: {e}", p.display()),
    })
}

/// The session's config: the copy in `state`, with relative paths from
/// the original config's folder, the strategy file copy, the replay range.
///
/// # Errors
/// The config's errors ([`Error::Backtest`]); [`Error::Io`] reading it.
pub fn load_config(state: &Path, s: &SessionFile) -> Result<BacktestConfig> {
    let copy = state.join(CONFIG_COPY);
    let text = std::fs::read_to_string(&copy).map_err(|e| Error::io(&copy, e))?;
    let mut cfg = BacktestConfig::parse(&text, &s.config_path)?;
    cfg.base_dir = s
        .config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    cfg.path = s.config_path.clone();
    if s.strategy_path.is_some() {
        cfg.strategy.file = None;
        cfg.use_strategy_file(&state.join(STRATEGY_COPY))?;
    } else if let Some(file) = cfg.strategy.file.clone() {
        cfg.use_strategy_file(&cfg.base_dir.join(file))?;
    }
    if let Some(f) = s.from {
        cfg.backtest.start = Some(f);
    }
    if let Some(t) = s.to {
        cfg.backtest.end = Some(t);
    }
    Ok(cfg)
}

/// Creates the state dir of a new session, or reads the one there.
///
/// # Errors
/// [`Error::State`] when `opts.config` is given for a dir that already
/// holds a session, or neither is there; I/O errors naming the path.
pub fn init_state(opts: &StartOptions) -> Result<SessionFile> {
    let state = &opts.state;
    let existing = state.join(SESSION_FILE).exists();
    let Some(config) = &opts.config else {
        return read_session(state);
    };
    if existing {
        return Err(Error::State {
            dir: state.clone(),
            message: "it already holds a session: resume it with `quant-paper run --state DIR`, or give another dir".into(),
        });
    }
    if !opts.replay {
        return Err(Error::Usage {
            key: "--replay".into(),
            message: "live paper sessions need the wall-clock driver, which this build does not have yet; give --replay --from --to".into(),
        });
    }
    std::fs::create_dir_all(state).map_err(|e| Error::io(state, e))?;
    let config_path = std::fs::canonicalize(config).map_err(|e| Error::io(config, e))?;
    let text = std::fs::read(&config_path).map_err(|e| Error::io(&config_path, e))?;
    let strategy_path = match &opts.strategy {
        Some(p) => {
            let abs = std::fs::canonicalize(p).map_err(|e| Error::io(p, e))?;
            let t = std::fs::read(&abs).map_err(|e| Error::io(&abs, e))?;
            write_atomic(&state.join(STRATEGY_COPY), &t)?;
            Some(abs)
        }
        None => None,
    };
    write_atomic(&state.join(CONFIG_COPY), &text)?;
    // the id only needs to be stable for this dir: its creation instant
    let created = chrono::Utc::now();
    let s = SessionFile {
        mode: "replay".into(),
        id: format!("paper-{}", created.format("%Y%m%dT%H%M%S%.3fZ")),
        config_path,
        strategy_path,
        from: opts.from,
        to: opts.to,
        speed: opts.speed,
    };
    // the config must load before the session exists
    load_config(state, &s)?;
    let json = serde_json::to_vec_pretty(&s).map_err(|e| Error::State {
        dir: state.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&state.join(SESSION_FILE), &json)?;
    Ok(s)
}

/// The journal as the tap's sink: each append blocks on the runtime until
/// it is durable.
struct JournalSink<'a> {
    rt: &'a Runtime,
    journal: &'a Journal,
}

fn to_journal(e: &Entry) -> quant_journal::Entry {
    quant_journal::Entry {
        kind: match e.kind {
            EntryKind::Event => quant_journal::EntryKind::Event,
            EntryKind::Command => quant_journal::EntryKind::Command,
        },
        time: UnixNanos(e.time_ns),
        tag: e.tag.clone(),
        payload: e.payload.clone(),
    }
}

fn from_journal(e: quant_journal::Entry) -> Entry {
    Entry {
        kind: match e.kind {
            quant_journal::EntryKind::Event => EntryKind::Event,
            quant_journal::EntryKind::Command => EntryKind::Command,
        },
        time_ns: e.time.0,
        tag: e.tag,
        payload: e.payload,
    }
}

impl Sink for JournalSink<'_> {
    fn append(&mut self, entries: &[Entry]) -> std::result::Result<u64, String> {
        let batch: Vec<_> = entries.iter().map(to_journal).collect();
        self.rt
            .block_on(self.journal.append(&batch))
            .map_err(|e| e.to_string())
    }
}

/// How a run of the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every day of the range is done.
    Finished {
        /// Trading days of the session.
        days: usize,
    },
    /// Stopped on request (SIGINT/SIGTERM) after this many days; resume
    /// with `quant-paper run --state DIR`.
    Stopped {
        /// Trading days done.
        days: usize,
    },
}

/// Hooks of the loop, for tests and the binary's progress line.
pub trait Observer {
    /// After each trading day, with the number done and the journal's
    /// last seq.
    fn day(&mut self, _day: NaiveDate, _done: usize, _total: usize, _seq: u64) {}
}

/// An observer that does nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// Runs (or resumes) the session in `opts.state` until its range is done
/// or `stop` is raised (checked between days).
///
/// # Errors
/// Settings, data, journal and engine errors; [`Error::Diverged`] when a
/// resumed session re-runs differently from its journal (the data
/// changed).
pub fn run(opts: &StartOptions, stop: &AtomicBool, obs: &mut dyn Observer) -> Result<Outcome> {
    let s = init_state(opts)?;
    let state = &opts.state;
    let cfg = load_config(state, &s)?;
    let settings = PaperSettings::of(&cfg)?;
    let in_session = Arc::new(AtomicBool::new(false));
    let policy = net_policy(&cfg, in_session.clone())?;
    let channels = channels(&cfg, &policy)?;
    let rt = io_runtime()?;
    let journal = rt
        .block_on(Journal::open(state, &journal_config(&cfg)?))
        .map_err(jerr)?;
    let res = run_open(
        &rt, &journal, &s, &cfg, &settings, &channels, &policy, stop, obs,
    );
    if let Err(e) = &res {
        // a system alert for the failure itself (best effort)
        let _ = rt.block_on(journal.enqueue_alert(&NewAlert {
            event_id: format!(
                "{}-error-{}",
                s.id,
                rt.block_on(journal.last_seq()).unwrap_or(0)
            ),
            kind: "system".into(),
            severity: Severity::Critical,
            title: "paper session stopped on an error".into(),
            body: e.to_string(),
            created: wall_now(),
            payload: "{}".into(),
            channels: channels.iter().map(|c| c.name().to_string()).collect(),
        }));
        deliver(&rt, &journal, &channels, &s, Duration::from_secs(5));
    }
    rt.block_on(journal.close());
    if res.is_ok() && settings.reports {
        // the report of the last day done, in DIR/reports
        match report(state, &state.join(REPORTS_DIR), None) {
            Ok(_) | Err(Error::State { .. }) => {}
            Err(e) => tracing::warn!(error = %e, "daily report not written"),
        }
    }
    res
}

#[allow(clippy::too_many_arguments)]
fn run_open(
    rt: &Runtime,
    journal: &Journal,
    s: &SessionFile,
    cfg: &BacktestConfig,
    settings: &PaperSettings,
    channels: &quant_alerts::Channels,
    policy: &quant_net::NetPolicy,
    stop: &AtomicBool,
    obs: &mut dyn Observer,
) -> Result<Outcome> {
    for (k, v) in [
        ("mode", s.mode.as_str()),
        ("session_id", s.id.as_str()),
        ("strategy", cfg.strategy.name.as_str()),
        ("journal", journal.describe()),
        (
            "air_gapped",
            if policy.is_air_gapped() {
                "true"
            } else {
                "false"
            },
        ),
    ] {
        rt.block_on(journal.set_meta(k, v)).map_err(jerr)?;
    }
    rt.block_on(journal.set_meta("config_path", &s.config_path.display().to_string()))
        .map_err(jerr)?;
    let prepared = prepare(cfg)?;
    let (mut runner, from_seq) = match rt.block_on(journal.latest_snapshot()).map_err(jerr)? {
        Some((seq, bytes)) => (
            Runner::restore(cfg, prepared, &SessionSnapshot::from_bytes(&bytes)?)?,
            seq,
        ),
        None => (Runner::new(cfg, prepared)?, 0),
    };
    let tail: Vec<(u64, Entry)> = rt
        .block_on(journal.entries_after(from_seq, None))
        .map_err(jerr)?
        .into_iter()
        .map(|r| (r.seq, from_journal(r.entry)))
        .collect();
    let mut sink = JournalSink { rt, journal };
    let mut tap = JournalTap::new(&mut sink, tail, from_seq).with_pace(s.speed.pace());
    let total = runner.days_total();
    let mut since_snapshot = 0usize;
    let snapshot = |runner: &Runner, seq: u64| -> Result<()> {
        let bytes = runner.snapshot()?.to_bytes()?;
        rt.block_on(journal.put_snapshot(seq, &bytes)).map_err(jerr)
    };
    loop {
        if stop.load(Ordering::SeqCst) {
            snapshot(&runner, tap.last_seq())?;
            rt.block_on(journal.set_meta("status", "stopped"))
                .map_err(jerr)?;
            return Ok(Outcome::Stopped {
                days: runner.days_done(),
            });
        }
        // the market is open while the day runs (air-gapped mode)
        policy.set_in_session(true);
        let day = runner.step(&mut tap);
        policy.set_in_session(false);
        let Some(day) = day? else { break };
        tap.flush()?;
        let seq = tap.last_seq();
        sync_read_model(rt, journal, &runner, s, settings, channels, day, seq)?;
        deliver(rt, journal, channels, s, Duration::ZERO);
        since_snapshot += 1;
        if since_snapshot >= settings.snapshot_every_days {
            snapshot(&runner, seq)?;
            since_snapshot = 0;
        }
        obs.day(day, runner.days_done(), total, seq);
    }
    runner.finish(&mut tap)?;
    tap.flush()?;
    let seq = tap.last_seq();
    if let Some(day) = runner.last_day() {
        sync_read_model(rt, journal, &runner, s, settings, channels, day, seq)?;
    }
    snapshot(&runner, seq)?;
    rt.block_on(journal.set_meta("status", "finished"))
        .map_err(jerr)?;
    deliver(rt, journal, channels, s, Duration::from_secs(10));
    Ok(Outcome::Finished {
        days: runner.days_done(),
    })
}

/// Writes the day's changes to the read model, with the alerts they raise.
#[allow(clippy::too_many_arguments)]
fn sync_read_model(
    rt: &Runtime,
    journal: &Journal,
    runner: &Runner,
    s: &SessionFile,
    settings: &PaperSettings,
    channels: &quant_alerts::Channels,
    day: NaiveDate,
    seq: u64,
) -> Result<()> {
    if rt.block_on(journal.read_model_seq()).map_err(jerr)? >= seq {
        return Ok(());
    }
    let counts = rt.block_on(journal.counts()).map_err(jerr)?;
    let rec = runner.engine().record();
    let p = runner.engine().portfolio();
    let positions = runner
        .instruments()
        .iter()
        .zip(&p.positions)
        .enumerate()
        .filter(|(_, (_, pos))| !pos.quantity.is_zero())
        .map(|(i, (inst, pos))| PositionRow {
            symbol: inst.symbol.clone(),
            position: *pos,
            mark: p.marks.get(i).and_then(|m| Price::from_f64(*m).ok()),
        })
        .collect();
    let tail = |n: u64, len: usize| (n as usize).min(len);
    let new_risk = &rec.risk_events[tail(counts.risk_events, rec.risk_events.len())..];
    let names: Vec<String> = channels.iter().map(|c| c.name().to_string()).collect();
    let mut alerts: Vec<NewAlert> = new_risk
        .iter()
        .enumerate()
        .map(|(k, r)| NewAlert {
            event_id: format!("{}-risk-{}", s.id, counts.risk_events as usize + k + 1),
            kind: "risk".into(),
            severity: match r.kind {
                quant_engine::risk::RiskEventKind::Trip => Severity::Critical,
                _ => Severity::Warning,
            },
            title: format!(
                "risk {} {}{}",
                r.kind.as_str(),
                r.rule,
                r.symbol
                    .as_ref()
                    .map(|s| format!(" {s}"))
                    .unwrap_or_default()
            ),
            body: format!(
                "{}: {} (value {}, limit {})",
                r.date, r.detail, r.value, r.limit
            ),
            created: day_nanos(r.date),
            payload: serde_json::json!({
                "date": r.date.to_string(), "rule": r.rule, "value": finite(r.value),
                "limit": finite(r.limit), "detail": r.detail,
            })
            .to_string(),
            channels: names.clone(),
        })
        .collect();
    if let Some(a) = no_signal_alert(&rec, s, settings, day, &names) {
        alerts.push(a);
    }
    let update = ReadModelUpdate {
        positions: Some(positions),
        orders: rec
            .orders
            .iter()
            .filter(|o| o.updated >= day || o.created >= day)
            .cloned()
            .collect(),
        fills: rec.fills[tail(counts.fills, rec.fills.len())..].to_vec(),
        equity: rec.equity[tail(counts.equity, rec.equity.len())..].to_vec(),
        risk_events: new_risk.to_vec(),
        alerts,
    };
    rt.block_on(journal.apply_read_model(seq, &update))
        .map_err(jerr)?;
    Ok(())
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The wall clock now (alerts' creation and delivery instants; the
/// journal's entries never read it).
fn wall_now() -> UnixNanos {
    UnixNanos::from_utc(chrono::Utc::now()).unwrap_or(UnixNanos(0))
}

/// Midnight UTC of `day`, in nanoseconds (a day's instant in alerts).
fn day_nanos(day: NaiveDate) -> UnixNanos {
    UnixNanos(
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_utc().timestamp_nanos_opt())
            .unwrap_or(0),
    )
}

/// A strategy alert when exactly `no_signal_days` trading days have
/// passed without a new order (once per quiet spell; its id names the
/// day, so a re-run raises the same one).
fn no_signal_alert(
    rec: &RunRecord,
    s: &SessionFile,
    settings: &PaperSettings,
    day: NaiveDate,
    names: &[String],
) -> Option<NewAlert> {
    let last_order = rec.orders.iter().map(|o| o.created).max();
    let quiet = rec
        .equity
        .iter()
        .rev()
        .take_while(|e| last_order.is_none_or(|d| e.date > d))
        .count();
    (quiet == settings.no_signal_days).then(|| NewAlert {
        event_id: format!("{}-nosignal-{day}", s.id),
        kind: "strategy".into(),
        severity: Severity::Warning,
        title: format!("no new orders for {quiet} trading days"),
        body: format!(
            "{day}: the strategy has placed no order since {}",
            last_order.map_or_else(|| "the start".to_string(), |d| d.to_string())
        ),
        created: day_nanos(day),
        payload: serde_json::json!({ "quiet_days": quiet }).to_string(),
        channels: names.to_vec(),
    })
}

/// Sends every delivery due now; with a nonzero `wait`, keeps retrying
/// failed ones on their backoff until none is due within `wait`.
fn deliver(
    rt: &Runtime,
    journal: &Journal,
    channels: &quant_alerts::Channels,
    s: &SessionFile,
    wait: Duration,
) {
    if channels.is_empty() {
        return;
    }
    let names: Vec<String> = channels.iter().map(|c| c.name().to_string()).collect();
    let deadline = std::time::Instant::now() + wait;
    loop {
        let now = wall_now();
        let Ok(due) = rt.block_on(journal.due_deliveries(now, &names)) else {
            return;
        };
        for d in &due {
            let Some(ch) = channels.get(&d.channel) else {
                continue;
            };
            let alert = quant_alerts::Alert {
                event_id: d.alert.event_id.clone(),
                kind: parse_kind(&d.alert.kind),
                severity: match d.alert.severity {
                    Severity::Info => quant_alerts::Severity::Info,
                    Severity::Warning => quant_alerts::Severity::Warning,
                    Severity::Critical => quant_alerts::Severity::Critical,
                },
                title: d.alert.title.clone(),
                body: d.alert.body.clone(),
                time_ns: d.alert.created.0,
                session: s.id.clone(),
                details: serde_json::from_str(&d.alert.payload).ok(),
            };
            let at = wall_now();
            let r = if ch.accepts(&alert) {
                rt.block_on(ch.send(&alert))
            } else {
                Ok(())
            };
            let _ = match r {
                Ok(()) => rt
                    .block_on(journal.mark_delivered(&d.alert.event_id, &d.channel, at))
                    .map(|()| Retry::Delivered),
                // quant-alerts logs the failure (redacted)
                Err(e) => rt.block_on(journal.mark_failed(
                    &d.alert.event_id,
                    &d.channel,
                    &e.to_string(),
                    at,
                )),
            };
        }
        if std::time::Instant::now() >= deadline {
            return;
        }
        // anything left due within the wait?
        let Ok(all) = rt.block_on(journal.deliveries()) else {
            return;
        };
        let end = UnixNanos(
            now.0.saturating_add(
                i64::try_from(
                    deadline
                        .saturating_duration_since(std::time::Instant::now())
                        .as_nanos(),
                )
                .unwrap_or(i64::MAX),
            ),
        );
        let next = all
            .iter()
            .filter(|d| d.delivered.is_none() && !d.given_up() && d.next_attempt <= end)
            .map(|d| d.next_attempt.0)
            .min();
        let Some(next) = next else { return };
        let pause = u64::try_from(next.saturating_sub(now.0)).unwrap_or(0);
        std::thread::sleep(
            Duration::from_nanos(pause.min(1_000_000_000)).max(Duration::from_millis(20)),
        );
    }
}

fn parse_kind(k: &str) -> quant_alerts::AlertKind {
    use quant_alerts::AlertKind as K;
    match k {
        "risk" => K::Risk,
        "data" => K::Data,
        "strategy" => K::Strategy,
        "performance" => K::Performance,
        _ => K::System,
    }
}

/// The session in `state` for reading: its settings, its config, a
/// runtime and its journal opened without the writer's lock (so it works
/// while the session runs).
fn open_reader(state: &Path) -> Result<(SessionFile, BacktestConfig, Runtime, Journal)> {
    let s = read_session(state)?;
    let cfg = load_config(state, &s)?;
    let rt = io_runtime()?;
    let j = rt
        .block_on(Journal::open_reader(state, &journal_config(&cfg)?))
        .map_err(jerr)?;
    Ok((s, cfg, rt, j))
}

/// What `quant-paper status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `replay` or `live`.
    pub mode: String,
    /// `running`, `stopped`, `finished` (or `new`).
    pub status: String,
    /// The session id.
    pub session_id: String,
    /// The strategy's name.
    pub strategy: String,
    /// Whether `[security] air_gapped` is on.
    pub air_gapped: bool,
    /// The last trading day in the read model.
    pub date: Option<NaiveDate>,
    /// Equity at the last close (CNY or the account currency).
    pub equity: Option<f64>,
    /// Cash at the last close.
    pub cash: Option<String>,
    /// Paper trading days so far.
    pub days: usize,
    /// Open positions.
    pub positions: Vec<StatusPosition>,
    /// Orders still working.
    pub working_orders: usize,
    /// The journal's last sequence number.
    pub last_seq: u64,
    /// Where the journal is.
    pub journal: String,
    /// Health: alerts not yet delivered, deliveries given up, and
    /// whether the read model is behind the log.
    pub health: Health,
}

/// One position in [`Status`].
#[derive(Debug, Clone, Serialize)]
pub struct StatusPosition {
    /// Ticker.
    pub symbol: String,
    /// Units held.
    pub quantity: String,
    /// Units sellable today (T+1).
    pub sellable: String,
    /// Value at the mark.
    pub value: Option<f64>,
}

/// The health part of [`Status`].
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Alerts waiting for delivery (per channel).
    pub undelivered_alerts: u64,
    /// Deliveries given up after every retry.
    pub failed_alerts: usize,
    /// Entries the read model has not caught up with (0 when healthy).
    pub read_model_lag: u64,
}

/// The status of the session in `state`, from its journal's read model
/// (a reader: works while the session runs).
///
/// # Errors
/// [`Error::State`] without a session; journal errors.
pub fn status(state: &Path) -> Result<Status> {
    let (s, cfg, rt, j) = open_reader(state)?;
    let meta = |k: &str| rt.block_on(j.meta(k)).ok().flatten();
    let equity = rt.block_on(j.equity()).map_err(jerr)?;
    let positions = rt.block_on(j.positions()).map_err(jerr)?;
    let open = rt.block_on(j.open_orders()).map_err(jerr)?;
    let last_seq = rt.block_on(j.last_seq()).map_err(jerr)?;
    let rm = rt.block_on(j.read_model_seq()).map_err(jerr)?;
    let counts = rt.block_on(j.counts()).map_err(jerr)?;
    let failed = rt
        .block_on(j.deliveries())
        .map_err(jerr)?
        .iter()
        .filter(|d| d.given_up())
        .count();
    let last = equity.last();
    let st = Status {
        mode: s.mode.clone(),
        status: meta("status").unwrap_or_else(|| "running".into()),
        session_id: s.id.clone(),
        strategy: cfg.strategy.name.clone(),
        air_gapped: meta("air_gapped").as_deref() == Some("true"),
        date: last.map(|e| e.date),
        equity: last.map(|e| e.equity),
        cash: last.map(|e| e.cash.0.to_string()),
        days: equity.len(),
        positions: positions
            .iter()
            .map(|p| StatusPosition {
                symbol: p.symbol.to_string(),
                quantity: p.position.quantity.0.to_string(),
                sellable: p.position.sellable.0.to_string(),
                value: p.value().map(|c| c.to_f64()),
            })
            .collect(),
        working_orders: open.len(),
        last_seq,
        journal: j.describe().to_string(),
        health: Health {
            undelivered_alerts: counts.undelivered,
            failed_alerts: failed,
            read_model_lag: last_seq.saturating_sub(rm),
        },
    };
    rt.block_on(j.close());
    Ok(st)
}

/// The session's record from its read model, as a backtest result (for
/// exports and reports) with the session's config.
///
/// # Errors
/// [`Error::State`] without a session; journal, config and data errors.
pub fn record(state: &Path) -> Result<(BacktestConfig, quant_backtest::BacktestResult)> {
    let (_, cfg, rt, j) = open_reader(state)?;
    let rec = RunRecord {
        equity: rt.block_on(j.equity()).map_err(jerr)?,
        orders: rt.block_on(j.orders()).map_err(jerr)?,
        fills: rt.block_on(j.fills()).map_err(jerr)?,
        dividends: Vec::new(),
        risk_events: rt.block_on(j.risk_events()).map_err(jerr)?,
    };
    rt.block_on(j.close());
    let instruments = prepare(&cfg)?.instruments;
    let res = quant_backtest::run::result(&cfg, instruments, rec);
    Ok((cfg, res))
}

/// Writes `trades.csv`, `orders.csv` and `equity.csv` of the session in
/// `state` to `out`, in exactly the format `quant-backtest run` writes.
/// Each file is written atomically.
///
/// # Errors
/// As [`record`]; [`Error::Io`] naming the file.
pub fn export(state: &Path, out: &Path) -> Result<Vec<PathBuf>> {
    let (_, res) = record(state)?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut written = Vec::new();
    for (name, text) in [
        ("trades.csv", quant_backtest::report::trades_csv(&res)),
        ("orders.csv", quant_backtest::report::orders_csv(&res)),
        ("equity.csv", quant_backtest::report::equity_csv(&res)),
    ] {
        let p = out.join(name);
        write_atomic(&p, text.as_bytes())?;
        written.push(p);
    }
    Ok(written)
}

/// Writes the daily report of `date` (default: the session's last day)
/// of the session in `state` to `out` as `report-DATE.html`, `.json` and
/// `.md` (each atomically), and returns the paths. The paper figures come
/// from the journal's read model; the strategy-health figures compare
/// them with a backtest of the same config over the same days.
///
/// # Errors
/// As [`record`]; [`Error::State`] when the session has no trading day
/// yet or `date` is not one of its days; [`Error::Io`] writing.
pub fn report(state: &Path, out: &Path, date: Option<NaiveDate>) -> Result<Vec<PathBuf>> {
    use crate::report::{Benchmark, DailyReport, Health, Inputs, Mode, PlannedOrder, PositionLine};
    let (s, cfg, rt, j) = open_reader(state)?;
    let equity = rt.block_on(j.equity()).map_err(jerr)?;
    let fills = rt.block_on(j.fills()).map_err(jerr)?;
    let orders = rt.block_on(j.orders()).map_err(jerr)?;
    let risk_events = rt.block_on(j.risk_events()).map_err(jerr)?;
    let positions = rt.block_on(j.positions()).map_err(jerr)?;
    let last_seq = rt.block_on(j.last_seq()).map_err(jerr)?;
    let deliveries = rt.block_on(j.deliveries()).map_err(jerr)?;
    let air_gapped = rt.block_on(j.meta("air_gapped")).map_err(jerr)?.as_deref() == Some("true");
    let journal_name = j.describe().to_string();
    rt.block_on(j.close());
    let last = equity.last().map(|e| e.date).ok_or_else(|| Error::State {
        dir: state.to_path_buf(),
        message: "the session has no trading day yet".into(),
    })?;
    let date = date.unwrap_or(last);
    if !equity.iter().any(|e| e.date == date) {
        return Err(Error::State {
            dir: state.to_path_buf(),
            message: format!(
                "{date} is not a trading day of the session ({} to {last})",
                equity[0].date
            ),
        });
    }
    let equity: Vec<_> = equity.into_iter().filter(|e| e.date <= date).collect();
    let fills: Vec<_> = fills.into_iter().filter(|f| f.date <= date).collect();
    let orders: Vec<_> = orders.into_iter().filter(|o| o.created <= date).collect();
    let risk_events: Vec<_> = risk_events.into_iter().filter(|r| r.date <= date).collect();
    // the book now; of an earlier day, only its trades and figures
    let positions: Vec<PositionLine> = if date == last {
        positions
            .iter()
            .map(|p| {
                let mark = p.mark.map(|m| m.to_f64());
                let q = p.position.quantity.to_f64();
                PositionLine {
                    symbol: p.symbol.clone(),
                    quantity: p.position.quantity,
                    sellable: p.position.sellable,
                    avg_cost: p.avg_cost().map(|c| c.to_f64()),
                    mark,
                    value: mark.map(|m| m * q),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    // the backtest of the same days
    let mut bcfg = cfg.clone();
    bcfg.backtest.start = Some(equity[0].date);
    bcfg.backtest.end = Some(date);
    let bt = quant_backtest::run_backtest(&bcfg, |_, _| {})?;
    let errors = deliveries
        .iter()
        .filter(|d| d.given_up())
        .map(|d| {
            format!(
                "alert {} on {} given up: {}",
                d.alert.event_id,
                d.channel,
                d.last_error.as_deref().unwrap_or("")
            )
        })
        .collect();
    let inputs = Inputs {
        date,
        mode: if s.mode == "live" {
            Mode::Live
        } else {
            Mode::Replay
        },
        strategy: &cfg.strategy.name,
        config: &s.config_path.display().to_string(),
        equity: &equity,
        fills: &fills,
        orders: &orders,
        positions: &positions,
        risk_events: &risk_events,
        limits: cfg.risk.as_ref(),
        backtest: Some(Benchmark {
            equity: &bt.record.equity,
            fills: &bt.record.fills,
        }),
        planned: PlannedOrder::from_orders(&orders, date),
        health: Health {
            last_data_update: None,
            feed_lag_secs: None,
            errors,
            last_seq,
            air_gapped,
            journal: journal_name,
        },
        data_quality: None,
        generated_at: chrono::Utc::now(),
    };
    DailyReport::build(&inputs).write_all(out)
}
