//! One request's view of target health: each leaf of its tree named by its identity
//! ([`identity`]) and looked up once in the [`HealthTable`], so the planner reads a snapshot
//! that cannot change under it (and is `Sync`: the request future stays `Send`).
//!
//! Identity: provider + credential + destination + model, hashed without allocating (the
//! words of a [`label`] are made only for a new entry). The credential is the virtual key's
//! slug, or a 64-bit hash of an inline or client key (never the key itself). A virtual key's
//! destination is its own unless the config overrides it; its provider is the key's, so
//! the slug alone names it.

use serde_json::{Map, Value};
use switchboard_core::config::{Leaf, RouteTree};
use switchboard_core::health::headroom::{estimate_tokens, DEFAULT_OUTPUT_TOKENS};
use switchboard_core::health::TargetState;
use switchboard_core::planner::Health;
use switchboard_core::secret::Secret;

use switchboard_core::health::rendezvous::{stable_hash, StableHasher};

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

/// The credential part of an identity.
enum Credential<'a> {
    VirtualKey(&'a str),
    /// 64 bits of a stable hash of the key: it tells keys apart and cannot be turned back
    /// into the key (no more than a SHA-256 prefix could), at a small fraction of SHA-256's
    /// cost on every request.
    Key(u64),
    None,
}

fn credential<'a>(leaf: &'a Leaf, keys: RequestKeys<'_>) -> Credential<'a> {
    match (&leaf.virtual_key, &leaf.api_key, keys.client_key) {
        (Some(slug), _, _) => Credential::VirtualKey(slug),
        (None, Some(key), _) | (None, None, Some(key)) => Credential::Key(stable_hash(key.expose().as_bytes())),
        (None, None, None) => Credential::None,
    }
}

/// The model the request asks `leaf` for, cut short: a client's model string is part of a
/// key in Redis and a metric label.
fn model<'a>(leaf: &'a Leaf, keys: RequestKeys<'a>) -> &'a str {
    let model = leaf.override_params.get("model").or_else(|| keys.body.get("model")).and_then(Value::as_str);
    switchboard_core::text::cut(model.unwrap_or_default(), MAX_MODEL_CHARS)
}

/// The identity of the target `leaf` calls for this request.
pub fn identity(leaf: &Leaf, keys: RequestKeys<'_>) -> TargetId {
    let mut hash = StableHasher::new();
    match credential(leaf, keys) {
        Credential::VirtualKey(slug) => {
            hash.part(b"vk");
            hash.part(slug.as_bytes());
        }
        Credential::Key(key) => {
            hash.part(b"key");
            hash.part(&key.to_le_bytes());
            hash.part(leaf.provider.as_deref().unwrap_or_default().as_bytes());
        }
        Credential::None => hash.part(b"none"),
    }
    hash.part(leaf.custom_host.as_deref().unwrap_or("default").as_bytes());
    hash.part(model(leaf, keys).as_bytes());
    TargetId(hash.finish())
}

/// The identity of `leaf` in words, for the health view (made only for a new entry).
pub fn label(leaf: &Leaf, keys: RequestKeys<'_>) -> TargetLabel {
    let credential = match credential(leaf, keys) {
        Credential::VirtualKey(slug) => format!("vk:{slug}"),
        Credential::Key(hash) => format!("key:{hash:016x}"),
        Credential::None => "none".to_string(),
    };
    TargetLabel {
        id: identity(leaf, keys),
        provider: leaf.provider.clone().unwrap_or_else(|| "virtual-key".to_string()),
        credential,
        destination: leaf.custom_host.clone().unwrap_or_else(|| "default".to_string()),
        model: model(leaf, keys).to_string(),
    }
}

/// Each leaf's identity and state.
pub struct Snapshot<'t> {
    states: Vec<Looked<'t>>,
}

struct Looked<'t> {
    leaf: &'t Leaf,
    id: TargetId,
    state: TargetState,
}

impl<'t> Snapshot<'t> {
    /// Nothing known: every target available, nothing looked up.
    pub fn empty() -> Self {
        Snapshot { states: Vec::new() }
    }

