//! E-mail against a minimal fake SMTP server (no TLS: `tls = "none"` to
//! 127.0.0.1) that speaks enough SMTP — 220 greeting, EHLO/HELO 250,
//! AUTH PLAIN 235/535, MAIL/RCPT 250 (or a configured refusal), DATA 354,
//! the ending `.` 250, QUIT 221 — and records each session.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use quant_alerts::Error;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::common::*;

/// What one SMTP session carried.
#[derive(Debug, Clone, Default)]
struct Session {
    ehlo: String,
    auth: Option<(String, String)>,
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
    quit: bool,
}

struct FakeSmtp {
    port: u16,
    accepted: Arc<AtomicUsize>,
    sessions: Arc<Mutex<Vec<Session>>>,
}

/// How the fake answers.
#[derive(Clone)]
struct Script {
    /// The reply to every RCPT.
    rcpt: &'static str,
    /// The user and password AUTH must carry.
    credentials: Option<(&'static str, &'static str)>,
    /// The reply to a wrong AUTH.
    auth_fail: &'static str,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            rcpt: "250 2.1.5 ok",
            credentials: None,
            auth_fail: "535 5.7.8 authentication failed",
        }
    }
}

async fn fake_smtp(script: Script) -> FakeSmtp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let sessions: Arc<Mutex<Vec<Session>>> = Arc::default();
    let (n, all) = (accepted.clone(), sessions.clone());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            n.fetch_add(1, Ordering::SeqCst);
            let (script, all) = (script.clone(), all.clone());
            tokio::spawn(async move {
                let s = serve(sock, &script).await;
                all.lock().unwrap().push(s);
            });
        }
    });
    FakeSmtp {
        port,
        accepted,
        sessions,
    }
}

async fn send(w: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) {
    let _ = w.write_all(format!("{text}\r\n").as_bytes()).await;
}

async fn serve(sock: tokio::net::TcpStream, script: &Script) -> Session {
    let (read, mut write) = sock.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut s = Session::default();
    send(&mut write, "220 fake.test ESMTP ready").await;
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO ") {
            s.ehlo = line[5..].to_string();
            let auth = if script.credentials.is_some() {
                "250-AUTH PLAIN\r\n"
            } else {
                ""
            };
            let _ = write
                .write_all(format!("250-fake.test\r\n{auth}250 8BITMIME\r\n").as_bytes())
                .await;
        } else if upper.starts_with("HELO ") {
            send(&mut write, "250 fake.test").await;
        } else if upper.starts_with("AUTH PLAIN ") {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(line[11..].trim())
                .unwrap_or_default();
            let parts: Vec<String> = raw
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            let got = (
                parts.get(1).cloned().unwrap_or_default(),
                parts.get(2).cloned().unwrap_or_default(),
            );
            let ok = script
                .credentials
                .is_some_and(|(u, p)| got.0 == u && got.1 == p);
            s.auth = Some(got);
            send(
                &mut write,
                if ok {
                    "235 2.7.0 authentication successful"
                } else {
                    script.auth_fail
                },
            )
            .await;
        } else if upper.starts_with("MAIL FROM:") {
            s.mail_from = line[10..].trim().to_string();
            send(&mut write, "250 2.1.0 ok").await;
        } else if upper.starts_with("RCPT TO:") {
            s.rcpt_to.push(line[8..].trim().to_string());
            send(&mut write, script.rcpt).await;
        } else if upper == "DATA" {
            send(&mut write, "354 end data with <CR><LF>.<CR><LF>").await;
            while let Ok(Some(l)) = lines.next_line().await {
                if l == "." {
                    break;
                }
                s.data.push_str(l.strip_prefix('.').unwrap_or(&l));
                s.data.push('\n');
            }
            send(&mut write, "250 2.0.0 queued as 1").await;
        } else if upper == "RSET" || upper == "NOOP" {
            send(&mut write, "250 2.0.0 ok").await;
        } else if upper == "QUIT" {
            s.quit = true;
            send(&mut write, "221 2.0.0 bye").await;
            break;
        } else {
            send(&mut write, "502 5.5.2 unknown command").await;
        }
    }
    s
}

