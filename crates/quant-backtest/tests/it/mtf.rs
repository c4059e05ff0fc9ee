//! Strategy files reading a coarser interval than the run's (`close@1d`,
//! `SMA(20)@1d`; docs/strategy-files.md, "Other intervals") on the
//! 5-minute ETF fixtures and the daily demo universe: no look-ahead (a
//! run on data altered after a day, or after a bar inside a day, trades
//! identically up to it; daily values during a day come from the days
//! before it), `@1d` on daily bars is the run's own bars, intervals a run
//! does not have are errors naming the file, the key, the term and the
//! interval, and a strategy saved and restored mid-day or at a day's end
//! continues identically.

use std::path::{Path, PathBuf};

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use quant_backtest::run::{Session, prepare};
use quant_backtest::{BacktestConfig, BacktestResult, StrategyFile, run_backtest};
use quant_core::{
    Cash, Fill, InstrumentIndex, Interval, OrderId, OrderQty, Position, Price, Quantity, Side,
    UnixNanos,
};
use quant_engine::{Clock, DataFeed};
use quant_strategy::rules::expr::{NodeValues, Parser};
use quant_strategy::{Context, Signal, Strategy};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

/// The shipped two-timeframe run config and its strategy file.
const MTF: &str = "config/examples/intraday-mtf.toml";
const FILE: &str = "config/strategies/mtf-daily-trend-5m.toml";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(rel: &str) -> BacktestConfig {
    BacktestConfig::load(&root().join(rel)).unwrap()
}

/// `config/backtest.toml` running the strategy file at `file`.
fn daily_with(file: &Path) -> BacktestConfig {
    let mut cfg = load("config/backtest.toml");
    cfg.strategy.name.clear();
    cfg.strategy.params.clear();
    cfg.use_strategy_file(file).unwrap();
    cfg
}

fn run(cfg: &BacktestConfig) -> BacktestResult {
    run_backtest(cfg, |_, _| {}).unwrap()
}

/// Beijing time (UTC+8, no daylight saving), the A-share files' clock.
fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// The local end of the 5-minute bar a fill happened in (a fill's
/// instant is its bar's open).
fn bar_end(f: &Fill) -> NaiveDateTime {
    UnixNanos(f.time.unwrap().0 + Interval::M5.nanos()).local(&beijing())
}

/// What an order asked for (not how it ended: an order decided at the
/// cut fills on altered bars).
fn asked(o: &quant_core::Order) -> String {
    format!(
        "{:?} {:?} {} {:?} {:?} {:?} {}",
        o.id, o.instrument, o.symbol, o.side, o.order_type, o.requested, o.created
    )
}

/// Asserts two lists are equal, naming the first entry where they
/// differ (not printing both whole).
fn same<T: PartialEq + std::fmt::Debug>(a: &[T], b: &[T], what: &str) {
    if let Some(k) = (0..a.len().min(b.len())).find(|&k| a[k] != b[k]) {
        panic!("{what}: entry {k} differs: {:?} vs {:?}", a[k], b[k]);
    }
    assert_eq!(a.len(), b.len(), "{what}: lengths");
}

