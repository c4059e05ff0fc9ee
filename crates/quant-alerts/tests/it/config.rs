//! `[alerts]` from TOML: every kind, defaults, refused keys, settings
//! errors naming the key, secrets missing from the environment.

use quant_alerts::{
    AlertKind, AlertsConfig, ChannelConfig, ChannelKind, Channels, ChatId, Error, MessageFormat,
    ParseMode, Severity, SmtpTls,
};
use quant_net::NetPolicy;

use crate::common::*;

const EVERY_KIND: &str = r#"
[alerts]
[[alerts.channels]]
kind = "webhook"
url = "https://ops.example.com/quant"
secret_env = "T_WEBHOOK_SECRET"
min_severity = "warning"

[[alerts.channels]]
kind = "email"
smtp_host = "smtp.example.com"
from = "alerts@example.com"
to = ["ops@example.com"]
username_env = "T_SMTP_USER"
password_env = "T_SMTP_PASSWORD"
kinds = ["risk", "system"]

[[alerts.channels]]
kind = "feishu"
token_env = "T_FEISHU_TOKEN"
secret_env = "T_FEISHU_SECRET"

[[alerts.channels]]
kind = "dingtalk"
token_env = "T_DINGTALK_TOKEN"
format = "text"

[[alerts.channels]]
kind = "wecom"
token_env = "T_WECOM_KEY"

[[alerts.channels]]
kind = "telegram"
name = "phone"
token_env = "T_TELEGRAM_TOKEN"
chat_id = "@quant_ops"
parse_mode = "HTML"
min_severity = "critical"
"#;

