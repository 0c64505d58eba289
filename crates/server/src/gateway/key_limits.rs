//! Where a request meets the limits on keys: its API key's, once it is admitted and its
//! route resolved (before any attempt), and a virtual key's, when an attempt's target uses
//! one. Each reserves the request's estimate through the [`Limiter`]; the request's
//! recorder holds the reservation and settles it when the request's record is finished.
//!
//! [`Limiter`]: crate::policy::limits::Limiter

use serde_json::{Map, Value};
use switchboard_core::config::{Leaf, Node, RouteTree};
use switchboard_core::limits::parse_key_limits;
use switchboard_core::pricing::{self, Price};

use crate::control::auth::Principal;
use crate::gateway::target::Target;
use crate::gateway::GatewayState;
use crate::http::error::GatewayError;
use crate::policy::limits::{estimate::estimate, KeyRef, Reservation};

/// Reserves on the calling API key's limits, if it has any. The cost is estimated at the
/// price of the route's first target (the one most requests take).
pub async fn for_api_key(
    state: &GatewayState,
    principal: &Principal,
    body: &Map<String, Value>,
    tree: &RouteTree,
) -> Result<Option<Reservation>, GatewayError> {
    let Principal::ApiKey(key) = principal else { return Ok(None) };
    if key.rate_limits.is_none() && key.usage_limits.is_none() {
        return Ok(None);
    }
    let limits = parse_key_limits(key.rate_limits.as_ref(), key.usage_limits.as_ref(), "api_key").map_err(|p| {
        GatewayError::InvalidRequest(format!("this API key is stored with limits this gateway refuses ({p})"))
    })?;
    let price = first_leaf(&tree.root).and_then(|leaf| price(leaf, None, body));
    let amounts = estimate(body, price);
    state.limits.reserve(KeyRef::api_key(&key.id), &limits, amounts).await.map(Some)
}

/// Reserves on the limits of the attempt's virtual key, if it has any.
pub async fn for_virtual_key(
    state: &GatewayState,
    target: &Target,
    leaf: &Leaf,
    body: &Map<String, Value>,
) -> Result<Option<Reservation>, GatewayError> {
    let Some(key) = target.virtual_key.as_ref().filter(|k| !k.limits.is_empty()) else { return Ok(None) };
    let amounts = estimate(body, price(leaf, Some(target.spec.id), body));
    state.limits.reserve(KeyRef::virtual_key(&key.slug), &key.limits, amounts).await.map(Some)
}

/// The target's own `pricing`, else the list price of the body's model at its provider.
fn price(leaf: &Leaf, provider: Option<&str>, body: &Map<String, Value>) -> Option<Price> {
    let model = body.get("model").and_then(Value::as_str).unwrap_or_default();
    let model = leaf.override_params.get("model").and_then(Value::as_str).unwrap_or(model);
    leaf.pricing.or_else(|| pricing::lookup(provider.or(leaf.provider.as_deref())?, model))
}

fn first_leaf(node: &Node) -> Option<&Leaf> {
    match node {
        Node::Leaf(leaf) => Some(leaf),
        Node::Group(group) => first_leaf(&group.targets.first()?.node),
    }
}
