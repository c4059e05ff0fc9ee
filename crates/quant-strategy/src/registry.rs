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