/// The headers (unfolded, lowercase names) and the body of a message.
fn split_message(data: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = data.split_once("\n\n").unwrap();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    (headers, body.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {headers:?}"))
}

fn config(port: u16, extra: &str) -> String {
    format!(
        r#"
[alerts]
timeout_secs = 5
[[alerts.channels]]
kind = "email"
smtp_host = "127.0.0.1"
smtp_port = {port}
tls = "none"
from = "Quant Alerts <alerts@quant.test>"
to = ["ops@quant.test", "Risk Desk <risk@quant.test>"]
{extra}
"#
    )
}

const AUTH: &str = "username_env = \"T_SMTP_USER\"\npassword_env = \"T_SMTP_PASSWORD\"";

#[tokio::test]
async fn plain_text_mail_with_auth() {
    let smtp = fake_smtp(Script {
        credentials: Some((SMTP_USER, SMTP_PASSWORD)),
        ..Script::default()
    })
    .await;
    let ch = channel(&config(smtp.port, AUTH));
    assert_eq!(ch.endpoint(), format!("127.0.0.1:{}", smtp.port));
    ch.send(&alert()).await.unwrap();
    let sessions = smtp.sessions.lock().unwrap().clone();
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert!(!s.ehlo.is_empty() && s.quit, "{s:?}");
    assert_eq!(s.auth, Some((SMTP_USER.into(), SMTP_PASSWORD.into())));
    assert_eq!(s.mail_from, "<alerts@quant.test>");
    assert_eq!(s.rcpt_to, ["<ops@quant.test>", "<risk@quant.test>"]);

    let (headers, body) = split_message(&s.data);
    assert_eq!(
        header(&headers, "from"),
        "\"Quant Alerts\" <alerts@quant.test>"
    );
    let to = header(&headers, "to");
    assert!(
        to.contains("ops@quant.test") && to.contains("\"Risk Desk\" <risk@quant.test>"),
        "{to}"
    );
    assert_eq!(
        header(&headers, "subject"),
        "[CRITICAL] risk: daily loss limit"
    );
    assert_eq!(
        header(&headers, "message-id"),
        "<risk-2025-12-04-daily-loss@quant-alerts>"
    );
    assert_eq!(
        header(&headers, "x-quant-event-id"),
        "risk-2025-12-04-daily-loss"
    );
    assert_eq!(header(&headers, "mime-version"), "1.0");
    assert!(header(&headers, "content-type").starts_with("text/plain; charset=utf-8"));
    assert_eq!(header(&headers, "content-transfer-encoding"), "base64");
    let joined: String = body.lines().map(str::trim).collect();
    let text = base64::engine::general_purpose::STANDARD
        .decode(joined)
        .unwrap();
    // text is sent in its canonical form: CRLF line ends
    assert_eq!(
        String::from_utf8(text).unwrap(),
        alert().plain_text().replace('\n', "\r\n")
    );
}

#[tokio::test]
async fn without_credentials_no_auth() {
    let smtp = fake_smtp(Script::default()).await;
    channel(&config(smtp.port, ""))
        .send(&alert())
        .await
        .unwrap();
    let s = smtp.sessions.lock().unwrap()[0].clone();
    assert!(s.auth.is_none() && s.rcpt_to.len() == 2);
}

#[tokio::test]
async fn refused_recipient_is_permanent() {
    let smtp = fake_smtp(Script {
        rcpt: "550 5.1.1 no such user",
        ..Script::default()
    })
    .await;
    let e = channel(&config(smtp.port, ""))
        .send(&alert())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Smtp {
                code: Some(550),
                retryable: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        !e.is_retryable() && e.to_string().contains("no such user"),
        "{e}"
    );
}

#[tokio::test]
async fn a_busy_server_is_retryable() {
    let smtp = fake_smtp(Script {
        rcpt: "451 4.3.0 try again later",
        ..Script::default()
    })
    .await;
    let e = channel(&config(smtp.port, ""))
        .send(&alert())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Smtp {
                code: Some(451),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());
}

#[tokio::test]
async fn failed_auth_is_permanent_and_never_shows_the_password() {
    let smtp = fake_smtp(Script {
        credentials: Some((SMTP_USER, "another-password")),
        // a server that echoes what it got
        auth_fail: "535 5.7.8 bad credentials smtp-pass-TEST-0008",
        ..Script::default()
    })
    .await;
    let e = channel(&config(smtp.port, AUTH))
        .send(&alert())
        .await
        .unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(
        matches!(
            e,
            Error::Smtp {
                code: Some(535),
                ..
            }
        ),
        "{e:?}"
    );
    assert_no_secret(&e.to_string());
    assert_no_secret(&format!("{e:?}"));
    assert!(e.to_string().contains("***"), "{e}");
}

#[tokio::test]
async fn no_server_is_retryable() {
    let port = closed_port().await;
    let e = channel(&config(port, "")).send(&alert()).await.unwrap_err();
    assert!(matches!(e, Error::Smtp { code: None, .. }), "{e:?}");
    assert!(e.is_retryable());
}

#[test]
fn a_password_is_not_sent_unencrypted_to_a_remote_relay() {
    let text = config(25, AUTH).replace(
        "smtp_host = \"127.0.0.1\"",
        "smtp_host = \"smtp.example.com\"",
    );
    let e =
        quant_alerts::Channels::from_config(&parse(&text), &quant_net::NetPolicy::open(), env())
            .unwrap_err();
    assert!(e.to_string().starts_with("alerts.channels[0].tls: "), "{e}");
}

#[tokio::test]
async fn tls_relays_build_without_connecting() {
    // STARTTLS and TLS transports are set up (rustls on ring) without a
    // connection; the default port follows the mode
    for (tls, port) in [("starttls", 587), ("tls", 465)] {
        let text = format!(
            r#"
[alerts]
[[alerts.channels]]
kind = "email"
smtp_host = "smtp.example.com"
tls = "{tls}"
from = "alerts@quant.test"
to = ["ops@quant.test"]
{AUTH}
"#
        );
        let ch = channel(&text);
        assert_eq!(ch.endpoint(), format!("smtp.example.com:{port}"));
    }
}

/// The number of connections a fake accepted.
pub(crate) fn accepted(port_and_counter: &(u16, Arc<AtomicUsize>)) -> usize {
    port_and_counter.1.load(Ordering::SeqCst)
}

/// A fake SMTP server's port and connection counter.
pub(crate) async fn counting_smtp() -> (u16, Arc<AtomicUsize>) {
    let s = fake_smtp(Script::default()).await;
    (s.port, s.accepted)
}

pub(crate) fn email_config(port: u16) -> String {
    config(port, "")
}
