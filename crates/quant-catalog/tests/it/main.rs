//! Catalog tests: every scenario runs on SQLite (a temporary file) and,
//! when `DATABASE_URL` names a PostgreSQL server, again on PostgreSQL in a
//! schema of its own that is dropped afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod scenarios;

use std::future::Future;
use std::path::PathBuf;

use quant_catalog::Catalog;
use sqlx::AssertSqlSafe;

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// This crate's `tests/data/` folder.
pub fn test_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The PostgreSQL server of `DATABASE_URL`, if one is set.
fn postgres_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

/// Runs `scenario` on a fresh SQLite catalog, then on a fresh PostgreSQL
/// schema when `DATABASE_URL` is set (and says when it is not).
pub async fn on_each_backend<F, Fut>(name: &str, scenario: F)
where
    F: Fn(Catalog) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Catalog::open_sqlite(&dir.path().join("nested/catalog.sqlite"))
        .await
        .unwrap();
    assert_eq!(sqlite.backend(), quant_catalog::Backend::Sqlite);
    scenario(sqlite.clone()).await;
    sqlite.close().await;

    let Some(url) = postgres_url() else {
        eprintln!("{name}: DATABASE_URL not set, PostgreSQL run skipped");
        return;
    };
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&url).await.unwrap();
    let schema = format!(
        "quant_test_{name}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let pg = Catalog::connect(&format!("{url}{sep}options%5Bsearch_path%5D={schema}"))
        .await
        .unwrap();
    assert_eq!(pg.backend(), quant_catalog::Backend::Postgres);
    scenario(pg.clone()).await;
    pg.close().await;
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}
