//! Saved strategy state (`Strategy::save_state` / `load_state`): every
//! strategy fed the fixtures' real bars day by day (a small paper account
//! turns its signals into fills at the next open and reports them back),
//! saved after a random day, rebuilt from the same parameters, started on
//! the same instruments and loaded, gives the same signals every day from
//! then on as the strategy that never stopped; saving the loaded strategy
//! gives the same bytes. States that do not belong are errors naming the
//! strategy, never panics.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use proptest::test_runner::{Config, TestRunner};
use quant_core::{
    Bar, Cash, Fill, Instrument, InstrumentIndex, OrderId, OrderQty, Position, Price, Quantity,
    Side, Symbol, TradingCalendar,
};
use quant_strategy::rules::file::StrategyFile;
use quant_strategy::{Context, Fundamentals, History, SeriesView, Signal, Strategy};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Columns of one instrument's rows (signal prices back-adjusted).
#[derive(Default)]
struct Columns {
    dates: Vec<NaiveDate>,
    raw: Vec<Bar>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
    amount: Vec<f64>,
}

/// The fixtures' A-share stocks and ETFs over the CSI 300's days of
/// 2016-2018, with month-end market values as fundamentals.
struct Market {
    instruments: Vec<Instrument>,
    cols: Vec<Columns>,
    fundamentals: Vec<Vec<Fundamentals>>,
    days: Vec<NaiveDate>,
    calendar: TradingCalendar,
    bench: Vec<f64>,
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn market() -> &'static Market {
    static MARKET: std::sync::OnceLock<Market> = std::sync::OnceLock::new();
    MARKET.get_or_init(|| {
        let (from, to) = (date("2016-01-04"), date("2018-12-28"));
        let fixtures = root().join("fixtures/cn");
        let mut files: Vec<PathBuf> = ["daily", "etf"]
            .iter()
            .flat_map(|d| std::fs::read_dir(fixtures.join(d)).unwrap())
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut instruments = Vec::new();
        let mut cols = Vec::new();
        for f in &files {
            let sym = f.file_stem().unwrap().to_str().unwrap().to_string();
            instruments.push(Instrument::infer(Symbol::new(&sym).unwrap(), false).unwrap());
            let mut c = Columns::default();
            for r in csv_rows(f) {
                let d = date(&r[0]);
                if d > to {
                    break;
                }
                let v: Vec<f64> = r[1..].iter().map(|x| x.parse().unwrap()).collect();
                let adj = v[7];
                c.dates.push(d);
                c.raw.push(Bar {
                    date: d,
                    open: v[0],
                    high: v[1],
                    low: v[2],
                    close: v[3],
                    pre_close: v[4],
                    volume: v[5],
                    amount: v[6],
                    adj_factor: adj,
                });
                c.open.push(v[0] * adj);
                c.high.push(v[1] * adj);
                c.low.push(v[2] * adj);
                c.close.push(v[3] * adj);
                c.volume.push(v[5]);
                c.amount.push(v[6]);
            }
            cols.push(c);
        }
        let mut fundamentals = vec![Vec::new(); instruments.len()];
        for r in csv_rows(&fixtures.join("fundamentals/market_cap_monthly.csv")) {
            if let Some(i) = instruments.iter().position(|x| x.symbol.as_str() == r[1]) {
                let mut f = Fundamentals::unknown(date(&r[0]));
                f.total_mv = r[3].parse().unwrap();
                f.float_mv = r[4].parse().unwrap();
                fundamentals[i].push(f);
            }
        }
        let mut days = Vec::new();
        let mut bench = Vec::new();
        for r in csv_rows(&fixtures.join("index/000300.SH.csv")) {
            let d = date(&r[0]);
            if (from..=to).contains(&d) {
                days.push(d);
                bench.push(r[4].parse().unwrap());
            }
        }
        let calendar = TradingCalendar::new(days.clone()).unwrap();
        Market {
            instruments,
            cols,
            fundamentals,
            days,
            calendar,
            bench,
        }
    })
}

