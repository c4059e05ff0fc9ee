//! The declarative strategy file (TOML; reference: `docs/strategy-files.md`).
//!
//! Every error names the file, the line and the key at fault:
//! `config/strategies/x.toml:14: signals[1].when: unknown indicator `RSX`…`.
//!
//! Any text gives a strategy or such an error, never a panic: a file is at
//! most [`MAX_FILE_SIZE`] bytes (checked before it is read whole), its
//! conditions meet the limits of [`super::expr`] (length, nesting, terms,
//! indicator series) and its indicator periods those of
//! `quant-indicators`.

use std::path::{Path, PathBuf};

use quant_core::{Interval, Schedule};
use quant_risk::RiskConfig;
use quant_risk::exits::ExitRules;
use quant_risk::sizing::Sizing;
use serde::Deserialize;
use toml::Spanned;

use super::expr::{ExprError, Parser};
use super::{ConfluenceRules, Reading};
use crate::Strategy;
use crate::book::{Book, BookParams, FundamentalGate, UniverseFilter};
use crate::error::{Error, Result};

/// `[strategy]`: what the strategy is called.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Name shown in reports.
    pub name: String,
    /// One line on what it does.
    #[serde(default)]
    pub description: String,
}

/// One `[[signals]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalEntry {
    /// The condition (see [`super::expr`]).
    pub when: Spanned<String>,
    /// Its weight in the confluence score (default 1).
    #[serde(default = "one")]
    pub weight: Spanned<f64>,
}

fn one() -> Spanned<f64> {
    Spanned::new(0..0, 1.0)
}

/// `[entry]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySection {
    /// Confluence score needed to buy.
    pub threshold: Spanned<f64>,
    /// Conditions that must all hold as well.
    #[serde(default)]
    pub when: Vec<Spanned<String>>,
    /// Ranking expression among candidates (default: the score).
    pub rank: Option<Spanned<String>>,
    /// Positions held at most (default 5).
    #[serde(default = "five")]
    pub max_positions: usize,
    /// Largest new position, fraction of equity (default 1).
    #[serde(default = "unit")]
    pub max_weight: f64,
}

fn five() -> usize {
    5
}
fn unit() -> f64 {
    1.0
}

/// `[exit]`: rule exits and protective exits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitSection {
    /// Sell when any of these holds.
    #[serde(default)]
    pub when: Vec<Spanned<String>>,
    /// Sell when the confluence score falls below this.
    pub score_below: Option<f64>,
    /// Stop-loss below the entry (fraction).
    pub stop_loss: Option<f64>,
    /// Take-profit above the entry (fraction).
    pub take_profit: Option<f64>,
    /// Take profit at this multiple of the initial risk (needs `stop_loss`).
    pub r_multiple: Option<f64>,
    /// Chandelier trail, ATR multiples below the highest high since entry.
    pub chandelier_atr: Option<f64>,
    /// Sell after this many bars.
    pub time_stop_bars: Option<u32>,
    /// ATR window for the chandelier and ATR sizing (default 14).
    #[serde(default = "fourteen")]
    pub atr_period: usize,
}

fn fourteen() -> usize {
    14
}

/// A file without `[exit]`: no exits, the ATR window's default of 14 (a
/// derived default would make it 0, which the book refuses).
impl Default for ExitSection {
    fn default() -> Self {
        Self {
            when: Vec::new(),
            score_below: None,
            stop_loss: None,
            take_profit: None,
            r_multiple: None,
            chandelier_atr: None,
            time_stop_bars: None,
            atr_period: fourteen(),
        }
    }
}

/// `[rebalance]`: the older place of the entry schedule (`[schedule]
/// rebalance` is the newer; a file gives one of them).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebalanceSection {
    /// When entries are considered: a schedule name (`daily`, `weekly`,
    /// `monthly`, `month_end`, …) or a table `{ every, day, at }`.
    pub schedule: Schedule,
}

/// `[schedule]`: when the strategy acts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    /// When entries are considered: a schedule name (`daily`, `weekly`,
    /// `monthly`, `week_end`, `month_end`, `week_start`, `month_start`,
    /// `quarter_end`, `quarter_start`) or a table
    /// `{ every = "week" | "month" | "quarter", day = 1 | -1 | …, at = "close" | "open" }`.
    pub rebalance: Schedule,
}

/// The two keys that may hold the entry schedule, newer first.
const SCHEDULE_KEYS: [&str; 2] = ["schedule.rebalance", "rebalance.schedule"];

