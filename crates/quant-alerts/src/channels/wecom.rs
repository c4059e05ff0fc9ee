//! `kind = "wecom"`: a WeCom (企业微信) group bot. POST `{url}?key=…`
//! with `{"msgtype":"markdown","markdown":{"content":…}}` (at most 4,096
//! bytes) or `{"msgtype":"text","text":{"content":…}}` (2,048 bytes).
//! The reply's `errcode` is 0 on success; 45009 (rate limit, 20 messages
//! a minute) and -1 (busy) are retryable, other codes (93000 bad key,
//! 40008 bad message…) permanent.

use url::Url;

use crate::alert::Alert;
use crate::config::MessageFormat;
use crate::error::{Error, Result};
use crate::http::{ApiStatus, Http, int_field, str_field};

/// Most bytes of Markdown content.
const MAX_MARKDOWN: usize = 4096;
/// Most bytes of text content.
const MAX_TEXT: usize = 2048;

/// A built WeCom channel.
#[derive(Clone)]
pub(crate) struct WeCom {
    pub(crate) http: Http,
    /// The endpoint, `key` included.
    pub(crate) url: Url,
    pub(crate) format: MessageFormat,
}

impl WeCom {
    /// The JSON body for `alert`.
    pub(crate) fn body(&self, alert: &Alert) -> serde_json::Value {
        match self.format {
            MessageFormat::Markdown => serde_json::json!({
                "msgtype": "markdown",
                "markdown": {"content": alert.markdown_within(MAX_MARKDOWN)},
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
        let reply = self.http.post_json(self.url.clone(), bytes, &[]).await?;
        self.http.judge_api("wecom", &reply, read_status)
    }
}

/// `errcode`/`errmsg`.
fn read_status(v: &serde_json::Value) -> Option<ApiStatus> {
    let code = int_field(v, "errcode")?;
    Some(ApiStatus {
        code,
        msg: str_field(v, "errmsg"),
        retry_after: None,
        retryable: matches!(code, -1 | 45_009),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let limit =
            read_status(&serde_json::json!({"errcode": 45009, "errmsg": "api freq out of limit"}));
        assert!(limit.is_some_and(|s| s.retryable));
        let key =
            read_status(&serde_json::json!({"errcode": 93000, "errmsg": "invalid webhook url"}));
        assert!(key.is_some_and(|s| !s.retryable && s.code == 93000));
    }
}