    /// Looks up every leaf of `tree`; `limited` says until when a virtual key's own limits
    /// are spent. The request's token estimate (for headroom) is made once, and only when
    /// some target has a token quota.
    pub fn take(
        table: &HealthTable,
        tree: &'t RouteTree,
        keys: RequestKeys<'_>,
        now_ms: u64,
        limited: &dyn Fn(&str) -> Option<u64>,
    ) -> Self {
        let estimate = std::cell::OnceCell::new();
        let tokens = || *estimate.get_or_init(|| estimate_tokens(keys.body, DEFAULT_OUTPUT_TOKENS));
        let states = tree
            .leaves()
            .map(|leaf| {
                let id = identity(leaf, keys);
                let mut state = table.state(&id, now_ms, &tokens);
                if let Some(until_ms) = leaf.virtual_key.as_deref().and_then(limited) {
                    state = state.worst(TargetState::Limited { until_ms });
                }
                Looked { leaf, id, state }
            })
            .collect();
        Snapshot { states }
    }

    fn find(&self, leaf: &Leaf) -> Option<&Looked<'t>> {
        self.states.iter().find(|l| std::ptr::eq(l.leaf, leaf))
    }

    /// The labels of identities `table` has no entry for.
    pub fn unknown(&self, table: &HealthTable, keys: RequestKeys<'_>) -> Vec<TargetLabel> {
        self.states.iter().filter(|l| !table.knows(&l.id)).map(|l| label(l.leaf, keys)).collect()
    }

    /// The identity the snapshot computed for `leaf`, if it looked it up.
    pub fn id(&self, leaf: &Leaf) -> Option<TargetId> {
        self.find(leaf).map(|l| l.id)
    }

    /// The identity the snapshot computed for `leaf`, else a fresh one.
    pub fn identity(&self, leaf: &Leaf, keys: RequestKeys<'_>) -> TargetId {
        self.id(leaf).unwrap_or_else(|| identity(leaf, keys))
    }
}

impl Health for Snapshot<'_> {
    fn state(&self, leaf: &Leaf) -> TargetState {
        self.find(leaf).map_or(TargetState::Available, |l| l.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_core::config::{validate_config, Node};

    fn tree(v: Value) -> RouteTree {
        validate_config(&v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_identity_never_holds_the_key() {
        let t = tree(json!({"provider": "openai", "api_key": "sk-very-secret-key"}));
        let Node::Leaf(leaf) = &t.root else { panic!("a leaf") };
        let body = json!({"model": "gpt-4o"});
        let keys = RequestKeys { client_key: None, body: body.as_object().unwrap_or_else(|| panic!()) };
        let label = label(leaf, keys);
        assert!(!label.text().contains("secret"), "{label:?}");
        assert!(label.text().starts_with("openai|key:") && label.text().ends_with("|default|gpt-4o"), "{label:?}");
        assert_eq!(label.id, identity(leaf, keys), "the label names the identity it was made for");
    }

    #[test]
    fn the_same_key_for_another_model_or_host_is_another_identity() {
        let body = json!({"model": "gpt-4o"});
        let keys = RequestKeys { client_key: None, body: body.as_object().unwrap_or_else(|| panic!()) };
        let id = |v: Value| {
            let t = tree(v);
            let Node::Leaf(leaf) = &t.root else { panic!("a leaf") };
            identity(leaf, keys)
        };
        let base = id(json!({"provider": "openai", "api_key": "k"}));
        assert_eq!(base, id(json!({"provider": "openai", "api_key": "k"})));
        assert_ne!(base, id(json!({"provider": "openai", "api_key": "k2"})));
        assert_ne!(base, id(json!({"provider": "groq", "api_key": "k"})));
        assert_ne!(base, id(json!({"provider": "openai", "api_key": "k", "custom_host": "http://h/v1"})));
        assert_ne!(base, id(json!({"provider": "openai", "api_key": "k", "override_params": {"model": "o3"}})));
    }

    #[test]
    fn a_virtual_key_is_named_by_its_slug_and_the_override_model_wins() {
        let t = tree(json!({"virtual_key": "openai-prod", "override_params": {"model": "gpt-4o-mini"}}));
        let Node::Leaf(leaf) = &t.root else { panic!("a leaf") };
        let body = json!({"model": "gpt-4o"});
        let keys = RequestKeys { client_key: None, body: body.as_object().unwrap_or_else(|| panic!()) };
        assert_eq!(label(leaf, keys).text(), "virtual-key|vk:openai-prod|default|gpt-4o-mini");
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
