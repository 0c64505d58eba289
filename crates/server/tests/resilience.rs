//! Target health end to end, with mock providers scripted per case: a failing primary stops
//! receiving traffic after its breaker's threshold and gets one probe after the cooldown; a
//! 429 with `Retry-After` keeps its target out; a target whose rate-limit headers say
//! nothing is left (OpenAI's and Anthropic's forms) is skipped before any 429; a sticky
//! split holds per user; the explainer and the health view say what the router knows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;
mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn fallback(primary: Value, secondary: Value, cb: Option<Value>) -> Value {
    let mut strategy = json!({"mode": "fallback"});
    if let Some(cb) = cb {
        strategy["cb_config"] = cb;
    }
    json!({"strategy": strategy, "targets": [primary, secondary]})
}

fn served_by(answer: &Answer) -> String {
    answer.json()["choices"][0]["message"]["content"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_failing_primary_stops_receiving_traffic_and_gets_one_probe_after_the_cooldown() {
    let (gw, primary, secondary) = (gateway().await, mock("primary").await, mock("secondary").await);
    primary.script(Script { status: Some(503), count: -1, ..Script::default() });
    let cb = json!({"failure_threshold": 3, "cooldown_interval": 1000});
    let cfg = fallback(target("openai", &primary), target("openai", &secondary), Some(cb));
    for _ in 0..30 {
        let answer = gw.chat(&cfg, &chat_body()).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    assert_eq!(primary.hits().len(), 3, "the breaker opened after 3 failures");
    assert_eq!(secondary.hits().len(), 30);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for _ in 0..5 {
        assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 200);
    }
    assert_eq!(primary.hits().len(), 4, "one probe after the cooldown, which failed and reopened the breaker");
    primary.script(Script::default());
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let probe = gw.chat(&cfg, &chat_body()).await;
    assert!(served_by(&probe).contains("primary"), "the probe succeeded: {}", probe.text);
    let next = gw.chat(&cfg, &chat_body()).await;
    assert!(served_by(&next).contains("primary"), "closed again: {}", next.text);
    assert_no_panics();
}

#[tokio::test]
async fn a_skipped_target_is_in_the_log_record_with_its_state() {
    let (gw, primary, secondary) = (gateway().await, mock("primary").await, mock("secondary").await);
    primary.script(Script { status: Some(500), count: -1, ..Script::default() });
    let cb = json!({"failure_threshold": 1, "cooldown_interval": 60000});
    let cfg = fallback(target("openai", &primary), target("openai", &secondary), Some(cb));
    gw.chat(&cfg, &chat_body()).await;
    let trace = [("x-portkey-trace-id", "skipped-primary".to_string())];
    assert_eq!(gw.chat_with(&cfg, &chat_body(), &trace).await.status, 200);
    let logs = gw.logs().await;
    let record = logs.iter().find(|r| r.trace_id.as_deref() == Some("skipped-primary")).unwrap();
    let route = attempts_json(record);
    assert_eq!(route[0]["reason"], "skipped");
    assert_eq!(route[0]["target_path"], "config.targets[0]");
    assert_eq!(route[0]["state"], "open");
    assert_eq!(route[0]["provider"], "openai", "who was skipped, readable without the config");
    assert!(route[0]["until_ms"].as_u64().is_some());
    assert_eq!(route[1]["target_path"], "config.targets[1]");
    assert_eq!(route[1]["status"], 200);
    let metrics = gw.get("/metrics", &[]).await.text;
    assert!(metrics.contains(r#"switchboard_circuit_transitions_total{to="open"} 1"#), "{metrics}");
    let open = metrics.lines().find(|l| l.starts_with("switchboard_target_state{") && l.contains(r#"state="open""#));
    assert!(open.is_some_and(|l| l.ends_with(" 1") && !l.contains("key-openai")), "{metrics}");
}

#[tokio::test]
async fn a_429_with_retry_after_keeps_its_target_out() {
    let (gw, primary, secondary) = (gateway().await, mock("primary").await, mock("secondary").await);
    primary.script(Script { status: Some(429), count: -1, retry_after: Some(30), ..Script::default() });
    let cfg = fallback(target("openai", &primary), target("openai", &secondary), None);
    for _ in 0..8 {
        assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 200);
    }
    assert_eq!(primary.hits().len(), 1, "cooling for 30 s after the first 429");
    let view = gw.get("/v1/health/targets", &[("x-portkey-api-key", ADMIN_KEY.to_string())]).await;
    let data = view.json()["data"].clone();
    let cooling: Vec<&Value> = data.as_array().unwrap().iter().filter(|t| t["state"] == "cooling").collect();
    assert_eq!(cooling.len(), 1, "{}", view.text);
    assert_eq!(cooling[0]["last_status"], 429);
    assert!(cooling[0]["credential"].as_str().unwrap().starts_with("key:"), "a key hint, not the key");
    assert!(!view.text.contains("key-openai"), "no secret in the health view: {}", view.text);
}

#[tokio::test]
async fn with_on_all_unavailable_fail_a_cooling_route_answers_503_with_a_truthful_retry_after() {
    let (gw, only) = (gateway().await, mock("only").await);
    only.script(Script { status: Some(429), count: -1, retry_after: Some(30), ..Script::default() });
    let cfg =
        json!({"strategy": {"mode": "single", "on_all_unavailable": "fail"}, "targets": [target("openai", &only)]});
    assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 429);
    let refused = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert_eq!(refused.json()["error"]["code"], "targets_unavailable");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((29..=30).contains(&wait), "Retry-After {wait}");
    assert_eq!(only.hits().len(), 1);
}

#[tokio::test]
async fn without_on_all_unavailable_a_cooling_single_target_is_still_tried() {
    let (gw, only) = (gateway().await, mock("only").await);
    only.script(Script { status: Some(429), count: 1, retry_after: Some(30), ..Script::default() });
    let cfg = target("openai", &only);
    assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 429);
    assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 200, "fail open: the one target is tried");
}

async fn skipped_before_any_429(provider: &str, headers: Vec<(String, String)>) {
    let (gw, primary, secondary) = (gateway().await, mock("primary").await, mock("secondary").await);
    primary.script(Script { headers, ..Script::default() });
    let cfg = fallback(target(provider, &primary), target("openai", &secondary), None);
    assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 200);
    for _ in 0..4 {
        let answer = gw.chat(&cfg, &chat_body()).await;
        assert!(served_by(&answer).contains("secondary"), "{}", answer.text);
    }
    assert_eq!(primary.hits().len(), 1, "no request after it said 0 remain");
}

#[tokio::test]
async fn openai_remaining_requests_zero_is_skipped_before_any_429() {
    let headers = vec![
        ("x-ratelimit-limit-requests".to_string(), "500".to_string()),
        ("x-ratelimit-remaining-requests".to_string(), "0".to_string()),
        ("x-ratelimit-reset-requests".to_string(), "6m0s".to_string()),
    ];
    skipped_before_any_429("openai", headers).await;
}

#[tokio::test]
async fn anthropic_remaining_requests_zero_is_skipped_before_any_429() {
    let reset = jiff_reset_in(Duration::from_secs(120));
    let headers = vec![
        ("anthropic-ratelimit-requests-limit".to_string(), "50".to_string()),
        ("anthropic-ratelimit-requests-remaining".to_string(), "0".to_string()),
        ("anthropic-ratelimit-requests-reset".to_string(), reset),
    ];
    skipped_before_any_429("anthropic", headers).await;
}

/// An RFC 3339 instant `after` from now, as Anthropic sends its resets.
fn jiff_reset_in(after: Duration) -> String {
    let secs = switchboard::support::clock::unix_secs() + after.as_secs();
    jiff::Timestamp::from_second(i64::try_from(secs).unwrap()).unwrap().to_string()
}

#[tokio::test]
async fn a_sticky_split_holds_per_user_and_follows_the_weights() {
    let (gw, stable, canary) = (gateway().await, mock("stable").await, mock("canary").await);
    let mut a = target("openai", &stable);
    a["weight"] = json!(90);
    let mut b = target("openai", &canary);
    b["weight"] = json!(10);
    let cfg = json!({"strategy": {"mode": "loadbalance", "hash_key": "metadata.user_id"}, "targets": [a, b]});
    let mut on_canary = 0;
    for user in 0..300 {
        let meta = [("x-portkey-metadata", json!({"user_id": format!("user-{user}")}).to_string())];
        let first = served_by(&gw.chat_with(&cfg, &chat_body(), &meta).await);
        for _ in 0..2 {
            assert_eq!(served_by(&gw.chat_with(&cfg, &chat_body(), &meta).await), first, "user-{user} moved");
        }
        on_canary += usize::from(first.contains("canary"));
    }
    assert!((12..=60).contains(&on_canary), "about 10 % of 300 users on the canary, got {on_canary}");
    let logs = gw.logs().await;
    let sticky = attempts_json(&logs[0]).into_iter().find(|a| a["reason"] == "sticky");
    assert_eq!(sticky.map(|s| s["group_path"].clone()), Some(json!("config")), "the assignment is logged");
}

#[tokio::test]
async fn the_explainer_says_what_the_router_knows_without_calling_anyone() {
    let (gw, primary, secondary) = (gateway().await, mock("primary").await, mock("secondary").await);
    primary.script(Script { status: Some(500), count: -1, ..Script::default() });
    let cb = json!({"failure_threshold": 1, "cooldown_interval": 60000});
    let mut weightless = target("openai", &secondary);
    weightless["weight"] = json!(0);
    let cfg = json!({"strategy": {"mode": "fallback", "cb_config": cb}, "targets": [
        target("openai", &primary),
        {"strategy": {"mode": "loadbalance"}, "targets": [target("openai", &secondary), weightless]}]});
    gw.chat(&cfg, &chat_body()).await;
    let hits = (primary.hits().len(), secondary.hits().len());
    let body = json!({"config": cfg, "request": {"model": "gpt-3.5-turbo", "metadata": {"user_id": "u1"}}});
    let explained =
        gw.post("/v1/route/explain", &[("x-portkey-api-key", ADMIN_KEY.to_string())], body.to_string()).await;
    assert_eq!(explained.status, 200, "{}", explained.text);
    let order = explained.json()["order"].clone();
    let states: Vec<(&str, &str)> = order
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["target_path"].as_str().unwrap(), e["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("config.targets[0]", "open"),
            ("config.targets[1].targets[0]", "available"),
            ("config.targets[1].targets[1]", "weight_zero"),
        ]
    );
    assert_eq!(order[0]["model"], "gpt-3.5-turbo");
    assert_eq!((primary.hits().len(), secondary.hits().len()), hits, "explain calls no provider");
}

