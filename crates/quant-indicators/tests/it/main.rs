//! Integration tests of `quant-indicators`.
#![allow(clippy::unwrap_used)]

mod common;
mod golden;
mod limits;
mod properties;
