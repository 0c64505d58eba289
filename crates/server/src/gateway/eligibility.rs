//! Which of a request's targets can serve its endpoint (and this request: a Responses request
//! that needs conversation state only where the Responses API itself is). Each leaf's provider (its own, or its
//! virtual key's) is asked the capability table in core; the ones that cannot serve are
//! handed to the planner as `Unsupported` on top of their health, so that loadbalance
//! renormalises, fallback skips (both noted in the log with the reason) and, when none can
//! serve, the request is refused with every target named. Nothing is decided here: the
//! table is core's and the walk is the planner's. A virtual key that cannot be read is left
//! eligible: its attempt reports the real error.

use serde_json::{Map, Value};
use switchboard_core::config::{Leaf, RouteTree};
use switchboard_core::health::TargetState;
use switchboard_core::planner::Health;
use switchboard_core::provider::{self, Endpoint, ProviderSpec};

use crate::gateway::GatewayState;
use crate::policy::snapshot::Snapshot;

/// A request's health snapshot with the targets that cannot serve its endpoint marked.
pub struct Eligible<'s, 't> {
    snapshot: &'s Snapshot<'t>,
    unsupported: Vec<(&'t Leaf, &'static str)>,
}

impl Health for Eligible<'_, '_> {
    fn state(&self, leaf: &Leaf) -> TargetState {
        match self.unsupported.iter().find(|(l, _)| std::ptr::eq(*l, leaf)) {
            Some((_, reason)) => TargetState::Unsupported { reason },
            None => self.snapshot.state(leaf),
        }
    }
}

/// Marks the leaves of `tree` whose provider cannot serve `endpoint`. Endpoints every
/// provider serves cost nothing (no leaf is looked at).
pub async fn check<'s, 't>(
    state: &GatewayState,
    (endpoint, body): (Endpoint, &Map<String, Value>),
    tree: &'t RouteTree,
    snapshot: &'s Snapshot<'t>,
) -> Eligible<'s, 't> {
    let mut unsupported = Vec::new();
    if !provider::served_by_all(endpoint) {
        for leaf in tree.leaves() {
            let Some(spec) = provider_of(state, leaf).await else { continue };
            if let Err(reason) = provider::serves_request(spec, endpoint, body) {
                unsupported.push((leaf, reason));
            }
        }
    }
    Eligible { snapshot, unsupported }
}

/// The provider `leaf` calls: its own, else its virtual key's (from the control plane's cache).
async fn provider_of(state: &GatewayState, leaf: &Leaf) -> Option<&'static ProviderSpec> {
    if let Some(id) = &leaf.provider {
        return provider::lookup(id);
    }
    let slug = leaf.virtual_key.as_deref()?;
    let key = state.control.virtual_key(slug, &format!("{}.virtual_key", leaf.path)).await.ok()?;
    provider::lookup(&key.provider)
}
