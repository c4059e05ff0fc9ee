//! Conditions of declarative strategy files: `RSI(14) between 50 and 70`,
//! `EMA(9) crosses above EMA(21)`, `close above VWAP(20)`,
//! `volume > 1.5 * SMA(volume, 20)`.
//!
//! Grammar (keywords and indicator names case-insensitive):
//!
//! ```text
//! condition := expr "crosses" ("above" | "below") expr
//!            | expr ("above" | "below" | ">" | ">=" | "<" | "<=") expr
//!            | expr "between" expr "and" expr
//! expr      := term (("+" | "-") term)*
//! term      := factor (("*" | "×" | "/") factor)*
//! factor    := number | "-" factor | "(" expr ")" | field ["@" interval]
//!            | indicator ["@" interval]
//! field     := open | high | low | close | volume | amount
//! indicator := NAME ["(" [field ","] params ")"] ["." output]
//! interval  := 1m | 5m | 15m | 30m | 1h | 1d
//! ```
//!
//! Indicators are those of `quant-indicators`' registry by TA-Lib name
//! ([`quant_indicators::available`]); one of several outputs must be
//! chosen (`MACD(12,26,9).hist`). A one-series indicator reads the close
//! unless a field comes first: `SMA(volume, 20)` is the 20-bar average
//! volume. `a crosses above b` holds on the bar where `a > b` and, on the
//! instrument's previous bar, `a ≤ b`; `above`/`below` are `>`/`<`;
//! `between` is inclusive. A condition on a value not yet known (an
//! indicator in its lookback) is false.
//!
//! # Other intervals
//! `@interval` makes a field or an indicator read bars of that interval
//! instead of the run's own: `close@1d` is the close of the newest
//! completed daily bar, `SMA(20)@1d` the 20-day average of daily closes
//! (`SMA(volume, 20)@1d`, `MACD(12,26,9).hist@1d`: the suffix comes after
//! the whole indicator). Such a node is fed by
//! [`NodeValues::update_from`] with the completed bars of
//! [`crate::History::series_of`], once per new completed bar and never
//! with the one still forming, so it never looks ahead; until its first
//! bar completes it is unknown, and conditions on it are false. On a
//! daily-bar run (`Context::time` is `None`) `@1d` reads the run's own
//! bars: the same values as without the suffix. An interval the run's
//! feed does not have (one finer than the run's, or `1h` where the feed
//! completes only daily bars) is found by [`super::ConfluenceRules`]
//! before its first bar. `crosses` compares with the value at the
//! instrument's previous bar, as for any term: a daily value changes on
//! the bar that completes a day, so `SMA(5)@1d crosses above SMA(20)@1d`
//! holds on that bar only.
//!
//! # Limits
//! Any text gives a condition or an [`ExprError`], never a panic or a
//! stack overflow: a condition or expression is at most [`MAX_EXPR_LEN`]
//! characters, nests parentheses and unary minus at most [`MAX_DEPTH`]
//! deep, has at most [`MAX_TERMS`] terms (numbers, fields, indicators),
//! and one [`Parser`] reads at most [`MAX_NODES`] distinct indicator
//! series. Indicator parameters meet `quant-indicators`' own limits
//! ([`quant_indicators::MAX_PERIOD`]…).

use quant_core::{InstrumentIndex, Interval};
use quant_indicators::spec::DynIndicator;
use quant_indicators::{IndicatorSpec, parse_spec};

use crate::context::{Context, SeriesView};

/// Longest condition or expression text: 4,096 characters.
pub const MAX_EXPR_LEN: usize = 4096;

/// Deepest nesting of parentheses and unary minus in one condition or
/// expression: 64 levels (the parser recurses once per level).
pub const MAX_DEPTH: usize = 64;

/// Most terms (numbers, fields and indicators) in one condition or
/// expression: 256.
pub const MAX_TERMS: usize = 256;

/// Most distinct indicator series one [`Parser`] (one strategy file)
/// reads: 256. Each is kept per instrument, so this bounds the memory of
/// a run.
pub const MAX_NODES: usize = 256;

/// A price or volume column of a bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Open.
    Open,
    /// High.
    High,
    /// Low.
    Low,
    /// Close.
    Close,
    /// Volume (shares).
    Volume,
    /// Turnover (quote currency).
    Amount,
}

impl Field {
    /// Every field, in the order of a bar's columns.
    pub const ALL: [Field; 6] = [
        Self::Open,
        Self::High,
        Self::Low,
        Self::Close,
        Self::Volume,
        Self::Amount,
    ];

    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "open" => Self::Open,
            "high" => Self::High,
            "low" => Self::Low,
            "close" => Self::Close,
            "volume" => Self::Volume,
            "amount" => Self::Amount,
            _ => return None,
        })
    }

    /// The field's place in a bar of [`Field::ALL`].
    fn index(self) -> usize {
        self as usize
    }

    fn column<'a>(self, s: &SeriesView<'a>) -> &'a [f64] {
        match self {
            Self::Open => s.open,
            Self::High => s.high,
            Self::Low => s.low,
            Self::Close => s.close,
            Self::Volume => s.volume,
            Self::Amount => s.amount,
        }
    }
}

/// A syntax or indicator error at a character offset of the text.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprError {
    /// Byte offset in the condition text.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

/// An indicator series a condition reads: the spec, for one-series
/// indicators the field it is fed, and the interval of its bars.
#[derive(Clone)]
pub struct Node {
    /// The parsed spec.
    pub spec: IndicatorSpec,
    /// The input field of a one-series indicator (`None`: whole bars).
    pub source: Option<Field>,
    /// The interval of the bars it is fed (`SMA(20)@1d`); `None`: the
    /// run's own bars.
    pub interval: Option<Interval>,
    key: String,
}

/// As a derived `Debug`, with `interval` only when one is named: the
/// text of a node of the run's own bars is what it was before intervals
/// existed, so the fingerprints of saved states
/// ([`crate::Strategy::save_state`]) of such files stay the same.
impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Node");
        d.field("spec", &self.spec).field("source", &self.source);
        if let Some(i) = self.interval {
            d.field("interval", &i);
        }
        d.field("key", &self.key).finish()
    }
}

/// A term of a condition that reads bars of a named interval
/// (`close@1d`, `SMA(20)@1d`), where it stands in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalRead {
    /// The interval named.
    pub interval: Interval,
    /// Byte offset of the term in the condition text.
    pub at: usize,
    /// The term as written (`SMA(20)@1d`).
    pub text: String,
}