/// A whole strategy file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `[strategy]`.
    pub strategy: Header,
    /// `[universe]`.
    #[serde(default)]
    pub universe: UniverseFilter,
    /// `[fundamentals]`.
    pub fundamentals: Option<FundamentalGate>,
    /// `[[signals]]`.
    pub signals: Vec<SignalEntry>,
    /// `[entry]`.
    pub entry: EntrySection,
    /// `[exit]`.
    #[serde(default)]
    pub exit: ExitSection,
    /// `[sizing]` (quant-risk sizing; default equal weight over
    /// `entry.max_positions`).
    pub sizing: Option<Sizing>,
    /// `[risk]`: limits and breakers for the engine's risk gate.
    pub risk: Option<RiskConfig>,
    /// `[rebalance]` (the older form of `[schedule] rebalance`).
    pub rebalance: Option<RebalanceSection>,
    /// `[schedule]` (entries default to daily).
    pub schedule: Option<ScheduleSection>,
}

/// A loaded, checked strategy file.
#[derive(Debug, Clone)]
pub struct StrategyFile {
    /// Where it came from.
    pub path: PathBuf,
    /// What it says.
    pub spec: Spec,
    text: String,
}

/// Largest strategy file read: 1 MiB (the shipped ones are under 2 KiB).
pub const MAX_FILE_SIZE: usize = 1 << 20;

/// Largest weight of one `[[signals]]` entry: 1,000.
pub const MAX_WEIGHT: f64 = 1000.0;

/// 1-based line of byte offset `at` in `text` (any offset: counted in
/// bytes, so one inside a character or past the end is no panic).
fn line_of(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let upto = bytes.get(..at).unwrap_or(bytes);
    upto.iter().filter(|&&b| b == b'\n').count() + 1
}

/// The error of a file over [`MAX_FILE_SIZE`] bytes.
fn too_big(path: &Path, size: u64) -> Error {
    Error::File {
        path: path.to_path_buf(),
        line: 0,
        key: String::new(),
        message: format!(
            "the file is {size} bytes; a strategy file has at most {MAX_FILE_SIZE} (1 MiB)"
        ),
    }
}

