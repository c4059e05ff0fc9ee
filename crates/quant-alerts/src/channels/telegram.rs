//! `kind = "telegram"`: a Telegram bot's `sendMessage`. POST
//! `{url}/bot<token>/sendMessage` with `{"chat_id":…,"text":…}` (and
//! `"parse_mode":"HTML"` when set: headline bold, footer italic, the rest
//! escaped); text cut to 4,000 characters (the API takes 4,096). The
//! reply is `{"ok":true,…}`, or `{"ok":false,"error_code":…,
//! "description":…}`: 429 carries `parameters.retry_after` (retryable, as
//! are 5xx); 400 (bad chat), 401 (bad token), 403 (bot removed) are
//! permanent — a group that became a supergroup says its new id in
//! `parameters.migrate_to_chat_id`, shown in the error.

use url::Url;

use crate::alert::{Alert, clip_chars, compose_plain};
use crate::config::{ChatId, ParseMode};
use crate::error::{Error, Result};
use crate::http::{ApiStatus, Http, int_field, seconds_field, str_field};

/// Most characters of message text.
const MAX_CHARS: usize = 4000;

/// A built Telegram channel.
#[derive(Clone)]
pub(crate) struct Telegram {
    pub(crate) http: Http,
    /// `…/bot<token>/sendMessage`.
    pub(crate) url: Url,
    pub(crate) chat_id: ChatId,
    pub(crate) parse_mode: Option<ParseMode>,
}

/// `text` with `&`, `<` and `>` escaped for Telegram's HTML.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Telegram {
    /// The message text of `alert`.
    pub(crate) fn text(&self, alert: &Alert) -> String {
        let (headline, footer) = (alert.headline(), alert.footer());
        let room = MAX_CHARS.saturating_sub(headline.chars().count() + footer.chars().count() + 4);
        let body = clip_chars(&alert.body_text(), room);
        match self.parse_mode {
            None => compose_plain(&headline, &body, &footer),
            Some(ParseMode::Html) => compose_plain(
                &format!("<b>{}</b>", escape_html(&headline)),
                &escape_html(&body),
                &format!("<i>{}</i>", escape_html(&footer)),
            ),
        }
    }

    /// The JSON body for `alert`.
    pub(crate) fn body(&self, alert: &Alert) -> serde_json::Value {
        let mut body = serde_json::json!({"chat_id": self.chat_id, "text": self.text(alert)});
        if let (Some(ParseMode::Html), Some(obj)) = (self.parse_mode, body.as_object_mut()) {
            obj.insert("parse_mode".into(), "HTML".into());
        }
        body
    }

    pub(crate) async fn send(&self, alert: &Alert) -> Result<()> {
        let bytes = serde_json::to_vec(&self.body(alert)).map_err(|e| Error::Build {
            channel: self.http.channel().to_string(),
            detail: e.to_string(),
        })?;
        let reply = self.http.post_json(self.url.clone(), bytes, &[]).await?;
        self.http.judge_api("telegram", &reply, read_status)
    }
}

/// `ok`, or `error_code`/`description`/`parameters`.
fn read_status(v: &serde_json::Value) -> Option<ApiStatus> {
    match v.get("ok")?.as_bool()? {
        true => Some(ApiStatus {
            code: 0,
            msg: String::new(),
            retry_after: None,
            retryable: false,
        }),
        false => {
            // a failure without a code is still a failure
            let code = int_field(v, "error_code").filter(|c| *c != 0).unwrap_or(-1);
            let params = v.get("parameters");
            let retry_after = params.and_then(|p| seconds_field(p, "retry_after"));
            let mut msg = str_field(v, "description");
            if let Some(to) = params.and_then(|p| int_field(p, "migrate_to_chat_id")) {
                msg.push_str(&format!(
                    " (the group is now a supergroup: set chat_id = {to})"
                ));
            }
            Some(ApiStatus {
                code,
                msg,
                retry_after,
                retryable: code == 429 || (500..600).contains(&code) || retry_after.is_some(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let ok = read_status(&serde_json::json!({"ok": true, "result": {}}));
        assert!(ok.is_some_and(|s| s.code == 0));
        let limit = read_status(&serde_json::json!({
            "ok": false, "error_code": 429,
            "description": "Too Many Requests: retry after 5",
            "parameters": {"retry_after": 5},
        }));
        assert!(limit.is_some_and(
            |s| s.retryable && s.retry_after == Some(std::time::Duration::from_secs(5))
        ));
        let moved = read_status(&serde_json::json!({
            "ok": false, "error_code": 400, "description": "Bad Request: group chat was upgraded",
            "parameters": {"migrate_to_chat_id": -1001},
        }));
        assert!(moved.is_some_and(|s| !s.retryable && s.msg.contains("chat_id = -1001")));
        let bare = read_status(&serde_json::json!({"ok": false}));
        assert!(bare.is_some_and(|s| s.code == -1));
        assert!(read_status(&serde_json::json!({"ok": "yes"})).is_none());
        assert_eq!(escape_html("a<b>&c"), "a&lt;b&gt;&amp;c");
    }
}
