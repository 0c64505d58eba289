//! Provider translation through the real app: Anthropic both ways (the mock rejects what the
//! real API rejects), Azure's URL and auth, and errors normalised to OpenAI's shape.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn anthropic_request_and_response_are_translated() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    let answer = gw.chat(&target("anthropic", &ant), &chat_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["finish_reason"], "stop", "never Anthropic's raw end_turn");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from ant serving claude-3-opus-20240229");
    let usage = &body["usage"];
    assert_eq!(
        usage["total_tokens"],
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    let hit = &ant.hits()[0];
    assert_eq!(hit["path"], "/v1/messages");
    assert_eq!(hit["headers"]["x-api-key"], "key-anthropic");
    assert_eq!(hit["headers"]["anthropic-version"], "2023-06-01");
    assert_eq!(hit["body"]["system"], json!([{"type": "text", "text": "You are a very helpful assistant."}]));
    assert_eq!(hit["body"]["max_tokens"], 200);
    assert_eq!(
        hit["body"]["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "What are 7 wonders in the world?"}]}])
    );
}

#[tokio::test]
async fn anthropic_without_max_tokens_is_refused_before_calling() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    let mut cfg = target("anthropic", &ant);
    cfg["override_params"] = json!({"model": "claude-3-haiku"});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let msg = answer.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.starts_with("config (anthropic): max_tokens is required"), "{msg}");
    assert!(ant.hits().is_empty());
}

#[tokio::test]
async fn anthropic_default_max_tokens_setting_fills_it_in() {
    let ant = mock("ant").await;
    let gw =
        gateway_with(switchboard::settings::Settings { anthropic_default_max_tokens: Some(512), ..settings() }).await;
    let mut cfg = target("anthropic", &ant);
    cfg["override_params"] = json!({"model": "claude-3-haiku"});
    assert_eq!(gw.chat(&cfg, &chat_body()).await.status, 200);
    assert_eq!(ant.hits()[0]["body"]["max_tokens"], 512);
}

#[tokio::test]
async fn anthropic_tool_calls_come_back_as_openai_tool_calls() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    let mut body = chat_body();
    body["tools"] = json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    body["tool_choice"] = json!("auto");
    let answer = gw.chat(&target("anthropic", &ant), &body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let choice = &answer.json()["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["tool_calls"][0]["function"]["name"], "get_weather");
    assert!(choice["message"]["tool_calls"][0]["function"]["arguments"].is_string());
    let sent = &ant.hits()[0]["body"];
    assert_eq!(sent["tools"][0]["name"], "get_weather");
    assert_eq!(sent["tool_choice"], json!({"type": "auto"}));
}

#[tokio::test]
async fn anthropic_errors_are_openai_shaped_and_name_the_provider() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    ant.script(Script { status: Some(529), count: -1, ..Script::default() });
    let answer = gw.chat(&target("anthropic", &ant), &chat_body()).await;
    assert_eq!(answer.status, 529);
    let err = &answer.json()["error"];
    assert!(err["message"].as_str().unwrap().contains("anthropic"), "{err}");
    assert!(err["type"].is_string());
}

#[tokio::test]
async fn azure_needs_its_deployment_url_api_key_and_version() {
    let (gw, az) = (gateway().await, mock("az").await);
    let answer = gw.chat(&target("azure-openai", &az), &chat_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let hit = &az.hits()[0];
    assert_eq!(hit["path"], "/openai/deployments/gpt35/chat/completions");
    assert!(hit["headers"].get("authorization").is_none());
}

#[tokio::test]
async fn anyscale_and_table_providers_use_openai_wire() {
    let (gw, any) = (gateway().await, mock("any").await);
    let mut cfg = target("anyscale", &any);
    cfg["override_params"] = json!({"model": "meta-llama/Llama-2-70b-chat-hf"});
    let answer = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["model"], "meta-llama/Llama-2-70b-chat-hf");
    for provider in ["groq", "together-ai", "mistral-ai", "fireworks-ai", "deepseek", "openrouter", "x-ai", "ollama"] {
        assert_eq!(gw.chat(&target(provider, &any), &chat_body()).await.status, 200, "{provider}");
    }
}

#[tokio::test]
async fn models_list_comes_from_the_first_target() {
    let (gw, a) = (gateway().await, mock("a").await);
    let headers =
        vec![("x-portkey-api-key", ADMIN_KEY.to_string()), ("x-portkey-config", target("openai", &a).to_string())];
    let answer = gw.get("/v1/models", &headers).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["object"], "list");
}
