//! Several gateway instances on one PostgreSQL database: a virtual key created or changed
//! through one instance is used by another without a restart (its cache is dropped when the
//! store's generation moves), and both write their request logs to the shared store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Map};
use sqlx::Connection as _;
use switchboard::control::Control;
use switchboard::gateway::upstream::Upstream;
use switchboard::observe::metrics::Metrics;
use switchboard::observe::spawn_writer;
use switchboard::state::AppState;
use switchboard_store::{LogQuery, NewVirtualKey, StoreLocation, Vault, VirtualKeyUpdate};

/// A fresh schema in the test database; `None` with `SWITCHBOARD_SKIP_POSTGRES=1`.
async fn postgres_schema() -> Option<String> {
    if std::env::var("SWITCHBOARD_SKIP_POSTGRES").as_deref() == Ok("1") {
        eprintln!("SWITCHBOARD_SKIP_POSTGRES=1: skipping");
        return None;
    }
    let url = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let schema = format!("gw_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL unreachable at {url}: {e} (SWITCHBOARD_SKIP_POSTGRES=1 skips)"));
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.unwrap();
    Some(format!("{url}?options=-c%20search_path%3D{schema}"))
}

async fn instance(url: &str) -> Gateway {
    let store = switchboard_store::open(&StoreLocation::Postgres(url.to_string())).await.unwrap();
    let vault = Vault::from_master_key([9; 32]);
    store.check_vault(&vault).await.unwrap();
    let control = Arc::new(Control::new(store, vault));
    switchboard::support::tasks::spawn(control.clone().watch());
    let (logs, writer) = spawn_writer(control.store.clone(), 1000, Arc::new(Metrics::default()));
    let upstream = Upstream::new(Duration::from_secs(2)).unwrap();
    serve(Arc::new(AppState::new(settings(), upstream, control, logs)), Some(writer)).await
}

/// Sends through `gw` until `check` holds for the answer, for at most 10 s.
async fn eventually(gw: &Gateway, cfg: &serde_json::Value, check: impl Fn(&Answer) -> bool) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = gw.chat(cfg, &chat_body()).await;
        if check(&answer) || Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_key_changes_reach_every_instance_through_postgres() {
    let Some(url) = postgres_schema().await else { return };
    let (a, b) = (instance(&url).await, instance(&url).await);
    let provider = mock("shared").await;
    let cfg = json!({"virtual_key": "shared-openai"});
    let options: Map<String, serde_json::Value> =
        [("custom_host".to_string(), json!(format!("{}/v1", provider.base_url())))].into_iter().collect();
    let store = &a.state.control.store;
    let vault = &a.state.control.vault;
    // B looks the key up before it exists: a clear 400 naming it.
    let missing = b.chat(&cfg, &chat_body()).await;
    assert_eq!(missing.status, 400);
    assert!(missing.text.contains("shared-openai"), "{}", missing.text);
    store
        .create_virtual_key(&NewVirtualKey {
            slug: "shared-openai".into(),
            name: "Shared".into(),
            provider: "openai".into(),
            secret: vault.seal("sk-first").unwrap(),
            options,
            note: None,
        })
        .await
        .unwrap();
    let first = eventually(&b, &cfg, |r| r.status == 200).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let update = VirtualKeyUpdate { secret: Some(vault.seal("sk-second").unwrap()), ..VirtualKeyUpdate::default() };
    store.update_virtual_key("shared-openai", &update).await.unwrap();
    let seen = || provider.hits().last().map(|h| h["headers"]["authorization"].as_str().unwrap_or("").to_string());
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen().as_deref() != Some("Bearer sk-second") && Instant::now() < deadline {
        b.chat(&cfg, &chat_body()).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen().as_deref(), Some("Bearer sk-second"), "instance B kept the old key");
    a.chat(&cfg, &chat_body()).await;
    a.drain_logs().await;
    b.drain_logs().await;
    let page = store.query_logs(&LogQuery { limit: Some(1000), ..LogQuery::default() }).await.unwrap();
    assert!(page.items.len() >= 3, "both instances log to the shared store: {}", page.items.len());
    drop_schema(&url).await;
}

async fn drop_schema(url: &str) {
    let (base, schema) = url.split_once("?options=-c%20search_path%3D").unwrap();
    let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await.unwrap();
}
