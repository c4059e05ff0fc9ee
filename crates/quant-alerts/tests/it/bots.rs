//! Feishu, DingTalk, WeCom and Telegram against fakes that emulate each
//! service: they check the path, the query, the JSON shape and the
//! signature (recomputed here) and answer as the service does, with its
//! error codes.

use std::time::Duration;

use quant_alerts::Error;
use serde_json::{Value, json};

use crate::common::*;

// ---------------------------------------------------------------- Feishu

fn feishu_service(c: &Captured) -> Reply {
    if c.path != format!("/open-apis/bot/v2/hook/{FEISHU_TOKEN}") {
        return json_reply(
            200,
            json!({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}),
        );
    }
    let Ok(v) = serde_json::from_slice::<Value>(&c.body) else {
        return json_reply(400, json!({"code": 9499, "msg": "Bad Request"}));
    };
    if v["msg_type"] != "text" || !v["content"]["text"].is_string() {
        return json_reply(400, json!({"code": 9499, "msg": "Bad Request"}));
    }
    let sign_fail = json_reply(
        200,
        json!({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}),
    );
    let Some(ts) = v["timestamp"].as_str().and_then(|t| t.parse::<i64>().ok()) else {
        return sign_fail;
    };
    let expected = b64(&hmac256(format!("{ts}\n{FEISHU_SECRET}").as_bytes(), b""));
    if (now_secs() - ts).abs() > 3600 || v["sign"] != expected.as_str() {
        return sign_fail;
    }
    json_reply(200, json!({"code": 0, "data": {}, "msg": "success"}))
}

fn feishu_config(base: &str, secret_var: &str) -> String {
    format!(
        r#"
[alerts]
[[alerts.channels]]
kind = "feishu"
url = "{base}/open-apis/bot/v2/hook"
token_env = "T_FEISHU_TOKEN"
secret_env = "{secret_var}"
"#
    )
}

#[tokio::test]
async fn feishu_signed_text() {
    let fake = FakeHttp::start(feishu_service).await;
    let ch = channel(&feishu_config(&fake.base(), "T_FEISHU_SECRET"));
    ch.send(&alert()).await.unwrap();
    let req = fake.only_request();
    assert_eq!(req.method, "POST");
    let v = req.json();
    let ts = v["timestamp"].as_str().unwrap().to_string();
    assert!((now_secs() - ts.parse::<i64>().unwrap()).abs() < 60);
    assert_eq!(
        v,
        json!({
            "timestamp": ts,
            "sign": b64(&hmac256(format!("{ts}\n{FEISHU_SECRET}").as_bytes(), b"")),
            "msg_type": "text",
            "content": {"text": alert().plain_text()},
        })
    );
    assert_eq!(
        alert().plain_text(),
        "[CRITICAL] risk: daily loss limit\n\nloss 3.2 % > limit 3 %\nbreaker tripped: new orders blocked\n\nlimit_pct: 3.0\nloss_pct: 3.2\n\nsession paper-main · 2025-12-04T01:30:00.123Z · event risk-2025-12-04-daily-loss"
    );
}

