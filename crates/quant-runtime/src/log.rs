//! What a session writes to its journal: one [`Entry`] per engine event
//! and per command, in the order they happen, and the [`JournalTap`] that
//! makes them durable ahead of the venue.
//!
//! # Entries
//!
//! | tag | kind | payload (CBOR) |
//! |---|---|---|
//! | `session_open` | event | [`DayMark`]: the day and a digest of its bars |
//! | `bars` | event | [`DayMark`]: the day, the bar instant, the digest |
//! | `report` | event | the venue's [`quant_exec::oms::Report`] |
//! | `session_close` | event | [`CloseMark`]: the day and the benchmark close |
//! | `timer`, `quote`, `account`, `control` | event | the event's own data |
//! | `submit`, `cancel`, `replace`, `query`, `set_timer`, `cancel_timer`, `alert` | command | the [`Command`] |
//!
//! Bars are not copied into the journal (they are in the data store); a
//! 64-bit FNV-1a digest of their prices and volumes is, so a re-run on
//! other data is caught ([`crate::Error::Diverged`]). `time_ns` is the
//! event's own instant: the bar's close on intraday bars, the trading
//! day's midnight UTC otherwise — never the wall clock.
//!
//! # Write-ahead
//!
//! [`JournalTap`] buffers the entries of events and writes them, together
//! with each batch of commands, in one durable append before the commands
//! go on to the venue ([`quant_engine::Tap::commands`]); the rest is
//! written at the end of the day ([`JournalTap::flush`]). So nothing
//! reaches a venue that the journal does not hold, and an event is durable
//! before anything the engine does about it leaves the process. After a
//! restart the day is re-run from the last snapshot: entries the journal
//! already holds are checked against the re-run, one by one, and not
//! written twice.

use chrono::NaiveDate;
use quant_core::Bar;
use quant_engine::{Command, Event, Tap};
use serde::{Deserialize, Serialize};

/// Whether an entry is an inbound event or an outbound command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// An event handed to the engine.
    Event,
    /// A command the engine gave.
    Command,
}

/// One journal entry (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Event or command.
    pub kind: EntryKind,
    /// The event's own instant, UTC nanoseconds.
    pub time_ns: i64,
    /// What it is (`bars`, `submit`…).
    pub tag: String,
    /// Its data, CBOR.
    pub payload: Vec<u8>,
}

/// A trading day's session open or bars, as journaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayMark {
    /// The trading day.
    pub day: NaiveDate,
    /// The bars' close instant (intraday), UTC nanoseconds.
    pub time_ns: Option<i64>,
    /// FNV-1a of the bars' open, high, low, close and volume bits (and a
    /// marker per missing bar).
    pub digest: u64,
}

/// A session close, as journaled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CloseMark {
    /// The trading day.
    pub day: NaiveDate,
    /// The benchmark's close (index points; NaN: none).
    pub benchmark: f64,
}

/// FNV-1a over the bars (see [`DayMark::digest`]).
pub fn digest(bars: &[Option<Bar>]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |x: u64| {
        for b in x.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for bar in bars {
        match bar {
            Some(b) => {
                for v in [b.open, b.high, b.low, b.close, b.volume] {
                    eat(v.to_bits());
                }
            }
            None => eat(u64::MAX),
        }
    }
    h
}

fn midnight_ns(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_utc().timestamp_nanos_opt())
        .unwrap_or(0)
}

fn cbor<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // encoding into a Vec cannot fail for these plain types
    let _ = ciborium::into_writer(v, &mut out);
    out
}

/// The journal entry of an engine event.
pub fn event_entry(e: &Event<'_>) -> Entry {
    let (time_ns, tag, payload) = match e {
        Event::SessionOpen { day, bars } => (
            midnight_ns(*day),
            "session_open",
            cbor(&DayMark {
                day: *day,
                time_ns: None,
                digest: digest(bars),
            }),
        ),
        Event::Bars {
            day, time, bars, ..
        } => {
            let t = time.map(|t| t.0);
            (
                t.unwrap_or_else(|| midnight_ns(*day)),
                "bars",
                cbor(&DayMark {
                    day: *day,
                    time_ns: t,
                    digest: digest(bars),
                }),
            )
        }
        Event::Report(r) => (0, "report", cbor(r)),
        Event::SessionClose { day, benchmark } => (
            midnight_ns(*day),
            "session_close",
            cbor(&CloseMark {
                day: *day,
                benchmark: *benchmark,
            }),
        ),
        Event::Quote(q) => (q.time.0, "quote", cbor(q)),
        Event::Timer { id, time } => (time.0, "timer", cbor(&(id, time))),
        Event::Account(a) => (a.time.0, "account", cbor(a)),
        Event::Control(c) => (0, "control", cbor(c)),
    };
    Entry {
        kind: EntryKind::Event,
        time_ns,
        tag: tag.into(),
        payload,
    }
}

