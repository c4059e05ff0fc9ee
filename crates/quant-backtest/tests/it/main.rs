//! Integration tests of quant-backtest on the real demo data in `fixtures/`.

mod golden;
mod runs;
