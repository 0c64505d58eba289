//! OpenAI and Azure OpenAI: authentication, the checks the real APIs make before answering, and the answers for
//! completions, embeddings and models. Chat lives in `openai::chat`, the Responses API in `openai::responses`. Errors use OpenAI's shape (Azure's too).

pub(crate) mod chat;
mod responses;
use crate::app::Call;
use crate::content::{pieces, prompt_tokens, reply_text, words};
use crate::reply::{self, data_event, openai_error, openai_error_with_param};
use crate::request::{Incoming, Op};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

const MISSING_KEY: &str = "You didn't provide an API key. You need to provide your API key in an Authorization \
header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
const AZURE_MISSING_KEY: &str = "Access denied due to missing subscription key. Make sure to include \
subscription key when making requests to an API.";
const INVALID: &str = "invalid_request_error";

/// Facts shared by every answer: ids, timestamps, the model named in the reply.
pub(crate) struct Meta {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub prompt_tokens: u64,
}

/// `POST /v1/{chat/completions,completions,embeddings}`.
pub(crate) fn answer(op: Op, incoming: &Incoming, call: &Call<'_>) -> Response {
    if !has_bearer(incoming) {
        return openai_error(401, MISSING_KEY, INVALID, None);
    }
    let Some(body) = incoming.object() else {
        return invalid_json();
    };
    match body.get("model").and_then(Value::as_str).filter(|m| !m.is_empty()) {
        Some(model) => run(op, body, model, call),
        None => openai_error(400, "you must provide a model parameter", INVALID, None),
    }
}

/// `POST /openai/deployments/{deployment}/…?api-version=…`: `api-key` auth, the deployment names the model.
pub(crate) fn answer_azure(deployment: &str, op: Op, incoming: &Incoming, call: &Call<'_>) -> Response {
    if incoming.header("api-key").is_none_or(str::is_empty) {
        return openai_error(401, AZURE_MISSING_KEY, INVALID, Some("401"));
    }
    if !has_api_version(&incoming.query) {
        return openai_error(404, "Resource not found", INVALID, Some("404"));
    }
    let Some(body) = incoming.object() else {
        return invalid_json();
    };
    let model = body.get("model").and_then(Value::as_str);
    run(op, body, model.unwrap_or(deployment), call)
}

/// `GET /v1/models`.
pub(crate) fn models(incoming: &Incoming, call: &Call<'_>) -> Response {
    if !has_bearer(incoming) {
        return openai_error(401, MISSING_KEY, INVALID, None);
    }
    let data: Vec<Value> = ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 1_700_000_000u64, "owned_by": call.name}))
        .collect();
    reply::json(200, &json!({"object": "list", "data": data}))
}

fn has_bearer(incoming: &Incoming) -> bool {
    incoming.header("authorization").and_then(|v| v.strip_prefix("Bearer ")).is_some_and(|key| !key.trim().is_empty())
}

fn has_api_version(query: &str) -> bool {
    query.split('&').filter_map(|pair| pair.split_once('=')).any(|(k, v)| k == "api-version" && !v.is_empty())
}

fn invalid_json() -> Response {
    let message = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using \
your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)";
    openai_error(400, message, INVALID, None)
}

/// A 400 naming the offending parameter, kept small until it becomes a response.
pub(crate) struct Rejection {
    pub message: String,
    pub code: &'static str,
    pub param: String,
}

impl Rejection {
    pub(crate) fn respond(&self) -> Response {
        openai_error_with_param(400, &self.message, INVALID, Some(self.code), Some(&self.param))
    }
}

/// A missing parameter, worded like OpenAI.
pub(crate) fn missing(param: &str) -> Rejection {
    Rejection {
        message: format!("Missing required parameter: '{param}'."),
        code: "missing_required_parameter",
        param: param.to_string(),
    }
}

fn run(op: Op, body: &Value, model: &str, call: &Call<'_>) -> Response {
    let meta = Meta {
        id: String::new(),
        created: 1_700_000_000 + call.n,
        model: model.to_string(),
        prompt_tokens: prompt_tokens(body),
    };
    match op {
        Op::Chat => chat::chat(body, meta, call),
        Op::Completions => completions(body, meta, call),
        Op::Embeddings => embeddings(body, meta),
        Op::Responses => responses::responses(body, meta, call),
    }
}

