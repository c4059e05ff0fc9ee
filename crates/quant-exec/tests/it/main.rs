//! Scenario and property tests of the event loop and the simulated venue,
//! with hand-computed expectations for every A-share rule and cost.

#![allow(clippy::unwrap_used)]

mod fill;
mod harness;
mod limits;
mod properties;
mod risk;
mod scenarios;
