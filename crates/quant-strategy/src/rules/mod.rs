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
//!
//! Terms may read bars of another interval than the run's (`close@1d`,
//! `SMA(20)@1d`; [`expr`]): at the first bar, the rules check that the
//! run has bars of every interval named ([`crate::book::Rules::check`]),
//! naming the file, the key, the term and the interval when it has not.

pub mod expr;
pub mod file;

use quant_core::{Instrument, InstrumentIndex, Interval};

use serde::{Deserialize, Serialize};

use crate::book::Rules;
use crate::context::{Context, SeriesView};
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
    /// Every interval the terms name (`@1d`), fields' included.
    pub(crate) intervals: Vec<Interval>,
    /// Where each `@` term stands in the file, for messages.
    pub(crate) reads: Vec<Reading>,
    pub(crate) state: Vec<Inst>,
}

/// A term reading bars of a named interval, and where it is written: the
/// file's path, line and key (`signals[1].when`).
#[derive(Debug, Clone)]
pub(crate) struct Reading {
    pub(crate) interval: Interval,
    pub(crate) path: std::path::PathBuf,
    pub(crate) line: usize,
    pub(crate) key: String,
    pub(crate) text: String,
}

impl Reading {
    /// `file:line: key: `term``.
    fn origin(&self) -> String {
        format!(
            "{}:{}: {}: `{}`",
            self.path.display(),
            self.line,
            self.key,
            self.text
        )
    }
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

    /// Instrument `i`'s score, entry and exit verdicts and rank on the
    /// newest bar of `s`, from its values.
    fn evaluate(&mut self, i: usize, s: &SeriesView<'_>) {
        let Some(st) = self.state.get_mut(i) else {
            return;
        };
        let v = &st.values;
        st.score = self
            .signals
            .iter()
            .filter(|(c, _)| c.holds(v, s))
            .map(|(_, w)| w)
            .sum();
        st.entry_ok = self.entry_all.iter().all(|c| c.holds(v, s));
        st.exit = self.exits.iter().any(|c| c.holds(v, s))
            || self.score_below.is_some_and(|b| st.score < b);
        st.rank = match &self.rank {
            Some(e) => e.value(v, s),
            None => st.score,
        };
    }

    fn fresh_values(&self) -> Result<NodeValues> {
        NodeValues::reading(&self.nodes, &self.intervals).map_err(|e| Error::Config {
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
        self.evaluate(i, &s);
    }

    /// As `update`, with every named interval fed its newly completed
    /// bars ([`NodeValues::update_from`]).
    fn update_from(&mut self, i: usize, s: SeriesView<'_>, ctx: &Context<'_>) {
        let Some(st) = self.state.get_mut(i) else {
            return;
        };
        st.values.update_from(&s, ctx, InstrumentIndex(i as u32));
        self.evaluate(i, &s);
    }

    /// Every named interval is one the run has: `1d` on a daily-bar run
    /// (its own bars), otherwise one [`crate::History::series_of`] gives.
    fn check(&self, ctx: &Context<'_>) -> Result<()> {
        if ctx.instruments.is_empty() {
            return Ok(());
        }
        let daily_run = ctx.time.is_none();
        for &interval in &self.intervals {
            let has = (daily_run && interval == Interval::D1)
                || ctx
                    .history
                    .series_of(InstrumentIndex(0), interval)
                    .is_some();
            if has {
                continue;
            }
            let origin = self
                .reads
                .iter()
                .find(|r| r.interval == interval)
                .map_or_else(|| format!("`@{interval}`"), Reading::origin);
            let why = if daily_run {
                "finer than the run's daily bars"
            } else {
                "which this run's feed does not have: an intraday run reads its own bars and the daily bars completed from them, never an interval finer than its own"
            };
            return Err(Error::Config {
                strategy: self.name.clone(),
                message: format!("{origin} reads {interval} bars, {why}"),
            });
        }
        Ok(())
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
