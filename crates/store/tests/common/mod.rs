//! Test harness: a fresh store per test on SQLite (a temp data dir) and on PostgreSQL (a fresh schema in the
//! database at `SWITCHBOARD_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`), both removed
//! when the test ends, pass or fail. PostgreSQL being unreachable fails the test unless
//! `SWITCHBOARD_SKIP_POSTGRES=1`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::path::PathBuf;

use serde_json::{json, Map};
use sqlx::Connection as _;
use switchboard_store::{open, LogRecord, Store, StoreLocation, Vault};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Runs each named `async fn case(store: &Store)` once per backend, as `case::sqlite` and `case::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn sqlite() {
                let db = $crate::common::sqlite().await;
                super::$case(&db.store).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = $crate::common::postgres().await {
                    super::$case(&db.store).await;
                }
            }
        }
    )*};
}

pub struct TestDb {
    pub store: Store,
    pub location: StoreLocation,
    _cleanup: Cleanup,
}

/// Removes a test's database when dropped.
pub enum Cleanup {
    Dir(PathBuf),
    Schema { admin_url: String, schema: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin_url, schema } => drop_schema(admin_url.clone(), schema.clone()),
        }
    }
}

/// Drops the schema from a thread of its own: `Drop` cannot await, and may run while a test panics.
fn drop_schema(admin_url: String, schema: String) {
    let dropper = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await?;
            conn.close().await
        })
    });
    if let Ok(Err(e)) = dropper.join() {
        eprintln!("could not drop test schema: {e}");
    }
}

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-store-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn sqlite() -> TestDb {
    let dir = temp_dir();
    let location = StoreLocation::Sqlite(dir.clone());
    let store = open(&location).await.unwrap();
    TestDb { store, location, _cleanup: Cleanup::Dir(dir) }
}

pub fn postgres_url() -> String {
    std::env::var("SWITCHBOARD_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// `None` only when `SWITCHBOARD_SKIP_POSTGRES=1`.
pub async fn postgres() -> Option<TestDb> {
    let (location, cleanup) = postgres_schema().await?;
    let store = open(&location).await.unwrap();
    Some(TestDb { store, location, _cleanup: cleanup })
}

/// A fresh schema with nothing in it yet (no migration has run), removed when the [`Cleanup`] drops; `None` only
/// when `SWITCHBOARD_SKIP_POSTGRES=1`.
pub async fn postgres_schema() -> Option<(StoreLocation, Cleanup)> {
    if std::env::var("SWITCHBOARD_SKIP_POSTGRES").as_deref() == Ok("1") {
        eprintln!("SWITCHBOARD_SKIP_POSTGRES=1: skipping the PostgreSQL run of this test");
        return None;
    }
    let admin_url = postgres_url();
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is unreachable at {admin_url}: {e}. Start it, point SWITCHBOARD_TEST_POSTGRES_URL at a \
             reachable server, or set SWITCHBOARD_SKIP_POSTGRES=1 to skip the PostgreSQL half of the suite."
        )
    });
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let location = StoreLocation::Postgres(format!("{admin_url}{separator}options=-c%20search_path%3D{schema}"));
    Some((location, Cleanup::Schema { admin_url, schema }))
}

pub fn vault(byte: u8) -> Vault {
    Vault::from_master_key([byte; 32])
}

/// A log row with every optional field filled; tests override what they filter on.
pub fn log(n: usize, created_at: i64) -> LogRecord {
    LogRecord {
        id: format!("log-{n:07}"),
        created_at,
        trace_id: Some(format!("trace-{}", n % 10)),
        span_id: Some(format!("span-{n}")),
        parent_span_id: None,
        span_name: Some("chat".to_owned()),
        metadata: Map::from_iter([("user".to_owned(), json!(format!("u{}", n % 3)))]),
        api_key_id: Some("key-1".to_owned()),
        config_slug: Some("cfg".to_owned()),
        config_version: Some(2),
        strategy_mode: Some("fallback".to_owned()),
        target_path: Some("config.targets[1]".to_owned()),
        provider: "openai".to_owned(),
        virtual_key: Some("vk-openai".to_owned()),
        requested_model: "gpt-4o".to_owned(),
        served_model: Some("gpt-4o-2024-08-06".to_owned()),
        status: 200,
        latency_ms: 100,
        ttfb_ms: Some(40),
        stream: false,
        retry_count: 0,
        cache_status: Some("MISS".to_owned()),
        prompt_tokens: Some(10),
        completion_tokens: Some(5),
        total_tokens: Some(15),
        cost_usd: Some(0.25),
        unpriced: false,
        request_body: Some(r#"{"model":"gpt-4o"}"#.to_owned()),
        response_body: Some(r#"{"id":"x"}"#.to_owned()),
        attempts: serde_json::from_value(json!([{"provider": "openai", "status": 200}])).unwrap(),
        error: None,
        error_class: None,
    }
}
