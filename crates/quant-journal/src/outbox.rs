//! The durable alert outbox.
//!
//! An alert is enqueued once under a stable event id
//! (`risk:2024-01-02:max_drawdown`): a second enqueue of the same id —
//! after a restart replays the event that raised it, say — is a no-op, so
//! no alert is duplicated. Enqueueing creates one delivery row per
//! channel named (`webhook`, `telegram`…), due at once. The sender asks
//! for the due rows ([`Journal::due_deliveries`]), tries each, and
//! records the outcome: [`Journal::mark_delivered`], or
//! [`Journal::mark_failed`], which schedules the next attempt at
//! `now +` [`Journal::backoff`]`(attempts)` — up to [`MAX_ATTEMPTS`]
//! attempts, after which the row stays undelivered with its last error
//! for the operator to see ([`Delivery::given_up`]).
//!
//! Delivery is at least once: a crash between a channel accepting an alert
//! and [`Journal::mark_delivered`] committing sends it again after the
//! restart, under the same event id, which receivers use to drop the
//! repeat (the webhook carries it; chat bots show it).
//!
//! Enqueued with an append ([`crate::ReadModelUpdate::alerts`]), an alert
//! is durable with the log entries that raised it.

use std::time::Duration;

use quant_core::UnixNanos;
use sqlx::{Any, AssertSqlSafe};

use crate::Journal;
use crate::error::{Error, Result};
use crate::sql::{Cells, list};

/// Attempts per (alert, channel) before the outbox gives up: 16 (with
/// [`Journal::backoff`] about 78 minutes of retries).
pub const MAX_ATTEMPTS: u32 = 16;

/// The first retry's delay: 2 s.
pub const BACKOFF_BASE: Duration = Duration::from_secs(2);

/// The longest delay between two attempts: 10 minutes.
pub const BACKOFF_CAP: Duration = Duration::from_secs(600);

/// Longest `last_error` kept, in characters (longer texts are cut).
const MAX_ERROR_CHARS: usize = 2000;

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// For the record (a session started, a daily report is ready).
    Info,
    /// Needs a look (a data gap, a rejected order, a breaker tripped).
    Warning,
    /// Needs action now (trading halted, reconciliation failed).
    Critical,
}

impl Severity {
    /// `info`, `warning` or `critical`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// The severity stored as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "info" => Some(Self::Info),
            "warning" => Some(Self::Warning),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }
}

/// An alert to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    /// The stable id that dedupes it: the same event gives the same id on
    /// every run (`risk:2024-01-02:max_drawdown`). Not empty.
    pub event_id: String,
    /// What kind of alert (`risk`, `order`, `reconcile`, `report`…).
    pub kind: String,
    /// How urgent.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Plain text with the details.
    pub body: String,
    /// When the event happened (UTC nanoseconds; the event's time, not
    /// the wall clock). Deliveries are due from then.
    pub created: UnixNanos,
    /// Structured details as JSON text (`{}` when none), for webhooks.
    pub payload: String,
    /// The channels to deliver it to (`webhook`, `email`, `telegram`…);
    /// duplicates count once. None: recorded, never delivered.
    pub channels: Vec<String>,
}

/// An alert as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Stable event id.
    pub event_id: String,
    /// Kind.
    pub kind: String,
    /// Severity.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Details.
    pub body: String,
    /// When the event happened (UTC nanoseconds).
    pub created: UnixNanos,
    /// JSON text.
    pub payload: String,
    /// The log seq it was enqueued with (an append's last seq); `None`
    /// when enqueued alone.
    pub seq: Option<u64>,
}

/// One (alert, channel) delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The alert.
    pub alert: Alert,
    /// The channel.
    pub channel: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When it is due next (UTC nanoseconds).
    pub next_attempt: UnixNanos,
    /// When a channel accepted it; `None` while undelivered.
    pub delivered: Option<UnixNanos>,
    /// The last attempt's error.
    pub last_error: Option<String>,
}

