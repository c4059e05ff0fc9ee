//! The `[alerts]` section: the channels alerts go to, each an
//! `[[alerts.channels]]` table whose `kind` says which.
//!
//! ```toml
//! [alerts]
//! timeout_secs = 10                 # whole request, per channel and try
//!
//! [[alerts.channels]]
//! kind = "webhook"                  # signed JSON POST
//! url = "https://ops.example.com/quant-alerts"
//! secret_env = "QUANT_WEBHOOK_SECRET"
//!
//! [[alerts.channels]]
//! kind = "telegram"
//! name = "phone"                    # defaults to the kind
//! token_env = "QUANT_TELEGRAM_TOKEN"
//! chat_id = -1001234567890          # or "@channel"
//! min_severity = "warning"          # info (default), warning, critical
//! kinds = ["risk", "system"]        # default: every kind
//! ```
//!
//! Secrets never go in the file: every `*_env` key names the environment
//! variable holding one, read when the channels are built
//! ([`crate::Channels::from_config`]). Unknown keys are refused, and so is
//! a key of another kind (`chat_id` on a webhook).
//!
//! | kind | keys (required in bold) | default `url` |
//! |---|---|---|
//! | `webhook` | **`url`**, **`secret_env`** | — |
//! | `email` | **`smtp_host`**, `smtp_port` (465, 587 or 25 by `tls`), `tls` (`starttls`, `tls`, `none`), **`from`**, **`to`** (list), `username_env` + `password_env` | — |
//! | `feishu` | `url`, **`token_env`** (the hook id), `secret_env` (signing) | `https://open.feishu.cn/open-apis/bot/v2/hook` (Lark: `https://open.larksuite.com/open-apis/bot/v2/hook`) |
//! | `dingtalk` | `url`, **`token_env`** (`access_token`), `secret_env` (加签), `format` (`markdown`, `text`) | `https://oapi.dingtalk.com/robot/send` |
//! | `wecom` | `url`, **`token_env`** (the `key`), `format` | `https://qyapi.weixin.qq.com/cgi-bin/webhook/send` |
//! | `telegram` | `url`, **`token_env`** (bot token), **`chat_id`**, `parse_mode` (`HTML`) | `https://api.telegram.org` |
//!
//! Every kind also takes `name`, `min_severity` and `kinds`. URLs must be
//! `https`, or `http` to a loopback address (a local receiver); they carry
//! no user name or password.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::alert::{AlertKind, Severity};
use crate::error::{Error, Result};

/// Default Feishu custom-bot hook base (the hook id is appended).
pub const FEISHU_URL: &str = "https://open.feishu.cn/open-apis/bot/v2/hook";
/// Default DingTalk custom-robot endpoint.
pub const DINGTALK_URL: &str = "https://oapi.dingtalk.com/robot/send";
/// Default WeCom group-bot endpoint.
pub const WECOM_URL: &str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send";
/// Default Telegram Bot API base.
pub const TELEGRAM_URL: &str = "https://api.telegram.org";

/// The `[alerts]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// The `[[alerts.channels]]` tables, in order.
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    /// Whole-request timeout of one send on one channel, in seconds
    /// (1–300; default 10).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_timeout_secs() -> u64 {
    10
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            channels: Vec::new(),
            timeout_secs: default_timeout_secs(),
        }
    }
}

/// Which kind of channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// Signed JSON POST.
    Webhook,
    /// SMTP e-mail.
    Email,
    /// Feishu/Lark custom bot.
    Feishu,
    /// DingTalk custom robot.
    DingTalk,
    /// WeCom (企业微信) group bot.
    WeCom,
    /// Telegram bot.
    Telegram,
}

