//! The air-gapped rule: `[security] air_gapped = true` and a trading
//! session in progress ⇒ only hosts matching `allow_hosts` may be reached.
//!
//! Hosts are compared as the URL standard parses them (WHATWG): names are
//! lowercased and IDNA-encoded, `127.1` is `127.0.0.1`, IPv6 literals are
//! compared as addresses. A name never matches an address: allowing
//! `localhost` does not allow `127.0.0.1`, and the other way round. A
//! pattern `*.example.com` allows every subdomain of `example.com` (not
//! `example.com` itself). Ports are not part of the rule.

use std::fmt;
use std::net::Ipv6Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::error::{Blocked, Error, Result};

/// The `[security]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// During trading sessions, reach no host but those in
    /// [`SecurityConfig::allow_hosts`].
    #[serde(default)]
    pub air_gapped: bool,
    /// Host names, address literals or `*.domain` patterns reachable during
    /// an air-gapped session (no scheme, port or path).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
}

/// One `allow_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// This host exactly.
    Exact(Host<String>),
    /// Any subdomain of this domain (stored with its leading dot).
    Subdomains(String),
}

/// `host` as the URL standard parses it, with a trailing dot dropped and
/// bare IPv6 accepted; `None` if it is no host.
fn parse_host(host: &str) -> Option<Host<String>> {
    let host = host.trim();
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    if !host.starts_with('[')
        && host.contains(':')
        && let Ok(v6) = host.parse::<Ipv6Addr>()
    {
        return Some(Host::Ipv6(v6));
    }
    Host::parse(host).ok()
}

impl HostPattern {
    fn parse(text: &str) -> std::result::Result<Self, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "`{t}` is not a host: give a bare name or address (no scheme, port or path), or *.domain"
            )
        };
        if t.is_empty()
            || t.contains("://")
            || t.contains('/')
            || t.contains('@')
            || t.chars().any(char::is_whitespace)
        {
            return Err(bad());
        }
        if let Some(rest) = t.strip_prefix("*.") {
            return match parse_host(rest) {
                Some(Host::Domain(d)) if !d.contains('*') => Ok(Self::Subdomains(format!(".{d}"))),
                _ => Err(bad()),
            };
        }
        // a port (`host:443`) parses as no host at all; a bare IPv6 is fine
        match parse_host(t) {
            Some(Host::Domain(d)) if d.contains('*') || d.contains(':') => Err(bad()),
            Some(h) => Ok(Self::Exact(h)),
            None => Err(bad()),
        }
    }

    fn matches(&self, host: &Host<String>) -> bool {
        match (self, host) {
            (Self::Exact(p), h) => p == h,
            (Self::Subdomains(suffix), Host::Domain(d)) => d.ends_with(suffix.as_str()),
            (Self::Subdomains(_), _) => false,
        }
    }
}

/// Whether the process may reach a host now: open unless air-gapped and
/// in a trading session, then only `allow_hosts`. Cheap to clone (shared
/// state); the session flag is read at every check, so one policy follows
/// sessions opening and closing.
#[derive(Clone)]
pub struct NetPolicy {
    air_gapped: bool,
    allow: Arc<Vec<HostPattern>>,
    allow_text: Arc<Vec<String>>,
    in_session: Arc<AtomicBool>,
}

impl fmt::Debug for NetPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetPolicy")
            .field("air_gapped", &self.air_gapped)
            .field("allow_hosts", &self.allow_text)
            .field("in_session", &self.in_session())
            .finish()
    }
}

