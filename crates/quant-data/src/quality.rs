//! The validation pipeline every fetch and import runs, and its
//! data-quality report.
//!
//! Hard problems quarantine the row (it is never stored): a row that fails
//! [`crate::validate::check_bar`] (non-finite, non-positive or implausible
//! price, OHLC inconsistency, negative volume, a date out of bounds) and a
//! second row for a date already seen. A row dated before the row above
//! it (`out_of_order`) is hard too — the source is not what it claims —
//! but its content is fine, so it is kept, sorted into place. Warnings
//! keep the row and go into the report:
//!
//! | rule | when |
//! |---|---|
//! | `gap` | a trading day of the exchange calendar between the first and last bar has no bar |
//! | `zero_volume` | a bar with zero volume (a suspension) |
//! | `limit_breach` | high or low beyond the board's price limit from the reference previous close, without a corporate action |
//! | `stale_price` | `stale_run` or more consecutive traded bars with open = high = low = close = the previous close |
//! | `disagreement` | two providers' closes differ by more than the tolerance, or one has a date the other lacks |
//!
//! The reference previous close is the exchange's `pre_close` when the bar
//! has one (on an ex-date it is the ex-rights price, so dividends and
//! splits are not breaches); otherwise the previous close scaled by the
//! change in `adj_factor`. The first bar of a series is not checked against
//! a limit (IPO days have none or wider ones).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::NaiveDate;
use quant_core::{Bar, Instrument, MarketRules, RuleSet, Symbol};

use crate::validate::check_bar;

/// A report line's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A row failing the row rules (quarantined).
    BadRow,
    /// A second row for the same date (quarantined).
    Duplicate,
    /// A row dated before the row above it in the source (kept, sorted).
    OutOfOrder,
    /// A trading day with no bar.
    Gap,
    /// A zero-volume bar.
    ZeroVolume,
    /// A move beyond the price limit without a corporate action.
    LimitBreach,
    /// A run of identical prices.
    StalePrice,
    /// Two providers disagree.
    Disagreement,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; 8] = [
        Self::BadRow,
        Self::Duplicate,
        Self::OutOfOrder,
        Self::Gap,
        Self::ZeroVolume,
        Self::LimitBreach,
        Self::StalePrice,
        Self::Disagreement,
    ];

    /// The rule named `name` (as [`Rule::name`] writes it); `None` for an
    /// unknown name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The rule's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadRow => "bad_row",
            Self::Duplicate => "duplicate",
            Self::OutOfOrder => "out_of_order",
            Self::Gap => "gap",
            Self::ZeroVolume => "zero_volume",
            Self::LimitBreach => "limit_breach",
            Self::StalePrice => "stale_price",
            Self::Disagreement => "disagreement",
        }
    }

    /// Hard rules: the source is broken (`validate` exits 1, a strict
    /// import fails).
    pub fn is_hard(self) -> bool {
        matches!(self, Self::BadRow | Self::Duplicate | Self::OutOfOrder)
    }

    /// Rules whose row is quarantined (never stored).
    pub fn quarantines(self) -> bool {
        matches!(self, Self::BadRow | Self::Duplicate)
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Symbol.
    pub symbol: String,
    /// Rule.
    pub rule: Rule,
    /// The bar's date (for a stale run, its first day).
    pub date: NaiveDate,
    /// Numbers and reason.
    pub detail: String,
}

/// Thresholds of the warning rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityConfig {
    /// Consecutive identical traded bars that make a stale run.
    pub stale_run: usize,
    /// Slack over the limit percentage (fraction), for tick rounding of
    /// the limit price.
    pub limit_slack: f64,
    /// Relative difference of two providers' closes that counts as
    /// disagreement (fraction).
    pub disagreement_tol: f64,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            stale_run: 5,
            limit_slack: 0.002,
            disagreement_tol: 0.005,
        }
    }
}

/// What the checks know about the series.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The instrument (board, ST, asset class) for price limits; `None`
    /// skips the limit rule.
    pub instrument: Option<&'a Instrument>,
    /// Market rules for the limit percentage.
    pub rules: Option<&'a MarketRules>,
    /// The exchange's trading days (ascending); `None` skips the gap rule.
    pub calendar: Option<&'a [NaiveDate]>,
    /// Thresholds.
    pub config: QualityConfig,
}

/// Bars split into those to store and those quarantined, with the report.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Rows that passed the hard rules, ascending by date.
    pub clean: Vec<Bar>,
    /// Rows that failed a hard rule, with the reason.
    pub quarantined: Vec<(Bar, String)>,
    /// Every problem, hard and warning.
    pub report: QualityReport,
}

