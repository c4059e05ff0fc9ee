//! Built channels: [`Channels::from_config`] reads each channel's secrets
//! from the environment and builds one [`Channel`] per
//! `[[alerts.channels]]` table, all HTTP channels sharing one
//! [`GuardedClient`] under the `[security]` policy; [`Sender`] is what the
//! journal's outbox sends through.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use quant_net::{ClientOptions, GuardedClient, NetPolicy};
use url::Url;

use crate::alert::Alert;
use crate::channels::dingtalk::DingTalk;
use crate::channels::email::Email;
use crate::channels::feishu::Feishu;
use crate::channels::telegram::Telegram;
use crate::channels::webhook::Webhook;
use crate::channels::wecom::WeCom;
use crate::config::{AlertsConfig, ChannelConfig, ChannelKind, Filter, check_url};
use crate::error::{Error, Result};
use crate::http::{Http, endpoint};
use crate::secret::{Redactor, Secret};

/// Something an alert can be sent through: a [`Channel`], or a fake of
/// one in the outbox's tests.
pub trait Sender {
    /// The channel's name (the outbox's key for per-channel delivery).
    fn name(&self) -> &str;

    /// Sends `alert` once (no retry: the outbox retries with backoff).
    ///
    /// # Errors
    /// An [`Error`] whose [`Error::is_retryable`] says whether to try
    /// again, and [`Error::retry_after`] how long to wait if the endpoint
    /// said.
    fn send(&self, alert: &Alert) -> impl Future<Output = Result<()>> + Send;
}

/// The transport of one channel.
#[derive(Clone)]
enum Inner {
    Webhook(Webhook),
    Email(Email),
    Feishu(Feishu),
    DingTalk(DingTalk),
    WeCom(WeCom),
    Telegram(Telegram),
}

/// One built channel: its name, filter and transport, its secrets
/// resolved. `Debug` shows the name, kind and `host[:port]` only.
#[derive(Clone)]
pub struct Channel {
    name: String,
    kind: ChannelKind,
    filter: Filter,
    endpoint: String,
    inner: Inner,
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("endpoint", &self.endpoint)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// The channel's name (`name`, or the kind).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kind.
    pub fn kind(&self) -> ChannelKind {
        self.kind
    }

    /// Which alerts it takes.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Whether `alert` goes to this channel (its severity and kind pass
    /// the filter).
    pub fn accepts(&self, alert: &Alert) -> bool {
        self.filter.accepts(alert.kind, alert.severity)
    }

    /// `host[:port]` connected to (never a path or query).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends `alert` once, whatever the filter says (see
    /// [`Channel::accepts`]).
    ///
    /// # Errors
    /// As [`Sender::send`].
    pub async fn send(&self, alert: &Alert) -> Result<()> {
        let result = match &self.inner {
            Inner::Webhook(c) => c.send(alert).await,
            Inner::Email(c) => c.send(alert).await,
            Inner::Feishu(c) => c.send(alert).await,
            Inner::DingTalk(c) => c.send(alert).await,
            Inner::WeCom(c) => c.send(alert).await,
            Inner::Telegram(c) => c.send(alert).await,
        };
        match &result {
            Ok(()) => tracing::debug!(
                channel = %self.name,
                event_id = %alert.event_id,
                "alert sent"
            ),
            Err(e) => tracing::warn!(
                channel = %self.name,
                event_id = %alert.event_id,
                retryable = e.is_retryable(),
                "alert not sent: {e}"
            ),
        }
        result
    }
}

impl Sender for Channel {
    fn name(&self) -> &str {
        Channel::name(self)
    }

    fn send(&self, alert: &Alert) -> impl Future<Output = Result<()>> + Send {
        Channel::send(self, alert)
    }
}

/// The outcome of one channel in [`Channels::send_all`].
#[derive(Debug)]
pub struct Delivery {
    /// The channel's name.
    pub channel: String,
    /// Sent, or why not.
    pub result: Result<()>,
}

