//! Execution algorithms in whole runs (`[backtest] execution`): the
//! momentum rotation with every order worked by a TWAP — each parent's
//! filled size is its slices' fills, slices are whole lots, the book
//! reconciles with the fills; orders.csv names each slice's parent; bad
//! settings are config errors naming the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quant_backtest::report::orders_csv;
use quant_backtest::{BacktestConfig, run_backtest};
use quant_core::{OrderId, OrderStatus, Quantity, Side};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn a_twap_run_fills_each_parent_with_its_slices() {
    let cfg = BacktestConfig::load(&root().join("config/examples/momentum-twap.toml")).unwrap();
    let res = run_backtest(&cfg, |_, _| {}).unwrap();
    let orders = &res.record.orders;
    let mut slices: BTreeMap<OrderId, Quantity> = BTreeMap::new();
    let mut children = 0;
    for o in orders {
        if let Some(p) = o.parent {
            children += 1;
            *slices.entry(p).or_default() += o.filled;
            let parent = &orders[(p.0 - 1) as usize];
            assert_eq!(parent.id, p);
            assert_eq!(
                (parent.side, parent.symbol.clone()),
                (o.side, o.symbol.clone())
            );
            assert!(parent.created <= o.created, "{o:?}");
        }
    }
    assert!(children > 100, "{children} slices");
    // every parent's filled quantity is the sum of its slices' fills
    for (p, q) in &slices {
        let parent = &orders[(p.0 - 1) as usize];
        assert_eq!(parent.filled, *q, "{parent:?}");
        assert!(parent.status.is_terminal(), "{parent:?}");
    }
    // fills are the slices' (booked once), never a parent's
    let mut by_order: BTreeMap<OrderId, Quantity> = BTreeMap::new();
    for f in &res.record.fills {
        assert!(
            !slices.contains_key(&f.order_id),
            "a parent's own fill: {f:?}"
        );
        *by_order.entry(f.order_id).or_default() += f.quantity;
    }
    for o in orders.iter().filter(|o| o.parent.is_some()) {
        assert_eq!(
            by_order.get(&o.id).copied().unwrap_or_default(),
            o.filled,
            "{o:?}"
        );
        // buy slices are whole board lots (100 shares here)
        if o.side == Side::Buy && o.status == OrderStatus::Filled {
            assert!(
                (o.filled.0 % rust_decimal::Decimal::from(100)).is_zero(),
                "{o:?}"
            );
        }
    }
    // a rebalance trades across several opens: slices of one parent on different days
    let spread = slices
        .keys()
        .filter(|p| {
            let days: std::collections::BTreeSet<_> = res
                .record
                .fills
                .iter()
                .filter(|f| orders[(f.order_id.0 - 1) as usize].parent == Some(**p))
                .map(|f| f.date)
                .collect();
            days.len() > 1
        })
        .count();
    assert!(spread > 50, "{spread} parents filled on more than one day");
    // orders.csv: the parent column
    let csv = orders_csv(&res);
    assert!(csv.lines().next().unwrap().ends_with(",reason,parent"));
    let child = orders.iter().find(|o| o.parent.is_some()).unwrap();
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{},", child.id)))
        .unwrap();
    assert!(
        line.ends_with(&format!(",{}", child.parent.unwrap())),
        "{line}"
    );
}

#[test]
fn execution_settings_out_of_range_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(root().join("config/examples/momentum-twap.toml"))
        .unwrap()
        .replace(
            "../../fixtures",
            &root().join("fixtures").display().to_string(),
        );
    for (bad, key) in [
        (
            "{ algo = \"twap\", bars = 2, slices = 3 }",
            "backtest.execution.slices",
        ),
        (
            "{ algo = \"twap\", bars = 0, slices = 1 }",
            "backtest.execution.bars",
        ),
        (
            "{ algo = \"twap\", bars = 3, slices = 3, participation = 1.5 }",
            "backtest.execution.participation",
        ),
        (
            "{ algo = \"iceberg\", visible = 0 }",
            "backtest.execution.visible",
        ),
        ("{ algo = \"vwap\", bars = 3 }", "execution"),
    ] {
        let text = base.replace("{ algo = \"twap\", bars = 3, slices = 3 }", bad);
        let p = dir.path().join("c.toml");
        std::fs::write(&p, text).unwrap();
        let e = BacktestConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains(key), "{bad}: {e}");
    }
}
