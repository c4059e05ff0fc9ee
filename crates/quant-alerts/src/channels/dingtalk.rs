//! `kind = "dingtalk"`: a DingTalk custom robot. POST
//! `{url}?access_token=…`, with `&timestamp=<Unix ms>&sign=<URL-encoded
//! base64 of HMAC-SHA256 under the secret over "{timestamp}\n{secret}">`
//! when the robot signs (加签); body
//! `{"msgtype":"markdown","markdown":{"title":…,"text":…}}` or
//! `{"msgtype":"text","text":{"content":…}}`. The reply's `errcode` is 0
//! on success; 130101 (sending too fast) and -1 (busy) are retryable,
//! other codes (310000 signature, keyword or IP refused, 300001 bad
//! token…) permanent.

use url::Url;

use crate::alert::Alert;
use crate::config::MessageFormat;
use crate::error::{Error, Result};
use crate::http::{ApiStatus, Http, int_field, str_field};
use crate::secret::Secret;
use crate::sign::dingtalk_sign;

/// Most bytes of message text sent (the API takes 20,000).
const MAX_TEXT: usize = 15_000;

/// A built DingTalk channel.
#[derive(Clone)]
pub(crate) struct DingTalk {
    pub(crate) http: Http,
    /// The endpoint, `access_token` included.
    pub(crate) url: Url,
    pub(crate) secret: Option<Secret>,
    pub(crate) format: MessageFormat,
}

impl DingTalk {
    /// The URL signed at `now_ms`.
    pub(crate) fn url(&self, now_ms: i64) -> Url {
        let mut url = self.url.clone();
        if let Some(secret) = &self.secret {
            url.query_pairs_mut()
                .append_pair("timestamp", &now_ms.to_string())
                .append_pair("sign", &dingtalk_sign(secret.expose(), now_ms));
        }
        url
    }

    /// The JSON body for `alert`.
    pub(crate) fn body(&self, alert: &Alert) -> serde_json::Value {
        match self.format {
            MessageFormat::Markdown => serde_json::json!({
                "msgtype": "markdown",
                "markdown": {"title": alert.headline(), "text": alert.markdown_within(MAX_TEXT)},
            }),
            MessageFormat::Text => serde_json::json!({
                "msgtype": "text",
                "text": {"content": alert.plain_text_within(MAX_TEXT)},
            }),
        }
    }

    pub(crate) async fn send(&self, alert: &Alert) -> Result<()> {
        let bytes = serde_json::to_vec(&self.body(alert)).map_err(|e| Error::Build {
            channel: self.http.channel().to_string(),
            detail: e.to_string(),
        })?;
        let url = self.url(chrono::Utc::now().timestamp_millis());
        let reply = self.http.post_json(url, bytes, &[]).await?;
        self.http.judge_api("dingtalk", &reply, read_status)
    }
}

/// `errcode`/`errmsg`.
fn read_status(v: &serde_json::Value) -> Option<ApiStatus> {
    let code = int_field(v, "errcode")?;
    Some(ApiStatus {
        code,
        msg: str_field(v, "errmsg"),
        retry_after: None,
        retryable: matches!(code, -1 | 130_101),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let ok = read_status(&serde_json::json!({"errcode": 0, "errmsg": "ok"}));
        assert!(ok.is_some_and(|s| s.code == 0));
        let fast = read_status(&serde_json::json!({"errcode": 130101, "errmsg": "send too fast"}));
        assert!(fast.is_some_and(|s| s.retryable));
        let sign = read_status(&serde_json::json!({"errcode": 310000, "errmsg": "sign not match"}));
        assert!(sign.is_some_and(|s| !s.retryable));
        assert!(read_status(&serde_json::json!({"code": 0})).is_none());
    }
}