#[tokio::test]
async fn feishu_unsigned_and_failures() {
    let fake = FakeHttp::start(feishu_service).await;
    // a bot without signature checks: no timestamp, no sign
    let text = format!(
        r#"
[alerts]
[[alerts.channels]]
kind = "feishu"
url = "{}/open-apis/bot/v2/hook/"
token_env = "T_FEISHU_TOKEN"
"#,
        fake.base()
    );
    let unsigned = channel(&text);
    let e = unsigned.send(&alert()).await.unwrap_err();
    // this fake checks signatures, so it refuses: permanent
    assert!(
        matches!(
            e,
            Error::Rejected {
                code: 19021,
                service: "feishu",
                ..
            }
        ),
        "{e}"
    );
    assert!(!e.is_retryable());
    let v = fake.only_request().json();
    assert_eq!(
        v,
        json!({"msg_type": "text", "content": {"text": alert().plain_text()}})
    );

    // a wrong signing secret
    let wrong = channel(&feishu_config(&fake.base(), "T_WRONG_SECRET"));
    let e = wrong.send(&alert()).await.unwrap_err();
    assert!(matches!(e, Error::Rejected { code: 19021, .. }) && !e.is_retryable());

    let ch = channel(&feishu_config(&fake.base(), "T_FEISHU_SECRET"));
    // rate limited: retryable
    fake.answer(|_| json_reply(200, json!({"code": 11232, "msg": "frequency limited psm"})));
    assert!(ch.send(&alert()).await.unwrap_err().is_retryable());
    // bad request (HTTP 400 with the API's code): permanent
    fake.answer(|_| json_reply(400, json!({"code": 9499, "msg": "Bad Request"})));
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Rejected {
                code: 9499,
                status: 400,
                ..
            }
        ) && !e.is_retryable()
    );
    // a server error without JSON: retryable
    fake.answer(|_| (502, vec![], b"<html>bad gateway</html>".to_vec()));
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(matches!(e, Error::Status { status: 502, .. }) && e.is_retryable());
    // the older reply shape
    fake.answer(|_| json_reply(200, json!({"StatusCode": 0, "StatusMessage": "success"})));
    ch.send(&alert()).await.unwrap();
    // a 200 that is not the API: permanent
    fake.answer(|_| (200, vec![], b"<html>login</html>".to_vec()));
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(
        matches!(e, Error::BadReply { .. }) && !e.is_retryable(),
        "{e}"
    );
}

// -------------------------------------------------------------- DingTalk

