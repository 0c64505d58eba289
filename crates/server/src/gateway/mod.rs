//! One inference request's path, in the order it runs: authenticate and read the Portkey
//! headers (`admit`), read the body, resolve the route (`route`: inline or saved config,
//! virtual keys, what the caller may use), then the executor walks the planner's attempts
//! (`executor`), each of which builds its target (`target`: provider, credentials, options),
//! reserves on its virtual key's limits (`key_limits`, which also holds the API key's),
//! is sent within its deadline (`attempt`) through the one upstream client (`upstream`,
//! behind the `egress` policy), and whose answer is relayed (`relay`). `/v1/models` takes the same route to its first target
//! (`models`). Decisions come from `switchboard-core`; this folder does the I/O around them.

mod anthropic_api;
mod attempt;
pub mod egress;
mod eligibility;
mod executor;
mod explain;
mod health;
mod health_view;
mod key_limits;
mod models;
mod relay;
mod route;
mod target;
mod translate;
pub mod upstream;
mod wire;

use std::sync::Arc;

use crate::http::error::GatewayError;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value};
use switchboard_core::provider::Endpoint;

use crate::control::auth::{self, Principal};
use crate::control::{ConfigCache, Control};
use crate::http::body::{parse_body, read_body};
use crate::http::headers::{self, Inbound};
use crate::http::reply::{self, RouteInfo};
use crate::observe::metrics::Metrics;
use crate::observe::LogSink;
use crate::policy::limits::Limiter;
use crate::settings::Settings;
use attempt::Job;
use upstream::Upstream;

/// What the request path reads: settings, the one upstream client, the parsed-config cache,
/// the control plane, metrics and the log sink.
pub struct GatewayState {
    pub settings: Arc<Settings>,
    pub upstream: Upstream,
    /// Parsed inline configs.
    pub configs: ConfigCache,
    pub control: Arc<Control>,
    pub metrics: Arc<Metrics>,
    /// Where finished request records go (metrics, and the log writer when logging is on).
    pub logs: LogSink,
    /// Target health and key limits.
    pub policy: Arc<crate::policy::Policy>,
    /// Virtual keys' and API keys' limits.
    pub limits: Arc<Limiter>,
}

pub type SharedGateway = Arc<GatewayState>;

/// The inference routes.
pub fn router(state: SharedGateway) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/responses", post(responses))
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/models", get(models::list))
        .route("/v1/route/explain", post(explain::handle))
        .route("/v1/health/targets", get(health_view::list))
        .with_state(state)
}

async fn chat_completions(State(state): State<SharedGateway>, headers: HeaderMap, body: Body) -> Response {
    proxy(state, headers, body, Endpoint::ChatCompletions).await
}

async fn completions(State(state): State<SharedGateway>, headers: HeaderMap, body: Body) -> Response {
    proxy(state, headers, body, Endpoint::Completions).await
}

async fn embeddings(State(state): State<SharedGateway>, headers: HeaderMap, body: Body) -> Response {
    proxy(state, headers, body, Endpoint::Embeddings).await
}

/// OpenAI's Responses API: OpenAI and Azure targets pass through, the others are served through chat.
async fn responses(State(state): State<SharedGateway>, headers: HeaderMap, body: Body) -> Response {
    proxy(state, headers, body, Endpoint::Responses).await
}

/// Anthropic's Messages API: Anthropic targets pass through, the others are served through chat.
async fn messages(State(state): State<SharedGateway>, headers: HeaderMap, body: Body) -> Response {
    anthropic_api::reshape(proxy(state, anthropic_api::credentials(headers), body, Endpoint::Messages).await).await
}

/// Anthropic's token counting, passed through to Anthropic targets (no other provider has it).
async fn count_tokens(State(state): State<SharedGateway>, headers: HeaderMap, body: Body) -> Response {
    anthropic_api::reshape(proxy(state, anthropic_api::credentials(headers), body, Endpoint::CountTokens).await).await
}

/// Authenticates and reads the Portkey headers; on failure, the error response.
pub async fn admit(state: &GatewayState, headers: &HeaderMap) -> Result<(Principal, Inbound), Response> {
    let trace_id = headers::trace_id(headers);
    let fail =
        |e: GatewayError| reply::gateway_error(&e, &RouteInfo { trace_id: trace_id.clone(), ..RouteInfo::default() });
    let (principal, key_in_authorization) =
        auth::authenticate(&state.settings, &state.control, headers).await.map_err(fail)?;
    let inbound = Inbound::parse(headers, trace_id.clone(), key_in_authorization).map_err(fail)?;
    Ok((principal, inbound))
}

async fn proxy(state: SharedGateway, mut headers: HeaderMap, body: Body, endpoint: Endpoint) -> Response {
    headers::mark_credentials_sensitive(&mut headers);
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
            crate::observe::log_refusal(&state.logs, &inbound.trace_id, &err);
            return reply::gateway_error(&err, &route_info);
        }
    };
    let held = match key_limits::for_api_key(&state, &principal, &body, &resolved.tree).await {
        Ok(held) => held,
        Err(err) => {
            crate::observe::log_refusal(&state.logs, &inbound.trace_id, &err);
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
    executor::execute(&job, &resolved, held).await
}

async fn prepare(
    state: &GatewayState,
    principal: &Principal,
    inbound: &Inbound,
    body: Body,
) -> Result<(Bytes, Map<String, Value>, route::Resolved), GatewayError> {
    let raw = read_body(body, state.settings.max_body_bytes).await?;
    let map = parse_body(&raw)?;
    let resolved = route::resolve(inbound, principal, state).await?;
    Ok((raw, map, resolved))
}
