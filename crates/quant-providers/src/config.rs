//! `data.toml`: provider settings, tokens by environment-variable name, and
//! the primary/backup chain per market.
//!
//! ```toml
//! offline = false            # true: every provider refuses network access
//!
//! [client]                   # defaults for every provider
//! timeout_secs = 30
//! max_attempts = 4           # first try included
//! base_delay_ms = 500
//! max_delay_ms = 30000
//! breaker_threshold = 5      # consecutive failed calls that open the circuit
//! breaker_cooldown_secs = 60
//! # max_body_bytes = 8388608 # largest reply read; default per provider
//! # max_pages = 100          # most pages per call; default per provider
//!
//! [providers.tushare]
//! base_url = "http://api.tushare.pro"
//! token_env = "TUSHARE_TOKEN"   # the token itself never goes in a file
//! requests_per_minute = 400
//!
//! [providers.binance]
//! base_url = "https://api.binance.com"
//! requests_per_minute = 1000
//!
//! [providers.eastmoney]
//! requests_per_minute = 120
//!
//! [markets.cn]
//! primary = "tushare"
//! backup = ["eastmoney"]
//!
//! [markets.crypto]
//! primary = "binance"
//! ```
//!
//! `max_body_bytes` and `max_pages` may be set in `[client]` or per
//! provider; unset, each provider uses its own defaults, sized to its
//! protocol: TuShare 8 MiB (a page of 5000 rows is under 1 MiB) and 100
//! pages, Eastmoney 8 MiB (a stock's whole daily history is under 1 MiB)
//! and 200 `clist` pages, Yahoo 8 MiB (no paging), Binance 2 MiB (1000
//! klines are about 200 KiB) and 1000 pages. A reply over the cap is an
//! [`Error::BodyTooLarge`], a call past the page cap an
//! [`Error::Pagination`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::DataProvider;
use crate::binance::Binance;
use crate::error::{Error, Result};
use crate::failover::Failover;
use crate::http::RetryPolicy;
use crate::secret::{Secret, Secrets};
use crate::tushare::TuShare;

/// Provider names this crate implements.
pub const PROVIDERS: [&str; 4] = ["tushare", "eastmoney", "yahoo", "binance"];

/// Largest `data.toml` read, bytes (1 MiB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// HTTP behaviour of one provider's client.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSettings {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// Client-side rate limit (0 = none).
    pub requests_per_minute: u32,
    /// Consecutive failed calls that open the circuit (0 = never).
    pub breaker_threshold: u32,
    /// How long the circuit stays open.
    pub breaker_cooldown: Duration,
    /// Refuse all network access.
    pub offline: bool,
    /// Largest reply body read, bytes; `None`: the provider's own default
    /// (`tushare::MAX_BODY_BYTES` …).
    pub max_body_bytes: Option<u64>,
    /// Most pages one paged call may take; `None`: the provider's own
    /// default (`tushare::MAX_PAGES` …).
    pub max_pages: Option<u32>,
    /// Values redacted from every error and log line of the client (tokens
    /// of any configured provider); never printed.
    pub secrets: Secrets,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            retry: RetryPolicy {
                max_attempts: 4,
                base_delay: Duration::from_millis(500),
                max_delay: Duration::from_secs(30),
            },
            requests_per_minute: 0,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(60),
            offline: false,
            max_body_bytes: None,
            max_pages: None,
            secrets: Secrets::none(),
        }
    }
}

/// One `[providers.NAME]` table, or `[client]` (defaults for every
/// provider, without `base_url` and `token_env`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSection {
    /// Base URL (the documented endpoint when absent).
    pub base_url: Option<String>,
    /// Environment variable holding the token (TuShare). The value of
    /// every such variable of the file is also redacted from every
    /// client's errors and logs ([`ClientSettings::secrets`]).
    pub token_env: Option<String>,
    /// Whole-request timeout, seconds.
    pub timeout_secs: Option<u64>,
    /// Attempts in all, the first included.
    pub max_attempts: Option<u32>,
    /// Cap of the first retry's wait, milliseconds.
    pub base_delay_ms: Option<u64>,
    /// Cap of any retry's wait, milliseconds.
    pub max_delay_ms: Option<u64>,
    /// Consecutive failed calls that open the circuit (0 = never).
    pub breaker_threshold: Option<u32>,
    /// How long the circuit stays open, seconds.
    pub breaker_cooldown_secs: Option<u64>,
    /// Client-side rate limit (0 = none).
    pub requests_per_minute: Option<u32>,
    /// Largest reply body read, bytes (at least 1; the provider's own
    /// default when absent).
    pub max_body_bytes: Option<u64>,
    /// Most pages one paged call may take (at least 1; the provider's own
    /// default when absent).
    pub max_pages: Option<u32>,
}

