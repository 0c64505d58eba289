//! OpenAI's Responses API through the real app: passed through to OpenAI and Azure targets,
//! translated through chat for Anthropic and the chat-only providers, both halves of the
//! cookbook's config, fallback before the first byte, the semantic stream events (and the
//! recorded stream replayed by the mock), broken streams ending in `response.failed`, and
//! conversation state refused where it cannot be kept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

fn body() -> Value {
    json!({"model": "gpt-4o-mini", "instructions": "You are a very helpful assistant.",
        "input": "What are 7 wonders in the world?", "max_output_tokens": 200})
}

fn streamed() -> Value {
    let mut body = body();
    body["stream"] = json!(true);
    body
}

async fn respond(gw: &Gateway, config: &Value, body: &Value) -> Answer {
    let headers = [("x-portkey-api-key", ADMIN_KEY.to_string()), ("x-portkey-config", config.to_string())];
    gw.post("/v1/responses", &headers, body.to_string()).await
}

fn text_of(events: &[(String, Value)]) -> String {
    let deltas = events.iter().filter(|(n, _)| n == "response.output_text.delta");
    deltas.filter_map(|(_, d)| d["delta"].as_str()).collect()
}

fn output_text(response: &Value) -> String {
    let items = response["output"].as_array().cloned().unwrap_or_default();
    let parts = items
        .iter()
        .filter(|i| i["type"] == "message")
        .flat_map(|i| i["content"].as_array().cloned().unwrap_or_default());
    parts.filter_map(|p| p["text"].as_str().map(str::to_string)).collect()
}

#[tokio::test]
async fn an_openai_target_gets_the_request_as_it_is() {
    let (gw, oai) = (gateway().await, mock("oai").await);
    let answer = respond(&gw, &target("openai", &oai), &body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["object"], "response");
    assert_eq!(output_text(&answer.json()), "Hello from oai serving gpt-4o-mini");
    let hit = &oai.hits()[0];
    assert_eq!(hit["path"], "/v1/responses");
    assert_eq!(hit["body"], body());
    let logs = gw.logs().await;
    assert!(logs[0].total_tokens.unwrap_or(0) > 0, "{:?}", logs[0]);
}

#[tokio::test]
async fn an_azure_target_gets_its_responses_path_with_the_deployment_as_model() {
    let (gw, az) = (gateway().await, mock("az").await);
    let answer = respond(&gw, &target("azure-openai", &az), &body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let hit = &az.hits()[0];
    assert_eq!(hit["path"], "/openai/responses");
    assert_eq!(hit["query"], "api-version=2024-02-01");
    assert_eq!(hit["body"]["model"], "gpt35");
    assert_eq!(output_text(&answer.json()), "Hello from az serving gpt35");
}

#[tokio::test]
async fn an_anthropic_target_is_translated_and_says_what_it_ignored() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    let mut request = body();
    request["reasoning"] = json!({"effort": "low"});
    request["metadata"] = json!({"ticket": "T-1"});
    let answer = respond(&gw, &target("anthropic", &ant), &request).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let response = answer.json();
    assert_eq!((response["object"].as_str(), response["status"].as_str()), (Some("response"), Some("completed")));
    assert_eq!(output_text(&response), "Hello from ant serving claude-3-opus-20240229");
    assert_eq!(response["metadata"], json!({"ticket": "T-1"}));
    let usage = &response["usage"];
    assert_eq!(
        usage["total_tokens"],
        json!(usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap())
    );
    assert_eq!(answer.header("x-switchboard-ignored-params"), Some("reasoning.effort"));
    let hit = &ant.hits()[0];
    assert_eq!(hit["path"], "/v1/messages");
    assert_eq!(hit["body"]["system"], json!([{"type": "text", "text": "You are a very helpful assistant."}]));
    assert_eq!(hit["body"]["messages"][0]["role"], "user");
    assert_eq!(hit["body"]["max_tokens"], 200);
}

