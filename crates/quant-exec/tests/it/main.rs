//! Tests of the simulated venue's fill models, order emulation and
//! execution algorithms.

#![allow(clippy::unwrap_used)]

mod algo;
mod emulate;
mod fill;
mod latency;
mod replace;
