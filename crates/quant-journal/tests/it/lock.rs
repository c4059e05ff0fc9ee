//! One writer per journal: the state dir's `LOCK` (and, on PostgreSQL,
//! the schema's advisory lock).

use std::time::{Duration, Instant};

use quant_journal::{Error, LOCK_FILE, POSTGRES_LOCK_WAIT};

use crate::support::{Fixture, ev};

async fn a_second_writer_is_refused_until_the_first_drops(fx: &Fixture) {
    let j = fx.open().await;
    j.append(&[ev(1)]).await.expect("append");
    let second = fx.open_in(fx.dir.path()).await;
    match second {
        Err(Error::Locked { what, holder }) => {
            assert!(what.ends_with(LOCK_FILE), "{what}");
            assert_eq!(holder, format!("pid {}", std::process::id()));
        }
        other => panic!("a second writer must be refused: {other:?}"),
    }
    // a reader is not a writer
    let r = fx.open_reader_of().await;
    assert_eq!(r.last_seq().await.ok(), Some(1));
    r.close().await;
    // dropped, not closed: the lock goes with it
    drop(j);
    let j = fx.open().await;
    assert_eq!(j.append(&[ev(2)]).await.ok(), Some(2));
    j.close().await;
    // closed: free again
    let j = fx.open().await;
    assert_eq!(j.last_seq().await.ok(), Some(2));
    j.close().await;
}
both!(a_second_writer_is_refused_until_the_first_drops);

/// PostgreSQL: two state dirs on one schema are still one journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_schema_lock_refuses_a_writer_from_another_state_dir() {
    let Some(fx) = Fixture::postgres("schema_lock").await else {
        return;
    };
    let j = fx.open().await;
    let other = tempfile::tempdir().expect("a temp dir");
    let t = Instant::now();
    let second = fx.open_in(other.path()).await;
    assert!(
        matches!(&second, Err(Error::Locked { what, .. }) if what.contains("schema qj_schema_lock")),
        "{second:?}"
    );
    assert!(t.elapsed() >= POSTGRES_LOCK_WAIT - Duration::from_millis(100));
    // dropped without close: the server drops the lock with the connection
    drop(j);
    let j = fx.open_in(other.path()).await.expect("free once dropped");
    j.close().await;
    let j = fx.open_in(other.path()).await.expect("free once closed");
    j.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_without_the_schema_is_a_clear_error() {
    let Ok(admin) = std::env::var("DATABASE_URL") else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let cfg = quant_journal::JournalConfig {
        url: Some(crate::support::with_param(
            &admin,
            "options[search_path]=qj_no_such_schema",
        )),
    };
    let e = quant_journal::Journal::open(dir.path(), &cfg).await.err();
    let msg = e.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("no existing schema"), "{msg}");
}
