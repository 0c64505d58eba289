//! Bad input gets a clear, OpenAI-shaped error naming what was wrong and where, with
//! `x-portkey-gateway-exception: true`; nothing leaks a credential.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;

fn message(answer: &Answer) -> String {
    answer.json()["error"]["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn missing_or_wrong_switchboard_key_is_401() {
    let gw = gateway().await;
    let none = gw.post("/v1/chat/completions", &[], chat_body().to_string()).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.json()["error"]["type"], "authentication_error");
    assert_eq!(none.header("x-portkey-gateway-exception"), Some("true"));
    assert!(none.header("x-portkey-trace-id").is_some_and(|t| !t.is_empty()));
    let wrong = gw.post("/v1/chat/completions", &[("x-portkey-api-key", "nope".into())], "{}").await;
    assert_eq!(wrong.status, 401);
}

#[tokio::test]
async fn health_and_root_answer_without_auth() {
    let gw = gateway().await;
    assert_eq!(gw.get("/health", &[]).await.status, 200);
    assert_eq!(gw.get("/", &[]).await.status, 200);
    assert_eq!(gw.get("/nope", &[]).await.status, 404);
}

#[tokio::test]
async fn invalid_config_names_the_path() {
    let (gw, a) = (gateway().await, mock("a").await);
    let cfg = json!({"strategy": {"mode": "loadbalance"}, "targets": [target("openai", &a),
        {"strategy": {"mode": "roundrobin"}, "targets": [target("openai", &a)]}]});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.header("x-portkey-gateway-exception"), Some("true"));
    let msg = message(&answer);
    assert!(msg.contains("config.targets[1].strategy.mode: unknown mode \"roundrobin\""), "{msg}");
    assert!(a.hits().is_empty());
}

#[tokio::test]
async fn typo_in_config_key_is_refused_not_ignored() {
    let (gw, a) = (gateway().await, mock("a").await);
    let mut cfg = target("openai", &a);
    cfg["overide_params"] = json!({"model": "x"});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 400);
    assert!(message(&answer).contains("config.overide_params"), "{}", message(&answer));
}

#[tokio::test]
async fn config_that_is_not_json_is_400() {
    let gw = gateway().await;
    let headers = vec![("x-portkey-api-key", ADMIN_KEY.to_string()), ("x-portkey-config", "{not json".to_string())];
    let answer = gw.post("/v1/chat/completions", &headers, chat_body().to_string()).await;
    assert_eq!(answer.status, 400);
    assert!(message(&answer).starts_with("config"), "{}", message(&answer));
}

#[tokio::test]
async fn unknown_provider_is_400() {
    let gw = gateway().await;
    let cfg = json!({"provider": "open-ai", "api_key": "k"});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 400);
    assert!(message(&answer).contains("unknown provider \"open-ai\""), "{}", message(&answer));
    let headers = vec![("x-portkey-api-key", ADMIN_KEY.to_string()), ("x-portkey-provider", "nope".to_string())];
    let answer = gw.post("/v1/chat/completions", &headers, chat_body().to_string()).await;
    assert_eq!(answer.status, 400);
    assert!(message(&answer).starts_with("x-portkey-provider: unknown provider"), "{}", message(&answer));
}

#[tokio::test]
async fn malformed_and_non_object_bodies_are_400() {
    let (gw, a) = (gateway().await, mock("a").await);
    let headers =
        vec![("x-portkey-api-key", ADMIN_KEY.to_string()), ("x-portkey-config", target("openai", &a).to_string())];
    let bad = gw.post("/v1/chat/completions", &headers, "{\"model\": ").await;
    assert_eq!(bad.status, 400);
    assert!(message(&bad).starts_with("request body is not valid JSON"), "{}", message(&bad));
    let array = gw.post("/v1/chat/completions", &headers, "[1]").await;
    assert_eq!(message(&array), "request body must be a JSON object");
}

#[tokio::test]
async fn oversized_body_is_413() {
    let (gw, a) = (gateway().await, mock("a").await);
    let headers =
        vec![("x-portkey-api-key", ADMIN_KEY.to_string()), ("x-portkey-config", target("openai", &a).to_string())];
    let big = json!({"model": "m", "messages": [{"role": "user", "content": "x".repeat(100 * 1024)}]});
    let answer = gw.post("/v1/chat/completions", &headers, big.to_string()).await;
    assert_eq!(answer.status, 413, "{}", answer.text);
    assert_eq!(answer.json()["error"]["code"], "body_too_large");
}

#[tokio::test]
async fn no_route_information_is_a_clear_400() {
    let gw = gateway().await;
    let answer =
        gw.post("/v1/chat/completions", &[("x-portkey-api-key", ADMIN_KEY.into())], chat_body().to_string()).await;
    assert_eq!(answer.status, 400);
    assert!(message(&answer).contains("x-portkey-config"), "{}", message(&answer));
}

#[tokio::test]
async fn target_without_credentials_is_refused_and_secrets_never_echo() {
    let (gw, a) = (gateway().await, mock("a").await);
    let cfg = json!({"provider": "openai", "custom_host": format!("{}/v1", a.base_url())});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert!(message(&answer).contains("no credentials for openai"), "{}", message(&answer));
    assert!(a.hits().is_empty());
}

#[tokio::test]
async fn bad_metadata_header_is_400() {
    let (gw, a) = (gateway().await, mock("a").await);
    let answer = gw.chat_with(&target("openai", &a), &chat_body(), &[("x-portkey-metadata", "nope".into())]).await;
    assert_eq!(answer.status, 400);
    assert!(message(&answer).starts_with("x-portkey-metadata"), "{}", message(&answer));
}
