//! Declarative strategies: a TOML strategy file (see
//! `docs/strategy-files.md`) read into [`file::StrategyFile`] and run as
//! a [`crate::book::Book`] of [`ConfluenceRules`].
//!
//! Each day, per instrument, every `[[signals]]` condition is evaluated on
//! the newest bar; the confluence score is the sum of the weights of those
//! that hold. An instrument not held is bought when its score reaches
//! `[entry] threshold` (and the optional `[entry] when` conditions all
//! hold); a held one is sold when any `[exit] when` condition holds or its
//! score falls below `[exit] score_below`. Entries are ranked by `[entry]
//! rank` (an expression, e.g. `ROC(20)`; default: the score).

pub mod expr;
pub mod file;

use quant_core::Instrument;

use serde::{Deserialize, Serialize};

use crate::book::Rules;
use crate::context::SeriesView;
use crate::error::{Error, Result};
use crate::snapshot;
use expr::{Condition, Expr, Node, NodeValues, SavedValues};

/// Weighted conditions, a threshold and exit conditions over shared
/// indicator nodes.
pub struct ConfluenceRules {
    pub(crate) name: String,
    /// Indicator nodes the conditions index.
    pub(crate) nodes: Vec<Node>,
    pub(crate) signals: Vec<(Condition, f64)>,
    pub(crate) entry_all: Vec<Condition>,
    pub(crate) threshold: f64,
    pub(crate) exits: Vec<Condition>,
    pub(crate) score_below: Option<f64>,
    pub(crate) rank: Option<Expr>,
    pub(crate) state: Vec<Inst>,
}

pub(crate) struct Inst {
    values: NodeValues,
    score: f64,
    entry_ok: bool,
    exit: bool,
    rank: f64,
}

/// One instrument's [`Inst`] as saved.
#[derive(Serialize, Deserialize)]
struct SavedInst {
    values: SavedValues,
    score: f64,
    entry_ok: bool,
    exit: bool,
    rank: f64,
}

impl ConfluenceRules {
    /// Today's confluence score of instrument `i` (0 before its first bar).
    pub fn score(&self, i: usize) -> f64 {
        self.state.get(i).map_or(0.0, |s| s.score)
    }

    /// What the rules are: the fingerprint of a saved state.
    fn fingerprint(&self) -> String {
        snapshot::fingerprint(&(
            &self.nodes,
            &self.signals,
            &self.entry_all,
            self.threshold,
            &self.exits,
            self.score_below,
            &self.rank,
        ))
    }

    fn fresh_values(&self) -> Result<NodeValues> {
        NodeValues::new(&self.nodes).map_err(|e| Error::Config {
            strategy: self.name.clone(),
            message: e.to_string(),
        })
    }
}

impl Rules for ConfluenceRules {
    fn name(&self) -> &str {
        &self.name
    }

    fn on_start(&mut self, instruments: &[Instrument]) -> Result<()> {
        self.state = Vec::with_capacity(instruments.len());
        for _ in instruments {
            let values = self.fresh_values()?;
            self.state.push(Inst {
                values,
                score: 0.0,
                entry_ok: false,
                exit: false,
                rank: f64::NAN,
            });
        }
        Ok(())
    }

    fn update(&mut self, i: usize, s: SeriesView<'_>) {
        let Some(st) = self.state.get_mut(i) else {
            return;
        };
        st.values.update(&s);
        let v = &st.values;
        st.score = self
            .signals
            .iter()
            .filter(|(c, _)| c.holds(v, &s))
            .map(|(_, w)| w)
            .sum();
        st.entry_ok = self.entry_all.iter().all(|c| c.holds(v, &s));
        st.exit = self.exits.iter().any(|c| c.holds(v, &s))
            || self.score_below.is_some_and(|b| st.score < b);
        st.rank = match &self.rank {
            Some(e) => e.value(v, &s),
            None => st.score,
        };
    }

    fn entry(&self, i: usize) -> Option<f64> {
        let st = self.state.get(i)?;
        (st.score >= self.threshold && st.entry_ok && !st.rank.is_nan()).then_some(st.rank)
    }

    fn exit(&self, i: usize) -> bool {
        self.state.get(i).is_some_and(|s| s.exit)
    }

    /// Every instrument's indicator series (each indicator whole, newest
    /// and previous values), score, entry and exit verdicts and rank.
    fn save_state(&self) -> Result<Vec<u8>> {
        let saved: Vec<SavedInst> = self
            .state
            .iter()
            .map(|s| SavedInst {
                values: s.values.save(),
                score: s.score,
                entry_ok: s.entry_ok,
                exit: s.exit,
                rank: s.rank,
            })
            .collect();
        snapshot::save(&self.name, &self.fingerprint(), self.state.len(), &saved)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<()> {
        let n = self.state.len();
        let saved: Vec<SavedInst> = snapshot::load(&self.name, &self.fingerprint(), n, state)?;
        snapshot::check_len(&self.name, "instrument states", saved.len(), n)?;
        let mut loaded = Vec::with_capacity(n);
        for (i, s) in saved.into_iter().enumerate() {
            let mut values = self.fresh_values()?;
            values
                .load(s.values)
                .map_err(|e| snapshot::state_error(&self.name, format!("instrument {i}: {e}")))?;
            loaded.push(Inst {
                values,
                score: s.score,
                entry_ok: s.entry_ok,
                exit: s.exit,
                rank: s.rank,
            });
        }
        self.state = loaded;
        Ok(())
    }
}
