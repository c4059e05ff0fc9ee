//! The guard against local servers on 127.0.0.1 that count the connections
//! they accept: a refused request never arrives.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use quant_net::{ClientOptions, GuardedClient, NetError, NetPolicy, SecurityConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server answering every request with `reply` (a whole HTTP/1.1
/// response head and body); counts accepted connections.
struct Counting {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

async fn counting(reply: String) -> Counting {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let n = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            n.fetch_add(1, Ordering::SeqCst);
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Counting { port, accepted }
}

fn ok_reply() -> String {
    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".to_string()
}

fn redirect_to(url: &str) -> String {
    format!(
        "HTTP/1.1 302 Found\r\nlocation: {url}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
}

fn client(allow: &[&str], in_session: bool) -> (GuardedClient, NetPolicy) {
    let policy =
        NetPolicy::air_gapped(allow.iter().copied(), Arc::new(AtomicBool::new(in_session)))
            .unwrap();
    let options = ClientOptions {
        timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    };
    (
        GuardedClient::new(policy.clone(), &options).unwrap(),
        policy,
    )
}

async fn get(c: &GuardedClient, url: &str) -> Result<u16, NetError> {
    c.send(c.get(url)).await.map(|r| r.status().as_u16())
}

/// Lets a refused connection that was wrongly made reach the counter.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn in_session_a_refused_host_is_never_contacted_and_an_allowed_one_is() {
    let server = counting(ok_reply()).await;
    let (c, _) = client(&["127.0.0.1"], true);
    // `localhost` is this very server, but not an allowed name
    let e = get(
        &c,
        &format!("http://localhost:{}/x?token=SECRET", server.port),
    )
    .await
    .unwrap_err();
    let b = e.blocked().expect("blocked");
    assert_eq!(b.host, "localhost");
    assert!(!e.to_string().contains("SECRET"), "{e}");
    settle().await;
    assert_eq!(server.accepted.load(Ordering::SeqCst), 0, "never arrives");

    assert_eq!(
        get(&c, &format!("http://127.0.0.1:{}/", server.port))
            .await
            .unwrap(),
        200
    );
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);

    let (c, _) = client(&["localhost"], true);
    let e = get(&c, &format!("http://127.0.0.1:{}/", server.port))
        .await
        .unwrap_err();
    assert_eq!(e.blocked().unwrap().host, "127.0.0.1");
    settle().await;
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn out_of_session_everything_goes_and_the_flag_is_read_at_each_request() {
    let server = counting(ok_reply()).await;
    let (c, policy) = client(&[], false);
    let url = format!("http://127.0.0.1:{}/", server.port);
    assert_eq!(get(&c, &url).await.unwrap(), 200);
    assert_eq!(
        get(&c, &format!("http://localhost:{}/", server.port))
            .await
            .unwrap(),
        200
    );
    assert_eq!(server.accepted.load(Ordering::SeqCst), 2);

    policy.set_in_session(true);
    assert!(get(&c, &url).await.unwrap_err().blocked().is_some());
    policy.set_in_session(false);
    assert_eq!(get(&c, &url).await.unwrap(), 200);
    settle().await;
    assert_eq!(server.accepted.load(Ordering::SeqCst), 3);

    // not air-gapped at all: in session changes nothing
    let open = NetPolicy::new(&SecurityConfig::default(), Arc::new(AtomicBool::new(true))).unwrap();
    let c = GuardedClient::new(open, &ClientOptions::default()).unwrap();
    assert_eq!(get(&c, &url).await.unwrap(), 200);
}

#[tokio::test]
async fn a_redirect_to_a_refused_host_is_not_followed() {
    let target = counting(ok_reply()).await;
    let hop = counting(redirect_to(&format!(
        "http://localhost:{}/next",
        target.port
    )))
    .await;
    let (c, _) = client(&["127.0.0.1"], true);
    let e = get(&c, &format!("http://127.0.0.1:{}/start", hop.port))
        .await
        .unwrap_err();
    assert_eq!(e.blocked().expect("blocked redirect").host, "localhost");
    settle().await;
    assert_eq!(hop.accepted.load(Ordering::SeqCst), 1);
    assert_eq!(target.accepted.load(Ordering::SeqCst), 0, "never arrives");

    // an allowed redirect target is followed
    let hop2 = counting(redirect_to(&format!(
        "http://127.0.0.1:{}/next",
        target.port
    )))
    .await;
    assert_eq!(
        get(&c, &format!("http://127.0.0.1:{}/start", hop2.port))
            .await
            .unwrap(),
        200
    );
    assert_eq!(target.accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_redirects_the_3xx_itself_comes_back() {
    let target = counting(ok_reply()).await;
    let hop = counting(redirect_to(&format!("http://127.0.0.1:{}/", target.port))).await;
    let policy = NetPolicy::open();
    let options = ClientOptions {
        max_redirects: 0,
        ..ClientOptions::default()
    };
    let c = GuardedClient::new(policy, &options).unwrap();
    assert_eq!(
        get(&c, &format!("http://127.0.0.1:{}/", hop.port))
            .await
            .unwrap(),
        302
    );
    settle().await;
    assert_eq!(target.accepted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_resolver_refuses_names_even_past_the_send_check() {
    let server = counting(ok_reply()).await;
    let (c, _) = client(&["127.0.0.1"], true);
    // built from the inner builder and sent with reqwest's own send()
    let e = c
        .get(format!("http://localhost:{}/", server.port))
        .send()
        .await
        .unwrap_err();
    assert!(
        quant_net::blocked_in(&e).is_some(),
        "refused in the resolver: {e:?}"
    );
    settle().await;
    assert_eq!(server.accepted.load(Ordering::SeqCst), 0);
}

#[test]
fn security_section_parses_strictly() {
    let cfg: SecurityConfig =
        toml::from_str("air_gapped = true\nallow_hosts = [\"open.feishu.cn\", \"*.example.com\"]")
            .unwrap();
    assert!(cfg.air_gapped);
    assert_eq!(cfg.allow_hosts.len(), 2);
    assert!(toml::from_str::<SecurityConfig>("air_gaped = true").is_err());
    assert_eq!(
        toml::from_str::<SecurityConfig>("").unwrap(),
        SecurityConfig::default()
    );
}
