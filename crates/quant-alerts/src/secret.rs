//! Secrets (signing secrets, bot tokens and keys, SMTP passwords) and
//! their redaction.
//!
//! A [`Secret`] never prints: its `Debug` is `Secret(***)` and it has no
//! `Display`. Every channel holds a [`Redactor`] of its secrets and passes
//! every outside text that goes into an error through it: each form a
//! secret may take there — as sent, percent-encoded in a query, JSON
//! escaped — becomes `***`, and the text is cut to [`MAX_TEXT`]
//! characters (after redaction, so no cut can leave half a secret).

use std::fmt;
use std::sync::Arc;

/// What a redacted secret is replaced with.
pub(crate) const REDACTED: &str = "***";

/// Longest outside text (characters) an error keeps, after redaction.
pub(crate) const MAX_TEXT: usize = 300;

/// A secret value read from the environment: readable with
/// [`Secret::expose`], never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, to sign with or put in a request.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

/// The secrets of one channel, in every form they may take in outside
/// text, longest first.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    forms: Arc<Vec<String>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.forms.len())
    }
}

impl Redactor {
    /// A redactor of `secrets` (blank ones are ignored: they would match
    /// everywhere).
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let mut forms: Vec<String> = Vec::new();
        for s in secrets {
            let raw = s.expose();
            if raw.trim().is_empty() {
                continue;
            }
            let query: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
            let json = serde_json::to_string(raw).unwrap_or_default();
            let json = json
                .strip_prefix('"')
                .and_then(|j| j.strip_suffix('"'))
                .unwrap_or(raw)
                .to_string();
            let debug = format!("{raw:?}");
            let debug = debug
                .strip_prefix('"')
                .and_then(|d| d.strip_suffix('"'))
                .unwrap_or(raw)
                .to_string();
            for form in [raw.to_string(), query, json, debug] {
                if !form.is_empty() && !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        Self {
            forms: Arc::new(forms),
        }
    }

    /// `text` with every form of every secret replaced by `***`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for form in self.forms.iter() {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        out
    }

    /// [`Redactor::redact`], then cut to [`MAX_TEXT`] characters.
    pub(crate) fn clean(&self, text: &str) -> String {
        crate::alert::clip_chars(&self.redact(text), MAX_TEXT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_redacted() {
        let secrets = [Secret::new("a/b+c\"d"), Secret::new(" ")];
        let r = Redactor::new(&secrets);
        assert_eq!(
            r.redact(r#"raw a/b+c"d query a%2Fb%2Bc%22d json a/b+c\"d"#),
            "raw *** query *** json ***"
        );
        assert_eq!(format!("{:?}", secrets[0]), "Secret(***)");
        assert!(!format!("{r:?}").contains("a/b"));
        assert_eq!(Redactor::default().redact("text"), "text");
    }

    #[test]
    fn redacted_before_cut() {
        let token = "0123456789abcdef";
        let r = Redactor::new(&[Secret::new(token)]);
        let text = format!("{}{token}", "x".repeat(MAX_TEXT - 4));
        let out = r.clean(&text);
        assert!(!out.contains("0123"), "{out}");
        assert!(out.chars().count() <= MAX_TEXT);
    }
}
