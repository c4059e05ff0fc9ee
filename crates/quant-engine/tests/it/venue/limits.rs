//! Absurd venue and engine settings: refused by validation with the key,
//! the value and the range; and a venue or engine given them anyway
//! answers with an error or a capped price, never a panic.

use quant_core::{Cash, OrderQty, Side};
use quant_engine::record::MAX_INITIAL_CASH;
use quant_engine::{CorporateActions, EngineConfig};
use quant_exec::sim::{
    MAX_COMMISSION_RATE, MAX_MIN_COMMISSION, MAX_SLIPPAGE_BPS, MAX_STAMP_DUTY, MAX_TRANSFER_FEE,
};
use quant_exec::{SimConfig, SimulatedVenue};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::harness::*;

fn setting<E: std::fmt::Display>(r: Result<(), E>, key: &str, range: &str) {
    let e = r.expect_err(key);
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("setting `{key}`")),
        "{key}: {text}"
    );
    assert!(text.contains(range), "{key}: no {range} in `{text}`");
}

#[test]
fn cost_settings_have_ranges() {
    assert_eq!(MAX_SLIPPAGE_BPS, dec!(1000));
    assert_eq!(MAX_COMMISSION_RATE, dec!(0.01));
    assert_eq!(MAX_MIN_COMMISSION, dec!(1000));
    assert_eq!(MAX_STAMP_DUTY, dec!(0.01));
    assert_eq!(MAX_TRANSFER_FEE, dec!(0.001));
    assert!(SimConfig::default().validate().is_ok());
    for bad in [dec!(-1), dec!(1000.01), Decimal::MAX, Decimal::MIN] {
        let sim = SimConfig {
            slippage_bps: bad,
            ..SimConfig::default()
        };
        setting(sim.validate(), "slippage_bps", "[0, 1000]");
    }
    let mut sim = SimConfig::default();
    sim.cn_a.stock_fees.commission_rate = dec!(2.0);
    setting(
        sim.validate(),
        "cn_a.stock_fees.commission_rate",
        "[0, 0.01]",
    );
    let mut sim = SimConfig::default();
    sim.cn_a.stock_fees.min_commission = dec!(-5);
    setting(
        sim.validate(),
        "cn_a.stock_fees.min_commission",
        "[0, 1000]",
    );
    let mut sim = SimConfig::default();
    sim.cn_a.stock_fees.stamp_duty[1].rate = dec!(0.5);
    setting(sim.validate(), "cn_a.stock_fees.stamp_duty", "[0, 0.01]");
    let mut sim = SimConfig::default();
    sim.crypto.fund_fees.transfer_fee = vec![quant_core::rules::DatedRate {
        from: d("2020-01-01"),
        rate: dec!(0.01),
    }];
    setting(
        sim.validate(),
        "crypto.fund_fees.transfer_fee",
        "[0, 0.001]",
    );
    let mut sim = SimConfig::default();
    sim.cn_a.stock_fees.stamp_duty.reverse();
    setting(sim.validate(), "cn_a.stock_fees", "ascending");
}

#[test]
fn engine_settings_have_ranges() {
    let cfg = |cash: Decimal| EngineConfig {
        initial_cash: Cash(cash),
        corporate_actions: CorporateActions::None,
        size_at: Default::default(),
        risk: None,
        ..Default::default()
    };
    assert_eq!(MAX_INITIAL_CASH, dec!(1_000_000_000_000_000));
    for bad in [
        Decimal::ZERO,
        dec!(-1),
        MAX_INITIAL_CASH + Decimal::ONE,
        Decimal::MAX,
    ] {
        setting(cfg(bad).validate(), "initial_cash", "(0, 1000000000000000]");
    }
    assert!(cfg(dec!(1)).validate().is_ok());
    let risk = quant_risk::RiskConfig {
        breakers: quant_risk::BreakerConfig {
            max_drawdown: Some(0.2),
            cooldown_days: Some(u32::MAX),
            ..Default::default()
        },
        ..Default::default()
    };
    let e = EngineConfig {
        risk: Some(risk),
        ..cfg(dec!(1000))
    }
    .validate()
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("cooldown_days") && e.contains("[1, 100000]"),
        "{e}"
    );
}

/// The engine checks its settings before the first day: an error, not a
/// run with zero or negative cash.
#[test]
fn the_engine_refuses_to_run_with_bad_settings() {
    let days = ["2024-01-02", "2024-01-03"];
    let bars = vec![
        Some(bar(days[0], 10.0, 10.5, 9.5, 10.0)),
        Some(bar(days[1], 10.0, 10.5, 9.5, 10.0)),
    ];
    let mut feed = Feed::new(vec![inst("600000.SH")], &days, vec![bars]);
    let mut clock = DaysClock(feed.days.clone(), 0);
    let mut venue = SimulatedVenue::new(SimConfig::default());
    let config = EngineConfig {
        initial_cash: Cash(dec!(-100)),
        corporate_actions: CorporateActions::None,
        size_at: Default::default(),
        risk: None,
        ..Default::default()
    };
    let e = quant_engine::run_strategy(
        config,
        &mut clock,
        &mut feed,
        &mut venue,
        Box::new(Script(vec![])),
        |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("initial_cash"), "{e}");
}

