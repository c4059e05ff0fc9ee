//! The engine driven over days by the driver against the simulated venue:
//! one scenario per A-share rule and cost, the risk gate, absurd settings,
//! and properties (cash never negative, positions reconcile with fills).

mod harness;
mod limits;
mod orders;
mod properties;
mod risk;
mod scenarios;