/// An arithmetic expression over fields, indicator nodes and numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A constant.
    Num(f64),
    /// A bar field.
    Field(Field),
    /// A field of the newest completed bar of an interval (`close@1d`).
    FieldAt(Field, Interval),
    /// An indicator, by index into the condition set's nodes.
    Node(usize),
    /// Negation.
    Neg(Box<Expr>),
    /// `a op b`.
    Bin(Box<Expr>, Op, Box<Expr>),
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*` or `×`.
    Mul,
    /// `/`.
    Div,
}

/// Comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `>` or `above`.
    Gt,
    /// `>=`.
    Ge,
    /// `<` or `below`.
    Lt,
    /// `<=`.
    Le,
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `a cmp b`.
    Compare(Expr, Cmp, Expr),
    /// `a between lo and hi` (inclusive).
    Between(Expr, Expr, Expr),
    /// `a crosses above b` (`up`) or `a crosses below b`.
    Cross(Expr, bool, Expr),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Word(String),
    Sym(&'static str),
    /// `@` and the word after it (`@1d` → `1d`; empty when none follows).
    At(String),
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, ExprError> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some(&(at, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
        } else if c.is_ascii_digit()
            || (c == '.' && text[at + 1..].starts_with(|d: char| d.is_ascii_digit()))
        {
            let mut end = at;
            let mut prev = ' ';
            while let Some(&(k, d)) = it.peek() {
                let exp_sign = (d == '+' || d == '-') && (prev == 'e' || prev == 'E');
                if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' || exp_sign {
                    end = k + d.len_utf8();
                    prev = d;
                    it.next();
                } else {
                    break;
                }
            }
            let s = &text[at..end];
            let v: f64 = s.parse().map_err(|_| ExprError {
                at,
                message: format!("`{s}` is not a number"),
            })?;
            out.push((at, Tok::Num(v)));
        } else if c.is_alphabetic() || c == '_' {
            let mut end = at;
            while let Some(&(k, d)) = it.peek() {
                if d.is_alphanumeric() || d == '_' {
                    end = k + d.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
            out.push((at, Tok::Word(text[at..end].to_string())));
        } else if c == '@' {
            it.next();
            let from = at + 1;
            let mut end = from;
            while let Some(&(k, d)) = it.peek() {
                if d.is_alphanumeric() {
                    end = k + d.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
            out.push((at, Tok::At(text[from..end].to_string())));
        } else {
            it.next();
            let two = it.peek().map(|&(_, d)| d);
            let sym = match (c, two) {
                ('>', Some('=')) | ('≥', _) => {
                    if c == '>' {
                        it.next();
                    }
                    ">="
                }
                ('<', Some('=')) | ('≤', _) => {
                    if c == '<' {
                        it.next();
                    }
                    "<="
                }
                ('>', _) => ">",
                ('<', _) => "<",
                ('*' | '×', _) => "*",
                ('/', _) => "/",
                ('+', _) => "+",
                ('-' | '−', _) => "-",
                ('(', _) => "(",
                (')', _) => ")",
                (',', _) => ",",
                ('.', _) => ".",
                _ => {
                    return Err(ExprError {
                        at,
                        message: format!("unexpected `{c}`"),
                    });
                }
            };
            out.push((at, Tok::Sym(sym)));
        }
    }
    Ok(out)
}

/// Parses conditions, sharing indicator nodes between them.
#[derive(Debug, Default)]
pub struct Parser {
    /// Indicator series read by the parsed conditions (deduplicated).
    pub nodes: Vec<Node>,
    /// Every interval named by an `@` suffix of the parsed conditions,
    /// fields' included, once each, in the order first named.
    pub intervals: Vec<Interval>,
    /// The `@` terms of the text parsed last (cleared by each parse).
    pub reads: Vec<IntervalRead>,
}

struct Cursor<'p> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    text: &'p str,
    parser: &'p mut Parser,
    /// Nesting of parentheses and unary minus at the current token.
    depth: usize,
    /// Terms read so far.
    terms: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(a, _)| *a)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ExprError> {
        Err(ExprError {
            at: self.at(),
            message: message.into(),
        })
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if let Some(Tok::Sym(x)) = self.peek()
            && *x == s
        {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        match self.peek() {
            Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn condition(&mut self) -> Result<Condition, ExprError> {
        let a = self.expr()?;
        let c = if self.eat_word("crosses") {
            let up = if self.eat_word("above") {
                true
            } else if self.eat_word("below") {
                false
            } else {
                return self.err("expected `above` or `below` after `crosses`");
            };
            Condition::Cross(a, up, self.expr()?)
        } else if self.eat_word("between") {
            let lo = self.expr()?;
            if !self.eat_word("and") {
                return self.err("expected `and` in `between … and …`");
            }
            Condition::Between(a, lo, self.expr()?)
        } else {
            let cmp = match self.peek() {
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("above") => Cmp::Gt,
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("below") => Cmp::Lt,
                Some(Tok::Sym(">")) => Cmp::Gt,
                Some(Tok::Sym(">=")) => Cmp::Ge,
                Some(Tok::Sym("<")) => Cmp::Lt,
                Some(Tok::Sym("<=")) => Cmp::Le,
                Some(Tok::At(_)) => return self.stray_at(),
                _ => {
                    return self.err(
                        "expected a comparison: `>`, `>=`, `<`, `<=`, `above`, `below`, `between … and …` or `crosses above|below`",
                    );
                }
            };
            self.pos += 1;
            Condition::Compare(a, cmp, self.expr()?)
        };
        if let Some(Tok::At(_)) = self.peek() {
            return self.stray_at();
        }
        if self.pos < self.toks.len() {
            return self.err("unexpected text after the condition");
        }
        Ok(c)
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        let mut e = self.term()?;
        loop {
            let op = if self.eat_sym("+") {
                Op::Add
            } else if self.eat_sym("-") {
                Op::Sub
            } else {
                return Ok(e);
            };
            e = Expr::Bin(Box::new(e), op, Box::new(self.term()?));
        }
    }

    fn term(&mut self) -> Result<Expr, ExprError> {
        let mut e = self.factor()?;
        loop {
            let op = if self.eat_sym("*") {
                Op::Mul
            } else if self.eat_sym("/") {
                Op::Div
            } else {
                return Ok(e);
            };
            e = Expr::Bin(Box::new(e), op, Box::new(self.factor()?));
        }
    }

    /// One more term (a number, a field, an indicator).
    fn term_seen(&mut self) -> Result<(), ExprError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return self.err(format!(
                "more than {MAX_TERMS} terms (numbers, fields, indicators); split the condition"
            ));
        }
        Ok(())
    }

    /// Parses `inner` one nesting level deeper (a parenthesis or a unary
    /// minus): the recursion is bounded by [`MAX_DEPTH`].
    fn nested<T>(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Result<T, ExprError>,
    ) -> Result<T, ExprError> {
        if self.depth >= MAX_DEPTH {
            return self.err(format!(
                "nested more than {MAX_DEPTH} levels deep (parentheses and unary minus)"
            ));
        }
        self.depth += 1;
        let out = inner(self);
        self.depth -= 1;
        out
    }

    fn factor(&mut self) -> Result<Expr, ExprError> {
        let start = self.at();
        match self.peek().cloned() {
            Some(Tok::Num(v)) => {
                self.term_seen()?;
                self.pos += 1;
                Ok(Expr::Num(v))
            }
            Some(Tok::Sym("-")) => self.nested(|c| {
                c.pos += 1;
                Ok(Expr::Neg(Box::new(c.factor()?)))
            }),
            Some(Tok::Sym("(")) => self.nested(|c| {
                c.pos += 1;
                let e = c.expr()?;
                if !c.eat_sym(")") {
                    return c.err("missing `)`");
                }
                Ok(e)
            }),
            Some(Tok::Word(w)) => {
                self.term_seen()?;
                self.pos += 1;
                let call = self.peek() == Some(&Tok::Sym("("));
                if !call
                    && self.peek() != Some(&Tok::Sym("."))
                    && let Some(f) = Field::parse(&w)
                {
                    return Ok(match self.interval_suffix(start)? {
                        Some(i) => Expr::FieldAt(f, i),
                        None => Expr::Field(f),
                    });
                }
                self.indicator(&w, start)
            }
            Some(Tok::At(_)) => self.stray_at(),
            _ => self.err("expected a number, a field (open, high, low, close, volume, amount) or an indicator"),
        }
    }

    /// The error of an `@` where no field or indicator comes before it
    /// (or a second one after a term's).
    fn stray_at<T>(&self) -> Result<T, ExprError> {
        self.err(
            "`@` and an interval follow a field or an indicator, once (`close@1d`, `SMA(20)@1d`)",
        )
    }

    /// An `@interval` after the term that began at byte `start`, if one
    /// follows; it is recorded in the parser's intervals and reads.
    fn interval_suffix(&mut self, start: usize) -> Result<Option<Interval>, ExprError> {
        let Some(Tok::At(word)) = self.peek().cloned() else {
            return Ok(None);
        };
        let Ok(interval) = word.to_ascii_lowercase().parse::<Interval>() else {
            let what = if word.is_empty() {
                "`@` needs an interval right after it".to_string()
            } else {
                format!("unknown interval `{word}`")
            };
            return self.err(format!(
                "{what}; one of {}",
                Interval::ALL.map(Interval::as_str).join(", ")
            ));
        };
        let end = self.at() + 1 + word.len();
        self.pos += 1;
        let p = &mut *self.parser;
        if !p.intervals.contains(&interval) {
            p.intervals.push(interval);
        }
        p.reads.push(IntervalRead {
            interval,
            at: start,
            text: self.text.get(start..end).unwrap_or_default().to_string(),
        });
        Ok(Some(interval))
    }

    fn indicator(&mut self, name: &str, start: usize) -> Result<Expr, ExprError> {
        let mut source = None;
        let mut args: Vec<String> = Vec::new();
        if self.eat_sym("(") {
            loop {
                if self.eat_sym(")") {
                    break;
                }
                match self.peek().cloned() {
                    Some(Tok::Word(w)) if args.is_empty() && source.is_none() => {
                        let Some(f) = Field::parse(&w) else {
                            return self.err(format!(
                                "`{w}` is not a field (open, high, low, close, volume, amount)"
                            ));
                        };
                        source = Some(f);
                        self.pos += 1;
                    }
                    Some(Tok::Num(v)) => {
                        args.push(format!("{v}"));
                        self.pos += 1;
                    }
                    Some(Tok::Sym("-")) => {
                        return self.err("indicator parameters are not negative");
                    }
                    _ => return self.err(format!("expected a parameter of {name}")),
                }
                if !self.eat_sym(",") && self.peek() != Some(&Tok::Sym(")")) {
                    return self.err(format!("expected `,` or `)` in {name}(…)"));
                }
            }
        }
        let output = if self.eat_sym(".") {
            match self.peek().cloned() {
                Some(Tok::Word(o)) => {
                    self.pos += 1;
                    Some(o)
                }
                _ => return self.err("expected an output name after `.`"),
            }
        } else {
            None
        };
        let interval = self.interval_suffix(start)?;
        let mut text = name.to_string();
        if !args.is_empty() {
            text.push_str(&format!("({})", args.join(",")));
        }
        if let Some(o) = &output {
            text.push('.');
            text.push_str(o);
        }
        let spec = parse_spec(&text).map_err(|e| ExprError {
            at: start,
            message: e.to_string(),
        })?;
        if spec.columns().len() != 1 {
            return Err(ExprError {
                at: start,
                message: format!(
                    "{} has several outputs; choose one: {}",
                    spec.name(),
                    spec.columns().join(", ")
                ),
            });
        }
        if source.is_some() && spec.inputs() != ["close"] {
            return Err(ExprError {
                at: start,
                message: format!(
                    "{} reads {} of whole bars; only one-series indicators take a field",
                    spec.name(),
                    spec.inputs().join(", ")
                ),
            });
        }
        let mut key = format!("{:?}:{}", source, spec.columns()[0]);
        if let Some(i) = interval {
            key.push('@');
            key.push_str(i.as_str());
        }
        let nodes = &mut self.parser.nodes;
        let idx = match nodes.iter().position(|n| n.key == key) {
            Some(i) => i,
            None if nodes.len() >= MAX_NODES => {
                return Err(ExprError {
                    at: start,
                    message: format!(
                        "more than {MAX_NODES} distinct indicator series in one strategy"
                    ),
                });
            }
            None => {
                nodes.push(Node {
                    spec,
                    source,
                    interval,
                    key,
                });
                nodes.len() - 1
            }
        };
        Ok(Expr::Node(idx))
    }
}

/// `text` when it is at most [`MAX_EXPR_LEN`] characters long.
fn checked_len(text: &str) -> Result<&str, ExprError> {
    // bytes ≥ characters: count only when the bytes exceed the limit
    if text.len() > MAX_EXPR_LEN {
        let chars = text.chars().count();
        if chars > MAX_EXPR_LEN {
            return Err(ExprError {
                at: 0,
                message: format!("{chars} characters long; at most {MAX_EXPR_LEN}"),
            });
        }
    }
    Ok(text)
}

impl Parser {
    fn cursor<'a>(&'a mut self, toks: Vec<(usize, Tok)>, text: &'a str) -> Cursor<'a> {
        Cursor {
            toks,
            pos: 0,
            end: text.len(),
            text,
            parser: self,
            depth: 0,
            terms: 0,
        }
    }

    /// Parses one condition.
    ///
    /// # Errors
    /// [`ExprError`] with the offset of the fault: syntax, an unknown
    /// indicator (listing the registry), a bad parameter, an unchosen
    /// output, an unknown interval after `@` (listing the known ones), a
    /// stray `@`, text over [`MAX_EXPR_LEN`] characters, nesting over
    /// [`MAX_DEPTH`], more than [`MAX_TERMS`] terms or [`MAX_NODES`]
    /// indicator series.
    pub fn condition(&mut self, text: &str) -> Result<Condition, ExprError> {
        self.reads.clear();
        let toks = lex(checked_len(text)?)?;
        if toks.is_empty() {
            return Err(ExprError {
                at: 0,
                message: "empty condition".into(),
            });
        }
        self.cursor(toks, text).condition()
    }

    /// Parses one expression (a ranking score).
    ///
    /// # Errors
    /// As [`Parser::condition`].
    pub fn expression(&mut self, text: &str) -> Result<Expr, ExprError> {
        self.reads.clear();
        let toks = lex(checked_len(text)?)?;
        let mut c = self.cursor(toks, text);
        let e = c.expr()?;
        if let Some(Tok::At(_)) = c.peek() {
            return c.stray_at();
        }
        if c.pos < c.toks.len() {
            return c.err("unexpected text after the expression");
        }
        Ok(e)
    }
}

/// The state of one instrument's indicator nodes: newest and previous
/// value of each and, per interval named with `@`, the newest completed
/// bar as of the instrument's newest and previous bar.
pub struct NodeValues {
    inds: Vec<Box<dyn DynIndicator>>,
    sources: Vec<Option<Field>>,
    select: Vec<IndicatorSpec>,
    /// Per node: the interval of its bars (`None`: the run's own).
    intervals: Vec<Option<Interval>>,
    now: Vec<f64>,
    prev: Vec<f64>,
    /// Rows consumed so far.
    fed: usize,
    /// Every named interval, shortest first.
    higher: Vec<Higher>,
}

/// What one instrument has consumed of bars of a named interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Higher {
    interval: Interval,
    /// Completed bars consumed so far.
    fed: usize,
    /// The newest consumed bar's fields ([`Field::ALL`] order; NaN
    /// before the first) as of the instrument's newest bar, and as of the
    /// one before it.
    now: [f64; 6],
    prev: [f64; 6],
}

impl NodeValues {
    /// Fresh state for `nodes`.
    ///
    /// # Errors
    /// The indicator error of a node that cannot be built (parameters are
    /// checked at parse time, so only on a registry change).
    pub fn new(nodes: &[Node]) -> quant_indicators::Result<Self> {
        Self::reading(nodes, &[])
    }

    /// Fresh state for `nodes` and the fields of `intervals` (a parser's
    /// [`Parser::intervals`]: those of `close@1d` too, which no node
    /// holds); the nodes' own intervals are read in any case.
    ///
    /// # Errors
    /// As [`NodeValues::new`].
    pub fn reading(nodes: &[Node], intervals: &[Interval]) -> quant_indicators::Result<Self> {
        let mut named: Vec<Interval> = nodes
            .iter()
            .filter_map(|n| n.interval)
            .chain(intervals.iter().copied())
            .collect();
        named.sort_unstable();
        named.dedup();
        Ok(Self {
            inds: nodes
                .iter()
                .map(|n| n.spec.build())
                .collect::<quant_indicators::Result<_>>()?,
            sources: nodes.iter().map(|n| n.source).collect(),
            select: nodes.iter().map(|n| n.spec.clone()).collect(),
            intervals: nodes.iter().map(|n| n.interval).collect(),
            now: vec![f64::NAN; nodes.len()],
            prev: vec![f64::NAN; nodes.len()],
            fed: 0,
            higher: named
                .into_iter()
                .map(|interval| Higher {
                    interval,
                    fed: 0,
                    now: [f64::NAN; 6],
                    prev: [f64::NAN; 6],
                })
                .collect(),
        })
    }

    /// Feeds node `k` row `r` of `s` (`whole`: that row as a bar).
    fn feed(
        &mut self,
        k: usize,
        s: &SeriesView<'_>,
        r: usize,
        whole: Option<quant_indicators::Ohlcv>,
    ) {
        let bar = match self.sources[k] {
            None => whole,
            Some(f) => {
                let v = f.column(s).get(r).copied().unwrap_or(f64::NAN);
                quant_indicators::Ohlcv::new(v, v, v, v, 0.0).ok()
            }
        };
        let v = bar
            .and_then(|b| self.inds[k].update(b))
            .map_or(f64::NAN, |vals| self.select[k].select(&vals)[0]);
        self.prev[k] = self.now[k];
        self.now[k] = v;
    }

    /// Feeds the rows of `s` not seen yet to the nodes of the run's own
    /// bars (those of named intervals are fed by
    /// [`NodeValues::update_from`]).
    pub fn update(&mut self, s: &SeriesView<'_>) {
        for r in crate::book::new_rows(&mut self.fed, s.len()) {
            let whole = crate::book::ohlcv(s, r);
            for k in 0..self.inds.len() {
                if self.intervals[k].is_none() {
                    self.feed(k, s, r, whole);
                }
            }
        }
    }

    /// Feeds instrument `i`'s new rows of the run's bars `s` as
    /// [`NodeValues::update`], and each named interval its completed bars
    /// not consumed yet: [`crate::History::series_of`] of `ctx`'s history,
    /// or `s` itself for `1d` on a daily-bar run (`ctx.time` is `None`).
    /// The forming bar is never among them (the feed shows a bar once it
    /// has closed), so nothing is fed before its time. A step without new
    /// bars of `s` changes nothing; on one without a newly completed bar
    /// of an interval, that interval's values stay, and their previous
    /// values (those at the instrument's previous bar) become the same as
    /// the newest. An interval the feed does not have stays unknown (see
    /// [`super::ConfluenceRules`], which refuses it first).
    pub fn update_from(&mut self, s: &SeriesView<'_>, ctx: &Context<'_>, i: InstrumentIndex) {
        let fresh = s.len() > self.fed;
        self.update(s);
        if !fresh {
            return;
        }
        for h in 0..self.higher.len() {
            let interval = self.higher[h].interval;
            let bars = if interval == Interval::D1 && ctx.time.is_none() {
                Some(*s)
            } else {
                ctx.history.series_of(i, interval)
            };
            let rows = match &bars {
                Some(b) => crate::book::new_rows(&mut self.higher[h].fed, b.len()),
                None => 0..0,
            };
            if rows.is_empty() {
                let hi = &mut self.higher[h];
                hi.prev = hi.now;
                for k in 0..self.inds.len() {
                    if self.intervals[k] == Some(interval) {
                        self.prev[k] = self.now[k];
                    }
                }
                continue;
            }
            let Some(b) = bars else { continue };
            for r in rows {
                let hi = &mut self.higher[h];
                hi.prev = hi.now;
                hi.now = Field::ALL.map(|f| crate::book::at(f.column(&b), r));
                let whole = crate::book::ohlcv(&b, r);
                for k in 0..self.inds.len() {
                    if self.intervals[k] == Some(interval) {
                        self.feed(k, &b, r, whole);
                    }
                }
            }
        }
    }

    /// Rows of the run's bars consumed.
    pub fn rows(&self) -> usize {
        self.fed
    }

    /// Completed bars of `interval` consumed (`None` when no term reads
    /// it).
    pub fn rows_of(&self, interval: Interval) -> Option<usize> {
        self.higher
            .iter()
            .find(|h| h.interval == interval)
            .map(|h| h.fed)
    }

    /// The whole state: every node's indicator, newest and previous
    /// values, rows consumed, and per named interval its bars consumed
    /// and newest and previous bar.
    pub(crate) fn save(&self) -> SavedValues {
        SavedValues {
            inds: self.inds.iter().map(|i| i.save()).collect(),
            now: self.now.clone(),
            prev: self.prev.clone(),
            fed: self.fed,
            higher: self.higher.clone(),
        }
    }

    /// Loads a state saved by [`NodeValues::save`] for the same nodes.
    ///
    /// # Errors
    /// What does not fit: another number of nodes, other named intervals,
    /// or a node's indicator of another type or lookback (some nodes may
    /// then be loaded: build a fresh value to load into).
    pub(crate) fn load(&mut self, saved: SavedValues) -> Result<(), String> {
        let n = self.inds.len();
        if saved.inds.len() != n || saved.now.len() != n || saved.prev.len() != n {
            return Err(format!(
                "{} indicator states for {n} indicator series",
                saved.inds.len()
            ));
        }
        let names = |h: &[Higher]| h.iter().map(|h| h.interval.as_str()).collect::<Vec<_>>();
        if names(&saved.higher) != names(&self.higher) {
            return Err(format!(
                "bars of intervals [{}] for a strategy reading [{}]",
                names(&saved.higher).join(", "),
                names(&self.higher).join(", ")
            ));
        }
        for (ind, state) in self.inds.iter_mut().zip(saved.inds) {
            ind.load(state).map_err(|e| e.to_string())?;
        }
        self.now = saved.now;
        self.prev = saved.prev;
        self.fed = saved.fed;
        self.higher = saved.higher;
        Ok(())
    }
}

/// [`NodeValues`] as saved. A strategy that names no other interval
/// saves no `higher` (its bytes are those of before intervals existed).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct SavedValues {
    inds: Vec<quant_indicators::spec::IndicatorState>,
    now: Vec<f64>,
    prev: Vec<f64>,
    fed: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    higher: Vec<Higher>,
}

/// Which bar an expression is evaluated on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Now,
    Prev,
}

fn eval(e: &Expr, v: &NodeValues, s: &SeriesView<'_>, when: When) -> f64 {
    let back = usize::from(when == When::Prev);
    match e {
        Expr::Num(x) => *x,
        Expr::Field(f) => {
            let col = f.column(s);
            col.len()
                .checked_sub(1 + back)
                .and_then(|r| col.get(r))
                .copied()
                .unwrap_or(f64::NAN)
        }
        Expr::FieldAt(f, interval) => {
            v.higher
                .iter()
                .find(|h| h.interval == *interval)
                .map_or(f64::NAN, |h| match when {
                    When::Now => h.now[f.index()],
                    When::Prev => h.prev[f.index()],
                })
        }
        Expr::Node(k) => match when {
            When::Now => v.now.get(*k),
            When::Prev => v.prev.get(*k),
        }
        .copied()
        .unwrap_or(f64::NAN),
        Expr::Neg(a) => -eval(a, v, s, when),
        Expr::Bin(a, op, b) => {
            let (x, y) = (eval(a, v, s, when), eval(b, v, s, when));
            match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
                Op::Div => x / y,
            }
        }
    }
}

impl Expr {
    /// The expression's value on the newest bar (NaN when unknown).
    pub fn value(&self, v: &NodeValues, s: &SeriesView<'_>) -> f64 {
        eval(self, v, s, When::Now)
    }
}

impl Condition {
    /// True when the condition holds on the newest bar of `s` (whose
    /// indicators `v` has consumed); false on unknown values.
    pub fn holds(&self, v: &NodeValues, s: &SeriesView<'_>) -> bool {
        let now = |e: &Expr| eval(e, v, s, When::Now);
        match self {
            Condition::Compare(a, cmp, b) => {
                let (x, y) = (now(a), now(b));
                match cmp {
                    Cmp::Gt => x > y,
                    Cmp::Ge => x >= y,
                    Cmp::Lt => x < y,
                    Cmp::Le => x <= y,
                }
            }
            Condition::Between(a, lo, hi) => {
                let x = now(a);
                x >= now(lo) && x <= now(hi)
            }
            Condition::Cross(a, up, b) => {
                let prev = |e: &Expr| eval(e, v, s, When::Prev);
                let (x, y, px, py) = (now(a), now(b), prev(a), prev(b));
                if *up {
                    x > y && px <= py
                } else {
                    x < y && px >= py
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Parser, Result<Condition, ExprError>) {
        let mut p = Parser::default();
        let c = p.condition(text);
        (p, c)
    }

    #[test]
    fn parses_the_documented_forms() {
        for text in [
            "RSI(14) between 50 and 70",
            "EMA(9) crosses above EMA(21)",
            "close above VWAP(20)",
            "volume > 1.5 × SMA(volume, 20)",
            "volume > 1.5 * sma(volume,20)",
            "MACD(12,26,9).hist crosses below 0",
            "BBANDS(20,2,2).lower >= close",
            "(high - low) / close < 0.05",
            "ADX(14) > 25",
            "OBV > 0",
            "close > .5",
            "STOCH.slowk < 20",
        ] {
            let (_, c) = parse(text);
            assert!(c.is_ok(), "{text}: {c:?}");
        }
    }

    #[test]
    fn nodes_are_shared() {
        let mut p = Parser::default();
        p.condition("EMA(9) crosses above EMA(21)").unwrap();
        p.condition("close > EMA(9)").unwrap();
        p.condition("volume > 2 * SMA(volume, 20)").unwrap();
        p.condition("close > SMA(20)").unwrap();
        let keys: Vec<_> = p.nodes.iter().map(|n| n.key.clone()).collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
    }

    #[test]
    fn errors_point_at_the_fault() {
        let (_, e) = parse("RSX(14) > 50");
        let e = e.unwrap_err();
        assert_eq!(e.at, 0);
        assert!(
            e.message.contains("RSX") && e.message.contains("RSI"),
            "{}",
            e.message
        );
        let (_, e) = parse("close > EMA(0)");
        let e = e.unwrap_err();
        assert_eq!(e.at, 8);
        assert!(e.message.contains("EMA"), "{}", e.message);
        let (_, e) = parse("MACD(12,26,9) > 0");
        assert!(e.unwrap_err().message.contains("choose one"));
        let (_, e) = parse("RSI(14) between 50 70");
        let e = e.unwrap_err();
        assert!(e.message.contains("`and`"), "{}", e.message);
        assert_eq!(e.at, 19);
        let (_, e) = parse("close crosses EMA(9)");
        assert!(e.unwrap_err().message.contains("above"));
        let (_, e) = parse("close");
        assert!(e.unwrap_err().message.contains("comparison"));
        let (_, e) = parse("ATR(volume, 14) > 1");
        assert!(e.unwrap_err().message.contains("one-series"));
        let (_, e) = parse("close > 1 2");
        assert!(e.unwrap_err().message.contains("after the condition"));
        let (_, e) = parse("close > SMA(price, 20)");
        assert!(e.unwrap_err().message.contains("not a field"));
    }

    /// Deep nesting and long sums: an error naming the limit, never a
    /// stack overflow (the parser, the evaluator and the drop of the tree
    /// all recurse over its depth).
    #[test]
    fn crafted_conditions_hit_the_limits() {
        let deep = format!("{}close{} > 1", "(".repeat(100_000), ")".repeat(100_000));
        let e = parse(&deep).1.unwrap_err();
        assert!(e.message.contains("at most 4096"), "{}", e.message);
        let sum = format!("{} > 1", vec!["close"; 100_000].join(" + "));
        let e = parse(&sum).1.unwrap_err();
        assert!(e.message.contains("at most 4096"), "{}", e.message);
        let minus = format!("{}close > 1", "-".repeat(100_000));
        assert!(parse(&minus).1.is_err());
        assert!(parse("SMA(1e400) > 1").1.is_err());
        // within the length: the depth and term limits
        let nest = |n: usize| format!("{}close{} > 1", "(".repeat(n), ")".repeat(n));
        assert!(parse(&nest(MAX_DEPTH)).1.is_ok());
        let e = parse(&nest(MAX_DEPTH + 1)).1.unwrap_err();
        assert!(e.message.contains("nested more than 64"), "{}", e.message);
        assert_eq!(e.at, MAX_DEPTH);
        let negs = |n: usize| format!("close > {}1", "-".repeat(n));
        assert!(parse(&negs(MAX_DEPTH)).1.is_ok());
        assert!(
            parse(&negs(MAX_DEPTH + 1))
                .1
                .unwrap_err()
                .message
                .contains("nested")
        );
        let terms = |n: usize| format!("{} > 1", vec!["1"; n - 1].join("+"));
        assert!(parse(&terms(MAX_TERMS)).1.is_ok());
        let e = parse(&terms(MAX_TERMS + 1)).1.unwrap_err();
        assert!(e.message.contains("more than 256 terms"), "{}", e.message);
        let mut p = Parser::default();
        let e = p
            .expression(&vec!["close"; MAX_TERMS + 1].join("*"))
            .unwrap_err();
        assert!(e.message.contains("terms"), "{}", e.message);
        assert!(p.expression(&"(".repeat(5000)).is_err());
        // a long condition of multi-byte characters counts characters
        let e = parse(&"é".repeat(MAX_EXPR_LEN + 1)).1.unwrap_err();
        assert!(e.message.contains("4097 characters"), "{}", e.message);
        // indicator periods meet the indicators' limits
        for text in [
            "SMA(18446744073709551615) > 1",
            "SMA(100001) > 1",
            "SMA(volume, 9223372036854775807) > 1",
            "MACD(12, 99999999999, 9).hist > 0",
        ] {
            let e = parse(text).1.unwrap_err();
            assert!(e.message.contains("100000"), "{text}: {}", e.message);
        }
    }

    #[test]
    fn distinct_indicator_series_are_limited() {
        let mut p = Parser::default();
        for n in 2..2 + MAX_NODES {
            p.condition(&format!("close > SMA({n})")).unwrap();
        }
        // a series already read is shared, a new one is refused
        assert!(p.condition("close > SMA(2)").is_ok());
        let e = p.condition("close > EMA(5)").unwrap_err();
        assert!(
            e.message.contains("more than 256 distinct"),
            "{}",
            e.message
        );
    }

    fn view<'a>(c: &'a [f64], v: &'a [f64]) -> SeriesView<'a> {
        SeriesView {
            open: c,
            high: c,
            low: c,
            close: c,
            volume: v,
            amount: v,
        }
    }

    #[test]
    fn evaluates_by_hand() {
        let mut p = Parser::default();
        let cross = p.condition("SMA(2) crosses above SMA(3)").unwrap();
        let vol = p.condition("volume > 1.5 * SMA(volume, 3)").unwrap();
        let band = p.condition("close between 10 and 11").unwrap();
        let mut nv = NodeValues::new(&p.nodes).unwrap();
        let closes = [10.0, 9.0, 8.0, 9.5, 11.0];
        let vols = [100.0, 100.0, 100.0, 100.0, 250.0];
        let mut seen = Vec::new();
        for k in 1..=closes.len() {
            let s = view(&closes[..k], &vols[..k]);
            nv.update(&s);
            seen.push((
                cross.holds(&nv, &s),
                vol.holds(&nv, &s),
                band.holds(&nv, &s),
            ));
        }
        // SMA2: -, 9.5, 8.5, 8.75, 10.25; SMA3: -, -, 9, 8.833, 9.5
        // bar 4: 8.75 < 8.833 (no); bar 5: 10.25 > 9.5 and 8.75 ≤ 8.833 → cross
        assert_eq!(
            seen.iter().map(|t| t.0).collect::<Vec<_>>(),
            [false, false, false, false, true]
        );
        // volume 250 > 1.5 × mean(100, 100, 250) = 225 on bar 5 only
        assert_eq!(
            seen.iter().map(|t| t.1).collect::<Vec<_>>(),
            [false, false, false, false, true]
        );
        assert_eq!(
            seen.iter().map(|t| t.2).collect::<Vec<_>>(),
            [true, false, false, false, true]
        );
        assert_eq!(nv.rows(), 5);
    }

    /// Evaluates whatever parsed on a few bars (columns of unequal
    /// length too), through `update` and through `update_from` with
    /// daily bars completing every other bar.
    fn run(p: &Parser, conds: &[Condition], exprs: &[Expr]) {
        let c = [10.0, 11.0, f64::NAN, 9.0, 12.0, 0.0, -1.0];
        let v = [100.0, 0.0, 50.0];
        for with_days in [false, true] {
            let Ok(mut nv) = NodeValues::reading(&p.nodes, &p.intervals) else {
                return;
            };
            for k in 0..=c.len() {
                let s = view(&c[..k], &v[..k.min(v.len())]);
                if with_days {
                    let daily = Fake {
                        daily: Some(view(&c[..k / 2], &v[..(k / 2).min(v.len())])),
                    };
                    with_ctx(&daily, Some(quant_core::UnixNanos(0)), |ctx| {
                        nv.update_from(&s, ctx, InstrumentIndex(0));
                    });
                } else {
                    nv.update(&s);
                }
                for cond in conds {
                    let _ = cond.holds(&nv, &s);
                }
                for e in exprs {
                    let _ = e.value(&nv, &s);
                }
            }
        }
    }

    /// A feed whose only other interval is `1d`: `daily`, the completed
    /// daily bars (`None`: none at all).
    struct Fake<'a> {
        daily: Option<SeriesView<'a>>,
    }

    impl crate::History for Fake<'_> {
        fn closes(&self, _: InstrumentIndex) -> &[f64] {
            &[]
        }
        fn benchmark_closes(&self) -> &[f64] {
            &[]
        }
        fn series(&self, _: InstrumentIndex) -> SeriesView<'_> {
            SeriesView::default()
        }
        fn series_of(&self, _: InstrumentIndex, interval: Interval) -> Option<SeriesView<'_>> {
            self.daily.filter(|_| interval == Interval::D1)
        }
    }

    /// Calls `f` with a context around `history` at bar instant `time`
    /// (`None`: a daily-bar run).
    fn with_ctx(
        history: &dyn crate::History,
        time: Option<quant_core::UnixNanos>,
        f: impl FnOnce(&Context<'_>),
    ) {
        let day = chrono::NaiveDate::from_ymd_opt(2021, 5, 6).unwrap();
        let calendar = quant_core::TradingCalendar::new(vec![day]).unwrap();
        let ctx = Context {
            date: day,
            time,
            calendar: &calendar,
            instruments: &[],
            bars: &[],
            history,
            positions: &[],
            cash: quant_core::Cash::ZERO,
            equity: 0.0,
        };
        f(&ctx);
    }

    #[test]
    fn interval_suffixes_parse() {
        let mut p = Parser::default();
        let c = p.condition("close@1d > SMA(20)@1d").unwrap();
        assert_eq!(
            p.reads
                .iter()
                .map(|r| (r.at, r.text.as_str()))
                .collect::<Vec<_>>(),
            [(0, "close@1d"), (11, "SMA(20)@1d")]
        );
        let Condition::Compare(Expr::FieldAt(Field::Close, Interval::D1), Cmp::Gt, Expr::Node(0)) =
            c
        else {
            panic!("{c:?}");
        };
        assert_eq!(p.nodes[0].interval, Some(Interval::D1));
        for text in [
            "SMA(volume, 20)@1d > volume",
            "MACD(12,26,9).hist@1d crosses above 0",
            "close > SMA(20) @1d",
            "high@1D - low@daily > 0",
            "RSI(14)@5m < 30",
            "EMA(9)@1h crosses above EMA(21)@1h",
        ] {
            assert!(p.condition(text).is_ok(), "{text}");
        }
        assert_eq!(p.intervals, [Interval::D1, Interval::M5, Interval::H1]);
        // the same series of another interval is another node; of the
        // same interval, the same node
        let mut p = Parser::default();
        p.condition("SMA(20) < SMA(20)@1d").unwrap();
        p.condition("close > SMA(20)@1d").unwrap();
        assert_eq!(p.nodes.len(), 2);
        assert_eq!(p.reads.len(), 1, "reads are those of the last text");
        // a node of the run's bars prints as before intervals existed
        let plain = format!("{:?}", p.nodes[0]);
        assert!(plain.starts_with("Node { spec: ") && !plain.contains("interval"));
        assert!(format!("{:?}", p.nodes[1]).contains("interval: D1"));
    }

    #[test]
    fn interval_errors_point_at_the_suffix() {
        let (_, e) = parse("close > SMA(20)@2h");
        let e = e.unwrap_err();
        assert_eq!(e.at, 15);
        assert_eq!(
            e.message,
            "unknown interval `2h`; one of 1m, 5m, 15m, 30m, 1h, 1d"
        );
        let (_, e) = parse("close@ > 1");
        assert!(e.unwrap_err().message.starts_with("`@` needs an interval"));
        let (_, e) = parse("close@ 1d > 1");
        assert!(e.unwrap_err().message.starts_with("`@` needs an interval"));
        for text in [
            "(close)@1d > 1",
            "close > @1d",
            "close@1d@1d > 1",
            "close > (1)@1d",
        ] {
            let e = parse(text).1.unwrap_err();
            assert!(
                e.message.contains("follow a field or an indicator"),
                "{text}: {e:?}"
            );
            assert_eq!(&text[e.at..e.at + 1], "@", "{text}");
        }
        let mut p = Parser::default();
        let e = p.expression("ROC(20)@1d@1d").unwrap_err();
        assert!(e.message.contains("follow a field or an indicator"));
        let (_, e) = parse("SMA(close@1d, 20) > 1");
        assert!(e.unwrap_err().message.contains("expected `,` or `)`"));
    }

    /// A daily node is fed each completed daily bar once, when it
    /// appears; unknown before the first; its previous value is the one
    /// at the instrument's previous bar; the fields read the newest
    /// completed bar.
    #[test]
    fn daily_terms_take_completed_bars_once() {
        let mut p = Parser::default();
        let up = p.condition("SMA(2)@1d crosses above 10").unwrap();
        let close = p.expression("close@1d").unwrap();
        let mut nv = NodeValues::reading(&p.nodes, &p.intervals).unwrap();
        let bars: Vec<f64> = (0..12).map(|k| 100.0 + f64::from(k)).collect();
        let days = [8.0, 9.0, 13.0, 14.0];
        let vol = [1.0; 12];
        // 3 run bars a day; day d completes at its last bar
        let mut seen = Vec::new();
        for k in 1..=bars.len() {
            let s = view(&bars[..k], &vol[..k]);
            let done = k / 3;
            let daily = Fake {
                daily: Some(view(&days[..done], &vol[..done])),
            };
            with_ctx(&daily, Some(quant_core::UnixNanos(k as i64)), |ctx| {
                nv.update_from(&s, ctx, InstrumentIndex(0));
            });
            // a step without a new run bar changes nothing
            with_ctx(&daily, Some(quant_core::UnixNanos(k as i64)), |ctx| {
                nv.update_from(&s, ctx, InstrumentIndex(0));
            });
            assert_eq!(nv.rows_of(Interval::D1), Some(done));
            seen.push((up.holds(&nv, &s), close.value(&nv, &s)));
        }
        let sma: Vec<bool> = seen.iter().map(|t| t.0).collect();
        // SMA2 of days: -, 8.5, 11, 13.5: crosses 10 at the bar day 3 completes
        assert_eq!(
            sma,
            [
                false, false, false, false, false, false, false, false, true, false, false, false
            ]
        );
        let closes: Vec<f64> = seen.iter().map(|t| t.1).collect();
        assert!(closes[..2].iter().all(|c| c.is_nan()));
        assert_eq!(
            closes[2..],
            [8.0, 8.0, 8.0, 9.0, 9.0, 9.0, 13.0, 13.0, 13.0, 14.0]
        );
        assert_eq!(nv.rows(), 12);
        // a feed without daily bars: unknown throughout
        let mut nv = NodeValues::reading(&p.nodes, &p.intervals).unwrap();
        for k in 1..=bars.len() {
            let s = view(&bars[..k], &vol[..k]);
            with_ctx(
                &Fake { daily: None },
                Some(quant_core::UnixNanos(0)),
                |ctx| {
                    nv.update_from(&s, ctx, InstrumentIndex(0));
                },
            );
            assert!(close.value(&nv, &s).is_nan() && !up.holds(&nv, &s));
        }
        assert_eq!(nv.rows_of(Interval::D1), Some(0));
        assert_eq!(nv.rows_of(Interval::H1), None);
    }

    /// A saved state holds the daily nodes and the daily bars consumed;
    /// loaded, it continues as the one never saved. A state of other
    /// intervals is refused.
    #[test]
    fn daily_state_saves_and_loads() {
        let mut p = Parser::default();
        let e = p.expression("EMA(3)@1d - close@1d + SMA(2)").unwrap();
        let c: Vec<f64> = (0..30).map(|k| 50.0 + f64::from(k % 7)).collect();
        let days: Vec<f64> = (0..10).map(|k| 40.0 + f64::from(k * k % 5)).collect();
        let step = |nv: &mut NodeValues, k: usize| {
            let s = view(&c[..k], &c[..k]);
            let daily = Fake {
                daily: Some(view(&days[..k / 3], &days[..k / 3])),
            };
            with_ctx(&daily, Some(quant_core::UnixNanos(0)), |ctx| {
                nv.update_from(&s, ctx, InstrumentIndex(0));
            });
            e.value(nv, &s)
        };
        let mut whole = NodeValues::reading(&p.nodes, &p.intervals).unwrap();
        let all: Vec<f64> = (1..=c.len()).map(|k| step(&mut whole, k)).collect();
        for stop in [1, 4, 5, 6, 17, 29] {
            let mut a = NodeValues::reading(&p.nodes, &p.intervals).unwrap();
            for k in 1..=stop {
                step(&mut a, k);
            }
            let saved = a.save();
            assert_eq!(saved.higher[0].fed, stop / 3);
            let mut b = NodeValues::reading(&p.nodes, &p.intervals).unwrap();
            b.load(saved).unwrap();
            let rest: Vec<f64> = (stop + 1..=c.len()).map(|k| step(&mut b, k)).collect();
            assert_eq!(
                rest.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                all[stop..].iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "restored after bar {stop}"
            );
        }
        // another interval's state: refused
        let mut q = Parser::default();
        q.expression("EMA(3)@1h - close@1h + SMA(2)").unwrap();
        let mut other = NodeValues::reading(&q.nodes, &q.intervals).unwrap();
        let e = other.load(whole.save()).unwrap_err();
        assert!(e.contains("[1d]") && e.contains("[1h]"), "{e}");
        // a state of a file without intervals has no `higher` at all
        let mut plain = Parser::default();
        plain.expression("SMA(2)").unwrap();
        let nv = NodeValues::new(&plain.nodes).unwrap();
        let mut bytes = Vec::new();
        ciborium::into_writer(&nv.save(), &mut bytes).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"higher"));
    }

    proptest::proptest! {
        /// On a daily-bar run `@1d` is the run's own bars: every
        /// condition holds exactly when its unsuffixed twin does.
        #[test]
        fn one_day_on_daily_bars_is_the_run_itself(
            steps in proptest::collection::vec((-0.05f64..0.05, 0.0f64..0.03, 1.0f64..1e6), 30..90)
        ) {
            let mut close = 10.0;
            let (mut o, mut h, mut l, mut c, mut v) = (vec![], vec![], vec![], vec![], vec![]);
            for (r, range, vol) in steps {
                let open = close;
                close *= 1.0 + r;
                o.push(open);
                h.push(open.max(close) * (1.0 + range));
                l.push(open.min(close) * (1.0 - range));
                c.push(close);
                v.push(vol);
            }
            let texts = [
                "EMA(5) crosses above SMA(10)",
                "RSI(6) between 40 and 60",
                "volume > 1.2 * SMA(volume, 8)",
                "ADX(5) >= 20",
                "close crosses below BBANDS(10,2,2).lower",
                "close > open",
            ];
            let mut p = Parser::default();
            let mut q = Parser::default();
            let plain: Vec<Condition> = texts.iter().map(|t| p.condition(t).unwrap()).collect();
            let daily: Vec<Condition> = texts
                .iter()
                .map(|t| {
                    let t = t
                        .replace("EMA(5)", "EMA(5)@1d")
                        .replace("SMA(10)", "SMA(10)@1d")
                        .replace("RSI(6)", "RSI(6)@1d")
                        .replace("volume >", "volume@1d >")
                        .replace("SMA(volume, 8)", "SMA(volume, 8)@1d")
                        .replace("ADX(5)", "ADX(5)@1d")
                        .replace("close", "close@1d")
                        .replace(".lower", ".lower@1d")
                        .replace("open", "open@1d");
                    q.condition(&t).unwrap()
                })
                .collect();
            proptest::prop_assert!(q.nodes.iter().all(|n| n.interval == Some(Interval::D1)));
            let mut a = NodeValues::new(&p.nodes).unwrap();
            let mut b = NodeValues::reading(&q.nodes, &q.intervals).unwrap();
            let none = Fake { daily: None };
            for k in 1..=c.len() {
                let s = SeriesView {
                    open: &o[..k], high: &h[..k], low: &l[..k], close: &c[..k],
                    volume: &v[..k], amount: &v[..k],
                };
                with_ctx(&none, None, |ctx| {
                    a.update_from(&s, ctx, InstrumentIndex(0));
                    b.update_from(&s, ctx, InstrumentIndex(0));
                });
                for (x, y) in plain.iter().zip(&daily) {
                    proptest::prop_assert_eq!(x.holds(&a, &s), y.holds(&b, &s), "bar {}: {:?}", k, x);
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Arbitrary text as a condition and as an expression: a parse or
        /// an error, never a panic; what parses evaluates.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
            let mut p = Parser::default();
            let c = p.condition(&text);
            let e = p.expression(&text);
            run(&p, &c.into_iter().collect::<Vec<_>>(), &e.into_iter().collect::<Vec<_>>());
        }

        /// Text from the condition alphabet, so that more of it parses.
        #[test]
        fn condition_alphabet_never_panics(
            text in "(close|volume|RSI\\(14\\)|SMA\\(volume, ?[0-9]{1,6}\\)|MACD\\(12,26,9\\)\\.hist|BBANDS\\(20,2,2\\)|[0-9.eE]{1,6}|[-+*/×()<>=]|>=|<=|crosses|above|below|between|and|@1d|@5m|@2h|@| ){0,40}"
        ) {
            let mut p = Parser::default();
            let c = p.condition(&text);
            let e = p.expression(&text);
            run(&p, &c.into_iter().collect::<Vec<_>>(), &e.into_iter().collect::<Vec<_>>());
        }
    }

    proptest::proptest! {
        /// Streaming conditions equal the same conditions read off the
        /// batch indicator columns, bar by bar.
        #[test]
        fn streaming_equals_batch(
            steps in proptest::collection::vec((-0.05f64..0.05, 0.0f64..0.03, 1.0f64..1e6), 30..120)
        ) {
            let mut close = 10.0;
            let (mut o, mut h, mut l, mut c, mut v) = (vec![], vec![], vec![], vec![], vec![]);
            for (r, range, vol) in steps {
                let open = close;
                close *= 1.0 + r;
                o.push(open);
                h.push(open.max(close) * (1.0 + range));
                l.push(open.min(close) * (1.0 - range));
                c.push(close);
                v.push(vol);
            }
            let mut p = Parser::default();
            let cross = p.condition("EMA(5) crosses above SMA(10)").unwrap();
            let band = p.condition("RSI(6) between 40 and 60").unwrap();
            let surge = p.condition("volume > 1.2 * SMA(volume, 8)").unwrap();
            let adx = p.condition("ADX(5) >= 20").unwrap();
            let mut nv = NodeValues::new(&p.nodes).unwrap();
            let cols = quant_indicators::spec::Columns {
                open: Some(&o), high: Some(&h), low: Some(&l), close: Some(&c), volume: Some(&v),
            };
            let batch = |spec: &str, input: &[f64]| {
                let s = parse_spec(spec).unwrap();
                let cols = quant_indicators::spec::Columns { close: Some(input), ..cols };
                s.compute(&cols).unwrap().remove(0).1
            };
            let (ema, sma, rsi, vsma, adxv) = (
                batch("EMA(5)", &c), batch("SMA(10)", &c), batch("RSI(6)", &c),
                batch("SMA(8)", &v), batch("ADX(5)", &c),
            );
            for k in 0..c.len() {
                let s = SeriesView {
                    open: &o[..=k], high: &h[..=k], low: &l[..=k], close: &c[..=k],
                    volume: &v[..=k], amount: &v[..=k],
                };
                nv.update(&s);
                let want_cross = k > 0 && ema[k] > sma[k] && ema[k - 1] <= sma[k - 1];
                proptest::prop_assert_eq!(cross.holds(&nv, &s), want_cross, "bar {}", k);
                proptest::prop_assert_eq!(band.holds(&nv, &s), rsi[k] >= 40.0 && rsi[k] <= 60.0);
                proptest::prop_assert_eq!(surge.holds(&nv, &s), v[k] > 1.2 * vsma[k]);
                proptest::prop_assert_eq!(adx.holds(&nv, &s), adxv[k] >= 20.0);
            }
        }
    }
}
