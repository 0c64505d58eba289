//! `POST /v1/logs`: custom logs for requests that did not pass through the gateway, in
//! Portkey's shape — `{"request": {url, provider?, method, headers, body}, "response":
//! {status (200), headers, body, response_time | time, streamingMode}, "metadata": {…,
//! trace_id/traceId, span_id/spanId, parent_span_id/parentSpanId, span_name/spanName}}` — one
//! object or an array. Each becomes a [`LogRecord`] written straight to the store (not through
//! the request-log queue: these are not gateway traffic, so they stay out of the metrics, and
//! the caller can read the log back at once). Headers are never stored.

use crate::http::error::GatewayError;
use axum::body::Body;
use axum::extract::State;
use http::HeaderMap;
use serde_json::{json, Map, Value};
use switchboard_core::pricing;
use switchboard_core::provider::PROVIDERS;
use switchboard_core::usage::Usage;
use switchboard_store::LogRecord;

use super::{admin, json, Reply};
use crate::control::SharedApi;
use crate::http::body::read_value;
use crate::settings::LogSettings;
use crate::support::clock;

/// The most logs one request may insert.
pub const MAX_BATCH: usize = 1000;

const TRACE_KEYS: [(&str, &str); 4] =
    [("trace_id", "traceId"), ("span_id", "spanId"), ("parent_span_id", "parentSpanId"), ("span_name", "spanName")];

fn bad(message: String) -> GatewayError {
    GatewayError::InvalidRequest(message)
}

pub async fn insert(State(state): State<SharedApi>, headers: HeaderMap, body: Body) -> Reply {
    store_logs(&state, &headers, body).await
}

async fn store_logs(state: &SharedApi, headers: &HeaderMap, body: Body) -> Reply {
    let principal = admin(state, headers).await?;
    let body = read_value(body, state.settings.max_body_bytes).await?;
    let context = Context { now: clock::unix_ms(), api_key_id: principal.api_key_id(), bodies: &state.settings.logs };
    let (mut records, single) = match &body {
        Value::Array(items) => (batch(items, &context)?, false),
        entry => (vec![record(entry, "", &context)?], true),
    };
    state.control.store.insert_logs(&mut records).await?;
    let ids: Vec<Value> = records.iter().map(|r| json!({"id": r.id})).collect();
    let data = if single { ids.into_iter().next().unwrap_or(Value::Null) } else { Value::Array(ids) };
    json(200, &json!({"success": true, "data": data}))
}

fn batch(items: &[Value], context: &Context<'_>) -> Result<Vec<LogRecord>, GatewayError> {
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(bad(format!("request body: expected 1 to {MAX_BATCH} logs, got {}", items.len())));
    }
    items.iter().enumerate().map(|(i, item)| record(item, &format!("[{i}]."), context)).collect()
}

/// What every record of one request shares.
struct Context<'a> {
    now: i64,
    api_key_id: Option<&'a str>,
    bodies: &'a LogSettings,
}

/// One part of the entry (`request`, `response`): its object, and its body parsed when JSON.
struct Part {
    fields: Map<String, Value>,
    /// The body as sent (a JSON string body is kept as its text).
    body_text: Option<String>,
    body: Option<Value>,
}

impl Part {
    fn read(entry: &Map<String, Value>, name: &str, path: &str) -> Result<Part, GatewayError> {
        let fields = match entry.get(name) {
            Some(Value::Object(fields)) => fields.clone(),
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(bad(format!("{path}{name}: expected an object"))),
        };
        let (body_text, body) = match fields.get("body") {
            None | Some(Value::Null) => (None, None),
            Some(Value::String(text)) => (Some(text.clone()), serde_json::from_str(text).ok()),
            Some(value) => (Some(value.to_string()), Some(value.clone())),
        };
        Ok(Part { fields, body_text, body })
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    fn body_text(&self, key: &str) -> Option<&str> {
        self.body.as_ref()?.get(key)?.as_str().filter(|s| !s.is_empty())
    }

    /// A header, by case-insensitive name.
    fn header(&self, name: &str) -> Option<&str> {
        let headers = self.fields.get("headers")?.as_object()?;
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str())
    }
}

