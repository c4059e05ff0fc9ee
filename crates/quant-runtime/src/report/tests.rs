//! Unit tests of the daily report.

use super::*;

use chrono::TimeZone;
use proptest::prelude::*;
use quant_core::InstrumentIndex;
use rust_decimal::Decimal;

fn d(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, day).unwrap()
}

fn point(day: u32, equity: f64) -> EquityPoint {
    EquityPoint {
        date: d(day),
        equity,
        cash: Cash(Decimal::new(59345, 2)),
        benchmark: f64::NAN,
    }
}

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

/// A fill of `qty` units at `price_cents` / 100.
fn fill(day: u32, side: Side, qty: i64, price_cents: i64) -> Fill {
    Fill {
        order_id: OrderId(1),
        date: d(day),
        time: None,
        instrument: InstrumentIndex(0),
        symbol: sym("600000.SH"),
        side,
        quantity: Quantity::from_units(qty),
        price: Price(Decimal::new(price_cents, 2)),
        commission: Cash(Decimal::new(5, 0)),
        stamp_duty: Cash(Decimal::ZERO),
        transfer_fee: Cash(Decimal::new(1, 2)),
    }
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 5, 8, 0, 0).unwrap()
}

fn inputs<'a>(
    equity: &'a [EquityPoint],
    fills: &'a [Fill],
    positions: &'a [PositionLine],
    backtest: Option<Benchmark<'a>>,
) -> Inputs<'a> {
    Inputs {
        date: d(5),
        mode: Mode::Replay,
        strategy: "momentum_rotation",
        config: "backtest.toml",
        equity,
        fills,
        orders: &[],
        positions,
        risk_events: &[],
        limits: None,
        backtest,
        planned: Vec::new(),
        health: Health {
            last_data_update: Some(Utc.with_ymd_and_hms(2024, 3, 5, 7, 30, 0).unwrap()),
            feed_lag_secs: Some(0.25),
            errors: Vec::new(),
            last_seq: 42,
            air_gapped: true,
            journal: "sqlite:state/journal.db".into(),
        },
        data_quality: Some(DataQuality {
            symbols: 19,
            rows: 19,
            issues: vec!["600000.SH: volume 0 | suspended <b>".into()],
        }),
        generated_at: at(),
    }
}

/// Paper 1000, 1100, 990, 1039.5, 1143.45: returns 0.1, −0.1, 0.05, 0.1.
fn paper() -> Vec<EquityPoint> {
    [1000.0, 1100.0, 990.0, 1039.5, 1143.45]
        .iter()
        .zip(1..)
        .map(|(e, i)| point(i, *e))
        .collect()
}

