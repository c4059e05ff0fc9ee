//! reqwest behind the policy: [`GuardedClient`] checks every request's
//! host before connecting, every redirect's target before following it,
//! and every name its resolver is asked for (so a request built from the
//! inner client and sent without [`GuardedClient::send`] still cannot
//! reach a refused name). It never uses a proxy from the environment: the
//! host the rule names is the host connected to.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{IntoUrl, Method, Request, RequestBuilder, Response};

use crate::error::{Error, NetError, Result, blocked_in};
use crate::policy::NetPolicy;

/// Settings of a [`GuardedClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Whole-request timeout (connect, send, reply).
    pub timeout: Duration,
    /// Redirects followed (each checked against the policy); 0 returns the
    /// 3xx reply itself.
    pub max_redirects: usize,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_redirects: 10,
            user_agent: concat!("quant/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// A refused redirect chain that is simply too long.
#[derive(Debug, thiserror::Error)]
#[error("more than {0} redirects")]
struct TooManyRedirects(usize);

/// The resolver of a guarded client: refuses names the policy refuses,
/// resolves the others with the system resolver.
struct GuardedResolver {
    policy: NetPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let verdict = self.policy.check_host(name.as_str());
        let host = name.as_str().to_string();
        Box::pin(async move {
            verdict?;
            let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// One reqwest client whose every connection the [`NetPolicy`] allowed.
#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    policy: NetPolicy,
}

impl fmt::Debug for GuardedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedClient")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl GuardedClient {
    /// A client with `options` under `policy` (rustls on ring).
    ///
    /// # Errors
    /// [`Error::Client`] when reqwest cannot build it.
    pub fn new(policy: NetPolicy, options: &ClientOptions) -> Result<Self> {
        let builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .user_agent(options.user_agent.clone());
        Self::from_builder(policy, builder, options.max_redirects)
    }

    /// A client from the caller's `builder`, with the guard's redirect
    /// policy (at most `max_redirects`, each target checked), resolver and
    /// no proxy set on top (they replace the builder's own).
    ///
    /// # Errors
    /// [`Error::Client`] when reqwest cannot build it.
    pub fn from_builder(
        policy: NetPolicy,
        builder: reqwest::ClientBuilder,
        max_redirects: usize,
    ) -> Result<Self> {
        // reqwest is built without a bundled TLS crypto provider: use ring
        // (an error only means one is installed already)
        let _ = rustls::crypto::ring::default_provider().install_default();
        let redirect = if max_redirects == 0 {
            reqwest::redirect::Policy::none()
        } else {
            let p = policy.clone();
            reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > max_redirects {
                    return attempt.error(TooManyRedirects(max_redirects));
                }
                match p.check(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(b) => attempt.error(b),
                }
            })
        };
        let client = builder
            .no_proxy()
            .redirect(redirect)
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .build()
            .map_err(|e| Error::Client(e.without_url().to_string()))?;
        Ok(Self { client, policy })
    }

    /// The policy in force.
    pub fn policy(&self) -> &NetPolicy {
        &self.policy
    }

    /// A request to build; send it with [`GuardedClient::send`].
    pub fn request<U: IntoUrl>(&self, method: Method, url: U) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// A GET request to build; send it with [`GuardedClient::send`].
    pub fn get<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A POST request to build; send it with [`GuardedClient::send`].
    pub fn post<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// Builds and sends `request` if the policy allows its host.
    ///
    /// # Errors
    /// [`NetError::Blocked`] before connecting (or on a refused redirect);
    /// [`NetError::Http`] when the request cannot be built or fails.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, NetError> {
        let req = request.build().map_err(NetError::Http)?;
        self.execute(req).await
    }

    /// Sends `request` if the policy allows its host.
    ///
    /// # Errors
    /// As [`GuardedClient::send`].
    pub async fn execute(&self, request: Request) -> Result<Response, NetError> {
        self.policy
            .check(request.url())
            .map_err(NetError::Blocked)?;
        self.client
            .execute(request)
            .await
            .map_err(|e| match blocked_in(&e) {
                Some(b) => NetError::Blocked(b.clone()),
                None => NetError::Http(e),
            })
    }
}