impl StrategyFile {
    /// Reads and checks a strategy file.
    ///
    /// # Errors
    /// [`Error::Io`] when unreadable or not UTF-8; [`Error::File`] for a
    /// file over [`MAX_FILE_SIZE`] bytes, and naming the line and key for
    /// malformed TOML, a missing or unknown key, an unknown indicator, an
    /// impossible parameter, a condition over the limits of
    /// [`super::expr`] or a value out of range.
    pub fn load(path: &Path) -> Result<Self> {
        use std::io::Read;
        let io = |e: std::io::Error| Error::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size > MAX_FILE_SIZE as u64 {
            return Err(too_big(path, size));
        }
        // read at most one byte past the limit: a file that grows (or a
        // device that never ends) is refused, not read whole
        let mut bytes = Vec::new();
        file.take(MAX_FILE_SIZE as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() > MAX_FILE_SIZE {
            return Err(too_big(path, bytes.len() as u64));
        }
        let text = String::from_utf8(bytes).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            message: format!("not UTF-8 text: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks strategy-file text; `path` names it in errors.
    ///
    /// # Errors
    /// As [`StrategyFile::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        if text.len() > MAX_FILE_SIZE {
            return Err(too_big(path, text.len() as u64));
        }
        let spec: Spec = toml::from_str(text).map_err(|e| {
            // a bad schedule is named by its key (the TOML error has its span only)
            let key = e.span().and_then(|at| {
                SCHEDULE_KEYS
                    .into_iter()
                    .find(|k| span_in(text, k).is_some_and(|v| v.contains(&at.start)))
            });
            Error::File {
                path: path.to_path_buf(),
                line: e.span().map_or(0, |s| line_of(text, s.start)),
                key: key.unwrap_or_default().to_string(),
                message: e.message().trim().to_string(),
            }
        })?;
        let file = Self {
            path: path.to_path_buf(),
            spec,
            text: text.to_string(),
        };
        file.build_rules()?;
        file.entry_schedule()?;
        file.book_params()?;
        if let Some(Err(e)) = file.spec.risk.as_ref().map(RiskConfig::validate) {
            let key = match &e {
                quant_risk::Error::Setting { key, .. } => *key,
                _ => "",
            };
            let limits = format!("risk.limits.{key}");
            let breakers = format!("risk.breakers.{key}");
            let found = [limits.as_str(), breakers.as_str()]
                .into_iter()
                .find(|k| file.span_of(k).is_some())
                .unwrap_or("risk");
            return Err(file.key_error(&[found], found, e));
        }
        Ok(file)
    }

    /// The strategy's name.
    pub fn name(&self) -> &str {
        &self.spec.strategy.name
    }

    /// The `[risk]` section, if any.
    pub fn risk(&self) -> Option<&RiskConfig> {
        self.spec.risk.as_ref()
    }

    /// The indicator series the file's conditions read, deduplicated, as
    /// column names (`EMA_9`, `SMA_20` of `volume` → `SMA_20(volume)`).
    ///
    /// # Errors
    /// As [`StrategyFile::load`].
    pub fn indicators(&self) -> Result<Vec<String>> {
        Ok(self
            .build_rules()?
            .nodes
            .iter()
            .map(|n| {
                let col = n.spec.columns().remove(0);
                let mut name = match n.source {
                    Some(f) => format!("{col}({})", format!("{f:?}").to_lowercase()),
                    None => col,
                };
                if let Some(i) = n.interval {
                    name.push('@');
                    name.push_str(i.as_str());
                }
                name
            })
            .collect())
    }

    /// Every interval the file's terms name with `@` (`close@1d`,
    /// `SMA(20)@1d`), shortest first; empty when it reads only the run's
    /// own bars.
    ///
    /// # Errors
    /// As [`StrategyFile::load`].
    pub fn intervals(&self) -> Result<Vec<Interval>> {
        let mut v = self.build_rules()?.intervals;
        v.sort_unstable();
        Ok(v)
    }

    /// Checks the file against the interval of the run's bars: a term may
    /// read the run's own interval or a coarser one, never a finer one
    /// (`close@5m` on daily bars, `SMA(20)@1m` on 5-minute bars). Whether
    /// the run's feed has a coarser interval is known only from the feed
    /// and checked at the first bar ([`crate::book::Rules::check`]).
    ///
    /// # Errors
    /// [`Error::File`] naming the line, the key, the term and both
    /// intervals; as [`StrategyFile::load`] otherwise.
    pub fn check_interval(&self, run: Interval) -> Result<()> {
        let rules = self.build_rules()?;
        match rules.reads.iter().find(|r| r.interval < run) {
            Some(r) => Err(Error::File {
                path: self.path.clone(),
                line: r.line,
                key: r.key.clone(),
                message: format!(
                    "`{}` reads {} bars, finer than the run's {run} bars",
                    r.text, r.interval
                ),
            }),
            None => Ok(()),
        }
    }

    /// Builds the strategy: a [`Book`] of [`ConfluenceRules`].
    ///
    /// # Errors
    /// As [`StrategyFile::load`] (the file is checked again).
    pub fn build(&self) -> Result<Box<dyn Strategy>> {
        Ok(Box::new(Book::new(
            self.build_rules()?,
            self.book_params()?,
        )?))
    }

    fn at_error(&self, span: std::ops::Range<usize>, key: String, e: ExprError) -> Error {
        // the string's text starts after its opening quote
        let at = span.start + 1 + e.at;
        Error::File {
            path: self.path.clone(),
            line: line_of(&self.text, at),
            key,
            message: e.message,
        }
    }

    /// An error for the first of `keys` (dotted paths) found in the file.
    fn key_error(&self, keys: &[&str], key: &str, e: impl std::fmt::Display) -> Error {
        let line = keys
            .iter()
            .find_map(|k| self.span_of(k))
            .map_or(0, |s| line_of(&self.text, s.start));
        Error::File {
            path: self.path.clone(),
            line,
            key: key.to_string(),
            message: e.to_string(),
        }
    }

    /// The span of the value at a dotted path (`entry.threshold`).
    fn span_of(&self, dotted: &str) -> Option<std::ops::Range<usize>> {
        span_in(&self.text, dotted)
    }

    /// The entry schedule: `[schedule] rebalance`, or the older
    /// `[rebalance] schedule`, or daily when neither is given.
    ///
    /// # Errors
    /// [`Error::File`] naming both keys and their lines when both are
    /// given; naming the key when the schedule is at a time of day (a
    /// daily-bar run cannot follow it).
    pub fn entry_schedule(&self) -> Result<Schedule> {
        let s = &self.spec;
        let line = |key: &str| {
            self.span_of(key)
                .map_or(0, |v| line_of(&self.text, v.start))
        };
        let (key, schedule) = match (&s.schedule, &s.rebalance) {
            (Some(_), Some(_)) => {
                let [new, old] = SCHEDULE_KEYS;
                return Err(Error::File {
                    path: self.path.clone(),
                    line: line(new),
                    key: new.into(),
                    message: format!(
                        "the entry schedule is also given by {old} at line {}; keep one ({new} is the newer form)",
                        line(old)
                    ),
                });
            }
            (Some(n), None) => (SCHEDULE_KEYS[0], n.rebalance),
            (None, Some(o)) => (SCHEDULE_KEYS[1], o.schedule),
            (None, None) => return Ok(Schedule::DAILY),
        };
        schedule
            .check_daily()
            .map_err(|e| self.key_error(&[key], key, e))?;
        Ok(schedule)
    }

    fn build_rules(&self) -> Result<ConfluenceRules> {
        let s = &self.spec;
        let mut parser = Parser::default();
        if s.signals.is_empty() {
            return Err(self.key_error(
                &["signals"],
                "signals",
                "at least one [[signals]] entry is needed",
            ));
        }
        let mut reads = Vec::new();
        let mut signals = Vec::new();
        let mut total = 0.0;
        for (k, sig) in s.signals.iter().enumerate() {
            let key = format!("signals[{k}].when");
            let c = parser
                .condition(sig.when.get_ref())
                .map_err(|e| self.at_error(sig.when.span(), key.clone(), e))?;
            self.take_reads(&mut parser, sig.when.span(), &key, &mut reads);
            let w = *sig.weight.get_ref();
            if !(w.is_finite() && w > 0.0 && w <= MAX_WEIGHT) {
                return Err(Error::File {
                    path: self.path.clone(),
                    line: line_of(&self.text, sig.weight.span().start),
                    key: format!("signals[{k}].weight"),
                    message: format!("must be in (0, {MAX_WEIGHT}], got {w:?}"),
                });
            }
            total += w;
            signals.push((c, w));
        }
        let threshold = *s.entry.threshold.get_ref();
        if !(threshold > 0.0 && threshold <= total) {
            return Err(Error::File {
                path: self.path.clone(),
                line: line_of(&self.text, s.entry.threshold.span().start),
                key: "entry.threshold".into(),
                message: format!(
                    "must be in (0, {total}] (the sum of the signal weights), got {threshold:?}"
                ),
            });
        }
        let mut conditions = |list: &[Spanned<String>], key: &str| {
            list.iter()
                .enumerate()
                .map(|(k, w)| {
                    let key = format!("{key}[{k}]");
                    let c = parser
                        .condition(w.get_ref())
                        .map_err(|e| self.at_error(w.span(), key.clone(), e))?;
                    self.take_reads(&mut parser, w.span(), &key, &mut reads);
                    Ok(c)
                })
                .collect::<Result<Vec<_>>>()
        };
        let entry_all = conditions(&s.entry.when, "entry.when")?;
        let exits = conditions(&s.exit.when, "exit.when")?;
        let rank = match &s.entry.rank {
            Some(r) => {
                let e = parser
                    .expression(r.get_ref())
                    .map_err(|e| self.at_error(r.span(), "entry.rank".into(), e))?;
                self.take_reads(&mut parser, r.span(), "entry.rank", &mut reads);
                Some(e)
            }
            None => None,
        };
        if let Some(b) = s.exit.score_below
            && !(b.is_finite() && b > 0.0 && b <= total)
        {
            return Err(self.key_error(
                &["exit.score_below"],
                "exit.score_below",
                format!("must be in (0, {total}], got {b:?}"),
            ));
        }
        Ok(ConfluenceRules {
            name: s.strategy.name.clone(),
            intervals: parser.intervals,
            reads,
            nodes: parser.nodes,
            signals,
            entry_all,
            threshold,
            exits,
            score_below: s.exit.score_below,
            rank,
            state: Vec::new(),
        })
    }

    /// The `@` terms of the text parsed last by `parser` (the value at
    /// `span` of key `key`), with their lines, onto `out`.
    fn take_reads(
        &self,
        parser: &mut Parser,
        span: std::ops::Range<usize>,
        key: &str,
        out: &mut Vec<Reading>,
    ) {
        for r in parser.reads.drain(..) {
            out.push(Reading {
                interval: r.interval,
                path: self.path.clone(),
                // the string's text starts after its opening quote
                line: line_of(&self.text, span.start + 1 + r.at),
                key: key.to_string(),
                text: r.text,
            });
        }
    }

    fn book_params(&self) -> Result<BookParams> {
        let s = &self.spec;
        let e = &s.exit;
        let params = BookParams {
            max_positions: s.entry.max_positions,
            sizing: s.sizing.clone(),
            max_weight: s.entry.max_weight,
            exits: ExitRules {
                stop_loss: e.stop_loss,
                take_profit: e.take_profit,
                r_multiple: e.r_multiple,
                chandelier_atr: e.chandelier_atr,
                time_stop_bars: e.time_stop_bars,
            },
            atr_period: e.atr_period,
            rebalance: self.entry_schedule()?,
            universe: s.universe.clone(),
            fundamentals: s.fundamentals.clone(),
        };
        params.check().map_err(|bad| {
            // name the file's own key for the book's
            let key = file_key(&bad.key);
            self.key_error(&[key.as_str(), key_table(&key)], &key, bad.message)
        })?;
        Ok(params)
    }
}

/// The strategy file's key for a book key: `max_positions` and
/// `max_weight` live in `[entry]`, `atr_period` and `exits.*` in `[exit]`;
/// `sizing.*`, `universe.*` and `fundamentals.*` are the same.
fn file_key(book: &str) -> String {
    match book {
        "max_positions" | "max_weight" => format!("entry.{book}"),
        "atr_period" => "exit.atr_period".into(),
        _ => book
            .strip_prefix("exits")
            .map_or_else(|| book.to_string(), |rest| format!("exit{rest}")),
    }
}

/// The span of the value at a dotted path (`entry.threshold`) of TOML
/// `text`, `None` when the text is no TOML or has no such key.
fn span_in(text: &str, dotted: &str) -> Option<std::ops::Range<usize>> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut parts = dotted.split('.');
    let first = parts.next()?;
    let mut cur = doc.get_ref().get(first)?;
    for p in parts {
        cur = cur.get_ref().get(p)?;
    }
    Some(cur.span())
}

