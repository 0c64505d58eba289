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

use crate::auth::Principal;
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
        .route("/metrics", get(metrics))
        .merge(crate::admin::router())
        .merge(crate::logs_api::router())
        .fallback(not_found)
        .with_state(state)
}

async fn root() -> Response {
    reply::json_value(200, &json!({"name": "switchboard", "version": env!("CARGO_PKG_VERSION"), "status": "ok"}))
}

async fn health() -> Response {
    reply::json_value(200, &json!({"status": "ok"}))
}

async fn metrics(State(state): State<SharedState>) -> Response {
    let mut response = Response::new(Body::from(state.metrics.render()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
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
pub async fn admit(state: &SharedState, headers: &HeaderMap) -> Result<(Principal, Inbound), Response> {
    let trace_id = crate::headers::trace_id(headers);
    let fail =
        |e: GatewayError| reply::gateway_error(&e, &RouteInfo { trace_id: trace_id.clone(), ..RouteInfo::default() });
    let (principal, key_in_authorization) = auth::authenticate(state, headers).await.map_err(fail)?;
    let inbound = Inbound::parse(headers, trace_id.clone(), key_in_authorization).map_err(fail)?;
    Ok((principal, inbound))
}

async fn proxy(state: SharedState, headers: HeaderMap, body: Body, endpoint: Endpoint) -> Response {
    let (principal, inbound) = match admit(&state, &headers).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let route_info = RouteInfo { trace_id: inbound.trace_id.clone(), ..RouteInfo::default() };
    let (raw, body, resolved) = match prepare(&state, &principal, &inbound, body).await {
        Ok(parts) => parts,
        Err(err) => return reply::gateway_error(&err, &route_info),
    };
    let stream = body.get("stream") == Some(&Value::Bool(true));
    let job = Job {
        state: &state,
        principal: &principal,
        inbound: &inbound,
        client_headers: &headers,
        endpoint,
        body: &body,
        raw,
        stream,
    };
    executor::execute(&job, &resolved).await
}

async fn prepare(
    state: &SharedState,
    principal: &Principal,
    inbound: &Inbound,
    body: Body,
) -> Result<(Bytes, Map<String, Value>, route::Resolved), GatewayError> {
    let raw = read_body(body, state.settings.max_body_bytes).await?;
    let map = parse_body(&raw)?;
    let resolved = route::resolve(inbound, principal, state).await?;
    Ok((raw, map, resolved))
}

pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, GatewayError> {
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

pub(crate) fn parse_body(raw: &[u8]) -> Result<Map<String, Value>, GatewayError> {
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(GatewayError::InvalidRequest("request body must be a JSON object".into())),
        Err(e) => Err(GatewayError::InvalidRequest(format!("request body is not valid JSON: {e}"))),
    }
}
