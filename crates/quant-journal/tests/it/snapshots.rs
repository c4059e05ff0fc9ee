//! Snapshots: the newest three kept, none beyond the log.

use quant_journal::{Error, SNAPSHOTS_KEPT};

use crate::support::{Fixture, ev};

async fn the_newest_three_snapshots_are_kept(fx: &Fixture) {
    let j = fx.open().await;
    assert_eq!(j.latest_snapshot().await.ok(), Some(None));
    j.put_snapshot(0, b"before anything").await.expect("seq 0");
    for i in 1..=5u64 {
        j.append(&[ev(i)]).await.expect("append");
        j.put_snapshot(i, format!("state {i}").as_bytes())
            .await
            .expect("snapshot");
    }
    assert_eq!(j.snapshot_seqs().await.expect("seqs"), [3, 4, 5]);
    assert_eq!(SNAPSHOTS_KEPT, 3);
    // the same seq again replaces it
    j.put_snapshot(5, b"state 5 again").await.expect("replace");
    assert_eq!(j.snapshot_seqs().await.expect("seqs"), [3, 4, 5]);
    assert!(matches!(
        j.put_snapshot(6, b"ahead of the log").await,
        Err(Error::Invalid {
            table: "snapshots",
            ..
        })
    ));
    // an older snapshot written late is pruned at once
    j.put_snapshot(1, b"late").await.expect("late");
    assert_eq!(j.snapshot_seqs().await.expect("seqs"), [3, 4, 5]);
    j.close().await;

    let j = fx.open().await;
    assert_eq!(
        j.latest_snapshot().await.expect("latest"),
        Some((5, b"state 5 again".to_vec()))
    );
    assert_eq!(j.counts().await.expect("counts").snapshots, 3);
    // restart = the latest snapshot + the entries after it
    j.append(&[ev(6), ev(7)]).await.expect("append");
    let tail = j.entries_after(5, None).await.expect("tail");
    assert_eq!(tail.iter().map(|r| r.seq).collect::<Vec<_>>(), [6, 7]);
    j.put_snapshot(7, &[]).await.expect("an empty state");
    assert_eq!(
        j.latest_snapshot().await.expect("latest"),
        Some((7, vec![]))
    );
    assert_eq!(j.snapshot_seqs().await.expect("seqs"), [4, 5, 7]);
    j.close().await;
}
both!(the_newest_three_snapshots_are_kept);
