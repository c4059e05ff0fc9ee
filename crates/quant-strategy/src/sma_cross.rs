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
use crate::rolling::ExactSum;

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

/// A running sum with Neumaier's compensation (Kahan–Babuška): its error
/// stays within a few ulps however many values come and go.
#[derive(Debug, Clone, Copy, Default)]
struct RunningSum {
    sum: f64,
    comp: f64,
}

impl RunningSum {
    #[inline]
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.comp += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    #[inline]
    fn value(self) -> f64 {
        self.sum + self.comp
    }
}

/// Both moving averages of every instrument, in flat arrays indexed by
/// instrument: a ring of the last `slow` closes per instrument (the fast
/// window is its newest `fast` entries) and compensated running sums.
///
/// The crossover needs only the sign of fast − slow where fast and slow are
/// the correctly rounded means (`fsum(window) / n`, the golden case's
/// numbers). The compensated sums give it whenever the two means differ by
/// more than 1e-12 relative (their error is a few ulps); closer than that,
/// both windows are summed exactly from the ring ([`ExactSum`]), so ties
/// compare exactly (600036.SH has one on 2018-12-12).
#[derive(Debug, Clone, Default)]
struct Windows {
    fast: usize,
    slow: usize,
    ring: Vec<f64>,
    count: Vec<usize>,
    pos: Vec<usize>,
    sums: Vec<(RunningSum, RunningSum)>,
    /// Sign of fast − slow at the previous bar (−1, 0, +1); `None` before both exist.
    prev: Vec<Option<i8>>,
}

impl Windows {
    fn new(n: usize, fast: usize, slow: usize) -> Self {
        Self {
            fast,
            slow,
            ring: vec![0.0; n * slow],
            count: vec![0; n],
            pos: vec![0; n],
            sums: vec![(RunningSum::default(), RunningSum::default()); n],
            prev: vec![None; n],
        }
    }

    /// The exactly rounded means of instrument `i`'s windows, summing the
    /// ring; `last` is the slot of the newest close.
    fn exact_means(&self, i: usize, last: usize) -> (f64, f64) {
        let n = self.count.len();
        let (mut fsum, mut ssum) = (ExactSum::default(), ExactSum::default());
        for k in 0..self.slow {
            let slot = (last + self.slow - k) % self.slow;
            let x = self.ring[slot * n + i];
            if k < self.fast {
                fsum.add(x);
            }
            ssum.add(x);
        }
        (
            fsum.value() / self.fast as f64,
            ssum.value() / self.slow as f64,
        )
    }

    /// Adds instrument `i`'s close; once both windows are full returns the
    /// sign of fast − slow (see the type's docs).
    #[inline]
    fn update(&mut self, i: usize, x: f64) -> Option<i8> {
        let (fast, slow) = (self.fast, self.slow);
        let c = self.count[i];
        // slot-major layout: slot k of instrument i at k × n + i, so that on a
        // day when instruments share a slot their closes are contiguous
        let n = self.count.len();
        // ring slot of this close, without a division: count mod slow, kept
        // by wrapping (count only grows by one per call)
        let pos = if c < slow { c } else { self.pos[i] };
        let (fs, ss) = &mut self.sums[i];
        if c >= fast {
            let out = if pos >= fast {
                pos - fast
            } else {
                pos + slow - fast
            };
            fs.add(-self.ring[out * n + i]);
        }
        if c >= slow {
            ss.add(-self.ring[pos * n + i]);
        }
        fs.add(x);
        ss.add(x);
        let (f, s) = (fs.value() / fast as f64, ss.value() / slow as f64);
        self.ring[pos * n + i] = x;
        self.count[i] = c + 1;
        self.pos[i] = if pos + 1 == slow { 0 } else { pos + 1 };
        if c + 1 < slow {
            return None;
        }
        let (f, s) = if (f - s).abs() > 1e-12 * f.abs().max(s.abs()) {
            (f, s)
        } else {
            self.exact_means(i, pos)
        };
        Some(if f > s {
            1
        } else if f < s {
            -1
        } else {
            0
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
        self.windows = Windows::new(instruments.len(), self.params.fast, self.params.slow);
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
        let mut w = Windows::new(1, 10, 30);
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
