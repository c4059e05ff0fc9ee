//! `sma_cross`: a long-only moving-average crossover on each instrument.
//!
//! At the close of day t, with fast/slow simple moving averages of the
//! signal closes: an up-cross (fast_t > slow_t and fast_{t−1} ≤ slow_{t−1})
//! while flat buys at the next fill; a down-cross (fast_t < slow_t and
//! fast_{t−1} ≥ slow_{t−1}) while long sells the whole position. This is the
//! rule of `shared/golden/backtest/sma_600036.SH`.
//!
//! Parameters (TOML `[strategy.params]`):
//! - `fast` (default 10), `slow` (default 30): window lengths in bars, fast < slow;
//! - `sizing`: `"all_cash"` (buy with all available cash, the golden case) or
//!   `"equal_weight"` (default: buy 1/N of equity per instrument, N = the
//!   number of tradable instruments).

use quant_core::{AssetClass, Instrument, InstrumentIndex, OrderQty, OrderType, Side};
use serde::{Deserialize, Serialize};

use crate::Strategy;
use crate::context::{Context, Signal};
use crate::error::{Error, Result};
use crate::snapshot;
use quant_indicators::{ExactSma, Indicator};

/// How a buy is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sizing {
    /// All available cash, rounded down to lots after fees.
    AllCash,
    /// 1/N of equity per instrument.
    EqualWeight,
}

/// Parameters of [`SmaCross`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmaCrossParams {
    /// Fast window in bars.
    #[serde(default = "default_fast")]
    pub fast: usize,
    /// Slow window in bars.
    #[serde(default = "default_slow")]
    pub slow: usize,
    /// Buy sizing.
    #[serde(default = "default_sizing")]
    pub sizing: Sizing,
}

fn default_fast() -> usize {
    10
}
fn default_slow() -> usize {
    30
}
fn default_sizing() -> Sizing {
    Sizing::EqualWeight
}

impl Default for SmaCrossParams {
    fn default() -> Self {
        Self {
            fast: default_fast(),
            slow: default_slow(),
            sizing: default_sizing(),
        }
    }
}

/// Both moving averages of every instrument: [`ExactSma`]s from
/// `quant-indicators`, compared exactly.
///
/// The crossover needs only the sign of fast − slow where fast and slow are
/// the correctly rounded means (`fsum(window) / n`, the golden case's
/// numbers); [`ExactSma::compare`] gives it, summing both windows exactly
/// when the two means are within 1e-12 (600036.SH has a tie on 2018-12-12).
/// This is the strategy's whole saved state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Windows {
    smas: Vec<(ExactSma, ExactSma)>,
    /// Sign of fast − slow at the previous bar (−1, 0, +1); `None` before both exist.
    prev: Vec<Option<i8>>,
}

impl Windows {
    fn new(n: usize, fast: usize, slow: usize) -> Result<Self> {
        let sma = |p: usize| {
            ExactSma::new(p).map_err(|e| Error::Config {
                strategy: "sma_cross".into(),
                message: e.to_string(),
            })
        };
        Ok(Self {
            smas: vec![(sma(fast)?, sma(slow)?); n],
            prev: vec![None; n],
        })
    }

    /// Adds instrument `i`'s close; once both windows are full returns the
    /// sign of fast − slow (see the type's docs).
    #[inline]
    fn update(&mut self, i: usize, x: f64) -> Option<i8> {
        let (fast, slow) = &mut self.smas[i];
        fast.update(x);
        slow.update(x);
        Some(match fast.compare(slow)? {
            std::cmp::Ordering::Greater => 1,
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
        })
    }
}

/// The SMA crossover strategy; see the module docs.
#[derive(Debug, Clone)]
pub struct SmaCross {
    params: SmaCrossParams,
    windows: Windows,
    tradable: Vec<bool>,
    n_tradable: usize,
}

impl SmaCross {
    /// Builds the strategy.
    ///
    /// # Errors
    /// [`Error::Config`] when `fast` is 0 or not below `slow`, or `slow`
    /// is above [`quant_indicators::MAX_PERIOD`].
    pub fn new(params: SmaCrossParams) -> Result<Self> {
        if params.fast == 0 || params.fast >= params.slow {
            return Err(Error::Config {
                strategy: "sma_cross".into(),
                message: format!(
                    "params.fast ({}) must be ≥ 1 and below params.slow ({})",
                    params.fast, params.slow
                ),
            });
        }
        let most = quant_indicators::MAX_PERIOD;
        if params.slow > most {
            return Err(Error::Config {
                strategy: "sma_cross".into(),
                message: format!("params.slow must be in [2, {most}], got {}", params.slow),
            });
        }
        Ok(Self {
            params,
            windows: Windows::default(),
            tradable: Vec::new(),
            n_tradable: 0,
        })
    }
}

