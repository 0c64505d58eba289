//! The edges of Anthropic's API (`/v1/messages`, `/v1/messages/count_tokens`): the key an
//! Anthropic SDK sends in `x-api-key` is read like one sent in `Authorization` (the
//! Switchboard key, or a provider key beside `x-portkey-api-key`), and every error answer
//! — the gateway's own or a provider's, which travel in OpenAI's shape inside the gateway —
//! leaves in Anthropic's shape, which its SDKs read. Streams' errors are the relay's.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, HeaderValue};
use serde_json::Value;
use switchboard_core::provider::messages;

/// The largest error body reshaped; a larger one (never the gateway's) is left as it is.
const MAX_ERROR_BYTES: usize = 256 * 1024;

/// `x-api-key` stands for `Authorization` when the request has neither it nor the Portkey key.
pub fn credentials(mut headers: HeaderMap) -> HeaderMap {
    let has = |name: &str| headers.get(name).is_some_and(|v| !v.is_empty());
    if has("authorization") || has(crate::control::auth::API_KEY_HEADER) {
        return headers;
    }
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        if let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", key.trim())) {
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
    }
    headers
}

/// An error answer in Anthropic's shape (`{"type":"error","error":{type,message}}`).
pub async fn reshape(response: Response) -> Response {
    let status = response.status();
    let is_json = response.headers().get(http::header::CONTENT_TYPE).is_some_and(|v| v == "application/json");
    if status.is_success() || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(openai) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let reshaped = serde_json::to_vec(&messages::error_body(status.as_u16(), &openai)).unwrap_or_default();
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(reshaped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_api_key_stands_for_authorization_only_when_nothing_else_is_sent() {
        let mut alone = HeaderMap::new();
        alone.insert("x-api-key", HeaderValue::from_static("sb-key"));
        assert_eq!(credentials(alone).get("authorization").map(|v| v.to_str().ok()), Some(Some("Bearer sb-key")));
        let mut both = HeaderMap::new();
        both.insert("x-api-key", HeaderValue::from_static("sk-ant"));
        both.insert("authorization", HeaderValue::from_static("Bearer sb-key"));
        assert_eq!(credentials(both).get("authorization").map(|v| v.to_str().ok()), Some(Some("Bearer sb-key")));
    }

    #[tokio::test]
    async fn an_openai_shaped_error_leaves_in_anthropics_shape() {
        let body = serde_json::json!({"error": {"message": "no route", "type": "invalid_request_error"}});
        let response = crate::http::reply::json_value(400, &body);
        let reshaped = reshape(response).await;
        assert_eq!(reshaped.status(), 400);
        let bytes = axum::body::to_bytes(reshaped.into_body(), 4096).await.unwrap_or_default();
        let got: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let expected =
            serde_json::json!({"type": "error", "error": {"type": "invalid_request_error", "message": "no route"}});
        assert_eq!(got, expected);
    }
}
