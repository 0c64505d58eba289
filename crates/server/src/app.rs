//! The HTTP surface: `fn app(state) -> Router`. Handlers are thin: check auth, read the
//! request, resolve its route, hand it to the executor. Two layers wrap them: the
//! inference routes admit at most `--max-in-flight` requests at once (503 with
//! `Retry-After: 1` past it, never a queue), and every route is under a catch-panic layer
//! that answers a panic with a 500 JSON error instead of dropping the connection.

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

use crate::attempt::Job;
use crate::auth::Principal;
use crate::executor;
use crate::headers::Inbound;
use crate::reply::{self, RouteInfo};
use crate::state::SharedState;
use crate::{auth, models, route};

pub fn app(state: SharedState) -> Router {
    let inference = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/models", get(models::list))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), admit_in_flight));
    let router = Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .merge(inference)
        .merge(crate::admin::router())
        .merge(crate::logs_api::router())
        .fallback(not_found)
        .with_state(state);
    catch_panics(router)
}

/// Any panic below becomes a 500 JSON error (`x-portkey-gateway-exception: true`) and an
/// error-level log line; the connection lives on. The request's log record is written by
/// its recorder's drop guard while the panic unwinds.
pub fn catch_panics(router: Router) -> Router {
    router.layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    tracing::error!("request handler panicked: {what}");
    let err = GatewayError::Internal("the gateway failed while handling this request".into());
    // gateway_error sets `x-portkey-gateway-exception: true`, as on every gateway-side error.
    reply::gateway_error(&err, &RouteInfo::default())
}

/// Admits the request if a permit is free, holding it until the response body is done
/// (a stream holds its permit while it streams).
async fn admit_in_flight(
    State(state): State<SharedState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Ok(permit) = state.in_flight.clone().try_acquire_owned() else {
        state.metrics.rejected_busy.inc();
        let err = GatewayError::Busy { limit: state.settings.max_in_flight };
        // Counted, not logged: this is before authentication, and an overload is no time to
        // let anyone add rows to the request log.
        let trace_id = crate::headers::trace_id(request.headers());
        let mut response = reply::gateway_error(&err, &RouteInfo { trace_id, ..RouteInfo::default() });
        response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
        return response;
    };
    let response = next.run(request).await;
    response.map(|body| {
        Body::new(http_body_util::BodyExt::map_frame(body, move |frame| {
            let _held = &permit;
            frame
        }))
    })
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

async fn proxy(state: SharedState, mut headers: HeaderMap, body: Body, endpoint: Endpoint) -> Response {
    crate::headers::mark_credentials_sensitive(&mut headers);
    let (principal, inbound) = match admit(&state, &headers).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let route_info = RouteInfo { trace_id: inbound.trace_id.clone(), ..RouteInfo::default() };
    let (raw, body, resolved) = match prepare(&state, &principal, &inbound, body).await {
        Ok(parts) => parts,
        Err(err) => {
            // An authenticated request refused before routing (bad body or config, a config
            // it may not use) is logged; unauthenticated ones are not (anyone could fill the log).
            crate::logs::log_refusal(&state.logs, &inbound.trace_id, &err);
            return reply::gateway_error(&err, &route_info);
        }
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