/// Whether the request asks for a stream.
pub(crate) fn wants_stream(body: &Value) -> bool {
    body.get("stream").and_then(Value::as_bool).unwrap_or(false)
}

/// Whether a stream should end with a usage chunk (`stream_options.include_usage`).
pub(crate) fn wants_usage(body: &Value) -> bool {
    body.pointer("/stream_options/include_usage").and_then(Value::as_bool).unwrap_or(false)
}

/// OpenAI's usage object.
pub(crate) fn usage(prompt: u64, completion: u64) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

fn non_empty(value: Option<&Value>) -> bool {
    match value {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        _ => false,
    }
}

fn completions(body: &Value, mut meta: Meta, call: &Call<'_>) -> Response {
    if !non_empty(body.get("prompt")) {
        return missing("prompt").respond();
    }
    meta.id = format!("cmpl-mock-{}-{}", call.name, call.n);
    let text = reply_text(call.name, &meta.model);
    if wants_stream(body) {
        return completion_stream(body, &meta, &text, call);
    }
    let completion_tokens = words(&Value::String(text.clone()));
    let choice = json!({"text": text, "index": 0, "logprobs": null, "finish_reason": "stop"});
    reply::json(
        200,
        &json!({"id": meta.id, "object": "text_completion", "created": meta.created,
        "model": meta.model, "choices": [choice], "usage": usage(meta.prompt_tokens, completion_tokens)}),
    )
}

fn completion_stream(body: &Value, meta: &Meta, text: &str, call: &Call<'_>) -> Response {
    let chunk = |text: &str, finish: Value| {
        let choice = json!({"text": text, "index": 0, "logprobs": null, "finish_reason": finish});
        data_event(&json!({"id": meta.id, "object": "text_completion", "created": meta.created,
            "model": meta.model, "choices": [choice]}))
    };
    let mut events: Vec<String> = pieces(text).iter().map(|p| chunk(p, Value::Null)).collect();
    events.push(chunk("", json!("stop")));
    if wants_usage(body) {
        let completion_tokens = words(&Value::String(text.to_string()));
        events.push(data_event(&json!({"id": meta.id, "object": "text_completion",
            "created": meta.created, "model": meta.model, "choices": [],
            "usage": usage(meta.prompt_tokens, completion_tokens)})));
    }
    events.push("data: [DONE]\n\n".to_string());
    reply::sse(events, call.pacing)
}

fn embeddings(body: &Value, meta: Meta) -> Response {
    let inputs = match body.get("input") {
        Some(Value::Array(items)) if !items.is_empty() => items.len(),
        Some(Value::String(s)) if !s.is_empty() => 1,
        Some(_) => {
            let message = "'$.input' is invalid. Please check the API reference: \
https://platform.openai.com/docs/api-reference.";
            return openai_error_with_param(400, message, INVALID, None, Some("input"));
        }
        None => return missing("input").respond(),
    };
    let base64 = body.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let data: Vec<Value> =
        (0..inputs).map(|i| json!({"object": "embedding", "index": i, "embedding": vector(i, base64)})).collect();
    reply::json(
        200,
        &json!({"object": "list", "data": data, "model": meta.model,
        "usage": {"prompt_tokens": meta.prompt_tokens, "total_tokens": meta.prompt_tokens}}),
    )
}

/// A small deterministic vector; as little-endian f32 in standard, padded base64 (the `base64` crate, which the
/// workspace already uses) when asked, as the SDKs ask by default.
fn vector(index: usize, base64: bool) -> Value {
    let values = [0.1f32, 0.2, 0.3, index as f32 / 10.0];
    if !base64 {
        return json!(values);
    }
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    Value::String(STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vector_is_padded_standard_base64_of_little_endian_f32() {
        assert_eq!(vector(0, true), json!("zczMPc3MTD6amZk+AAAAAA=="));
        let decoded = vector(1, true).as_str().map(|text| STANDARD.decode(text));
        let want: Vec<u8> = [0.1f32, 0.2, 0.3, 0.1].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(decoded, Some(Ok(want)));
    }
}