impl Delivery {
    /// True when the outbox gave up on it: [`MAX_ATTEMPTS`] failed
    /// attempts and never delivered.
    pub fn given_up(&self) -> bool {
        self.delivered.is_none() && self.attempts >= MAX_ATTEMPTS
    }
}

/// What [`Journal::mark_failed`] made of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Due again at this instant (UTC nanoseconds).
    At(UnixNanos),
    /// [`MAX_ATTEMPTS`] failed attempts: never due again; the row keeps
    /// its last error for the operator.
    GaveUp,
    /// The channel had accepted it already: nothing changed.
    Delivered,
}

const DELIVERY_SELECT: &str = "SELECT a.event_id, a.kind, a.severity, a.title, a.body, a.created_ns, \
     a.payload, a.seq, d.channel, d.attempts, d.next_attempt_ns, d.delivered_ns, d.last_error \
     FROM alert_deliveries d JOIN alerts a ON a.event_id = d.event_id";

fn alert_of(c: &mut Cells<'_>) -> Result<Alert> {
    let event_id: String = c.get("event_id")?;
    c.key = event_id.clone();
    Ok(Alert {
        event_id,
        kind: c.get("kind")?,
        severity: c.pick("severity", "info, warning or critical", Severity::parse)?,
        title: c.get("title")?,
        body: c.get("body")?,
        created: UnixNanos(c.get("created_ns")?),
        payload: c.get("payload")?,
        seq: c.opt_u64("seq")?,
    })
}

fn delivery_of(c: &mut Cells<'_>) -> Result<Delivery> {
    let alert = alert_of(c)?;
    let attempts = c.u64("attempts")?;
    Ok(Delivery {
        alert,
        channel: c.get("channel")?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_attempt: UnixNanos(c.get("next_attempt_ns")?),
        delivered: c.get::<Option<i64>>("delivered_ns")?.map(UnixNanos),
        last_error: c.get("last_error")?,
    })
}

impl Journal {
    /// Enqueues alert `a` under its event id with a delivery row per
    /// channel, due from `a.created`. Returns `true` when enqueued,
    /// `false` when an alert of that id is already in the outbox (then
    /// nothing changes, whatever `a` holds): no duplicates, across
    /// restarts too. Durable on return.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty event id or channel name, or a
    /// payload that is not JSON; [`Error::Query`]; [`Error::ReadOnly`].
    /// Nothing is written then.
    pub async fn enqueue_alert(&self, a: &NewAlert) -> Result<bool> {
        let what = "enqueue alerts";
        let (_guard, mut tx) = self.begin(what).await?;
        let new = self.enqueue_in(&mut tx, a, None).await?;
        self.commit(tx, what).await?;
        Ok(new)
    }

    /// [`Journal::enqueue_alert`] inside `tx`, tagged with log seq `seq`.
    pub(crate) async fn enqueue_in(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        a: &NewAlert,
        seq: Option<i64>,
    ) -> Result<bool> {
        let what = "enqueue alerts";
        let invalid = |message: String| Error::Invalid {
            table: "alerts",
            key: a.event_id.clone(),
            message,
        };
        if a.event_id.trim().is_empty() {
            return Err(invalid("an alert needs an event id".into()));
        }
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&a.payload) {
            return Err(invalid(format!("the payload is not JSON: {e}")));
        }
        if a.channels.iter().any(|c| c.trim().is_empty()) {
            return Err(invalid("an empty channel name".into()));
        }
        let inserted = sqlx::query(
            "INSERT INTO alerts (event_id, ord, kind, severity, title, body, created_ns, payload, seq) \
             VALUES ($1, (SELECT COALESCE(MAX(ord), 0) + 1 FROM alerts), $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(a.event_id.clone())
        .bind(a.kind.clone())
        .bind(a.severity.as_str())
        .bind(a.title.clone())
        .bind(a.body.clone())
        .bind(a.created.0)
        .bind(a.payload.clone())
        .bind(seq)
        .execute(&mut **tx)
        .await
        .map_err(self.q(what))?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        let mut channels: Vec<&str> = a.channels.iter().map(String::as_str).collect();
        channels.sort_unstable();
        channels.dedup();
        for ch in channels {
            sqlx::query(
                "INSERT INTO alert_deliveries (event_id, channel, attempts, next_attempt_ns) \
                 VALUES ($1, $2, 0, $3)",
            )
            .bind(a.event_id.clone())
            .bind(ch.to_string())
            .bind(a.created.0)
            .execute(&mut **tx)
            .await
            .map_err(self.q(what))?;
        }
        Ok(true)
    }

