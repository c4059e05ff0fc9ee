//! The log: gapless, monotonic seqs across reopening, append-only,
//! durability settings, session settings.

use quant_journal::{EntryKind, Error};
use sqlx::Executor;

use crate::support::{Fixture, cmd, ev, seqs};

async fn sequence_is_gapless_across_reopen(fx: &Fixture) {
    let j = fx.open().await;
    assert_eq!(j.last_seq().await.ok(), Some(0));
    assert_eq!(
        j.append(&[]).await.ok(),
        Some(0),
        "an empty append writes nothing"
    );
    assert_eq!(j.append(&[ev(1)]).await.ok(), Some(1));
    assert_eq!(j.append(&[ev(2), cmd(3), ev(4)]).await.ok(), Some(4));
    // a batch bigger than one INSERT statement
    let big: Vec<_> = (5..=1204).map(ev).collect();
    assert_eq!(j.append(&big).await.ok(), Some(1204));
    j.close().await;

    let j = fx.open().await;
    assert_eq!(j.last_seq().await.ok(), Some(1204));
    assert_eq!(j.append(&[cmd(1205)]).await.ok(), Some(1205));
    let all = j.entries_after(0, None).await.expect("read the log");
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=1205).collect::<Vec<_>>()
    );
    assert_eq!(all[2].entry, cmd(3));
    assert_eq!(all[2].entry.kind, EntryKind::Command);
    assert_eq!(all[1203].entry, ev(1204));
    let page = j.entries_after(1000, Some(3)).await.expect("a page");
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [1001, 1002, 1003]
    );
    assert_eq!(page[0].entry, ev(1001));
    assert!(
        j.entries_after(1205, None)
            .await
            .expect("the end")
            .is_empty()
    );
    assert!(
        j.entries_after(u64::MAX, Some(u64::MAX))
            .await
            .expect("beyond the end")
            .is_empty()
    );
    let counts = j.counts().await.expect("counts");
    assert_eq!(counts.entries, 1205);
    j.close().await;
}
both!(sequence_is_gapless_across_reopen);

async fn the_log_is_append_only(fx: &Fixture) {
    let j = fx.open().await;
    j.append(&[ev(1), ev(2), ev(3)]).await.expect("append");
    let mut raw = fx.raw().await;
    for sql in [
        "UPDATE journal SET tag = 'x' WHERE seq = 2",
        "UPDATE journal SET seq = 9 WHERE seq = 3",
        "DELETE FROM journal WHERE seq = 3",
        "DELETE FROM journal",
        // a gap, a repeat, a seq before the first
        "INSERT INTO journal (seq, kind, time_ns, tag, payload) VALUES (5, 'event', 0, 'x', x'00')",
        "INSERT INTO journal (seq, kind, time_ns, tag, payload) VALUES (3, 'event', 0, 'x', x'00')",
        "INSERT INTO journal (seq, kind, time_ns, tag, payload) VALUES (0, 'event', 0, 'x', x'00')",
    ] {
        let sql = if fx.is_pg() {
            sql.replace("x'00'", "'\\x00'::bytea")
        } else {
            sql.to_string()
        };
        let r = raw.execute(sqlx::AssertSqlSafe(sql.clone())).await;
        assert!(r.is_err(), "{sql} must be refused");
    }
    if fx.is_pg() {
        assert!(raw.execute("TRUNCATE journal").await.is_err());
    }
    assert_eq!(seqs(&j).await, [1, 2, 3]);
    let all = j.entries_after(0, None).await.expect("read");
    assert_eq!(all[1].entry, ev(2));
    // the next seq follows: a raw insert that follows is the only one taken
    assert_eq!(j.append(&[ev(4)]).await.ok(), Some(4));
    j.close().await;
}
both!(the_log_is_append_only);

async fn durability_settings_hold_on_every_connection(fx: &Fixture) {
    let j = fx.open().await;
    let mut checks = Vec::new();
    // more checks than pooled connections: every connection is set up
    for _ in 0..6 {
        if fx.is_pg() {
            checks.push(j.setting("synchronous_commit").await.expect("a setting"));
        } else {
            checks.push(j.setting("synchronous").await.expect("a setting"));
            assert_eq!(j.setting("journal_mode").await.expect("a setting"), "wal");
        }
    }
    let want = if fx.is_pg() { "on" } else { "2" }; // 2 = FULL
    assert!(checks.iter().all(|c| c == want), "{checks:?}");
    assert!(matches!(
        j.setting("journal_mode; DROP TABLE journal").await,
        Err(Error::Invalid { .. })
    ));
    j.close().await;
}
both!(durability_settings_hold_on_every_connection);

