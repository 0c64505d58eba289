//! Target health shared through Redis between gateway instances: a target tripped through
//! one is skipped by the other (which never saw it fail), the half-open probe goes from one
//! instance only, and a Redis that stops mid-test leaves both serving on their own state and
//! saying so, until it is back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::services::*;
use common::*;
use prometheus_client::metrics::gauge::Gauge;
use serde_json::{json, Value};
use switchboard::gateway::upstream::Upstream;
use switchboard::observe::metrics::Metrics;
use switchboard::observe::spawn_writer;
use switchboard::policy::limits::Limiter;
use switchboard::policy::redis::Shared;
use switchboard::policy::Policy;
use switchboard::state::AppState;

/// An instance sharing health through `url`, under `namespace` (each test its own).
async fn instance(url: &str, namespace: &str) -> (Gateway, Gauge) {
    let gauge = Gauge::default();
    let shared = Shared::start(url, namespace, gauge.clone()).unwrap();
    let control = Arc::new(control().await);
    let (logs, writer) = spawn_writer(control.store.clone(), 1000, Arc::new(Metrics::default()));
    let upstream = Upstream::new(Duration::from_secs(2)).unwrap();
    let limits = Arc::new(Limiter::local(logs.metrics_handle().limits.clone()));
    let state = AppState::with_policy(settings(), upstream, control, logs, Policy::shared(shared), limits);
    (serve(Arc::new(state), Some(writer)).await, gauge)
}

fn breaker_config(primary: Value, secondary: Value) -> Value {
    json!({"strategy": {"mode": "fallback", "cb_config": {"failure_threshold": 2, "cooldown_interval": 1000}},
           "targets": [primary, secondary]})
}

/// Waits until `gw`'s explainer says `path` is in `state` for `cfg`.
async fn explained(gw: &Gateway, cfg: &Value, path: &str, state: &str) {
    let body = json!({"config": cfg, "request": {"model": "gpt-3.5-turbo"}}).to_string();
    let headers = [("x-portkey-api-key", ADMIN_KEY.to_string())];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let order = gw.post("/v1/route/explain", &headers, body.clone()).await.json()["order"].clone();
        let now = order.as_array().unwrap().iter().find(|e| e["target_path"] == path).map(|e| e["state"].clone());
        if now.as_ref().and_then(Value::as_str) == Some(state) {
            return;
        }
        assert!(Instant::now() < deadline, "{path} never became {state}: {order}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn served_by(answer: &Answer) -> String {
    answer.json()["choices"][0]["message"]["content"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_target_tripped_through_one_instance_is_skipped_by_the_other() {
    let ns = redis_namespace();
    let ((a, _), (b, _)) = (instance(&machine_redis(), &ns).await, instance(&machine_redis(), &ns).await);
    let (primary, secondary) = (mock("primary").await, mock("secondary").await);
    primary.script(Script { status: Some(503), count: -1, ..Script::default() });
    let cfg = breaker_config(target("openai", &primary), target("openai", &secondary));
    for _ in 0..2 {
        assert_eq!(a.chat(&cfg, &chat_body()).await.status, 200);
    }
    assert_eq!(primary.hits().len(), 2);
    // Reports are applied in the background: instance b sees the open state within moments.
    explained(&b, &cfg, "config.targets[0]", "open").await;
    for _ in 0..10 {
        assert!(served_by(&b.chat(&cfg, &chat_body()).await).contains("secondary"));
    }
    assert_eq!(primary.hits().len(), 2, "instance b never called the tripped primary");
}

#[tokio::test]
async fn a_retry_after_seen_by_one_instance_cools_the_target_for_the_other() {
    let ns = redis_namespace();
    let ((a, _), (b, _)) = (instance(&machine_redis(), &ns).await, instance(&machine_redis(), &ns).await);
    let (primary, secondary) = (mock("primary").await, mock("secondary").await);
    primary.script(Script { status: Some(429), count: -1, retry_after: Some(30), ..Script::default() });
    let cfg = json!({"strategy": {"mode": "fallback"}, "targets": [target("openai", &primary), target("openai", &secondary)]});
    assert_eq!(a.chat(&cfg, &chat_body()).await.status, 200);
    assert_eq!(primary.hits().len(), 1);
    explained(&b, &cfg, "config.targets[0]", "cooling").await;
    for _ in 0..5 {
        assert!(served_by(&b.chat(&cfg, &chat_body()).await).contains("secondary"));
    }
    assert_eq!(primary.hits().len(), 1, "instance b kept away from the cooling primary");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_cooldown_one_instance_probes() {
    let ns = redis_namespace();
    let ((a, _), (b, _)) = (instance(&machine_redis(), &ns).await, instance(&machine_redis(), &ns).await);
    let (primary, secondary) = (mock("primary").await, mock("secondary").await);
    primary.script(Script { status: Some(503), count: -1, delay_ms: 200, ..Script::default() });
    let cfg = breaker_config(target("openai", &primary), target("openai", &secondary));
    for _ in 0..2 {
        a.chat(&cfg, &chat_body()).await;
    }
    explained(&b, &cfg, "config.targets[0]", "open").await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let hits = primary.hits().len();
    let body = chat_body();
    let sends = (0..6).map(|i| if i % 2 == 0 { a.chat(&cfg, &body) } else { b.chat(&cfg, &body) });
    let answers = futures_util::future::join_all(sends).await;
    assert!(answers.iter().all(|a| a.status == 200));
    assert_eq!(primary.hits().len() - hits, 1, "one probe across both instances");
}

async fn degraded(gw: &Gateway) -> bool {
    let view = gw.get("/v1/health/targets", &[("x-portkey-api-key", ADMIN_KEY.to_string())]).await;
    view.json()["shared_state"]["degraded"] == true
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn with_redis_gone_both_instances_keep_serving_and_say_so() {
    let port = free_port();
    let redis = OwnRedis::start(port).await;
    let redis_url = format!("redis://127.0.0.1:{port}");
    let ns = redis_namespace();
    let ((a, gauge_a), (b, gauge_b)) = (instance(&redis_url, &ns).await, instance(&redis_url, &ns).await);
    let (primary, secondary) = (mock("primary").await, mock("secondary").await);
    let cfg = breaker_config(target("openai", &primary), target("openai", &secondary));
    assert_eq!(a.chat(&cfg, &chat_body()).await.status, 200);
    assert_eq!(b.chat(&cfg, &chat_body()).await.status, 200);
    assert!(!degraded(&a).await && !degraded(&b).await);
    redis.stop();
    for gw in [&a, &b] {
        for _ in 0..5 {
            assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 200, "serving on local state");
        }
        until("the instance reports degraded", || degraded(gw)).await;
    }
    assert_eq!((gauge_a.get(), gauge_b.get()), (1, 1), "switchboard_shared_state_degraded");
    // Local breakers still count while Redis is gone.
    primary.script(Script { status: Some(503), count: -1, ..Script::default() });
    for _ in 0..5 {
        assert_eq!(a.chat(&cfg, &chat_body()).await.status, 200);
    }
    assert_eq!(primary.hits().len(), 2 + 10 + 2, "instance a's own breaker opened after 2 failures");
    let _back = OwnRedis::start(port).await;
    until("instance a is healthy again", async || !degraded(&a).await).await;
    assert_eq!(gauge_a.get(), 0);
}