/// Problems per symbol, per rule, with dates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QualityReport {
    /// Every issue, in the order found.
    pub issues: Vec<Issue>,
}

impl QualityReport {
    /// Adds another report's issues.
    pub fn extend(&mut self, other: QualityReport) {
        self.issues.extend(other.issues);
    }

    /// Hard issues (see [`Rule::is_hard`]).
    pub fn hard(&self) -> usize {
        self.issues.iter().filter(|i| i.rule.is_hard()).count()
    }

    /// Quarantined rows.
    pub fn quarantined(&self) -> usize {
        self.issues.iter().filter(|i| i.rule.quarantines()).count()
    }

    /// Issue counts by (symbol, rule).
    pub fn summary(&self) -> BTreeMap<(String, Rule), usize> {
        let mut m = BTreeMap::new();
        for i in &self.issues {
            *m.entry((i.symbol.clone(), i.rule)).or_insert(0) += 1;
        }
        m
    }

    /// A plain-text report: one line per symbol and rule (count, first and
    /// last date), then every issue.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.issues.is_empty() {
            out.push_str("data quality: no issues\n");
            return out;
        }
        let _ = writeln!(
            out,
            "data quality: {} issues ({} hard, {} quarantined rows)",
            self.issues.len(),
            self.hard(),
            self.quarantined()
        );
        let _ = writeln!(
            out,
            "{:<12} {:<13} {:>6}  {:<10}  {:<10}",
            "symbol", "rule", "count", "first", "last"
        );
        let mut span: BTreeMap<(String, Rule), (usize, NaiveDate, NaiveDate)> = BTreeMap::new();
        for i in &self.issues {
            let e = span
                .entry((i.symbol.clone(), i.rule))
                .or_insert((0, i.date, i.date));
            e.0 += 1;
            e.1 = e.1.min(i.date);
            e.2 = e.2.max(i.date);
        }
        for ((sym, rule), (n, first, last)) in &span {
            let _ = writeln!(out, "{sym:<12} {:<13} {n:>6}  {first}  {last}", rule.name());
        }
        out.push('\n');
        for i in &self.issues {
            let _ = writeln!(
                out,
                "{} {} {}: {}",
                i.symbol,
                i.date,
                i.rule.name(),
                i.detail
            );
        }
        out
    }
}

/// Whether the bar file `path` of `symbol` holds an index: it sits in an
/// `index` folder (the store's and `shared/data`'s layout), or its code is
/// an SSE index `000xxx.SH` or a SZSE index `399xxx.SZ` (no stock has
/// those codes). Indices have no price limit.
pub fn is_index_path(path: &std::path::Path, symbol: &str) -> bool {
    path.components().any(|c| c.as_os_str() == "index")
        || (symbol.starts_with("000") && symbol.ends_with(".SH"))
        || (symbol.starts_with("399") && symbol.ends_with(".SZ"))
}

/// [`check_series`] with the context a symbol implies: an A-share symbol
/// (`is_index` marks an index, which has no price limit) is checked
/// against its board's price limits under the A-share rules; any other
/// name (a US ticker, a coin, a file path) skips the limit rule.
pub fn check_symbol(
    symbol: &str,
    is_index: bool,
    bars: &[Bar],
    calendar: Option<&[NaiveDate]>,
    config: QualityConfig,
) -> Checked {
    let inst = Symbol::new(symbol)
        .ok()
        .and_then(|s| Instrument::infer(s, is_index).ok())
        .filter(Instrument::is_cn);
    let rules = MarketRules::new(RuleSet::CnA);
    let ctx = CheckContext {
        instrument: inst.as_ref(),
        rules: inst.as_ref().map(|_| &rules),
        calendar,
        config,
    };
    check_series(symbol, bars, &ctx)
}

