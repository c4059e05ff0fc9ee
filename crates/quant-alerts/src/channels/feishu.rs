//! `kind = "feishu"`: a Feishu/Lark custom bot. POST
//! `{url}/{hook id}` with `{"msg_type":"text","content":{"text":…}}`,
//! plus `"timestamp":"<Unix seconds>"` and `"sign"` (base64 of
//! HMAC-SHA256 keyed by `"{timestamp}\n{secret}"` over an empty message)
//! when the bot checks signatures. The reply's `code` (or the older
//! `StatusCode`) is 0 on success; rate limits (11232, "too many
//! requests") are retryable, other codes (19021 bad signature, 19024
//! missing keyword, 9499 bad request…) permanent.

use url::Url;

use crate::alert::Alert;
use crate::error::{Error, Result};
use crate::http::{ApiStatus, Http, int_field, str_field};
use crate::secret::Secret;
use crate::sign::feishu_sign;

/// Most bytes of message text sent (the API takes request bodies up to
/// 20 KB).
const MAX_TEXT: usize = 15_000;

/// A built Feishu channel.
#[derive(Clone)]
pub(crate) struct Feishu {
    pub(crate) http: Http,
    /// The hook's URL (the id included).
    pub(crate) url: Url,
    pub(crate) secret: Option<Secret>,
}

impl Feishu {
    /// The JSON body for `alert` signed at `now_secs`.
    pub(crate) fn body(&self, alert: &Alert, now_secs: i64) -> serde_json::Value {
        let mut body = serde_json::json!({
            "msg_type": "text",
            "content": {"text": alert.plain_text_within(MAX_TEXT)},
        });
        if let (Some(secret), Some(obj)) = (&self.secret, body.as_object_mut()) {
            obj.insert("timestamp".into(), now_secs.to_string().into());
            obj.insert("sign".into(), feishu_sign(secret.expose(), now_secs).into());
        }
        body
    }

    pub(crate) async fn send(&self, alert: &Alert) -> Result<()> {
        let body = self.body(alert, chrono::Utc::now().timestamp());
        let bytes = serde_json::to_vec(&body).map_err(|e| Error::Build {
            channel: self.http.channel().to_string(),
            detail: e.to_string(),
        })?;
        let reply = self.http.post_json(self.url.clone(), bytes, &[]).await?;
        self.http.judge_api("feishu", &reply, read_status)
    }
}

/// `code`/`msg`, or the older `StatusCode`/`StatusMessage`.
fn read_status(v: &serde_json::Value) -> Option<ApiStatus> {
    let (code, msg) = match int_field(v, "code") {
        Some(c) => (c, str_field(v, "msg")),
        None => (int_field(v, "StatusCode")?, str_field(v, "StatusMessage")),
    };
    let lower = msg.to_lowercase();
    let retryable = code == 11232
        || lower.contains("too many request")
        || lower.contains("frequency limit")
        || lower.contains("rate limit");
    Some(ApiStatus {
        code,
        msg,
        retry_after: None,
        retryable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let ok = read_status(&serde_json::json!({"code": 0, "msg": "success", "data": {}}));
        assert_eq!(ok.map(|s| s.code), Some(0));
        let old = read_status(&serde_json::json!({"StatusCode": 0, "StatusMessage": "success"}));
        assert_eq!(old.map(|s| s.code), Some(0));
        let sign = read_status(&serde_json::json!({"code": 19021, "msg": "sign match fail"}));
        assert!(sign.is_some_and(|s| s.code == 19021 && !s.retryable));
        let limit = read_status(&serde_json::json!({"code": 11232, "msg": "frequency limited"}));
        assert!(limit.is_some_and(|s| s.retryable));
        assert!(read_status(&serde_json::json!({"ok": true})).is_none());
        assert!(read_status(&serde_json::json!([1])).is_none());
    }
}
