//! Building HTTP answers: JSON bodies, each provider's error shape, raw bodies, redirects, padded answers, extra
//! headers, and SSE streams that can be paced, cut or stalled. It owns no provider logic: callers decide what to
//! say, this module only says it.

use crate::script::Pacing;
use axum::body::{to_bytes, Body};
use axum::http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};
use std::time::Duration;

/// How long a cut stream waits before aborting, so the events already sent leave the socket first.
const CUT_GRACE_MS: u64 = 50;

/// A JSON answer with the given status.
pub(crate) fn json(status: u16, value: &Value) -> Response {
    let mut response = with_status(Response::new(Body::from(value.to_string())), status);
    set_header(&mut response, CONTENT_TYPE, "application/json");
    response
}

/// OpenAI's (and Azure OpenAI's) error shape.
pub(crate) fn openai_error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Response {
    openai_error_with_param(status, message, kind, code, None)
}

/// OpenAI's error shape naming the offending parameter.
pub(crate) fn openai_error_with_param(
    status: u16,
    message: &str,
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
) -> Response {
    let error = json!({"message": message, "type": kind, "param": param, "code": code});
    json(status, &json!({ "error": error }))
}

/// Anthropic's error shape.
pub(crate) fn anthropic_error(status: u16, kind: &str, message: &str) -> Response {
    let error = json!({"type": kind, "message": message});
    json(status, &json!({"type": "error", "error": error}))
}

/// Anthropic's error type for a status, as its API documents them.
pub(crate) fn anthropic_error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// OpenAI's error type and code for a status.
pub(crate) fn openai_error_kind(status: u16) -> (&'static str, Option<&'static str>) {
    match status {
        401 => ("invalid_request_error", Some("invalid_api_key")),
        429 => ("requests", Some("rate_limit_exceeded")),
        500..=599 => ("server_error", None),
        _ => ("invalid_request_error", None),
    }
}

/// Adds the scripted headers in order; a later one replaces an earlier one (or the answer's own) of the same name.
/// The script checked them; one that is still invalid (a struct literal) is dropped.
pub(crate) fn with_headers(mut response: Response, headers: &[(String, String)]) -> Response {
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// A body sent verbatim with the given status and content type.
pub(crate) fn raw(status: u16, content_type: &str, body: String) -> Response {
    let response = with_status(Response::new(Body::from(body)), status);
    with_headers(response, &[("content-type".to_string(), content_type.to_string())])
}

/// A redirect with an empty body.
pub(crate) fn redirect(status: u16, location: &str) -> Response {
    let response = with_status(Response::new(Body::empty()), status);
    with_headers(response, &[(LOCATION.as_str().to_string(), location.to_string())])
}

fn with_status(mut response: Response, status: u16) -> Response {
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// A 200 JSON object answer gains a top-level `"padding"` string of `pad_bytes` bytes: still valid, only too
/// big. Anything else (errors, streams) passes unchanged.
pub(crate) async fn padded(response: Response, pad_bytes: usize) -> Response {
    let is_json = response.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes() == b"application/json");
    if pad_bytes == 0 || response.status() != StatusCode::OK || !is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return json(500, &json!({"error": {"message": "mock: could not read the answer to pad it"}}));
    };
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut fields)) => {
            fields.insert("padding".to_string(), Value::String("x".repeat(pad_bytes)));
            Body::from(Value::Object(fields).to_string())
        }
        _ => Body::from(bytes),
    };
    Response::from_parts(parts, body)
}

/// Adds a header with a value built at run time (ids); an invalid value is dropped.
pub(crate) fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(HeaderName::from_static(name), value);
    }
    response
}

fn set_header(response: &mut Response, name: HeaderName, value: &'static str) {
    response.headers_mut().insert(name, HeaderValue::from_static(value));
}

/// An SSE answer, one `String` per event, sent as separate body chunks, paced, cut or stalled as scripted.
pub(crate) fn sse(events: Vec<String>, pacing: Pacing) -> Response {
    let feed = Feed { events: events.into_iter(), sent: 0, pacing, done: false };
    let stream = futures_util::stream::unfold(feed, next_chunk);
    let mut response = Response::new(Body::from_stream(stream));
    set_header(&mut response, CONTENT_TYPE, "text/event-stream");
    set_header(&mut response, CACHE_CONTROL, "no-cache");
    response
}

struct Feed {
    events: std::vec::IntoIter<String>,
    sent: usize,
    pacing: Pacing,
    done: bool,
}

/// One step of a stream answer. A cut or stall past the last event still cuts or stalls: neither ends cleanly.
/// A body error makes hyper abort the connection without the final chunk,
/// which is exactly what a provider dying mid-stream looks like to the client.
/// A stall is a body that is never ready again; hyper drops it when the client goes away.
async fn next_chunk(mut feed: Feed) -> Option<(std::io::Result<Bytes>, Feed)> {
    if feed.done {
        return None;
    }
    let exhausted = feed.events.as_slice().is_empty();
    let reached = |limit: Option<usize>| limit.is_some_and(|n| feed.sent >= n || exhausted);
    if reached(feed.pacing.stall_after) {
        return std::future::pending().await;
    }
    if reached(feed.pacing.cut_after) {
        let grace = feed.pacing.chunk_delay_ms.max(CUT_GRACE_MS);
        tokio::time::sleep(Duration::from_millis(grace)).await;
        feed.done = true;
        let cut = std::io::Error::other("scripted stream cut");
        return Some((Err(cut), feed));
    }
    let event = feed.events.next()?;
    if feed.sent > 0 && feed.pacing.chunk_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(feed.pacing.chunk_delay_ms)).await;
    }
    feed.sent += 1;
    Some((Ok(Bytes::from(event)), feed))
}

/// Formats one SSE `data:` event.
pub(crate) fn data_event(value: &Value) -> String {
    format!("data: {value}\n\n")
}

/// Formats one SSE event with an `event:` name (Anthropic's style).
pub(crate) fn named_event(name: &str, value: &Value) -> String {
    format!("event: {name}\ndata: {value}\n\n")
}
