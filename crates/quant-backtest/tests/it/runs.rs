//! Whole runs on the shipped configs and fixtures: determinism, the
//! benchmark calendar across a real suspension, Parquet = CSV, no
//! look-ahead, config errors.

use std::path::{Path, PathBuf};

use quant_backtest::report::write_outputs;
use quant_backtest::{BacktestConfig, run_backtest};
use quant_core::InstrumentIndex;
use quant_strategy::{Context, Signal, Strategy};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(rel: &str) -> BacktestConfig {
    BacktestConfig::load(&root().join(rel)).unwrap()
}

#[test]
fn the_same_run_twice_writes_identical_bytes() {
    let cfg = load("config/backtest.toml");
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_outputs(&run_backtest(&cfg, |_, _| {}).unwrap(), a.path()).unwrap();
    write_outputs(&run_backtest(&cfg, |_, _| {}).unwrap(), b.path()).unwrap();
    for name in [
        "summary.json",
        "equity.csv",
        "trades.csv",
        "orders.csv",
        "corporate_actions.csv",
        "report.html",
    ] {
        let (x, y) = (
            std::fs::read(a.path().join(name)).unwrap(),
            std::fs::read(b.path().join(name)).unwrap(),
        );
        assert!(!x.is_empty(), "{name} is empty");
        assert!(x == y, "{name} differs between two runs");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.path().join("summary.json")).unwrap()).unwrap();
    for key in [
        "total_return",
        "cagr",
        "sharpe",
        "sortino",
        "max_drawdown",
        "calmar",
        "num_trades",
        "final_equity",
        "alpha",
        "beta",
        "information_ratio",
        "win_rate",
        "turnover",
        "exposure",
        "max_drawdown_duration",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    assert!(
        summary["max_drawdown"].as_f64().unwrap() > 0.0,
        "drawdown is a positive fraction"
    );
    let html = std::fs::read_to_string(a.path().join("report.html")).unwrap();
    assert!(
        html.contains("<svg")
            && html.contains("Monthly returns")
            && !html.contains("src=\"http")
            && !html.contains("href=\"http")
            && !html.contains("<script")
    );
}

#[test]
fn benchmark_calendar_carries_the_position_through_a_real_suspension() {
    // 600036.SH was suspended 2015-04-03 .. 2015-04-10 while held (bought 03-17, sold 05-20)
    let mut cfg = load("config/examples/sma-600036.toml");
    cfg.data.calendar = None;
    let res = run_backtest(&cfg, |_, _| {}).unwrap();
    assert_eq!(res.record.equity.len(), 1714);
    assert_eq!(res.record.fills.len(), 74);
    let eq = |d: &str| {
        res.record
            .equity
            .iter()
            .find(|p| p.date.to_string() == d)
            .unwrap()
            .equity
    };
    for d in [
        "2015-04-03",
        "2015-04-07",
        "2015-04-08",
        "2015-04-09",
        "2015-04-10",
    ] {
        assert_eq!(
            eq(d),
            eq("2015-04-02"),
            "suspended day {d} keeps the last mark"
        );
    }
}

#[test]
fn parquet_store_runs_like_csv() {
    let store = tempfile::tempdir().unwrap();
    for sub in ["daily", "index"] {
        let (from, to) = (
            root().join("fixtures/cn").join(sub),
            store.path().join("cn").join(sub),
        );
        quant_data::import_dir(
            &from,
            &to,
            &quant_data::store::ImportOptions::default(),
            |_, _| {},
        )
        .unwrap();
    }
    let csv_cfg = load("config/examples/sma-600036.toml");
    let mut pq_cfg = csv_cfg.clone();
    pq_cfg.base_dir = store.path().to_path_buf();
    pq_cfg.data.root = PathBuf::from(".");
    pq_cfg.data.format = quant_backtest::config::DataFormat::Parquet;
    let a = run_backtest(&csv_cfg, |_, _| {}).unwrap();
    let b = run_backtest(&pq_cfg, |_, _| {}).unwrap();
    assert_eq!(a.record.fills, b.record.fills);
    assert_eq!(a.record.equity, b.record.equity);
}

