//! Absurd and crafted run configs: every out-of-range value is an error
//! naming the file, the line of the key, the key and the allowed range;
//! no text makes the parser panic; every shipped config still loads.

use std::path::Path;

use proptest::prelude::*;
use quant_backtest::BacktestConfig;

/// A config with every section; line numbers below refer to it.
const BASE: &str = r#"[backtest]
start = "2016-01-04"
end = "2016-12-30"
initial_cash = 1000000
slippage_bps = 5
risk_free_rate = 0.02

[data]
root = "."
universe = ["cn/daily/600036.SH"]
benchmark = "cn/index/000300.SH"

[costs]
commission_rate = 0.00025
min_commission = 5
stamp_duty = [{ from = "2008-09-19", rate = 0.001 }, { from = "2023-08-28", rate = 0.0005 }]
transfer_fee_rate = 0.00001
fund_commission_rate = 0.00025
fund_min_commission = 0

[strategy]
name = "momentum_rotation"

[strategy.params]
lookback = 20
top_k = 3

[risk.limits]
max_position_weight = 0.3

[risk.breakers]
max_drawdown = 0.2
cooldown_days = 20

[goals]
cagr = 0.2
mc_paths = 2000
mc_block = 1
"#;

fn parse(text: &str) -> Result<BacktestConfig, String> {
    BacktestConfig::parse(text, Path::new("bad.toml")).map_err(|e| e.to_string())
}

/// `BASE` with `from` replaced by `to` is refused at `line` naming `key`
/// and `range`.
fn refused(from: &str, to: &str, line: usize, key: &str, range: &str) {
    assert!(BASE.contains(from), "{from}");
    let e = parse(&BASE.replacen(from, to, 1)).expect_err(to);
    let head = format!("bad.toml:{line}: {key}: ");
    assert!(e.starts_with(&head), "{to}: want `{head}…`, got `{e}`");
    assert!(e.contains(range), "{to}: no range `{range}` in `{e}`");
}

#[test]
fn the_base_config_is_good() {
    parse(BASE).unwrap();
}

#[test]
fn absurd_costs_name_file_line_key_and_range() {
    let rate = "commission_rate = 0.00025";
    refused(
        rate,
        "commission_rate = 2.0",
        14,
        "costs.commission_rate",
        "[0, 0.01]",
    );
    refused(
        rate,
        "commission_rate = -0.001",
        14,
        "costs.commission_rate",
        "[0, 0.01]",
    );
    refused(
        rate,
        "commission_rate = 0.011",
        14,
        "costs.commission_rate",
        "[0, 0.01]",
    );
    let min = "min_commission = 5";
    refused(
        min,
        "min_commission = -5",
        15,
        "costs.min_commission",
        "[0, 1000]",
    );
    refused(
        min,
        "min_commission = 1e9",
        15,
        "costs.min_commission",
        "[0, 1000]",
    );
    refused(
        "rate = 0.0005",
        "rate = 0.5",
        16,
        "costs.stamp_duty[1].rate",
        "[0, 0.01]",
    );
    refused(
        "\"2023-08-28\"",
        "\"2001-01-01\"",
        16,
        "costs.stamp_duty[1].from",
        "dates must ascend",
    );
    refused(
        "transfer_fee_rate = 0.00001",
        "transfer_fee_rate = 0.01",
        17,
        "costs.transfer_fee_rate",
        "[0, 0.001]",
    );
    refused(
        "transfer_fee_rate = 0.00001",
        "transfer_fee = [{ from = \"2015-01-01\", rate = -0.00002 }]",
        17,
        "costs.transfer_fee[0].rate",
        "[0, 0.001]",
    );
    refused(
        "fund_commission_rate = 0.00025",
        "fund_commission_rate = 1",
        18,
        "costs.fund_commission_rate",
        "[0, 0.01]",
    );
    refused(
        "fund_min_commission = 0",
        "fund_min_commission = -1",
        19,
        "costs.fund_min_commission",
        "[0, 1000]",
    );
}

