//! The errors of `quant-net`: bad `[security]` settings, a client that
//! cannot be built, a connection the policy refuses ([`Blocked`]) and a
//! guarded request that failed ([`NetError`]).

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong setting up the guard.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `[security]` setting is invalid; `key` names it
    /// (`security.allow_hosts[2]`).
    #[error("{key}: {msg}")]
    Config {
        /// The key at fault.
        key: String,
        /// What is wrong with it.
        msg: String,
    },
    /// The HTTP client cannot be built (its TLS setup failed).
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// A connection the air-gapped policy refused before it was made: during
/// a trading session the host is not in `[security] allow_hosts`. Names
/// the host only (never a path or query, which may carry a token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "air-gapped: {host} is not in [security] allow_hosts and a trading session is in progress; nothing was sent"
)]
pub struct Blocked {
    /// The refused host (a name or an address literal).
    pub host: String,
}

/// A request sent through [`crate::GuardedClient`] that did not get a
/// reply.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The policy refused the request's host or a redirect's: no
    /// connection was made to it.
    #[error(transparent)]
    Blocked(Blocked),
    /// The request failed in reqwest (build, connect, timeout, body). Its
    /// `Display` includes the URL: use [`reqwest::Error::without_url`]
    /// before showing it when the URL carries a secret.
    #[error(transparent)]
    Http(reqwest::Error),
}

impl NetError {
    /// The [`Blocked`] refusal, if this is one.
    pub fn blocked(&self) -> Option<&Blocked> {
        match self {
            Self::Blocked(b) => Some(b),
            Self::Http(_) => None,
        }
    }
}

/// The [`Blocked`] refusal somewhere in `err`'s chain of causes (reqwest
/// wraps the refusals of the redirect policy and of the resolver).
pub fn blocked_in<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Blocked> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(b) = e.downcast_ref::<Blocked>() {
            return Some(b);
        }
        cur = e.source();
    }
    None
}