/// Every configured channel, in configuration order.
#[derive(Clone, Debug, Default)]
pub struct Channels {
    channels: Vec<Channel>,
}

/// The secret named by `key = var`, read with `env`.
fn secret(env: &dyn Fn(&str) -> Option<String>, key: String, var: &str) -> Result<Secret> {
    match env(var) {
        Some(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
        _ => Err(Error::MissingSecret {
            key,
            var: var.to_string(),
        }),
    }
}

impl Channels {
    /// Builds every channel of `cfg` under `policy`, reading each secret
    /// with `env` (variable name → value; `std::env::var` in
    /// [`Channels::from_env`]). Building connects to nothing.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid setting
    /// ([`AlertsConfig::validate`]); [`Error::MissingSecret`] naming the
    /// key and the variable (never a value) when a variable is unset or
    /// empty; [`Error::Client`] when the HTTP client or a TLS setup cannot
    /// be built.
    pub fn from_config(
        cfg: &AlertsConfig,
        policy: &NetPolicy,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        cfg.validate()?;
        let timeout = Duration::from_secs(cfg.timeout_secs);
        let needs_http = cfg.channels.iter().any(|c| c.kind() != ChannelKind::Email);
        let client = if needs_http {
            let options = ClientOptions {
                timeout,
                max_redirects: 0,
                ..ClientOptions::default()
            };
            Some(
                GuardedClient::new(policy.clone(), &options)
                    .map_err(|e| Error::Client(e.to_string()))?,
            )
        } else {
            None
        };
        let mut channels = Vec::with_capacity(cfg.channels.len());
        for (i, ch) in cfg.channels.iter().enumerate() {
            let at = |field: &str| format!("alerts.channels[{i}].{field}");
            channels.push(build(ch, &at, client.as_ref(), policy, timeout, &env)?);
        }
        Ok(Self { channels })
    }

    /// [`Channels::from_config`] with secrets from the process
    /// environment.
    ///
    /// # Errors
    /// As [`Channels::from_config`].
    pub fn from_env(cfg: &AlertsConfig, policy: &NetPolicy) -> Result<Self> {
        Self::from_config(cfg, policy, |var| std::env::var(var).ok())
    }

    /// The channels, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Channel> {
        self.channels.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// No channel configured.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// The channel named `name`.
    pub fn get(&self, name: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.name == name)
    }

    /// The channels `alert` goes to.
    pub fn for_alert<'a>(&'a self, alert: &'a Alert) -> impl Iterator<Item = &'a Channel> + 'a {
        self.channels.iter().filter(move |c| c.accepts(alert))
    }

    /// Sends `alert` once to every channel that accepts it, all at once;
    /// one [`Delivery`] per such channel, in configuration order.
    pub async fn send_all(&self, alert: &Alert) -> Vec<Delivery> {
        let mut tasks = tokio::task::JoinSet::new();
        let mut names = Vec::new();
        for (i, ch) in self.for_alert(alert).enumerate() {
            names.push(ch.name.clone());
            let (ch, alert) = (ch.clone(), alert.clone());
            tasks.spawn(async move { (i, ch.send(&alert).await) });
        }
        let mut results: Vec<Option<Result<()>>> = names.iter().map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            if let Ok((i, r)) = joined
                && let Some(slot) = results.get_mut(i)
            {
                *slot = Some(r);
            }
        }
        names
            .into_iter()
            .zip(results)
            .map(|(channel, result)| {
                let result = result.unwrap_or_else(|| {
                    Err(Error::Build {
                        channel: channel.clone(),
                        detail: "the sending task ended abnormally".into(),
                    })
                });
                Delivery { channel, result }
            })
            .collect()
    }
}