/// Backtest 1000, 1100, 1001, 1061.06, 1167.166: returns 0.1, −0.09,
/// 0.06, 0.1 — differences from the paper's 0, −0.01, −0.01, 0.
fn model() -> Vec<EquityPoint> {
    [1000.0, 1100.0, 1001.0, 1061.06, 1167.166]
        .iter()
        .zip(1..)
        .map(|(e, i)| point(i, *e))
        .collect()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

fn five_day() -> DailyReport {
    let eq = paper();
    let bt = model();
    let fills = [fill(2, Side::Buy, 100, 1001), fill(5, Side::Sell, 50, 1098)];
    let bt_fills = [fill(2, Side::Buy, 100, 1000), fill(5, Side::Sell, 50, 1100)];
    let pos = [PositionLine {
        symbol: sym("600000.SH"),
        quantity: Quantity::from_units(50),
        sellable: Quantity::from_units(50),
        avg_cost: Some(10.06),
        mark: Some(11.0),
        value: Some(550.0),
    }];
    DailyReport::build(&inputs(
        &eq,
        &fills,
        &pos,
        Some(Benchmark {
            equity: &bt,
            fills: &bt_fills,
        }),
    ))
}

#[test]
fn five_days_by_hand() {
    let r = five_day();
    let p = &r.performance;
    assert_eq!(p.equity_date, Some(d(5)));
    assert!(close(p.equity, 1143.45));
    assert!(close(p.daily_pnl, 103.95));
    assert!(close(p.daily_return, 0.1));
    assert!(close(p.cumulative_return, 0.14345));
    // peak 1100 on day 2, trough 990 on day 3
    assert!(close(p.max_drawdown, 0.1));
    // day 5 is a new peak
    assert_eq!(p.current_drawdown, Some(0.0));

    // exposure: one position of 550 in 1143.45
    assert!(close(r.risk.gross_exposure, 550.0 / 1143.45));
    assert!(close(r.risk.net_exposure, 550.0 / 1143.45));
    assert!(close(r.risk.largest_position_weight, 550.0 / 1143.45));
    assert_eq!(r.risk.largest_position, Some(sym("600000.SH")));
    assert!(close(r.positions[0].unrealised_pnl, 550.0 - 503.0));

    let sh = &r.strategy_health;
    assert_eq!(sh.paper_days, 5);
    assert_eq!(sh.backtest_days, Some(5));
    assert_eq!(sh.common_days, 4);
    // differences 0, −0.01, −0.01, 0: mean −0.005, squared deviations
    // 4 × 0.000025, sample variance 0.0001 / 3, × 252 → √(0.0084)
    assert!(close(sh.tracking_error, 0.0084_f64.sqrt()), "{sh:?}");
    // buy 10.01 against 10.00: +10 bps; sell 10.98 against 11.00:
    // (1 − 10.98 / 11) × 10⁴ = 200 / 11 bps; mean of the two
    assert_eq!(sh.slippage_matched, 2);
    assert!(
        close(sh.slippage_bps, (10.0 + 200.0 / 11.0) / 2.0),
        "{sh:?}"
    );
    // today: 50 × 10.98 traded on 1143.45; average over 5 days
    assert!(close(sh.turnover_today, 549.0 / 1143.45));
    assert!(close(
        sh.turnover_avg_daily,
        (1001.0 / 1100.0 + 549.0 / 1143.45) / 5.0
    ));
    assert!(close(sh.return_gap, 0.14345 - 0.167166));

    // today's trades only
    assert_eq!(r.trades.len(), 1);
    assert_eq!(r.trades[0].value, Some(Cash(Decimal::new(549, 0))));
    assert_eq!(r.trades[0].fees, Some(Cash(Decimal::new(501, 2))));
    assert!(close(r.health.data_age_secs, 1800.0));
    // 5 days without orders (none were given), below the alert
    assert_eq!(r.flags.no_signals_days, 5);
    assert!(!r.flags.no_signals);
    // 9.2 % tracking error a year is a breach
    assert!(r.flags.tracking_breach);
    assert!(!r.flags.slippage_breach);
}

#[test]
fn var_and_cvar_are_quant_risks() {
    let r = five_day();
    let values: Vec<f64> = paper().iter().map(|p| p.equity).collect();
    let rets = simple_returns(&values);
    assert_eq!(
        r.risk.var_95,
        Some(historical_var(&rets, VAR_LEVEL).unwrap())
    );
    assert_eq!(
        r.risk.cvar_95,
        Some(historical_cvar(&rets, VAR_LEVEL).unwrap())
    );
}

#[test]
fn limits_used() {
    let eq = paper();
    let pos = [PositionLine {
        symbol: sym("600000.SH"),
        quantity: Quantity::from_units(50),
        sellable: Quantity::from_units(50),
        avg_cost: None,
        mark: Some(11.0),
        value: Some(550.0),
    }];
    let cfg: RiskConfig = toml::from_str(
        "[limits]\nmax_position_weight = 0.2\nmax_positions = 4\n[breakers]\nmax_drawdown = 0.2\ndaily_loss_limit = 0.03\n",
    )
    .unwrap();
    let mut i = inputs(&eq, &[], &pos, None);
    i.limits = Some(&cfg);
    let r = DailyReport::build(&i);
    let rules: Vec<&str> = r.risk.limits.iter().map(|l| l.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "limits.max_position_weight",
            "limits.max_positions",
            "breakers.max_drawdown",
            "breakers.daily_loss_limit"
        ]
    );
    let w = &r.risk.limits[0];
    assert!(close(w.ratio, 550.0 / 1143.45 / 0.2));
    assert!(r.flags.limit_reached, "a 48 % position against 20 %");
    assert!(close(r.risk.limits[1].ratio, 0.25));
    assert_eq!(r.risk.limits[3].used, Some(0.0));
}