/// A copy of the config's data root with every 5-minute bar ending after
/// `cut` (Beijing time) altered — its prices moved by up to ±3 % and its
/// volume raised by half — and the benchmark copied as it is.
fn altered_root(cut: NaiveDateTime) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = root().join("fixtures/cn/minute/5m");
    let to = dir.path().join("cn/minute/5m");
    std::fs::create_dir_all(&to).unwrap();
    let mut altered = 0usize;
    for e in std::fs::read_dir(&from).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let mut out = String::new();
        for (k, line) in text.lines().enumerate() {
            let cols: Vec<&str> = line.split(',').collect();
            let end = NaiveDateTime::parse_from_str(cols[0], "%Y-%m-%d %H:%M");
            match end {
                Ok(t) if t > cut => {
                    let f = 1.0 + 0.03 * (k as f64 * 0.37).sin();
                    let v: Vec<f64> = cols[1..].iter().map(|x| x.parse().unwrap()).collect();
                    out.push_str(&format!(
                        "{},{:.4},{:.4},{:.4},{:.4},{},{}\n",
                        cols[0],
                        v[0] * f,
                        v[1] * f,
                        v[2] * f,
                        v[3] * f,
                        (v[4] * 1.5).round(),
                        (v[5] * 1.5 * f).round()
                    ));
                    altered += 1;
                }
                _ => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        std::fs::write(to.join(p.file_name().unwrap()), out).unwrap();
    }
    assert!(altered > 1000, "{altered} bars altered");
    let index = dir.path().join("cn/index");
    std::fs::create_dir_all(&index).unwrap();
    std::fs::copy(
        root().join("fixtures/cn/index/000300.SH.csv"),
        index.join("000300.SH.csv"),
    )
    .unwrap();
    dir
}

/// Runs [`MTF`] on data altered after `cut` and compares it with the
/// shipped run `base`: every fill in a bar ending by `cut` is the same,
/// and so is every order decided on a day before `cut`'s (all of them
/// when `cut` is a day's last bar); later fills differ (the alteration
/// matters, so the comparison could fail).
fn same_up_to(base: &BacktestResult, cut: NaiveDateTime, whole_day: bool) {
    let data = altered_root(cut);
    let mut cfg = load(MTF);
    cfg.data.root = data.path().to_path_buf();
    let alt = run(&cfg);
    let before = |r: &BacktestResult| -> Vec<Fill> {
        let fills = r.record.fills.iter().filter(|f| bar_end(f) <= cut);
        fills.cloned().collect()
    };
    let (a, b) = (before(base), before(&alt));
    assert!(a.len() >= 10, "{} fills before {cut}", a.len());
    same(&a, &b, &format!("fills up to {cut}"));
    let day = cut.date();
    let decided = |r: &BacktestResult| -> Vec<String> {
        let orders = r.record.orders.iter();
        let orders = orders.filter(|o| o.created < day || (whole_day && o.created == day));
        orders.map(asked).collect()
    };
    same(
        &decided(base),
        &decided(&alt),
        &format!("orders decided up to {cut}"),
    );
    let after = |r: &BacktestResult| -> Vec<Fill> {
        let fills = r.record.fills.iter().filter(|f| bar_end(f) > cut);
        fills.cloned().collect()
    };
    assert!(
        after(base) != after(&alt),
        "the bars after {cut} changed nothing"
    );
}

/// The example trades on both timeframes' data: at least 10 round trips.
#[test]
fn the_example_trades() {
    let res = run(&load(MTF));
    assert!(res.metrics.num_trades >= 10, "{}", res.metrics.num_trades);
    let file = StrategyFile::load(&root().join(FILE)).unwrap();
    assert_eq!(file.intervals().unwrap(), [Interval::D1]);
    file.check_interval(Interval::M5).unwrap();
    file.check_interval(Interval::D1).unwrap();
}

/// Altering every bar after a day's close changes nothing up to it.
#[test]
fn trades_up_to_a_day_do_not_depend_on_later_days() {
    let base = run(&load(MTF));
    let fills = &base.record.fills;
    let day = fills[fills.len() / 2].date;
    // the day's last bar ends at 15:00
    let cut = day.and_hms_opt(15, 0, 0).unwrap();
    same_up_to(&base, cut, true);
}

/// Altering every bar after one inside a day — that day's later bars
/// included, so also its daily bar — changes nothing up to that bar: a
/// daily term never sees the day that is forming.
#[test]
fn trades_up_to_a_bar_do_not_depend_on_the_rest_of_its_day() {
    let base = run(&load(MTF));
    let fills = &base.record.fills;
    let f = fills[fills.len() / 3..]
        .iter()
        .find(|f| bar_end(f).time() <= chrono::NaiveTime::from_hms_opt(13, 30, 0).unwrap())
        .unwrap();
    same_up_to(&base, bar_end(f), false);
}

