//! One request's view of target health: each leaf of its tree named by its identity
//! ([`label`]) and looked up once in the [`HealthTable`], so the planner reads a snapshot
//! that cannot change under it (and is `Sync`: the request future stays `Send`).
//!
//! Identity: provider + credential + destination + model. The credential is the virtual
//! key's slug, or a SHA-256 prefix of an inline or client key (never the key itself). A
//! virtual key's destination is its own unless the config overrides it; its provider is the
//! key's, so the slug alone names it.

use serde_json::{Map, Value};
use switchboard_core::config::{Leaf, Node, RouteTree};
use switchboard_core::health::headroom::{estimate_tokens, DEFAULT_OUTPUT_TOKENS};
use switchboard_core::health::TargetState;
use switchboard_core::planner::Health;
use switchboard_core::secret::Secret;

use super::health::{HealthTable, TargetId, TargetLabel};

/// The request facts an identity is made of.
#[derive(Clone, Copy)]
pub struct RequestKeys<'a> {
    /// The client's provider key (`Authorization`), for targets without their own.
    pub client_key: Option<&'a Secret>,
    pub body: &'a Map<String, Value>,
}

/// Characters of the model kept in an identity.
const MAX_MODEL_CHARS: usize = 128;

/// The identity of the target `leaf` calls for this request.
pub fn label(leaf: &Leaf, keys: RequestKeys<'_>) -> TargetLabel {
    let credential = match (&leaf.virtual_key, &leaf.api_key, keys.client_key) {
        (Some(slug), _, _) => format!("vk:{slug}"),
        (None, Some(key), _) | (None, None, Some(key)) => key_credential(key),
        (None, None, None) => "none".to_string(),
    };
    let model = leaf.override_params.get("model").or_else(|| keys.body.get("model")).and_then(Value::as_str);
    // A client's model string is part of a key in Redis and a metric label: keep it short.
    let model = model.map(|m| switchboard_core::text::cut(m, MAX_MODEL_CHARS));
    TargetLabel {
        provider: leaf.provider.clone().unwrap_or_else(|| "virtual-key".to_string()),
        credential,
        destination: leaf.custom_host.clone().unwrap_or_else(|| "default".to_string()),
        model: model.unwrap_or_default().to_string(),
    }
}

/// A key as its identity shows it: 64 bits of a stable hash, in hex. It tells keys apart
/// and cannot be turned back into the key (as little as a SHA-256 prefix could), at a small
/// fraction of SHA-256's cost on every request.
fn key_credential(key: &Secret) -> String {
    format!("key:{:016x}", switchboard_core::health::rendezvous::stable_hash(key.expose().as_bytes()))
}

/// Each leaf's state, by the leaf's address in the tree (stable for the request).
pub struct Snapshot {
    states: Vec<Looked>,
}

struct Looked {
    address: usize,
    label: TargetLabel,
    id: TargetId,
    state: TargetState,
}

impl Snapshot {
    /// Nothing known: every target available, nothing looked up.
    pub fn empty() -> Self {
        Snapshot { states: Vec::new() }
    }

    /// Looks up every leaf of `tree`; `limited` says until when a virtual key's own limits
    /// are spent. The request's token estimate (for headroom) is made once, and only when
    /// some target has a token quota.
    pub fn take(
        table: &HealthTable,
        tree: &RouteTree,
        keys: RequestKeys<'_>,
        now_ms: u64,
        limited: &dyn Fn(&str) -> Option<u64>,
    ) -> Self {
        let estimate = std::cell::OnceCell::new();
        let tokens = || *estimate.get_or_init(|| estimate_tokens(keys.body, DEFAULT_OUTPUT_TOKENS));
        let mut leaves = Vec::new();
        collect(&tree.root, &mut leaves);
        let states = leaves
            .into_iter()
            .map(|leaf| {
                let label = label(leaf, keys);
                let id = label.id();
                let mut state = table.state(&id, now_ms, &tokens);
                if let Some(until_ms) = leaf.virtual_key.as_deref().and_then(limited) {
                    state = state.worst(TargetState::Limited { until_ms });
                }
                Looked { address: address(leaf), label, id, state }
            })
            .collect();
        Snapshot { states }
    }