#[tokio::test]
async fn a_chat_only_provider_is_sent_chat() {
    let (gw, groq) = (gateway().await, mock("groq").await);
    let mut request = body();
    request["tools"] = json!([{"type": "function", "name": "get_weather", "parameters": {"type": "object",
        "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    request["tool_choice"] = json!({"type": "function", "name": "get_weather"});
    let answer = respond(&gw, &target("groq", &groq), &request).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let item = &answer.json()["output"][0];
    assert_eq!((item["type"].as_str(), item["name"].as_str()), (Some("function_call"), Some("get_weather")));
    assert!(serde_json::from_str::<Value>(item["arguments"].as_str().unwrap()).is_ok());
    let hit = &groq.hits()[0];
    assert_eq!(hit["path"], "/v1/chat/completions");
    assert_eq!(hit["body"]["max_tokens"], 200);
    assert_eq!(hit["body"]["tool_choice"], json!({"type": "function", "function": {"name": "get_weather"}}));
}

#[tokio::test]
async fn both_halves_of_the_cookbook_config_serve_responses() {
    let (gw, ant, oai, az) = (gateway().await, mock("ant").await, mock("oai").await, mock("az").await);
    let config = cookbook(&ant, &oai, &az);
    for _ in 0..40 {
        let answer = respond(&gw, &config, &body()).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.json()["object"], "response");
    }
    let (a, o) = (ant.hits().len(), oai.hits().len());
    assert_eq!(a + o, 40);
    assert!(a > 0 && o > 0, "both halves served: anthropic {a}, openai {o}");
}

#[tokio::test]
async fn a_failing_target_falls_back_before_the_first_byte_plain_and_streamed() {
    let (gw, oai, ant) = (gateway().await, mock("oai").await, mock("ant").await);
    oai.script(Script { status: Some(503), count: -1, ..Script::default() });
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [target("openai", &oai), target("anthropic", &ant)]});
    let plain = respond(&gw, &config, &body()).await;
    assert_eq!(plain.status, 200, "{}", plain.text);
    assert_eq!(plain.header("x-portkey-last-used-option-index"), Some("config.targets[1]"));
    let stream = respond(&gw, &config, &streamed()).await;
    let events = named_events(&stream.text);
    assert_eq!(events.last().map(|(n, _)| n.as_str()), Some("response.completed"), "{}", stream.text);
    assert_eq!(text_of(&events), "Hello from ant serving claude-3-opus-20240229");
}

#[tokio::test]
async fn a_translated_stream_is_the_semantic_event_sequence() {
    let (gw, ant) = (gateway().await, mock("ant").await);
    let answer = respond(&gw, &target("anthropic", &ant), &streamed()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let events = named_events(&answer.text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..4],
        ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
    );
    assert_eq!(
        &names[names.len() - 4..],
        ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]
    );
    let numbers: Vec<u64> = events.iter().map(|(_, d)| d["sequence_number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>());
    assert!(events.iter().all(|(name, data)| data["type"] == json!(name)));
    assert_eq!(text_of(&events), "Hello from ant serving claude-3-opus-20240229");
    let done = &events.last().unwrap().1["response"];
    assert_eq!(output_text(done), "Hello from ant serving claude-3-opus-20240229");
    assert!(done["usage"]["output_tokens"].as_u64().unwrap() > 0, "{done}");
    let logs = gw.logs().await;
    assert!(logs[0].total_tokens.unwrap_or(0) > 0, "{:?}", logs[0]);
}

#[tokio::test]
async fn a_passed_through_stream_is_relayed_and_ends_cleanly() {
    let (gw, oai) = (gateway().await, mock("oai").await);
    let answer = respond(&gw, &target("openai", &oai), &streamed()).await;
    let events = named_events(&answer.text);
    assert_eq!(events.last().map(|(n, _)| n.as_str()), Some("response.completed"), "{}", answer.text);
    assert_eq!(text_of(&events), "Hello from oai serving gpt-4o-mini");
    let logs = gw.logs().await;
    assert_eq!(logs[0].status, 200);
    assert!(logs[0].total_tokens.unwrap_or(0) > 0, "{:?}", logs[0]);
}

#[tokio::test]
async fn the_recorded_tool_call_stream_replayed_by_the_mock_becomes_the_recorded_events() {
    let (gw, groq) = (gateway().await, mock("groq").await);
    let read = |name: &str| {
        std::fs::read_to_string(format!("{}/../../fixtures/openai/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let events: Vec<String> =
        read("chat_stream_tool_calls.upstream.sse").split_inclusive("\n\n").map(str::to_string).collect();
    groq.script(Script { events: Some(events), ..Script::default() });
    let request = json!({"model": "gpt-4o-mini", "input": "Say hello", "stream": true});
    let answer = respond(&gw, &target("groq", &groq), &request).await;
    let strip = |mut v: Value| {
        if let Some(r) = v.pointer_mut("/data/response") {
            r["created_at"] = Value::Null;
        }
        v
    };
    let got: Vec<Value> =
        named_events(&answer.text).into_iter().map(|(n, d)| strip(json!({"event": n, "data": d}))).collect();
    let expected: Vec<Value> = read("responses_stream_tool_calls.client.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| strip(serde_json::from_str(l).unwrap()))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_broken_stream_ends_with_response_failed_from_either_kind_of_target() {
    for provider in ["anthropic", "openai"] {
        let (gw, m) = (gateway().await, mock(provider).await);
        m.script(Script { cut_after: Some(4), ..Script::default() });
        let answer = respond(&gw, &target(provider, &m), &streamed()).await;
        let events = named_events(&answer.text);
        let (name, data) = events.last().unwrap();
        assert_eq!(name, "response.failed", "{provider}: {}", answer.text);
        assert_eq!(data["response"]["status"], "failed");
        assert!(data["response"]["error"]["message"].as_str().unwrap().contains("broke off"), "{provider}: {data}");
        let numbers: Vec<u64> = events.iter().map(|(_, d)| d["sequence_number"].as_u64().unwrap()).collect();
        assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>(), "{provider}");
        let logs = gw.logs().await;
        assert_eq!(logs[0].status, 502, "{provider}");
    }
}

#[tokio::test]
async fn conversation_state_goes_only_where_it_can_be_kept() {
    let (gw, ant, oai) = (gateway().await, mock("ant").await, mock("oai").await);
    let mut request = body();
    request["previous_response_id"] = json!("resp_abc");
    let config =
        json!({"strategy": {"mode": "fallback"}, "targets": [target("anthropic", &ant), target("openai", &oai)]});
    let served = respond(&gw, &config, &request).await;
    assert_eq!(served.status, 200, "{}", served.text);
    assert_eq!(oai.hits()[0]["body"]["previous_response_id"], "resp_abc");
    assert!(ant.hits().is_empty());
    let refused = respond(&gw, &target("anthropic", &ant), &request).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    let message = refused.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("config: previous_response_id: the gateway keeps no conversation state"), "{message}");
    let mut stored = body();
    stored["store"] = json!(true);
    let refused = respond(&gw, &target("groq", &oai), &stored).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
}

#[tokio::test]
async fn the_recorded_stream_that_stops_short_ends_with_response_failed() {
    let (gw, groq) = (gateway().await, mock("groq").await);
    let path = format!("{}/../../fixtures/openai/chat_stream_broken.upstream.sse", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(path).unwrap();
    groq.script(Script {
        events: Some(raw.split_inclusive("\n\n").map(str::to_string).collect()),
        ..Script::default()
    });
    let answer = respond(&gw, &target("groq", &groq), &streamed()).await;
    let events = named_events(&answer.text);
    assert_eq!(text_of(&events), "Hello there");
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "response.failed", "{}", answer.text);
    assert_eq!(data["response"]["error"]["code"], "upstream_stream_incomplete");
    assert_eq!(output_text(&data["response"]), "Hello there", "what was said before the break is kept");
    let logs = gw.logs().await;
    assert_eq!(logs[0].status, 502);
}

#[tokio::test]
async fn a_targets_override_params_apply_to_the_chat_request_it_is_sent() {
    // The cookbook's Anthropic target sets max_tokens (a chat field) in override_params; a Responses
    // request without max_output_tokens must still reach Anthropic with it.
    let (gw, ant) = (gateway().await, mock("ant").await);
    let request = json!({"model": "gpt-4o-mini", "input": "Say hello"});
    let answer = respond(&gw, &target("anthropic", &ant), &request).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let hit = &ant.hits()[0];
    assert_eq!(
        (hit["body"]["max_tokens"].as_u64(), hit["body"]["model"].as_str()),
        (Some(200), Some("claude-3-opus-20240229"))
    );
    assert_eq!(answer.json()["model"], "claude-3-opus-20240229");
}