fn record(entry: &Value, path: &str, context: &Context<'_>) -> Result<LogRecord, GatewayError> {
    let entry = entry.as_object().ok_or_else(|| {
        let place = if path.is_empty() { "request body" } else { path.trim_end_matches('.') };
        bad(format!("{place}: expected a log object"))
    })?;
    let request = Part::read(entry, "request", path)?;
    let response = Part::read(entry, "response", path)?;
    let mut metadata = metadata(entry, path)?;
    let [trace_id, span_id, parent_span_id, span_name] = TRACE_KEYS.map(|keys| take_text(&mut metadata, keys));
    let provider = provider(&request, &metadata);
    let served_model = response.body_text("model").map(str::to_string);
    let requested_model =
        request.body_text("model").or_else(|| text(&metadata, "model")).or(served_model.as_deref()).unwrap_or_default();
    let status = status(&response, path)?;
    let usage = response.body.as_ref().and_then(usage);
    let (cost_usd, unpriced) = price(&provider, served_model.as_deref().unwrap_or(requested_model), usage);
    let keep = |part: &Part| {
        let text = part.body_text.as_deref().filter(|_| context.bodies.bodies)?;
        Some(crate::observe::capped(text.as_bytes(), context.bodies.body_max_bytes))
    };
    Ok(LogRecord {
        id: uuid::Uuid::now_v7().to_string(),
        created_at: context.now,
        trace_id: trace_id.or_else(|| request.header("x-portkey-trace-id").map(str::to_string)).or_else(new_trace_id),
        span_id,
        parent_span_id,
        span_name,
        api_key_id: context.api_key_id.map(str::to_string),
        config_slug: None,
        config_version: None,
        strategy_mode: None,
        target_path: None,
        virtual_key: request.header("x-portkey-virtual-key").map(str::to_string),
        requested_model: requested_model.to_string(),
        served_model,
        status,
        latency_ms: latency_ms(&response, path)?,
        ttfb_ms: None,
        stream: ["streamingMode", "streaming_mode"].iter().any(|k| response.fields.get(*k) == Some(&Value::Bool(true))),
        retry_count: 0,
        cache_status: None,
        prompt_tokens: usage.map(|u| count(u.prompt_tokens)),
        completion_tokens: usage.map(|u| count(u.completion_tokens)),
        total_tokens: usage.map(|u| count(u.total())),
        cost_usd,
        unpriced,
        request_body: keep(&request),
        response_body: keep(&response),
        attempts: switchboard_store::Attempts::default(),
        error: (status >= 400).then(|| error_message(&response)).flatten(),
        error_class: None,
        provider,
        metadata,
    })
}

fn metadata(entry: &Map<String, Value>, path: &str) -> Result<Map<String, Value>, GatewayError> {
    match entry.get("metadata") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(_) => Err(bad(format!("{path}metadata: expected an object"))),
    }
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Removes both spellings of a tracing key from the metadata; the first non-empty wins.
fn take_text(metadata: &mut Map<String, Value>, (snake, camel): (&str, &str)) -> Option<String> {
    let values = [metadata.remove(snake), metadata.remove(camel)];
    values.into_iter().flatten().find_map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
}

fn new_trace_id() -> Option<String> {
    Some(uuid::Uuid::new_v4().to_string())
}

/// `request.provider`, `metadata.provider`, the `x-portkey-provider` header, the provider
/// whose API host the URL names, else `custom`.
fn provider(request: &Part, metadata: &Map<String, Value>) -> String {
    let named = request.text("provider").or_else(|| text(metadata, "provider"));
    let named = named.or_else(|| request.header("x-portkey-provider"));
    let from_url = || request.text("url").and_then(provider_from_url);
    named.or_else(from_url).unwrap_or("custom").to_string()
}

fn provider_from_url(url: &str) -> Option<&'static str> {
    let host = authority(url).to_ascii_lowercase();
    let matches = |pattern: &str| match pattern.strip_prefix("{resource}") {
        Some(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
        None => host == pattern,
    };
    PROVIDERS.iter().find(|p| matches(authority(p.base_url))).map(|p| p.id)
}

/// `host[:port]` of a URL, without scheme, credentials or path.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority)
}

fn status(response: &Part, path: &str) -> Result<u16, GatewayError> {
    match response.fields.get("status") {
        None | Some(Value::Null) => Ok(200),
        Some(value) => {
            value.as_u64().filter(|s| (100..=599).contains(s)).and_then(|s| u16::try_from(s).ok()).ok_or_else(|| {
                bad(format!("{path}response.status: expected an HTTP status from 100 to 599, got {value}"))
            })
        }
    }
}

/// `response.response_time`, or Portkey's older `response.time`, in ms; 0 when absent.
fn latency_ms(response: &Part, path: &str) -> Result<i64, GatewayError> {
    let given = response.fields.get("response_time").or_else(|| response.fields.get("time"));
    match given {
        None | Some(Value::Null) => Ok(0),
        Some(value) => value
            .as_f64()
            .filter(|ms| ms.is_finite() && *ms >= 0.0 && *ms < 1e15)
            .map(|ms| ms.round() as i64)
            .ok_or_else(|| bad(format!("{path}response.response_time: expected milliseconds, got {value}"))),
    }
}