fn dingtalk_service(c: &Captured) -> Reply {
    let p = c.params();
    if c.path != "/robot/send" || p.get("access_token").map(String::as_str) != Some(DINGTALK_TOKEN)
    {
        return json_reply(
            200,
            json!({"errcode": 300001, "errmsg": "token is not exist"}),
        );
    }
    let sign_fail = json_reply(
        200,
        json!({"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}),
    );
    let Some(ts) = p.get("timestamp").and_then(|t| t.parse::<i64>().ok()) else {
        return sign_fail;
    };
    let expected = b64(&hmac256(
        DINGTALK_SECRET.as_bytes(),
        format!("{ts}\n{DINGTALK_SECRET}").as_bytes(),
    ));
    if (now_secs() * 1000 - ts).abs() > 3_600_000 || p.get("sign") != Some(&expected) {
        return sign_fail;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&c.body) else {
        return json_reply(200, json!({"errcode": 40035, "errmsg": "缺少参数 json"}));
    };
    let ok = match v["msgtype"].as_str() {
        Some("markdown") => v["markdown"]["title"].is_string() && v["markdown"]["text"].is_string(),
        Some("text") => v["text"]["content"].is_string(),
        _ => false,
    };
    if !ok {
        return json_reply(200, json!({"errcode": 40035, "errmsg": "缺少参数 json"}));
    }
    json_reply(200, json!({"errcode": 0, "errmsg": "ok"}))
}

fn dingtalk_config(base: &str, secret_var: &str, format: &str) -> String {
    format!(
        r#"
[alerts]
[[alerts.channels]]
kind = "dingtalk"
name = "ops-dingtalk"
url = "{base}/robot/send"
token_env = "T_DINGTALK_TOKEN"
secret_env = "{secret_var}"
format = "{format}"
"#
    )
}

#[tokio::test]
async fn dingtalk_signed_markdown() {
    let fake = FakeHttp::start(dingtalk_service).await;
    let ch = channel(&dingtalk_config(
        &fake.base(),
        "T_DINGTALK_SECRET",
        "markdown",
    ));
    assert_eq!(ch.name(), "ops-dingtalk");
    ch.send(&alert()).await.unwrap();
    let req = fake.only_request();
    // the sign is URL-encoded in the raw query (its base64 has + / =)
    let raw = req.query.clone().unwrap();
    let raw_sign = raw
        .split('&')
        .find_map(|kv| kv.strip_prefix("sign="))
        .unwrap();
    assert!(!raw_sign.contains(['+', '/', '=']), "{raw}");
    let p = req.params();
    let ts: i64 = p["timestamp"].parse().unwrap();
    assert!((now_secs() * 1000 - ts).abs() < 60_000);
    assert_eq!(
        p["sign"],
        b64(&hmac256(
            DINGTALK_SECRET.as_bytes(),
            format!("{ts}\n{DINGTALK_SECRET}").as_bytes()
        ))
    );
    assert_eq!(
        req.json(),
        json!({
            "msgtype": "markdown",
            "markdown": {
                "title": "[CRITICAL] risk: daily loss limit",
                "text": "### [CRITICAL] risk: daily loss limit\n\nloss 3.2 % > limit 3 %  \nbreaker tripped: new orders blocked  \n\nlimit_pct: 3.0  \nloss_pct: 3.2\n\n> session paper-main · 2025-12-04T01:30:00.123Z · event risk-2025-12-04-daily-loss",
            },
        })
    );
}

#[tokio::test]
async fn dingtalk_text_and_failures() {
    let fake = FakeHttp::start(dingtalk_service).await;
    let ch = channel(&dingtalk_config(&fake.base(), "T_DINGTALK_SECRET", "text"));
    ch.send(&alert()).await.unwrap();
    assert_eq!(
        fake.only_request().json(),
        json!({"msgtype": "text", "text": {"content": alert().plain_text()}})
    );

    let wrong = channel(&dingtalk_config(&fake.base(), "T_WRONG_SECRET", "text"));
    let e = wrong.send(&alert()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Rejected {
                code: 310000,
                service: "dingtalk",
                ..
            }
        ),
        "{e}"
    );
    assert!(!e.is_retryable());

    fake.answer(|_| {
        json_reply(
            200,
            json!({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
        )
    });
    assert!(ch.send(&alert()).await.unwrap_err().is_retryable());
    fake.answer(|_| json_reply(200, json!({"errcode": -1, "errmsg": "系统繁忙"})));
    assert!(ch.send(&alert()).await.unwrap_err().is_retryable());
    fake.answer(|_| (500, vec![], Vec::new()));
    assert!(ch.send(&alert()).await.unwrap_err().is_retryable());
    fake.answer(|_| (403, vec![], Vec::new()));
    assert!(!ch.send(&alert()).await.unwrap_err().is_retryable());
}

// ----------------------------------------------------------------- WeCom

fn wecom_service(c: &Captured) -> Reply {
    if c.path != "/cgi-bin/webhook/send"
        || c.params().get("key").map(String::as_str) != Some(WECOM_KEY)
    {
        return json_reply(
            200,
            json!({"errcode": 93000, "errmsg": "invalid webhook url, hint: [1733300000_1_abc]"}),
        );
    }
    let v: Value = serde_json::from_slice(&c.body).unwrap_or(Value::Null);
    let ok = match v["msgtype"].as_str() {
        Some("markdown") => v["markdown"]["content"]
            .as_str()
            .is_some_and(|s| s.len() <= 4096),
        Some("text") => v["text"]["content"]
            .as_str()
            .is_some_and(|s| s.len() <= 2048),
        _ => false,
    };
    if !ok {
        return json_reply(
            200,
            json!({"errcode": 40008, "errmsg": "invalid message type"}),
        );
    }
    json_reply(200, json!({"errcode": 0, "errmsg": "ok"}))
}

fn wecom_config(base: &str, key_var: &str, format: &str) -> String {
    format!(
        r#"
[alerts]
[[alerts.channels]]
kind = "wecom"
url = "{base}/cgi-bin/webhook/send"
token_env = "{key_var}"
format = "{format}"
"#
    )
}

#[tokio::test]
async fn wecom_markdown_with_key() {
    let fake = FakeHttp::start(wecom_service).await;
    let ch = channel(&wecom_config(&fake.base(), "T_WECOM_KEY", "markdown"));
    ch.send(&alert()).await.unwrap();
    let req = fake.only_request();
    assert_eq!(req.params()["key"], WECOM_KEY);
    assert_eq!(
        req.json(),
        json!({"msgtype": "markdown", "markdown": {"content": alert().markdown_within(4096)}})
    );
    // a long body is cut to the 4,096-byte limit, headline and footer kept
    let mut long = alert();
    long.body = "亏损".repeat(3000);
    ch.send(&long).await.unwrap();
    let content = fake.requests()[1].json()["markdown"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        content.len() <= 4096
            && content.starts_with("### [CRITICAL]")
            && content.ends_with("daily-loss")
    );
}

#[tokio::test]
async fn wecom_text_and_failures() {
    let fake = FakeHttp::start(wecom_service).await;
    channel(&wecom_config(&fake.base(), "T_WECOM_KEY", "text"))
        .send(&alert())
        .await
        .unwrap();
    assert_eq!(
        fake.only_request().json(),
        json!({"msgtype": "text", "text": {"content": alert().plain_text()}})
    );
    let wrong = channel(&wecom_config(&fake.base(), "T_WRONG_SECRET", "text"));
    let e = wrong.send(&alert()).await.unwrap_err();
    assert!(
        matches!(e, Error::Rejected { code: 93000, .. }) && !e.is_retryable(),
        "{e}"
    );
    let ch = channel(&wecom_config(&fake.base(), "T_WECOM_KEY", "markdown"));
    fake.answer(|_| {
        json_reply(
            200,
            json!({"errcode": 45009, "errmsg": "api freq out of limit"}),
        )
    });
    assert!(ch.send(&alert()).await.unwrap_err().is_retryable());
}

// -------------------------------------------------------------- Telegram

fn telegram_service(c: &Captured) -> Reply {
    if c.path != format!("/bot{TELEGRAM_TOKEN}/sendMessage") {
        return json_reply(
            401,
            json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
        );
    }
    let v: Value = serde_json::from_slice(&c.body).unwrap_or(Value::Null);
    if v["chat_id"] != json!(-1001234567890_i64) {
        return json_reply(
            400,
            json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
        );
    }
    if !v["text"]
        .as_str()
        .is_some_and(|t| !t.is_empty() && t.chars().count() <= 4096)
    {
        return json_reply(
            400,
            json!({"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"}),
        );
    }
    json_reply(
        200,
        json!({"ok": true, "result": {"message_id": 7, "chat": {"id": -1001234567890_i64}}}),
    )
}

fn telegram_config(base: &str, token_var: &str, extra: &str) -> String {
    format!(
        r#"
[alerts]
[[alerts.channels]]
kind = "telegram"
url = "{base}"
token_env = "{token_var}"
chat_id = -1001234567890
{extra}
"#
    )
}

#[tokio::test]
async fn telegram_send_message() {
    let fake = FakeHttp::start(telegram_service).await;
    let ch = channel(&telegram_config(&fake.base(), "T_TELEGRAM_TOKEN", ""));
    ch.send(&alert()).await.unwrap();
    assert_eq!(
        fake.only_request().json(),
        json!({"chat_id": -1001234567890_i64, "text": alert().plain_text()})
    );

    let html = channel(&telegram_config(
        &fake.base(),
        "T_TELEGRAM_TOKEN",
        "parse_mode = \"HTML\"",
    ));
    let mut a = alert();
    a.body = "loss > limit & <b>not bold</b>".into();
    a.details = None;
    html.send(&a).await.unwrap();
    assert_eq!(
        fake.requests()[1].json(),
        json!({
            "chat_id": -1001234567890_i64,
            "parse_mode": "HTML",
            "text": "<b>[CRITICAL] risk: daily loss limit</b>\n\nloss &gt; limit &amp; &lt;b&gt;not bold&lt;/b&gt;\n\n<i>session paper-main · 2025-12-04T01:30:00.123Z · event risk-2025-12-04-daily-loss</i>",
        })
    );

    // a long body is cut to fit the 4,096-character limit
    let mut long = alert();
    long.body = "x".repeat(10_000);
    ch.send(&long).await.unwrap();
}

#[tokio::test]
async fn telegram_failures() {
    let fake = FakeHttp::start(|_| {
        json_reply(
            429,
            json!({"ok": false, "error_code": 429,
                   "description": "Too Many Requests: retry after 5",
                   "parameters": {"retry_after": 5}}),
        )
    })
    .await;
    let ch = channel(&telegram_config(&fake.base(), "T_TELEGRAM_TOKEN", ""));
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Rejected {
                code: 429,
                status: 429,
                service: "telegram",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(5)));
    assert!(e.to_string().contains("retry after 5 s"), "{e}");

    fake.answer(telegram_service);
    let wrong_chat = channel(
        &telegram_config(&fake.base(), "T_TELEGRAM_TOKEN", "")
            .replace("-1001234567890", "\"@nosuchchannel\""),
    );
    let e = wrong_chat.send(&alert()).await.unwrap_err();
    assert!(
        matches!(e, Error::Rejected { code: 400, .. }) && !e.is_retryable(),
        "{e}"
    );
    assert!(e.to_string().contains("chat not found"));

    let wrong_token = channel(&telegram_config(&fake.base(), "T_WRONG_SECRET", ""));
    let e = wrong_token.send(&alert()).await.unwrap_err();
    assert!(
        matches!(e, Error::Rejected { code: 401, .. }) && !e.is_retryable(),
        "{e}"
    );

    fake.answer(|_| (502, vec![], b"Bad Gateway".to_vec()));
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(matches!(e, Error::Status { status: 502, .. }) && e.is_retryable());

    fake.answer(|_| {
        json_reply(
            400,
            json!({"ok": false, "error_code": 400,
                   "description": "Bad Request: group chat was upgraded to a supergroup chat",
                   "parameters": {"migrate_to_chat_id": -1009876543210_i64}}),
        )
    });
    let e = ch.send(&alert()).await.unwrap_err();
    assert!(
        !e.is_retryable() && e.to_string().contains("chat_id = -1009876543210"),
        "{e}"
    );
}

// ------------------------------------------------------------ every bot

/// Odd replies never panic: a failing HTTP status stays retryable or not
/// by its status, a 2xx that is not the API is permanent.
#[tokio::test]
async fn odd_replies_never_panic() {
    let fake = FakeHttp::start(|_| (200, vec![], Vec::new())).await;
    let base = fake.base();
    let all = channels(&format!(
        r#"
[alerts]
timeout_secs = 5
[[alerts.channels]]
kind = "feishu"
url = "{base}/open-apis/bot/v2/hook"
token_env = "T_FEISHU_TOKEN"
[[alerts.channels]]
kind = "dingtalk"
url = "{base}/robot/send"
token_env = "T_DINGTALK_TOKEN"
[[alerts.channels]]
kind = "wecom"
url = "{base}/cgi-bin/webhook/send"
token_env = "T_WECOM_KEY"
[[alerts.channels]]
kind = "telegram"
url = "{base}"
token_env = "T_TELEGRAM_TOKEN"
chat_id = "@ops"
[[alerts.channels]]
kind = "webhook"
url = "{base}/hook"
secret_env = "T_WEBHOOK_SECRET"
"#
    ));
    let bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"{}".to_vec(),
        br#"{"code":"abc","errcode":[1],"ok":null}"#.to_vec(),
        br#"{"code":1e400,"errcode":99999999999999999999999,"ok":false,"parameters":{"retry_after":-3}}"#.to_vec(),
        br#"{"ok":false,"error_code":429,"parameters":{"retry_after":99999999999}}"#.to_vec(),
        vec![0xff, 0xfe, 0x00, b'{'],
        vec![b'x'; 1 << 20],
        "{\"errmsg\":\"每".as_bytes().to_vec(),
    ];
    for status in [200, 204, 301, 400, 418, 429, 500, 503] {
        for body in &bodies {
            let body = body.clone();
            fake.answer(move |_| (status, vec![], body.clone()));
            for d in all.send_all(&alert()).await {
                match d.result {
                    Ok(()) => assert!(
                        d.channel == "webhook" && (200..300).contains(&status),
                        "{} took HTTP {status}",
                        d.channel
                    ),
                    Err(e) => {
                        let text = e.to_string();
                        assert!(text.chars().count() < 1000, "{text}");
                        if status >= 500 {
                            assert!(e.is_retryable(), "{} {status}: {e}", d.channel);
                        }
                        if let Some(after) = e.retry_after() {
                            assert!(after <= Duration::from_secs(86_400));
                        }
                    }
                }
            }
        }
    }
}
