//! `GET /v1/models`: the model list of the target the request's route picks first, in
//! OpenAI's shape.

use crate::http::error::GatewayError;
use axum::extract::State;
use axum::response::Response;
use http::HeaderMap;
use serde_json::Map;
use switchboard_core::config::RequestFacts;
use switchboard_core::planner::{AllAvailable, Planner};
use switchboard_core::provider::{self, Call, Endpoint};

use crate::control::auth::Principal;
use crate::gateway::admit;
use crate::gateway::attempt::Deadline;
use crate::gateway::target::resolve_target;
use crate::gateway::SharedGateway;
use crate::gateway::{route, upstream};
use crate::http::headers::Inbound;
use crate::http::reply::{self, RouteInfo};

pub async fn list(State(state): State<SharedGateway>, headers: HeaderMap) -> Response {
    let (principal, inbound) = match admit(&state, &headers).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let mut info = RouteInfo { trace_id: inbound.trace_id.clone(), ..RouteInfo::default() };
    match fetch(&state, &principal, &inbound, &mut info).await {
        Ok(mut response) => {
            reply::stamp(&mut response, &info);
            response
        }
        Err(err) => reply::gateway_error(&err, &info),
    }
}

async fn fetch(
    state: &SharedGateway,
    principal: &Principal,
    inbound: &Inbound,
    info: &mut RouteInfo,
) -> Result<Response, GatewayError> {
    let resolved = route::resolve(inbound, principal, state).await?;
    let params = Map::new();
    let facts = RequestFacts { metadata: &inbound.metadata, params: &params };
    let leaf = Planner::new(&resolved.tree, facts, &AllAvailable, crate::support::ids::fast_rng())
        .first()
        .map_err(|no| GatewayError::NoRoute(no.to_string()))?
        .leaf;
    let target = resolve_target(state, principal, inbound, leaf).await?;
    let spec = target.spec;
    info.target_path = Some(leaf.path.clone());
    info.provider = Some(spec.id);
    let call = Call {
        spec,
        endpoint: Endpoint::ChatCompletions,
        options: &target.options,
        custom_host: target.custom_host.as_deref(),
        api_key: target.api_key.expose(),
        default_max_tokens: None,
    };
    let invalid = |e: provider::CodecError| GatewayError::InvalidRequest(format!("{} ({}): {e}", leaf.path, spec.id));
    let request = provider::models_request(&call).map_err(invalid)?;
    let limits = &state.settings.limits;
    let clock = Deadline::for_leaf(limits, inbound, leaf);
    let timed_out = || clock.timeout_error(spec.id);
    let response = clock
        .within(state.upstream.get(request))
        .await
        .ok_or_else(timed_out)?
        .map_err(|e| upstream::send_error(spec.id, e))?;
    let status = response.status().as_u16();
    let body = clock
        .within(upstream::read_capped(response, limits.max_body_bytes))
        .await
        .ok_or_else(timed_out)?
        .map_err(|e| upstream::read_error(spec.id, e))?;
    if !(200..300).contains(&status) {
        return Ok(reply::json_value(status, &provider::translate_error(spec, status, &body)));
    }
    let out = provider::translate_models(spec, &body)
        .map_err(|e| GatewayError::BadUpstream { provider: spec.id.into(), detail: e.to_string() })?;
    Ok(reply::json(status, out))
}
