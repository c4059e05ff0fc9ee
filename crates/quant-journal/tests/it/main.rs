//! Integration tests of the journal. Every test in a `both!` module runs
//! on SQLite (a fresh state dir) and, when `DATABASE_URL` is set, on
//! PostgreSQL (a fresh schema, dropped afterwards).

#[macro_use]
mod support;

mod corrupt;
mod kill;
mod lock;
mod log;
mod outbox;
mod prop;
mod read_model;
mod snapshots;
