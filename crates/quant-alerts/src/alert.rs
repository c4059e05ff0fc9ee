//! One alert as the journal's outbox stores it and every channel sends
//! it, and the text every channel builds from it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// A risk limit was breached (a breaker tripped, an order blocked).
    Risk,
    /// A system error (a crash, a broker disconnect, a journal failure).
    System,
    /// A data collection problem (a feed stalled, a provider failing).
    Data,
    /// A strategy anomaly (no signals, unusual turnover).
    Strategy,
    /// Performance deviating from the backtest.
    Performance,
}

impl AlertKind {
    /// The lowercase name (`risk`, `system`, …), as in the webhook JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Risk => "risk",
            Self::System => "system",
            Self::Data => "data",
            Self::Strategy => "strategy",
            Self::Performance => "performance",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent an alert is; ordered `Info < Warning < Critical`
/// (default `Info`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record.
    #[default]
    Info,
    /// Needs a look today.
    Warning,
    /// Needs a look now.
    Critical,
}

impl Severity {
    /// The lowercase name (`info`, `warning`, `critical`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// The uppercase label of message headlines (`CRITICAL`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Info => "INFO",
            Self::Warning => "WARNING",
            Self::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert (the journal stores it; a [`crate::Sender`] sends it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable id of the event (the outbox's key): the same alert sent again
    /// after a restart carries the same id, so receivers can drop repeats.
    pub event_id: String,
    /// What it is about.
    pub kind: AlertKind,
    /// How urgent.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Details (may be several lines).
    pub body: String,
    /// When it happened: nanoseconds since the Unix epoch (UTC).
    pub time_ns: i64,
    /// The session it belongs to (e.g. its state folder's name).
    pub session: String,
    /// Figures behind the alert (`{"loss_pct": 3.2, "limit_pct": 3.0}`),
    /// shown under the body as `key: value` lines and sent whole in the
    /// webhook JSON; absent from the JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl Alert {
    /// The time as RFC 3339 UTC with milliseconds (`2026-12-04T01:30:00.000Z`).
    pub fn time_rfc3339(&self) -> String {
        chrono::DateTime::from_timestamp_nanos(self.time_ns)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    /// `[CRITICAL] risk: <title>`: the first line of every message, the
    /// email subject and the bots' titles.
    pub fn headline(&self) -> String {
        format!("[{}] {}: {}", self.severity.label(), self.kind, self.title)
    }

    /// `session <session> · <time> · event <event_id>`: the last line of
    /// every message.
    pub fn footer(&self) -> String {
        format!(
            "session {} · {} · event {}",
            self.session,
            self.time_rfc3339(),
            self.event_id
        )
    }

    /// The body followed, when there are [`Alert::details`], by a blank
    /// line and one `key: value` line per member of a details object
    /// (strings unquoted, other values as JSON), or the details as JSON
    /// when they are not an object.
    pub fn body_text(&self) -> String {
        match &self.details {
            None => self.body.clone(),
            Some(d) => {
                let details = details_lines(d);
                if self.body.is_empty() {
                    details
                } else if details.is_empty() {
                    self.body.clone()
                } else {
                    format!("{}\n\n{details}", self.body)
                }
            }
        }
    }

    /// The plain-text message: headline, a blank line, the body (with the
    /// details, see [`Alert::body_text`]), a blank line, the footer.
    pub fn plain_text(&self) -> String {
        compose_plain(&self.headline(), &self.body_text(), &self.footer())
    }

    /// The plain-text message cut to at most `max_bytes` bytes of UTF-8 by
    /// shortening the body (ending it with `…`); headline and footer are
    /// kept whole.
    pub(crate) fn plain_text_within(&self, max_bytes: usize) -> String {
        let (headline, footer) = (self.headline(), self.footer());
        let body = self.body_text();
        let room = max_bytes.saturating_sub(headline.len() + footer.len() + 4);
        compose_plain(&headline, &clip_bytes(&body, room), &footer)
    }

    /// The Markdown message of the bots that take Markdown (DingTalk,
    /// WeCom): `### headline`, the body lines as hard line breaks, the
    /// footer as a quote; the body is cut (with `…`) so the whole stays
    /// within `max_bytes` bytes of UTF-8.
    pub fn markdown_within(&self, max_bytes: usize) -> String {
        let headline = format!("### {}", self.headline());
        let footer = format!("> {}", self.footer());
        let room = max_bytes.saturating_sub(headline.len() + footer.len() + 4);
        // a Markdown hard break is two spaces before the newline; blank
        // lines stay blank (paragraph breaks)
        let body = self
            .body_text()
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("  \n")
            .replace("\n  \n", "\n\n");
        compose_plain(&headline, &clip_bytes(&body, room), &footer)
    }
}

/// `headline\n\nbody\n\nfooter`.
pub(crate) fn compose_plain(headline: &str, body: &str, footer: &str) -> String {
    format!("{headline}\n\n{body}\n\n{footer}")
}

/// One `key: value` line per member of an object (strings unquoted);
/// anything else as compact JSON.
fn details_lines(details: &serde_json::Value) -> String {
    match details {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `text` if it has at most `max` bytes, else its longest prefix of at
/// most `max - 3` bytes ending on a character boundary, followed by `…`.
pub(crate) fn clip_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// `text` if it has at most `max` characters, else its first `max - 1`
/// characters followed by `…`.
pub(crate) fn clip_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
            format!("{}…", &text[..end])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_parts() {
        let a = Alert {
            event_id: "ev-1".into(),
            kind: AlertKind::Risk,
            severity: Severity::Critical,
            title: "daily loss limit".into(),
            body: "loss 3.2 % > 3 %".into(),
            time_ns: 1_764_811_800_123_000_000,
            session: "paper-main".into(),
            details: None,
        };
        assert_eq!(a.headline(), "[CRITICAL] risk: daily loss limit");
        assert_eq!(a.time_rfc3339(), "2025-12-04T01:30:00.123Z");
        assert_eq!(
            a.plain_text(),
            "[CRITICAL] risk: daily loss limit\n\nloss 3.2 % > 3 %\n\nsession paper-main · 2025-12-04T01:30:00.123Z · event ev-1"
        );
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Critical);
        assert_eq!(
            serde_json::to_string(&AlertKind::Performance).unwrap(),
            "\"performance\""
        );
        assert!(!serde_json::to_string(&a).unwrap().contains("details"));
    }

    fn with_details() -> Alert {
        Alert {
            event_id: "ev-2".into(),
            kind: AlertKind::Strategy,
            severity: Severity::Warning,
            title: "no signals".into(),
            body: "no order for 3 days\nlast signal 2025-12-01".into(),
            time_ns: 0,
            session: "s".into(),
            details: Some(serde_json::json!({"days": 3, "strategy": "sma_cross"})),
        }
    }

    #[test]
    fn details_under_the_body() {
        let a = with_details();
        assert_eq!(
            a.body_text(),
            "no order for 3 days\nlast signal 2025-12-01\n\ndays: 3\nstrategy: sma_cross"
        );
        let back: Alert = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
        let mut list = a.clone();
        list.details = Some(serde_json::json!([1, 2]));
        assert!(list.body_text().ends_with("\n\n[1,2]"));
    }

    #[test]
    fn markdown_and_clipping() {
        let a = with_details();
        assert_eq!(
            a.markdown_within(4096),
            "### [WARNING] strategy: no signals\n\nno order for 3 days  \nlast signal 2025-12-01  \n\ndays: 3  \nstrategy: sma_cross\n\n> session s · 1970-01-01T00:00:00.000Z · event ev-2"
        );
        let mut long = a.clone();
        long.body = "每".repeat(5000);
        for max in [200, 1000, 4096] {
            let md = long.markdown_within(max);
            assert!(md.len() <= max, "{max}: {}", md.len());
            assert!(md.ends_with("event ev-2") && md.contains('…'));
            let text = long.plain_text_within(max);
            assert!(text.len() <= max && text.starts_with("[WARNING]"));
        }
        assert_eq!(clip_bytes("abc", 3), "abc");
        assert_eq!(clip_bytes("abcdef", 4), "a…");
        assert_eq!(clip_chars("每分钟最多", 3), "每分…");
        assert_eq!(clip_chars("abc", 3), "abc");
    }
}