impl NetPolicy {
    /// A policy that never refuses (not air-gapped).
    pub fn open() -> Self {
        Self {
            air_gapped: false,
            allow: Arc::new(Vec::new()),
            allow_text: Arc::new(Vec::new()),
            in_session: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The policy of a `[security]` section; `in_session` is the flag the
    /// session runner sets while a trading session is open.
    ///
    /// # Errors
    /// [`Error::Config`] naming `security.allow_hosts[i]` for an entry that
    /// is not a host name, address or `*.domain`.
    pub fn new(cfg: &SecurityConfig, in_session: Arc<AtomicBool>) -> Result<Self> {
        let allow = cfg
            .allow_hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                HostPattern::parse(h).map_err(|msg| Error::Config {
                    key: format!("security.allow_hosts[{i}]"),
                    msg,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            air_gapped: cfg.air_gapped,
            allow: Arc::new(allow),
            allow_text: Arc::new(cfg.allow_hosts.clone()),
            in_session,
        })
    }

    /// An air-gapped policy allowing `allow_hosts` during sessions.
    ///
    /// # Errors
    /// As [`NetPolicy::new`].
    pub fn air_gapped<S: Into<String>>(
        allow_hosts: impl IntoIterator<Item = S>,
        in_session: Arc<AtomicBool>,
    ) -> Result<Self> {
        Self::new(
            &SecurityConfig {
                air_gapped: true,
                allow_hosts: allow_hosts.into_iter().map(Into::into).collect(),
            },
            in_session,
        )
    }

    /// `[security] air_gapped`.
    pub fn is_air_gapped(&self) -> bool {
        self.air_gapped
    }

    /// Whether a trading session is in progress now.
    pub fn in_session(&self) -> bool {
        self.in_session.load(Ordering::SeqCst)
    }

    /// Marks a trading session as open or closed (the flag is shared with
    /// every clone of this policy).
    pub fn set_in_session(&self, open: bool) {
        self.in_session.store(open, Ordering::SeqCst);
    }

    /// The shared session flag.
    pub fn session_flag(&self) -> &Arc<AtomicBool> {
        &self.in_session
    }

    /// Whether the allow-list is being enforced now (air-gapped and in a
    /// session).
    pub fn is_enforcing(&self) -> bool {
        self.air_gapped && self.in_session()
    }

    /// The `allow_hosts` entries as configured.
    pub fn allow_hosts(&self) -> &[String] {
        &self.allow_text
    }

    fn allows(&self, host: &Host<String>) -> bool {
        self.allow.iter().any(|p| p.matches(host))
    }

    /// Checks the host of `url`.
    ///
    /// # Errors
    /// [`Blocked`] while enforcing, when the URL has no host or its host
    /// matches no `allow_hosts` entry.
    pub fn check(&self, url: &Url) -> Result<(), Blocked> {
        if !self.is_enforcing() {
            return Ok(());
        }
        let host = url.host().map(|h| match h {
            Host::Domain(d) => Host::Domain(d.strip_suffix('.').unwrap_or(d).to_string()),
            Host::Ipv4(a) => Host::Ipv4(a),
            Host::Ipv6(a) => Host::Ipv6(a),
        });
        match host {
            Some(h) if self.allows(&h) => Ok(()),
            Some(h) => Err(Blocked {
                host: h.to_string(),
            }),
            None => Err(Blocked {
                host: "(no host)".into(),
            }),
        }
    }

    /// Checks a bare host name or address (an SMTP relay, a name being
    /// resolved).
    ///
    /// # Errors
    /// [`Blocked`] while enforcing, when `host` is not a host or matches no
    /// `allow_hosts` entry.
    pub fn check_host(&self, host: &str) -> Result<(), Blocked> {
        if !self.is_enforcing() {
            return Ok(());
        }
        match parse_host(host) {
            Some(h) if self.allows(&h) => Ok(()),
            Some(h) => Err(Blocked {
                host: h.to_string(),
            }),
            None => Err(Blocked {
                host: host.chars().take(100).collect(),
            }),
        }
    }
}

impl Default for NetPolicy {
    fn default() -> Self {
        Self::open()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gapped(hosts: &[&str]) -> NetPolicy {
        NetPolicy::air_gapped(hosts.iter().copied(), Arc::new(AtomicBool::new(true))).unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn names_addresses_and_wildcards() {
        let p = gapped(&[
            "api.example.com",
            "*.feishu.cn",
            "127.0.0.1",
            "::1",
            "LOCALHOST.",
        ]);
        for ok in [
            "https://api.example.com/x?token=1",
            "https://API.Example.com./",
            "https://open.feishu.cn/open-apis/bot/v2/hook/abc",
            "https://a.b.feishu.cn/",
            "http://127.0.0.1:8080/",
            "http://127.1/",
            "http://[::1]:9/",
            "http://localhost/",
        ] {
            assert!(p.check(&url(ok)).is_ok(), "{ok}");
        }
        for (bad, host) in [
            ("https://example.com/", "example.com"),
            ("https://feishu.cn/", "feishu.cn"),
            ("https://evilfeishu.cn/", "evilfeishu.cn"),
            (
                "https://api.example.com.evil.org/",
                "api.example.com.evil.org",
            ),
            ("http://127.0.0.2/", "127.0.0.2"),
            ("http://[::2]/", "[::2]"),
        ] {
            assert_eq!(p.check(&url(bad)).unwrap_err().host, host);
        }
        assert!(p.check_host("api.example.com").is_ok());
        assert!(p.check_host("::1").is_ok());
        assert!(p.check_host("[::1]").is_ok());
        assert!(p.check_host("smtp.example.com").is_err());
        assert!(p.check_host("").is_err());
    }

    #[test]
    fn a_name_is_not_its_address() {
        let p = gapped(&["localhost"]);
        assert!(p.check(&url("http://127.0.0.1/")).is_err());
        let p = gapped(&["127.0.0.1"]);
        assert!(p.check(&url("http://localhost/")).is_err());
    }

    #[test]
    fn enforced_only_air_gapped_and_in_session() {
        let flag = Arc::new(AtomicBool::new(false));
        let p = NetPolicy::air_gapped(["a.example"], flag.clone()).unwrap();
        assert!(
            p.check(&url("https://b.example/")).is_ok(),
            "out of session"
        );
        flag.store(true, Ordering::SeqCst);
        assert!(p.check(&url("https://b.example/")).is_err(), "in session");
        p.set_in_session(false);
        assert!(p.check_host("b.example").is_ok());
        let open = NetPolicy::new(
            &SecurityConfig {
                air_gapped: false,
                allow_hosts: vec![],
            },
            Arc::new(AtomicBool::new(true)),
        )
        .unwrap();
        assert!(open.check(&url("https://anything.example/")).is_ok());
        assert!(NetPolicy::open().check_host("x").is_ok());
    }

    #[test]
    fn bad_patterns_name_their_key() {
        for bad in [
            "https://a.example",
            "a.example:443",
            "a.example/path",
            "",
            "a b",
            "*.",
            "user@a.example",
            "a.*.example",
        ] {
            let e = NetPolicy::air_gapped(["ok.example", bad], Arc::default()).unwrap_err();
            assert!(
                e.to_string().starts_with("security.allow_hosts[1]: "),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn debug_shows_the_rule() {
        let p = gapped(&["a.example"]);
        let d = format!("{p:?}");
        assert!(
            d.contains("air_gapped: true")
                && d.contains("a.example")
                && d.contains("in_session: true")
        );
    }
}