impl ChannelKind {
    /// The `kind` value (`webhook`, `email`, `feishu`, `dingtalk`,
    /// `wecom`, `telegram`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Email => "email",
            Self::Feishu => "feishu",
            Self::DingTalk => "dingtalk",
            Self::WeCom => "wecom",
            Self::Telegram => "telegram",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `[[alerts.channels]]` table, by its `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ChannelConfig {
    /// `kind = "webhook"`.
    Webhook(WebhookConfig),
    /// `kind = "email"`.
    Email(EmailConfig),
    /// `kind = "feishu"`.
    Feishu(FeishuConfig),
    /// `kind = "dingtalk"`.
    Dingtalk(DingTalkConfig),
    /// `kind = "wecom"`.
    Wecom(WeComConfig),
    /// `kind = "telegram"`.
    Telegram(TelegramConfig),
}

/// Which alerts a channel takes (the keys every kind has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Alerts below this severity are not sent here.
    pub min_severity: Severity,
    /// Only these kinds are sent here; empty means every kind.
    pub kinds: Vec<AlertKind>,
}

impl Filter {
    /// Whether an alert of `kind` and `severity` goes to the channel.
    pub fn accepts(&self, kind: AlertKind, severity: Severity) -> bool {
        severity >= self.min_severity && (self.kinds.is_empty() || self.kinds.contains(&kind))
    }
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// `kind = "webhook"`: the alert as JSON, POSTed with
/// `X-Quant-Signature: sha256=<hex HMAC-SHA256 of the body>` and
/// `X-Quant-Event-Id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The channel's name (default `webhook`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The receiver's URL.
    pub url: String,
    /// The environment variable holding the signing secret.
    pub secret_env: String,
    /// Least severity sent (default `info`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub min_severity: Severity,
    /// Kinds sent (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<AlertKind>,
}

/// How an SMTP connection is encrypted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port
    /// 587 by default).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, port 465 by default).
    Tls,
    /// No encryption (port 25 by default); with credentials only to a
    /// loopback relay.
    None,
}

impl SmtpTls {
    /// The port used when `smtp_port` is not set.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Starttls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

/// `kind = "email"`: a plain-text e-mail over SMTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The channel's name (default `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The relay's host name or address.
    pub smtp_host: String,
    /// The relay's port (default by [`EmailConfig::tls`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_port: Option<u16>,
    /// Encryption (default `starttls`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub tls: SmtpTls,
    /// The sender (`alerts@example.com` or `Quant <alerts@example.com>`).
    pub from: String,
    /// The recipients (at least one).
    pub to: Vec<String>,
    /// The environment variable holding the SMTP user name (with
    /// `password_env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_env: Option<String>,
    /// The environment variable holding the SMTP password (with
    /// `username_env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// Least severity sent (default `info`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub min_severity: Severity,
    /// Kinds sent (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<AlertKind>,
}

impl EmailConfig {
    /// The port connected to.
    pub fn port(&self) -> u16 {
        self.smtp_port.unwrap_or_else(|| self.tls.default_port())
    }
}

/// The message type a bot is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageFormat {
    /// `msgtype = "markdown"` (headline as a heading, footer as a quote).
    #[default]
    Markdown,
    /// `msgtype = "text"`.
    Text,
}

/// `kind = "feishu"`: a Feishu/Lark custom bot, `msg_type = "text"`,
/// signed when `secret_env` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeishuConfig {
    /// The channel's name (default `feishu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The hook base, the hook id appended as the last path segment
    /// (default [`FEISHU_URL`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The environment variable holding the hook id (the last segment of
    /// the bot's webhook address).
    pub token_env: String,
    /// The environment variable holding the signing secret ("signature
    /// verification" in the bot's security settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// Least severity sent (default `info`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub min_severity: Severity,
    /// Kinds sent (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<AlertKind>,
}

/// `kind = "dingtalk"`: a DingTalk custom robot, signed (加签) when
/// `secret_env` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DingTalkConfig {
    /// The channel's name (default `dingtalk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The endpoint (default [`DINGTALK_URL`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The environment variable holding the robot's `access_token`.
    pub token_env: String,
    /// The environment variable holding the signing secret (`SEC…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// Message type (default `markdown`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub format: MessageFormat,
    /// Least severity sent (default `info`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub min_severity: Severity,
    /// Kinds sent (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<AlertKind>,
}

