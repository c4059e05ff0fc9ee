//! Provider clients against local fake servers on 127.0.0.1 that speak each
//! provider's real format, built from the real bars in `fixtures/`.
#![allow(clippy::unwrap_used)]

mod binance;
mod decoders;
mod eastmoney;
mod failover;
mod fake;
mod secrets;
mod transport;
mod tushare;
mod update;
mod yahoo;

/// A fake Eastmoney K-line server (shared with the failover tests).
pub async fn eastmoney_fake() -> (String, fake::Script) {
    eastmoney::start().await
}
