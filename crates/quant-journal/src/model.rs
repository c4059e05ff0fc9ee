//! The read model: positions, orders, fills, equity, risk events (and,
//! through [`ReadModelUpdate::alerts`], the alert outbox) as tables the
//! reports and the dashboard read.
//!
//! The runtime writes it after each event batch, best in the same
//! transaction as the batch's log entries
//! ([`Journal::append_with_read_model`]), so that the log and the read
//! model never disagree after a crash. Each table has its own semantics:
//! positions are replaced whole, orders upserted by id, equity upserted by
//! date, fills and risk events appended (numbered `n` 1, 2, 3…). Every row
//! carries `seq`, the log seq it was written with, and
//! [`Journal::read_model_seq`] is the last such seq.
//!
//! Values are stored exactly: decimals as their text, dates as
//! `YYYY-MM-DD`, instants as nanoseconds; an order is stored whole as JSON
//! (`body`) beside the columns of `orders.csv`, so [`Journal::orders`]
//! gives back the very [`Order`]s written.

use quant_core::order::{OrderQty, OrderType, TimeInForce, Trail};
use quant_core::{
    Cash, Fill, InstrumentIndex, Order, OrderId, Position, Price, Quantity, Side, Symbol, UnixNanos,
};
use quant_engine::{EquityPoint, RiskEvent, RiskEventKind};
use sqlx::{Any, AssertSqlSafe};

use crate::Journal;
use crate::error::{Error, Result};
use crate::outbox::NewAlert;
use crate::sql::{self, Cells, big, day, dec, placeholders, placeholders_nan};

/// One row of `positions`: a held instrument with its mark.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionRow {
    /// Ticker.
    pub symbol: Symbol,
    /// Units held, units sellable today (T+1), and the cost of the units
    /// held (account currency, fees included).
    pub position: Position,
    /// The last price the position was marked at (quote currency);
    /// `None` before the first mark.
    pub mark: Option<Price>,
}

impl PositionRow {
    /// Average cost per unit, fees included; `None` when flat.
    pub fn avg_cost(&self) -> Option<Price> {
        self.position.avg_cost()
    }

    /// Market value: mark × quantity (account currency); `None` without
    /// a mark.
    pub fn value(&self) -> Option<Cash> {
        self.mark.map(|m| m * self.position.quantity)
    }
}

/// What one event batch changed in the read model. Empty by default;
/// each field has its table's semantics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadModelUpdate {
    /// The whole book after the batch: replaces `positions` when `Some`
    /// (`Some(vec![])` empties it); `None` leaves it as it is.
    pub positions: Option<Vec<PositionRow>>,
    /// Orders created or changed: upserted by id.
    pub orders: Vec<Order>,
    /// New fills: appended in order.
    pub fills: Vec<Fill>,
    /// Equity points: upserted by date (a day's point may be written
    /// again as the day goes on).
    pub equity: Vec<EquityPoint>,
    /// New risk events: appended in order.
    pub risk_events: Vec<RiskEvent>,
    /// Alerts raised: enqueued in the outbox (a second enqueue of an
    /// event id is a no-op, see [`Journal::enqueue_alert`]).
    pub alerts: Vec<NewAlert>,
}

impl ReadModelUpdate {
    /// True when the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.positions.is_none()
            && self.orders.is_empty()
            && self.fills.is_empty()
            && self.equity.is_empty()
            && self.risk_events.is_empty()
            && self.alerts.is_empty()
    }
}

/// `orders.csv`'s `type`, `tif`, `limit_price`, `stop_price` and
/// `requested` texts of an order.
fn order_texts(o: &Order) -> (String, Option<String>, Option<String>, String) {
    let stop = match o.order_type {
        OrderType::TrailingStop(Trail::Amount(a)) => Some(format!("trail:{a}")),
        OrderType::TrailingStop(Trail::Fraction(f)) => Some(format!("trail:{f}")),
        ty => ty.stop_price().map(|p| p.to_string()),
    };
    let tif = match o.tif {
        TimeInForce::Gtd(d) => format!("GTD:{d}"),
        t => t.as_str().to_string(),
    };
    let requested = match o.requested {
        OrderQty::Units(u) => format!("units:{u}"),
        OrderQty::Value(v) => format!("value:{v}"),
        OrderQty::AllCash => "all_cash".into(),
        OrderQty::AllPosition => "all_position".into(),
    };
    (
        tif,
        o.order_type.limit_price().map(|p| p.to_string()),
        stop,
        requested,
    )
}