/// OpenAI's `usage`, or Anthropic's (`input_tokens`, `output_tokens`).
fn usage(body: &Value) -> Option<Usage> {
    let usage = body.get("usage")?;
    Usage::from_openai(usage).or_else(|| {
        let count = |key: &str| usage.get(key).and_then(Value::as_u64);
        Some(Usage {
            prompt_tokens: count("input_tokens")?,
            completion_tokens: count("output_tokens").unwrap_or(0),
            cached_tokens: count("cache_read_input_tokens").unwrap_or(0),
            cache_write_tokens: count("cache_creation_input_tokens").unwrap_or(0),
        })
    })
}

/// The cost, or unpriced when there are tokens but no price for the model.
fn price(provider: &str, model: &str, usage: Option<Usage>) -> (Option<f64>, bool) {
    let Some(usage) = usage else { return (None, false) };
    match pricing::lookup(provider, model) {
        Some(price) => (Some(pricing::cost(&price, &usage)), false),
        None => (None, true),
    }
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn error_message(response: &Part) -> Option<String> {
    let body = response.body.as_ref()?;
    let message = body.pointer("/error/message").or_else(|| body.get("error")).or_else(|| body.get("message"));
    message.and_then(Value::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: LogSettings = LogSettings { bodies: true, body_max_bytes: 1024 };

    fn build(entry: Value) -> Result<LogRecord, GatewayError> {
        record(&entry, "", &Context { now: 1, api_key_id: Some("admin"), bodies: &SETTINGS })
    }

    #[test]
    fn provider_comes_from_the_url_host_when_not_named() {
        assert_eq!(provider_from_url("https://api.openai.com/v1/chat/completions"), Some("openai"));
        assert_eq!(provider_from_url("https://my-res.openai.azure.com/openai/deployments/x"), Some("azure-openai"));
        assert_eq!(provider_from_url("https://u:p@API.ANTHROPIC.COM/v1/messages"), Some("anthropic"));
        assert_eq!(provider_from_url("https://api.someprovider.com/model/generate"), None);
        assert_eq!(provider_from_url("http://127.0.0.1:8080/v1"), None);
    }

    #[test]
    fn tokens_and_cost_come_from_the_response_usage() {
        let r = build(json!({"request": {"url": "https://api.openai.com/v1/chat/completions",
                "body": {"model": "gpt-4o-mini", "messages": []}},
            "response": {"body": {"model": "gpt-4o-mini-2024-07-18",
                "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}}, "response_time": 321.4},
            "metadata": {"traceId": "t-1", "span_id": "s-1", "user": "u"}}))
        .ok();
        let r = r.as_ref();
        assert_eq!(r.map(|r| r.provider.as_str()), Some("openai"));
        assert_eq!(
            r.map(|r| (r.requested_model.as_str(), r.served_model.as_deref())),
            Some(("gpt-4o-mini", Some("gpt-4o-mini-2024-07-18")))
        );
        assert_eq!(
            r.map(|r| (r.prompt_tokens, r.total_tokens, r.latency_ms, r.status)),
            Some((Some(1000), Some(1500), 321, 200))
        );
        assert!(r.and_then(|r| r.cost_usd).is_some_and(|c| c > 0.0));
        assert_eq!(r.and_then(|r| r.trace_id.as_deref()), Some("t-1"));
        assert_eq!(r.map(|r| Value::Object(r.metadata.clone())), Some(json!({"user": "u"})));
    }

    #[test]
    fn unknown_model_with_usage_is_unpriced_not_free() {
        let r = build(json!({"request": {"body": "{\"model\": \"my-finetune\"}"},
            "response": {"body": {"usage": {"input_tokens": 10, "output_tokens": 2}}}}))
        .ok();
        assert_eq!(r.as_ref().map(|r| (r.provider.as_str(), r.cost_usd, r.unpriced)), Some(("custom", None, true)));
        assert_eq!(r.as_ref().and_then(|r| r.total_tokens), Some(12));
        assert!(r.and_then(|r| r.trace_id).is_some_and(|t| !t.is_empty()), "a trace ID is always given");
    }

    #[test]
    fn bad_status_and_latency_are_named() {
        let err = build(json!({"response": {"status": 42}})).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("response.status: expected an HTTP status"), "{err}");
        let err =
            build(json!({"response": {"response_time": "fast"}})).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("response.response_time: expected milliseconds"), "{err}");
    }

    #[test]
    fn capped_bodies_end_on_a_character_boundary() {
        assert_eq!(crate::observe::capped("héllo".as_bytes(), 2), "h…[truncated]");
        assert_eq!(crate::observe::capped(b"abc", 3), "abc");
    }
}
