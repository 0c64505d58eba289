//! Routing end to end through the real app: loadbalance, fallback, retries, timeouts,
//! conditional routing and the Portkey response headers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn single_target_passes_request_through_with_bearer_key() {
    let (gw, openai) = (gateway().await, mock("openai-a").await);
    let answer = gw.chat(&target("openai", &openai), &chat_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["choices"][0]["message"]["content"], "Hello from openai-a serving gpt-3.5-turbo");
    let hits = openai.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["path"], "/v1/chat/completions");
    assert_eq!(hits[0]["headers"]["authorization"], "Bearer key-openai");
    assert_eq!(hits[0]["body"], chat_body());
    assert!(hits[0]["headers"].get("x-portkey-api-key").is_none(), "the Switchboard key must not leave");
    assert_eq!(answer.header("x-portkey-last-used-option-index"), Some("config"));
    assert_eq!(answer.header("x-portkey-provider"), Some("openai"));
    assert_eq!(answer.header("x-portkey-retry-attempt-count"), Some("0"));
}

#[tokio::test]
async fn trace_id_is_echoed_or_generated_never_empty() {
    let (gw, openai) = (gateway().await, mock("o").await);
    let cfg = target("openai", &openai);
    let sent = gw.chat_with(&cfg, &chat_body(), &[("x-portkey-trace-id", "request-loadbalance-fallback".into())]).await;
    assert_eq!(sent.header("x-portkey-trace-id"), Some("request-loadbalance-fallback"));
    let generated = gw.chat(&cfg, &chat_body()).await;
    let id = generated.header("x-portkey-trace-id").unwrap_or_default();
    assert_eq!(id.len(), 36, "a UUID: {id:?}");
}

#[tokio::test]
async fn provider_header_and_authorization_route_without_config() {
    let (gw, openai) = (gateway().await, mock("o").await);
    let headers = vec![
        ("x-portkey-api-key", ADMIN_KEY.to_string()),
        ("x-portkey-provider", "openai".to_string()),
        ("authorization", "sk-from-client".to_string()),
        ("x-portkey-custom-host", format!("{}/v1", openai.base_url())),
    ];
    let answer = gw.post("/v1/chat/completions", &headers, chat_body().to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(openai.hits()[0]["headers"]["authorization"], "Bearer sk-from-client");
}

#[tokio::test]
async fn loadbalance_splits_by_weight_and_never_picks_weight_zero() {
    let (gw, a, b, c) = (gateway().await, mock("a").await, mock("b").await, mock("c").await);
    let mut ta = target("openai", &a);
    ta["weight"] = json!(0.5);
    let mut tb = target("openai", &b);
    tb["weight"] = json!(0.5);
    let mut tc = target("openai", &c);
    tc["weight"] = json!(0);
    let cfg = json!({"strategy": {"mode": "loadbalance"}, "targets": [ta, tb, tc]});
    for _ in 0..200 {
        assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 200);
    }
    let (na, nb) = (a.hits().len(), b.hits().len());
    assert_eq!(na + nb, 200);
    assert!((60..=140).contains(&na), "50/50 split gave {na}/{nb}");
    assert!(c.hits().is_empty(), "weight 0 was picked");
}

#[tokio::test]
async fn fallback_moves_on_after_503_and_reports_nested_path() {
    let (gw, anthropic, openai, azure) = (gateway().await, mock("ant").await, mock("oai").await, mock("az").await);
    openai.script(Script { status: Some(503), count: -1, ..Script::default() });
    let mut ant = target("anthropic", &anthropic);
    ant["weight"] = json!(0);
    let cfg = json!({"strategy": {"mode": "loadbalance"}, "targets": [ant,
        {"strategy": {"mode": "fallback"}, "weight": 1,
         "targets": [target("openai", &openai), target("azure-openai", &azure)]}]});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("x-portkey-last-used-option-index"), Some("config.targets[1].targets[1]"));
    assert_eq!(answer.header("x-portkey-provider"), Some("azure-openai"));
    assert_eq!(openai.hits().len(), 1);
    let hit = &azure.hits()[0];
    assert_eq!(hit["path"], "/openai/deployments/gpt35/chat/completions");
    assert_eq!(hit["query"], "api-version=2024-02-01");
    assert_eq!(hit["headers"]["api-key"], "key-azure-openai");
}

#[tokio::test]
async fn when_every_target_fails_client_gets_last_status_and_body() {
    let (gw, a, b) = (gateway().await, mock("a").await, mock("b").await);
    a.script(Script { status: Some(503), count: -1, ..Script::default() });
    b.script(Script { status: Some(429), count: -1, retry_after: Some(7), ..Script::default() });
    let cfg = json!({"strategy": {"mode": "fallback"}, "targets": [target("openai", &a), target("openai", &b)]});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.json()["error"]["message"], "scripted failure 429 from b");
    assert_eq!(answer.json()["provider"], "openai");
    assert_eq!(answer.header("x-portkey-gateway-exception"), None);
    assert_eq!(answer.header("retry-after"), Some("7"), "the provider's Retry-After reaches the client");
}