/// Steps `cfg`'s feed bar by bar, every slot of every day, calling `f`
/// with the step's number and the feed at it (`step` counts every bar
/// time of the run).
fn walk(cfg: &BacktestConfig, mut f: impl FnMut(usize, NaiveDate, &dyn DataFeed)) {
    let mut s = Session::new(cfg, prepare(cfg).unwrap()).unwrap();
    let mut step = 0;
    while let Some(day) = s.clock.next_session() {
        s.feed.advance(day).unwrap();
        for k in 0..s.feed.slots() {
            if k > 0 {
                s.feed.advance_slot(k).unwrap();
            }
            f(step, day, &s.feed);
            step += 1;
        }
    }
}

/// A context of `feed` for a flat book with 1 MCNY.
fn flat<R>(day: NaiveDate, feed: &dyn DataFeed, f: impl FnOnce(&Context<'_>) -> R) -> R {
    let positions = vec![Position::default(); feed.instruments().len()];
    let ctx = Context {
        date: day,
        time: feed.bar_time().map(|t| t.1),
        calendar: feed.calendar(),
        instruments: feed.instruments(),
        bars: feed.bars(),
        history: feed.history(),
        positions: &positions,
        cash: Cash::from_f64_cents(1e6).unwrap(),
        equity: 1e6,
    };
    f(&ctx)
}

/// During day d a daily term holds what the days before d give, computed
/// here from the 5-minute files themselves; from d's last bar on, d too.
#[test]
fn daily_values_during_a_day_come_from_the_days_before() {
    let cfg = load(MTF);
    let prepared = prepare(&cfg).unwrap();
    // each instrument's close of each calendar day: its last 5-minute close
    let days = prepared.calendar.days();
    let closes: Vec<Vec<(NaiveDate, f64)>> = prepared
        .intraday
        .iter()
        .map(|s| {
            let mut v: Vec<(NaiveDate, f64)> = Vec::new();
            for k in 0..s.len() {
                let Some(d) = s.trading_day(k).filter(|d| days.contains(d)) else {
                    continue;
                };
                match v.last_mut() {
                    Some(last) if last.0 == d => last.1 = s.close[k],
                    _ => v.push((d, s.close[k])),
                }
            }
            v
        })
        .collect();
    let mut p = Parser::default();
    let sma = p.expression("SMA(3)@1d").unwrap();
    let close = p.expression("close@1d").unwrap();
    let n = prepared.instruments.len();
    let mut values: Vec<NodeValues> = (0..n)
        .map(|_| NodeValues::reading(&p.nodes, &p.intervals).unwrap())
        .collect();
    let (mut checked, mut last_slots) = (0usize, 0usize);
    let mut slot = 0usize;
    let mut today = None;
    walk(&cfg, |_, day, feed| {
        if today != Some(day) {
            today = Some(day);
            slot = 0;
        }
        let last = slot + 1 == feed.slots();
        slot += 1;
        if day > days[60] {
            return;
        }
        for (i, nv) in values.iter_mut().enumerate() {
            if feed.bars()[i].is_none() {
                continue;
            }
            let idx = InstrumentIndex(i as u32);
            let s = feed.history().series(idx);
            flat(day, feed, |ctx| nv.update_from(&s, ctx, idx));
            let done: Vec<f64> = closes[i]
                .iter()
                .filter(|(d, _)| *d < day || (last && *d == day))
                .map(|(_, c)| *c)
                .collect();
            assert_eq!(nv.rows_of(Interval::D1), Some(done.len()), "{day}");
            let want = match done.len() {
                0..=2 => f64::NAN,
                k => done[k - 3..].iter().sum::<f64>() / 3.0,
            };
            let got = sma.value(nv, &s);
            assert!(
                (want.is_nan() && got.is_nan()) || (got - want).abs() < 1e-9 * want,
                "{day} slot {slot}: SMA(3)@1d {got}, the days before give {want}"
            );
            let c = close.value(nv, &s);
            match done.last() {
                Some(&want) => assert_eq!(c, want, "{day}"),
                None => assert!(c.is_nan()),
            }
            checked += 1;
            last_slots += usize::from(last);
        }
    });
    assert!(
        checked > 60 * 48 * 2 && last_slots > 100,
        "{checked} {last_slots}"
    );
}

/// The strategy file with every `@1d` dropped.
fn without_suffix(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join(FILE)).unwrap();
    assert!(text.matches("@1d").count() >= 4);
    let p = dir.join("plain.toml");
    std::fs::write(&p, text.replace("@1d", "")).unwrap();
    p
}

