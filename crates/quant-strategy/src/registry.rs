//! Builds built-in strategies by name from a TOML parameter table.

use crate::Strategy;
use crate::book::{Book, BookParams};
use crate::buy_and_hold::{BuyAndHold, BuyAndHoldParams};
use crate::dual_momentum::{DualMomentum, DualMomentumParams};
use crate::error::{Error, Result};
use crate::library::{breakout, mean_reversion, trend};
use crate::momentum::{MomentumParams, MomentumRotation};
use crate::sma_cross::{SmaCross, SmaCrossParams};

/// Names of the built-in strategies.
pub const BUILTINS: [&str; 8] = [
    "sma_cross",
    "momentum_rotation",
    "buy_and_hold",
    "dual_momentum",
    "momentum_breakout",
    "mean_reversion",
    "trend_following",
    "multi_factor",
];

fn params<T: serde::de::DeserializeOwned>(name: &str, table: toml::Table) -> Result<T> {
    T::deserialize(toml::Value::Table(table)).map_err(|e| Error::Config {
        strategy: name.to_string(),
        message: format!("[strategy.params]: {e}"),
    })
}

/// A library signal strategy: the book's keys of `table` for the
/// [`Book`], the rest for the rules' own parameters.
fn book<P, R>(
    name: &str,
    table: toml::Table,
    rules: impl FnOnce(P) -> Result<R>,
) -> Result<Box<dyn Strategy>>
where
    P: serde::de::DeserializeOwned,
    R: crate::book::Rules + 'static,
{
    let (book, own) = BookParams::split(name, table)?;
    Ok(Box::new(Book::new(rules(params(name, own)?)?, book)?))
}

