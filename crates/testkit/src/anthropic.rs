//! Anthropic's Messages API (`POST /v1/messages`): `x-api-key` and `anthropic-version` headers, the body checks in
//! `anthropic_check`, then a text answer or — with `tools` — a `tool_use` block; as one message or as Anthropic's
//! event stream. Errors use Anthropic's shape.

use crate::anthropic_check::check;
use crate::app::Call;
use crate::content::{pieces, prompt_tokens, reply_text, tool_arguments, words};
use crate::openai::chat::split_in_two;
use crate::reply::{self, anthropic_error, named_event};
use crate::request::Incoming;
use axum::response::Response;
use serde_json::{json, Value};

const INVALID: &str = "invalid_request_error";

/// One answer's facts.
struct Answer {
    id: String,
    model: String,
    input_tokens: u64,
    body: Body,
}

/// What the assistant says: text, or a call to a tool.
enum Body {
    Text(String),
    ToolUse { id: String, name: String, input: Value },
}

/// Why a request is refused, kept small until it becomes a response.
struct Rejection {
    status: u16,
    kind: &'static str,
    message: String,
}

impl Rejection {
    fn invalid(message: impl Into<String>) -> Rejection {
        Rejection { status: 400, kind: INVALID, message: message.into() }
    }

    fn respond(&self) -> Response {
        anthropic_error(self.status, self.kind, &self.message)
    }
}

pub(crate) fn answer(incoming: &Incoming, call: &Call<'_>) -> Response {
    let answered = authorize(incoming).and_then(|()| parse(incoming)).map(|body| (plan(body, call), body));
    let response = match answered {
        Ok((answer, body)) if wants_stream(body) => stream(&answer, call),
        Ok((answer, _)) => reply::json(200, &message(&answer)),
        Err(rejection) => rejection.respond(),
    };
    reply::with_header(response, "request-id", &format!("req_mock_{}_{}", call.name, call.n))
}

/// `POST /v1/messages/count_tokens`: the same headers and body checks (but `max_tokens`, which it
/// does not take), then `{"input_tokens": N}`.
pub(crate) fn count_tokens(incoming: &Incoming) -> Response {
    let counted = authorize(incoming).and_then(|()| {
        let body = incoming.object().filter(|b| b.get("messages").is_some_and(Value::is_array));
        body.ok_or_else(|| Rejection::invalid("messages: Field required"))
    });
    match counted {
        Ok(body) => reply::json(200, &json!({"input_tokens": prompt_tokens(body)})),
        Err(rejection) => rejection.respond(),
    }
}

fn authorize(incoming: &Incoming) -> Result<(), Rejection> {
    if incoming.header("x-api-key").is_none_or(str::is_empty) {
        return Err(Rejection {
            status: 401,
            kind: "authentication_error",
            message: "x-api-key header is required".into(),
        });
    }
    if incoming.header("anthropic-version").is_none_or(str::is_empty) {
        return Err(Rejection::invalid("anthropic-version: header is required"));
    }
    Ok(())
}

fn parse(incoming: &Incoming) -> Result<&Value, Rejection> {
    let body = incoming.object().and_then(|body| body.as_object().map(|fields| (body, fields)));
    let Some((body, fields)) = body else {
        return Err(Rejection::invalid("There was an error parsing the body of your request"));
    };
    check(fields).map_err(Rejection::invalid)?;
    Ok(body)
}

fn wants_stream(body: &Value) -> bool {
    body.get("stream").and_then(Value::as_bool).unwrap_or(false)
}

fn plan(body: &Value, call: &Call<'_>) -> Answer {
    let model = body.get("model").and_then(Value::as_str).unwrap_or_default();
    let reply = match chosen_tool(body) {
        Some(tool) => Body::ToolUse {
            id: format!("toolu_mock_{}_{}", call.name, call.n),
            name: tool.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            input: tool_arguments(tool.get("input_schema")),
        },
        None => Body::Text(reply_text(call.name, model)),
    };
    Answer {
        id: format!("msg_mock_{}_{}", call.name, call.n),
        model: model.to_string(),
        input_tokens: prompt_tokens(body),
        body: reply,
    }
}

