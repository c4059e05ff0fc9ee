-- quant catalog, SQLite. Dates are ISO 8601 text (YYYY-MM-DD, exchange-local),
-- instants RFC 3339 UTC text, so that both back ends store the same values.
CREATE TABLE instruments (
    symbol      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    exchange    TEXT NOT NULL,
    board       TEXT NOT NULL,
    industry    TEXT NOT NULL,
    list_date   TEXT,
    delist_date TEXT,
    status      TEXT NOT NULL CHECK (status IN ('L', 'D', 'P')),
    updated_at  TEXT NOT NULL
);
CREATE INDEX instruments_exchange ON instruments (exchange);

CREATE TABLE trading_calendar (
    exchange TEXT NOT NULL,
    date     TEXT NOT NULL,
    is_open  SMALLINT NOT NULL CHECK (is_open IN (0, 1)),
    PRIMARY KEY (exchange, date)
);

CREATE TABLE adj_factors (
    symbol TEXT NOT NULL,
    date   TEXT NOT NULL,
    factor REAL NOT NULL CHECK (factor > 0),
    PRIMARY KEY (symbol, date)
);

CREATE TABLE fundamentals (
    symbol        TEXT NOT NULL,
    date          TEXT NOT NULL,
    close         REAL,
    turnover_rate REAL,
    pe            REAL,
    pe_ttm        REAL,
    pb            REAL,
    dv_ttm        REAL,
    total_share   REAL,
    float_share   REAL,
    total_mv      REAL,
    circ_mv       REAL,
    PRIMARY KEY (symbol, date)
);

CREATE TABLE update_history (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at       TEXT NOT NULL,
    finished_at      TEXT NOT NULL,
    market           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    symbol           TEXT NOT NULL,
    requested_start  TEXT NOT NULL,
    requested_end    TEXT NOT NULL,
    provider         TEXT,
    status           TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    rows_fetched     BIGINT NOT NULL,
    rows_stored      BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    last_date        TEXT,
    message          TEXT NOT NULL
);
CREATE INDEX update_history_symbol ON update_history (market, kind, symbol, id);

CREATE TABLE quality_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id   BIGINT REFERENCES update_history (id),
    recorded_at TEXT NOT NULL,
    symbol      TEXT NOT NULL,
    rule        TEXT NOT NULL,
    date        TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX quality_log_symbol ON quality_log (symbol, date);