/// One channel of the configuration.
fn build(
    ch: &ChannelConfig,
    at: &dyn Fn(&str) -> String,
    client: Option<&GuardedClient>,
    policy: &NetPolicy,
    timeout: Duration,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Channel> {
    let name = ch.name().to_string();
    let http_parts = |secrets: &[&Secret]| -> Result<(Url, Http)> {
        let url = check_url(&at("url"), ch.url().unwrap_or_default())?;
        let client = client.ok_or_else(|| Error::Client("no HTTP client".into()))?;
        let http = Http::new(
            client.clone(),
            &name,
            &url,
            Redactor::new(secrets.iter().copied()),
        );
        Ok((url, http))
    };
    let inner = match ch {
        ChannelConfig::Webhook(c) => {
            let secret = secret(env, at("secret_env"), &c.secret_env)?;
            let (url, http) = http_parts(&[&secret])?;
            Inner::Webhook(Webhook { http, url, secret })
        }
        ChannelConfig::Email(c) => {
            let credentials = match (&c.username_env, &c.password_env) {
                (Some(u), Some(p)) => Some((
                    secret(env, at("username_env"), u)?,
                    secret(env, at("password_env"), p)?,
                )),
                _ => None,
            };
            Inner::Email(Email::build(
                &name,
                at,
                c,
                credentials,
                policy.clone(),
                timeout,
            )?)
        }
        ChannelConfig::Feishu(c) => {
            let token = secret(env, at("token_env"), &c.token_env)?;
            let signing = match &c.secret_env {
                Some(var) => Some(secret(env, at("secret_env"), var)?),
                None => None,
            };
            let mut all = vec![&token];
            all.extend(signing.as_ref());
            let (mut url, http) = http_parts(&all)?;
            url.path_segments_mut()
                .map_err(|()| crate::config::config_err(&at("url"), "cannot take a path".into()))?
                .pop_if_empty()
                .push(token.expose());
            Inner::Feishu(Feishu {
                http,
                url,
                secret: signing,
            })
        }
        ChannelConfig::Dingtalk(c) => {
            let token = secret(env, at("token_env"), &c.token_env)?;
            let signing = match &c.secret_env {
                Some(var) => Some(secret(env, at("secret_env"), var)?),
                None => None,
            };
            let mut all = vec![&token];
            all.extend(signing.as_ref());
            let (mut url, http) = http_parts(&all)?;
            url.query_pairs_mut()
                .append_pair("access_token", token.expose());
            Inner::DingTalk(DingTalk {
                http,
                url,
                secret: signing,
                format: c.format,
            })
        }
        ChannelConfig::Wecom(c) => {
            let key = secret(env, at("token_env"), &c.token_env)?;
            let (mut url, http) = http_parts(&[&key])?;
            url.query_pairs_mut().append_pair("key", key.expose());
            Inner::WeCom(WeCom {
                http,
                url,
                format: c.format,
            })
        }
        ChannelConfig::Telegram(c) => {
            let token = secret(env, at("token_env"), &c.token_env)?;
            let (mut url, http) = http_parts(&[&token])?;
            url.path_segments_mut()
                .map_err(|()| crate::config::config_err(&at("url"), "cannot take a path".into()))?
                .pop_if_empty()
                .push(&format!("bot{}", token.expose()))
                .push("sendMessage");
            Inner::Telegram(Telegram {
                http,
                url,
                chat_id: c.chat_id.clone(),
                parse_mode: c.parse_mode,
            })
        }
    };
    let endpoint = match &inner {
        Inner::Email(e) => e.endpoint().to_string(),
        Inner::Webhook(Webhook { url, .. })
        | Inner::Feishu(Feishu { url, .. })
        | Inner::DingTalk(DingTalk { url, .. })
        | Inner::WeCom(WeCom { url, .. })
        | Inner::Telegram(Telegram { url, .. }) => endpoint(url),
    };
    Ok(Channel {
        name,
        kind: ch.kind(),
        filter: ch.filter(),
        endpoint,
        inner,
    })
}
