//! `kind = "email"`: a plain-text e-mail over SMTP (lettre on tokio,
//! rustls on ring): `Subject` the alert's headline, the body its plain
//! text (base64, UTF-8), `Message-ID: <event_id@quant-alerts>` and
//! `X-Quant-Event-Id`. The relay's host is checked against the
//! air-gapped policy (`quant_net::NetPolicy::check_host`) before every
//! connection. SMTP 5xx replies (a refused recipient, failed
//! authentication) are permanent; 4xx replies, lost connections and
//! timeouts retryable.

use std::time::Duration;

use lettre::message::header::{
    ContentTransferEncoding, ContentType, HeaderName, HeaderValue, MIME_VERSION_1_0,
};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use quant_net::NetPolicy;

use crate::alert::Alert;
use crate::config::{EmailConfig, SmtpTls};
use crate::error::{Error, Result};
use crate::secret::{Redactor, Secret};
use crate::sign::EVENT_ID_HEADER;

/// A built e-mail channel.
#[derive(Clone)]
pub(crate) struct Email {
    channel: String,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The relay as configured (checked against the policy).
    host: String,
    /// `host:port`.
    endpoint: String,
    from: Mailbox,
    to: Vec<Mailbox>,
    policy: NetPolicy,
    redactor: Redactor,
    timeout: Duration,
}

/// `text` on one line (control characters as spaces).
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` reduced to what a Message-ID's left part may hold.
fn id_part(text: &str) -> String {
    let id: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let id = id.trim_matches('.').to_string();
    if id.is_empty() { "alert".into() } else { id }
}

/// `e`'s message and its causes.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        cause = c.source();
    }
    text
}

impl Email {
    /// The channel `channel` of `cfg` (already validated), with its
    /// credentials, under `policy`.
    ///
    /// # Errors
    /// [`Error::Config`] for an address that does not parse;
    /// [`Error::Client`] when the TLS setup fails.
    pub(crate) fn build(
        channel: &str,
        key: &dyn Fn(&str) -> String,
        cfg: &EmailConfig,
        credentials: Option<(Secret, Secret)>,
        policy: NetPolicy,
        timeout: Duration,
    ) -> Result<Self> {
        let host = cfg.smtp_host.trim();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let builder = match cfg.tls {
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
            SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                host,
            )),
        }
        .map_err(|e| Error::Client(format!("smtp {host}: {}", describe(&e))))?;
        let mut builder = builder.port(cfg.port()).timeout(Some(timeout));
        let mut redactor_secrets = Vec::new();
        if let Some((user, pass)) = credentials {
            builder = builder.credentials(Credentials::new(
                user.expose().to_string(),
                pass.expose().to_string(),
            ));
            redactor_secrets.push(pass);
        }
        let from = crate::config::parse_mailbox(&key("from"), &cfg.from)?;
        let to = cfg
            .to
            .iter()
            .enumerate()
            .map(|(j, t)| crate::config::parse_mailbox(&key(&format!("to[{j}]")), t))
            .collect::<Result<Vec<_>>>()?;
        let endpoint = if host.contains(':') {
            format!("[{host}]:{}", cfg.port())
        } else {
            format!("{host}:{}", cfg.port())
        };
        Ok(Self {
            channel: channel.to_string(),
            transport: builder.build(),
            host: host.to_string(),
            endpoint,
            from,
            to,
            policy,
            redactor: Redactor::new(&redactor_secrets),
            timeout,
        })
    }

    /// `host:port` of the relay.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The e-mail of `alert`.
    pub(crate) fn message(&self, alert: &Alert) -> Result<Message> {
        let build_err = |detail: String| Error::Build {
            channel: self.channel.clone(),
            detail,
        };
        let mut b = Message::builder().from(self.from.clone());
        for to in &self.to {
            b = b.to(to.clone());
        }
        let body = Body::new_with_encoding(alert.plain_text(), ContentTransferEncoding::Base64)
            .map_err(|_| build_err("the body cannot be encoded".into()))?;
        b.subject(one_line(&alert.headline()))
            .message_id(Some(format!("<{}@quant-alerts>", id_part(&alert.event_id))))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(EVENT_ID_HEADER),
                one_line(&alert.event_id),
            ))
            .header(MIME_VERSION_1_0)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| build_err(e.to_string()))
    }

    pub(crate) async fn send(&self, alert: &Alert) -> Result<()> {
        self.policy
            .check_host(&self.host)
            .map_err(|blocked| Error::Blocked {
                channel: self.channel.clone(),
                blocked,
            })?;
        let message = self.message(alert)?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.smtp_error(&e)),
            Err(_) => Err(Error::Smtp {
                channel: self.channel.clone(),
                host: self.endpoint.clone(),
                code: None,
                detail: format!("timed out after {} s", self.timeout.as_secs()),
                retryable: true,
            }),
        }
    }

    fn smtp_error(&self, e: &lettre::transport::smtp::Error) -> Error {
        Error::Smtp {
            channel: self.channel.clone(),
            host: self.endpoint.clone(),
            code: e.status().and_then(|c| c.to_string().parse().ok()),
            detail: self.redactor.clean(&describe(e)),
            retryable: !(e.is_permanent() || e.is_client()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parts() {
        assert_eq!(one_line("a\r\nb"), "a  b");
        assert_eq!(id_part("risk:2025-12-04 #1"), "risk-2025-12-04-#1");
        assert_eq!(id_part("..."), "alert");
    }
}
