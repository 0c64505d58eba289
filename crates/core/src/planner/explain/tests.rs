use std::collections::HashMap;

use super::*;
use crate::config::validate_config;
use serde_json::{json, Map, Value};

struct Table(HashMap<&'static str, TargetState>);

impl Health for Table {
    fn state(&self, leaf: &Leaf) -> TargetState {
        self.0.get(leaf.path.as_str()).copied().unwrap_or(TargetState::Available)
    }
}

fn tree(v: Value) -> RouteTree {
    validate_config(&v).unwrap_or_else(|e| panic!("{e}"))
}

fn leaf(key: &str) -> Value {
    json!({"provider": "openai", "api_key": key})
}

fn explained(t: &RouteTree, health: &Table, metadata: &Map<String, Value>) -> Vec<(String, &'static str)> {
    let params = Map::new();
    let out = explain(t, RequestFacts { metadata, params: &params }, health);
    out.entries.iter().map(|e| (e.leaf.path.clone(), e.state_name())).collect()
}

#[test]
fn every_state_is_named_in_the_planned_order() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [
        leaf("a"), leaf("b"), leaf("c"), leaf("d"), leaf("e"), leaf("f"),
        {"strategy": {"mode": "loadbalance"}, "targets": [leaf("g"), {"provider": "openai", "api_key": "h", "weight": 0}]}]}));
    let health = Table(HashMap::from([
        ("config.targets[0]", TargetState::Open { until_ms: 9 }),
        ("config.targets[1]", TargetState::HalfOpen { probing_until_ms: None }),
        ("config.targets[2]", TargetState::Cooling { until_ms: 9 }),
        ("config.targets[3]", TargetState::NoHeadroom { until_ms: 9 }),
        ("config.targets[4]", TargetState::Limited { until_ms: 9 }),
    ]));
    let states: Vec<&str> = explained(&t, &health, &Map::new()).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        states,
        ["open", "half_open", "cooling", "no_headroom", "limited", "available", "available", "weight_zero"]
    );
}

#[test]
fn reasons_say_the_fallback_option_and_the_share_of_traffic() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [
        {"strategy": {"mode": "loadbalance"}, "targets": [
            {"provider": "openai", "api_key": "a", "weight": 1}, {"provider": "openai", "api_key": "b", "weight": 3}]},
        leaf("c")]}));
    let health = Table(HashMap::new());
    let params = Map::new();
    let metadata = Map::new();
    let out = explain(&t, RequestFacts { metadata: &metadata, params: &params }, &health);
    let reasons: Vec<&str> = out.entries.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "config: fallback option 1; config.targets[0]: loadbalance, 75 % of traffic now",
            "config: fallback option 1; config.targets[0]: loadbalance, 25 % of traffic now",
            "config: fallback option 2",
        ]
    );
}

#[test]
fn an_unavailable_loadbalance_target_gets_no_share() {
    let t = tree(json!({"strategy": {"mode": "loadbalance"}, "targets": [leaf("a"), leaf("b")]}));
    let health = Table(HashMap::from([("config.targets[0]", TargetState::Open { until_ms: 9 })]));
    let params = Map::new();
    let metadata = Map::new();
    let out = explain(&t, RequestFacts { metadata: &metadata, params: &params }, &health);
    let reasons: Vec<&str> = out.entries.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, ["config: loadbalance, 0 % of traffic now", "config: loadbalance, 100 % of traffic now"]);
    assert!(!out.all_unavailable());
}

#[test]
fn a_sticky_value_orders_by_rank_and_is_reported() {
    let t = tree(json!({"strategy": {"mode": "loadbalance", "hash_key": "metadata.user_id"},
        "targets": [leaf("a"), leaf("b"), leaf("c")]}));
    let mut metadata = Map::new();
    metadata.insert("user_id".into(), json!("u-1"));
    let params = Map::new();
    let health = Table(HashMap::new());
    let out = explain(&t, RequestFacts { metadata: &metadata, params: &params }, &health);
    assert_eq!(out.sticky.len(), 1);
    let first = out.sticky[0].ranking[0];
    assert_eq!(out.entries[0].leaf.path, format!("config.targets[{first}]"));
    assert!(out.entries[0].reason.ends_with("sticky choice 1 for this hash_key value"));
}

#[test]
fn a_conditional_lists_only_the_matching_target() {
    let t = tree(json!({"strategy": {"mode": "conditional",
            "conditions": [{"query": {"metadata.plan": "paid"}, "then": "big"}], "default": "small"},
        "targets": [{"name": "big", "provider": "openai", "api_key": "a"},
                    {"name": "small", "provider": "openai", "api_key": "b"}]}));
    let mut metadata = Map::new();
    metadata.insert("plan".into(), json!("free"));
    let got = explained(&t, &Table(HashMap::new()), &metadata);
    assert_eq!(got, [("config.targets[1]".to_string(), "available")]);
}

#[test]
fn every_target_unavailable_is_said() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("a")]}));
    let health = Table(HashMap::from([("config.targets[0]", TargetState::Cooling { until_ms: 9 })]));
    let (metadata, params) = (Map::new(), Map::new());
    assert!(explain(&t, RequestFacts { metadata: &metadata, params: &params }, &health).all_unavailable());
}