/// History up to and including day `t`.
struct Hist<'a> {
    m: &'a Market,
    /// Rows of each instrument dated on or before today.
    len: Vec<usize>,
    /// Benchmark closes up to today.
    bench: usize,
    today: NaiveDate,
}

impl History for Hist<'_> {
    fn closes(&self, i: InstrumentIndex) -> &[f64] {
        &self.m.cols[i.get()].close[..self.len[i.get()]]
    }
    fn benchmark_closes(&self) -> &[f64] {
        &self.m.bench[..self.bench]
    }
    fn series(&self, i: InstrumentIndex) -> SeriesView<'_> {
        let (c, n) = (&self.m.cols[i.get()], self.len[i.get()]);
        SeriesView {
            open: &c.open[..n],
            high: &c.high[..n],
            low: &c.low[..n],
            close: &c.close[..n],
            volume: &c.volume[..n],
            amount: &c.amount[..n],
        }
    }
    fn fundamentals(&self, i: InstrumentIndex) -> Option<Fundamentals> {
        self.m.fundamentals[i.get()]
            .iter()
            .rev()
            .find(|f| f.date <= self.today)
            .copied()
    }
}

/// A small paper account: yesterday's signals fill at today's open in
/// whole lots of 100 (sells first), reported to the strategy.
struct Account {
    cash: f64,
    shares: Vec<f64>,
    /// Shares bought today (not sellable until tomorrow).
    bought: Vec<f64>,
    marks: Vec<f64>,
    pending: Vec<Signal>,
    fills: u64,
}

impl Account {
    fn new(n: usize) -> Self {
        Self {
            cash: 1_000_000.0,
            shares: vec![0.0; n],
            bought: vec![0.0; n],
            marks: vec![f64::NAN; n],
            pending: Vec::new(),
            fills: 0,
        }
    }

    fn equity(&self) -> f64 {
        self.cash
            + self
                .shares
                .iter()
                .zip(&self.marks)
                .filter(|(q, _)| **q > 0.0)
                .map(|(q, p)| q * p)
                .sum::<f64>()
    }

    fn positions(&self) -> Vec<Position> {
        self.shares
            .iter()
            .zip(&self.bought)
            .map(|(&q, &b)| Position {
                quantity: Quantity(Decimal::from_f64(q).unwrap()),
                sellable: Quantity(Decimal::from_f64(q - b).unwrap()),
                cost: Cash::ZERO,
            })
            .collect()
    }

    fn trade(
        &mut self,
        s: &mut dyn Strategy,
        day: NaiveDate,
        bars: &[Option<Bar>],
        i: usize,
        q: f64,
    ) {
        let Some(b) = bars[i] else { return };
        let q = if q > 0.0 {
            (q.min(self.cash / b.open) / 100.0).floor() * 100.0
        } else {
            -(self.shares[i] - self.bought[i]).min(-q)
        };
        if q == 0.0 {
            return;
        }
        self.cash -= q * b.open;
        self.shares[i] += q;
        if q > 0.0 {
            self.bought[i] += q;
        }
        self.fills += 1;
        s.on_fill(&Fill {
            order_id: OrderId(self.fills),
            date: day,
            time: None,
            instrument: InstrumentIndex(i as u32),
            symbol: market().instruments[i].symbol.clone(),
            side: if q > 0.0 { Side::Buy } else { Side::Sell },
            quantity: Quantity(Decimal::from_f64(q.abs()).unwrap()),
            price: Price(Decimal::from_f64(b.open).unwrap()),
            commission: Cash::ZERO,
            stamp_duty: Cash::ZERO,
            transfer_fee: Cash::ZERO,
        });
    }