    fn find(&self, leaf: &Leaf) -> Option<&Looked> {
        self.states.iter().find(|l| l.address == address(leaf))
    }

    /// The labels of identities `table` has no entry for.
    pub fn unknown(&self, table: &HealthTable) -> Vec<TargetLabel> {
        self.states.iter().filter(|l| !table.knows(&l.id)).map(|l| l.label.clone()).collect()
    }

    /// The identity the snapshot computed for `leaf`, if it looked it up.
    pub fn id(&self, leaf: &Leaf) -> Option<&TargetId> {
        self.find(leaf).map(|l| &l.id)
    }

    /// The identity and label the snapshot computed for `leaf`, else fresh ones.
    pub fn identity(&self, leaf: &Leaf, keys: RequestKeys<'_>) -> (TargetId, TargetLabel) {
        match self.find(leaf) {
            Some(l) => (l.id.clone(), l.label.clone()),
            None => {
                let label = label(leaf, keys);
                (label.id(), label)
            }
        }
    }
}

impl Health for Snapshot {
    fn state(&self, leaf: &Leaf) -> TargetState {
        self.find(leaf).map_or(TargetState::Available, |l| l.state)
    }
}

fn address(leaf: &Leaf) -> usize {
    std::ptr::from_ref(leaf) as usize
}

fn collect<'t>(node: &'t Node, out: &mut Vec<&'t Leaf>) {
    match node {
        Node::Leaf(leaf) => out.push(leaf),
        Node::Group(group) => group.targets.iter().for_each(|c| collect(&c.node, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_core::config::validate_config;

    fn tree(v: Value) -> RouteTree {
        validate_config(&v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_identity_never_holds_the_key() {
        let t = tree(json!({"provider": "openai", "api_key": "sk-very-secret-key"}));
        let Node::Leaf(leaf) = &t.root else { panic!("a leaf") };
        let body = json!({"model": "gpt-4o"});
        let keys = RequestKeys { client_key: None, body: body.as_object().unwrap_or_else(|| panic!()) };
        let id = label(leaf, keys).id();
        assert!(!id.0.contains("secret"), "{id:?}");
        assert!(id.0.starts_with("openai|key:") && id.0.ends_with("|default|gpt-4o"), "{id:?}");
    }

    #[test]
    fn a_virtual_key_is_named_by_its_slug_and_the_override_model_wins() {
        let t = tree(json!({"virtual_key": "openai-prod", "override_params": {"model": "gpt-4o-mini"}}));
        let Node::Leaf(leaf) = &t.root else { panic!("a leaf") };
        let body = json!({"model": "gpt-4o"});
        let keys = RequestKeys { client_key: None, body: body.as_object().unwrap_or_else(|| panic!()) };
        assert_eq!(label(leaf, keys).id().0, "|vk:openai-prod|default|gpt-4o-mini");
    }

    #[test]
    fn a_limited_virtual_key_is_limited_in_the_snapshot() {
        let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [
            {"virtual_key": "capped"}, {"provider": "openai", "api_key": "k"}]}));
        let body = Map::new();
        let keys = RequestKeys { client_key: None, body: &body };
        let limited = |slug: &str| (slug == "capped").then_some(60_000);
        let snapshot = Snapshot::take(&HealthTable::default(), &t, keys, 1_000, &limited);
        let Node::Group(g) = &t.root else { panic!("a group") };
        let states: Vec<_> = g
            .targets
            .iter()
            .map(|c| match &c.node {
                Node::Leaf(l) => snapshot.state(l),
                Node::Group(_) => TargetState::Available,
            })
            .collect();
        assert_eq!(states, [TargetState::Limited { until_ms: 60_000 }, TargetState::Available]);
    }
}