/// The first tool, or the one `tool_choice: {"type":"tool","name":…}` forces; none for `{"type":"none"}`.
fn chosen_tool(body: &Value) -> Option<&Value> {
    let tools = body.get("tools").and_then(Value::as_array)?;
    let choice = body.get("tool_choice");
    match choice.and_then(|c| c.get("type")).and_then(Value::as_str) {
        Some("none") => None,
        Some("tool") => {
            let forced = choice.and_then(|c| c.get("name"));
            tools.iter().find(|t| t.get("name") == forced)
        }
        _ => tools.first(),
    }
}

impl Answer {
    fn stop_reason(&self) -> &'static str {
        match self.body {
            Body::Text(_) => "end_turn",
            Body::ToolUse { .. } => "tool_use",
        }
    }

    fn output_tokens(&self) -> u64 {
        match &self.body {
            Body::Text(text) => words(&Value::String(text.clone())),
            Body::ToolUse { input, .. } => 8 + input.to_string().len() as u64 / 4,
        }
    }

    fn usage(&self, output_tokens: u64) -> Value {
        json!({"input_tokens": self.input_tokens, "output_tokens": output_tokens,
               "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
    }
}

fn message(answer: &Answer) -> Value {
    let block = match &answer.body {
        Body::Text(text) => json!({"type": "text", "text": text}),
        Body::ToolUse { id, name, input } => json!({"type": "tool_use", "id": id, "name": name, "input": input}),
    };
    json!({"id": answer.id, "type": "message", "role": "assistant", "model": answer.model,
           "content": [block], "stop_reason": answer.stop_reason(), "stop_sequence": null,
           "usage": answer.usage(answer.output_tokens())})
}

/// Anthropic's event sequence: message_start, content_block_start, ping, deltas, content_block_stop,
/// message_delta (stop_reason + output_tokens), message_stop.
fn stream(answer: &Answer, call: &Call<'_>) -> Response {
    let start = json!({"id": answer.id, "type": "message", "role": "assistant", "model": answer.model,
        "content": [], "stop_reason": null, "stop_sequence": null, "usage": answer.usage(1)});
    let (block, deltas) = block_events(&answer.body);
    let mut events = vec![
        named_event("message_start", &json!({"type": "message_start", "message": start})),
        named_event("content_block_start", &json!({"type": "content_block_start", "index": 0, "content_block": block})),
        named_event("ping", &json!({"type": "ping"})),
    ];
    for delta in deltas {
        let event = json!({"type": "content_block_delta", "index": 0, "delta": delta});
        events.push(named_event("content_block_delta", &event));
    }
    let stop = json!({"stop_reason": answer.stop_reason(), "stop_sequence": null});
    let usage = json!({"output_tokens": answer.output_tokens()});
    events.extend([
        named_event("content_block_stop", &json!({"type": "content_block_stop", "index": 0})),
        named_event("message_delta", &json!({"type": "message_delta", "delta": stop, "usage": usage})),
        named_event("message_stop", &json!({"type": "message_stop"})),
    ]);
    reply::sse(events, call.pacing)
}

/// The opening content block and its deltas.
fn block_events(body: &Body) -> (Value, Vec<Value>) {
    match body {
        Body::Text(text) => {
            let deltas = pieces(text).into_iter().map(|p| json!({"type": "text_delta", "text": p}));
            (json!({"type": "text", "text": ""}), deltas.collect())
        }
        Body::ToolUse { id, name, input } => {
            let parts = split_in_two(&input.to_string());
            let deltas = parts.into_iter().map(|p| json!({"type": "input_json_delta", "partial_json": p}));
            (json!({"type": "tool_use", "id": id, "name": name, "input": {}}), deltas.collect())
        }
    }
}
