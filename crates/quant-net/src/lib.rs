//! The network guard of every HTTP and SMTP client of the project.
//!
//! **The air-gapped rule.** With `[security] air_gapped = true`, while a
//! trading session is in progress (a flag the session runner sets), the
//! process reaches no host but those matching `[security] allow_hosts`.
//! Outside sessions, or without `air_gapped`, nothing is refused. The rule
//! is enforced in the client layer, before any connection is made:
//!
//! - [`GuardedClient::send`]/[`GuardedClient::execute`] check the
//!   request's host first and return [`NetError::Blocked`] without
//!   connecting;
//! - its redirect policy checks every redirect's target before following
//!   it (a refused target is never contacted);
//! - its DNS resolver refuses refused names too, so even a request built
//!   and sent past the guard cannot reach a refused host name;
//! - it never uses a proxy from the environment (`HTTP_PROXY` …): the
//!   host the rule names is the host connected to;
//! - non-HTTP clients (SMTP) call [`NetPolicy::check_host`] on the relay
//!   before connecting.
//!
//! Hosts match as the URL standard parses them ([`policy`]): a name never
//! matches an address, `*.example.com` matches subdomains. A refusal names
//! the host only, never a path or query (which may carry a token).
//!
//! ```
//! use std::sync::{Arc, atomic::AtomicBool};
//! use quant_net::NetPolicy;
//!
//! let session = Arc::new(AtomicBool::new(true));
//! let policy = NetPolicy::air_gapped(["broker.example.com"], session).unwrap();
//! assert!(policy.check(&"https://broker.example.com/api".parse().unwrap()).is_ok());
//! assert!(policy.check(&"https://elsewhere.example.org/".parse().unwrap()).is_err());
//! policy.set_in_session(false); // the session closed: everything goes
//! assert!(policy.check(&"https://elsewhere.example.org/".parse().unwrap()).is_ok());
//! ```

pub mod client;
pub mod error;
pub mod policy;

pub use client::{ClientOptions, GuardedClient};
pub use error::{Blocked, Error, NetError, Result, blocked_in};
pub use policy::{NetPolicy, SecurityConfig};
