//! Anthropic's Messages API through the real app: passed through to Anthropic targets,
//! translated through chat for OpenAI-family ones, both halves of the cookbook's config,
//! fallback before the first byte, streams (event by event, and replayed from the recorded
//! fixtures by the mock), broken streams ending in Anthropic's `error` event, errors in
//! Anthropic's shape, and `count_tokens` passed through.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

fn messages_body() -> Value {
    json!({"model": "claude-3-5-sonnet-20241022", "max_tokens": 256, "system": "You are a very helpful assistant.",
        "messages": [{"role": "user", "content": "What are 7 wonders in the world?"}]})
}

fn stream_body() -> Value {
    let mut body = messages_body();
    body["stream"] = json!(true);
    body
}

/// The Anthropic SDK's way: the Switchboard key in `x-api-key`, `anthropic-version`.
async fn messages(gw: &Gateway, config: &Value, body: &Value) -> Answer {
    let headers = [
        ("x-api-key", ADMIN_KEY.to_string()),
        ("anthropic-version", "2023-06-01".to_string()),
        ("x-portkey-config", config.to_string()),
    ];
    gw.post("/v1/messages", &headers, body.to_string()).await
}

/// `(event name, data)` of each event of an SSE body.
fn text_of(events: &[(String, Value)]) -> String {
    events.iter().filter_map(|(_, d)| d.pointer("/delta/text").and_then(Value::as_str)).collect()
}

fn fixture(name: &str) -> String {
    let path = format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn an_anthropic_target_gets_the_request_as_it_is_and_its_answer_passes_through() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    let answer = messages(&gw, &target("anthropic", &ant), &messages_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let message = answer.json();
    assert_eq!((message["type"].as_str(), message["role"].as_str()), (Some("message"), Some("assistant")));
    assert_eq!(message["content"][0]["text"], "Hello from ant serving claude-3-opus-20240229");
    let hit = &ant.hits()[0];
    assert_eq!(hit["path"], "/v1/messages");
    assert_eq!(hit["headers"]["x-api-key"], "key-anthropic", "the target's key, not the Switchboard key");
    assert_eq!(hit["headers"]["anthropic-version"], "2023-06-01");
    assert_eq!(hit["body"]["system"], "You are a very helpful assistant.");
    assert_eq!(hit["body"]["max_tokens"], 200, "the target's override_params still apply");
    let logs = gw.logs().await;
    assert!(logs[0].total_tokens.unwrap_or(0) > 0, "{:?}", logs[0]);
}

#[tokio::test]
async fn an_openai_target_is_sent_chat_and_answers_a_message() {
    let (gw, oai) = (gateway().await, mock("oai").await);
    let answer = messages(&gw, &target("openai", &oai), &messages_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let message = answer.json();
    assert_eq!(message["type"], "message");
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "Hello from oai serving claude-3-5-sonnet-20241022"}])
    );
    assert_eq!(message["stop_reason"], "end_turn");
    assert!(message["usage"]["output_tokens"].as_u64().unwrap() > 0);
    let hit = &oai.hits()[0];
    assert_eq!(hit["path"], "/v1/chat/completions");
    assert_eq!(hit["body"]["messages"][0], json!({"role": "system", "content": "You are a very helpful assistant."}));
    assert_eq!(hit["body"]["max_tokens"], 256);
    let logs = gw.logs().await;
    assert!(logs[0].total_tokens.unwrap_or(0) > 0, "{:?}", logs[0]);
}