impl Strategy for SmaCross {
    fn name(&self) -> &str {
        "sma_cross"
    }

    fn on_start(&mut self, instruments: &[Instrument]) -> Result<()> {
        self.windows = Windows::new(instruments.len(), self.params.fast, self.params.slow)?;
        self.tradable = instruments
            .iter()
            .map(|i| i.asset_class != AssetClass::Index)
            .collect();
        self.n_tradable = self.tradable.iter().filter(|t| **t).count();
        if self.n_tradable == 0 {
            return Err(Error::Config {
                strategy: "sma_cross".into(),
                message: "the universe has no tradable instrument".into(),
            });
        }
        Ok(())
    }

    /// Both moving averages and the last sign of fast − slow of every
    /// instrument.
    fn save_state(&self) -> Result<Vec<u8>> {
        let params = snapshot::fingerprint(&self.params);
        snapshot::save(self.name(), &params, self.tradable.len(), &self.windows)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<()> {
        let (name, n) = (self.name(), self.tradable.len());
        let w: Windows = snapshot::load(name, &snapshot::fingerprint(&self.params), n, state)?;
        snapshot::check_len(name, "moving averages", w.smas.len(), n)?;
        snapshot::check_len(name, "crossing signs", w.prev.len(), n)?;
        self.windows = w;
        Ok(())
    }

    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>) {
        for i in 0..self.tradable.len() {
            if !self.tradable[i] || ctx.bars[i].is_none() {
                continue;
            }
            let idx = InstrumentIndex(i as u32);
            let Some(close) = ctx.history.last_close(idx) else {
                continue;
            };
            let Some(sign) = self.windows.update(i, close) else {
                continue;
            };
            if let Some(prev) = self.windows.prev[i].replace(sign) {
                let up = sign > 0 && prev <= 0;
                let down = sign < 0 && prev >= 0;
                if !(up || down) {
                    continue;
                }
                let flat = ctx.positions[i].is_flat();
                if up && flat {
                    let qty = match self.params.sizing {
                        Sizing::AllCash => OrderQty::AllCash,
                        Sizing::EqualWeight => {
                            let value = ctx.equity / self.n_tradable as f64;
                            match quant_core::Cash::from_f64_cents(value) {
                                Ok(v) => OrderQty::Value(v),
                                Err(_) => continue,
                            }
                        }
                    };
                    out.push(Signal::Order {
                        instrument: idx,
                        side: Side::Buy,
                        qty,
                        order_type: OrderType::Market,
                    });
                } else if down && !flat {
                    out.push(Signal::Order {
                        instrument: idx,
                        side: Side::Sell,
                        qty: OrderQty::AllPosition,
                        order_type: OrderType::Market,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 600036.SH closes from the shipped fixtures, oldest first, up to `until`.
    fn closes_until(until: &str) -> Vec<f64> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/cn/daily/600036.SH.csv"
        );
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .take_while(|f| f[0] <= until)
            .map(|f| f[4].parse().unwrap())
            .collect()
    }

    #[test]
    fn a_tie_of_the_means_is_decided_by_the_exactly_rounded_values() {
        // On 2018-12-12 SMA(10) and SMA(30) of 600036.SH are both 28.804 in
        // decimal; fsum(window)/n gives 28.804000000000002 > 28.804, an
        // up-cross (the golden trade of 2018-12-13). Plain running sums give
        // fast < slow and miss it.
        let closes = closes_until("2018-12-12");
        let mut w = Windows::new(1, 10, 30).unwrap();
        let signs: Vec<Option<i8>> = closes.iter().map(|&c| w.update(0, c)).collect();
        assert_eq!(signs[signs.len() - 1], Some(1));
        assert_eq!(signs[signs.len() - 2], Some(-1));
        let (mut f, mut s) = (0.0, 0.0);
        for (k, c) in closes.iter().enumerate() {
            f += c;
            s += c;
            if k >= 10 {
                f -= closes[k - 10];
            }
            if k >= 30 {
                s -= closes[k - 30];
            }
        }
        assert!(f / 10.0 <= s / 30.0, "naive running sums see no cross");
    }
}
