//! SIGKILL durability: a child process appends in a loop and prints each
//! acknowledged seq; it is killed with SIGKILL at a random moment; the
//! reopened journal holds every acknowledged seq, no gap and no half
//! batch.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use quant_core::UnixNanos;
use quant_journal::{Entry, Journal, JournalConfig};

use crate::support::{Fixture, Location};

/// The state dir of the child (set only in the child).
const CHILD_DIR: &str = "QUANT_JOURNAL_KILL_CHILD_DIR";
/// The child's `[journal] url`, when not SQLite.
const CHILD_URL: &str = "QUANT_JOURNAL_KILL_CHILD_URL";

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

fn seed() -> u64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    (t ^ u64::from(std::process::id()).rotate_left(32)) | 1
}

/// Not a test of its own: the child's body when the tests below re-invoke
/// this executable with [`CHILD_DIR`] set; a no-op otherwise.
#[test]
fn child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let cfg = JournalConfig {
        url: std::env::var(CHILD_URL).ok(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async move {
        let j = Journal::open(&PathBuf::from(dir), &cfg)
            .await
            .expect("open");
        let mut last = j.last_seq().await.expect("last seq");
        let mut s = seed();
        let mut out = std::io::stdout().lock();
        loop {
            let n = 1 + xorshift(&mut s) % 7;
            let batch: Vec<Entry> = (0..n)
                .map(|i| {
                    let mut payload = format!("{}/{i}/{n}/", last + 1).into_bytes();
                    let pad = (xorshift(&mut s) % 20_000) as usize;
                    payload.resize(payload.len() + pad, b'.');
                    Entry::command(UnixNanos((last + 1 + i) as i64), "submit", payload)
                })
                .collect();
            last = j.append(&batch).await.expect("append");
            writeln!(out, "ack {last}").expect("stdout");
            out.flush().expect("stdout");
        }
    });
}

/// Runs the child until it has acknowledged about `acks` seqs, kills it
/// with SIGKILL, and returns the highest seq it acknowledged.
fn run_and_kill(fx: &Location, acks: usize) -> u64 {
    let exe = std::env::current_exe().expect("the test executable");
    let mut cmd = Command::new(exe);
    cmd.args(["kill::child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, &fx.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(url) = &fx.cfg.url {
        cmd.env(CHILD_URL, url);
    }
    let mut child = cmd.spawn().expect("spawn the child");
    let stdout = child.stdout.take().expect("the child's stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut max = 0;
    let mut seen = 0;
    while seen < acks {
        let Some(Ok(line)) = lines.next() else {
            break;
        };
        if let Some(seq) = line
            .strip_prefix("ack ")
            .and_then(|s| s.trim().parse().ok())
        {
            assert!(seq > max, "acks rise: {seq} after {max}");
            max = seq;
            seen += 1;
        }
    }
    // Child::kill sends SIGKILL on Unix
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait for the child");
    assert!(
        seen >= acks,
        "the child died early ({status}) after {seen} acks"
    );
    // acks already in the pipe were acknowledged too
    for line in lines.map_while(Result::ok) {
        if let Some(seq) = line
            .strip_prefix("ack ")
            .and_then(|s| s.trim().parse().ok())
        {
            max = max.max(seq);
        }
    }
    max
}

async fn a_killed_writer_loses_nothing_acknowledged(fx: &Fixture) {
    let mut acked = 0;
    let mut s = seed();
    for round in 0..3 {
        let acks = 20 + (xorshift(&mut s) % 60) as usize;
        let f = fx.clone_location();
        let max = tokio::task::spawn_blocking(move || run_and_kill(&f, acks))
            .await
            .expect("the child runner");
        assert!(
            max > acked,
            "round {round}: the child went on from the log's end"
        );
        acked = max;

        // reopen: the lock is free, every ack is there, no gap, no half batch
        let j = fx.open().await;
        let all = j.entries_after(0, None).await.expect("read the log");
        let last = all.last().map_or(0, |r| r.seq);
        assert!(
            last >= acked,
            "round {round}: acked {acked}, the log ends at {last}"
        );
        let mut expect_next = 0; // index in the current batch, 0 = a new batch
        let mut start = 0;
        let mut size = 0;
        for (k, r) in all.iter().enumerate() {
            assert_eq!(r.seq, k as u64 + 1, "no gap");
            let text = String::from_utf8_lossy(&r.entry.payload);
            let mut parts = text.split('/');
            let mut num = || -> u64 {
                parts
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("a payload start/i/n/")
            };
            let (b, i, n) = (num(), num(), num());
            if expect_next == 0 {
                (start, size) = (b, n);
            }
            assert_eq!((b, i, n), (start, expect_next, size), "seq {}", r.seq);
            assert_eq!(b + i, r.seq);
            expect_next = if i + 1 == n { 0 } else { i + 1 };
        }
        assert_eq!(expect_next, 0, "round {round}: the last batch is whole");
        j.close().await;
    }
}
both!(a_killed_writer_loses_nothing_acknowledged);