#[tokio::test]
async fn a_bad_cb_config_is_refused_with_its_path() {
    let (gw, a) = (gateway().await, mock("a").await);
    let cfg = json!({"strategy": {"mode": "fallback",
        "cb_config": {"failure_treshold": 3, "cooldown_interval": 10}}, "targets": [target("openai", &a)]});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 400);
    let message = answer.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("config.strategy.cb_config.failure_treshold"), "{message}");
    assert!(message.contains("config.strategy.cb_config.cooldown_interval"), "{message}");
    assert!(a.hits().is_empty());
}

#[tokio::test]
async fn the_health_view_needs_admin_scope() {
    let gw = gateway().await;
    let anonymous = gw.get("/v1/health/targets", &[]).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
}

#[tokio::test]
async fn a_caller_may_explain_only_routes_through_virtual_keys_it_may_use() {
    let (gw, provider) = (gateway().await, mock("p").await);
    let mine = admin_support::openai_key(&gw, &provider, "sk-mine").await;
    let theirs = admin_support::openai_key(&gw, &provider, "sk-theirs").await;
    let key = json!({"name": "app", "scopes": ["gateway"], "allowed_virtual_keys": [mine]});
    let (_, app_key) = admin_support::create_api_key(&gw, key).await;
    let headers = [("x-portkey-api-key", app_key)];
    let explain = |slug: &str| json!({"config": {"virtual_key": slug}, "request": {"model": "m"}}).to_string();
    let theirs = gw.post("/v1/route/explain", &headers, explain(&theirs)).await;
    assert_eq!(theirs.status, 403, "{}", theirs.text);
    let mine = gw.post("/v1/route/explain", &headers, explain(&mine)).await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(mine.json()["order"][0]["state"], "available");
}

#[tokio::test]
async fn streams_that_break_after_committing_trip_the_breaker() {
    let (gw, primary, secondary) = (gateway().await, mock("primary").await, mock("secondary").await);
    primary.script(Script { cut_after: Some(2), ..Script::default() });
    let cb = json!({"failure_threshold": 2, "cooldown_interval": 60000});
    let cfg = fallback(target("openai", &primary), target("openai", &secondary), Some(cb));
    let mut body = chat_body();
    body["stream"] = json!(true);
    for _ in 0..2 {
        let broken = gw.chat(&cfg, &body).await;
        assert_eq!(broken.status, 200, "committed before it broke");
        assert!(broken.text.contains("error"), "the client is told the stream broke: {}", broken.text);
    }
    let next = gw.chat(&cfg, &body).await;
    assert_eq!(next.header("x-portkey-last-used-option-index"), Some("config.targets[1]"), "{}", next.text);
    assert_eq!(primary.hits().len(), 2, "two broken streams opened the breaker");
}
