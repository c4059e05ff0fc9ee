//! The golden SMA case: `shared/golden/backtest/sma_600036.SH` (copied to
//! `tests/data/golden`), reproduced trade for trade, and its metrics against
//! empyrical's (`shared/golden/metrics/sma_600036.SH.json`).

use std::path::{Path, PathBuf};

use quant_backtest::{BacktestConfig, compute_metrics, run_backtest};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(name)
}

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300)
}

fn read_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

fn sma_result() -> quant_backtest::BacktestResult {
    let cfg = BacktestConfig::load(&root().join("config/examples/sma-600036.toml")).unwrap();
    run_backtest(&cfg, |_, _| {}).unwrap()
}

#[test]
fn golden_sma_600036_trades_and_equity() {
    let res = sma_result();
    let want = read_rows(&golden("reference_trades.csv"));
    let fills = &res.record.fills;
    assert_eq!(fills.len(), want.len(), "number of trades");
    for (f, w) in fills.iter().zip(&want) {
        assert_eq!(f.date.to_string(), w[0]);
        assert_eq!(f.symbol.as_str(), w[1]);
        assert_eq!(f.side.as_str(), w[2]);
        assert_eq!(
            f.quantity.to_f64(),
            w[3].parse::<f64>().unwrap(),
            "qty on {}",
            w[0]
        );
        let (p, fee): (f64, f64) = (w[4].parse().unwrap(), w[5].parse().unwrap());
        assert!(
            rel_close(f.price.to_f64(), p, 1e-9),
            "price on {}: {} vs {p}",
            w[0],
            f.price
        );
        assert!(
            rel_close(f.total_fees().to_f64(), fee, 1e-9),
            "fees on {}: {} vs {fee}",
            w[0],
            f.total_fees()
        );
    }
    let want = read_rows(&golden("reference_equity.csv"));
    let eq = &res.record.equity;
    assert_eq!(eq.len(), want.len(), "equity points");
    for (p, w) in eq.iter().zip(&want) {
        assert_eq!(p.date.to_string(), w[0]);
        let e: f64 = w[1].parse().unwrap();
        assert!(
            rel_close(p.equity, e, 1e-9),
            "equity on {}: {} vs {e}",
            w[0],
            p.equity
        );
    }
}

#[test]
fn golden_sma_600036_metrics_match_empyrical() {
    let res = sma_result();
    let text = std::fs::read_to_string(golden("metrics_sma_600036.SH.json")).unwrap();
    let g: serde_json::Value = serde_json::from_str(&text).unwrap();
    let g = &g["metrics"];
    let num = |k: &str| g[k].as_f64().unwrap_or_else(|| panic!("golden {k}"));
    let check = |name: &str, ours: f64, theirs: f64| {
        assert!(
            rel_close(ours, theirs, 1e-9),
            "{name}: ours {ours} vs empyrical {theirs}"
        );
    };
    let m0 = compute_metrics(&res.record, 0.0);
    check("total_return", m0.total_return, num("total_return"));
    check("cagr", m0.cagr, num("cagr_252"));
    check(
        "annual_volatility",
        m0.annual_volatility,
        num("annual_volatility"),
    );
    check("sharpe", m0.sharpe, num("sharpe"));
    check("sortino", m0.sortino, num("sortino"));
    check("downside_risk", m0.downside_risk, num("downside_risk"));
    check("max_drawdown", m0.max_drawdown, -num("max_drawdown"));
    check("calmar", m0.calmar, num("calmar"));
    assert_eq!(
        m0.max_drawdown_duration as f64,
        num("max_drawdown_duration_bars")
    );
    assert_eq!(
        m0.max_drawdown_peak.to_string(),
        g["max_drawdown_peak_date"].as_str().unwrap()
    );
    assert_eq!(
        m0.max_drawdown_trough.to_string(),
        g["max_drawdown_trough_date"].as_str().unwrap()
    );
    assert!(m0.max_drawdown_recovery.is_none());
    check("var_95", m0.var_95, num("var_95_historical"));
    check("cvar_95", m0.cvar_95, num("cvar_95"));
    check("best_day", m0.best_day, num("best_day"));
    check("worst_day", m0.worst_day, num("worst_day"));
    check("beta", m0.beta.unwrap(), num("beta"));
    check(
        "information_ratio",
        m0.information_ratio.unwrap(),
        num("information_ratio_daily"),
    );
    check(
        "information_ratio_annualised",
        m0.information_ratio_annualised.unwrap(),
        num("information_ratio_annualised"),
    );
    check(
        "tracking_error",
        m0.tracking_error.unwrap(),
        num("tracking_error_annualised"),
    );
    check(
        "benchmark_total_return",
        m0.benchmark_total_return.unwrap(),
        num("benchmark_total_return"),
    );
    check(
        "benchmark_cagr",
        m0.benchmark_cagr.unwrap(),
        num("benchmark_cagr_252"),
    );
    check(
        "benchmark_max_drawdown",
        m0.benchmark_max_drawdown.unwrap(),
        -num("benchmark_max_drawdown"),
    );
    let m2 = compute_metrics(&res.record, 0.02);
    check("sharpe (rf 2%)", m2.sharpe, num("sharpe_rf"));
    check("sortino (rf 2%)", m2.sortino, num("sortino_rf"));
    check("alpha (rf 2%)", m2.alpha.unwrap(), num("alpha"));
    check("beta (rf 2%)", m2.beta.unwrap(), num("beta"));
}
