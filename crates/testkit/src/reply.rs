//! Building HTTP answers: JSON bodies, each provider's error shape, and SSE streams that can be paced or cut.
//! It owns no provider logic: callers decide what to say, this module only says it.

use crate::script::Pacing;
use axum::body::Body;
use axum::http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};
use std::time::Duration;

/// How long a cut stream waits before aborting, so the events already sent leave the socket first.
const CUT_GRACE_MS: u64 = 50;

/// A JSON answer with the given status.
pub(crate) fn json(status: u16, value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
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

/// Adds `Retry-After` when the script asks for it.
pub(crate) fn with_retry_after(mut response: Response, seconds: Option<u64>) -> Response {
    if let Some(seconds) = seconds {
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
    }
    response
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

/// An SSE answer, one `String` per event, sent as separate body chunks, paced and cut as scripted.
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

/// One step of a stream answer. A cut past the last event still cuts: a scripted cut never ends cleanly.
/// A body error makes hyper abort the connection without the final chunk,
/// which is exactly what a provider dying mid-stream looks like to the client.
async fn next_chunk(mut feed: Feed) -> Option<(std::io::Result<Bytes>, Feed)> {
    if feed.done {
        return None;
    }
    let exhausted = feed.events.as_slice().is_empty();
    if feed.pacing.cut_after.is_some_and(|n| feed.sent >= n || exhausted) {
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
