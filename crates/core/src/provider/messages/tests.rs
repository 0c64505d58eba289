//! Golden tests of the Messages <-> Chat translation, replaying `fixtures/openai/messages_*`.

use serde_json::{json, Value};

use super::*;
use crate::provider::CodecError;
use crate::sse::SseDecoder;

pub(crate) fn bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/openai/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {path}: {e}"))
}

pub(crate) fn fixture(name: &str) -> Value {
    serde_json::from_slice(&bytes(name)).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

pub(crate) fn jsonl(name: &str) -> Vec<Value> {
    let text = String::from_utf8_lossy(&bytes(name)).into_owned();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap_or_default()).collect()
}

/// The chat chunks of a recorded chat stream, and whether it ended with `[DONE]`.
pub(crate) fn chat_chunks(name: &str) -> (Vec<Value>, bool) {
    let mut decoder = SseDecoder::new();
    let mut events = decoder.push(&bytes(name));
    events.extend(decoder.finish());
    let done = events.iter().any(|e| e.data == "[DONE]");
    let chunks = events.iter().filter_map(|e| serde_json::from_str(&e.data).ok()).collect();
    (chunks, done)
}

#[test]
fn golden_request_becomes_the_recorded_chat_request() {
    let request = fixture("messages_tools.request.json");
    let got = to_chat(request.as_object().unwrap_or(&Default::default())).map(Value::Object);
    assert_eq!(got, Ok(fixture("messages_tools.upstream_request.json")));
}

#[test]
fn golden_chat_answers_become_recorded_messages() {
    for case in ["text", "tool_use"] {
        let got = from_chat(&fixture(&format!("chat_{case}.upstream.json")));
        assert_eq!(got, Ok(fixture(&format!("messages_{case}.response.json"))), "case {case}");
    }
}

#[test]
fn golden_chat_streams_become_recorded_message_events() {
    for (upstream, client) in
        [("chat_stream_text", "messages_stream_text"), ("chat_stream_tool_calls", "messages_stream_tool_calls")]
    {
        let (chunks, done) = chat_chunks(&format!("{upstream}.upstream.sse"));
        assert!(done, "{upstream} ends with [DONE]");
        let mut stream = MessagesStream::new();
        let mut events: Vec<Event> = chunks.iter().flat_map(|c| stream.on_chunk(c)).collect();
        events.extend(stream.finish());
        let got: Vec<Value> = events.into_iter().map(|e| json!({"event": e.name, "data": e.data})).collect();
        assert_eq!(got, jsonl(&format!("{client}.client.jsonl")), "case {upstream}");
    }
}

#[test]
fn a_stream_finishes_once() {
    let mut stream = MessagesStream::new();
    assert_eq!(stream.finish().len(), 3, "message_start, message_delta, message_stop");
    assert!(stream.finish().is_empty());
}

#[test]
fn stop_reasons_map_from_finish_reasons() {
    let cases = [
        (Some("stop"), "end_turn"),
        (Some("length"), "max_tokens"),
        (Some("tool_calls"), "tool_use"),
        (Some("content_filter"), "refusal"),
        (None, "end_turn"),
    ];
    for (finish, expected) in cases {
        assert_eq!(stop_reason(finish), expected, "{finish:?}");
    }
}

#[test]
fn a_string_system_and_string_content_pass_as_text() {
    let body = json!({"model": "m", "max_tokens": 5, "system": "Be brief.", "stream": true,
        "messages": [{"role": "user", "content": "Hi"}]});
    let got = to_chat(body.as_object().unwrap_or(&Default::default())).map(Value::Object);
    let expected = json!({"model": "m", "messages": [{"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"}], "max_tokens": 5, "stream": true, "stream_options": {"include_usage": true}});
    assert_eq!(got, Ok(expected));
}

#[test]
fn a_block_chat_cannot_carry_is_refused_with_its_place() {
    let body = json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "read this"}, {"type": "document", "source": {}}]}]});
    let got = to_chat(body.as_object().unwrap_or(&Default::default()));
    let why = "messages[0]: content[1]: a \"document\" block cannot be sent to this target";
    assert_eq!(got, Err(CodecError::InvalidRequest(why.into())));
}

#[test]
fn openai_errors_take_anthropics_shape() {
    let rate = json!({"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}});
    assert_eq!(
        error_body(429, &rate),
        json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
    );
    let translated = json!({"error": {"message": "anthropic error: Overloaded", "type": "server_error",
        "code": "overloaded_error"}});
    assert_eq!(error_body(529, &translated)["error"]["type"], "overloaded_error");
    assert_eq!(error_body(400, &json!({}))["error"]["type"], "invalid_request_error");
}