#[tokio::test]
async fn tools_round_trip_through_an_openai_target() {
    let (gw, oai) = (gateway().await, mock("oai").await);
    let mut body = messages_body();
    body["tools"] = json!([{"name": "get_weather", "description": "Weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    body["tool_choice"] = json!({"type": "tool", "name": "get_weather"});
    let answer = messages(&gw, &target("openai", &oai), &body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let message = answer.json();
    assert_eq!(message["stop_reason"], "tool_use");
    assert_eq!(message["content"][0]["type"], "tool_use");
    assert_eq!(message["content"][0]["name"], "get_weather");
    assert!(message["content"][0]["input"].is_object());
    assert_eq!(oai.hits()[0]["body"]["tool_choice"], json!({"type": "function", "function": {"name": "get_weather"}}));
}

#[tokio::test]
async fn both_halves_of_the_cookbook_config_serve_messages() {
    let (gw, ant, oai, az) = (gateway().await, mock("ant").await, mock("oai").await, mock("az").await);
    let config = cookbook(&ant, &oai, &az);
    for _ in 0..40 {
        let answer = messages(&gw, &config, &messages_body()).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.json()["type"], "message");
    }
    let (a, o) = (ant.hits().len(), oai.hits().len());
    assert_eq!(a + o, 40);
    assert!(a > 0 && o > 0, "both halves served: anthropic {a}, openai {o}");
}

#[tokio::test]
async fn a_failing_target_falls_back_before_the_first_byte_plain_and_streamed() {
    let (gw, oai, az) = (gateway().await, mock("oai").await, mock("az").await);
    oai.script(Script { status: Some(503), count: -1, ..Script::default() });
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [target("openai", &oai), target("azure-openai", &az)]});
    let plain = messages(&gw, &config, &messages_body()).await;
    assert_eq!(plain.status, 200, "{}", plain.text);
    assert_eq!(plain.header("x-portkey-last-used-option-index"), Some("config.targets[1]"));
    let streamed = messages(&gw, &config, &stream_body()).await;
    let events = named_events(&streamed.text);
    assert_eq!(events.last().map(|(n, _)| n.as_str()), Some("message_stop"), "{}", streamed.text);
    assert_eq!(text_of(&events), "Hello from az serving claude-3-5-sonnet-20241022");
    assert_eq!(az.hits()[1]["path"], "/openai/deployments/gpt35/chat/completions");
}

#[tokio::test]
async fn a_stream_from_an_openai_target_is_the_messages_event_sequence() {
    let (gw, oai) = (gateway().await, mock("oai").await);
    let answer = messages(&gw, &target("openai", &oai), &stream_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    let events = named_events(&answer.text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(&names[names.len() - 3..], ["content_block_stop", "message_delta", "message_stop"]);
    assert!(events.iter().all(|(name, data)| data["type"] == json!(name)), "each event's data names it");
    assert_eq!(text_of(&events), "Hello from oai serving claude-3-5-sonnet-20241022");
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert!(delta["usage"]["output_tokens"].as_u64().unwrap() > 0, "usage was asked of chat: {delta}");
    assert_eq!(oai.hits()[0]["body"]["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn the_recorded_tool_call_stream_replayed_by_the_mock_becomes_the_recorded_events() {
    let (gw, oai) = (gateway().await, mock("oai").await);
    let raw = fixture("openai/chat_stream_tool_calls.upstream.sse");
    let events: Vec<String> = raw.split_inclusive("\n\n").map(str::to_string).collect();
    oai.script(Script { events: Some(events), ..Script::default() });
    let answer = messages(&gw, &target("openai", &oai), &stream_body()).await;
    let got: Vec<Value> = named_events(&answer.text).into_iter().map(|(n, d)| json!({"event": n, "data": d})).collect();
    let expected: Vec<Value> = fixture("openai/messages_stream_tool_calls.client.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn an_anthropic_stream_is_relayed_event_by_event() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    let answer = messages(&gw, &target("anthropic", &ant), &stream_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let events = named_events(&answer.text);
    assert_eq!(events.first().map(|(n, _)| n.as_str()), Some("message_start"));
    assert_eq!(events.last().map(|(n, _)| n.as_str()), Some("message_stop"));
    assert_eq!(text_of(&events), "Hello from ant serving claude-3-opus-20240229");
    let logs = gw.logs().await;
    assert_eq!(logs[0].status, 200);
    assert!(logs[0].total_tokens.unwrap_or(0) > 0, "{:?}", logs[0]);
}

#[tokio::test]
async fn a_broken_stream_ends_with_anthropics_error_event_from_either_kind_of_target() {
    for provider in ["openai", "anthropic"] {
        let (gw, m) = (gateway().await, mock(provider).await);
        m.script(Script { cut_after: Some(3), ..Script::default() });
        let answer = messages(&gw, &target(provider, &m), &stream_body()).await;
        let events = named_events(&answer.text);
        let (name, data) = events.last().unwrap();
        assert_eq!(name, "error", "{provider}: {}", answer.text);
        assert_eq!(data["type"], "error");
        assert!(data["error"]["message"].as_str().unwrap().contains("broke off"), "{provider}: {data}");
        assert!(!events.iter().any(|(n, _)| n == "message_stop"), "{provider}");
        let logs = gw.logs().await;
        assert_eq!(logs[0].status, 502, "{provider}");
    }
}

#[tokio::test]
async fn errors_leave_in_anthropics_shape() {
    let (gw, oai) = (gateway().await, mock("oai").await);
    let headers = [("x-api-key", ADMIN_KEY.to_string()), ("anthropic-version", "2023-06-01".to_string())];
    let no_route = gw.post("/v1/messages", &headers, messages_body().to_string()).await;
    assert_eq!(no_route.status, 400);
    assert_eq!(no_route.json()["type"], "error");
    assert_eq!(no_route.json()["error"]["type"], "invalid_request_error");
    oai.script(Script { status: Some(429), count: -1, ..Script::default() });
    let limited = messages(&gw, &target("openai", &oai), &messages_body()).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"]["type"], "rate_limit_error", "{}", limited.text);
    let unauthorized = gw.post("/v1/messages", &[("x-api-key", "wrong".to_string())], "{}").await;
    assert_eq!(
        (unauthorized.status, unauthorized.json()["error"]["type"].as_str()),
        (401, Some("authentication_error"))
    );
}

#[tokio::test]
async fn count_tokens_passes_through_to_anthropic_and_is_refused_elsewhere() {
    let (gw, ant, oai) = (gateway().await, mock("ant").await, mock("oai").await);
    let headers = |config: &Value| {
        vec![
            ("x-api-key", ADMIN_KEY.to_string()),
            ("anthropic-version", "2023-06-01".to_string()),
            ("x-portkey-config", config.to_string()),
        ]
    };
    let body =
        json!({"model": "claude-3-5-sonnet-20241022", "messages": [{"role": "user", "content": "one two three"}]});
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [target("openai", &oai), target("anthropic", &ant)]});
    let counted = gw.post("/v1/messages/count_tokens", &headers(&config), body.to_string()).await;
    assert_eq!(counted.status, 200, "{}", counted.text);
    assert!(counted.json()["input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(ant.hits()[0]["path"], "/v1/messages/count_tokens");
    assert!(oai.hits().is_empty(), "openai cannot count tokens and was skipped");
    let refused = gw.post("/v1/messages/count_tokens", &headers(&target("openai", &oai)), body.to_string()).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"]["type"], "invalid_request_error");
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("config: only anthropic counts tokens"));
}

#[tokio::test]
async fn the_recorded_stream_that_stops_short_ends_with_an_error_event() {
    let (gw, oai) = (gateway().await, mock("oai").await);
    let events: Vec<String> =
        fixture("openai/chat_stream_broken.upstream.sse").split_inclusive("\n\n").map(str::to_string).collect();
    oai.script(Script { events: Some(events), ..Script::default() });
    let answer = messages(&gw, &target("openai", &oai), &stream_body()).await;
    let events = named_events(&answer.text);
    assert_eq!(text_of(&events), "Hello there");
    let (name, data) = events.last().unwrap();
    assert_eq!((name.as_str(), data["error"]["type"].as_str()), ("error", Some("api_error")), "{}", answer.text);
    assert!(data["error"]["message"].as_str().unwrap().contains("ended before it was complete"), "{data}");
}

#[tokio::test]
async fn the_clients_anthropic_headers_reach_anthropic_unless_the_target_sets_its_own() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    let send = |config: Value| {
        let headers = vec![
            ("x-api-key", ADMIN_KEY.to_string()),
            ("anthropic-version", "2023-06-01".to_string()),
            ("anthropic-beta", "prompt-caching-2024-07-31".to_string()),
            ("x-portkey-config", config.to_string()),
        ];
        let gw = &gw;
        async move { gw.post("/v1/messages", &headers, messages_body().to_string()).await }
    };
    assert_eq!(send(target("anthropic", &ant)).await.status, 200);
    let mut own = target("anthropic", &ant);
    own["anthropic_beta"] = json!("tools-2024-04-04");
    assert_eq!(send(own).await.status, 200);
    let hits = ant.hits();
    assert_eq!(hits[0]["headers"]["anthropic-beta"], "prompt-caching-2024-07-31");
    assert_eq!(hits[1]["headers"]["anthropic-beta"], "tools-2024-04-04", "the target's own wins");
}
