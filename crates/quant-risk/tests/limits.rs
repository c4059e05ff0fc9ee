//! Crafted settings: the largest integers and absurd reals are refused by
//! validation with the key, the value and the allowed range, and the
//! counters that grow with time saturate instead of overflowing.
#![allow(clippy::unwrap_used, missing_docs)]

use quant_core::Side;
use quant_risk::checks::check;
use quant_risk::exits::{ExitRules, OpenTrade};
use quant_risk::sizing::Sizing;
use quant_risk::{
    BreakerConfig, Error, MarketView, OrderRequest, PortfolioView, RiskConfig, RiskLimits,
};

/// The setting is refused naming `key`, and the message gives the range.
fn refused(r: quant_risk::Result<()>, key: &str, range: &str) {
    let e = r.expect_err(key);
    assert!(
        matches!(&e, Error::Setting { key: k, .. } if *k == key),
        "{key}: {e}"
    );
    let text = e.to_string();
    assert!(text.contains(range), "{key}: no range {range} in `{text}`");
}

fn toml_risk(text: &str) -> quant_risk::Result<()> {
    let cfg: RiskConfig = toml::from_str(text).unwrap();
    cfg.validate()
}

#[test]
fn huge_counts_are_refused_with_key_and_range() {
    let b = |f: fn(&mut BreakerConfig)| {
        let mut c = BreakerConfig {
            max_drawdown: Some(0.2),
            ..BreakerConfig::default()
        };
        f(&mut c);
        c.validate()
    };
    refused(
        b(|c| c.cooldown_days = Some(u32::MAX)),
        "cooldown_days",
        "[1, 100000]",
    );
    refused(
        b(|c| c.cooldown_days = Some(0)),
        "cooldown_days",
        "[1, 100000]",
    );
    refused(
        b(|c| c.losing_streak = Some(u32::MAX)),
        "losing_streak",
        "[1, 1000]",
    );
    assert!(b(|c| c.cooldown_days = Some(100_000)).is_ok());
    let limits = |f: fn(&mut RiskLimits)| {
        let mut l = RiskLimits::default();
        f(&mut l);
        l.validate()
    };
    refused(
        limits(|l| l.max_positions = Some(usize::MAX)),
        "max_positions",
        "[1, 10000]",
    );
    refused(
        limits(|l| l.max_orders_per_day = Some(u32::MAX)),
        "max_orders_per_day",
        "[1, 100000]",
    );
    let exits = ExitRules {
        time_stop_bars: Some(u32::MAX),
        ..ExitRules::default()
    };
    refused(exits.validate(), "exits.time_stop_bars", "[1, 100000]");
    let ew = Sizing::EqualWeight {
        positions: u32::MAX,
    };
    refused(ew.validate(), "sizing.positions", "[1, 10000]");
    // the same through TOML, as a config file writes them
    refused(
        toml_risk("[breakers]\nmax_drawdown = 0.2\ncooldown_days = 4294967295\n"),
        "cooldown_days",
        "[1, 100000]",
    );
    refused(
        toml_risk("[limits]\nmax_positions = 9223372036854775807\n"),
        "max_positions",
        "[1, 10000]",
    );
    // beyond u32: a deserialisation error, not a wrap-around
    assert!(toml::from_str::<RiskConfig>("[breakers]\ncooldown_days = 4294967296\n").is_err());
    assert!(toml::from_str::<RiskConfig>("[breakers]\ncooldown_days = -1\n").is_err());
}

#[test]
fn absurd_reals_are_refused_with_key_and_range() {
    for bad in [f64::NAN, f64::INFINITY, 1e300, 101.0, 0.0, -1.0] {
        let e = |f: fn(&mut ExitRules, f64)| {
            let mut x = ExitRules {
                stop_loss: Some(0.1),
                ..ExitRules::default()
            };
            f(&mut x, bad);
            x.validate()
        };
        refused(
            e(|x, v| x.take_profit = Some(v)),
            "exits.take_profit",
            "(0, 100]",
        );
        refused(
            e(|x, v| x.r_multiple = Some(v)),
            "exits.r_multiple",
            "(0, 100]",
        );
        refused(
            e(|x, v| x.chandelier_atr = Some(v)),
            "exits.chandelier_atr",
            "(0, 100]",
        );
        let atr = Sizing::AtrTarget {
            risk_per_trade: 0.01,
            multiple: bad,
        };
        refused(atr.validate(), "sizing.multiple", "(0, 100]");
        let k = Sizing::Kelly {
            win_rate: 0.5,
            payoff: bad,
            cap: 0.5,
        };
        refused(k.validate(), "sizing.payoff", "(0, 100]");
    }
    for bad in [f64::NAN, f64::INFINITY, -0.1, 1.5] {
        let c = BreakerConfig {
            max_drawdown: Some(bad),
            ..BreakerConfig::default()
        };
        refused(c.validate(), "max_drawdown", "(0, 1]");
        let l = RiskLimits {
            max_position_weight: Some(bad),
            ..RiskLimits::default()
        };
        refused(l.validate(), "max_position_weight", "(0, 1]");
    }
}

/// `orders_today` at `u32::MAX` (a live adapter's count, or a limit of
/// `u32::MAX` before validation): the order count saturates, no overflow.
#[test]
fn the_order_count_saturates() {
    let limits = RiskLimits {
        max_orders_per_day: Some(u32::MAX),
        ..RiskLimits::default()
    };
    let order = OrderRequest {
        symbol: "600036.SH",
        side: Side::Buy,
        quantity: 100.0,
        price: 30.0,
        limit_price: None,
        sector: None,
    };
    let portfolio = PortfolioView {
        equity: 1e6,
        orders_today: u32::MAX,
        ..PortfolioView::default()
    };
    let market = MarketView {
        last: 30.0,
        adv20: Some(1e6),
    };
    // u32::MAX orders already sent: the next is not over a u32::MAX limit
    // (the count saturates), and a smaller limit blocks it
    assert!(check(&limits, &order, &portfolio, &market).is_ok());
    let tight = RiskLimits {
        max_orders_per_day: Some(10),
        ..RiskLimits::default()
    };
    let v = check(&tight, &order, &portfolio, &market).unwrap_err();
    assert_eq!(v.limit, 10.0);
}

/// A trade held `u32::MAX` bars (a live book restored from its records):
/// the bar count saturates and the time stop still fires.
#[test]
fn bars_held_saturate() {
    let rules = ExitRules {
        time_stop_bars: Some(100_000),
        ..ExitRules::default()
    };
    let mut t = OpenTrade::new(10.0);
    t.bars_held = u32::MAX;
    let s = t.on_bar(&rules, 10.5, 10.2, None).unwrap();
    assert_eq!(t.bars_held, u32::MAX);
    assert_eq!(s.reason, quant_risk::ExitReason::TimeStop);
}
