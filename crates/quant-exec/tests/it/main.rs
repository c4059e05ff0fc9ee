//! Tests of the simulated venue's fill models.

#![allow(clippy::unwrap_used)]

mod fill;