/// Runs every single-source rule over one symbol's bars, given in the
/// source's order (rows out of order are reported, then sorted).
pub fn check_series(symbol: &str, bars: &[Bar], ctx: &CheckContext<'_>) -> Checked {
    let mut issues = Vec::new();
    let mut push = |rule: Rule, date: NaiveDate, detail: String| {
        issues.push(Issue {
            symbol: symbol.to_string(),
            rule,
            date,
            detail,
        });
    };
    for (k, w) in bars.windows(2).enumerate() {
        if w[1].date < w[0].date {
            push(
                Rule::OutOfOrder,
                w[1].date,
                format!(
                    "row {} ({}) comes after row {} ({}): rows must be sorted by date",
                    k + 2,
                    w[1].date,
                    k + 1,
                    w[0].date
                ),
            );
        }
    }
    let mut sorted: Vec<&Bar> = bars.iter().collect();
    sorted.sort_by_key(|b| b.date);
    let mut clean: Vec<Bar> = Vec::with_capacity(bars.len());
    let mut quarantined = Vec::new();
    for b in sorted {
        if clean.last().is_some_and(|p| p.date == b.date) {
            let why = format!("second row for {}", b.date);
            push(Rule::Duplicate, b.date, why.clone());
            quarantined.push((*b, why));
            continue;
        }
        if let Err(why) = check_bar(b, None) {
            push(Rule::BadRow, b.date, why.clone());
            quarantined.push((*b, why));
            continue;
        }
        clean.push(*b);
    }
    // gaps against the calendar
    if let (Some(cal), Some(first), Some(last)) = (ctx.calendar, clean.first(), clean.last()) {
        let have: BTreeSet<NaiveDate> = clean.iter().map(|b| b.date).collect();
        for d in cal
            .iter()
            .filter(|d| **d > first.date && **d < last.date && !have.contains(d))
        {
            push(
                Rule::Gap,
                *d,
                "trading day without a bar (suspension or missing data)".into(),
            );
        }
    }
    for b in clean.iter().filter(|b| b.volume == 0.0) {
        push(Rule::ZeroVolume, b.date, "zero volume (suspension)".into());
    }
    // price limits
    if let (Some(inst), Some(rules)) = (ctx.instrument, ctx.rules) {
        for w in clean.windows(2) {
            let (p, b) = (&w[0], &w[1]);
            let Some(pct) = rules.limit_pct(inst, b.date) else {
                continue;
            };
            let reference = if b.pre_close.is_finite() {
                b.pre_close
            } else {
                p.close * p.adj_factor / b.adj_factor
            };
            let up = b.high / reference - 1.0;
            let down = b.low / reference - 1.0;
            let allowed = pct + ctx.config.limit_slack;
            if up > allowed || -down > allowed {
                push(
                    Rule::LimitBreach,
                    b.date,
                    format!(
                        "high {} / low {} vs reference close {reference:.4}: {:+.2}% / {:+.2}% beyond the ±{:.0}% limit",
                        b.high,
                        b.low,
                        up * 100.0,
                        down * 100.0,
                        pct * 100.0
                    ),
                );
            }
        }
    }
    // stale runs: traded bars whose O = H = L = C equal the previous close
    let mut run_start: Option<usize> = None;
    let flat = |i: usize| {
        let b = &clean[i];
        i > 0
            && b.volume > 0.0
            && b.open == b.close
            && b.high == b.close
            && b.low == b.close
            && clean[i - 1].close == b.close
    };
    for i in 0..=clean.len() {
        let is_flat = i < clean.len() && flat(i);
        match (is_flat, run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(s)) => {
                if i - s >= ctx.config.stale_run {
                    push(
                        Rule::StalePrice,
                        clean[s].date,
                        format!(
                            "{} bars at {} through {}",
                            i - s,
                            clean[s].close,
                            clean[i - 1].date
                        ),
                    );
                }
                run_start = None;
            }
            _ => {}
        }
    }
    Checked {
        clean,
        quarantined,
        report: QualityReport { issues },
    }
}

/// Compares two providers' bars of one symbol: dates only one has, and
/// closes further apart than `tol` (relative to `b`'s close).
pub fn compare_sources(
    symbol: &str,
    (name_a, a): (&str, &[Bar]),
    (name_b, b): (&str, &[Bar]),
    tol: f64,
) -> QualityReport {
    let ma: BTreeMap<NaiveDate, &Bar> = a.iter().map(|x| (x.date, x)).collect();
    let mb: BTreeMap<NaiveDate, &Bar> = b.iter().map(|x| (x.date, x)).collect();
    let mut issues = Vec::new();
    let dates: BTreeSet<NaiveDate> = ma.keys().chain(mb.keys()).copied().collect();
    for d in dates {
        let detail = match (ma.get(&d), mb.get(&d)) {
            (Some(x), Some(y)) => {
                let rel = (x.close - y.close).abs() / y.close.abs();
                if rel <= tol {
                    continue;
                }
                format!(
                    "close {name_a} {} vs {name_b} {} ({:.3}% apart, tolerance {:.3}%)",
                    x.close,
                    y.close,
                    rel * 100.0,
                    tol * 100.0
                )
            }
            (Some(_), None) => format!("only {name_a} has a bar"),
            (None, Some(_)) => format!("only {name_b} has a bar"),
            (None, None) => continue,
        };
        issues.push(Issue {
            symbol: symbol.to_string(),
            rule: Rule::Disagreement,
            date: d,
            detail,
        });
    }
    QualityReport { issues }
}

#[cfg(test)]
mod tests {
    use quant_core::{RuleSet, Symbol};

    use super::*;

