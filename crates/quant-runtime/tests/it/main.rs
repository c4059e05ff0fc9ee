//! Integration tests of paper sessions on the shipped configs and data.

#![allow(clippy::unwrap_used)]

mod replay;
mod report;