/// The table of a dotted key (`sizing.fraction` → `sizing`).
fn key_table(key: &str) -> &str {
    key.split('.').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[strategy]
name = "ema-rsi"

[universe]
exclude_st = true
min_price = 3

[[signals]]
when = "EMA(9) crosses above EMA(21)"
weight = 2

[[signals]]
when = "RSI(14) between 50 and 70"

[[signals]]
when = "volume > 1.5 * SMA(volume, 20)"

[entry]
threshold = 3
max_positions = 4

[exit]
when = ["close below EMA(21)"]
stop_loss = 0.08

[sizing]
method = "fixed_fraction"
fraction = 0.2

[rebalance]
schedule = "weekly"
"#;

    fn parse(text: &str) -> Result<StrategyFile> {
        StrategyFile::parse(text, Path::new("s.toml"))
    }

    fn err(text: &str) -> String {
        parse(text).err().unwrap().to_string()
    }

    #[test]
    fn good_file_builds() {
        let f = parse(GOOD).unwrap();
        assert_eq!(f.name(), "ema-rsi");
        assert_eq!(f.build().unwrap().name(), "ema-rsi");
        let b = f.book_params().unwrap();
        assert_eq!(b.max_positions, 4);
        assert_eq!(b.rebalance, Schedule::WEEKLY);
        assert_eq!(b.exits.stop_loss, Some(0.08));
        assert_eq!(
            f.indicators().unwrap(),
            ["EMA_9", "EMA_21", "RSI_14", "SMA_20(volume)"]
        );
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = err(&GOOD.replace("RSI(14) between", "RSX(14) between"));
        assert!(e.starts_with("s.toml:14: signals[1].when: "), "{e}");
        assert!(e.contains("RSX") && e.contains("RSI("), "{e}");
        let e = err(&GOOD.replace("EMA(9) crosses", "EMA(0) crosses"));
        assert!(e.starts_with("s.toml:10: signals[0].when: "), "{e}");
        let e = err(&GOOD.replace("threshold = 3", "threshold = 5"));
        assert!(
            e.starts_with("s.toml:20: entry.threshold: must be in (0, 4]"),
            "{e}"
        );
        let e = err(&GOOD.replace("threshold = 3\n", ""));
        assert!(e.contains("s.toml:19") && e.contains("threshold"), "{e}");
        let e = err(&GOOD.replace("exclude_st", "exclude_sst"));
        assert!(e.contains("s.toml:6") && e.contains("exclude_sst"), "{e}");
        let e = err(&GOOD.replace("close below EMA(21)", "close below"));
        assert!(e.starts_with("s.toml:24: exit.when[0]: "), "{e}");
        let e = err(&GOOD.replace("stop_loss = 0.08", "stop_loss = 1.5"));
        assert!(e.starts_with("s.toml:25: exit.stop_loss: "), "{e}");
        let e = err(&GOOD.replace("fraction = 0.2", "fraction = 3"));
        assert!(e.starts_with("s.toml:29: sizing.fraction: "), "{e}");
        let e = err(&GOOD.replace("max_positions = 4", "max_positions = 0"));
        assert!(e.starts_with("s.toml:21: entry.max_positions: "), "{e}");
        let e = err(&GOOD.replace("weekly", "hourly"));
        assert!(e.contains("s.toml:32") && e.contains("hourly"), "{e}");
        let e = err(&format!("{GOOD}\n[risk.limits]\nmax_position_weight = 2\n"));
        assert!(
            e.contains("s.toml:35") && e.contains("max_position_weight"),
            "{e}"
        );
        let e = err(&GOOD.replace("weight = 2", "weight = -1"));
        assert!(e.starts_with("s.toml:11: signals[0].weight: "), "{e}");
    }

    /// Crafted files: huge, deeply nested, long sums, huge periods and
    /// counts — each an error naming the file, the line and the key.
    #[test]
    fn crafted_files_are_errors_with_file_line_and_key() {
        let big = format!("{GOOD}\n# {}\n", "x".repeat(MAX_FILE_SIZE));
        let e = err(&big);
        assert!(
            e.starts_with("s.toml: the file is") && e.contains("at most 1048576"),
            "{e}"
        );
        let deep = format!("{}close{} > 1", "(".repeat(100_000), ")".repeat(100_000));
        let e = err(&GOOD.replace("RSI(14) between 50 and 70", &deep));
        assert!(e.starts_with("s.toml:14: signals[1].when: "), "{e}");
        assert!(e.contains("at most 4096"), "{e}");
        let sum = vec!["close"; 100_000].join(" + ");
        let e = err(&GOOD.replace("close below EMA(21)", &format!("{sum} < 1")));
        assert!(e.starts_with("s.toml:24: exit.when[0]: "), "{e}");
        let nest = format!("{}close{} > 1", "(".repeat(65), ")".repeat(65));
        let e = err(&GOOD.replace("RSI(14) between 50 and 70", &nest));
        assert!(
            e.starts_with("s.toml:14: signals[1].when: ") && e.contains("nested more than 64"),
            "{e}"
        );
        let terms = format!("{} > 1", vec!["1"; 300].join("+"));
        let e = err(&GOOD.replace("RSI(14) between 50 and 70", &terms));
        assert!(
            e.contains("s.toml:14: signals[1].when: more than 256 terms"),
            "{e}"
        );
        let cases = [
            (
                "EMA(9) crosses",
                "EMA(18446744073709551615) crosses",
                "s.toml:10: signals[0].when: ",
            ),
            (
                "SMA(volume, 20)",
                "SMA(volume, 100001)",
                "s.toml:17: signals[2].when: ",
            ),
            (
                "max_positions = 4",
                "max_positions = 9223372036854775807",
                "s.toml:21: entry.max_positions: max_positions must be in [1, 10000]",
            ),
            (
                "stop_loss = 0.08",
                "stop_loss = 0.08\natr_period = 100001",
                "s.toml:26: exit.atr_period: atr_period must be in [1, 100000]",
            ),
            (
                "stop_loss = 0.08",
                "stop_loss = 0.08\ntime_stop_bars = 4294967295",
                "s.toml:26: exit.time_stop_bars: ",
            ),
            (
                "stop_loss = 0.08",
                "stop_loss = 0.08\ntake_profit = 1e300",
                "s.toml:26: exit.take_profit: ",
            ),
            (
                "min_price = 3",
                "min_price = 3\nliquidity_days = 9223372036854775807",
                "s.toml:8: universe.liquidity_days: ",
            ),
            (
                "min_price = 3",
                "min_price = 3\nmin_history = 9223372036854775807",
                "s.toml:8: universe.min_history: ",
            ),
            (
                "weight = 2",
                "weight = 1e308",
                "s.toml:11: signals[0].weight: must be in (0, 1000]",
            ),
            (
                "weight = 2",
                "weight = nan",
                "s.toml:11: signals[0].weight: ",
            ),
            (
                "fraction = 0.2",
                "fraction = inf",
                "s.toml:29: sizing.fraction: ",
            ),
        ];
        for (from, to, want) in cases {
            let e = err(&GOOD.replace(from, to));
            assert!(e.starts_with(want), "{to}: {e}");
        }
        let e = err(&format!(
            "{GOOD}\n[risk.breakers]\nmax_drawdown = 0.2\ncooldown_days = 4294967295\n"
        ));
        assert!(
            e.starts_with("s.toml:36: risk.breakers.cooldown_days: ") && e.contains("[1, 100000]"),
            "{e}"
        );
        // a liquidity window of one bar is today's value, not an error
        assert!(parse(&GOOD.replace("min_price = 3", "min_price = 3\nliquidity_days = 1")).is_ok());
    }

    /// Terms of another interval: listed, checked against the run's
    /// interval, and their errors name the file, the line, the key and
    /// the term.
    #[test]
    fn interval_terms() {
        let text = GOOD
            .replace(
                "[entry]\nthreshold = 3",
                "[entry]\nthreshold = 3\nwhen = [\"close@1d > SMA(20)@1d\"]\nrank = \"ROC(5)@1d\"",
            )
            .replace("close below EMA(21)", "RSI(14)@5m < 30");
        let f = parse(&text).unwrap();
        assert_eq!(
            f.indicators().unwrap(),
            [
                "EMA_9",
                "EMA_21",
                "RSI_14",
                "SMA_20(volume)",
                "SMA_20@1d",
                "RSI_14@5m",
                "ROC_5@1d"
            ]
        );
        assert_eq!(f.intervals().unwrap(), [Interval::M5, Interval::D1]);
        assert!(f.build().is_ok());
        assert!(parse(GOOD).unwrap().intervals().unwrap().is_empty());
        // the run's interval or a coarser one
        f.check_interval(Interval::M5).unwrap();
        f.check_interval(Interval::M1).unwrap();
        assert_eq!(
            f.check_interval(Interval::M15).unwrap_err().to_string(),
            "s.toml:26: exit.when[0]: `RSI(14)@5m` reads 5m bars, finer than the run's 15m bars"
        );
        assert_eq!(
            f.check_interval(Interval::D1).unwrap_err().to_string(),
            "s.toml:26: exit.when[0]: `RSI(14)@5m` reads 5m bars, finer than the run's 1d bars"
        );
        let daily = parse(&text.replace("RSI(14)@5m", "RSI(14)@1d")).unwrap();
        daily.check_interval(Interval::D1).unwrap();
        parse(GOOD).unwrap().check_interval(Interval::D1).unwrap();
        // an unknown interval: at load
        let e = err(&text.replace("SMA(20)@1d", "SMA(20)@2h"));
        assert_eq!(
            e,
            "s.toml:21: entry.when[0]: unknown interval `2h`; one of 1m, 5m, 15m, 30m, 1h, 1d"
        );
        let e = err(&text.replace("ROC(5)@1d", "ROC(5)@1w"));
        assert!(
            e.starts_with("s.toml:22: entry.rank: unknown interval `1w`"),
            "{e}"
        );
        let e = err(&GOOD.replace("EMA(9) crosses", "EMA(9)@ crosses"));
        assert!(
            e.starts_with("s.toml:10: signals[0].when: `@` needs an interval"),
            "{e}"
        );
    }

    /// `[exit]` is optional: without it the ATR window is 14.
    #[test]
    fn a_file_without_exit_loads() {
        let text =
            "[strategy]\nname = \"x\"\n[[signals]]\nwhen = \"close > 1\"\n[entry]\nthreshold = 1\n";
        let f = parse(text).unwrap();
        assert_eq!(f.book_params().unwrap().atr_period, 14);
        assert!(f.build().is_ok());
    }

    /// A fault after escapes and multi-byte characters: the line is found
    /// whatever byte the offset falls on.
    #[test]
    fn error_lines_survive_escapes() {
        let text = GOOD.replace(
            "\"RSI(14) between 50 and 70\"",
            "\"\\t\\u00e9é RSI(14) between 50 and 70 é\"",
        );
        let e = err(&text);
        assert!(e.starts_with("s.toml:14: signals[1].when: "), "{e}");
        assert_eq!(line_of("é\né", 1), 1);
        assert_eq!(line_of("é\né", 100), 2);
    }

    #[test]
    fn oversized_files_are_refused_before_reading() {
        let dir = std::env::temp_dir().join(format!("quant-strategy-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.toml");
        std::fs::write(&path, format!("{GOOD}\n#{}", "x".repeat(MAX_FILE_SIZE))).unwrap();
        let e = StrategyFile::load(&path).err().unwrap().to_string();
        assert!(
            e.contains("big.toml: the file is") && e.contains("1 MiB"),
            "{e}"
        );
        std::fs::write(&path, GOOD).unwrap();
        assert!(StrategyFile::load(&path).is_ok());
        std::fs::write(&path, [0xff, 0xfe, b'\n']).unwrap();
        let e = StrategyFile::load(&path).err().unwrap().to_string();
        assert!(e.contains("not UTF-8"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A TOML-ish file from pieces of real ones with crafted values.
    fn toml_ish() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let value = prop_oneof![
            Just("0".to_string()),
            Just("-1".to_string()),
            Just("1".to_string()),
            Just("3".to_string()),
            Just("4294967295".to_string()),
            Just("9223372036854775807".to_string()),
            Just("1e308".to_string()),
            Just("nan".to_string()),
            Just("-inf".to_string()),
            Just("0.5".to_string()),
            Just("\"weekly\"".to_string()),
            Just("\"month_end\"".to_string()),
            Just("{ every = \"week\", day = -1, at = \"open\" }".to_string()),
            Just("{ every = \"month\", day = 0 }".to_string()),
            Just("{ every = \"day\", day = 1, at = \"14:50\" }".to_string()),
            Just("\"close > SMA(20)\"".to_string()),
            Just("[\"close > 1\", \"RSI(14) < 30\"]".to_string()),
            Just("{ min = 1, max = 0 }".to_string()),
            "\"[ -~]{0,40}\"",
        ];
        let key = prop_oneof![
            Just("threshold"),
            Just("max_positions"),
            Just("max_weight"),
            Just("weight"),
            Just("when"),
            Just("rank"),
            Just("stop_loss"),
            Just("take_profit"),
            Just("time_stop_bars"),
            Just("atr_period"),
            Just("liquidity_days"),
            Just("min_history"),
            Just("min_price"),
            Just("schedule"),
            Just("rebalance"),
            Just("method"),
            Just("fraction"),
            Just("positions"),
            Just("cooldown_days"),
            Just("max_drawdown"),
            Just("pe"),
            Just("name"),
        ];
        let table = prop_oneof![
            Just("[strategy]"),
            Just("[universe]"),
            Just("[fundamentals]"),
            Just("[[signals]]"),
            Just("[entry]"),
            Just("[exit]"),
            Just("[sizing]"),
            Just("[risk.limits]"),
            Just("[risk.breakers]"),
            Just("[rebalance]"),
            Just("[schedule]"),
            Just("[entry"),
            Just(""),
        ];
        let line = prop_oneof![
            (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
            table.prop_map(str::to_string),
            "[ -~]{0,30}",
        ];
        (proptest::collection::vec(line, 0..40), any::<bool>()).prop_map(|(lines, good)| {
            let body = lines.join("\n");
            if good {
                format!("{GOOD}\n{body}")
            } else {
                body
            }
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Any text: a strategy or an error naming the file, never a panic;
        /// what loads builds.
        #[test]
        fn arbitrary_files_never_panic(text in "\\PC{0,400}") {
            if let Ok(f) = parse(&text) {
                let _ = f.build();
            } else {
                proptest::prop_assert!(err(&text).starts_with("s.toml"));
            }
        }

        /// TOML-ish files: the same.
        #[test]
        fn toml_ish_files_never_panic(text in toml_ish()) {
            match parse(&text) {
                Ok(f) => {
                    let _ = f.indicators();
                    let _ = f.build();
                }
                Err(e) => proptest::prop_assert!(e.to_string().starts_with("s.toml"), "{}", e),
            }
        }
    }

    /// The entry schedule: `[schedule] rebalance` or the older `[rebalance]
    /// schedule`, a name or a table; both at once, or a bad one, is an
    /// error naming the key and the line.
    #[test]
    fn entry_schedules() {
        let old = "[rebalance]\nschedule = \"weekly\"";
        assert!(GOOD.contains(old));
        let with = |to: &str| parse(&GOOD.replace(old, to)).map(|f| f.entry_schedule().unwrap());
        assert_eq!(with(old).unwrap(), Schedule::WEEKLY);
        assert_eq!(with("").unwrap(), Schedule::DAILY);
        assert_eq!(
            with("[schedule]\nrebalance = \"month_end\"").unwrap(),
            Schedule::MONTH_END
        );
        assert_eq!(
            with("[schedule]\nrebalance = { every = \"quarter\", day = 1, at = \"open\" }")
                .unwrap(),
            Schedule::QUARTER_START
        );
        assert_eq!(
            with("[rebalance]\nschedule = { every = \"week\", day = -1 }").unwrap(),
            Schedule::WEEK_END
        );
        let f = parse(&GOOD.replace(old, "[schedule]\nrebalance = \"week_start\"")).unwrap();
        assert_eq!(f.book_params().unwrap().rebalance, Schedule::WEEK_START);
        assert!(f.build().is_ok());
        // both places: an error naming both keys and lines
        let e = err(&format!("{GOOD}\n[schedule]\nrebalance = \"month_end\"\n"));
        assert_eq!(
            e,
            "s.toml:35: schedule.rebalance: the entry schedule is also given by rebalance.schedule at line 32; keep one (schedule.rebalance is the newer form)"
        );
        let cases = [
            (
                "\"month_ends\"",
                "s.toml:32: rebalance.schedule: unknown schedule `month_ends`; expected one of: daily, weekly",
            ),
            (
                "{ every = \"month\", day = 0 }",
                "s.toml:32: rebalance.schedule: day: must be an integer in [1, 23] or [-23, -1] for every = \"month\"",
            ),
            (
                "{ every = \"fortnight\", day = 1 }",
                "s.toml:32: rebalance.schedule: every: unknown period `fortnight`; expected one of: day, week, month, quarter",
            ),
            (
                "{ every = \"week\", day = 1, at = \"noon\" }",
                "s.toml:32: rebalance.schedule: at: expected \"close\", \"open\" or a 24-hour",
            ),
            (
                "{ every = \"week\", day = 1, at = \"14:50\" }",
                "s.toml:32: rebalance.schedule: at: \"14:50\" needs intraday bars",
            ),
        ];
        for (value, want) in cases {
            let e = err(&GOOD.replace("\"weekly\"", value));
            assert!(e.starts_with(want), "{value}: {e}");
            let e = err(&GOOD.replace(old, &format!("[schedule]\nrebalance = {value}")));
            let want = want.replace("rebalance.schedule", "schedule.rebalance");
            assert!(e.starts_with(&want), "{value}: {e}");
        }
        let e = err(&GOOD.replace(old, "[schedule]\nrebalanse = \"weekly\""));
        assert!(
            e.starts_with("s.toml:32: unknown field `rebalanse`, expected `rebalance`"),
            "{e}"
        );
    }

    /// The book's own checks come back under the file's keys and lines.
    #[test]
    fn book_errors_name_the_file_key() {
        let cases = [
            (
                "max_positions = 4",
                "max_positions = 4\nmax_weight = 2",
                "s.toml:22: entry.max_weight: ",
            ),
            (
                "stop_loss = 0.08",
                "stop_loss = 0.08\natr_period = 0",
                "s.toml:26: exit.atr_period: ",
            ),
            (
                "stop_loss = 0.08",
                "stop_loss = 0.08\nchandelier_atr = -2",
                "s.toml:26: exit.chandelier_atr: ",
            ),
            (
                "min_price = 3",
                "min_price = -1",
                "s.toml:7: universe.min_price: ",
            ),
        ];
        for (from, to, want) in cases {
            let e = err(&GOOD.replace(from, to));
            assert!(e.starts_with(want), "{to}: {e}");
        }
        assert_eq!(file_key("exits.time_stop_bars"), "exit.time_stop_bars");
        assert_eq!(file_key("sizing.multiple"), "sizing.multiple");
        assert_eq!(file_key("fundamentals.pe"), "fundamentals.pe");
        assert_eq!(file_key("max_weight"), "entry.max_weight");
    }
}