#[test]
fn absurd_run_settings_name_file_line_key_and_range() {
    let slip = "slippage_bps = 5";
    refused(
        slip,
        "slippage_bps = -1",
        5,
        "backtest.slippage_bps",
        "[0, 1000]",
    );
    refused(
        slip,
        "slippage_bps = 1001",
        5,
        "backtest.slippage_bps",
        "[0, 1000]",
    );
    refused(
        slip,
        "slippage_bps = 9999",
        5,
        "backtest.slippage_bps",
        "[0, 1000]",
    );
    let cash = "initial_cash = 1000000";
    refused(
        cash,
        "initial_cash = 0",
        4,
        "backtest.initial_cash",
        "positive",
    );
    refused(
        cash,
        "initial_cash = -5",
        4,
        "backtest.initial_cash",
        "positive",
    );
    refused(
        cash,
        "initial_cash = 1e20",
        4,
        "backtest.initial_cash",
        "at most 1000000000000000",
    );
    let rf = "risk_free_rate = 0.02";
    refused(
        rf,
        "risk_free_rate = 2",
        6,
        "backtest.risk_free_rate",
        "[-0.1, 1]",
    );
    refused(
        rf,
        "risk_free_rate = nan",
        6,
        "backtest.risk_free_rate",
        "[-0.1, 1]",
    );
    refused(
        rf,
        "risk_free_rate = -inf",
        6,
        "backtest.risk_free_rate",
        "[-0.1, 1]",
    );
    refused(
        "end = \"2016-12-30\"",
        "end = \"2015-12-30\"",
        3,
        "backtest.end",
        "before backtest.start 2016-01-04",
    );
    refused(
        "universe = [\"cn/daily/600036.SH\"]",
        "universe = []",
        10,
        "data.universe",
        "no instrument",
    );
    refused(
        "universe = [\"cn/daily/600036.SH\"]",
        "universe = [\"cn/daily/600036.SH\", \" \"]",
        10,
        "data.universe[1]",
        "empty",
    );
}

#[test]
fn risk_goals_and_strategy_params_name_their_lines() {
    refused(
        "cooldown_days = 20",
        "cooldown_days = 4294967295",
        33,
        "risk.breakers.cooldown_days",
        "[1, 100000]",
    );
    refused(
        "max_position_weight = 0.3",
        "max_position_weight = 2",
        29,
        "risk.limits.max_position_weight",
        "(0, 1]",
    );
    refused(
        "max_position_weight = 0.3",
        "max_position_weight = 0.3\nmax_positions = 9223372036854775807",
        30,
        "risk.limits.max_positions",
        "[1, 10000]",
    );
    refused(
        "mc_paths = 2000",
        "mc_paths = 9223372036854775807",
        37,
        "goals.mc_paths",
        "[1, 1000000]",
    );
    refused(
        "mc_block = 1",
        "mc_block = 0",
        38,
        "goals.mc_block",
        "[1, 10000]",
    );
    refused("cagr = 0.2", "cagr = nan", 36, "goals.cagr", "[-1, 10]");
    refused(
        "cagr = 0.2",
        "cagr = 0.2\nmax_drawdown = 1.5",
        37,
        "goals.max_drawdown",
        "(0, 1]",
    );
    refused(
        "lookback = 20",
        "lookback = 9223372036854775807",
        25,
        "strategy.params.lookback",
        "[1, 100000]",
    );
    refused(
        "top_k = 3",
        "top_k = 0",
        26,
        "strategy.params.top_k",
        "[1, 10000]",
    );
    refused(
        "top_k = 3",
        "top_k = 3\ntopk = 3",
        27,
        "strategy.params.topk",
        "unknown field",
    );
    refused(
        "name = \"momentum_rotation\"",
        "name = \"momentum_rotaton\"",
        22,
        "strategy.name",
        "available: sma_cross",
    );
    // a library strategy's book keys, under [strategy.params]
    let lib = BASE.replace(
        "name = \"momentum_rotation\"\n\n[strategy.params]\nlookback = 20\ntop_k = 3\n",
        "name = \"trend_following\"\n\n[strategy.params]\nmax_positions = 3\n\n[strategy.params.exits]\ntime_stop_bars = 4294967295\n",
    );
    let e = parse(&lib).unwrap_err();
    assert!(
        e.starts_with("bad.toml:28: strategy.params.exits.time_stop_bars: ")
            && e.contains("[1, 100000]"),
        "{e}"
    );
}

#[test]
fn oversized_config_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.toml");
    std::fs::write(&p, format!("{BASE}\n#{}", "x".repeat(1 << 20))).unwrap();
    let e = BacktestConfig::load(&p).unwrap_err().to_string();
    assert!(e.contains("big.toml") && e.contains("1 MiB"), "{e}");
}

/// Every shipped run config loads under the new ranges (a strategy file
/// it names included).
#[test]
fn every_shipped_config_loads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut n = 0;
    for dir in ["config", "config/examples"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = entry.unwrap().path();
            let is_run = p.extension().is_some_and(|x| x == "toml")
                && std::fs::read_to_string(&p).unwrap().contains("[strategy]");
            if is_run {
                BacktestConfig::load(&p).unwrap_or_else(|e| panic!("{e}"));
                n += 1;
            }
        }
    }
    assert!(n >= 8, "{n} configs");
}