async fn session_settings_are_upserted(fx: &Fixture) {
    let j = fx.open().await;
    assert_eq!(j.meta("mode").await.ok(), Some(None));
    j.set_meta("mode", "paper").await.expect("set");
    j.set_meta("started_at", "2024-01-02T09:30:00Z")
        .await
        .expect("set");
    j.set_meta("mode", "live").await.expect("replace");
    j.close().await;
    let j = fx.open().await;
    assert_eq!(j.meta("mode").await.ok(), Some(Some("live".to_string())));
    assert_eq!(
        j.meta_all().await.expect("all"),
        [
            ("mode".to_string(), "live".to_string()),
            ("started_at".to_string(), "2024-01-02T09:30:00Z".to_string())
        ]
    );
    j.close().await;
}
both!(session_settings_are_upserted);

async fn a_reader_sees_writes_and_writes_nothing(fx: &Fixture) {
    let j = fx.open().await;
    j.append(&[ev(1), ev(2)]).await.expect("append");
    let r = quant_journal::Journal::open_reader(fx.dir.path(), &fx.cfg)
        .await
        .expect("a reader beside the writer");
    assert!(r.is_read_only());
    assert_eq!(r.last_seq().await.ok(), Some(2));
    j.append(&[ev(3)]).await.expect("append");
    assert_eq!(r.last_seq().await.ok(), Some(3));
    assert!(matches!(
        r.append(&[ev(4)]).await,
        Err(Error::ReadOnly { .. })
    ));
    assert!(matches!(
        r.set_meta("k", "v").await,
        Err(Error::ReadOnly { .. })
    ));
    assert!(matches!(
        r.put_snapshot(1, b"s").await,
        Err(Error::ReadOnly { .. })
    ));
    assert_eq!(j.last_seq().await.ok(), Some(3));
    r.close().await;
    j.close().await;
}
both!(a_reader_sees_writes_and_writes_nothing);

#[tokio::test]
async fn a_reader_of_a_missing_journal_fails() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let r = quant_journal::Journal::open_reader(dir.path(), &Default::default()).await;
    assert!(matches!(r, Err(Error::Connect { .. })), "{r:?}");
    assert!(!dir.path().join(quant_journal::JOURNAL_FILE).exists());
}

#[tokio::test]
async fn a_bad_url_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let cfg = quant_journal::JournalConfig {
        url: Some("mysql://u:secret@h/db".into()),
    };
    let e = quant_journal::Journal::open(dir.path(), &cfg).await.err();
    let msg = e.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("mysql://u:***@h/db"), "{msg}");
    assert!(!msg.contains("secret"));
}

async fn migrations_run_once_and_an_edited_one_is_refused(fx: &Fixture) {
    let j = fx.open().await;
    j.append(&[ev(1)]).await.expect("append");
    j.close().await;
    // reopening runs nothing again and keeps the data
    let j = fx.open().await;
    assert_eq!(j.last_seq().await.ok(), Some(1));
    j.close().await;
    let mut raw = fx.raw().await;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _journal_migrations")
        .fetch_one(&mut raw)
        .await
        .expect("the migrations table");
    assert_eq!(n, 1);
    // as if the migration's text had changed since it ran
    let sql = if fx.is_pg() {
        "UPDATE _journal_migrations SET checksum = '\\x00'::bytea"
    } else {
        "UPDATE _journal_migrations SET checksum = x'00'"
    };
    raw.execute(sql).await.expect("edit the checksum");
    let r = fx.open_in(fx.dir.path()).await;
    assert!(matches!(r, Err(Error::Migrate { .. })), "{r:?}");
}
both!(migrations_run_once_and_an_edited_one_is_refused);

async fn concurrent_appends_stay_gapless(fx: &Fixture) {
    let j = std::sync::Arc::new(fx.open().await);
    let mut tasks = Vec::new();
    for t in 0..6u64 {
        let j = j.clone();
        tasks.push(tokio::spawn(async move {
            let mut lasts = Vec::new();
            for i in 0..15u64 {
                let n = 1 + (t + i) % 3;
                let batch: Vec<_> = (0..n).map(|k| ev(t * 1000 + i * 10 + k)).collect();
                let last = j.append(&batch).await.expect("append");
                lasts.push((last, batch));
            }
            lasts
        }));
    }
    let mut total = 0;
    let all = {
        let mut lasts = Vec::new();
        for t in tasks {
            lasts.extend(t.await.expect("a task"));
        }
        lasts
    };
    let log = j.entries_after(0, None).await.expect("read");
    for (last, batch) in &all {
        total += batch.len();
        // each batch sits whole, in order, right before its returned seq
        let from = (*last as usize) - batch.len();
        let stored: Vec<_> = log[from..*last as usize]
            .iter()
            .map(|r| r.entry.clone())
            .collect();
        assert_eq!(&stored, batch);
    }
    assert_eq!(seqs(&j).await, (1..=total as u64).collect::<Vec<_>>());
    drop(all);
    if let Ok(j) = std::sync::Arc::try_unwrap(j) {
        j.close().await;
    }
}
both!(concurrent_appends_stay_gapless);
