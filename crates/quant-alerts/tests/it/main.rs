//! Integration tests of `quant-alerts`: every channel against a local fake
//! endpoint that checks its format and signature, failure
//! classification, the air-gapped guard, secret redaction, the
//! configuration and the webhook signature's properties.
#![allow(clippy::unwrap_used, missing_docs)]

mod airgap;
mod bots;
mod common;
mod config;
mod email;
mod redaction;
mod signature;
mod webhook;
