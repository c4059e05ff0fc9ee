//! Integration tests of quant-backtest on the real demo data in `fixtures/`.

#![allow(clippy::unwrap_used)]

mod architecture;
mod execution;
mod golden;
mod intraday;
mod limits;
mod montecarlo;
mod mtf;
mod runs;
mod snapshot;
mod sweep;
mod walkforward;
