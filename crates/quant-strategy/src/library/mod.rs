//! Library signal strategies: per-instrument [`Rules`](crate::book::Rules)
//! run by a [`Book`](crate::book::Book), so every one of them takes the
//! book's keys in `[strategy.params]` as well as its own
//! ([`BOOK_KEYS`](crate::book::BOOK_KEYS): `max_positions`, `sizing`, `max_weight`,
//! `exits`, `atr_period`, `rebalance`, `universe`, `fundamentals`).
//!
//! - [`breakout::Breakout`] (`momentum_breakout`): Donchian channel
//!   breakouts confirmed by volume and momentum;
//! - [`mean_reversion::MeanReversion`] (`mean_reversion`): RSI and
//!   Bollinger oversold dips inside a long-term uptrend;
//! - [`trend::TrendFollowing`] (`trend_following`): EMA alignment with
//!   ADX above 25.

pub mod breakout;
pub mod mean_reversion;
pub mod trend;

use crate::error::Error;

/// [`Error::Config`] for `strategy` whose message names `params.{key}`.
pub(crate) fn param_error(strategy: &str, key: &str, what: impl std::fmt::Display) -> Error {
    Error::Config {
        strategy: strategy.to_string(),
        message: format!("params.{key}: {what}"),
    }
}

/// Maps an indicator's refusal to [`Error::Config`] naming `params.{key}`.
pub(crate) fn indicator_error(
    strategy: &'static str,
    key: &'static str,
) -> impl Fn(quant_indicators::Error) -> Error {
    move |e| param_error(strategy, key, e)
}
