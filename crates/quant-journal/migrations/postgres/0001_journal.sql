-- quant journal, PostgreSQL ([journal] url = "postgres://…"). The same
-- values as the SQLite schema: instants BIGINT nanoseconds since
-- 1970-01-01 UTC, dates TEXT YYYY-MM-DD, decimals TEXT (exact), analytics
-- f64 DOUBLE PRECISION (NULL = NaN). One journal per schema: point
-- search_path at a schema of its own to keep several sessions in one
-- database.

-- The log: seq 1, 2, 3, … with no gap, never changed or removed.
CREATE TABLE journal (
    seq     BIGINT PRIMARY KEY CHECK (seq > 0),
    kind    TEXT NOT NULL CHECK (kind IN ('event', 'command')),
    time_ns BIGINT NOT NULL,
    tag     TEXT NOT NULL,
    payload BYTEA NOT NULL
);
CREATE FUNCTION journal_gapless() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS DISTINCT FROM (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal) THEN
        RAISE EXCEPTION 'journal: seq must follow the last one without a gap';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER journal_gapless BEFORE INSERT ON journal
    FOR EACH ROW EXECUTE FUNCTION journal_gapless();
CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal: the log is append-only';
END
$$;
CREATE TRIGGER journal_no_change BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();

CREATE TABLE snapshots (
    seq   BIGINT PRIMARY KEY CHECK (seq >= 0),
    state BYTEA NOT NULL
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE read_model_state (
    id  BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL CHECK (seq >= 0)
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
    seq      BIGINT NOT NULL
);

CREATE TABLE orders (
    id          BIGINT PRIMARY KEY,
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
    parent      BIGINT,
    body        TEXT NOT NULL,
    seq         BIGINT NOT NULL
);
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_client_id ON orders (client_id);

CREATE TABLE fills (
    n            BIGINT PRIMARY KEY CHECK (n > 0),
    seq          BIGINT NOT NULL,
    order_id     BIGINT NOT NULL,
    date         TEXT NOT NULL,
    time_ns      BIGINT,
    instrument   BIGINT NOT NULL,
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
    equity    DOUBLE PRECISION,
    cash      TEXT NOT NULL,
    benchmark DOUBLE PRECISION,
    seq       BIGINT NOT NULL
);

CREATE TABLE risk_events (
    n           BIGINT PRIMARY KEY CHECK (n > 0),
    seq         BIGINT NOT NULL,
    date        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('blocked', 'trip', 'release')),
    symbol      TEXT,
    order_id    BIGINT,
    rule        TEXT NOT NULL,
    value       DOUBLE PRECISION,
    limit_value DOUBLE PRECISION,
    detail      TEXT NOT NULL
);

CREATE TABLE alerts (
    event_id   TEXT PRIMARY KEY,
    ord        BIGINT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    severity   TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_ns BIGINT NOT NULL,
    payload    TEXT NOT NULL,
    seq        BIGINT
);

CREATE TABLE alert_deliveries (
    event_id        TEXT NOT NULL REFERENCES alerts (event_id),
    channel         TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_ns BIGINT NOT NULL,
    delivered_ns    BIGINT,
    last_error      TEXT,
    PRIMARY KEY (event_id, channel)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (delivered_ns, next_attempt_ns);