#[test]
fn every_kind_with_defaults() {
    let cfg = parse(EVERY_KIND);
    assert_eq!(cfg.timeout_secs, 10);
    let kinds: Vec<_> = cfg.channels.iter().map(ChannelConfig::kind).collect();
    assert_eq!(
        kinds,
        [
            ChannelKind::Webhook,
            ChannelKind::Email,
            ChannelKind::Feishu,
            ChannelKind::DingTalk,
            ChannelKind::WeCom,
            ChannelKind::Telegram
        ]
    );
    let names: Vec<_> = cfg.channels.iter().map(ChannelConfig::name).collect();
    assert_eq!(
        names,
        ["webhook", "email", "feishu", "dingtalk", "wecom", "phone"]
    );
    let urls: Vec<_> = cfg.channels.iter().map(ChannelConfig::url).collect();
    assert_eq!(
        urls,
        [
            Some("https://ops.example.com/quant"),
            None,
            Some("https://open.feishu.cn/open-apis/bot/v2/hook"),
            Some("https://oapi.dingtalk.com/robot/send"),
            Some("https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),
            Some("https://api.telegram.org"),
        ]
    );
    let hosts: Vec<_> = cfg
        .channels
        .iter()
        .filter_map(ChannelConfig::host)
        .collect();
    assert_eq!(
        hosts,
        [
            "ops.example.com",
            "smtp.example.com",
            "open.feishu.cn",
            "oapi.dingtalk.com",
            "qyapi.weixin.qq.com",
            "api.telegram.org"
        ]
    );
    match &cfg.channels[1] {
        ChannelConfig::Email(e) => {
            assert_eq!(e.tls, SmtpTls::Starttls);
            assert_eq!(e.port(), 587);
        }
        other => panic!("{other:?}"),
    }
    match &cfg.channels[3] {
        ChannelConfig::Dingtalk(d) => assert_eq!(d.format, MessageFormat::Text),
        other => panic!("{other:?}"),
    }
    match &cfg.channels[5] {
        ChannelConfig::Telegram(t) => {
            assert_eq!(t.chat_id, ChatId::Name("@quant_ops".into()));
            assert_eq!(t.parse_mode, Some(ParseMode::Html));
        }
        other => panic!("{other:?}"),
    }
    cfg.validate().unwrap();

    let channels = Channels::from_config(&cfg, &NetPolicy::open(), env()).unwrap();
    assert_eq!(channels.len(), 6);
    let phone = channels.get("phone").unwrap();
    assert_eq!(phone.endpoint(), "api.telegram.org");
    assert_eq!(
        channels.get("email").unwrap().endpoint(),
        "smtp.example.com:587"
    );

    // filters: the critical risk alert goes everywhere; an info data alert
    // only where nothing filters it out
    let names = |a: &quant_alerts::Alert| {
        channels
            .for_alert(a)
            .map(|c| c.name().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&alert()).len(), 6);
    let mut info = alert();
    info.severity = Severity::Info;
    info.kind = AlertKind::Data;
    assert_eq!(names(&info), ["feishu", "dingtalk", "wecom"]);
}

#[test]
fn the_serde_form_reads_back() {
    let cfg = parse(EVERY_KIND);
    let text = toml::to_string(&toml::Table::from_iter([(
        "alerts".to_string(),
        toml::Value::try_from(&cfg).unwrap(),
    )]))
    .unwrap();
    assert_eq!(parse(&text), cfg);
    assert_eq!(parse("[alerts]\n"), AlertsConfig::default());
}

fn parse_err(text: &str) -> String {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct File {
        alerts: AlertsConfig,
    }
    toml::from_str::<File>(text).unwrap_err().to_string()
}

#[test]
fn unknown_and_foreign_keys_are_refused() {
    let foreign = r#"
[alerts]
[[alerts.channels]]
kind = "webhook"
url = "https://ops.example.com/"
secret_env = "S"
chat_id = 1
"#;
    assert!(
        parse_err(foreign).contains("unknown field `chat_id`"),
        "{}",
        parse_err(foreign)
    );
    let typo = foreign.replace("chat_id = 1", "secret_evn = \"S\"");
    assert!(parse_err(&typo).contains("unknown field `secret_evn`"));
    let kind = foreign
        .replace("kind = \"webhook\"", "kind = \"pager\"")
        .replace("chat_id = 1\n", "");
    assert!(
        parse_err(&kind).contains("unknown variant `pager`"),
        "{}",
        parse_err(&kind)
    );
    let top = "[alerts]\nretries = 3\n";
    assert!(parse_err(top).contains("unknown field `retries`"));
    let missing = "[alerts]\n[[alerts.channels]]\nkind = \"telegram\"\ntoken_env = \"T\"\n";
    assert!(
        parse_err(missing).contains("missing field `chat_id`"),
        "{}",
        parse_err(missing)
    );
    // a secret itself where a variable name goes is no variable name
    let secret_in_file = foreign
        .replace("secret_env = \"S\"", "secret_env = \"whsec =abc\"")
        .replace("chat_id = 1\n", "");
    let e = parse(&secret_in_file).validate().unwrap_err();
    assert!(
        e.to_string().starts_with("alerts.channels[0].secret_env: "),
        "{e}"
    );
}

fn invalid(text: &str) -> String {
    match parse(text).validate() {
        Err(Error::Config { key, .. }) => key,
        other => panic!("{other:?}"),
    }
}

#[test]
fn settings_errors_name_the_key() {
    let head = "[alerts]\n[[alerts.channels]]\n";
    let tg = "kind = \"telegram\"\ntoken_env = \"T\"\nchat_id = 1\n";
    let mail = "kind = \"email\"\nsmtp_host = \"smtp.example.com\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]\n";
    let cases = [
        (
            "[alerts]\ntimeout_secs = 0\n".to_string(),
            "alerts.timeout_secs",
        ),
        (
            format!("{head}{tg}url = \"http://api.telegram.org\"\n"),
            "alerts.channels[0].url",
        ),
        (
            format!("{head}{tg}url = \"https://u:p@api.telegram.org\"\n"),
            "alerts.channels[0].url",
        ),
        (
            format!("{head}{tg}\n[[alerts.channels]]\n{tg}"),
            "alerts.channels[1].name",
        ),
        (
            format!("{head}{tg}name = \"\"\n"),
            "alerts.channels[0].name",
        ),
        (
            format!("{head}{}", tg.replace("chat_id = 1", "chat_id = \" \"")),
            "alerts.channels[0].chat_id",
        ),
        (
            format!("{head}{}", mail.replace("a@example.com", "not an address")),
            "alerts.channels[0].from",
        ),
        (
            format!("{head}{}", mail.replace("[\"b@example.com\"]", "[]")),
            "alerts.channels[0].to",
        ),
        (
            format!(
                "{head}{}",
                mail.replace("[\"b@example.com\"]", "[\"b@example.com\", \"@\"]")
            ),
            "alerts.channels[0].to[1]",
        ),
        (
            format!(
                "{head}{}",
                mail.replace("smtp.example.com", "smtp://smtp.example.com:25")
            ),
            "alerts.channels[0].smtp_host",
        ),
        (
            format!("{head}{mail}username_env = \"U\"\n"),
            "alerts.channels[0].password_env",
        ),
        (
            format!("{head}{mail}password_env = \"P\"\n"),
            "alerts.channels[0].username_env",
        ),
        (
            format!("{head}{mail}smtp_port = 0\n"),
            "alerts.channels[0].smtp_port",
        ),
    ];
    for (text, key) in cases {
        assert_eq!(invalid(&text), key, "{text}");
    }
}

#[test]
fn a_missing_secret_names_key_and_variable() {
    let text = EVERY_KIND.replace("T_TELEGRAM_TOKEN", "T_UNSET_TOKEN");
    let e = Channels::from_config(&parse(&text), &NetPolicy::open(), env()).unwrap_err();
    assert!(matches!(e, Error::MissingSecret { .. }));
    assert_eq!(
        e.to_string(),
        "alerts.channels[5].token_env: environment variable T_UNSET_TOKEN is not set or empty"
    );
    // blank is missing too
    let blank = |var: &str| (var == "T_WEBHOOK_SECRET").then(|| "  ".to_string());
    let e = Channels::from_config(&parse(EVERY_KIND), &NetPolicy::open(), blank).unwrap_err();
    assert_eq!(
        e.to_string(),
        "alerts.channels[0].secret_env: environment variable T_WEBHOOK_SECRET is not set or empty"
    );
    // from_env reads the process environment (this variable is never set)
    let e = Channels::from_env(&parse(&text), &NetPolicy::open()).unwrap_err();
    assert!(matches!(e, Error::MissingSecret { .. }));
}
