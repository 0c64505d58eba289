//! Several gateway instances on one PostgreSQL database: a virtual key created or changed
//! through one instance is used by another without a restart (its cache is dropped when the
//! store's generation moves), and both write their request logs to the shared store. With
//! `--redis-url` they count key limits together (the machine's Redis, 127.0.0.1:6379 or
//! SWITCHBOARD_TEST_REDIS_URL, under a namespace per test), and keep serving, degraded, on
//! their own state when a Redis of the test's own is killed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::services::*;
use common::*;
use serde_json::{json, Map};
use switchboard::control::Control;
use switchboard::gateway::upstream::Upstream;
use switchboard::observe::metrics::Metrics;
use switchboard::observe::spawn_writer;
use switchboard::settings::{Settings, SharedSettings};
use switchboard::state::AppState;
use switchboard_store::{LogQuery, NewVirtualKey, StoreLocation, Vault, VirtualKeyUpdate};

async fn instance(url: &str) -> Gateway {
    instance_sharing(url, SharedSettings::default()).await
}

/// An instance on the database at `url` whose key limits are `shared` as given.
async fn instance_sharing(url: &str, shared: SharedSettings) -> Gateway {
    let store = switchboard_store::open(&StoreLocation::Postgres(url.to_string())).await.unwrap();
    let vault = Vault::from_master_key([9; 32]);
    store.check_vault(&vault).await.unwrap();
    let control = Arc::new(Control::new(store, vault));
    switchboard::support::tasks::spawn(control.clone().watch());
    let (logs, writer) = spawn_writer(control.store.clone(), 1000, Arc::new(Metrics::default()));
    let upstream = Upstream::new(Duration::from_secs(2)).unwrap();
    let (policy, limits) = switchboard::policy::from_settings(&shared, logs.metrics_handle().limits.clone()).unwrap();
    let settings = Settings { shared, ..settings() };
    serve(Arc::new(AppState::with_policy(settings, upstream, control, logs, policy, limits)), Some(writer)).await
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

/// Key limits counted through `redis_url` under a namespace of this test's own; failing
/// closed, so a Redis that does not answer fails the test instead of counting locally.
fn shared_through(redis_url: &str, fail_closed: bool) -> SharedSettings {
    SharedSettings {
        redis_url: Some(switchboard_core::secret::Secret::new(redis_url)),
        redis_namespace: redis_namespace(),
        limits_fail_closed: fail_closed,
    }
}

/// Two instances on one database and one Redis namespace, and a virtual key on `provider`
/// with `limits` (stored options) created through the store.
async fn two_limited_instances(
    url: &str,
    shared: SharedSettings,
    provider: &MockProvider,
    limits: serde_json::Value,
) -> (Gateway, Gateway) {
    let (a, b) = (instance_sharing(url, shared.clone()).await, instance_sharing(url, shared).await);
    let mut options: Map<String, serde_json::Value> =
        [("custom_host".to_string(), json!(format!("{}/v1", provider.base_url())))].into_iter().collect();
    options.extend(limits.as_object().unwrap().clone());
    let vault = &a.state.control.vault;
    let key = NewVirtualKey {
        slug: "limited".into(),
        name: "Limited".into(),
        provider: "openai".into(),
        secret: vault.seal("sk-limited").unwrap(),
        options,
        note: None,
    };
    a.state.control.store.create_virtual_key(&key).await.unwrap();
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5_rpm_virtual_key_serves_5_requests_in_total_across_two_instances() {
    let Some(url) = postgres_schema().await else { return };
    let provider = mock("rpm").await;
    let limits = json!({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 5}]});
    let (a, b) = two_limited_instances(&url, shared_through(&machine_redis(), true), &provider, limits).await;
    let cfg = json!({"virtual_key": "limited"});
    let mut statuses = Vec::new();
    for i in 0..8 {
        let gw = if i % 2 == 0 { &a } else { &b };
        statuses.push(gw.chat(&cfg, &chat_body()).await.status);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429], "five in total, wherever they arrive");
    assert_eq!(provider.hits().len(), 5);
    drop_schema(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_budget_is_not_overspent_by_50_concurrent_requests_over_two_instances() {
    let Some(url) = postgres_schema().await else { return };
    let provider = mock("budget").await;
    let limit = 600;
    let limits = json!({"usage_limits": {"credit_limit": limit, "type": "tokens"}});
    let (a, b) = two_limited_instances(&url, shared_through(&machine_redis(), true), &provider, limits).await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let cfg = json!({"virtual_key": "limited"});
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..50 {
        let gw = if i % 2 == 0 { a.clone() } else { b.clone() };
        let cfg = cfg.clone();
        requests.spawn(async move { gw.chat(&cfg, &chat_body()).await });
    }
    let (mut spent, mut largest, mut served, mut refused) = (0, 0, 0, 0);
    while let Some(answer) = requests.join_next().await {
        let answer = answer.unwrap();
        match answer.status {
            200 => {
                let used = answer.json()["usage"]["total_tokens"].as_u64().unwrap();
                (spent, largest, served) = (spent + used, largest.max(used), served + 1);
            }
            429 => {
                assert_eq!(answer.json()["error"]["code"], "insufficient_quota", "{}", answer.text);
                refused += 1;
            }
            other => panic!("{other}: {}", answer.text),
        }
    }
    assert!(served >= 1 && refused >= 1, "{served} served, {refused} refused");
    // Each request was admitted below the limit and used no more than it reserved.
    assert!(spent <= limit + largest, "{spent} tokens spent of {limit} (one request: {largest})");
    drop_schema(&url).await;
}

fn degraded(gw: &Gateway) -> bool {
    gw.state.metrics.render().lines().any(|l| l == "switchboard_shared_state_degraded 1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_whose_redis_dies_keep_serving_degraded_and_recover_when_it_returns() {
    let Some(url) = postgres_schema().await else { return };
    let port = free_port();
    let redis = OwnRedis::start(port).await;
    let provider = mock("degraded").await;
    let limits = json!({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 1000}]});
    let shared = shared_through(&format!("redis://127.0.0.1:{port}"), false);
    let (a, b) = two_limited_instances(&url, shared, &provider, limits).await;
    let cfg = json!({"virtual_key": "limited"});
    for gw in [&a, &b] {
        assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 200);
        assert!(!degraded(gw));
    }
    redis.stop();
    for gw in [&a, &b] {
        let answer = gw.chat(&cfg, &chat_body()).await;
        assert_eq!(answer.status, 200, "fail open: {}", answer.text);
        assert!(degraded(gw), "the gauge says so at once");
    }
    let _again = OwnRedis::start(port).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while (degraded(&a) || degraded(&b)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!degraded(&a) && !degraded(&b), "both recover once Redis answers again");
    assert_eq!(a.chat(&cfg, &chat_body()).await.status, 200);
    drop_schema(&url).await;
}
