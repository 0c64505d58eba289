//! `GET /v1/health/targets` (admin scope): every target identity the gateway knows, with
//! its state, counts, cooldown, rate-limit headroom and last error class. Identities show a
//! virtual key's slug or a hash prefix of an inline key, never a secret.

use axum::extract::State;
use axum::response::Response;
use http::HeaderMap;
use serde_json::{json, Value};
use switchboard_core::health::headroom::Quota;

use crate::control::auth::forbidden;
use crate::gateway::{admit, SharedGateway};
use crate::http::reply::{self, RouteInfo};
use crate::policy::health::TargetView;
use crate::support::clock;

pub async fn list(State(state): State<SharedGateway>, headers: HeaderMap) -> Response {
    let (principal, inbound) = match admit(&state, &headers).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    if !principal.is_admin() {
        let info = RouteInfo { trace_id: inbound.trace_id, ..RouteInfo::default() };
        return reply::gateway_error(&forbidden("the health view needs an API key of admin scope"), &info);
    }
    let now = clock::now_ms();
    let targets: Vec<Value> = state.policy.health.view(now).iter().map(|t| target(t, now)).collect();
    let shared = state.policy.shared_health.as_ref();
    let shared_state = json!({"redis": shared.is_some(), "degraded": shared.is_some_and(|s| s.is_degraded())});
    reply::json_value(200, &json!({"object": "list", "shared_state": shared_state, "data": targets}))
}

fn target(t: &TargetView, now: u64) -> Value {
    let until = t.state.available_at_ms();
    json!({
        "id": t.label.id.to_string(),
        "provider": t.label.provider,
        "credential": t.label.credential,
        "destination": t.label.destination,
        "model": t.label.model,
        "state": t.state.as_str(),
        "until_ms": (until > now).then_some(until),
        "successes": t.successes,
        "failures": t.failures,
        "cooldown_until_ms": t.cool_until_ms,
        "headroom": {"requests": t.headroom.requests.map(quota), "tokens": t.headroom.tokens.map(quota)},
        "last_status": t.last_status,
        "last_error": t.last_error,
    })
}

fn quota(q: Quota) -> Value {
    json!({"remaining": q.remaining, "limit": q.limit, "reset_at_ms": q.reset_at_ms})
}
