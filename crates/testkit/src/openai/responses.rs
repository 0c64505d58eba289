//! OpenAI's Responses API (`POST /v1/responses`, Azure's `/openai/responses`): a `response` object with one
//! `message` item, or its semantic event stream (`response.created` … `response.completed`, every event with its
//! `sequence_number`), as OpenAI documents them. Written here independently of the gateway's codec.

use super::{missing, non_empty, wants_stream, Meta};
use crate::app::Call;
use crate::content::{pieces, reply_text, words};
use crate::reply::{self, named_event};
use axum::response::Response;
use serde_json::{json, Value};

pub(crate) fn responses(body: &Value, meta: Meta, call: &Call<'_>) -> Response {
    if !non_empty(body.get("input")) {
        return missing("input").respond();
    }
    let id = format!("resp_mock_{}_{}", call.name, call.n);
    let text = reply_text(call.name, &meta.model);
    let output_tokens = words(&Value::String(text.clone()));
    let item_id = format!("msg_mock_{}_{}", call.name, call.n);
    let done =
        response(&id, &meta, "completed", vec![message(&item_id, &text, "completed")], usage(&meta, output_tokens));
    if !wants_stream(body) {
        return reply::json(200, &done);
    }
    reply::sse(stream_events(&id, &item_id, &text, &meta, done), call.pacing)
}

fn stream_events(id: &str, item_id: &str, text: &str, meta: &Meta, done: Value) -> Vec<String> {
    let opened = response(id, meta, "in_progress", Vec::new(), Value::Null);
    let at = json!({"item_id": item_id, "output_index": 0, "content_index": 0});
    let with = |extra: Value| {
        let mut v = at.clone();
        if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            v.extend(extra.clone());
        }
        v
    };
    let mut events = vec![
        ("response.created", json!({"response": opened})),
        ("response.in_progress", json!({"response": opened})),
        ("response.output_item.added", json!({"output_index": 0, "item": message(item_id, "", "in_progress")})),
        ("response.content_part.added", with(json!({"part": part("")}))),
    ];
    for piece in pieces(text) {
        events.push(("response.output_text.delta", with(json!({"delta": piece, "logprobs": []}))));
    }
    events.push(("response.output_text.done", with(json!({"text": text, "logprobs": []}))));
    events.push(("response.content_part.done", with(json!({"part": part(text)}))));
    events.push(("response.output_item.done", json!({"output_index": 0, "item": message(item_id, text, "completed")})));
    events.push(("response.completed", json!({"response": done})));
    let numbered = events.into_iter().enumerate().map(|(n, (name, mut data))| {
        data["type"] = json!(name);
        data["sequence_number"] = json!(n);
        named_event(name, &data)
    });
    numbered.collect()
}

fn response(id: &str, meta: &Meta, status: &str, output: Vec<Value>, usage: Value) -> Value {
    json!({"id": id, "object": "response", "created_at": meta.created, "status": status, "error": null,
        "incomplete_details": null, "model": meta.model, "output": output, "parallel_tool_calls": true,
        "previous_response_id": null, "store": true, "text": {"format": {"type": "text"}}, "tool_choice": "auto",
        "tools": [], "usage": usage, "metadata": {}})
}

fn message(id: &str, text: &str, status: &str) -> Value {
    let content = if text.is_empty() { json!([]) } else { json!([part(text)]) };
    json!({"type": "message", "id": id, "status": status, "role": "assistant", "content": content})
}

fn part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": []})
}

fn usage(meta: &Meta, output_tokens: u64) -> Value {
    json!({"input_tokens": meta.prompt_tokens, "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": meta.prompt_tokens + output_tokens})
}
