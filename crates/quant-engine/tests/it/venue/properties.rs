//! Invariants on random markets and random orders: cash never negative,
//! positions reconcile with fills, T+1 is never broken, equity is cash plus
//! marked positions.

use std::collections::HashMap;

use proptest::prelude::*;
use quant_core::{Cash, OrderQty, Quantity, Side};
use quant_exec::{FillTiming, SimConfig};
use rust_decimal::Decimal;

use super::harness::*;

const DAYS: usize = 30;

fn days() -> Vec<String> {
    let start = d("2021-01-04");
    (0..DAYS)
        .map(|k| (start + chrono::Days::new(k as u64)).to_string())
        .collect()
}

/// Random walks with suspensions and ±10% jumps (limit moves).
/// Open, high, low, close of one day; `None` = suspended.
type Ohlc = Option<(f64, f64, f64, f64)>;

fn market() -> impl Strategy<Value = Vec<Vec<Ohlc>>> {
    let one = proptest::collection::vec(
        (
            prop::bool::weighted(0.9),
            -0.12f64..0.12,
            0.0f64..0.03,
            0.0f64..0.03,
            -0.05f64..0.05,
        ),
        DAYS,
    )
    .prop_map(|steps| {
        let mut close = 10.0f64;
        steps
            .into_iter()
            .map(|(trades, jump, up, down, body)| {
                if !trades {
                    return None;
                }
                let open = (close * (1.0 + jump.clamp(-0.1, 0.1))).max(0.5);
                let c = (open * (1.0 + body)).max(0.5);
                let high = open.max(c) * (1.0 + up);
                let low = open.min(c) * (1.0 - down);
                close = c;
                let r = |x: f64| (x * 100.0).round() / 100.0;
                let (o, h, l, c) = (r(open), r(high), r(low), r(c));
                Some((o, h.max(o).max(c), l.min(o).min(c), c))
            })
            .collect()
    });
    proptest::collection::vec(one, 3)
}

fn orders() -> impl Strategy<Value = Vec<(usize, usize, bool, u8, i64)>> {
    proptest::collection::vec(
        (0..DAYS, 0usize..3, any::<bool>(), 0u8..3, 1i64..3000),
        0..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn accounting_invariants(mkt in market(), ords in orders(), same_close in any::<bool>(), cash0 in 1_000.0f64..200_000.0) {
        let day_names = days();
        let day_refs: Vec<&str> = day_names.iter().map(String::as_str).collect();
        let bars: Vec<Vec<Option<quant_core::Bar>>> = mkt
            .iter()
            .map(|s| s.iter().zip(&day_refs).map(|(b, dn)| b.map(|(o, h, l, c)| bar(dn, o, h, l, c))).collect())
            .collect();
        let mut feed = Feed::new(vec![inst("600000.SH"), inst("300001.SZ"), inst("688001.SH")], &day_refs, bars.clone());
        let script = ords
            .iter()
            .map(|&(day, i, buy, kind, n)| {
                let qty = match (buy, kind) {
                    (true, 0) => units(n),
                    (true, 1) => OrderQty::Value(Cash(Decimal::from(n * 10))),
                    (true, _) => OrderQty::AllCash,
                    (false, 0) => units(n),
                    (false, _) => OrderQty::AllPosition,
                };
                (d(day_refs[day]), i, if buy { Side::Buy } else { Side::Sell }, qty)
            })
            .collect();
        let timing = if same_close { FillTiming::SameClose } else { FillTiming::NextOpen };
        let sim = SimConfig { timing, slippage_bps: Decimal::from(5), ..SimConfig::default() };
        let rec = run(&mut feed, sim, (cash0 * 100.0).round() / 100.0, script);

        // cash never negative, at every close
        for p in &rec.equity {
            prop_assert!(!p.cash.is_negative(), "cash {} on {}", p.cash, p.date);
        }
        // positions reconcile with fills; T+1 never broken; cash = initial + Σ flows
        let mut held: HashMap<usize, Quantity> = HashMap::new();
        let mut bought_today: HashMap<(usize, chrono::NaiveDate), Quantity> = HashMap::new();
        let mut flows = Cash::ZERO;
        for f in &rec.fills {
            let i = f.instrument.get();
            let h = held.entry(i).or_default();
            flows += f.cash_flow();
            match f.side {
                Side::Buy => {
                    *h += f.quantity;
                    *bought_today.entry((i, f.date)).or_default() += f.quantity;
                }
                Side::Sell => {
                    let today = bought_today.get(&(i, f.date)).copied().unwrap_or_default();
                    prop_assert!(f.quantity <= *h - today, "T+1 broken on {}", f.date);
                    *h -= f.quantity;
                }
            }
            // fills respect the bar
            let b = bars[i].iter().flatten().find(|b| b.date == f.date).unwrap();
            let p = f.price.to_f64();
            prop_assert!(p <= b.high + 1e-9 && p >= b.low - 1e-9, "price {p} outside bar {b:?}");
        }
        let last = rec.equity.last().unwrap();
        let initial = Cash::from_f64((cash0 * 100.0).round() / 100.0).unwrap();
        prop_assert_eq!(last.cash, initial + flows);
        // equity = cash + Σ q × last close
        let mut mv = 0.0;
        for (i, q) in &held {
            let close = bars[*i].iter().flatten().last().map_or(0.0, |b| b.close);
            mv += q.to_f64() * close;
        }
        prop_assert!((last.equity - (last.cash.to_f64() + mv)).abs() < 1e-6 * last.equity.abs().max(1.0));
        // every order ended in a terminal state
        prop_assert!(rec.orders.iter().all(|o| o.status.is_terminal()));
    }
}