    /// The open of `day`: T+1 units settle, yesterday's signals fill.
    fn open(&mut self, s: &mut dyn Strategy, day: NaiveDate, bars: &[Option<Bar>]) {
        self.bought.iter_mut().for_each(|b| *b = 0.0);
        let equity = self.equity();
        for signal in std::mem::take(&mut self.pending) {
            let (instrument, side, qty) = match signal {
                Signal::Order {
                    instrument,
                    side,
                    qty,
                    ..
                } => (instrument, side, qty),
                // (no built-in places orders with terms; filled at the
                // open like the others)
                Signal::Place(r) => (r.instrument, r.side, r.qty),
                Signal::TargetWeights(targets) => {
                    let mut want = vec![0.0; self.shares.len()];
                    for (i, w) in targets {
                        if let Some(b) = bars[i.get()] {
                            want[i.get()] = ((w * equity / b.open) / 100.0).floor() * 100.0;
                        }
                    }
                    for sell in [true, false] {
                        for (i, &w) in want.iter().enumerate() {
                            let delta = w - self.shares[i];
                            if (delta < 0.0) == sell && delta != 0.0 {
                                self.trade(s, day, bars, i, delta);
                            }
                        }
                    }
                    continue;
                }
            };
            let i = instrument.get();
            let Some(b) = bars[i] else { continue };
            let q = match (side, qty) {
                (Side::Sell, _) => -self.shares[i],
                (Side::Buy, OrderQty::Value(v)) => v.to_f64() / b.open,
                (Side::Buy, OrderQty::AllCash) => self.cash / b.open,
                (Side::Buy, OrderQty::Units(u)) => u.to_f64(),
                (Side::Buy, _) => 0.0,
            };
            self.trade(s, day, bars, i, q);
        }
    }
}

/// Builds one strategy afresh.
type Build = Box<dyn Fn() -> Box<dyn Strategy>>;

/// Runs `build`'s strategy over every day; after day `stop` (if any) its
/// state is saved, the strategy dropped, a new one built, started and
/// loaded. Each day's signals as Debug text.
fn run(build: &Build, stop: Option<usize>) -> Vec<String> {
    let m = market();
    let n = m.instruments.len();
    let mut s = build();
    s.on_start(&m.instruments).unwrap();
    let mut acct = Account::new(n);
    let mut cursor = vec![0usize; n];
    let mut out = Vec::new();
    let mut days = Vec::new();
    for (t, &day) in m.days.iter().enumerate() {
        let mut bars = vec![None; n];
        for i in 0..n {
            let c = &m.cols[i];
            while cursor[i] < c.dates.len() && c.dates[cursor[i]] <= day {
                if c.dates[cursor[i]] == day {
                    bars[i] = Some(c.raw[cursor[i]]);
                }
                cursor[i] += 1;
            }
        }
        acct.open(&mut *s, day, &bars);
        for (i, b) in bars.iter().enumerate() {
            if let Some(b) = b {
                acct.marks[i] = b.close;
            }
        }
        let hist = Hist {
            m,
            len: cursor.clone(),
            bench: t + 1,
            today: day,
        };
        let positions = acct.positions();
        let ctx = Context {
            date: day,
            time: None,
            calendar: &m.calendar,
            instruments: &m.instruments,
            bars: &bars,
            history: &hist,
            positions: &positions,
            cash: Cash::from_f64_cents(acct.cash).unwrap(),
            equity: acct.equity(),
        };
        s.on_bar(&ctx, &mut out);
        days.push(format!("{day} {out:?}"));
        acct.pending = std::mem::take(&mut out);
        if stop == Some(t) {
            let saved = s.save_state().unwrap();
            drop(s);
            s = build();
            s.on_start(&m.instruments).unwrap();
            s.load_state(&saved).unwrap();
            assert!(
                s.save_state().unwrap() == saved,
                "{}: the loaded state saves differently",
                s.name()
            );
        }
    }
    days
}

fn builtin(name: &'static str, params: &'static str) -> (String, Build) {
    let build: Build =
        Box::new(move || quant_strategy::build(name, toml::from_str(params).unwrap()).unwrap());
    (
        format!("{name} {{ {} }}", params.replace('\n', "; ")),
        build,
    )
}

