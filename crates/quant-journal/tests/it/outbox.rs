//! The alert outbox: dedupe by event id across reopening, the backoff
//! schedule, giving up.

use quant_core::UnixNanos;
use quant_journal::outbox::{BACKOFF_CAP, MAX_ATTEMPTS};
use quant_journal::{Error, Journal, NewAlert, ReadModelUpdate, Retry, Severity};

use crate::read_model::alert;
use crate::support::{Fixture, ev};

const S: i64 = 1_000_000_000;

fn chans(c: &[&str]) -> Vec<String> {
    c.iter().map(|c| c.to_string()).collect()
}

async fn alerts_are_deduped_by_event_id_across_reopen(fx: &Fixture) {
    let j = fx.open().await;
    let a = alert(
        "risk:2024-01-02:drawdown",
        &["webhook", "telegram", "webhook"],
    );
    assert_eq!(j.enqueue_alert(&a).await.ok(), Some(true));
    let changed = NewAlert {
        title: "another title".into(),
        severity: Severity::Critical,
        channels: chans(&["email"]),
        ..a.clone()
    };
    assert_eq!(j.enqueue_alert(&changed).await.ok(), Some(false));
    // raised again with a replayed batch: the entries are new, the alert is not
    let u = ReadModelUpdate {
        alerts: vec![a.clone(), alert("order:7:rejected", &["webhook"])],
        ..Default::default()
    };
    j.append_with_read_model(&[ev(1)], &u)
        .await
        .expect("append");
    j.close().await;

    // a restart replays the event that raised it
    let j = fx.open().await;
    assert_eq!(j.enqueue_alert(&a).await.ok(), Some(false));
    j.append_with_read_model(&[ev(2)], &u)
        .await
        .expect("append");
    let alerts = j.alerts().await.expect("alerts");
    assert_eq!(
        alerts
            .iter()
            .map(|a| a.event_id.as_str())
            .collect::<Vec<_>>(),
        ["risk:2024-01-02:drawdown", "order:7:rejected"]
    );
    assert_eq!(alerts[0].title, a.title, "the first enqueue wins");
    assert_eq!(alerts[0].severity, Severity::Warning);
    assert_eq!(alerts[0].payload, a.payload);
    assert_eq!(alerts[0].seq, None, "enqueued alone");
    assert_eq!(alerts[1].seq, Some(1), "enqueued with the append of seq 1");
    let d = j.deliveries().await.expect("deliveries");
    let rows: Vec<(&str, &str)> = d
        .iter()
        .map(|d| (d.alert.event_id.as_str(), d.channel.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("risk:2024-01-02:drawdown", "telegram"),
            ("risk:2024-01-02:drawdown", "webhook"),
            ("order:7:rejected", "webhook"),
        ]
    );
    assert!(d.iter().all(|d| d.attempts == 0 && d.delivered.is_none()));
    assert_eq!(j.counts().await.expect("counts").undelivered, 3);

    // refused: no id, no JSON, an empty channel
    for bad in [
        NewAlert {
            event_id: " ".into(),
            ..a.clone()
        },
        NewAlert {
            event_id: "x".into(),
            payload: "{".into(),
            ..a.clone()
        },
        NewAlert {
            event_id: "y".into(),
            channels: chans(&["webhook", ""]),
            ..a.clone()
        },
    ] {
        assert!(matches!(
            j.enqueue_alert(&bad).await,
            Err(Error::Invalid {
                table: "alerts",
                ..
            })
        ));
    }
    assert_eq!(j.alerts().await.expect("alerts").len(), 2);
    j.close().await;
}
both!(alerts_are_deduped_by_event_id_across_reopen);

