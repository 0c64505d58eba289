//! Where a virtual key's secret may be sent. The vault hands a virtual key's secret only to a
//! destination an admin chose: the provider's own API, the key's stored `custom_host`, or a
//! `custom_host` in a saved config (admins write those). A config sent inline by a caller
//! who is not an admin therefore may not set the fields that move a virtual-key target
//! somewhere else: `custom_host` on the target or on a group above it (it is inherited), and
//! Azure's `resource_name` (it names the host, `{resource}.openai.azure.com`). Inline `api_key`
//! targets carry the caller's own secret and are not limited here (the egress policy still is).
//!
//! This module only finds the offending paths; the server decides who must pass the check.

use std::collections::BTreeMap;

use super::model::{Leaf, Node, RouteTree};
use crate::problem::Problem;

/// Every place in `tree` that would send a virtual key's secret to a destination the
/// caller chose, each at its path, once (a group's `custom_host` over three virtual-key
/// targets is one problem).
pub fn caller_chosen_destinations(tree: &RouteTree) -> Vec<Problem> {
    // Each offending path once, with the first virtual-key target (in document order) it moves.
    let mut paths = BTreeMap::new();
    for leaf in tree.leaves().filter(|leaf| leaf.virtual_key.is_some()) {
        if let Some(at) = &leaf.custom_host_at {
            paths.entry(at.clone()).or_insert_with(|| leaf.path.clone());
        }
        if leaf.options.resource_name.is_some() {
            paths.entry(format!("{}.resource_name", leaf.path)).or_insert_with(|| leaf.path.clone());
        }
    }
    paths.into_iter().map(|(path, target)| Problem { message: message(&path, &target), path }).collect()
}

fn message(path: &str, target: &str) -> String {
    let key = path.rsplit('.').next().unwrap_or("custom_host");
    format!(
        "only an admin key may set {key} for a target that uses a virtual key ({target}): the vault sends a \
         virtual key's secret only to the provider's API, the key's own custom_host, or a saved config's \
         custom_host; save the config, or set custom_host on the virtual key"
    )
}

impl RouteTree {
    /// Every leaf, in document order.
    pub fn leaves(&self) -> impl Iterator<Item = &Leaf> {
        let mut stack = vec![&self.root];
        std::iter::from_fn(move || loop {
            match stack.pop()? {
                Node::Leaf(leaf) => return Some(leaf.as_ref()),
                Node::Group(group) => stack.extend(group.targets.iter().rev().map(|c| &c.node)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config;

    fn problems(config: &str) -> Vec<String> {
        let tree = parse_config(config).map_err(|e| e.to_string());
        tree.map(|t| caller_chosen_destinations(&t).into_iter().map(|e| e.path).collect()).unwrap_or_else(|e| vec![e])
    }

    #[test]
    fn custom_host_on_a_virtual_key_target_is_caller_chosen() {
        let config = r#"{"virtual_key": "prod-openai", "custom_host": "http://any-host/v1"}"#;
        assert_eq!(problems(config), ["config.custom_host"]);
    }

    #[test]
    fn inherited_custom_host_is_reported_once_where_it_was_written() {
        let config = r#"{"strategy": {"mode": "fallback"}, "custom_host": "http://evil/v1",
            "targets": [{"virtual_key": "a"}, {"virtual_key": "b"}]}"#;
        assert_eq!(problems(config), ["config.custom_host"]);
        let nested = r#"{"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai", "api_key": "sk-1"},
            {"strategy": {"mode": "loadbalance"}, "custom_host": "http://evil/v1", "targets": [{"virtual_key": "a"}]}]}"#;
        assert_eq!(problems(nested), ["config.targets[1].custom_host"]);
    }

    #[test]
    fn azure_resource_name_on_a_virtual_key_target_is_caller_chosen() {
        let config = r#"{"virtual_key": "azure", "resource_name": "attacker"}"#;
        assert_eq!(problems(config), ["config.resource_name"]);
    }

    #[test]
    fn inline_keys_and_plain_virtual_keys_pass() {
        assert!(problems(r#"{"provider": "openai", "api_key": "sk-own", "custom_host": "http://local:8000/v1"}"#)
            .is_empty());
        assert!(problems(
            r#"{"strategy": {"mode": "loadbalance"},
            "targets": [{"virtual_key": "a"}, {"virtual_key": "b", "override_params": {"model": "m"}}]}"#
        )
        .is_empty());
    }

    #[test]
    fn leaves_come_in_document_order() {
        let tree = parse_config(
            r#"{"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": "a"},
            {"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": "b"}, {"virtual_key": "c"}]}]}"#,
        );
        let slugs: Vec<_> = tree.iter().flat_map(|t| t.leaves()).filter_map(|l| l.virtual_key.clone()).collect();
        assert_eq!(slugs, ["a", "b", "c"]);
    }
}