/// Every strategy the shipped configs run (their `[strategy]` tables, the
/// strategy files) and the built-ins with short windows and every book
/// feature, so their states fill up within the fixtures' three years.
fn strategies() -> Vec<(String, Build)> {
    let mut out = Vec::new();
    let mut configs: Vec<PathBuf> = ["config", "config/examples"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root().join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    configs.sort();
    for path in configs {
        let table: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(strategy) = table.get("strategy").and_then(|s| s.as_table()) else {
            continue;
        };
        let Some(name) = strategy.get("name").and_then(|n| n.as_str()) else {
            continue;
        };
        let name = name.to_string();
        let params = strategy
            .get("params")
            .and_then(|p| p.as_table())
            .cloned()
            .unwrap_or_default();
        let label = path.strip_prefix(root()).unwrap().display().to_string();
        out.push((
            label,
            Box::new(move || quant_strategy::build(&name, params.clone()).unwrap()) as Build,
        ));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("config/strategies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let file = StrategyFile::load(&path).unwrap();
        let label = path.strip_prefix(root()).unwrap().display().to_string();
        out.push((label, Box::new(move || file.build().unwrap()) as Build));
    }
    out.extend([
        builtin("sma_cross", "fast = 3\nslow = 8\nsizing = \"all_cash\""),
        builtin("buy_and_hold", ""),
        builtin(
            "buy_and_hold",
            "weights = { \"600036.SH\" = 0.5, \"510300.SH\" = 0.25 }",
        ),
        builtin(
            "momentum_rotation",
            "lookback = 5\ntop_k = 2\nrebalance = \"daily\"\ntrend_ma = 10",
        ),
        builtin(
            "dual_momentum",
            "risky = [\"510300.SH\", \"518880.SH\", \"159915.SZ\"]\ndefensive = \"511010.SH\"\nlookback = 20\ntop_k = 2\nrebalance = \"weekly\"",
        ),
        builtin(
            "multi_factor",
            "top_k = 3\nlookback = 40\nskip = 5\nvol_days = 10\ncov_days = 20\nrebalance = \"weekly\"\nconstruction = \"risk_parity\"\nmin_factors = 1",
        ),
        builtin(
            "momentum_breakout",
            "entry_days = 10\nexit_days = 5\nvolume_ratio = 1.0\nmomentum_days = 10\nmax_positions = 3\natr_period = 5\n[sizing]\nmethod = \"atr_target\"\nrisk_per_trade = 0.01\nmultiple = 2\n[exits]\nstop_loss = 0.05\nchandelier_atr = 2\ntime_stop_bars = 15",
        ),
        builtin(
            "mean_reversion",
            "oversold = 30\nexit_rsi = 60\nbb_days = 10\nbb_width = 1\ntrend_days = 30\nmax_positions = 4\n[sizing]\nmethod = \"stddev_target\"\nrisk_per_trade = 0.01\nmultiple = 2\n[exits]\ntake_profit = 0.05\n[universe]\nmin_avg_amount = 1e8\nliquidity_days = 5\n[fundamentals]\ntotal_mv = { min = 1e11 }",
        ),
        builtin(
            "trend_following",
            "fast = 3\nmid = 6\nslow = 12\nadx_days = 5\nadx_min = 15\nmax_positions = 4\nrebalance = \"weekly\"\n[exits]\nr_multiple = 1.5\nstop_loss = 0.04",
        ),
    ]);
    out
}

#[test]
fn a_restored_strategy_gives_the_same_signals() {
    let days = market().days.len();
    let mut runner = TestRunner::new(Config {
        cases: 6,
        failure_persistence: None,
        ..Config::default()
    });
    for (label, build) in strategies() {
        let whole = run(&build, None);
        let trades = whole.iter().filter(|d| !d.ends_with(" []")).count();
        assert!(trades > 0, "{label} never signals on the fixtures");
        // the first day, the last but one, and random days between
        for stop in [0, days - 2] {
            assert!(
                run(&build, Some(stop)) == whole,
                "{label}: restored after day {stop}"
            );
        }
        runner
            .run(&(1..days - 2), |stop| {
                let restored = run(&build, Some(stop));
                let first = whole.iter().zip(&restored).position(|(a, b)| a != b);
                proptest::prop_assert!(
                    first.is_none(),
                    "{label}: restored after day {stop}, first different day: {:?} vs {:?}",
                    first.map(|k| &whole[k]),
                    first.map(|k| &restored[k])
                );
                Ok(())
            })
            .unwrap();
    }
}

/// The strategy's state after `days` days of the fixtures.
fn state_after(build: &Build, days: usize) -> Vec<u8> {
    let m = market();
    let mut s = build();
    s.on_start(&m.instruments).unwrap();
    // a run cut short: a market of the first `days` days only
    let stop = days.min(m.days.len()) - 1;
    let mut out = Vec::new();
    let mut len = vec![0usize; m.instruments.len()];
    for (t, &day) in m.days.iter().enumerate().take(stop + 1) {
        let mut bars = vec![None; m.instruments.len()];
        for (i, c) in m.cols.iter().enumerate() {
            len[i] = c.dates.partition_point(|d| *d <= day);
            if len[i] > 0 && c.dates[len[i] - 1] == day {
                bars[i] = Some(c.raw[len[i] - 1]);
            }
        }
        let hist = Hist {
            m,
            len: len.clone(),
            bench: t + 1,
            today: day,
        };
        let positions = vec![Position::default(); m.instruments.len()];
        let ctx = Context {
            date: day,
            time: None,
            calendar: &m.calendar,
            instruments: &m.instruments,
            bars: &bars,
            history: &hist,
            positions: &positions,
            cash: Cash::from_f64_cents(1e6).unwrap(),
            equity: 1e6,
        };
        s.on_bar(&ctx, &mut out);
        out.clear();
    }
    s.save_state().unwrap()
}

#[test]
fn states_that_do_not_belong_are_errors_naming_the_strategy() {
    let m = market();
    let all = strategies();
    let states: BTreeMap<&str, Vec<u8>> = all
        .iter()
        .map(|(label, build)| (label.as_str(), state_after(build, 120)))
        .collect();
    for (label, build) in &all {
        let mut s = build();
        s.on_start(&m.instruments).unwrap();
        let name = s.name().to_string();
        let saved = &states[label.as_str()];
        let refuse = |s: &mut Box<dyn Strategy>, bytes: &[u8], why: &str| {
            let e = s.load_state(bytes).err();
            let text = e.as_ref().map(ToString::to_string).unwrap_or_default();
            assert!(
                matches!(e, Some(quant_strategy::Error::Config { ref strategy, .. }) if *strategy == name),
                "{label}: {why}: {text}"
            );
        };
        // not CBOR, an empty state, every cut of the real one
        refuse(&mut s, b"not a state", "garbage");
        refuse(&mut s, &[], "empty");
        for cut in (0..saved.len()).step_by((saved.len() / 97).max(1)) {
            refuse(&mut s, &saved[..cut], "truncated");
        }
        // every other strategy's state (same name: other parameters)
        for (other, bytes) in &states {
            // (two configs may run the same strategy with the same parameters)
            if *other != label.as_str() && bytes != saved {
                refuse(&mut s, bytes, &format!("the state of {other}"));
            }
        }
        // a universe of one instrument fewer
        let mut fewer = build();
        if fewer.on_start(&m.instruments[1..]).is_ok() {
            refuse(&mut fewer, saved, "another universe");
        }
        // flipped bytes: an error or a state, never a panic
        for k in (0..saved.len()).step_by((saved.len() / 211).max(1)) {
            let mut bad = saved.clone();
            bad[k] ^= 0x5a;
            let _ = s.load_state(&bad);
        }
        // and the strategy still loads its own state after all that
        let mut fresh = build();
        fresh.on_start(&m.instruments).unwrap();
        fresh.load_state(saved).unwrap();
        assert!(fresh.save_state().unwrap() == *saved, "{label}");
    }
}

#[test]
fn a_state_loaded_before_the_start_is_refused() {
    for (label, build) in strategies() {
        let saved = state_after(&build, 30);
        let mut s = build();
        assert!(s.load_state(&saved).is_err(), "{label}");
    }
}
