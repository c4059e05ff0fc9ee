//! Secrets (tokens, API keys) and their redaction.
//!
//! A [`Secret`] never prints: its `Debug` is `Secret("***")` and it has no
//! `Display`. Every [`crate::http::Transport`] holds the [`Secrets`] of its
//! provider (the TuShare token, and the value of every `token_env` variable
//! of `data.toml`) and passes every error that leaves it through
//! [`Secrets::redact_error`]: each occurrence of a secret — as sent, JSON
//! escaped or percent-encoded, since a server may echo any of them — in any
//! text field (URL, HTTP body excerpt, API message, malformed-reply
//! detail) becomes `***` before the error is logged, shown or stored.

use std::fmt;
use std::sync::Arc;

use crate::error::Error;

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "***";

/// Longest outside text (characters) an error keeps in one field after
/// redaction; the rest is cut with `…`.
pub const MAX_ERROR_TEXT: usize = 500;

/// A token or key: readable with [`Secret::expose`], never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, to put in a request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Secret").field(&REDACTED).finish()
    }
}

/// The secrets one transport redacts. Empty and blank values are ignored
/// (they would match everywhere).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// Every form a secret may take in outside text, longest first.
    forms: Arc<Vec<String>>,
    /// The secrets themselves, in registration order.
    values: Arc<Vec<Secret>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} redacted)", self.values.len())
    }
}

/// `s` percent-encoded as a query string or form would carry it
/// (unreserved characters kept, space as `+`).
fn percent_encoded(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Secrets {
    /// No secrets.
    pub fn none() -> Self {
        Self::default()
    }

    /// These secrets.
    pub fn new<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Self {
        let mut s = Self::default();
        for v in values {
            s = s.with(Secret::new(v));
        }
        s
    }

    /// These secrets and `secret`.
    pub fn with(&self, secret: Secret) -> Self {
        if secret.0.trim().is_empty() || self.values.contains(&secret) {
            return self.clone();
        }
        let mut values = (*self.values).clone();
        let mut forms = (*self.forms).clone();
        let raw = secret.0.clone();
        let json = serde_json::to_string(&raw).unwrap_or_default();
        let json = json
            .strip_prefix('"')
            .and_then(|j| j.strip_suffix('"'))
            .unwrap_or(&raw)
            .to_string();
        let percent = percent_encoded(&raw);
        let debug = format!("{raw:?}");
        let debug = debug
            .strip_prefix('"')
            .and_then(|d| d.strip_suffix('"'))
            .unwrap_or(&raw)
            .to_string();
        for form in [raw, json, percent, debug] {
            if !form.is_empty() && !forms.contains(&form) {
                forms.push(form);
            }
        }
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        values.push(secret);
        Self {
            forms: Arc::new(forms),
            values: Arc::new(values),
        }
    }

    /// These secrets and those of `other`.
    pub fn merged(&self, other: &Secrets) -> Self {
        other
            .values
            .iter()
            .fold(self.clone(), |s, v| s.with(v.clone()))
    }

    /// No secret registered.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every form of every secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for form in self.forms.iter() {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        out
    }

    /// [`Secrets::redact`], then cut to [`MAX_ERROR_TEXT`] characters.
    pub fn redact_clip(&self, text: &str) -> String {
        clip(&self.redact(text), MAX_ERROR_TEXT)
    }

    /// `e` with every text field redacted and clipped (see
    /// [`Secrets::redact_clip`]).
    pub fn redact_error(&self, e: Error) -> Error {
        e.map_text(|t| self.redact_clip(t))
    }
}

/// The first `max` characters of `text`, with `…` when it was longer.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_redacted_and_blank_is_ignored() {
        let s = Secrets::new(["ab\"c d", "  ", ""]);
        assert_eq!(s.values.len(), 1);
        assert_eq!(
            s.redact(r#"raw ab"c d, json ab\"c d, query ab%22c+d"#),
            "raw ***, json ***, query ***"
        );
        assert_eq!(Secrets::none().redact("text"), "text");
        assert_eq!(format!("{:?}", Secret::new("tok")), r#"Secret("***")"#);
        assert!(!format!("{s:?}").contains("ab"));
    }

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip("每分钟最多", 2), "每分…");
        assert_eq!(clip("abc", 3), "abc");
    }

    #[test]
    fn a_secret_cut_by_clipping_was_redacted_first() {
        let token = "0123456789abcdef";
        let s = Secrets::new([token]);
        let text = format!("{}{token}", "x".repeat(MAX_ERROR_TEXT - 4));
        let out = s.redact_clip(&text);
        assert!(!out.contains("0123"), "{out}");
    }
}