async fn deliveries_back_off_and_give_up(fx: &Fixture) {
    let j = fx.open().await;
    let t0 = 1_000; // the alerts' created
    j.enqueue_alert(&alert("a", &["webhook", "email"]))
        .await
        .expect("a");
    j.enqueue_alert(&alert("b", &["webhook"])).await.expect("b");
    let webhook = chans(&["webhook"]);
    let both = chans(&["email", "webhook"]);

    assert!(
        j.due_deliveries(UnixNanos(t0 - 1), &both)
            .await
            .expect("due")
            .is_empty()
    );
    assert!(
        j.due_deliveries(UnixNanos(t0), &[])
            .await
            .expect("due")
            .is_empty()
    );
    let due = j.due_deliveries(UnixNanos(t0), &both).await.expect("due");
    let rows: Vec<(&str, &str)> = due
        .iter()
        .map(|d| (d.alert.event_id.as_str(), d.channel.as_str()))
        .collect();
    assert_eq!(rows, [("a", "email"), ("a", "webhook"), ("b", "webhook")]);
    assert_eq!(due[0].alert.title, "alert a");
    // a channel no longer configured is left alone
    assert_eq!(
        j.due_deliveries(UnixNanos(t0), &webhook)
            .await
            .expect("due")
            .len(),
        2
    );

    // "a" via email goes through; "b" via webhook keeps failing
    j.mark_delivered("a", "email", UnixNanos(t0 + 5))
        .await
        .expect("delivered");
    j.mark_delivered("a", "email", UnixNanos(t0 + 9))
        .await
        .expect("again");
    assert_eq!(
        j.mark_failed("a", "email", "late failure", UnixNanos(t0 + 10))
            .await
            .ok(),
        Some(Retry::Delivered)
    );
    let mut now = t0;
    let mut schedule = Vec::new();
    for attempt in 1..=MAX_ATTEMPTS {
        let due = j
            .due_deliveries(UnixNanos(now), &webhook)
            .await
            .expect("due");
        assert!(
            due.iter().any(|d| d.alert.event_id == "b"),
            "b is due at attempt {attempt}"
        );
        let r = j
            .mark_failed(
                "b",
                "webhook",
                &format!("HTTP 503 #{attempt}"),
                UnixNanos(now),
            )
            .await
            .expect("failed");
        if attempt < MAX_ATTEMPTS {
            let Retry::At(next) = r else {
                panic!("attempt {attempt}: {r:?}");
            };
            assert_eq!(next, Journal::next_attempt(UnixNanos(now), attempt));
            schedule.push((next.0 - now) / S);
            // not due a moment before, due at the instant
            let before = j
                .due_deliveries(UnixNanos(next.0 - 1), &webhook)
                .await
                .expect("due");
            assert!(before.iter().all(|d| d.alert.event_id != "b"));
            now = next.0;
        } else {
            assert_eq!(r, Retry::GaveUp);
        }
    }
    assert_eq!(
        schedule,
        [
            2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600, 600, 600, 600
        ]
    );
    assert_eq!(BACKOFF_CAP.as_secs(), 600);
    // given up: never due again, kept with its last error
    let far = UnixNanos(i64::MAX);
    assert!(
        j.due_deliveries(far, &webhook)
            .await
            .expect("due")
            .iter()
            .all(|d| d.alert.event_id != "b")
    );
    assert_eq!(
        j.mark_failed("b", "webhook", "again", far).await.ok(),
        Some(Retry::GaveUp)
    );
    j.close().await;

    let j = fx.open().await;
    let d = j.deliveries().await.expect("deliveries");
    let b = d.iter().find(|d| d.alert.event_id == "b").expect("b");
    assert!(b.given_up());
    assert_eq!(b.attempts, MAX_ATTEMPTS);
    assert_eq!(b.last_error.as_deref(), Some("HTTP 503 #16"));
    let a_mail = d
        .iter()
        .find(|d| d.alert.event_id == "a" && d.channel == "email")
        .expect("a/email");
    assert_eq!(
        a_mail.delivered,
        Some(UnixNanos(t0 + 5)),
        "the first instant kept"
    );
    assert!(!a_mail.given_up());
    // what is still due: "a" via webhook only
    let due = j.due_deliveries(far, &both).await.expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].alert.event_id.as_str(), due[0].channel.as_str()),
        ("a", "webhook")
    );
    // a long error is cut
    let long = "x".repeat(5000);
    j.mark_failed("a", "webhook", &long, UnixNanos(t0))
        .await
        .expect("failed");
    let d = j.deliveries().await.expect("deliveries");
    let a_hook = d
        .iter()
        .find(|d| d.alert.event_id == "a" && d.channel == "webhook")
        .expect("a/webhook");
    assert_eq!(a_hook.last_error.as_ref().map(String::len), Some(2000));
    assert_eq!(a_hook.attempts, 1);
    assert_eq!(a_hook.next_attempt, UnixNanos(t0 + 2 * S));

    assert!(matches!(
        j.mark_delivered("a", "sms", UnixNanos(0)).await,
        Err(Error::NoDelivery { .. })
    ));
    assert!(matches!(
        j.mark_failed("zzz", "webhook", "e", UnixNanos(0)).await,
        Err(Error::NoDelivery { .. })
    ));
    assert_eq!(j.counts().await.expect("counts").undelivered, 2);
    j.close().await;
}
both!(deliveries_back_off_and_give_up);
