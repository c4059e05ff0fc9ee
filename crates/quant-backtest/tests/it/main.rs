//! Integration tests of quant-backtest on the real demo data in `fixtures/`.

mod architecture;
mod golden;
mod runs;
