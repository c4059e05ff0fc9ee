-- quant journal, SQLite (the default: journal.db in the session's state
-- dir, WAL, synchronous = FULL). Instants are INTEGER nanoseconds since
-- 1970-01-01 UTC, dates TEXT YYYY-MM-DD (exchange-local trading days),
-- decimals (prices, quantities, cash) TEXT in rust_decimal's exact form,
-- analytics f64 REAL (NULL = NaN). The PostgreSQL schema stores the same
-- values.

-- The log: every inbound event and outbound command, seq 1, 2, 3, … with
-- no gap, never changed or removed (the triggers refuse it).
CREATE TABLE journal (
    seq     INTEGER PRIMARY KEY CHECK (seq > 0),
    kind    TEXT NOT NULL CHECK (kind IN ('event', 'command')),
    time_ns INTEGER NOT NULL,
    tag     TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TRIGGER journal_gapless BEFORE INSERT ON journal
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal)
BEGIN
    SELECT RAISE(ABORT, 'journal: seq must follow the last one without a gap');
END;
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'journal: the log is append-only');
END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN
    SELECT RAISE(ABORT, 'journal: the log is append-only');
END;

-- Engine state as of after entry seq (0: before the first entry); the
-- newest few are kept.
CREATE TABLE snapshots (
    seq   INTEGER PRIMARY KEY CHECK (seq >= 0),
    state BLOB NOT NULL
);

-- Session settings (mode, config text, strategy file text, started_at…).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The read model: written by the runtime with the log, in the same
-- transaction; `seq` is the log seq the row was written with.
CREATE TABLE read_model_state (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL CHECK (seq >= 0)
);
INSERT INTO read_model_state (id, seq) VALUES (1, 0);

CREATE TABLE positions (
    symbol   TEXT PRIMARY KEY,
    quantity TEXT NOT NULL,
    sellable TEXT NOT NULL,
    cost     TEXT NOT NULL,
    avg_cost TEXT,
    mark     TEXT,
    value    TEXT,
    seq      INTEGER NOT NULL
);

CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    client_id   TEXT,
    venue_id    TEXT,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL,
    symbol      TEXT NOT NULL,
    side        TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    type        TEXT NOT NULL,
    tif         TEXT NOT NULL,
    limit_price TEXT,
    stop_price  TEXT,
    requested   TEXT NOT NULL,
    filled      TEXT NOT NULL,
    avg_price   TEXT,
    status      TEXT NOT NULL,
    reason      TEXT,
    parent      INTEGER,
    body        TEXT NOT NULL,
    seq         INTEGER NOT NULL
);
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_client_id ON orders (client_id);

CREATE TABLE fills (
    n            INTEGER PRIMARY KEY CHECK (n > 0),
    seq          INTEGER NOT NULL,
    order_id     INTEGER NOT NULL,
    date         TEXT NOT NULL,
    time_ns      INTEGER,
    instrument   INTEGER NOT NULL,
    symbol       TEXT NOT NULL,
    side         TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity     TEXT NOT NULL,
    price        TEXT NOT NULL,
    commission   TEXT NOT NULL,
    stamp_duty   TEXT NOT NULL,
    transfer_fee TEXT NOT NULL
);
CREATE INDEX fills_order ON fills (order_id);

CREATE TABLE equity (
    date      TEXT PRIMARY KEY,
    equity    REAL,
    cash      TEXT NOT NULL,
    benchmark REAL,
    seq       INTEGER NOT NULL
);

CREATE TABLE risk_events (
    n           INTEGER PRIMARY KEY CHECK (n > 0),
    seq         INTEGER NOT NULL,
    date        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('blocked', 'trip', 'release')),
    symbol      TEXT,
    order_id    INTEGER,
    rule        TEXT NOT NULL,
    value       REAL,
    limit_value REAL,
    detail      TEXT NOT NULL
);

-- The alert outbox: one row per alert (its stable event id keys it, so a
-- second enqueue is a no-op), one delivery row per (alert, channel).
CREATE TABLE alerts (
    event_id   TEXT PRIMARY KEY,
    ord        INTEGER NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    severity   TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    seq        INTEGER
);

CREATE TABLE alert_deliveries (
    event_id        TEXT NOT NULL REFERENCES alerts (event_id),
    channel         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_ns INTEGER NOT NULL,
    delivered_ns    INTEGER,
    last_error      TEXT,
    PRIMARY KEY (event_id, channel)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (delivered_ns, next_attempt_ns);
