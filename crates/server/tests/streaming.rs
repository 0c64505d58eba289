//! Streams through the real app: relayed event by event, Anthropic translated to OpenAI
//! chunks, fallback before the first byte, and a cut stream ending in an error event.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

fn stream_body() -> Value {
    let mut body = chat_body();
    body["stream"] = json!(true);
    body
}

/// The concatenated `delta.content` of the chunks.
fn content(events: &[String]) -> String {
    events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn openai_stream_is_relayed_with_done() {
    let (gw, a) = (gateway().await, mock("a").await);
    let answer = gw.chat(&target("openai", &a), &stream_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    let events = answer.events();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    assert_eq!(content(&events), "Hello from a serving gpt-3.5-turbo");
}

#[tokio::test]
async fn anthropic_stream_becomes_openai_chunks_with_usage() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    let mut body = stream_body();
    body["stream_options"] = json!({"include_usage": true});
    let answer = gw.chat(&target("anthropic", &ant), &body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let events = answer.events();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    assert_eq!(content(&events), "Hello from ant serving claude-3-opus-20240229");
    let chunks: Vec<Value> = events.iter().filter_map(|e| serde_json::from_str(e).ok()).collect();
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk"));
    let finish: Vec<_> = chunks.iter().filter_map(|c| c["choices"][0]["finish_reason"].as_str()).collect();
    assert_eq!(finish, ["stop"]);
    assert!(chunks.last().unwrap()["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(ant.hits()[0]["body"]["stream"], true);
}

#[tokio::test]
async fn stream_falls_back_before_first_byte() {
    let (gw, a, b) = (gateway().await, mock("a").await, mock("b").await);
    a.script(Script { status: Some(503), count: -1, ..Script::default() });
    let cfg = json!({"strategy": {"mode": "fallback"}, "targets": [target("openai", &a), target("anthropic", &b)]});
    let answer = gw.chat(&cfg, &stream_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("x-portkey-last-used-option-index"), Some("config.targets[1]"));
    assert_eq!(content(&answer.events()), "Hello from b serving claude-3-opus-20240229");
}

#[tokio::test]
async fn cut_stream_ends_with_error_event_not_silently() {
    let (gw, a) = (gateway().await, mock("a").await);
    a.script(Script { cut_after: Some(3), ..Script::default() });
    let answer = gw.chat(&target("openai", &a), &stream_body()).await;
    assert_eq!(answer.status, 200);
    let events = answer.events();
    assert!(!events.iter().any(|e| e == "[DONE]"), "{events:?}");
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["error"]["type"], "api_error", "{last}");
    assert!(last["error"]["message"].as_str().unwrap().starts_with("openai:"));
}

#[tokio::test]
async fn cut_anthropic_stream_ends_with_error_event() {
    let (gw, a) = (gateway().await, mock("a").await);
    a.script(Script { cut_after: Some(4), ..Script::default() });
    let answer = gw.chat(&target("anthropic", &a), &stream_body()).await;
    let events = answer.events();
    assert!(!events.iter().any(|e| e == "[DONE]"), "{events:?}");
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert!(last["error"]["message"].is_string(), "{last}");
}

#[tokio::test]
async fn slow_stream_is_not_cut_by_request_timeout_once_started() {
    let (gw, a) = (gateway().await, mock("a").await);
    a.script(Script { chunk_delay_ms: 40, ..Script::default() });
    let mut cfg = target("openai", &a);
    cfg["request_timeout"] = json!(100);
    let answer = gw.chat(&cfg, &stream_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.events().last().map(String::as_str), Some("[DONE]"));
}

#[tokio::test]
async fn a_completions_stream_through_anthropic_is_text_completion_chunks() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    let headers =
        [("x-portkey-api-key", ADMIN_KEY.to_string()), ("x-portkey-config", target("anthropic", &ant).to_string())];
    let body = json!({"model": "claude", "prompt": "Say hello", "stream": true,
        "stream_options": {"include_usage": true}});
    let answer = gw.post("/v1/completions", &headers, body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let events = answer.events();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = events.iter().filter_map(|e| serde_json::from_str(e).ok()).collect();
    assert!(chunks.iter().all(|c| c["object"] == "text_completion"), "{chunks:?}");
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["text"].as_str()).collect();
    assert_eq!(text, "Hello from ant serving claude-3-opus-20240229");
    let finish: Vec<_> = chunks.iter().filter_map(|c| c["choices"][0]["finish_reason"].as_str()).collect();
    assert_eq!(finish, ["stop"]);
    assert!(chunks.last().unwrap()["usage"]["total_tokens"].as_u64().unwrap() > 0);
    let logs = gw.logs().await;
    assert!(logs[0].total_tokens.unwrap_or(0) > 0, "the log counts the stream's tokens: {:?}", logs[0]);
}