#[tokio::test]
async fn fallback_on_status_codes_limits_when_to_move_on() {
    let (gw, a, b) = (gateway().await, mock("a").await, mock("b").await);
    a.script(Script { status: Some(500), count: -1, ..Script::default() });
    let cfg = json!({"strategy": {"mode": "fallback", "on_status_codes": [429]},
        "targets": [target("openai", &a), target("openai", &b)]});
    assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 500);
    assert!(b.hits().is_empty());
}

#[tokio::test]
async fn retry_repeats_on_retryable_status_and_counts_attempts() {
    let (gw, a) = (gateway().await, mock("a").await);
    a.script(Script { status: Some(429), count: 2, retry_after: Some(0), ..Script::default() });
    let mut cfg = target("openai", &a);
    cfg["retry"] = json!({"attempts": 3, "use_retry_after_header": true});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("x-portkey-retry-attempt-count"), Some("2"));
    assert_eq!(a.hits().len(), 3);
}

#[tokio::test]
async fn request_timeout_answers_408_then_falls_back() {
    let (gw, slow, fast) = (gateway().await, mock("slow").await, mock("fast").await);
    slow.script(Script { hang: true, ..Script::default() });
    let alone = json!({"provider": "openai", "api_key": "k", "custom_host": format!("{}/v1", slow.base_url()),
        "request_timeout": 100});
    let answer = gw.chat(&alone, &chat_body()).await;
    assert_eq!(answer.status, 408, "{}", answer.text);
    assert_eq!(answer.json()["error"]["type"], "timeout_error");
    assert_eq!(answer.header("x-portkey-gateway-exception"), Some("true"));
    let cfg = json!({"strategy": {"mode": "fallback"}, "request_timeout": 100,
        "targets": [target("openai", &slow), target("openai", &fast)]});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("x-portkey-last-used-option-index"), Some("config.targets[1]"));
}

#[tokio::test]
async fn unreachable_provider_is_502_and_falls_back() {
    let (gw, ok) = (gateway().await, mock("ok").await);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let dead = json!({"provider": "openai", "api_key": "sk-secret-dead", "custom_host": format!("http://{closed}/v1")});
    let answer = gw.chat(&dead, &chat_body()).await;
    assert_eq!(answer.status, 502, "{}", answer.text);
    assert!(answer.json()["error"]["message"].as_str().unwrap().starts_with("openai: could not reach the provider"));
    assert!(!answer.text.contains("sk-secret-dead"));
    let cfg = json!({"strategy": {"mode": "fallback"}, "targets": [dead, target("openai", &ok)]});
    assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 200);
}

#[tokio::test]
async fn override_params_merge_over_request_and_down_the_tree() {
    let (gw, a) = (gateway().await, mock("a").await);
    let mut leaf = target("openai", &a);
    leaf["override_params"] = json!({"temperature": 0.2});
    let cfg = json!({"strategy": {"mode": "single"}, "override_params": {"model": "gpt-4o", "temperature": 1},
        "targets": [leaf]});
    assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 200);
    let body = &a.hits()[0]["body"];
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["temperature"], 0.2);
}

#[tokio::test]
async fn conditional_routes_on_metadata() {
    let (gw, paid, free) = (gateway().await, mock("paid").await, mock("free").await);
    let mut tp = target("openai", &paid);
    tp["name"] = json!("paid");
    let mut tf = target("openai", &free);
    tf["name"] = json!("free");
    let cfg = json!({"strategy": {"mode": "conditional", "default": "free",
        "conditions": [{"query": {"metadata.plan": {"$eq": "pro"}}, "then": "paid"}]}, "targets": [tp, tf]});
    gw.chat_with(&cfg, &chat_body(), &[("x-portkey-metadata", r#"{"plan":"pro"}"#.into())]).await;
    gw.chat_with(&cfg, &chat_body(), &[("x-portkey-metadata", r#"{"plan":"hobby"}"#.into())]).await;
    assert_eq!((paid.hits().len(), free.hits().len()), (1, 1));
}

#[tokio::test]
async fn forward_headers_pass_named_client_headers_only() {
    let (gw, a) = (gateway().await, mock("a").await);
    let mut cfg = target("openai", &a);
    cfg["forward_headers"] = json!(["x-org-id"]);
    gw.chat_with(&cfg, &chat_body(), &[("x-org-id", "org-7".into()), ("x-other", "no".into())]).await;
    let headers = &a.hits()[0]["headers"];
    assert_eq!(headers["x-org-id"], "org-7");
    assert!(headers.get("x-other").is_none());
}

#[tokio::test]
async fn embeddings_and_completions_are_routed() {
    let (gw, a) = (gateway().await, mock("a").await);
    let headers =
        vec![("x-portkey-api-key", ADMIN_KEY.to_string()), ("x-portkey-config", target("openai", &a).to_string())];
    let emb = gw
        .post("/v1/embeddings", &headers, json!({"model": "text-embedding-3-small", "input": "hi"}).to_string())
        .await;
    assert_eq!(emb.status, 200, "{}", emb.text);
    assert_eq!(emb.json()["object"], "list");
    let cmp = gw
        .post("/v1/completions", &headers, json!({"model": "gpt-3.5-turbo-instruct", "prompt": "hi"}).to_string())
        .await;
    assert_eq!(cmp.status, 200, "{}", cmp.text);
    let paths: Vec<_> = a.hits().iter().map(|h| h["path"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(paths, ["/v1/embeddings", "/v1/completions"]);
}
