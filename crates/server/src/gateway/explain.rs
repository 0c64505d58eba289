//! `POST /v1/route/explain`: the order a request would meet its targets in, with each
//! one's state (`available`, `open`, `half_open`, `cooling`, `no_headroom`, `limited`,
//! `weight_zero`) and why — from the same tree, health snapshot and sticky ranking the
//! request path uses, without calling any provider.
//!
//! Body: `{"config": {…} | "config_id": "slug", "request": {"model", "metadata", …params}}`.
//! A caller may explain only configs it may route through.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use http::HeaderMap;
use serde_json::{json, Map, Value};
use switchboard_core::config::{validate_config, RequestFacts, RouteTree};
use switchboard_core::planner::{explain, Entry, Explained};

use crate::control::auth::Principal;
use crate::gateway::health;
use crate::gateway::{admit, GatewayState, SharedGateway};
use crate::http::body::read_object;
use crate::http::error::GatewayError;
use crate::http::reply::{self, RouteInfo};
use crate::policy::snapshot::RequestKeys;
use crate::support::clock;

pub async fn handle(State(state): State<SharedGateway>, headers: HeaderMap, body: Body) -> Response {
    let (principal, inbound) = match admit(&state, &headers).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let info = RouteInfo { trace_id: inbound.trace_id.clone(), ..RouteInfo::default() };
    match run(&state, &principal, inbound.api_key.as_ref(), body).await {
        Ok(value) => reply::json_value(200, &value),
        Err(err) => reply::gateway_error(&err, &info),
    }
}

async fn run(
    state: &GatewayState,
    principal: &Principal,
    client_key: Option<&switchboard_core::secret::Secret>,
    body: Body,
) -> Result<Value, GatewayError> {
    let mut body = read_object(body, state.settings.max_body_bytes).await?;
    let (tree, config_id) = tree(state, principal, &body).await?;
    tree.leaves()
        .filter_map(|leaf| leaf.virtual_key.as_deref())
        .try_for_each(|slug| principal.may_use_virtual_key(slug))?;
    let mut request = match body.remove("request") {
        None => Map::new(),
        Some(Value::Object(request)) => request,
        Some(_) => return Err(GatewayError::InvalidRequest("request: expected an object".into())),
    };
    let metadata = match request.remove("metadata") {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(GatewayError::InvalidRequest("request.metadata: expected an object".into())),
    };
    let keys = RequestKeys { client_key, body: &request };
    let snapshot = health::snapshot_for(state, &tree, keys).await;
    let explained = explain(&tree, RequestFacts { metadata: &metadata, params: &request }, &snapshot);
    Ok(render(&tree, config_id.as_deref(), &explained, &request))
}

/// The tree to explain: `config` (inline) or `config_id` (saved), one of them.
async fn tree(
    state: &GatewayState,
    principal: &Principal,
    body: &Map<String, Value>,
) -> Result<(std::sync::Arc<RouteTree>, Option<String>), GatewayError> {
    match (body.get("config"), body.get("config_id")) {
        (Some(config), None) => {
            principal.may_use_config(None)?;
            let tree = validate_config(config).map_err(GatewayError::InvalidConfig)?;
            Ok((std::sync::Arc::new(tree), None))
        }
        (None, Some(Value::String(slug))) => {
            principal.may_use_config(Some(slug))?;
            let saved = state.control.saved_config(slug, "config_id").await?;
            Ok((saved.tree.clone(), Some(saved.slug.clone())))
        }
        (None, Some(_)) => Err(GatewayError::InvalidRequest("config_id: expected a saved config's ID".into())),
        _ => Err(GatewayError::InvalidRequest(
            "send exactly one of \"config\" (a config object) and \"config_id\" (a saved config's ID)".into(),
        )),
    }
}

fn render(tree: &RouteTree, config_id: Option<&str>, explained: &Explained<'_>, request: &Map<String, Value>) -> Value {
    let now = clock::now_ms();
    let order: Vec<Value> = explained.entries.iter().map(|e| entry(e, request, now)).collect();
    let sticky: Vec<Value> = explained
        .sticky
        .iter()
        .map(|s| {
            let path = |i: &usize| s.group.targets[*i].node.path();
            json!({"group_path": s.group.path, "ranking": s.ranking.iter().map(path).collect::<Vec<_>>()})
        })
        .collect();
    let fail = matches!(&tree.root, switchboard_core::config::Node::Group(g) if g.fail_when_all_unavailable);
    json!({
        "config_id": config_id,
        "strategy": tree.mode().as_str(),
        "order": order,
        "sticky": sticky,
        "no_route": explained.no_route,
        "all_unavailable": explained.all_unavailable(),
        "on_all_unavailable": if fail { "fail" } else { "fail_open" },
    })
}

fn entry(e: &Entry<'_>, request: &Map<String, Value>, now: u64) -> Value {
    let leaf = e.leaf;
    let model = leaf.override_params.get("model").or_else(|| request.get("model")).cloned();
    let until = e.state.map(|s| s.available_at_ms()).filter(|until| *until > now);
    json!({
        "target_path": leaf.path,
        "provider": leaf.provider,
        "virtual_key": leaf.virtual_key,
        "model": model,
        "state": e.state_name(),
        "until_ms": until,
        "reason": e.reason,
    })
}