/// On daily bars `@1d` is the run's own bars: the same orders and fills
/// as without the suffix. (On 5-minute bars it is not.)
#[test]
fn the_1d_suffix_on_a_daily_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plain = without_suffix(dir.path());
    let (a, b) = (
        run(&daily_with(&root().join(FILE))),
        run(&daily_with(&plain)),
    );
    assert!(a.record.fills.len() >= 20, "{}", a.record.fills.len());
    same(&a.record.fills, &b.record.fills, "fills");
    same(&a.record.orders, &b.record.orders, "orders");
    let mut intraday = load(MTF);
    intraday.use_strategy_file(&plain).unwrap();
    assert!(run(&intraday).record.fills != run(&load(MTF)).record.fills);
}

/// The shipped file with `from` replaced by `to`, written to `dir`.
fn variant(dir: &Path, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join(FILE)).unwrap();
    assert!(text.contains(from), "{from}");
    let p = dir.join("variant.toml");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    p
}

/// The strategy of `cfg` at the run's first bar: its signals, and the
/// error its saved state gives (`Ok` when it saves).
fn first_bar(cfg: &BacktestConfig) -> (Vec<Signal>, Result<Vec<u8>, String>) {
    let mut s = cfg.strategy.build().unwrap();
    let mut out = Vec::new();
    let mut started = false;
    walk(cfg, |step, day, feed| {
        if step == 0 {
            s.on_start(feed.instruments()).unwrap();
            started = true;
            flat(day, feed, |ctx| s.on_bar(ctx, &mut out));
        }
    });
    assert!(started);
    (out, s.save_state().map_err(|e| e.to_string()))
}

