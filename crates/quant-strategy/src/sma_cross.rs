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
use serde::Deserialize;

use crate::Strategy;
use crate::context::{Context, Signal};
use crate::error::{Error, Result};
use crate::rolling::RollingMean;

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

#[derive(Debug, Clone)]
struct State {
    fast: RollingMean,
    slow: RollingMean,
    prev: Option<(f64, f64)>,
}

/// The SMA crossover strategy; see the module docs.
#[derive(Debug, Clone)]
pub struct SmaCross {
    params: SmaCrossParams,
    states: Vec<State>,
    tradable: Vec<bool>,
    n_tradable: usize,
}

impl SmaCross {
    /// Builds the strategy.
    ///
    /// # Errors
    /// [`Error::Config`] when `fast` is 0 or not below `slow`.
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
        Ok(Self {
            params,
            states: Vec::new(),
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
        let state = State {
            fast: RollingMean::new(self.params.fast),
            slow: RollingMean::new(self.params.slow),
            prev: None,
        };
        self.states = vec![state; instruments.len()];
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

    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>) {
        for (i, st) in self.states.iter_mut().enumerate() {
            if !self.tradable[i] || ctx.bars[i].is_none() {
                continue;
            }
            let idx = InstrumentIndex(i as u32);
            let Some(close) = ctx.history.last_close(idx) else {
                continue;
            };
            let fast = st.fast.update(close);
            let slow = st.slow.update(close);
            let (Some(f), Some(s)) = (fast, slow) else {
                continue;
            };
            if let Some((pf, ps)) = st.prev {
                let flat = ctx.positions[i].is_flat();
                if f > s && pf <= ps && flat {
                    let qty = match self.params.sizing {
                        Sizing::AllCash => OrderQty::AllCash,
                        Sizing::EqualWeight => {
                            let value = ctx.equity / self.n_tradable as f64;
                            match quant_core::Cash::from_f64(value) {
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
                } else if f < s && pf >= ps && !flat {
                    out.push(Signal::Order {
                        instrument: idx,
                        side: Side::Sell,
                        qty: OrderQty::AllPosition,
                        order_type: OrderType::Market,
                    });
                }
            }
            st.prev = Some((f, s));
        }
    }
}
