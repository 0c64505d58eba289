//! Capability-aware eligibility through the real app: a target whose provider cannot serve
//! the endpoint is passed over (loadbalance renormalises, fallback skips, the log says why);
//! only when none can serve is the request refused, with each target named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;
mod common;

use admin_support::*;
use common::*;
use serde_json::{json, Value};

fn embeddings_body() -> Value {
    json!({"model": "text-embedding-3-small", "input": "The food was delicious"})
}

async fn embed(gw: &Gateway, config: &Value) -> Answer {
    let headers = [("x-portkey-api-key", ADMIN_KEY.to_string()), ("x-portkey-config", config.to_string())];
    gw.post("/v1/embeddings", &headers, embeddings_body().to_string()).await
}

#[tokio::test]
async fn embeddings_through_the_cookbook_config_are_served_by_its_openai_half() {
    let (gw, ant, oai, az) = (gateway().await, mock("ant").await, mock("oai").await, mock("az").await);
    let config = cookbook(&ant, &oai, &az);
    for _ in 0..20 {
        let answer = embed(&gw, &config).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(answer.json()["data"][0]["embedding"].is_array(), "{}", answer.text);
        assert_eq!(answer.header("x-portkey-provider"), Some("openai"));
    }
    assert!(ant.hits().is_empty(), "anthropic cannot embed and was never called");
    assert_eq!(oai.hits().len(), 20);
    let logs = gw.logs().await;
    assert_eq!(logs.len(), 20);
    for log in &logs {
        let skipped = &attempts_json(log)[0];
        assert_eq!(skipped["reason"], "skipped");
        assert_eq!(skipped["target_path"], "config.targets[0]");
        assert_eq!(skipped["state"], "unsupported");
        assert_eq!(skipped["why"], "anthropic does not offer an embeddings API");
        assert_eq!(skipped["until_ms"], Value::Null);
    }
}

#[tokio::test]
async fn a_fallback_skips_the_target_that_cannot_embed_and_falls_back_past_a_failure() {
    let (gw, ant, oai, az) = (gateway().await, mock("ant").await, mock("oai").await, mock("az").await);
    oai.script(Script { status: Some(503), count: -1, ..Script::default() });
    let config = json!({"strategy": {"mode": "fallback"},
        "targets": [target("anthropic", &ant), target("openai", &oai), target("azure-openai", &az)]});
    let answer = embed(&gw, &config).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("x-portkey-last-used-option-index"), Some("config.targets[2]"));
    assert!(ant.hits().is_empty());
    assert_eq!((oai.hits().len(), az.hits().len()), (1, 1));
}

#[tokio::test]
async fn when_no_target_can_embed_the_answer_is_a_400_naming_each() {
    let (gw, a, b) = (gateway().await, mock("a").await, mock("b").await);
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [target("anthropic", &a), target("anthropic", &b)]});
    let answer = embed(&gw, &config).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let error = &answer.json()["error"];
    assert_eq!(error["code"], "unsupported_endpoint");
    assert_eq!(error["type"], "invalid_request_error");
    let message = error["message"].as_str().unwrap();
    for path in ["config.targets[0]", "config.targets[1]"] {
        assert!(message.contains(&format!("{path}: anthropic does not offer an embeddings API")), "{message}");
    }
    assert!(a.hits().is_empty() && b.hits().is_empty());
    let logs = gw.logs().await;
    assert_eq!((logs.len(), logs[0].status), (1, 400));
}

#[tokio::test]
async fn chat_through_the_same_config_still_reaches_anthropic() {
    let (gw, ant, oai, az) = (gateway().await, mock("ant").await, mock("oai").await, mock("az").await);
    let mut config = cookbook(&ant, &oai, &az);
    config["targets"][1]["weight"] = json!(0);
    let answer = gw.chat(&config, &chat_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(ant.hits().len(), 1);
}

#[tokio::test]
async fn a_virtual_keys_provider_decides_whether_it_can_serve() {
    let (gw, ant, oai) = (gateway().await, mock("ant").await, mock("oai").await);
    let anthropic = json!({"name": "anthropic", "provider": "anthropic", "key": "sk-ant-0000000000000001",
        "custom_host": format!("{}/v1", ant.base_url())});
    let anthropic = create_virtual_key(&gw, anthropic).await;
    let openai = openai_key(&gw, &oai, "sk-test-0000000000000002").await;
    let config = json!({"strategy": {"mode": "fallback"},
        "targets": [{"virtual_key": anthropic}, {"virtual_key": openai}]});
    let answer = embed(&gw, &config).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(ant.hits().is_empty());
    assert_eq!(oai.hits().len(), 1);
    let logs = gw.logs().await;
    let skipped = &attempts_json(&logs[0])[0];
    assert_eq!(
        (skipped["state"].as_str(), skipped["target_path"].as_str()),
        (Some("unsupported"), Some("config.targets[0]"))
    );
}