/// Records, at each close, whether history ever reached past today.
struct Peek {
    n: usize,
    violations: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    checked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Strategy for Peek {
    fn name(&self) -> &str {
        "peek"
    }
    fn on_start(&mut self, instruments: &[quant_core::Instrument]) -> quant_strategy::Result<()> {
        self.n = instruments.len();
        Ok(())
    }
    fn on_bar(&mut self, ctx: &Context<'_>, _out: &mut Vec<Signal>) {
        for i in 0..self.n {
            let closes = ctx.history.closes(InstrumentIndex(i as u32));
            if let Some(b) = ctx.bars[i] {
                // the newest history value is today's close, never a later one
                self.checked
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if closes.last().copied() != Some(b.close) {
                    self.violations
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    }
}

#[test]
fn strategies_never_see_past_the_current_bar() {
    let mut cfg = load("config/backtest.toml");
    cfg.backtest.signal_prices = quant_backtest::feed::SignalPrices::Raw;
    let prepared = quant_backtest::run::prepare(&cfg).unwrap();
    let mut clock = quant_backtest::feed::HistoricalClock::new(&prepared.calendar);
    let mut feed = quant_backtest::feed::HistoricalFeed::new(
        prepared.instruments,
        prepared.series,
        prepared.benchmark,
        quant_backtest::feed::SignalPrices::Raw,
        &prepared.calendar,
    );
    let mut venue = quant_exec::SimulatedVenue::new(quant_backtest::run::sim_config(&cfg));
    let config = quant_engine::EngineConfig {
        initial_cash: quant_core::Cash(cfg.backtest.initial_cash),
        corporate_actions: cfg.backtest.corporate_actions,
        size_at: Default::default(),
        risk: None,
        ..Default::default()
    };
    let (violations, checked) = Default::default();
    let peek = Peek {
        n: 0,
        violations: std::sync::Arc::clone(&violations),
        checked: std::sync::Arc::clone(&checked),
    };
    quant_engine::run_strategy(
        config,
        &mut clock,
        &mut feed,
        &mut venue,
        Box::new(peek),
        |_| {},
    )
    .unwrap();
    let load = |a: &std::sync::Arc<std::sync::atomic::AtomicUsize>| {
        a.load(std::sync::atomic::Ordering::Relaxed)
    };
    assert!(load(&checked) > 20_000);
    assert_eq!(load(&violations), 0);
}

#[test]
fn config_errors_name_the_file_and_key() {
    let p = Path::new("bad.toml");
    let base = "[data]\nroot = \".\"\nuniverse = [\"x\"]\nbenchmark = \"b\"\n[strategy]\nname = \"sma_cross\"\n";
    let e = BacktestConfig::parse(&format!("[backtest]\ninitial_cash = -5\n{base}"), p)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.toml") && e.contains("backtest.initial_cash"),
        "{e}"
    );
    let e = BacktestConfig::parse(&format!("[backtest]\nslipage_bps = 5\n{base}"), p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("slipage_bps"), "{e}");
    let e = BacktestConfig::parse(&format!("[backtest]\nfill = \"tomorrow\"\n{base}"), p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("fill") && e.contains("line 2"), "{e}");
    let mut cfg = load("config/examples/sma-600036.toml");
    cfg.data.universe = vec!["cn/daily/999999.SH".into()];
    let e = run_backtest(&cfg, |_, _| {}).unwrap_err().to_string();
    assert!(
        e.contains("sma-600036.toml") && e.contains("data.universe") && e.contains("999999.SH"),
        "{e}"
    );
    let mut cfg = load("config/examples/sma-600036.toml");
    cfg.strategy.name = "sma_crosss".into();
    let e = run_backtest(&cfg, |_, _| {}).unwrap_err().to_string();
    assert!(e.contains("unknown strategy `sma_crosss`"), "{e}");
}

fn check_runs(cfg: &BacktestConfig, what: &Path) -> quant_backtest::BacktestResult {
    let res = run_backtest(cfg, |_, _| {}).unwrap_or_else(|e| panic!("{}: {e}", what.display()));
    let m = &res.metrics;
    assert!(m.num_trades > 0, "{} made no trade", what.display());
    assert!(
        m.cagr.is_finite() && m.sharpe.is_finite(),
        "{}",
        what.display()
    );
    res
}

fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.ends_with("data.toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_shipped_config_runs() {
    // every run config under config/ (data.toml is the providers' file)
    let mut n = 0;
    for dir in ["config", "config/examples"] {
        for p in toml_files(dir) {
            check_runs(&BacktestConfig::load(&p).unwrap(), &p);
            n += 1;
        }
    }
    assert!(n >= 9, "{n} configs");
}

/// Positions held at once, replayed from the fills, at their largest.
fn most_held(fills: &[quant_core::Fill]) -> usize {
    let mut held: std::collections::BTreeMap<&str, rust_decimal::Decimal> = Default::default();
    let mut most = 0;
    let mut day = None;
    for f in fills {
        if day != Some(f.date) {
            most = most.max(held.len());
            day = Some(f.date);
        }
        let q = held.entry(f.symbol.as_str()).or_default();
        match f.side {
            quant_core::Side::Buy => *q += f.quantity.0,
            quant_core::Side::Sell => *q -= f.quantity.0,
        }
        held.retain(|_, q| !q.is_zero());
    }
    most.max(held.len())
}

#[test]
fn every_shipped_strategy_file_runs_within_its_slots() {
    let files = toml_files("config/strategies");
    assert!(files.len() >= 3, "{files:?}");
    for p in files {
        let mut cfg = load("config/backtest.toml");
        cfg.strategy.name.clear();
        cfg.strategy.params.clear();
        cfg.use_strategy_file(&p).unwrap();
        let slots = cfg
            .strategy
            .loaded
            .as_ref()
            .unwrap()
            .spec
            .entry
            .max_positions;
        let res = check_runs(&cfg, &p);
        let sells = res
            .record
            .fills
            .iter()
            .filter(|f| f.side == quant_core::Side::Sell)
            .count();
        assert!(sells > 0, "{}: never sold", p.display());
        let most = most_held(&res.record.fills);
        assert!(most <= slots, "{}: {most} positions > {slots}", p.display());
        // a strategy file's [risk] reaches the engine
        let has_risk = cfg.strategy.loaded.as_ref().unwrap().risk().is_some();
        assert_eq!(cfg.risk.is_some(), has_risk, "{}", p.display());
    }
}

#[test]
fn strategy_file_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(root().join("config/backtest.toml")).unwrap();
    let data_root = root().join("fixtures");
    let base = base.replace(
        "\"../fixtures\"",
        &format!("{:?}", data_root.display().to_string()),
    );
    let strategy_at = base.find("[strategy]").unwrap();
    let head = &base[..strategy_at];
    let cfg_path = dir.path().join("run.toml");
    let write = |tail: &str| {
        std::fs::write(&cfg_path, format!("{head}{tail}")).unwrap();
        BacktestConfig::load(&cfg_path)
    };
    // missing file: named
    let e = write("[strategy]\nfile = \"nope.toml\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.toml"), "{e}");
    // name and file together
    let e = write("[strategy]\nname = \"sma_cross\"\nfile = \"x.toml\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("either `name`"), "{e}");
    // a bad strategy file: file, line and key
    let shipped = std::fs::read_to_string(root().join("config/strategies/trend-adx.toml")).unwrap();
    std::fs::write(
        dir.path().join("s.toml"),
        shipped.replace("ADX(14) > 25", "ADX(1) > 25"),
    )
    .unwrap();
    let e = write("[strategy]\nfile = \"s.toml\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("s.toml:26: signals[3].when: "), "{e}");
    assert!(e.contains("ADX"), "{e}");
    // the good one runs from a config
    std::fs::write(dir.path().join("s.toml"), &shipped).unwrap();
    let cfg = write("[strategy]\nfile = \"s.toml\"\n").unwrap();
    assert_eq!(cfg.strategy.name, "trend-adx");
}

#[test]
fn the_risk_example_records_blocked_orders_and_trips() {
    let cfg = load("config/examples/momentum-risk.toml");
    let res = run_backtest(&cfg, |_, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_outputs(&res, dir.path()).unwrap();
    let events = std::fs::read_to_string(dir.path().join("risk_events.csv")).unwrap();
    let rows: Vec<&str> = events.lines().skip(1).collect();
    assert!(!rows.is_empty());
    // every blocked order is rejected with reason `risk`, and only those
    let blocked: Vec<u64> = res
        .record
        .risk_events
        .iter()
        .filter(|e| e.kind == quant_engine::RiskEventKind::Blocked)
        .map(|e| e.order.unwrap().0)
        .collect();
    let rejected_risk: Vec<u64> = res
        .record
        .orders
        .iter()
        .filter(|o| o.reason == Some(quant_core::RejectReason::Risk))
        .map(|o| o.id.0)
        .collect();
    assert_eq!(blocked, rejected_risk);
    assert!(
        rows.iter().any(|r| r.contains(",trip,,,drawdown,")),
        "{events}"
    );
    let orders = std::fs::read_to_string(dir.path().join("orders.csv")).unwrap();
    assert_eq!(orders.matches(",risk").count(), blocked.len(), "{orders}");
    let summary = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
    assert!(
        summary.contains(&format!("\"risk_blocked_orders\": {}", blocked.len())),
        "{summary}"
    );
    // the report lists every event with its numbers
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains(&format!(
        "<h2>Risk events ({})</h2>",
        res.record.risk_events.len()
    )));
    let first = &res.record.risk_events[0];
    assert!(html.contains(&format!(
        "<td class=\"l\">{}</td><td>{:.4}</td><td>{:.4}</td>",
        first.rule, first.value, first.limit
    )));

    // a run without [risk] writes the file with its header only and no
    // risk fields in the summary
    let plain = run_backtest(&load("config/examples/sma-600036.toml"), |_, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_outputs(&plain, dir.path()).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("risk_events.csv")).unwrap(),
        "date,kind,symbol,order_id,rule,value,limit,detail\n"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
    assert!(!summary.contains("risk_blocked_orders"));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(!html.contains("Risk events"));
}

#[test]
fn risk_settings_are_checked_with_their_keys() {
    let p = Path::new("risk.toml");
    let base = "[data]\nroot = \".\"\nuniverse = [\"x\"]\nbenchmark = \"b\"\n[strategy]\nname = \"sma_cross\"\n";
    let e = BacktestConfig::parse(
        &format!("{base}[risk.limits]\nmax_position_weight = 1.5\n"),
        p,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("risk.toml") && e.contains("max_position_weight") && e.contains("1.5"),
        "{e}"
    );
    let e = BacktestConfig::parse(&format!("{base}[risk.breakers]\nmax_drawdwn = 0.2\n"), p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_drawdwn"), "{e}");
}

#[test]
fn the_goals_panel_measures_the_run_and_its_monte_carlo() {
    let cfg = load("config/backtest.toml");
    let g = cfg.goals.unwrap();
    assert_eq!((g.cagr, g.max_drawdown), (0.2, 0.2));
    let res = run_backtest(&cfg, |_, _| {}).unwrap();
    let panel = quant_backtest::report::goals_rows(&res).unwrap().unwrap();
    assert_eq!(panel.rows.len(), 2);
    assert_eq!(panel.rows[0].goal, "CAGR ≥ 20.00%");
    assert_eq!(
        panel.rows[0].run,
        format!("{:.2}%", res.metrics.cagr * 100.0)
    );
    assert_eq!(panel.rows[0].met, res.metrics.cagr >= 0.2);
    assert_eq!(panel.rows[1].met, res.metrics.max_drawdown <= 0.2);
    let html = quant_backtest::report::report_html(&res).unwrap();
    assert!(html.contains("<h2>Goals</h2>") && html.contains("max drawdown ≤ 20.00%"));
    // without [goals], no panel
    let plain = run_backtest(&load("config/examples/sma-600036.toml"), |_, _| {}).unwrap();
    assert!(
        !quant_backtest::report::report_html(&plain)
            .unwrap()
            .contains("<h2>Goals</h2>")
    );
    // settings are checked
    let p = Path::new("g.toml");
    let base = "[data]\nroot = \".\"\nuniverse = [\"x\"]\nbenchmark = \"b\"\n[strategy]\nname = \"sma_cross\"\n";
    let e = BacktestConfig::parse(&format!("{base}[goals]\nmax_drawdown = 0\n"), p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("g.toml") && e.contains("goals"), "{e}");
    assert!(BacktestConfig::parse(&format!("{base}[goals]\ncagr_target = 0.2\n"), p).is_err());
}

#[test]
fn dual_momentum_holds_one_asset_at_a_time() {
    let cfg = load("config/examples/dual-momentum.toml");
    let res = run_backtest(&cfg, |_, _| {}).unwrap();
    let mut held: std::collections::BTreeMap<String, i64> = Default::default();
    let mut by_day: std::collections::BTreeMap<chrono::NaiveDate, Vec<&quant_core::Fill>> =
        Default::default();
    for f in &res.record.fills {
        by_day.entry(f.date).or_default().push(f);
    }
    let allowed = ["510300.SH", "159915.SZ", "518880.SH", "511010.SH"];
    for (day, fills) in by_day {
        for f in fills {
            assert!(allowed.contains(&f.symbol.as_str()), "{}", f.symbol);
            let q: i64 = f.quantity.0.try_into().unwrap();
            *held.entry(f.symbol.to_string()).or_default() += if f.side == quant_core::Side::Buy {
                q
            } else {
                -q
            };
        }
        held.retain(|_, q| *q != 0);
        assert!(held.len() <= 1, "{day}: {held:?}");
    }
    // the defensive asset was held at some point, and so was a risky one
    let bought: std::collections::BTreeSet<&str> = res
        .record
        .fills
        .iter()
        .filter(|f| f.side == quant_core::Side::Buy)
        .map(|f| f.symbol.as_str())
        .collect();
    assert!(
        bought.contains("511010.SH") && bought.len() >= 2,
        "{bought:?}"
    );
}

#[test]
fn the_fundamental_gate_reads_point_in_time_market_values() {
    let shipped =
        std::fs::read_to_string(root().join("config/strategies/bollinger-reversion.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |gate: &str, with_source: bool| {
        let text = shipped.replace(
            "total_mv = { min = 100000000000 }  # ≥ 100 billion CNY market value",
            gate,
        );
        let p = dir.path().join("s.toml");
        std::fs::write(&p, text).unwrap();
        let mut cfg = load("config/backtest.toml");
        if !with_source {
            cfg.data.fundamentals = None;
        }
        cfg.strategy.name.clear();
        cfg.strategy.params.clear();
        cfg.use_strategy_file(&p).unwrap();
        let res = run_backtest(&cfg, |_, _| {}).unwrap();
        res.record
            .fills
            .iter()
            .filter(|f| f.side == quant_core::Side::Buy)
            .map(|f| (f.date, f.symbol.to_string()))
            .collect::<Vec<_>>()
    };
    // no name is worth 10 trillion CNY: nothing is bought
    assert!(run("total_mv = { min = 1e13 }", true).is_empty());
    // without a fundamentals source every figure is unknown and passes
    assert!(!run("total_mv = { min = 1e13 }", false).is_empty());
    // under 300 billion: each buy's latest month-end market value before
    // the signal day was under 300 billion
    let buys = run("total_mv = { max = 3e11 }", true);
    assert!(!buys.is_empty());
    let caps =
        std::fs::read_to_string(root().join("fixtures/cn/fundamentals/market_cap_monthly.csv"))
            .unwrap();
    let rows: Vec<(chrono::NaiveDate, &str, f64)> = caps
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].parse().unwrap(), c[1], c[3].parse().unwrap())
        })
        .collect();
    for (fill_day, sym) in &buys {
        // the decision was at the close before the fill day
        let known = rows
            .iter()
            .filter(|(d, s, _)| *s == sym.as_str() && d < fill_day)
            .max_by_key(|(d, _, _)| *d)
            .unwrap();
        assert!(
            known.2 <= 3e11,
            "{sym} bought {fill_day} at a market value of {}",
            known.2
        );
    }
}

#[test]
fn multi_factor_holds_its_top_k_stocks_by_risk_parity() {
    let mut cfg = load("config/examples/multi-factor.toml");
    // with the turnover cap a dropped name is sold over several months, so
    // more than top_k can be held for a while; without it, only a sell the
    // market refused (a suspension) leaves a sixth name
    let capped = run_backtest(&cfg, |_, _| {}).unwrap();
    assert!(most_held(&capped.record.fills) <= 10);
    cfg.strategy
        .params
        .insert("max_turnover".into(), toml::Value::Float(1.0));
    let free = run_backtest(&cfg, |_, _| {}).unwrap();
    let refused = free
        .record
        .orders
        .iter()
        .filter(|o| o.side == quant_core::Side::Sell && o.filled.is_zero())
        .count();
    assert!(most_held(&free.record.fills) <= 5 + refused);
    let res = capped;
    let names: std::collections::BTreeSet<&str> =
        res.record.fills.iter().map(|f| f.symbol.as_str()).collect();
    assert!(names.len() > 5, "{names:?}");
    // nothing trades before the 250-bar momentum window and the first
    // monthly rebalance after it (the fixtures start 2015-01-05)
    let first = res.record.fills.first().unwrap().date;
    assert!(first >= "2016-01-05".parse().unwrap(), "{first}");
    // a month's rebalance moves at most half the book (max_turnover 0.5)
    let eq: std::collections::BTreeMap<chrono::NaiveDate, f64> = res
        .record
        .equity
        .iter()
        .map(|p| (p.date, p.equity))
        .collect();
    let mut traded: std::collections::BTreeMap<chrono::NaiveDate, f64> = Default::default();
    for f in &res.record.fills {
        *traded.entry(f.date).or_default() += f.value().to_f64();
    }
    for (day, value) in traded {
        let before = eq.range(..day).next_back().map_or(1e6, |(_, e)| *e);
        // buys and sells both count: one-way turnover ≤ 0.5 → two-way ≤ 1.0, plus price moves
        assert!(value / before <= 1.1, "{day}: traded {value} of {before}");
    }
}

/// The shipped month-end example: every order is decided at the close of
/// the last trading day of a month (the CSI 300's days: the next trading
/// day lies in another month) and fills at the next open, the first
/// trading day of the next month. `month_start` (at the open of the first
/// trading day) decides on the same closes with the same information, so
/// it gives the same orders; the inline table is the shortcut.
#[test]
fn month_end_example_decides_on_last_trading_days() {
    use chrono::{Datelike, NaiveDate};
    let text = std::fs::read_to_string(root().join("fixtures/cn/index/000300.SH.csv")).unwrap();
    let days: Vec<NaiveDate> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let next = |d: NaiveDate| days[days.partition_point(|x| *x <= d)];
    let ym = |d: NaiveDate| (d.year(), d.month());
    let cfg = load("config/examples/momentum-month-end.toml");
    let res = run_backtest(&cfg, |_, _| {}).unwrap();
    let orders = &res.record.orders;
    let months: std::collections::BTreeSet<(i32, u32)> =
        orders.iter().map(|o| ym(o.created)).collect();
    assert!(months.len() >= 24, "{} months with orders", months.len());
    for o in orders {
        let d = o.created;
        assert_ne!(ym(next(d)), ym(d), "order {} decided on {d}", o.id);
    }
    assert!(!res.record.fills.is_empty());
    for f in &res.record.fills {
        let o = orders.iter().find(|o| o.id == f.order_id).unwrap();
        assert_eq!(f.date, next(o.created), "order {} filled {}", o.id, f.date);
        assert_ne!(ym(f.date), ym(o.created));
    }
    // September 2020 ends on Wed 09-30 before the National Day holiday:
    // decided then, filled on Fri 10-09
    let sept: Vec<_> = orders
        .iter()
        .filter(|o| ym(o.created) == (2020, 9))
        .collect();
    assert!(sept.iter().all(|o| o.created.to_string() == "2020-09-30"));
    let key = |r: &quant_backtest::BacktestResult| {
        r.record
            .orders
            .iter()
            .map(|o| (o.created, o.symbol.clone(), o.side, o.requested))
            .collect::<Vec<_>>()
    };
    let with = |rebalance: toml::Value| {
        let mut c = cfg.clone();
        c.strategy.params.insert("rebalance".into(), rebalance);
        run_backtest(&c, |_, _| {}).unwrap()
    };
    let table: toml::Table = toml::from_str("every = \"month\"\nday = -1").unwrap();
    assert_eq!(key(&with(toml::Value::Table(table))), key(&res));
    assert_eq!(
        key(&with(toml::Value::String("month_start".into()))),
        key(&res)
    );
    let monthly = with(toml::Value::String("monthly".into()));
    assert_ne!(key(&monthly), key(&res));
    // `monthly` decides at the close of each month's first trading day
    assert!(monthly.record.orders.iter().all(|o| {
        let prev = days[days.partition_point(|x| *x < o.created) - 1];
        ym(prev) != ym(o.created)
    }));
}

/// `[backtest] size_at = "decision"`: value orders become whole lots at
/// the decision's close (as a live order must), and fill as such at the
/// next open unless cash cuts them; `fill` (the default) sizes them at
/// the fill price.
#[test]
fn value_orders_sized_at_the_decision() {
    use quant_core::{OrderQty, Side};
    let mut cfg = load("config/backtest.toml");
    cfg.backtest.size_at = quant_engine::SizeAt::Decision;
    let res = quant_backtest::run_backtest(&cfg, |_, _| {}).unwrap();
    let buys: Vec<_> = res
        .record
        .orders
        .iter()
        .filter(|o| o.side == Side::Buy)
        .collect();
    assert!(buys.len() > 20);
    for o in &buys {
        let OrderQty::Units(q) = o.requested else {
            panic!("order {} is not sized in units: {:?}", o.id, o.requested)
        };
        assert!((q.0 % rust_decimal::Decimal::from(100)).is_zero(), "{q}");
        if o.reason.is_none() && o.filled.0 > rust_decimal::Decimal::ZERO {
            assert_eq!(o.filled, q, "order {} filled as sized", o.id);
        }
    }
    let plain = quant_backtest::run_backtest(&load("config/backtest.toml"), |_, _| {}).unwrap();
    assert!(
        plain
            .record
            .orders
            .iter()
            .any(|o| matches!(o.requested, OrderQty::Value(_)))
    );
    assert_ne!(plain.record.fills, res.record.fills, "the sizes differ");
}
