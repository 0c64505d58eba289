//! Reading a request body under the server's size cap, and taking it as a JSON object. The
//! one home for both: the gateway, the admin API and the logs API read bodies here.

use crate::http::error::GatewayError;
use axum::body::Body;
use bytes::Bytes;
use serde_json::{Map, Value};

/// The whole body, at most `limit` bytes (413 past it).
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        if is_length_limit(&err) {
            GatewayError::BodyTooLarge { limit }
        } else {
            GatewayError::InvalidRequest(format!("could not read the request body: {err}"))
        }
    })
}

fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// The body as JSON (400 when it is not).
pub fn parse_value(raw: &[u8]) -> Result<Value, GatewayError> {
    serde_json::from_slice(raw)
        .map_err(|e| GatewayError::InvalidRequest(format!("request body is not valid JSON: {e}")))
}

/// The body as a JSON object (400 for anything else).
pub fn parse_body(raw: &[u8]) -> Result<Map<String, Value>, GatewayError> {
    match parse_value(raw)? {
        Value::Object(map) => Ok(map),
        _ => Err(GatewayError::InvalidRequest("request body must be a JSON object".into())),
    }
}

/// The body, at most `limit` bytes, as JSON.
pub async fn read_value(body: Body, limit: usize) -> Result<Value, GatewayError> {
    parse_value(&read_body(body, limit).await?)
}

/// The body, at most `limit` bytes, as a JSON object.
pub async fn read_object(body: Body, limit: usize) -> Result<Map<String, Value>, GatewayError> {
    parse_body(&read_body(body, limit).await?)
}
