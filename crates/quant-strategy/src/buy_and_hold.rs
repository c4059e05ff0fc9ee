//! `buy_and_hold`: buy the universe once, equally weighted (or with given
//! weights), and hold.
//!
//! Parameters: `weights` (optional table symbol → fraction of equity; the
//! default is 1/N for each tradable instrument). The target is issued at the
//! first close at which every weighted instrument has a bar, so a
//! suspension on the first day only delays it.

use std::collections::BTreeMap;

use quant_core::{AssetClass, Instrument, InstrumentIndex};
use serde::Deserialize;

use crate::Strategy;
use crate::context::{Context, Signal};
use crate::error::{Error, Result};
use crate::snapshot;

/// Parameters of [`BuyAndHold`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyAndHoldParams {
    /// Symbol → fraction of equity; empty means equal weights.
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
}

/// Buy once, hold forever.
#[derive(Debug, Clone)]
pub struct BuyAndHold {
    params: BuyAndHoldParams,
    /// Instruments of the run.
    n: usize,
    targets: Vec<(InstrumentIndex, f64)>,
    /// The target has been issued (the whole saved state).
    done: bool,
}

impl BuyAndHold {
    /// Builds the strategy.
    ///
    /// # Errors
    /// [`Error::Config`] when a weight is negative or weights sum above 1.
    pub fn new(params: BuyAndHoldParams) -> Result<Self> {
        let sum: f64 = params.weights.values().sum();
        if params
            .weights
            .values()
            .any(|w| !(w.is_finite() && *w >= 0.0))
            || sum > 1.0 + 1e-12
        {
            return Err(Error::Config {
                strategy: "buy_and_hold".into(),
                message: format!(
                    "params.weights must be non-negative and sum to at most 1 (sum {sum})"
                ),
            });
        }
        Ok(Self {
            params,
            n: 0,
            targets: Vec::new(),
            done: false,
        })
    }
}

impl Strategy for BuyAndHold {
    fn name(&self) -> &str {
        "buy_and_hold"
    }

    fn on_start(&mut self, instruments: &[Instrument]) -> Result<()> {
        let tradable: Vec<usize> = (0..instruments.len())
            .filter(|&i| instruments[i].asset_class != AssetClass::Index)
            .collect();
        self.n = instruments.len();
        self.targets.clear();
        if self.params.weights.is_empty() {
            let w = 1.0 / tradable.len().max(1) as f64;
            self.targets = tradable
                .iter()
                .map(|&i| (InstrumentIndex(i as u32), w))
                .collect();
        } else {
            for (sym, w) in &self.params.weights {
                let i = instruments
                    .iter()
                    .position(|x| x.symbol.as_str() == sym)
                    .ok_or_else(|| Error::Config {
                        strategy: "buy_and_hold".into(),
                        message: format!("params.weights: `{sym}` is not in the universe"),
                    })?;
                self.targets.push((InstrumentIndex(i as u32), *w));
            }
        }
        Ok(())
    }

    /// Whether the target has been issued.
    fn save_state(&self) -> Result<Vec<u8>> {
        let params = snapshot::fingerprint(&self.params);
        snapshot::save(self.name(), &params, self.n, &self.done)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<()> {
        let params = snapshot::fingerprint(&self.params);
        self.done = snapshot::load(self.name(), &params, self.n, state)?;
        Ok(())
    }

    fn on_bar(&mut self, ctx: &Context<'_>, out: &mut Vec<Signal>) {
        if self.done
            || self
                .targets
                .iter()
                .any(|(i, _)| ctx.bars[i.get()].is_none())
        {
            return;
        }
        self.done = true;
        out.push(Signal::TargetWeights(self.targets.clone()));
    }
}
