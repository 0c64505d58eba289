//! SQLite specifics: data outlives a restart, and the database runs in WAL mode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use sqlx::Connection as _;
use switchboard_store::{open, LogQuery, StoreLocation, SQLITE_FILE};

#[tokio::test]
async fn sqlite_data_survives_close_and_reopen() {
    let db = common::sqlite().await;
    let store = &db.store;
    let vault = common::vault(1);
    store.check_vault(&vault).await.unwrap();
    store.create_config("c", "C", r#"{"v":1}"#).await.unwrap();
    store.update_config("c", None, Some(r#"{"v":2}"#)).await.unwrap();
    store.insert_logs(&mut vec![common::log(1, 1_000)]).await.unwrap();
    let generation = store.control_generation().await.unwrap();
    store.close().await;

    let reopened = open(&db.location).await.unwrap();
    reopened.check_vault(&vault).await.unwrap();
    assert!(reopened.check_vault(&common::vault(2)).await.is_err(), "the key check persisted too");
    assert_eq!(reopened.get_config("c").await.unwrap().unwrap().version, 2);
    assert_eq!(reopened.config_versions("c").await.unwrap().len(), 2);
    assert_eq!(reopened.query_logs(&LogQuery::default()).await.unwrap().items.len(), 1);
    assert_eq!(reopened.control_generation().await.unwrap(), generation);
    reopened.close().await;
}

#[tokio::test]
async fn sqlite_database_is_a_wal_file_with_16k_pages_in_the_data_dir() {
    let db = common::sqlite().await;
    let StoreLocation::Sqlite(dir) = &db.location else { unreachable!() };
    let url = format!("sqlite://{}", dir.join(SQLITE_FILE).display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut conn).await.unwrap();
    assert_eq!(mode, "wal");
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&mut conn).await.unwrap();
    assert_eq!(page_size, 16_384);
    conn.close().await.unwrap();
}
