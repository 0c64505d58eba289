//! Golden tests of the Responses <-> Chat translation, replaying `fixtures/openai/responses_*`
//! (and the chat answers and streams shared with the Messages translation).

use serde_json::{json, Map, Value};

use super::*;
use crate::provider::messages::tests::{chat_chunks, fixture, jsonl};
use crate::provider::CodecError;

fn object(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[test]
fn golden_request_becomes_the_recorded_chat_request() {
    let got = to_chat(&object(&fixture("responses_tools.request.json"))).map(Value::Object);
    assert_eq!(got, Ok(fixture("responses_tools.upstream_request.json")));
}

#[test]
fn golden_chat_answers_become_recorded_responses() {
    let request = object(&fixture("responses_text.request.json"));
    for case in ["text", "tool_use"] {
        let got = from_chat(&fixture(&format!("chat_{case}.upstream.json")), &request);
        assert_eq!(got, Ok(fixture(&format!("responses_{case}.response.json"))), "case {case}");
    }
}

#[test]
fn golden_chat_streams_become_recorded_semantic_events() {
    let request = object(&json!({"model": "gpt-4o-mini", "input": "Say hello", "stream": true}));
    for case in ["text", "tool_calls"] {
        let (chunks, _) = chat_chunks(&format!("chat_stream_{case}.upstream.sse"));
        let mut stream = ResponsesStream::new(request.clone(), 1_700_000_000);
        let mut events: Vec<_> = chunks.iter().flat_map(|c| stream.on_chunk(c)).collect();
        events.extend(stream.finish());
        let got: Vec<Value> = events.into_iter().map(|e| json!({"event": e.name, "data": e.data})).collect();
        assert_eq!(got, jsonl(&format!("responses_stream_{case}.client.jsonl")), "case {case}");
    }
}

#[test]
fn sequence_numbers_count_every_event_from_zero() {
    let (chunks, _) = chat_chunks("chat_stream_text.upstream.sse");
    let mut stream = ResponsesStream::new(Map::new(), 1);
    let mut events: Vec<_> = chunks.iter().flat_map(|c| stream.on_chunk(c)).collect();
    events.extend(stream.finish());
    let numbers: Vec<u64> = events.iter().filter_map(|e| e.data["sequence_number"].as_u64()).collect();
    assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>());
}

#[test]
fn a_broken_stream_fails_with_what_it_had() {
    let (chunks, _) = chat_chunks("chat_stream_text.upstream.sse");
    let mut stream = ResponsesStream::new(Map::new(), 1);
    let _: Vec<_> = chunks[..3].iter().flat_map(|c| stream.on_chunk(c)).collect();
    let failed = stream.failed("upstream_stream_broken", "the provider's stream broke off");
    assert_eq!(failed.len(), 1);
    let response = &failed[0].data["response"];
    assert_eq!((failed[0].name, response["status"].as_str()), ("response.failed", Some("failed")));
    assert_eq!(
        response["error"],
        json!({"code": "upstream_stream_broken", "message": "the provider's stream broke off"})
    );
    assert_eq!(response["output"][0]["content"][0]["text"], "Hello there");
    assert!(stream.finish().is_empty(), "a failed stream does not complete as well");
}

#[test]
fn conversation_state_is_refused_for_translated_targets() {
    for body in [json!({"input": "hi", "previous_response_id": "resp_1"}), json!({"input": "hi", "store": true})] {
        let why = needs_native(&object(&body));
        assert!(why.is_some_and(|w| w.contains("keeps no conversation state")), "{body}");
        assert!(matches!(to_chat(&object(&body)), Err(CodecError::InvalidRequest(_))));
    }
    assert_eq!(needs_native(&object(&json!({"input": "hi", "store": false}))), None);
}

#[test]
fn built_in_tools_cannot_be_translated() {
    let body = json!({"input": "hi", "tools": [{"type": "web_search_preview"}]});
    let why = "tools[0]: the built-in tool \"web_search_preview\" cannot be sent to this target";
    assert_eq!(to_chat(&object(&body)), Err(CodecError::InvalidRequest(why.into())));
}

#[test]
fn a_string_input_is_one_user_message_and_streams_ask_for_usage() {
    let body = json!({"model": "m", "input": "hi", "stream": true, "text": {"format": {"type": "json_object"}}});
    let got = to_chat(&object(&body)).map(Value::Object);
    let expected = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true,
        "stream_options": {"include_usage": true}, "response_format": {"type": "json_object"}});
    assert_eq!(got, Ok(expected));
}

#[test]
fn a_length_finish_is_an_incomplete_response() {
    let chat = json!({"id": "c", "created": 1, "model": "m", "choices": [{"index": 0,
        "message": {"role": "assistant", "content": "Hel"}, "finish_reason": "length"}]});
    let got = from_chat(&chat, &Map::new()).unwrap_or_default();
    assert_eq!(
        (got["status"].as_str(), &got["incomplete_details"]),
        (Some("incomplete"), &json!({"reason": "max_output_tokens"}))
    );
}

#[test]
fn a_recorded_anthropic_stream_becomes_a_complete_response_through_chat() {
    // The path a Responses stream to an Anthropic target takes: Anthropic's events -> chat chunks
    // (its codec) -> semantic events (this one), over fixtures/anthropic/stream_tool_use.upstream.sse.
    let path = format!("{}/../../fixtures/anthropic/stream_tool_use.upstream.sse", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_default();
    let mut decoder = crate::sse::SseDecoder::new();
    let mut events = decoder.push(&raw);
    events.extend(decoder.finish());
    let mut anthropic = crate::provider::anthropic::ChatStream::new(true, 1);
    let mut stream = ResponsesStream::new(Map::new(), 1);
    let mut out = Vec::new();
    for event in &events {
        let step = anthropic.on_event(event).unwrap_or_default();
        out.extend(step.chunks.iter().flat_map(|c| stream.on_chunk(c)));
        if step.done {
            out.extend(stream.finish());
        }
    }
    let last = out.last().map(|e| (e.name, e.data["response"].clone()));
    let Some(("response.completed", response)) = last else { panic!("ends with response.completed: {out:?}") };
    let call = |id: &str, city: &str| {
        json!({"type": "function_call", "id": format!("fc_{id}"), "call_id": id, "name": "get_weather",
            "arguments": format!("{{\"location\": \"{city}\"}}"), "status": "completed"})
    };
    assert_eq!(response["output"][0]["content"][0]["text"], "Checking both cities.");
    assert_eq!(response["output"][1], call("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "Paris, France"));
    assert_eq!(response["output"][2], call("toolu_01Ab2Cd3Ef4Gh5Ij6Kl7Mn8O", "Berlin, Germany"));
    assert_eq!(
        (response["usage"]["input_tokens"].as_u64(), response["usage"]["output_tokens"].as_u64()),
        (Some(472), Some(89))
    );
    let numbers: Vec<u64> = out.iter().filter_map(|e| e.data["sequence_number"].as_u64()).collect();
    assert_eq!(numbers, (0..out.len() as u64).collect::<Vec<_>>());
}