    fn bar(date: &str, close: f64, pre_close: f64) -> Bar {
        Bar {
            date: date.parse().unwrap(),
            open: close,
            high: close * 1.01,
            low: close * 0.99,
            close,
            pre_close,
            volume: 1000.0,
            amount: 1000.0 * close,
            adj_factor: 1.0,
        }
    }

    fn inst(code: &str) -> Instrument {
        Instrument::infer(Symbol::new(code).unwrap(), false).unwrap()
    }

    #[test]
    fn hard_rules_quarantine_and_report() {
        let mut bad = bar("2024-01-03", 10.0, 10.0);
        bad.low = 10.5; // above the close
        let bars = [
            bar("2024-01-04", 10.0, 10.0),
            bar("2024-01-02", 10.0, 10.0),
            bad,
            bar("2024-01-04", 10.2, 10.0),
        ];
        let ctx = CheckContext {
            instrument: None,
            rules: None,
            calendar: None,
            config: QualityConfig::default(),
        };
        let c = check_series("600000.SH", &bars, &ctx);
        assert_eq!(c.clean.len(), 2);
        assert_eq!(c.quarantined.len(), 2);
        assert_eq!(c.report.quarantined(), 2);
        // the input is out of order once (01-02 after 01-04): hard, kept
        assert_eq!(c.report.hard(), 3);
        let rules: Vec<Rule> = c.report.issues.iter().map(|i| i.rule).collect();
        assert_eq!(rules, [Rule::OutOfOrder, Rule::BadRow, Rule::Duplicate]);
        assert!(c.report.issues[1].detail.contains("low 10.5"));
        assert!(c.report.render().contains("600000.SH    duplicate"));
    }

    #[test]
    fn gaps_zero_volume_limits_and_stale_runs() {
        let mut z = bar("2024-01-05", 10.0, 10.0);
        z.volume = 0.0;
        // a main-board stock: +10% limit; 11.5 high from 10 breaches it
        let mut breach = bar("2024-01-08", 11.0, 10.0);
        breach.high = 11.5;
        // an ex-date: close 10.95 → pre_close 5.0 after a 2-for-1; no breach
        let exdate = bar("2024-01-09", 5.2, 5.48);
        let mut bars = vec![
            bar("2024-01-02", 10.0, 10.0),
            bar("2024-01-04", 10.0, 10.0),
            z,
            breach,
            exdate,
        ];
        for d in 10..=16 {
            let mut f = bar(&format!("2024-01-{d}"), 5.2, 5.2);
            (f.high, f.low) = (5.2, 5.2);
            bars.push(f);
        }
        let cal: Vec<NaiveDate> = [
            "2024-01-02",
            "2024-01-03",
            "2024-01-04",
            "2024-01-05",
            "2024-01-08",
            "2024-01-09",
        ]
        .iter()
        .map(|d| d.parse().unwrap())
        .collect();
        let i = inst("600000.SH");
        let rules = MarketRules::new(RuleSet::CnA);
        let ctx = CheckContext {
            instrument: Some(&i),
            rules: Some(&rules),
            calendar: Some(&cal),
            config: QualityConfig::default(),
        };
        let c = check_series("600000.SH", &bars, &ctx);
        let found: Vec<(Rule, String)> = c
            .report
            .issues
            .iter()
            .map(|i| (i.rule, i.date.to_string()))
            .collect();
        assert_eq!(
            found,
            [
                (Rule::Gap, "2024-01-03".into()),
                (Rule::ZeroVolume, "2024-01-05".into()),
                (Rule::LimitBreach, "2024-01-08".into()),
                (Rule::StalePrice, "2024-01-10".into()),
            ],
            "{}",
            c.report.render()
        );
        assert!(
            c.report.issues[2].detail.contains("+15.00%"),
            "{}",
            c.report.issues[2].detail
        );
        assert!(c.report.issues[3].detail.starts_with("7 bars at 5.2"));
        assert_eq!(c.report.hard(), 0);
    }

    #[test]
    fn providers_disagreeing() {
        let a = [bar("2024-01-02", 10.0, 10.0), bar("2024-01-03", 10.1, 10.0)];
        let b = [
            bar("2024-01-02", 10.01, 10.0),
            bar("2024-01-03", 10.3, 10.0),
            bar("2024-01-04", 10.3, 10.3),
        ];
        let r = compare_sources("X", ("tushare", &a), ("eastmoney", &b), 0.005);
        let dates: Vec<String> = r.issues.iter().map(|i| i.date.to_string()).collect();
        assert_eq!(dates, ["2024-01-03", "2024-01-04"]);
        assert!(r.issues[1].detail.contains("only eastmoney"));
    }
}
