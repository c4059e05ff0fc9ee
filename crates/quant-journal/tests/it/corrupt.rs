//! A hand-edited row gives an error naming table, row and column, never a
//! panic.

use quant_core::order::OrderStatus;
use quant_journal::{Error, ReadModelUpdate};
use sqlx::Executor;

use crate::read_model::order;
use crate::support::{Fixture, ev};

fn corrupt<T: std::fmt::Debug>(r: quant_journal::Result<T>, table: &str, column: &str) -> String {
    let e = match r {
        Err(e) => e,
        Ok(v) => panic!("{table}.{column}: expected Error::Corrupt, got {v:?}"),
    };
    match &e {
        Error::Corrupt {
            table: t,
            column: c,
            ..
        } => assert_eq!((*t, *c), (table, column), "{e}"),
        _ => panic!("{table}.{column}: expected Error::Corrupt, got {e:?}"),
    }
    e.to_string()
}

async fn corrupt_rows_are_errors(fx: &Fixture) {
    let j = fx.open().await;
    let u = ReadModelUpdate {
        positions: Some(vec![quant_journal::PositionRow {
            symbol: crate::read_model::sym("600519.SH"),
            position: Default::default(),
            mark: None,
        }]),
        orders: vec![order(1, OrderStatus::Accepted)],
        ..Default::default()
    };
    j.append_with_read_model(&[ev(1)], &u)
        .await
        .expect("append");
    let mut raw = fx.raw().await;
    for sql in [
        "UPDATE orders SET body = '{\"id\": ' WHERE id = 1",
        "UPDATE positions SET quantity = 'many'",
        "INSERT INTO fills (n, seq, order_id, date, time_ns, instrument, symbol, side, quantity, \
         price, commission, stamp_duty, transfer_fee) \
         VALUES (1, 1, 1, 'yesterday', NULL, 1, 'A', 'buy', '1', '1', '0', '0', '0')",
        "INSERT INTO equity (date, equity, cash, benchmark, seq) VALUES ('2024-01-02', 1, 'lots', NULL, 1)",
        "INSERT INTO risk_events (n, seq, date, kind, symbol, order_id, rule, value, limit_value, detail) \
         VALUES (1, 1, '2024-01-02', 'trip', 'no symbol!', NULL, 'r', 1, 1, 'd')",
    ] {
        raw.execute(sql).await.expect(sql);
    }
    let msg = corrupt(j.orders().await, "orders", "body");
    assert!(msg.contains("row 1"), "{msg}");
    corrupt(j.open_orders().await, "orders", "body");
    corrupt(j.order(quant_core::OrderId(1)).await, "orders", "body");
    let msg = corrupt(j.positions().await, "positions", "quantity");
    assert!(
        msg.contains("row 600519.SH") && msg.contains("`many`"),
        "{msg}"
    );
    corrupt(j.fills().await, "fills", "date");
    corrupt(j.equity().await, "equity", "cash");
    corrupt(j.risk_events().await, "risk_events", "symbol");
    j.close().await;
}
both!(corrupt_rows_are_errors);

/// SQLite stores any value in any column: wrong types are errors too.
#[tokio::test]
async fn sqlite_values_of_the_wrong_type_are_errors() {
    let fx = Fixture::sqlite();
    let j = fx.open().await;
    j.append(&[ev(1)]).await.expect("append");
    j.enqueue_alert(&crate::read_model::alert("a", &["webhook"]))
        .await
        .expect("enqueue");
    let mut raw = fx.raw().await;
    for sql in [
        // the triggers let a following seq in, whatever it holds
        "INSERT INTO journal (seq, kind, time_ns, tag, payload) VALUES (2, 'event', 'noon', 't', x'00')",
        "INSERT INTO snapshots (seq, state) VALUES (-1, x'00')",
        "INSERT INTO orders (id, created, updated, symbol, side, type, tif, requested, filled, status, body, seq) \
         VALUES (-5, '', '', 'A', 'buy', 'market', 'DAY', '', '0', 'accepted', '{}', 1)",
        "INSERT INTO fills (n, seq, order_id, date, time_ns, instrument, symbol, side, quantity, \
         price, commission, stamp_duty, transfer_fee) \
         VALUES (1, 1, 1, '2024-01-02', NULL, 5000000000, 'A', 'buy', '1', '1', '0', '0', '0')",
        "UPDATE alert_deliveries SET next_attempt_ns = 'soon'",
        "INSERT INTO meta (key, value) VALUES ('n', x'ff00')",
    ] {
        // the CHECK on snapshots.seq refuses that one: fine either way
        let _ = raw.execute(sql).await;
    }
    corrupt(j.entries_after(0, None).await, "journal", "time_ns");
    assert_eq!(
        j.entries_after(0, Some(1)).await.map(|r| r.len()).ok(),
        Some(1)
    );
    corrupt(j.orders().await, "orders", "id");
    corrupt(j.fills().await, "fills", "instrument");
    corrupt(j.deliveries().await, "alert_deliveries", "next_attempt_ns");
    assert!(j.meta("n").await.is_err());
    assert!(j.meta_all().await.is_err());
    // the log's last seq stays readable
    assert_eq!(j.last_seq().await.ok(), Some(2));
    j.close().await;
}
