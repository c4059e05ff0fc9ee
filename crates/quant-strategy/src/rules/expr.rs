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
//! factor    := number | "-" factor | "(" expr ")" | field | indicator
//! field     := open | high | low | close | volume | amount
//! indicator := NAME ["(" [field ","] params ")"] ["." output]
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
//! # Limits
//! Any text gives a condition or an [`ExprError`], never a panic or a
//! stack overflow: a condition or expression is at most [`MAX_EXPR_LEN`]
//! characters, nests parentheses and unary minus at most [`MAX_DEPTH`]
//! deep, has at most [`MAX_TERMS`] terms (numbers, fields, indicators),
//! and one [`Parser`] reads at most [`MAX_NODES`] distinct indicator
//! series. Indicator parameters meet `quant-indicators`' own limits
//! ([`quant_indicators::MAX_PERIOD`]…).

use quant_indicators::spec::DynIndicator;
use quant_indicators::{IndicatorSpec, parse_spec};

use crate::context::SeriesView;

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

/// An indicator series a condition reads: the spec and, for one-series
/// indicators, the field it is fed.
#[derive(Debug, Clone)]
pub struct Node {
    /// The parsed spec.
    pub spec: IndicatorSpec,
    /// The input field of a one-series indicator (`None`: whole bars).
    pub source: Option<Field>,
    key: String,
}

/// An arithmetic expression over fields, indicator nodes and numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A constant.
    Num(f64),
    /// A bar field.
    Field(Field),
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
}

struct Cursor<'p> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
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
                _ => {
                    return self.err(
                        "expected a comparison: `>`, `>=`, `<`, `<=`, `above`, `below`, `between … and …` or `crosses above|below`",
                    );
                }
            };
            self.pos += 1;
            Condition::Compare(a, cmp, self.expr()?)
        };
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
                    return Ok(Expr::Field(f));
                }
                self.indicator(&w, start)
            }
            _ => self.err("expected a number, a field (open, high, low, close, volume, amount) or an indicator"),
        }
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
        let key = format!("{:?}:{}", source, spec.columns()[0]);
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
                nodes.push(Node { spec, source, key });
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
    fn cursor(&mut self, toks: Vec<(usize, Tok)>, text: &str) -> Cursor<'_> {
        Cursor {
            toks,
            pos: 0,
            end: text.len(),
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
    /// output, text over [`MAX_EXPR_LEN`] characters, nesting over
    /// [`MAX_DEPTH`], more than [`MAX_TERMS`] terms or [`MAX_NODES`]
    /// indicator series.
    pub fn condition(&mut self, text: &str) -> Result<Condition, ExprError> {
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
        let toks = lex(checked_len(text)?)?;
        let mut c = self.cursor(toks, text);
        let e = c.expr()?;
        if c.pos < c.toks.len() {
            return c.err("unexpected text after the expression");
        }
        Ok(e)
    }
}

/// The state of one instrument's indicator nodes: newest and previous
/// value of each, and the newest and previous bar's fields.
pub struct NodeValues {
    inds: Vec<Box<dyn DynIndicator>>,
    sources: Vec<Option<Field>>,
    select: Vec<IndicatorSpec>,
    now: Vec<f64>,
    prev: Vec<f64>,
    /// Rows consumed so far.
    fed: usize,
}

impl NodeValues {
    /// Fresh state for `nodes`.
    ///
    /// # Errors
    /// The indicator error of a node that cannot be built (parameters are
    /// checked at parse time, so only on a registry change).
    pub fn new(nodes: &[Node]) -> quant_indicators::Result<Self> {
        Ok(Self {
            inds: nodes
                .iter()
                .map(|n| n.spec.build())
                .collect::<quant_indicators::Result<_>>()?,
            sources: nodes.iter().map(|n| n.source).collect(),
            select: nodes.iter().map(|n| n.spec.clone()).collect(),
            now: vec![f64::NAN; nodes.len()],
            prev: vec![f64::NAN; nodes.len()],
            fed: 0,
        })
    }

    /// Feeds the rows of `s` not seen yet.
    pub fn update(&mut self, s: &SeriesView<'_>) {
        for r in crate::book::new_rows(&mut self.fed, s.len()) {
            let whole = crate::book::ohlcv(s, r);
            for k in 0..self.inds.len() {
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
        }
    }

    /// Rows consumed.
    pub fn rows(&self) -> usize {
        self.fed
    }

    /// The whole state: every node's indicator, newest and previous
    /// values, rows consumed.
    pub(crate) fn save(&self) -> SavedValues {
        SavedValues {
            inds: self.inds.iter().map(|i| i.save()).collect(),
            now: self.now.clone(),
            prev: self.prev.clone(),
            fed: self.fed,
        }
    }

    /// Loads a state saved by [`NodeValues::save`] for the same nodes.
    ///
    /// # Errors
    /// What does not fit: another number of nodes, or a node's indicator
    /// of another type or lookback (some nodes may then be loaded: build
    /// a fresh value to load into).
    pub(crate) fn load(&mut self, saved: SavedValues) -> Result<(), String> {
        let n = self.inds.len();
        if saved.inds.len() != n || saved.now.len() != n || saved.prev.len() != n {
            return Err(format!(
                "{} indicator states for {n} indicator series",
                saved.inds.len()
            ));
        }
        for (ind, state) in self.inds.iter_mut().zip(saved.inds) {
            ind.load(state).map_err(|e| e.to_string())?;
        }
        self.now = saved.now;
        self.prev = saved.prev;
        self.fed = saved.fed;
        Ok(())
    }
}

/// [`NodeValues`] as saved.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct SavedValues {
    inds: Vec<quant_indicators::spec::IndicatorState>,
    now: Vec<f64>,
    prev: Vec<f64>,
    fed: usize,
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
    /// length too).
    fn run(p: &Parser, conds: &[Condition], exprs: &[Expr]) {
        let Ok(mut nv) = NodeValues::new(&p.nodes) else {
            return;
        };
        let c = [10.0, 11.0, f64::NAN, 9.0, 12.0, 0.0, -1.0];
        let v = [100.0, 0.0, 50.0];
        for k in 0..=c.len() {
            let s = view(&c[..k], &v[..k.min(v.len())]);
            nv.update(&s);
            for cond in conds {
                let _ = cond.holds(&nv, &s);
            }
            for e in exprs {
                let _ = e.value(&nv, &s);
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
            text in "(close|volume|RSI\\(14\\)|SMA\\(volume, ?[0-9]{1,6}\\)|MACD\\(12,26,9\\)\\.hist|BBANDS\\(20,2,2\\)|[0-9.eE]{1,6}|[-+*/×()<>=]|>=|<=|crosses|above|below|between|and| ){0,40}"
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