fn empty_inputs() -> Inputs<'static> {
    Inputs {
        date: d(5),
        mode: Mode::Live,
        strategy: "",
        config: "",
        equity: &[],
        fills: &[],
        orders: &[],
        positions: &[],
        risk_events: &[],
        limits: None,
        backtest: Some(Benchmark {
            equity: &[],
            fills: &[],
        }),
        planned: Vec::new(),
        health: Health::default(),
        data_quality: None,
        generated_at: at(),
    }
}

#[test]
fn empty_inputs_do_not_panic() {
    let r = DailyReport::build(&empty_inputs());
    assert_eq!(r.performance.equity, None);
    assert_eq!(r.risk.var_95, None);
    assert_eq!(r.strategy_health.tracking_error, None);
    assert_eq!(r.strategy_health.slippage_bps, None);
    assert_eq!(r.strategy_health.paper_days, 0);
    assert!(r.to_html().contains("no positions"));
    assert!(r.to_markdown().contains("_no trades_"));
    let dir = tempfile::tempdir().unwrap();
    let paths = r.write_all(dir.path()).unwrap();
    assert_eq!(paths.len(), 3);
    assert!(dir.path().join("report-2024-03-05.json").exists());
    // no temporary file left behind
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn zero_and_nan_equity_give_none() {
    let eq = [
        point(1, 0.0),
        point(2, f64::NAN),
        point(3, 0.0),
        point(5, 0.0),
    ];
    let pos = [PositionLine {
        symbol: sym("600000.SH"),
        quantity: Quantity::from_units(1),
        sellable: Quantity::ZERO,
        avg_cost: Some(f64::NAN),
        mark: Some(f64::INFINITY),
        value: Some(f64::INFINITY),
    }];
    let r = DailyReport::build(&inputs(&eq, &[], &pos, None));
    assert_eq!(r.performance.daily_return, None);
    assert_eq!(r.performance.cumulative_return, None);
    assert_eq!(r.risk.gross_exposure, None);
    assert_eq!(r.positions[0].weight, None);
    let back: DailyReport = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(back, r);
}

/// Every external reference an HTML page could make.
fn external_refs(html: &str) -> Vec<&'static str> {
    [
        "http://", "https://", "src=", "href=", "@import", "url(", "<script", "<link",
    ]
    .into_iter()
    .filter(|p| html.to_ascii_lowercase().contains(p))
    .collect()
}

#[test]
fn html_is_self_contained_and_escaped() {
    let html = five_day().to_html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(external_refs(&html), Vec::<&str>::new());
    assert!(html.contains("<style>"));
    // text from inputs is escaped
    assert!(!html.contains("suspended <b>"));
    assert!(html.contains("&lt;b&gt;"));
    assert!(html.contains("Tracking error (annualised)"));
    assert!(html.contains("1143.45"));
    let md = five_day().to_markdown();
    assert!(md.contains("volume 0 \\| suspended"));
    assert!(md.contains("| Daily P&L (CNY) | 103.95 |"));
}

#[test]
fn json_round_trips_and_is_deterministic() {
    let r = five_day();
    let json = r.to_json();
    let back: DailyReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.to_json(), json);
    let again = five_day();
    assert_eq!(again.to_json(), json);
    assert_eq!(again.to_html(), r.to_html());
    assert_eq!(again.to_markdown(), r.to_markdown());
    // stable key order: the struct's
    let i = |k: &str| json.find(&format!("\"{k}\"")).unwrap();
    assert!(i("date") < i("performance") && i("performance") < i("strategy_health"));
    let dir = tempfile::tempdir().unwrap();
    r.write_all(dir.path()).unwrap();
    let first = std::fs::read(dir.path().join("report-2024-03-05.html")).unwrap();
    r.write_all(dir.path()).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("report-2024-03-05.html")).unwrap(),
        first
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("report-2024-03-05.md")).unwrap(),
        r.to_markdown()
    );
}

#[test]
fn write_all_names_the_path_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let e = five_day().write_all(&file).unwrap_err().to_string();
    assert!(e.contains("not-a-dir"), "{e}");
}