/// The journal entry of a command, at instant `time_ns` (the event's it
/// answers).
pub fn command_entry(c: &Command, time_ns: i64) -> Entry {
    let tag = match c {
        Command::Submit(_) => "submit",
        Command::Cancel(_) => "cancel",
        Command::Replace { .. } => "replace",
        Command::Query(_) => "query",
        Command::SetTimer { .. } => "set_timer",
        Command::CancelTimer(_) => "cancel_timer",
        Command::Alert { .. } => "alert",
    };
    Entry {
        kind: EntryKind::Command,
        time_ns,
        tag: tag.into(),
        payload: cbor(c),
    }
}

/// Where a [`JournalTap`] makes entries durable: the session's journal
/// (or, in tests, memory). `append` returns only once the entries are
/// durable, with the sequence number of the last.
pub trait Sink {
    /// Appends `entries` durably, in order.
    ///
    /// # Errors
    /// A message when they could not be made durable.
    fn append(&mut self, entries: &[Entry]) -> Result<u64, String>;
}

/// The tap of a paper session (see the module docs).
pub struct JournalTap<'a, S: Sink> {
    sink: &'a mut S,
    buffer: Vec<Entry>,
    /// Entries the journal already holds past the snapshot, with their
    /// sequence numbers: a re-run checks against them instead of writing.
    tail: std::collections::VecDeque<(u64, Entry)>,
    /// The last event's instant (commands are stamped with it).
    now: i64,
    /// Sequence number of the last entry written or checked.
    last_seq: u64,
    /// Pause after each bars event (replay speed).
    pace: Option<std::time::Duration>,
    /// Entries written by this tap.
    written: u64,
}

impl<'a, S: Sink> JournalTap<'a, S> {
    /// A tap writing to `sink`; `tail` are the journal's entries after the
    /// snapshot being resumed from (empty for a fresh session), and
    /// `last_seq` the journal's last sequence number before them.
    pub fn new(sink: &'a mut S, tail: Vec<(u64, Entry)>, last_seq: u64) -> Self {
        Self {
            sink,
            buffer: Vec::new(),
            tail: tail.into(),
            now: 0,
            last_seq,
            pace: None,
            written: 0,
        }
    }

    /// Pauses `pace` after every bars event (replay at N steps a second).
    pub fn with_pace(mut self, pace: Option<std::time::Duration>) -> Self {
        self.pace = pace;
        self
    }

    /// Sequence number of the last entry written or checked.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Entries this tap wrote (not counting those it checked).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Entries of the journal's tail not yet met again by the re-run.
    pub fn tail_left(&self) -> usize {
        self.tail.len()
    }

    fn push(&mut self, e: Entry) {
        self.buffer.push(e);
    }

    /// Writes (or checks against the tail) everything buffered.
    ///
    /// # Errors
    /// [`crate::Error::Diverged`] when the re-run differs from the
    /// journal's tail; [`crate::Error::Journal`] when the sink fails.
    pub fn flush(&mut self) -> crate::Result<()> {
        let mut fresh = Vec::new();
        for e in self.buffer.drain(..) {
            match self.tail.pop_front() {
                Some((seq, held)) => {
                    if held != e {
                        return Err(crate::Error::Diverged {
                            seq,
                            journaled: held.tag,
                            produced: e.tag,
                        });
                    }
                    self.last_seq = seq;
                }
                None => fresh.push(e),
            }
        }
        if !fresh.is_empty() {
            self.last_seq = self.sink.append(&fresh).map_err(crate::Error::Journal)?;
            self.written += fresh.len() as u64;
        }
        Ok(())
    }
}

fn tap_err(e: crate::Error) -> quant_engine::Error {
    quant_engine::Error::Tap(e.to_string())
}

impl<S: Sink> Tap for JournalTap<'_, S> {
    fn event(&mut self, event: &Event<'_>) -> quant_engine::Result<()> {
        let mut e = event_entry(event);
        if e.time_ns == 0 {
            e.time_ns = self.now;
        }
        self.now = e.time_ns;
        let bars = matches!(event, Event::Bars { .. });
        self.push(e);
        if bars && let Some(p) = self.pace {
            std::thread::sleep(p);
        }
        Ok(())
    }

    fn commands(&mut self, commands: &[Command]) -> quant_engine::Result<()> {
        for c in commands {
            let e = command_entry(c, self.now);
            self.push(e);
        }
        // write-ahead: durable before the venue sees them
        self.flush().map_err(tap_err)
    }
}

/// A sink in memory (tests, dry runs).
#[derive(Debug, Default, Clone)]
pub struct MemorySink {
    /// Everything appended, in order.
    pub entries: Vec<Entry>,
}

impl Sink for MemorySink {
    fn append(&mut self, entries: &[Entry]) -> Result<u64, String> {
        self.entries.extend_from_slice(entries);
        Ok(self.entries.len() as u64)
    }
}
