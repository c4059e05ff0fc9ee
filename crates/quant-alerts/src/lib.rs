//! The sending side of paper and live trading alerts.
//!
//! An [`Alert`] (a risk limit breached, a system error, a data problem, a
//! strategy anomaly, performance drifting from the backtest) goes to the
//! channels of `[[alerts.channels]]` ([`config`]), each speaking its
//! service's real format and signing:
//!
//! | kind | request | signature | success |
//! |---|---|---|---|
//! | `webhook` | POST the alert as JSON | `X-Quant-Signature: sha256=<hex HMAC-SHA256 of the body>`, `X-Quant-Event-Id` | 2xx |
//! | `email` | SMTP (STARTTLS, TLS or none) | — | 250 |
//! | `feishu` | POST `{url}/{hook}` `{"msg_type":"text",…}` | `timestamp` + `sign` in the body | `code` 0 |
//! | `dingtalk` | POST `{url}?access_token=…` markdown or text | `&timestamp=<ms>&sign=…` | `errcode` 0 |
//! | `wecom` | POST `{url}?key=…` markdown or text | (the key) | `errcode` 0 |
//! | `telegram` | POST `{url}/bot<token>/sendMessage` | (the token) | `ok` true |
//!
//! [`Channels::from_config`] reads the secrets from the environment by the
//! variable names the configuration gives (`secret_env`, `token_env`,
//! `username_env`, `password_env`); every HTTP request goes through
//! `quant-net`'s [`quant_net::GuardedClient`] and every SMTP connection is
//! checked with [`quant_net::NetPolicy::check_host`] first, so an
//! air-gapped session reaches only `[security] allow_hosts`.
//!
//! A send is one try: the journal's outbox retries, and each [`Error`]
//! says whether that is worth it ([`Error::is_retryable`]: network
//! failures, 408/429/5xx, rate limits, SMTP 4xx) and how long the
//! endpoint asked to wait ([`Error::retry_after`], e.g. Telegram's
//! `retry_after`).
//!
//! **Secrets** never appear in `Debug` output, logs or errors: the
//! configuration holds variable names only, [`Channel`]'s `Debug` shows
//! `host[:port]`, and every outside text in an error has each secret
//! replaced by `***`.
//!
//! Receivers of the webhook check the signature with
//! [`verify_webhook_signature`] (constant-time) and drop repeats by
//! `X-Quant-Event-Id` (a resent alert keeps its id):
//!
//! ```
//! use quant_alerts::{verify_webhook_signature, webhook_signature};
//!
//! let body = br#"{"event_id":"ev-1","kind":"risk"}"#;
//! let header = webhook_signature(b"s3cret", body); // what the sender puts in X-Quant-Signature
//! assert!(verify_webhook_signature(b"s3cret", body, &header));
//! assert!(!verify_webhook_signature(b"s3cret", b"tampered", &header));
//! ```

pub mod alert;
pub mod channel;
mod channels;
pub mod config;
pub mod error;
mod http;
mod secret;
pub mod sign;

pub use alert::{Alert, AlertKind, Severity};
pub use channel::{Channel, Channels, Delivery, Sender};
pub use config::{
    AlertsConfig, ChannelConfig, ChannelKind, ChatId, DingTalkConfig, EmailConfig, FeishuConfig,
    Filter, MessageFormat, ParseMode, SmtpTls, TelegramConfig, WeComConfig, WebhookConfig,
};
pub use error::{Error, Result};
pub use sign::{
    EVENT_ID_HEADER, SIGNATURE_HEADER, dingtalk_sign, feishu_sign, verify_webhook_signature,
    webhook_signature,
};