/// `kind = "wecom"`: a WeCom (企业微信) group bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeComConfig {
    /// The channel's name (default `wecom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The endpoint (default [`WECOM_URL`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The environment variable holding the bot's `key`.
    pub token_env: String,
    /// Message type (default `markdown`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub format: MessageFormat,
    /// Least severity sent (default `info`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub min_severity: Severity,
    /// Kinds sent (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<AlertKind>,
}

/// A Telegram chat: its numeric id or `@channelusername`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatId {
    /// A numeric id (groups and channels are negative).
    Id(i64),
    /// `@channelusername` (or an id written as a string).
    Name(String),
}

/// Telegram's `parse_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParseMode {
    /// `HTML`: headline in bold, footer in italics, the rest escaped.
    #[serde(rename = "HTML", alias = "html")]
    Html,
}

/// `kind = "telegram"`: `sendMessage` of a Telegram bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// The channel's name (default `telegram`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Bot API base (default [`TELEGRAM_URL`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The environment variable holding the bot token.
    pub token_env: String,
    /// The chat sent to.
    pub chat_id: ChatId,
    /// `parse_mode` (default none: plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// Least severity sent (default `info`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub min_severity: Severity,
    /// Kinds sent (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<AlertKind>,
}

impl ChannelConfig {
    /// The kind.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Webhook(_) => ChannelKind::Webhook,
            Self::Email(_) => ChannelKind::Email,
            Self::Feishu(_) => ChannelKind::Feishu,
            Self::Dingtalk(_) => ChannelKind::DingTalk,
            Self::Wecom(_) => ChannelKind::WeCom,
            Self::Telegram(_) => ChannelKind::Telegram,
        }
    }

    /// The `name` as configured, if any.
    fn configured_name(&self) -> Option<&str> {
        match self {
            Self::Webhook(c) => c.name.as_deref(),
            Self::Email(c) => c.name.as_deref(),
            Self::Feishu(c) => c.name.as_deref(),
            Self::Dingtalk(c) => c.name.as_deref(),
            Self::Wecom(c) => c.name.as_deref(),
            Self::Telegram(c) => c.name.as_deref(),
        }
    }

    /// The channel's name: `name`, or the kind.
    pub fn name(&self) -> &str {
        self.configured_name().unwrap_or(self.kind().as_str())
    }

    /// Which alerts the channel takes.
    pub fn filter(&self) -> Filter {
        let (min_severity, kinds) = match self {
            Self::Webhook(c) => (c.min_severity, &c.kinds),
            Self::Email(c) => (c.min_severity, &c.kinds),
            Self::Feishu(c) => (c.min_severity, &c.kinds),
            Self::Dingtalk(c) => (c.min_severity, &c.kinds),
            Self::Wecom(c) => (c.min_severity, &c.kinds),
            Self::Telegram(c) => (c.min_severity, &c.kinds),
        };
        Filter {
            min_severity,
            kinds: kinds.clone(),
        }
    }

    /// The endpoint URL as configured or by default (`None` for e-mail).
    pub fn url(&self) -> Option<&str> {
        match self {
            Self::Webhook(c) => Some(&c.url),
            Self::Email(_) => None,
            Self::Feishu(c) => Some(c.url.as_deref().unwrap_or(FEISHU_URL)),
            Self::Dingtalk(c) => Some(c.url.as_deref().unwrap_or(DINGTALK_URL)),
            Self::Wecom(c) => Some(c.url.as_deref().unwrap_or(WECOM_URL)),
            Self::Telegram(c) => Some(c.url.as_deref().unwrap_or(TELEGRAM_URL)),
        }
    }

    /// The host connected to (for `[security] allow_hosts`): the URL's
    /// host, or the SMTP relay.
    pub fn host(&self) -> Option<String> {
        match self {
            Self::Email(c) => Some(c.smtp_host.trim().to_string()),
            _ => self
                .url()
                .and_then(|u| Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_string)),
        }
    }
}