/// An interval the run does not have: coarser but not completed by the
/// feed (`1h` on 5-minute bars) or finer than the run's (`5m` on daily
/// bars, `1m` on 5-minute ones). Named with the file, line, key, term
/// and interval: by `check_interval` at load when finer, by the strategy
/// at its first bar otherwise (it then stops: no orders, and its state
/// cannot be saved).
#[test]
fn intervals_the_run_lacks_are_errors_naming_the_term() {
    let dir = tempfile::tempdir().unwrap();
    // 1h on 5-minute bars: the intraday feed completes daily bars only
    let p = variant(dir.path(), "SMA(5)@1d", "SMA(5)@1h");
    let file = StrategyFile::load(&p).unwrap();
    file.check_interval(Interval::M5).unwrap();
    let mut cfg = load(MTF);
    cfg.use_strategy_file(&p).unwrap();
    let (signals, saved) = first_bar(&cfg);
    assert!(signals.is_empty());
    let e = saved.unwrap_err();
    let want = format!(
        "strategy `mtf-daily-trend-5m`: saved state: the strategy stopped at its first bar: strategy `mtf-daily-trend-5m`: {}:25: entry.when[1]: `SMA(5)@1h` reads 1h bars, which this run's feed does not have",
        p.display()
    );
    assert!(e.starts_with(&want), "{e}");
    // the run ends at that bar with the strategy's message
    let e = run_backtest(&cfg, |_, _| {}).unwrap_err().to_string();
    assert!(
        e.contains("`SMA(5)@1h` reads 1h bars, which this run's feed does not have"),
        "{e}"
    );
    // the shipped file at its first bar: it trades on, and saves
    assert!(first_bar(&load(MTF)).1.is_ok());

    // 5m on daily bars: finer than the run's, refused when the config takes the file
    let p = variant(dir.path(), "close@1d < SMA(20)@1d", "close@5m < SMA(20)@1d");
    let mut cfg = load("config/backtest.toml");
    cfg.strategy.name.clear();
    cfg.strategy.params.clear();
    let e = cfg.use_strategy_file(&p).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}:34: exit.when[1]: `close@5m` reads 5m bars, finer than the run's 1d bars",
            p.display()
        )
    );
    // a strategy built without that check stops at its first bar
    let file = StrategyFile::load(&p).unwrap();
    let mut unchecked = load("config/backtest.toml");
    unchecked.strategy.name = file.name().to_string();
    unchecked.strategy.params.clear();
    unchecked.strategy.file = Some(p.clone());
    unchecked.strategy.loaded = Some(file);
    let e = first_bar(&unchecked).1.unwrap_err();
    assert!(
        e.contains(&format!(
            "{}:34: exit.when[1]: `close@5m` reads 5m bars, finer than the run's daily bars",
            p.display()
        )),
        "{e}"
    );
    // 1m on 5-minute bars: finer than the run's
    let p = variant(dir.path(), "close@1d > SMA(20)@1d", "close@1m > SMA(20)@1d");
    let e = StrategyFile::load(&p)
        .unwrap()
        .check_interval(Interval::M5)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(":24: entry.when[0]: `close@1m` reads 1m bars, finer than the run's 5m bars"),
        "{e}"
    );
    // an unknown interval: at load, in the run config too
    let p = variant(dir.path(), "SMA(20)@1d", "SMA(20)@2h");
    let mut cfg = load(MTF);
    let e = cfg.use_strategy_file(&p).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}:24: entry.when[0]: unknown interval `2h`; one of 1m, 5m, 15m, 30m, 1h, 1d",
            p.display()
        )
    );
}

/// A paper account for the restore test: each bar's signals fill at the
/// next bar's open in whole lots of 100 (sells first), reported to the
/// strategy; T+1 is not modelled.
struct Account {
    cash: f64,
    shares: Vec<f64>,
    marks: Vec<f64>,
    pending: Vec<Signal>,
    fills: u64,
}

impl Account {
    fn new(n: usize) -> Self {
        Self {
            cash: 1e6,
            shares: vec![0.0; n],
            marks: vec![f64::NAN; n],
            pending: Vec::new(),
            fills: 0,
        }
    }

    fn equity(&self) -> f64 {
        let held = self
            .shares
            .iter()
            .zip(&self.marks)
            .filter(|(q, _)| **q > 0.0);
        self.cash + held.map(|(q, p)| q * p).sum::<f64>()
    }

    fn positions(&self) -> Vec<Position> {
        let q = |x: f64| Quantity(Decimal::from_f64(x).unwrap());
        let held = self.shares.iter().map(|&x| Position {
            quantity: q(x),
            sellable: q(x),
            cost: Cash::ZERO,
        });
        held.collect()
    }

    /// Fills the pending signals at the open of `feed`'s bars.
    fn open(&mut self, s: &mut dyn Strategy, day: NaiveDate, feed: &dyn DataFeed) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|x| {
            !matches!(
                x,
                Signal::Order {
                    side: Side::Sell,
                    ..
                }
            )
        });
        for signal in pending {
            let Signal::Order {
                instrument,
                side,
                qty,
                ..
            } = signal
            else {
                panic!("{signal:?}");
            };
            let i = instrument.get();
            let Some(bar) = feed.bars()[i] else { continue };
            let q = match (side, qty) {
                (Side::Sell, _) => -self.shares[i],
                (Side::Buy, OrderQty::Value(v)) => {
                    ((v.to_f64().min(self.cash) / bar.open) / 100.0).floor() * 100.0
                }
                other => panic!("{other:?}"),
            };
            if q == 0.0 {
                continue;
            }
            self.cash -= q * bar.open;
            self.shares[i] += q;
            self.fills += 1;
            s.on_fill(&Fill {
                order_id: OrderId(self.fills),
                date: day,
                time: feed.bar_time().map(|t| t.0),
                instrument,
                symbol: feed.instruments()[i].symbol.clone(),
                side,
                quantity: Quantity(Decimal::from_f64(q.abs()).unwrap()),
                price: Price(Decimal::from_f64(bar.open).unwrap()),
                commission: Cash::ZERO,
                stamp_duty: Cash::ZERO,
                transfer_fee: Cash::ZERO,
            });
        }
    }
}

