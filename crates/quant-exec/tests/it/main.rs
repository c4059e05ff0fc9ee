//! Scenario and property tests of the event loop and the simulated venue,
//! with hand-computed expectations for every A-share rule and cost.

mod harness;
mod properties;
mod scenarios;
