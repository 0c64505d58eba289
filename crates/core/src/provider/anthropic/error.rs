//! Anthropic's error answers -> OpenAI's error shape.
//!
//! Anthropic says `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
//! both as a non-2xx body and as an `event: error` inside a 200 stream. OpenAI clients expect
//! `{"error":{"message","type","param","code"}}`; Anthropic's own error type is kept as `code`
//! so nothing is lost. A body that is not JSON (a proxy's HTML page) is described, shortened,
//! never relayed whole.

use serde_json::{json, Value};

/// How much of an unreadable body is quoted in the message.
const QUOTE_LIMIT: usize = 200;

/// A non-2xx answer from Anthropic -> `{"error":{message,type,param,code},"provider":"anthropic"}`.
pub fn error_response(status: u16, body: &[u8]) -> Value {
    let mut error = match serde_json::from_slice::<Value>(body).ok().as_ref().and_then(anthropic_error) {
        Some((kind, message)) => openai_error(message, error_type(Some(kind), status), Some(kind)),
        None => openai_error(&describe_unreadable(status, body), error_type(None, status), None),
    };
    error["provider"] = "anthropic".into();
    error
}

/// The `data` of an `event: error` inside a stream -> OpenAI's error object.
pub(super) fn stream_error(data: &Value) -> Value {
    match anthropic_error(data) {
        Some((kind, message)) => openai_error(message, error_type(Some(kind), 200), Some(kind)),
        None => openai_error(&format!("unreadable error event: {}", quote(&data.to_string())), "server_error", None),
    }
}

/// The HTTP status Anthropic would have answered for an `event: error` it streamed instead
/// (the error's OpenAI shape from [`stream_error`] carries Anthropic's type as its `code`), so
/// that an error before the first content is retried and falls back like the same error
/// answered as a status.
pub fn stream_error_status(error: &Value) -> u16 {
    match error.pointer("/error/code").and_then(Value::as_str) {
        Some("overloaded_error") => 529,
        Some("rate_limit_error") => 429,
        Some("api_error") => 500,
        Some("request_too_large") => 413,
        Some("invalid_request_error") => 400,
        Some("authentication_error") => 401,
        Some("permission_error") => 403,
        Some("not_found_error") => 404,
        _ => 502,
    }
}

/// `(error.type, error.message)` of an Anthropic error body.
fn anthropic_error(body: &Value) -> Option<(&str, &str)> {
    let error = body.get("error")?;
    let message = error.get("message").and_then(Value::as_str)?;
    Some((error.get("type").and_then(Value::as_str).unwrap_or("api_error"), message))
}

fn openai_error(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({"error": {"message": format!("anthropic error: {message}"), "type": kind, "param": null, "code": code}})
}

/// OpenAI's `error.type` for Anthropic's error type, falling back to the HTTP status.
fn error_type(anthropic_type: Option<&str>, status: u16) -> &'static str {
    match anthropic_type {
        Some("invalid_request_error" | "not_found_error" | "request_too_large") => "invalid_request_error",
        Some("authentication_error") => "authentication_error",
        Some("permission_error") => "permission_error",
        Some("rate_limit_error") => "rate_limit_error",
        Some("api_error" | "overloaded_error") => "server_error",
        Some("timeout_error") => "timeout_error",
        _ => status_error_type(status),
    }
}

fn status_error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        408 | 504 => "timeout_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    }
}

fn describe_unreadable(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.is_empty() {
        true => format!("empty response body with status {status}"),
        false => format!("unreadable response with status {status}: {}", quote(&text)),
    }
}

/// At most [`QUOTE_LIMIT`] characters, cut on a character boundary.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn golden_error_bodies_translate_to_openai_errors() {
        let cases = [
            ("error_overloaded_529", 529, "json"),
            ("error_rate_limit_429", 429, "json"),
            ("error_invalid_request_400", 400, "json"),
            ("error_html_502", 502, "html"),
        ];
        for (case, status, ext) in cases {
            let body = fixtures::bytes(&format!("{case}.upstream.{ext}"));
            let expected = fixtures::json(&format!("{case}.response.json"));
            assert_eq!(error_response(status, &body), expected, "case {case}");
        }
    }

    #[test]
    fn anthropic_error_types_map_to_openai_types() {
        let cases = [
            ("invalid_request_error", 400, "invalid_request_error"),
            ("authentication_error", 401, "authentication_error"),
            ("permission_error", 403, "permission_error"),
            ("not_found_error", 404, "invalid_request_error"),
            ("request_too_large", 413, "invalid_request_error"),
            ("rate_limit_error", 429, "rate_limit_error"),
            ("api_error", 500, "server_error"),
            ("overloaded_error", 529, "server_error"),
            ("brand_new_error", 418, "invalid_request_error"),
        ];
        for (kind, status, expected) in cases {
            let body = json!({"type": "error", "error": {"type": kind, "message": "m"}}).to_string();
            let out = error_response(status, body.as_bytes());
            assert_eq!(out["error"]["type"], json!(expected), "error type {kind}");
            assert_eq!(out["error"]["code"], json!(kind), "error type {kind}");
        }
    }

    #[test]
    fn unreadable_bodies_fall_back_to_the_status() {
        let cases = [
            (401, "authentication_error"),
            (403, "permission_error"),
            (404, "invalid_request_error"),
            (408, "timeout_error"),
            (429, "rate_limit_error"),
            (500, "server_error"),
            (504, "timeout_error"),
            (529, "server_error"),
        ];
        for (status, expected) in cases {
            let out = error_response(status, b"upstream connect error");
            assert_eq!(out["error"]["type"], json!(expected), "status {status}");
            assert_eq!(out["error"]["code"], Value::Null, "status {status}");
        }
    }

    #[test]
    fn empty_body_says_so() {
        let expected = json!({"error": {"message": "anthropic error: empty response body with status 503",
            "type": "server_error", "param": null, "code": null}, "provider": "anthropic"});
        assert_eq!(error_response(503, b"  \n"), expected);
    }

    #[test]
    fn json_without_an_error_message_is_quoted() {
        let out = error_response(500, br#"{"detail": "boom"}"#);
        let message = "anthropic error: unreadable response with status 500: {\"detail\": \"boom\"}";
        assert_eq!(out["error"]["message"], json!(message));
    }

    #[test]
    fn long_bodies_are_cut_on_a_character_boundary() {
        let body = "é".repeat(300);
        let out = error_response(502, body.as_bytes());
        let expected = format!("anthropic error: unreadable response with status 502: {}…", "é".repeat(200));
        assert_eq!(out["error"]["message"], json!(expected));
    }

    #[test]
    fn stream_error_status_is_the_status_anthropic_would_have_answered() {
        let overloaded = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        assert_eq!(stream_error_status(&stream_error(&overloaded)), 529);
        assert_eq!(stream_error_status(&json!({"error": {"code": "rate_limit_error"}})), 429);
        assert_eq!(stream_error_status(&json!({"nonsense": true})), 502);
    }

    #[test]
    fn stream_error_event_has_no_provider_field() {
        let data = json!({"type": "error", "error": {"type": "api_error", "message": "Internal server error"}});
        let expected = json!({"error": {"message": "anthropic error: Internal server error",
            "type": "server_error", "param": null, "code": "api_error"}});
        assert_eq!(stream_error(&data), expected);
    }
}