impl AlertsConfig {
    /// Checks every setting that needs no environment: names unique and
    /// sensible, URLs, e-mail addresses, ports, environment-variable
    /// names, the timeout.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first key at fault
    /// (`alerts.channels[1].url`).
    pub fn validate(&self) -> Result<()> {
        if !(1..=300).contains(&self.timeout_secs) {
            return Err(config_err(
                "alerts.timeout_secs",
                format!("{} is not between 1 and 300 seconds", self.timeout_secs),
            ));
        }
        let mut names = HashSet::new();
        for (i, ch) in self.channels.iter().enumerate() {
            let at = |field: &str| format!("alerts.channels[{i}].{field}");
            check_name(&at("name"), ch.name())?;
            if !names.insert(ch.name().to_string()) {
                return Err(config_err(
                    &at("name"),
                    format!(
                        "a second channel named `{}`: give each channel of one kind its own `name`",
                        ch.name()
                    ),
                ));
            }
            ch.validate_at(&at)?;
        }
        Ok(())
    }
}

impl ChannelConfig {
    /// Checks this channel's settings; `at(field)` names a key.
    fn validate_at(&self, at: &dyn Fn(&str) -> String) -> Result<()> {
        if let Some(url) = self.url() {
            check_url(&at("url"), url)?;
        }
        match self {
            Self::Webhook(c) => check_env_name(&at("secret_env"), &c.secret_env),
            Self::Email(c) => c.validate_at(at),
            Self::Feishu(FeishuConfig {
                token_env,
                secret_env,
                ..
            })
            | Self::Dingtalk(DingTalkConfig {
                token_env,
                secret_env,
                ..
            }) => {
                check_env_name(&at("token_env"), token_env)?;
                match secret_env {
                    Some(s) => check_env_name(&at("secret_env"), s),
                    None => Ok(()),
                }
            }
            Self::Wecom(c) => check_env_name(&at("token_env"), &c.token_env),
            Self::Telegram(c) => {
                check_env_name(&at("token_env"), &c.token_env)?;
                match &c.chat_id {
                    ChatId::Name(n) if n.trim().is_empty() => {
                        Err(config_err(&at("chat_id"), "is empty".into()))
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}

impl EmailConfig {
    fn validate_at(&self, at: &dyn Fn(&str) -> String) -> Result<()> {
        let host = self.smtp_host.trim();
        let host_ok = !host.is_empty()
            && !host.contains("://")
            && !host.contains('/')
            && !host.contains('@')
            && !host.chars().any(char::is_whitespace)
            && parse_host(host).is_some();
        if !host_ok {
            return Err(config_err(
                &at("smtp_host"),
                format!("`{host}` is not a host name or address (no scheme, port or path)"),
            ));
        }
        if self.smtp_port == Some(0) {
            return Err(config_err(&at("smtp_port"), "0 is not a port".into()));
        }
        parse_mailbox(&at("from"), &self.from)?;
        if self.to.is_empty() {
            return Err(config_err(&at("to"), "names no recipient".into()));
        }
        for (j, to) in self.to.iter().enumerate() {
            parse_mailbox(&at(&format!("to[{j}]")), to)?;
        }
        match (&self.username_env, &self.password_env) {
            (Some(u), Some(p)) => {
                check_env_name(&at("username_env"), u)?;
                check_env_name(&at("password_env"), p)?;
                if self.tls == SmtpTls::None && !parse_host(host).is_some_and(|h| is_loopback(&h)) {
                    return Err(config_err(
                        &at("tls"),
                        "`none` would send the password unencrypted: use `starttls` or `tls` (or a loopback relay)"
                            .into(),
                    ));
                }
                Ok(())
            }
            (None, None) => Ok(()),
            (Some(_), None) => Err(config_err(
                &at("password_env"),
                "is missing: username_env and password_env go together".into(),
            )),
            (None, Some(_)) => Err(config_err(
                &at("username_env"),
                "is missing: username_env and password_env go together".into(),
            )),
        }
    }
}

pub(crate) fn config_err(key: &str, msg: String) -> Error {
    Error::Config {
        key: key.to_string(),
        msg,
    }
}

fn check_name(key: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(config_err(
            key,
            "a channel name is 1 to 64 characters, no control characters".into(),
        ));
    }
    Ok(())
}

fn check_env_name(key: &str, var: &str) -> Result<()> {
    if var.is_empty() || var.trim() != var || var.contains('=') || var.contains('\0') {
        return Err(config_err(
            key,
            format!(
                "`{var}` is not an environment variable name (the secret itself never goes in the file)"
            ),
        ));
    }
    Ok(())
}

/// `host` as the URL standard parses it, bare IPv6 accepted.
pub(crate) fn parse_host(host: &str) -> Option<Host<String>> {
    let host = host.trim();
    if !host.starts_with('[')
        && host.contains(':')
        && let Ok(v6) = host.parse::<std::net::Ipv6Addr>()
    {
        return Some(Host::Ipv6(v6));
    }
    Host::parse(host).ok()
}

fn is_loopback(host: &Host<String>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(a) => a.is_loopback(),
        Host::Ipv6(a) => a.is_loopback(),
    }
}

/// Parses and checks an endpoint URL.
pub(crate) fn check_url(key: &str, text: &str) -> Result<Url> {
    let url = Url::parse(text.trim()).map_err(|e| config_err(key, format!("not a URL: {e}")))?;
    let Some(host) = url.host().map(|h| h.to_owned()) else {
        return Err(config_err(key, "has no host".into()));
    };
    if url.cannot_be_a_base() {
        return Err(config_err(key, "is not an http(s) URL".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(config_err(
            key,
            "carries a user name or password: secrets go in environment variables".into(),
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(config_err(
                key,
                "plain http is allowed only to a loopback address: use https".into(),
            ));
        }
        other => return Err(config_err(key, format!("scheme `{other}` is not http(s)"))),
    }
    if url.fragment().is_some() {
        return Err(config_err(key, "has a #fragment".into()));
    }
    Ok(url)
}

pub(crate) fn parse_mailbox(key: &str, text: &str) -> Result<lettre::message::Mailbox> {
    text.trim()
        .parse::<lettre::message::Mailbox>()
        .map_err(|e| {
            config_err(
                key,
                format!("`{}` is not an e-mail address: {e}", text.trim()),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(channels: Vec<ChannelConfig>) -> AlertsConfig {
        AlertsConfig {
            channels,
            ..AlertsConfig::default()
        }
    }

    fn hook(url: &str) -> ChannelConfig {
        ChannelConfig::Webhook(WebhookConfig {
            name: None,
            url: url.into(),
            secret_env: "S".into(),
            min_severity: Severity::Info,
            kinds: vec![],
        })
    }

    fn key_of(e: Error) -> String {
        match e {
            Error::Config { key, .. } => key,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn urls() {
        for ok in [
            "https://example.com/x?a=1",
            "http://127.0.0.1:8080/hook",
            "http://localhost/",
            "http://[::1]:9/",
        ] {
            assert!(check_url("k", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "https://example.com/#x",
            "not a url",
            "mailto:a@example.com",
        ] {
            assert!(check_url("k", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_unique() {
        let e = cfg(vec![hook("https://a.example/"), hook("https://b.example/")])
            .validate()
            .unwrap_err();
        assert_eq!(key_of(e), "alerts.channels[1].name");
        let e = cfg(vec![hook("http://a.example/")]).validate().unwrap_err();
        assert_eq!(key_of(e), "alerts.channels[0].url");
    }

    #[test]
    fn filters() {
        let f = Filter {
            min_severity: Severity::Warning,
            kinds: vec![AlertKind::Risk],
        };
        assert!(f.accepts(AlertKind::Risk, Severity::Critical));
        assert!(!f.accepts(AlertKind::Risk, Severity::Info));
        assert!(!f.accepts(AlertKind::Data, Severity::Critical));
        let all = Filter {
            min_severity: Severity::Info,
            kinds: vec![],
        };
        assert!(all.accepts(AlertKind::Performance, Severity::Info));
    }
}