/// Runs the shipped strategy file over [`MTF`]'s bars with a paper
/// account; after step `stop` (if any) its state is saved, the strategy
/// dropped, a new one built, started and loaded. Each step's signals as
/// Debug text.
fn signals(stop: Option<usize>) -> Vec<String> {
    let cfg = load(MTF);
    let build = || cfg.strategy.build().unwrap();
    let mut s = build();
    let mut acct: Option<Account> = None;
    let mut out = Vec::new();
    let mut steps = Vec::new();
    walk(&cfg, |step, day, feed| {
        let n = feed.instruments().len();
        if step == 0 {
            s.on_start(feed.instruments()).unwrap();
        }
        let acct = acct.get_or_insert_with(|| Account::new(n));
        acct.open(&mut *s, day, feed);
        for (i, b) in feed.bars().iter().enumerate() {
            if let Some(b) = b {
                acct.marks[i] = b.close;
            }
        }
        let positions = acct.positions();
        let ctx = Context {
            date: day,
            time: feed.bar_time().map(|t| t.1),
            calendar: feed.calendar(),
            instruments: feed.instruments(),
            bars: feed.bars(),
            history: feed.history(),
            positions: &positions,
            cash: Cash::from_f64_cents(acct.cash).unwrap(),
            equity: acct.equity(),
        };
        s.on_bar(&ctx, &mut out);
        steps.push(format!("{day} {:?} {out:?}", ctx.time));
        acct.pending = std::mem::take(&mut out);
        if stop == Some(step) {
            let saved = s.save_state().unwrap();
            s = build();
            s.on_start(feed.instruments()).unwrap();
            s.load_state(&saved).unwrap();
            assert!(
                s.save_state().unwrap() == saved,
                "the state loaded after step {step} saves differently"
            );
        }
    });
    steps
}

/// A strategy reading daily bars on 5-minute ones, saved after a bar in
/// the middle of a day, after a day's last bar (its daily bar just
/// completed), after a day's first bar, during the daily warm-up and at
/// seeded random bars, restored into a fresh one: the same signals on
/// every bar after as the one never stopped.
#[test]
fn a_strategy_restored_mid_day_or_at_a_day_end_continues_identically() {
    let whole = signals(None);
    let traded = whole.iter().filter(|d| !d.ends_with(" []")).count();
    assert!(traded >= 20, "{traded} bars with signals");
    let bars_a_day = 48;
    let mut stops = vec![
        0,
        5 * bars_a_day + 10,  // warm-up: no daily average yet
        30 * bars_a_day + 20, // mid-day
        60 * bars_a_day - 1,  // the last bar of day 60
        60 * bars_a_day,      // the first bar of day 61
        whole.len() - 2,
    ];
    // bars with signals of their own and the bars after them
    let with: Vec<usize> = whole
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.ends_with(" []"))
        .map(|(k, _)| k)
        .collect();
    stops.extend([with[with.len() / 4], with[with.len() / 2] + 1]);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..3 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        stops.push((seed % whole.len() as u64) as usize);
    }
    for stop in stops {
        let restored = signals(Some(stop));
        let first = whole.iter().zip(&restored).position(|(a, b)| a != b);
        assert!(
            first.is_none(),
            "restored after bar {stop}: first difference {:?} vs {:?}",
            first.map(|k| &whole[k]),
            first.map(|k| &restored[k])
        );
        assert_eq!(whole.len(), restored.len());
    }
}