/// A venue built from an unchecked config with the largest decimal as
/// slippage: buys fill at the bar's high, sells at its low — no overflow.
#[test]
fn unchecked_huge_slippage_caps_at_the_bar() {
    let days = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"];
    let bars = vec![
        Some(bar(days[0], 100_000.0, 100_500.0, 99_500.0, 100_000.0)),
        Some(bar(days[1], 100_000.0, 100_500.0, 99_500.0, 100_000.0)),
        Some(bar(days[2], 100_000.0, 100_500.0, 99_500.0, 100_000.0)),
        Some(bar(days[3], 100_000.0, 100_500.0, 99_500.0, 100_000.0)),
    ];
    for slippage_bps in [Decimal::MAX, Decimal::MIN] {
        let mut feed = Feed::new(vec![inst("BTC-USDT")], &days, vec![bars.clone()]);
        let sim = SimConfig {
            slippage_bps,
            ..SimConfig::default()
        };
        let rec = run(
            &mut feed,
            sim,
            1e9,
            vec![
                (
                    d(days[0]),
                    0,
                    Side::Buy,
                    OrderQty::Units(quant_core::Quantity(dec!(1))),
                ),
                (d(days[1]), 0, Side::Sell, OrderQty::AllPosition),
            ],
        );
        assert_eq!(rec.fills.len(), 2, "{slippage_bps}");
        let (buy, sell) = (&rec.fills[0], &rec.fills[1]);
        if slippage_bps > Decimal::ZERO {
            assert_eq!(buy.price.0, dec!(100500), "buy at the high");
            assert_eq!(sell.price.0, dec!(99500), "sell at the low");
        }
    }
}

/// A strategy ordering an instrument outside the universe: an error naming
/// it, not an out-of-bounds panic.
#[test]
fn an_order_outside_the_universe_is_an_error() {
    let days = ["2024-01-02", "2024-01-03"];
    let bars = vec![
        Some(bar(days[0], 10.0, 10.5, 9.5, 10.0)),
        Some(bar(days[1], 10.0, 10.5, 9.5, 10.0)),
    ];
    let mut feed = Feed::new(vec![inst("600000.SH")], &days, vec![bars]);
    let mut clock = DaysClock(feed.days.clone(), 0);
    let mut venue = SimulatedVenue::new(SimConfig::default());
    let config = EngineConfig {
        initial_cash: Cash(dec!(100000)),
        corporate_actions: CorporateActions::None,
        size_at: Default::default(),
        risk: None,
        ..Default::default()
    };
    let script = Script(vec![(d(days[0]), 7, Side::Buy, units(100))]);
    let e = quant_engine::run_strategy(
        config,
        &mut clock,
        &mut feed,
        &mut venue,
        Box::new(script),
        |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("instrument 7 of 1"), "{e}");
}

/// A feed lending fewer bars than it has instruments: an error.
#[test]
fn a_feed_with_missing_bars_is_an_error() {
    struct Short(Feed);
    impl quant_engine::DataFeed for Short {
        fn instruments(&self) -> &[quant_core::Instrument] {
            self.0.instruments()
        }
        fn advance(&mut self, date: chrono::NaiveDate) -> quant_engine::Result<()> {
            self.0.advance(date)
        }
        fn bars(&self) -> &[Option<quant_core::Bar>] {
            &[]
        }
        fn history(&self) -> &dyn quant_strategy::History {
            self.0.history()
        }
        fn benchmark_close(&self) -> f64 {
            f64::NAN
        }
        fn calendar(&self) -> &quant_core::TradingCalendar {
            self.0.calendar()
        }
    }
    let days = ["2024-01-02"];
    let bars = vec![Some(bar(days[0], 10.0, 10.5, 9.5, 10.0))];
    let mut feed = Short(Feed::new(vec![inst("600000.SH")], &days, vec![bars]));
    let mut clock = DaysClock(feed.0.days.clone(), 0);
    let mut venue = SimulatedVenue::new(SimConfig::default());
    let config = EngineConfig {
        initial_cash: Cash(dec!(100000)),
        corporate_actions: CorporateActions::None,
        size_at: Default::default(),
        risk: None,
        ..Default::default()
    };
    let e = quant_engine::run_strategy(
        config,
        &mut clock,
        &mut feed,
        &mut venue,
        Box::new(Script(vec![])),
        |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("0 bars for 1 instruments"), "{e}");
}