    /// The deliveries due at `now` on `channels`: not delivered, fewer
    /// than [`MAX_ATTEMPTS`] attempts, next attempt at or before `now`
    /// (UTC nanoseconds) — in the order the alerts were enqueued, then by
    /// channel. Channels not named (no longer configured) are left alone.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn due_deliveries(
        &self,
        now: UnixNanos,
        channels: &[String],
    ) -> Result<Vec<Delivery>> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let text = format!(
            "{DELIVERY_SELECT} WHERE d.delivered_ns IS NULL AND d.attempts < $1 \
             AND d.next_attempt_ns <= $2 AND d.channel IN ({}) ORDER BY a.ord, d.channel",
            list(3, channels.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(text))
            .bind(i64::from(MAX_ATTEMPTS))
            .bind(now.0);
        for ch in channels {
            q = q.bind(ch.clone());
        }
        let rows = q
            .fetch_all(&self.pool)
            .await
            .map_err(self.q("read alert_deliveries"))?;
        rows.iter()
            .map(|r| delivery_of(&mut Cells::new(r, "alert_deliveries")))
            .collect()
    }

    /// Every delivery row, delivered or not, in enqueue order then by
    /// channel: for the dashboard.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn deliveries(&self) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{DELIVERY_SELECT} ORDER BY a.ord, d.channel"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(self.q("read alert_deliveries"))?;
        rows.iter()
            .map(|r| delivery_of(&mut Cells::new(r, "alert_deliveries")))
            .collect()
    }

    /// Every alert, in enqueue order.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn alerts(&self) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT event_id, kind, severity, title, body, created_ns, payload, seq \
             FROM alerts ORDER BY ord",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.q("read alerts"))?;
        rows.iter()
            .map(|r| alert_of(&mut Cells::new(r, "alerts")))
            .collect()
    }

    /// Records that `channel` accepted alert `event_id` at `at` (UTC
    /// nanoseconds). A second call keeps the first instant. Durable on
    /// return.
    ///
    /// # Errors
    /// [`Error::NoDelivery`] when the alert has no delivery to `channel`;
    /// [`Error::Query`]; [`Error::ReadOnly`].
    pub async fn mark_delivered(&self, event_id: &str, channel: &str, at: UnixNanos) -> Result<()> {
        let what = "update alert_deliveries";
        let (_guard, mut tx) = self.begin(what).await?;
        let n = sqlx::query(
            "UPDATE alert_deliveries SET delivered_ns = COALESCE(delivered_ns, $1) \
             WHERE event_id = $2 AND channel = $3",
        )
        .bind(at.0)
        .bind(event_id.to_string())
        .bind(channel.to_string())
        .execute(&mut *tx)
        .await
        .map_err(self.q(what))?
        .rows_affected();
        if n == 0 {
            return Err(Error::NoDelivery {
                event_id: event_id.into(),
                channel: channel.into(),
            });
        }
        self.commit(tx, what).await
    }

    /// Records a failed attempt at `now` (UTC nanoseconds, the sender's
    /// clock): one more attempt, `error` kept as the last error (cut to
    /// 2,000 characters), and the next attempt due at
    /// [`Journal::next_attempt`]`(now, attempts)` — `attempts` counting
    /// this failure, so 2 s, 4 s, 8 s… up to [`BACKOFF_CAP`]. The
    /// [`MAX_ATTEMPTS`]th failure gives up: the row stays undelivered with
    /// its last error and is never due again. A delivered or given-up row
    /// is left as it is. Durable on return.
    ///
    /// # Errors
    /// [`Error::NoDelivery`] when the alert has no delivery to `channel`;
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row;
    /// [`Error::ReadOnly`]. Nothing is written then.
    pub async fn mark_failed(
        &self,
        event_id: &str,
        channel: &str,
        error: &str,
        now: UnixNanos,
    ) -> Result<Retry> {
        let what = "update alert_deliveries";
        let (_guard, mut tx) = self.begin(what).await?;
        let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
        let row = sqlx::query(
            "SELECT attempts, delivered_ns FROM alert_deliveries \
             WHERE event_id = $1 AND channel = $2",
        )
        .bind(event_id.to_string())
        .bind(channel.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.q(what))?;
        let Some(row) = row else {
            return Err(Error::NoDelivery {
                event_id: event_id.into(),
                channel: channel.into(),
            });
        };
        let mut c = Cells::new(&row, "alert_deliveries");
        c.key = format!("{event_id}/{channel}");
        if c.get::<Option<i64>>("delivered_ns")?.is_some() {
            return Ok(Retry::Delivered);
        }
        let before = c.u64("attempts")?;
        if before >= u64::from(MAX_ATTEMPTS) {
            return Ok(Retry::GaveUp);
        }
        // below MAX_ATTEMPTS, so it fits
        let attempts = u32::try_from(before + 1).unwrap_or(MAX_ATTEMPTS);
        let next = Self::next_attempt(now, attempts);
        sqlx::query(
            "UPDATE alert_deliveries SET attempts = $1, last_error = $2, \
             next_attempt_ns = $3 WHERE event_id = $4 AND channel = $5",
        )
        .bind(i64::from(attempts))
        .bind(error)
        .bind(next.0)
        .bind(event_id.to_string())
        .bind(channel.to_string())
        .execute(&mut *tx)
        .await
        .map_err(self.q(what))?;
        self.commit(tx, what).await?;
        Ok(if attempts >= MAX_ATTEMPTS {
            Retry::GaveUp
        } else {
            Retry::At(next)
        })
    }

    /// The delay before the next attempt after `attempt` failed attempts:
    /// 0 for 0, then [`BACKOFF_BASE`] × 2^(attempt − 1) — 2 s, 4 s, 8 s… —
    /// capped at [`BACKOFF_CAP`] (10 min from the 10th failure on).
    /// Deterministic: no jitter (one sender per journal, nothing to spread).
    pub fn backoff(attempt: u32) -> Duration {
        if attempt == 0 {
            return Duration::ZERO;
        }
        let shift = (attempt - 1).min(31);
        BACKOFF_BASE
            .checked_mul(1u32 << shift)
            .unwrap_or(BACKOFF_CAP)
            .min(BACKOFF_CAP)
    }

    /// `now` + [`Journal::backoff`]`(attempt)`, in UTC nanoseconds
    /// (saturating): when [`Journal::mark_failed`] makes a delivery due
    /// again after its `attempt`th failure.
    pub fn next_attempt(now: UnixNanos, attempt: u32) -> UnixNanos {
        let delay = i64::try_from(Self::backoff(attempt).as_nanos()).unwrap_or(i64::MAX);
        UnixNanos(now.0.saturating_add(delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = |n| Journal::backoff(n).as_secs();
        assert_eq!(
            (0..=11).map(s).collect::<Vec<_>>(),
            [0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]
        );
        assert_eq!(s(u32::MAX), 600);
        let total: u64 = (1..MAX_ATTEMPTS).map(s).sum();
        assert_eq!(total, 1022 + 6 * 600, "about 78 minutes of retries");
        assert_eq!(
            Journal::next_attempt(UnixNanos(1), 1),
            UnixNanos(2_000_000_001)
        );
        assert_eq!(
            Journal::next_attempt(UnixNanos(i64::MAX - 1), 3),
            UnixNanos(i64::MAX)
        );
    }

    #[test]
    fn severities_round_trip() {
        for s in [Severity::Info, Severity::Warning, Severity::Critical] {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert_eq!(Severity::parse("loud"), None);
    }
}
