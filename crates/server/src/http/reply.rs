//! Turning outcomes into HTTP responses: gateway errors as OpenAI-shaped JSON with
//! `x-portkey-gateway-exception: true`, and the Portkey response headers on every answer.

use crate::http::error::GatewayError;
use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use serde_json::Value;

pub const LAST_USED_OPTION_INDEX: &str = "x-portkey-last-used-option-index";
pub const RETRY_ATTEMPT_COUNT: &str = "x-portkey-retry-attempt-count";
pub const PROVIDER: &str = "x-portkey-provider";
pub const GATEWAY_EXCEPTION: &str = "x-portkey-gateway-exception";
/// The request's cost in USD (non-stream answers from a priced model).
pub const COST: &str = "x-switchboard-cost-usd";

/// What routing did, stamped on the response.
#[derive(Debug, Default, Clone)]
pub struct RouteInfo {
    pub trace_id: String,
    pub target_path: Option<String>,
    pub provider: Option<&'static str>,
    pub retries: u32,
    /// Request fields the target's provider has no equivalent for, dropped in translation.
    pub ignored: Vec<&'static str>,
}

pub fn json(status: u16, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub fn json_value(status: u16, value: &Value) -> Response {
    json(status, serde_json::to_vec(value).unwrap_or_default())
}

/// A gateway-side error: logged once here, answered in OpenAI's error shape.
pub fn gateway_error(err: &GatewayError, route: &RouteInfo) -> Response {
    if matches!(err, GatewayError::Internal { .. }) {
        tracing::error!(trace_id = %route.trace_id, code = err.code(), "{}", crate::http::error::chain(err));
    } else if err.status() >= 500 {
        tracing::warn!(trace_id = %route.trace_id, code = err.code(), "{err}");
    } else {
        tracing::debug!(trace_id = %route.trace_id, code = err.code(), "{err}");
    }
    let mut response = json_value(err.status(), &err.to_json(&route.trace_id));
    response.headers_mut().insert(GATEWAY_EXCEPTION, HeaderValue::from_static("true"));
    if let Some(after) = err.retry_after() {
        let seconds = crate::http::error::whole_seconds(u64::try_from(after.as_millis()).unwrap_or(u64::MAX));
        response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    stamp(&mut response, route);
    response
}

/// Adds the Portkey response headers.
pub fn stamp(response: &mut Response, route: &RouteInfo) {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&route.trace_id) {
        headers.insert(crate::http::headers::TRACE_ID, v);
    }
    if let Some(path) = route.target_path.as_deref().and_then(|p| HeaderValue::from_str(p).ok()) {
        headers.insert(LAST_USED_OPTION_INDEX, path);
    }
    if let Some(provider) = route.provider {
        headers.insert(PROVIDER, HeaderValue::from_static(provider));
    }
    headers.insert(RETRY_ATTEMPT_COUNT, HeaderValue::from(route.retries));
    if let Some(ignored) = Some(route.ignored.join(", ")).filter(|i| !i.is_empty()) {
        if let Ok(value) = HeaderValue::from_str(&ignored) {
            headers.insert(IGNORED_PARAMS, value);
        }
    }
}

/// Names the request fields a translation dropped because the provider has no equivalent
/// (e.g. `reasoning.effort` on Anthropic).
pub const IGNORED_PARAMS: &str = "x-switchboard-ignored-params";