fn side(s: &str) -> Option<Side> {
    match s {
        "buy" => Some(Side::Buy),
        "sell" => Some(Side::Sell),
        _ => None,
    }
}

fn risk_kind(s: &str) -> Option<RiskEventKind> {
    [
        RiskEventKind::Blocked,
        RiskEventKind::Trip,
        RiskEventKind::Release,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
}

impl Journal {
    /// The log seq the read model was last written with (0 before the
    /// first write). After a crash it is where the read model stands: the
    /// runtime need not write again what it replays up to it.
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn read_model_seq(&self) -> Result<u64> {
        let seq: i64 = sqlx::query_scalar("SELECT seq FROM read_model_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(self.q("read read_model_state"))?;
        Ok(u64::try_from(seq).unwrap_or(0))
    }

    /// Applies `update` as written with log seq `at_seq`, unless the read
    /// model already stands at or after it: returns whether it applied.
    /// For a runtime replaying journaled entries, which makes every
    /// replayed write a no-op; new writes belong with their entries in
    /// [`Journal::append_with_read_model`]. Durable on return.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `at_seq` is beyond the log's last seq, or
    /// for a value the read model refuses; [`Error::Query`];
    /// [`Error::ReadOnly`]. Nothing is written then.
    pub async fn apply_read_model(&self, at_seq: u64, update: &ReadModelUpdate) -> Result<bool> {
        let what = "write the read model";
        let (_guard, mut tx) = self.begin(what).await?;
        let last = self.max_seq(&mut tx, what).await?;
        if at_seq > last {
            return Err(Error::Invalid {
                table: "read_model_state",
                key: at_seq.to_string(),
                message: format!("a read model as of seq {at_seq}, but the log ends at seq {last}"),
            });
        }
        let current: i64 = sqlx::query_scalar("SELECT seq FROM read_model_state WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(self.q(what))?;
        if big(at_seq, "read_model_state", "seq")? <= current {
            return Ok(false);
        }
        self.apply_update(&mut tx, at_seq, update).await?;
        self.commit(tx, what).await?;
        Ok(true)
    }

    /// Writes `update` inside `tx`, tagged with `seq`, and moves
    /// `read_model_state` to `seq`.
    pub(crate) async fn apply_update(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        seq: u64,
        u: &ReadModelUpdate,
    ) -> Result<()> {
        let s = big(seq, "read_model_state", "seq")?;
        if let Some(rows) = &u.positions {
            self.replace_positions(tx, s, rows).await?;
        }
        self.upsert_orders(tx, s, &u.orders).await?;
        self.append_fills(tx, s, &u.fills).await?;
        self.upsert_equity(tx, s, &u.equity).await?;
        self.append_risk_events(tx, s, &u.risk_events).await?;
        for a in &u.alerts {
            self.enqueue_in(tx, a, Some(s)).await?;
        }
        sqlx::query("UPDATE read_model_state SET seq = $1 WHERE id = 1")
            .bind(s)
            .execute(&mut **tx)
            .await
            .map_err(self.q("write read_model_state"))?;
        Ok(())
    }

    async fn replace_positions(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        seq: i64,
        rows: &[PositionRow],
    ) -> Result<()> {
        let what = "replace positions";
        sqlx::query("DELETE FROM positions")
            .execute(&mut **tx)
            .await
            .map_err(self.q(what))?;
        for chunk in rows.chunks(sql::CHUNK) {
            let text = format!(
                "INSERT INTO positions (symbol, quantity, sellable, cost, avg_cost, mark, value, seq) VALUES {}",
                placeholders(chunk.len(), 8)
            );
            let mut q = sqlx::query(AssertSqlSafe(text));
            for r in chunk {
                q = q
                    .bind(r.symbol.as_str().to_string())
                    .bind(dec(r.position.quantity.0))
                    .bind(dec(r.position.sellable.0))
                    .bind(dec(r.position.cost.0))
                    .bind(r.avg_cost().map(|p| dec(p.0)))
                    .bind(r.mark.map(|p| dec(p.0)))
                    .bind(r.value().map(|v| dec(v.0)))
                    .bind(seq);
            }
            q.execute(&mut **tx).await.map_err(self.q(what))?;
        }
        Ok(())
    }

    async fn upsert_orders(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        seq: i64,
        orders: &[Order],
    ) -> Result<()> {
        const COLS: [&str; 19] = [
            "id",
            "client_id",
            "venue_id",
            "created",
            "updated",
            "symbol",
            "side",
            "type",
            "tif",
            "limit_price",
            "stop_price",
            "requested",
            "filled",
            "avg_price",
            "status",
            "reason",
            "parent",
            "body",
            "seq",
        ];
        let what = "upsert orders";
        let updates: Vec<String> = COLS[1..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        // one row per id in a statement: PostgreSQL refuses to upsert
        // the same key twice in one INSERT, so later versions of an order
        // in the same batch go in later statements
        let mut rest: &[Order] = orders;
        while !rest.is_empty() {
            let mut seen = std::collections::HashSet::new();
            let take = rest
                .iter()
                .take(sql::CHUNK)
                .take_while(|o| seen.insert(o.id))
                .count();
            let (chunk, tail) = rest.split_at(take);
            rest = tail;
            let text = format!(
                "INSERT INTO orders ({}) VALUES {} ON CONFLICT (id) DO UPDATE SET {}",
                COLS.join(", "),
                placeholders(chunk.len(), COLS.len()),
                updates.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(text));
            for o in chunk {
                let key = o.id.to_string();
                let body = serde_json::to_string(o).map_err(|e| Error::Invalid {
                    table: "orders",
                    key: key.clone(),
                    message: format!("cannot encode the order as JSON: {e}"),
                })?;
                let (tif, limit, stop, requested) = order_texts(o);
                q = q
                    .bind(big(o.id.0, "orders", &key)?)
                    .bind(o.client_id.as_ref().map(|c| c.as_str().to_string()))
                    .bind(o.venue_id.clone())
                    .bind(day(o.created))
                    .bind(day(o.updated))
                    .bind(o.symbol.as_str().to_string())
                    .bind(o.side.as_str())
                    .bind(o.order_type.as_str())
                    .bind(tif)
                    .bind(limit)
                    .bind(stop)
                    .bind(requested)
                    .bind(dec(o.filled.0))
                    .bind(o.avg_price.map(|p| dec(p.0)))
                    .bind(o.status.as_str())
                    .bind(o.reason.map(|r| r.as_str()))
                    .bind(o.parent.map(|p| big(p.0, "orders", &key)).transpose()?)
                    .bind(body)
                    .bind(seq);
            }
            q.execute(&mut **tx).await.map_err(self.q(what))?;
        }
        Ok(())
    }

    /// The next `n` of an append-numbered table inside `tx`.
    async fn next_n(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        table: &'static str,
        what: &'static str,
    ) -> Result<i64> {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COALESCE(MAX(n), 0) FROM {table}"
        )))
        .fetch_one(&mut **tx)
        .await
        .map_err(self.q(what))?;
        Ok(n + 1)
    }

    async fn append_fills(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        seq: i64,
        fills: &[Fill],
    ) -> Result<()> {
        if fills.is_empty() {
            return Ok(());
        }
        let what = "append fills";
        let mut n = self.next_n(tx, "fills", what).await?;
        for chunk in fills.chunks(sql::CHUNK) {
            let text = format!(
                "INSERT INTO fills (n, seq, order_id, date, time_ns, instrument, symbol, side, \
                 quantity, price, commission, stamp_duty, transfer_fee) VALUES {}",
                placeholders(chunk.len(), 13)
            );
            let mut q = sqlx::query(AssertSqlSafe(text));
            for f in chunk {
                q = q
                    .bind(n)
                    .bind(seq)
                    .bind(big(f.order_id.0, "fills", &n.to_string())?)
                    .bind(day(f.date))
                    .bind(f.time.map(|t| t.0))
                    .bind(i64::from(f.instrument.0))
                    .bind(f.symbol.as_str().to_string())
                    .bind(f.side.as_str())
                    .bind(dec(f.quantity.0))
                    .bind(dec(f.price.0))
                    .bind(dec(f.commission.0))
                    .bind(dec(f.stamp_duty.0))
                    .bind(dec(f.transfer_fee.0));
                n += 1;
            }
            q.execute(&mut **tx).await.map_err(self.q(what))?;
        }
        Ok(())
    }

    async fn upsert_equity(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        seq: i64,
        points: &[EquityPoint],
    ) -> Result<()> {
        let what = "upsert equity";
        // one statement per point: a batch may write a day twice
        for p in points {
            sqlx::query(
                "INSERT INTO equity (date, equity, cash, benchmark, seq) \
                 VALUES ($1, NULLIF($2, 'NaN'), $3, NULLIF($4, 'NaN'), $5) \
                 ON CONFLICT (date) DO UPDATE SET equity = excluded.equity, cash = excluded.cash, \
                 benchmark = excluded.benchmark, seq = excluded.seq",
            )
            .bind(day(p.date))
            .bind(p.equity)
            .bind(dec(p.cash.0))
            .bind(p.benchmark)
            .bind(seq)
            .execute(&mut **tx)
            .await
            .map_err(self.q(what))?;
        }
        Ok(())
    }

    async fn append_risk_events(
        &self,
        tx: &mut sqlx::Transaction<'static, Any>,
        seq: i64,
        events: &[RiskEvent],
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let what = "append risk_events";
        let mut n = self.next_n(tx, "risk_events", what).await?;
        for chunk in events.chunks(sql::CHUNK) {
            let text = format!(
                "INSERT INTO risk_events (n, seq, date, kind, symbol, order_id, rule, value, \
                 limit_value, detail) VALUES {}",
                placeholders_nan(chunk.len(), 10, &[7, 8])
            );
            let mut q = sqlx::query(AssertSqlSafe(text));
            for e in chunk {
                q = q
                    .bind(n)
                    .bind(seq)
                    .bind(day(e.date))
                    .bind(e.kind.as_str())
                    .bind(e.symbol.as_ref().map(|s| s.as_str().to_string()))
                    .bind(
                        e.order
                            .map(|o| big(o.0, "risk_events", &n.to_string()))
                            .transpose()?,
                    )
                    .bind(e.rule.clone())
                    .bind(e.value)
                    .bind(e.limit)
                    .bind(e.detail.clone());
                n += 1;
            }
            q.execute(&mut **tx).await.map_err(self.q(what))?;
        }
        Ok(())
    }

    /// The book as last written, by symbol.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn positions(&self) -> Result<Vec<PositionRow>> {
        let rows = sqlx::query(
            "SELECT symbol, quantity, sellable, cost, mark FROM positions ORDER BY symbol",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.q("read positions"))?;
        rows.iter()
            .map(|r| {
                let mut c = Cells::new(r, "positions");
                let symbol = c.symbol("symbol")?;
                c.key = symbol.to_string();
                Ok(PositionRow {
                    position: Position {
                        quantity: Quantity(c.dec("quantity")?),
                        sellable: Quantity(c.dec("sellable")?),
                        cost: Cash(c.dec("cost")?),
                    },
                    mark: c.opt_dec("mark")?.map(Price),
                    symbol,
                })
            })
            .collect()
    }

    /// Every order as last written, by id.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn orders(&self) -> Result<Vec<Order>> {
        self.read_orders("SELECT id, body FROM orders ORDER BY id", None)
            .await
    }

    /// The orders still open (not filled, cancelled, rejected or expired),
    /// by id: what reconciliation asks the venue about after a restart.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn open_orders(&self) -> Result<Vec<Order>> {
        self.read_orders(
            "SELECT id, body FROM orders WHERE status NOT IN \
             ('filled', 'cancelled', 'rejected', 'expired') ORDER BY id",
            None,
        )
        .await
    }

    /// Order `id` as last written; `None` when never written.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn order(&self, id: OrderId) -> Result<Option<Order>> {
        let id = big(id.0, "orders", &id.to_string())?;
        Ok(self
            .read_orders("SELECT id, body FROM orders WHERE id = $1", Some(id))
            .await?
            .pop())
    }

    async fn read_orders(&self, sql: &'static str, id: Option<i64>) -> Result<Vec<Order>> {
        let mut q = sqlx::query(sql);
        if let Some(id) = id {
            q = q.bind(id);
        }
        let rows = q
            .fetch_all(&self.pool)
            .await
            .map_err(self.q("read orders"))?;
        rows.iter()
            .map(|r| {
                let mut c = Cells::new(r, "orders");
                c.key = c.u64("id")?.to_string();
                c.json("body", "an order as JSON")
            })
            .collect()
    }

    /// Every fill, in the order written.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn fills(&self) -> Result<Vec<Fill>> {
        Ok(self
            .fills_after(0)
            .await?
            .into_iter()
            .map(|(_, f)| f)
            .collect())
    }

    /// The fills numbered after `n` (their number `n` 1, 2, 3… and the
    /// fill), in order: for a dashboard that resumes.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn fills_after(&self, n: u64) -> Result<Vec<(u64, Fill)>> {
        let rows = sqlx::query(
            "SELECT n, order_id, date, time_ns, instrument, symbol, side, quantity, price, \
             commission, stamp_duty, transfer_fee FROM fills WHERE n > $1 ORDER BY n",
        )
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(self.q("read fills"))?;
        rows.iter()
            .map(|r| {
                let mut c = Cells::new(r, "fills");
                let n = c.u64("n")?;
                c.key = n.to_string();
                let instrument = c.u64("instrument")?;
                let fill = Fill {
                    order_id: OrderId(c.u64("order_id")?),
                    date: c.date("date")?,
                    time: c.get::<Option<i64>>("time_ns")?.map(UnixNanos),
                    instrument: InstrumentIndex(u32::try_from(instrument).map_err(|_| {
                        Error::Corrupt {
                            table: "fills",
                            key: n.to_string(),
                            column: "instrument",
                            value: instrument.to_string(),
                            expected: "an instrument index below 2³²",
                        }
                    })?),
                    symbol: c.symbol("symbol")?,
                    side: c.pick("side", "buy or sell", side)?,
                    quantity: Quantity(c.dec("quantity")?),
                    price: Price(c.dec("price")?),
                    commission: Cash(c.dec("commission")?),
                    stamp_duty: Cash(c.dec("stamp_duty")?),
                    transfer_fee: Cash(c.dec("transfer_fee")?),
                };
                Ok((n, fill))
            })
            .collect()
    }

    /// The equity curve, by date.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn equity(&self) -> Result<Vec<EquityPoint>> {
        let rows = sqlx::query("SELECT date, equity, cash, benchmark FROM equity ORDER BY date")
            .fetch_all(&self.pool)
            .await
            .map_err(self.q("read equity"))?;
        rows.iter()
            .map(|r| {
                let mut c = Cells::new(r, "equity");
                let date = c.date("date")?;
                c.key = date.to_string();
                Ok(EquityPoint {
                    date,
                    equity: c.real("equity")?,
                    cash: Cash(c.dec("cash")?),
                    benchmark: c.real("benchmark")?,
                })
            })
            .collect()
    }

    /// Every risk event, in the order written.
    ///
    /// # Errors
    /// [`Error::Query`]; [`Error::Corrupt`] for an unreadable row.
    pub async fn risk_events(&self) -> Result<Vec<RiskEvent>> {
        let rows = sqlx::query(
            "SELECT n, date, kind, symbol, order_id, rule, value, limit_value, detail \
             FROM risk_events ORDER BY n",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.q("read risk_events"))?;
        rows.iter()
            .map(|r| {
                let mut c = Cells::new(r, "risk_events");
                c.key = c.u64("n")?.to_string();
                let symbol = c
                    .get::<Option<String>>("symbol")?
                    .map(|s| {
                        Symbol::new(s.clone()).map_err(|_| Error::Corrupt {
                            table: "risk_events",
                            key: c.key.clone(),
                            column: "symbol",
                            value: s,
                            expected: "a symbol",
                        })
                    })
                    .transpose()?;
                Ok(RiskEvent {
                    date: c.date("date")?,
                    kind: c.pick("kind", "blocked, trip or release", risk_kind)?,
                    symbol,
                    order: c.opt_u64("order_id")?.map(OrderId),
                    rule: c.get("rule")?,
                    value: c.real("value")?,
                    limit: c.real("limit_value")?,
                    detail: c.get("detail")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn order_texts_are_those_of_orders_csv() {
        let d = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap_or_default();
        let sym = Symbol::new("600519.SH").ok();
        let Some(sym) = sym else { return };
        let o = Order::new(
            OrderId(3),
            InstrumentIndex(0),
            sym,
            Side::Sell,
            OrderType::TrailingStop(Trail::Fraction(Decimal::new(5, 2))),
            OrderQty::Value(Cash(Decimal::new(100_000, 0))),
            d,
        )
        .with_tif(TimeInForce::Gtd(d));
        let (tif, limit, stop, requested) = order_texts(&o);
        assert_eq!(tif, "GTD:2024-01-02");
        assert_eq!(limit, None);
        assert_eq!(stop.as_deref(), Some("trail:0.05"));
        assert_eq!(requested, "value:100000");
        assert_eq!(side("buy"), Some(Side::Buy));
        assert_eq!(side("x"), None);
        assert_eq!(risk_kind("trip"), Some(RiskEventKind::Trip));
    }
}