/// A Monte Carlo asked for more paths than exist memory for is an error,
/// not an allocation failure.
#[test]
fn monte_carlo_limits() {
    use quant_backtest::montecarlo::{McConfig, Method, RunData, monte_carlo};
    let run = RunData {
        equity: vec![100.0, 101.0, 99.0, 102.0],
        round_trips: vec![],
    };
    let cfg = |paths, block| McConfig {
        method: Method::Returns { block },
        paths,
        seed: 1,
        target_cagr: 0.2,
        max_drawdown: 0.2,
    };
    assert!(monte_carlo(&run, cfg(usize::MAX, 1)).is_err());
    assert!(monte_carlo(&run, cfg(10, usize::MAX)).is_err());
    let empty = RunData {
        equity: vec![],
        round_trips: vec![],
    };
    assert!(monte_carlo(&empty, cfg(10, 1)).is_err());
    assert!(monte_carlo(&run, cfg(10, 1)).is_ok());
}

/// A grid of more combinations than fit in memory is refused when loaded
/// (their product overflows `usize` here), not listed.
#[test]
fn grids_are_limited() {
    use quant_backtest::sweep::{Grid, MAX_COMBINATIONS};
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.toml");
    let values = format!(
        "[{}]",
        (1..=100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let params: String = (0..12).map(|k| format!("p{k} = {values}\n")).collect();
    std::fs::write(&p, format!("[params]\n{params}")).unwrap();
    let e = Grid::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("g.toml") && e.contains(&MAX_COMBINATIONS.to_string()),
        "{e}"
    );
    std::fs::write(
        &p,
        format!("[params]\np0 = {values}\np1 = {values}\np2 = {values}\n"),
    )
    .unwrap();
    assert_eq!(Grid::load(&p).unwrap().all().len(), 1_000_000);
}

/// Walk-forward windows of `usize::MAX` days: an error, not an overflow.
#[test]
fn huge_walk_forward_windows_are_errors() {
    use quant_backtest::walkforward::{WalkForwardConfig, walk_forward};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cfg = BacktestConfig::load(&root.join("config/examples/sma-600036.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.toml");
    std::fs::write(&p, "[params]\nfast = [5]\n").unwrap();
    let grid = quant_backtest::sweep::Grid::load(&p).unwrap();
    let wf = WalkForwardConfig {
        train_days: usize::MAX,
        test_days: usize::MAX,
        anchored: false,
        sort: "sharpe".into(),
        threads: 1,
    };
    let e = walk_forward(&cfg, &grid, &wf).err().unwrap().to_string();
    assert!(e.contains("fewer than one window"), "{e}");
}

/// A TOML-ish config from real keys and crafted values.
fn toml_ish() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("5".to_string()),
        Just("0.5".to_string()),
        Just("2.0".to_string()),
        Just("4294967295".to_string()),
        Just("9223372036854775807".to_string()),
        Just("1e300".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("\"2016-01-04\"".to_string()),
        Just("2016-01-04".to_string()),
        Just("[]".to_string()),
        Just("[{ from = \"2020-01-01\", rate = 0.5 }]".to_string()),
        Just("\"sma_cross\"".to_string()),
        "\"[ -~]{0,20}\"",
    ];
    let key = prop_oneof![
        Just("start"),
        Just("end"),
        Just("initial_cash"),
        Just("slippage_bps"),
        Just("risk_free_rate"),
        Just("commission_rate"),
        Just("min_commission"),
        Just("stamp_duty"),
        Just("transfer_fee"),
        Just("lookback"),
        Just("top_k"),
        Just("fast"),
        Just("slow"),
        Just("max_positions"),
        Just("cooldown_days"),
        Just("mc_paths"),
        Just("cagr"),
        Just("name"),
        Just("universe"),
    ];
    let line = prop_oneof![
        4 => (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => prop_oneof![
            Just("[backtest]"),
            Just("[costs]"),
            Just("[strategy.params]"),
            Just("[risk.limits]"),
            Just("[risk.breakers]"),
            Just("[goals]"),
            Just("[["),
        ]
        .prop_map(str::to_string),
        1 => "[ -~]{0,30}",
    ];
    (proptest::collection::vec(line, 0..30), any::<bool>()).prop_map(|(lines, on_base)| {
        let body = lines.join("\n");
        if on_base {
            format!("{BASE}\n{body}")
        } else {
            body
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any text: a config or an error naming the file, never a panic.
    #[test]
    fn arbitrary_config_text_never_panics(text in "\\PC{0,300}") {
        if let Err(e) = parse(&text) {
            prop_assert!(e.starts_with("bad.toml"), "{}", e);
        }
    }

    /// TOML-ish configs: the same.
    #[test]
    fn toml_ish_configs_never_panic(text in toml_ish()) {
        if let Err(e) = parse(&text) {
            prop_assert!(e.starts_with("bad.toml"), "{}", e);
        }
    }
}
