//! `kind = "webhook"`: the alert as JSON (its serde form: `event_id`,
//! `kind`, `severity`, `title`, `body`, `time_ns`, `session`, `details`),
//! POSTed with `X-Quant-Signature: sha256=<hex HMAC-SHA256 of the raw
//! body>` and `X-Quant-Event-Id: <event_id>`. Any 2xx is delivered.

use url::Url;

use crate::alert::Alert;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::Secret;
use crate::sign::{EVENT_ID_HEADER, SIGNATURE_HEADER, webhook_signature};

/// Request headers: name and value.
type Headers = Vec<(&'static str, String)>;

/// A built webhook channel.
#[derive(Clone)]
pub(crate) struct Webhook {
    pub(crate) http: Http,
    pub(crate) url: Url,
    pub(crate) secret: Secret,
}

impl Webhook {
    /// The body and headers sent for `alert`.
    pub(crate) fn request(&self, alert: &Alert) -> Result<(Vec<u8>, Headers)> {
        let body = serde_json::to_vec(alert).map_err(|e| Error::Build {
            channel: self.http.channel().to_string(),
            detail: e.to_string(),
        })?;
        let sig = webhook_signature(self.secret.expose().as_bytes(), &body);
        Ok((
            body,
            vec![
                (SIGNATURE_HEADER, sig),
                (EVENT_ID_HEADER, alert.event_id.clone()),
            ],
        ))
    }

    pub(crate) async fn send(&self, alert: &Alert) -> Result<()> {
        let (body, headers) = self.request(alert)?;
        let reply = self
            .http
            .post_json(self.url.clone(), body, &headers)
            .await?;
        self.http.expect_success(&reply)
    }
}