/// One `[markets.NAME]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSection {
    /// The provider tried first.
    pub primary: String,
    /// Providers tried next, in order.
    #[serde(default)]
    pub backup: Vec<String>,
}

/// A parsed, checked `data.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Refuse all network access.
    #[serde(default)]
    pub offline: bool,
    #[serde(default)]
    client: ProviderSection,
    /// Provider settings by name.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderSection>,
    /// Provider chains by market (`cn`, `us`, `crypto`).
    #[serde(default)]
    pub markets: BTreeMap<String, MarketSection>,
    #[serde(skip)]
    file: String,
}

impl DataConfig {
    /// Reads and checks `path`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file and key: unreadable file, TOML
    /// error (with its line), unknown key, unknown provider, a market whose
    /// chain names a provider without a `[providers.…]` table.
    pub fn from_file(path: &Path) -> Result<Self> {
        use std::io::Read;
        let err = |msg: String| Error::Config {
            file: path.display().to_string(),
            key: String::new(),
            msg,
        };
        // at most one byte past the limit: a huge or endless file is
        // refused, not read whole
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text))
            .map_err(|e| err(e.to_string()))?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(err(format!(
                "larger than {MAX_CONFIG_BYTES} bytes: not a provider configuration"
            )));
        }
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses `text` (named `file` in errors) and checks it (a file over
    /// [`MAX_CONFIG_BYTES`] is refused by [`DataConfig::from_file`]).
    ///
    /// # Errors
    /// As [`DataConfig::from_file`].
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let mut cfg: Self = toml::from_str(text).map_err(|e| Error::Config {
            file: file.to_string(),
            key: String::new(),
            msg: e.to_string().trim().to_string(),
        })?;
        cfg.file = file.to_string();
        let bad = |key: String, msg: String| Error::Config {
            file: file.to_string(),
            key,
            msg,
        };
        if cfg.client.base_url.is_some() || cfg.client.token_env.is_some() {
            return Err(bad(
                "client".into(),
                "base_url and token_env belong in a [providers.NAME] table".into(),
            ));
        }
        for name in cfg.providers.keys() {
            if !PROVIDERS.contains(&name.as_str()) {
                return Err(bad(
                    format!("providers.{name}"),
                    format!("unknown provider; known: {}", PROVIDERS.join(", ")),
                ));
            }
        }
        for (key, sec) in std::iter::once(("client".to_string(), &cfg.client)).chain(
            cfg.providers
                .iter()
                .map(|(name, sec)| (format!("providers.{name}"), sec)),
        ) {
            if sec.max_pages == Some(0) {
                return Err(bad(format!("{key}.max_pages"), "must be at least 1".into()));
            }
            if sec.max_body_bytes == Some(0) {
                return Err(bad(
                    format!("{key}.max_body_bytes"),
                    "must be at least 1".into(),
                ));
            }
        }
        for (market, m) in &cfg.markets {
            for (i, p) in std::iter::once(&m.primary).chain(&m.backup).enumerate() {
                let key = if i == 0 {
                    format!("markets.{market}.primary")
                } else {
                    format!("markets.{market}.backup")
                };
                if !cfg.providers.contains_key(p) {
                    return Err(bad(
                        key,
                        format!("provider {p:?} has no [providers.{p}] table"),
                    ));
                }
            }
        }
        Ok(cfg)
    }

    /// The client settings of provider `name`: defaults, then `[client]`,
    /// then the provider's own keys; `offline` from the file or
    /// `force_offline`; as secrets, the values of every `token_env`
    /// variable of the file that is set (any provider's: whatever a server
    /// echoes, no configured token leaves a client).
    pub fn settings(&self, name: &str, force_offline: bool) -> ClientSettings {
        self.settings_with(name, force_offline, |var| std::env::var(var).ok())
    }

    /// [`DataConfig::settings`] reading variables through `env`.
    fn settings_with(
        &self,
        name: &str,
        force_offline: bool,
        env: impl Fn(&str) -> Option<String>,
    ) -> ClientSettings {
        let mut s = ClientSettings::default();
        let own = self.providers.get(name).cloned().unwrap_or_default();
        for c in [&self.client, &own] {
            if let Some(v) = c.timeout_secs {
                s.timeout = Duration::from_secs(v);
            }
            if let Some(v) = c.max_attempts {
                s.retry.max_attempts = v.max(1);
            }
            if let Some(v) = c.base_delay_ms {
                s.retry.base_delay = Duration::from_millis(v);
            }
            if let Some(v) = c.max_delay_ms {
                s.retry.max_delay = Duration::from_millis(v);
            }
            if let Some(v) = c.breaker_threshold {
                s.breaker_threshold = v;
            }
            if let Some(v) = c.breaker_cooldown_secs {
                s.breaker_cooldown = Duration::from_secs(v);
            }
            if let Some(v) = c.requests_per_minute {
                s.requests_per_minute = v;
            }
            if let Some(v) = c.max_body_bytes {
                s.max_body_bytes = Some(v);
            }
            if let Some(v) = c.max_pages {
                s.max_pages = Some(v);
            }
        }
        s.offline = self.offline || force_offline;
        let vars = self
            .providers
            .iter()
            .map(|(p, sec)| {
                sec.token_env.clone().unwrap_or_else(|| match p.as_str() {
                    "tushare" => "TUSHARE_TOKEN".into(),
                    _ => String::new(),
                })
            })
            .filter(|v| !v.is_empty());
        for var in vars {
            if let Some(value) = env(&var) {
                s.secrets = s.secrets.with(Secret::new(value));
            }
        }
        s
    }

    /// Builds provider `name`.
    ///
    /// # Errors
    /// [`Error::Config`] for a provider without a table or an unknown one;
    /// [`Error::MissingToken`] when its token variable is unset.
    pub fn provider(&self, name: &str, force_offline: bool) -> Result<Arc<dyn DataProvider>> {
        let sec = self.providers.get(name).ok_or_else(|| Error::Config {
            file: self.file.clone(),
            key: format!("providers.{name}"),
            msg: "no such provider table".into(),
        })?;
        let s = self.settings(name, force_offline);
        Ok(match name {
            "tushare" => {
                let url = sec
                    .base_url
                    .as_deref()
                    .unwrap_or(crate::tushare::DEFAULT_BASE_URL);
                let var = sec.token_env.as_deref().unwrap_or("TUSHARE_TOKEN");
                Arc::new(TuShare::from_env(&s, url, var)?)
            }
            "eastmoney" => Arc::new(crate::eastmoney::Eastmoney::new(
                &s,
                sec.base_url
                    .as_deref()
                    .unwrap_or(crate::eastmoney::DEFAULT_BASE_URL),
            )?),
            "yahoo" => Arc::new(crate::yahoo::Yahoo::new(
                &s,
                sec.base_url
                    .as_deref()
                    .unwrap_or(crate::yahoo::DEFAULT_BASE_URL),
            )?),
            "binance" => Arc::new(Binance::new(
                &s,
                sec.base_url
                    .as_deref()
                    .unwrap_or(crate::binance::DEFAULT_BASE_URL),
            )?),
            other => {
                return Err(Error::Config {
                    file: self.file.clone(),
                    key: format!("providers.{other}"),
                    msg: format!("unknown provider; known: {}", PROVIDERS.join(", ")),
                });
            }
        })
    }

    /// The failover chain of `market`: primary, then backups. A provider
    /// whose token variable is unset is left out and reported in every
    /// result's `failed` list.
    ///
    /// # Errors
    /// [`Error::Config`] for a market without a table or a bad provider
    /// table; [`Error::MissingToken`] when no provider of the chain can be
    /// built.
    pub fn chain(&self, market: &str, force_offline: bool) -> Result<Failover> {
        let m = self.markets.get(market).ok_or_else(|| Error::Config {
            file: self.file.clone(),
            key: format!("markets.{market}"),
            msg: format!(
                "no such market; configured: {}",
                self.markets.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })?;
        let mut providers = Vec::new();
        let mut unavailable = Vec::new();
        let mut first_error = None;
        for name in std::iter::once(&m.primary).chain(&m.backup) {
            match self.provider(name, force_offline) {
                Ok(p) => providers.push(p),
                // a provider without its token is skipped (and reported);
                // any other configuration error stops here
                Err(e @ Error::MissingToken { .. }) => {
                    unavailable.push((name.clone(), e.to_string()));
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        match (providers.is_empty(), first_error) {
            (true, Some(e)) => Err(e),
            _ => Ok(Failover::new(providers).with_unavailable(unavailable)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
offline = false
[client]
max_attempts = 3
[providers.tushare]
token_env = "QUANT_TEST_TOKEN_UNSET"
requests_per_minute = 400
[providers.binance]
base_url = "http://127.0.0.1:9"
[markets.cn]
primary = "tushare"
[markets.crypto]
primary = "binance"
"#;

    #[test]
    fn settings_layer_defaults_client_and_provider() {
        let c = DataConfig::parse(OK, "data.toml").unwrap();
        let s = c.settings("tushare", false);
        assert_eq!(s.retry.max_attempts, 3);
        assert_eq!(s.requests_per_minute, 400);
        assert!(!s.offline);
        assert!(c.settings("binance", true).offline);
    }

    #[test]
    fn a_huge_file_is_refused_without_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("data.toml");
        let mut text = String::from(OK);
        text.push_str(&"# padding\n".repeat(200_000));
        std::fs::write(&p, &text).unwrap();
        let e = DataConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("larger than 1048576 bytes"), "{e}");
        std::fs::write(&p, OK).unwrap();
        assert!(DataConfig::from_file(&p).is_ok());
    }

    #[test]
    fn errors_name_file_and_key() {
        let e = DataConfig::parse("[providers.akshare]\n", "d.toml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("d.toml: providers.akshare: unknown provider"),
            "{e}"
        );
        let e = DataConfig::parse("[markets.cn]\nprimary = \"tushare\"\n", "d.toml").unwrap_err();
        assert!(e.to_string().contains("markets.cn.primary"), "{e}");
        let e = DataConfig::parse("[providers.binance]\nspeed = 3\n", "d.toml").unwrap_err();
        assert!(
            e.to_string().contains("speed") && e.to_string().contains("line 2"),
            "{e}"
        );
        let c = DataConfig::parse(OK, "data.toml").unwrap();
        let e = c.chain("cn", false).unwrap_err();
        assert!(e.to_string().contains("QUANT_TEST_TOKEN_UNSET"), "{e}");
        assert!(
            c.chain("us", false)
                .unwrap_err()
                .to_string()
                .contains("markets.us")
        );
    }

    #[test]
    fn body_and_page_caps_layer_and_zero_is_refused() {
        let text = "[client]\nmax_pages = 7\n[providers.binance]\nmax_body_bytes = 4096\n[providers.yahoo]\n";
        let c = DataConfig::parse(text, "d.toml").unwrap();
        let s = c.settings("binance", false);
        assert_eq!((s.max_pages, s.max_body_bytes), (Some(7), Some(4096)));
        let y = c.settings("yahoo", false);
        assert_eq!((y.max_pages, y.max_body_bytes), (Some(7), None));
        let e = DataConfig::parse("[providers.yahoo]\nmax_pages = 0\n", "d.toml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("d.toml: providers.yahoo.max_pages: must be at least 1"),
            "{e}"
        );
        let e = DataConfig::parse("[client]\nmax_body_bytes = 0\n", "d.toml").unwrap_err();
        assert!(e.to_string().contains("client.max_body_bytes"), "{e}");
    }

    #[test]
    fn every_configured_token_is_a_secret_of_every_provider() {
        let text = "[providers.tushare]\ntoken_env = \"TS_VAR\"\n[providers.binance]\ntoken_env = \"BN_VAR\"\n[providers.yahoo]\n";
        let c = DataConfig::parse(text, "d.toml").unwrap();
        let env = |v: &str| match v {
            "TS_VAR" => Some("ts-secret-123".to_string()),
            "BN_VAR" => Some("bn-secret-456".to_string()),
            _ => None,
        };
        let s = c.settings_with("yahoo", false, env);
        assert_eq!(
            s.secrets.redact("a ts-secret-123 b bn-secret-456 c"),
            "a *** b *** c"
        );
        let shown = format!("{s:?}");
        assert!(!shown.contains("secret-"), "{shown}");
    }
}
