//! The HTTP surface: `fn app(state) -> Router`. Handlers are thin: check auth, read the
//! request, resolve its route, hand it to the executor.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http::HeaderMap;
use serde_json::{json, Map, Value};
use switchboard_core::error::GatewayError;
use switchboard_core::provider::Endpoint;

use crate::executor::{self, Job};
use crate::headers::Inbound;
use crate::reply::{self, RouteInfo};
use crate::state::SharedState;
use crate::{auth, models, route};

pub fn app(state: SharedState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/models", get(models::list))
        .fallback(not_found)
        .with_state(state)
}

async fn root() -> Response {
    reply::json_value(200, &json!({"name": "switchboard", "version": env!("CARGO_PKG_VERSION"), "status": "ok"}))
}

async fn health() -> Response {
    reply::json_value(200, &json!({"status": "ok"}))
}

async fn not_found(uri: http::Uri) -> Response {
    let err = GatewayError::NotFound(format!("no route for {}", uri.path()));
    reply::gateway_error(&err, &RouteInfo::default())
}

async fn chat_completions(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    proxy(state, headers, body, Endpoint::ChatCompletions).await
}

async fn completions(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    proxy(state, headers, body, Endpoint::Completions).await
}

async fn embeddings(State(state): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    proxy(state, headers, body, Endpoint::Embeddings).await
}

/// Authenticates and reads the Portkey headers; on failure, the error response.
pub fn admit(state: &SharedState, headers: &HeaderMap) -> Result<Inbound, Response> {
    let admin_key = state.settings.admin_key.as_deref();
    let early = RouteInfo { trace_id: crate::headers::trace_id(headers), ..RouteInfo::default() };
    auth::check(admin_key, headers).map_err(|e| reply::gateway_error(&e, &early))?;
    Inbound::parse(headers, admin_key).map_err(|e| reply::gateway_error(&e, &early))
}

async fn proxy(state: SharedState, headers: HeaderMap, body: Body, endpoint: Endpoint) -> Response {
    let inbound = match admit(&state, &headers) {
        Ok(inbound) => inbound,
        Err(response) => return response,
    };
    let route_info = RouteInfo { trace_id: inbound.trace_id.clone(), ..RouteInfo::default() };
    let prepared = read_body(body, state.settings.max_body_bytes)
        .await
        .and_then(|raw| parse_body(&raw).map(|map| (raw, map)))
        .and_then(|(raw, map)| route::resolve(&inbound, &state.configs).map(|tree| (raw, map, tree)));
    let (raw, body, tree) = match prepared {
        Ok(parts) => parts,
        Err(err) => return reply::gateway_error(&err, &route_info),
    };
    let stream = body.get("stream") == Some(&Value::Bool(true));
    let job = Job { state: &state, inbound: &inbound, client_headers: &headers, endpoint, body: &body, raw, stream };
    executor::execute(&job, &tree).await
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, GatewayError> {
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

fn parse_body(raw: &[u8]) -> Result<Map<String, Value>, GatewayError> {
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(GatewayError::InvalidRequest("request body must be a JSON object".into())),
        Err(e) => Err(GatewayError::InvalidRequest(format!("request body is not valid JSON: {e}"))),
    }
}