/// Builds the strategy `name` with parameters `table` (the TOML
/// `[strategy.params]` table; unknown keys are errors).
///
/// # Errors
/// [`Error::UnknownStrategy`] listing the available names, or
/// [`Error::Config`] naming the bad key.
pub fn build(name: &str, table: toml::Table) -> Result<Box<dyn Strategy>> {
    Ok(match name {
        "sma_cross" => Box::new(SmaCross::new(params::<SmaCrossParams>(name, table)?)?),
        "momentum_rotation" => Box::new(MomentumRotation::new(params::<MomentumParams>(
            name, table,
        )?)?),
        "buy_and_hold" => Box::new(BuyAndHold::new(params::<BuyAndHoldParams>(name, table)?)?),
        "dual_momentum" => Box::new(DualMomentum::new(params::<DualMomentumParams>(
            name, table,
        )?)?),
        "momentum_breakout" => book(name, table, breakout::Breakout::new)?,
        "mean_reversion" => book(name, table, mean_reversion::MeanReversion::new)?,
        "trend_following" => book(name, table, trend::TrendFollowing::new)?,
        "multi_factor" => Box::new(crate::multi_factor::MultiFactor::new(params(name, table)?)?),
        other => {
            return Err(Error::UnknownStrategy {
                name: other.to_string(),
                available: BUILTINS.join(", "),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows and counts of every built-in at the largest TOML integer
    /// (and one past each limit): refused when built, naming the key and
    /// the range, never a panic or an allocation at the run's start.
    #[test]
    fn huge_parameters_are_refused_when_built() {
        const MAX: &str = "9223372036854775807";
        let dm = "risky = [\"510300.SH\", \"518880.SH\"]\ndefensive = \"511010.SH\"\n";
        let cases: &[(&str, String, &str)] = &[
            (
                "sma_cross",
                format!("fast = 5\nslow = {MAX}"),
                "params.slow",
            ),
            ("sma_cross", "fast = 5\nslow = 100001".into(), "params.slow"),
            (
                "momentum_rotation",
                format!("lookback = {MAX}"),
                "params.lookback",
            ),
            (
                "momentum_rotation",
                format!("top_k = {MAX}"),
                "params.top_k",
            ),
            (
                "momentum_rotation",
                format!("trend_ma = {MAX}"),
                "params.trend_ma",
            ),
            (
                "dual_momentum",
                format!("{dm}lookback = {MAX}"),
                "params.lookback",
            ),
            (
                "dual_momentum",
                format!("{dm}min_return = nan"),
                "params.min_return",
            ),
            (
                "multi_factor",
                format!("lookback = {MAX}"),
                "params.lookback",
            ),
            (
                "multi_factor",
                format!("vol_days = {MAX}"),
                "params.vol_days",
            ),
            (
                "multi_factor",
                format!("cov_days = {MAX}"),
                "params.cov_days",
            ),
            ("multi_factor", format!("top_k = {MAX}"), "params.top_k"),
            (
                "multi_factor",
                "[weights]\nvalue = 1e308".into(),
                "params.weights",
            ),
            (
                "momentum_breakout",
                format!("entry_days = {MAX}"),
                "params.entry_days",
            ),
            (
                "momentum_breakout",
                format!("momentum_days = {MAX}"),
                "params.momentum_days",
            ),
            (
                "momentum_breakout",
                "volume_ratio = 1e300".into(),
                "params.volume_ratio",
            ),
            (
                "mean_reversion",
                format!("trend_days = {MAX}"),
                "params.trend_days",
            ),
            (
                "mean_reversion",
                format!("rsi_days = {MAX}"),
                "params.rsi_days",
            ),
            (
                "mean_reversion",
                "bb_width = 1e300".into(),
                "params.bb_width",
            ),
            ("trend_following", format!("slow = {MAX}"), "params.slow"),
            (
                "trend_following",
                format!("adx_days = {MAX}"),
                "params.adx_days",
            ),
            (
                "trend_following",
                format!("max_positions = {MAX}"),
                "max_positions",
            ),
            (
                "trend_following",
                format!("atr_period = {MAX}"),
                "atr_period",
            ),
            (
                "trend_following",
                format!("[universe]\nliquidity_days = {MAX}"),
                "universe.liquidity_days",
            ),
            (
                "trend_following",
                "[exits]\ntime_stop_bars = 4294967295".into(),
                "exits.time_stop_bars",
            ),
            (
                "trend_following",
                "[sizing]\nmethod = \"equal_weight\"\npositions = 4294967295".into(),
                "sizing.positions",
            ),
        ];
        for (name, params, key) in cases {
            let t: toml::Table = toml::from_str(params).unwrap();
            let e = build(name, t)
                .err()
                .unwrap_or_else(|| panic!("{name}: {params} built"))
                .to_string();
            assert!(e.contains(key), "{name}: {params}: {e}");
            let ranged = ["100000", "10000", "[-1, 10]", "1000", "100]", "[0, 100]"];
            assert!(
                ranged.iter().any(|r| e.contains(r)),
                "{name}: no range in {e}"
            );
        }
    }

    /// `rebalance` takes every schedule name and the inline table; a bad
    /// one, or one at a time of day, is an error naming
    /// `params.rebalance`.
    #[test]
    fn rebalance_schedules() {
        let dm = "risky = [\"510300.SH\", \"518880.SH\"]\ndefensive = \"511010.SH\"\n";
        for name in [
            "momentum_rotation",
            "dual_momentum",
            "multi_factor",
            "trend_following",
        ] {
            let with = |r: &str| {
                let extra = if name == "dual_momentum" { dm } else { "" };
                build(
                    name,
                    toml::from_str(&format!("{extra}rebalance = {r}")).unwrap(),
                )
            };
            for r in [
                "\"daily\"",
                "\"weekly\"",
                "\"monthly\"",
                "\"week_start\"",
                "\"week_end\"",
                "\"month_start\"",
                "\"month_end\"",
                "\"quarter_start\"",
                "\"quarter_end\"",
                "{ every = \"month\", day = -2 }",
                "{ every = \"quarter\", day = 3, at = \"open\" }",
            ] {
                assert!(with(r).is_ok(), "{name}: {r}");
            }
            for (r, want) in [
                ("\"hourly\"", "unknown schedule `hourly`"),
                (
                    "{ every = \"week\", day = 0 }",
                    "day: must be an integer in [1, 7] or [-7, -1]",
                ),
                (
                    "{ every = \"month\", day = 1, at = \"14:50\" }",
                    "at: \"14:50\" needs intraday bars",
                ),
            ] {
                let e = with(r).err().unwrap_or_else(|| panic!("{name}: {r} built"));
                let m = e.to_string();
                assert!(
                    m.contains("params.rebalance") && m.contains(want),
                    "{name}: {m}"
                );
                assert_eq!(e.param_key(), Some("rebalance"), "{m}");
            }
        }
    }

    #[test]
    fn builds_and_rejects() {
        let t: toml::Table = toml::from_str("fast = 5\nslow = 20\nsizing = \"all_cash\"").unwrap();
        assert_eq!(build("sma_cross", t).unwrap().name(), "sma_cross");
        let e = build("sma_crosss", toml::Table::new())
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("available: sma_cross, momentum_rotation, buy_and_hold, dual_momentum, momentum_breakout"),
            "{e}"
        );
        let t: toml::Table = toml::from_str("fastt = 5").unwrap();
        let e = build("sma_cross", t).err().unwrap().to_string();
        assert!(e.contains("fastt"), "{e}");
        let t: toml::Table = toml::from_str("fast = 30\nslow = 10").unwrap();
        assert!(build("sma_cross", t).is_err());
        let dm = |extra: &str| {
            let t: toml::Table = toml::from_str(&format!(
                "risky = [\"510300.SH\", \"518880.SH\"]\ndefensive = \"511010.SH\"\n{extra}"
            ))
            .unwrap();
            build("dual_momentum", t)
        };
        assert_eq!(dm("").unwrap().name(), "dual_momentum");
        assert!(dm("top_k = 3").err().unwrap().to_string().contains("top_k"));
        let t: toml::Table =
            toml::from_str("risky = [\"511010.SH\"]\ndefensive = \"511010.SH\"").unwrap();
        assert!(
            build("dual_momentum", t)
                .err()
                .unwrap()
                .to_string()
                .contains("also in params.risky")
        );
        let t: toml::Table = toml::from_str("top_k = 0").unwrap();
        assert!(
            build("momentum_rotation", t)
                .err()
                .unwrap()
                .to_string()
                .contains("top_k")
        );
    }
}
