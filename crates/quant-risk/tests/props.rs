//! Property: no order that passes the checks breaks a configured limit
//! once it has filled.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use quant_core::Side;
use quant_risk::checks::check;
use quant_risk::{Holding, MarketView, OrderRequest, PortfolioView, RiskLimits};

const SYMBOLS: [&str; 6] = ["A", "B", "C", "D", "E", "F"];
const SECTORS: [&str; 3] = ["bank", "liquor", "tech"];

fn sector_of(sym: &str) -> &'static str {
    SECTORS[SYMBOLS.iter().position(|s| *s == sym).unwrap() % 3]
}

fn portfolio() -> impl Strategy<Value = (f64, BTreeMap<String, Holding>)> {
    (
        10_000.0f64..1_000_000.0,
        proptest::collection::btree_map(0usize..6, (1u32..50, 1.0f64..200.0), 0..6),
    )
        .prop_map(|(cash, held)| {
            let positions: BTreeMap<String, Holding> = held
                .into_iter()
                .map(|(i, (lots, price))| {
                    (
                        SYMBOLS[i].to_string(),
                        Holding {
                            quantity: f64::from(lots) * 100.0,
                            price,
                            sector: Some(sector_of(SYMBOLS[i]).to_string()),
                        },
                    )
                })
                .collect();
            (cash, positions)
        })
}

fn weights(
    equity: f64,
    positions: &BTreeMap<String, Holding>,
) -> (f64, BTreeMap<String, f64>, f64) {
    let mut sectors = BTreeMap::new();
    let mut gross = 0.0;
    let mut max_w: f64 = 0.0;
    for h in positions.values() {
        let v = h.value();
        max_w = max_w.max(v / equity);
        *sectors.entry(h.sector.clone().unwrap()).or_insert(0.0) += v / equity;
        gross += v.abs();
    }
    (max_w, sectors, gross / equity)
}

proptest! {
    #[test]
    fn passing_buys_keep_every_limit(
        (cash, positions) in portfolio(),
        sym in 0usize..6,
        lots in 1u32..200,
        price in 1.0f64..200.0,
        max_w in 0.05f64..1.0,
        max_s in 0.05f64..1.0,
        max_g in 0.2f64..1.5,
        max_n in 1usize..7,
    ) {
        let equity = cash + positions.values().map(Holding::value).sum::<f64>();
        let limits = RiskLimits {
            max_position_weight: Some(max_w),
            max_sector_weight: Some(max_s),
            max_gross_exposure: Some(max_g),
            max_positions: Some(max_n),
            ..Default::default()
        };
        let symbol = SYMBOLS[sym];
        // the held position is marked at the order's price, as a fill would
        let mut before = positions.clone();
        if let Some(h) = before.get_mut(symbol) {
            h.price = price;
        }
        let equity_before = cash + before.values().map(Holding::value).sum::<f64>();
        let view = PortfolioView { equity: equity_before, positions: before.clone(), orders_today: 0 };
        let order = OrderRequest {
            symbol,
            side: Side::Buy,
            quantity: f64::from(lots) * 100.0,
            price,
            limit_price: None,
            sector: Some(sector_of(symbol)),
        };
        let market = MarketView { last: price, adv20: Some(1e9) };
        prop_assume!(equity > 0.0);
        if check(&limits, &order, &view, &market).is_ok() {
            // fill: cash to the position, equity unchanged
            let mut after = before.clone();
            after
                .entry(symbol.to_string())
                .or_insert(Holding { quantity: 0.0, price, sector: Some(sector_of(symbol).into()) })
                .quantity += order.quantity;
            let equity_after = (cash - order.quantity * price) + after.values().map(Holding::value).sum::<f64>();
            prop_assert!((equity_after - equity_before).abs() <= 1e-9 * equity_before.abs());
            let (w, sectors, g) = weights(equity_after, &after);
            let eps = 1e-9;
            let held_w = after[symbol].value() / equity_after;
            prop_assert!(held_w <= max_w + eps, "position {held_w} > {max_w}");
            let sw = sectors[sector_of(symbol)];
            prop_assert!(sw <= max_s + eps, "sector {sw} > {max_s}");
            prop_assert!(g <= max_g + eps, "gross {g} > {max_g}");
            prop_assert!(after.len() <= max_n.max(before.len()), "{} positions > {max_n}", after.len());
            let _ = w;
        }
    }
}