#[test]
fn no_signals_and_unusual_turnover() {
    let eq: Vec<EquityPoint> = (1..=25).map(|i| point(i, 1000.0)).collect();
    let mut i = inputs(&eq, &[], &[], None);
    i.date = d(25);
    let r = DailyReport::build(&i);
    assert_eq!(r.flags.no_signals_days, 25);
    assert!(r.flags.no_signals);
    assert!(!r.flags.messages.is_empty());
    // planned orders reset it
    i.planned = vec![PlannedOrder {
        symbol: sym("600000.SH"),
        side: Side::Buy,
        quantity: OrderQty::Value(Cash(Decimal::new(50_000, 0))),
        order_type: OrderType::Market,
        reason: "rank 1".into(),
    }];
    assert_eq!(DailyReport::build(&i).flags.no_signals_days, 0);
    // small daily trades, then half the equity in one day
    let mut fills: Vec<Fill> = (1..25).map(|k| fill(k, Side::Buy, 1, 1000)).collect();
    fills.push(fill(25, Side::Buy, 50, 1000));
    let mut i = inputs(&eq, &fills, &[], None);
    i.date = d(25);
    let r = DailyReport::build(&i);
    assert!(close(r.strategy_health.turnover_today, 0.5));
    assert!(r.flags.turnover_unusual);
}

fn check_finite(r: &DailyReport) {
    let p = &r.performance;
    let risk = &r.risk;
    let sh = &r.strategy_health;
    for x in [
        p.equity,
        p.daily_pnl,
        p.daily_return,
        p.cumulative_return,
        p.max_drawdown,
        p.current_drawdown,
        risk.var_95,
        risk.cvar_95,
        risk.gross_exposure,
        risk.net_exposure,
        risk.largest_position_weight,
        sh.tracking_error,
        sh.return_gap,
        sh.slippage_bps,
        sh.turnover_today,
        sh.turnover_avg_daily,
    ]
    .into_iter()
    .flatten()
    {
        assert!(x.is_finite(), "{x}");
    }
    if let Some(dd) = p.max_drawdown {
        assert!(dd >= 0.0);
    }
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => 0.0..2e6f64,
        1 => Just(0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => -1e3..0.0f64,
        1 => Just(1e300),
    ]
}

proptest! {
    #[test]
    fn random_curves_never_panic(
        paper in prop::collection::vec(value(), 0..40),
        model in prop::collection::vec(value(), 0..40),
        prices in prop::collection::vec((1i64..100_000, 1i64..10_000, any::<bool>(), 1u32..28), 0..20),
        mark in value(),
    ) {
        let curve = |v: &[f64]| -> Vec<EquityPoint> {
            v.iter()
                .enumerate()
                .map(|(i, e)| EquityPoint {
                    date: d(1) + chrono::Days::new(i as u64),
                    equity: *e,
                    cash: Cash(Decimal::ZERO),
                    benchmark: f64::NAN,
                })
                .collect()
        };
        let (pc, mc) = (curve(&paper), curve(&model));
        let fills: Vec<Fill> = prices
            .iter()
            .map(|&(p, q, buy, day)| {
                fill(day, if buy { Side::Buy } else { Side::Sell }, q, p)
            })
            .collect();
        let pos = [PositionLine {
            symbol: sym("600000.SH"),
            quantity: Quantity::from_units(100),
            sellable: Quantity::from_units(100),
            avg_cost: Some(mark),
            mark: Some(mark),
            value: Some(mark * 100.0),
        }];
        let cfg: RiskConfig =
            toml::from_str("[limits]\nmax_gross_exposure = 1.0\n[breakers]\nmax_drawdown = 0.2\n")
                .unwrap();
        let mut i = inputs(&pc, &fills, &pos, Some(Benchmark { equity: &mc, fills: &fills[..fills.len() / 2] }));
        i.date = d(1) + chrono::Days::new(paper.len().saturating_sub(1) as u64);
        i.limits = Some(&cfg);
        let r = DailyReport::build(&i);
        check_finite(&r);
        let back: DailyReport = serde_json::from_str(&r.to_json()).unwrap();
        prop_assert_eq!(&back, &r);
        prop_assert!(external_refs(&r.to_html()).is_empty());
        let _ = r.to_markdown();
    }
}
