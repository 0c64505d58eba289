//! The planner's eligibility rules: a target whose provider cannot serve the request's
//! endpoint (`TargetState::Unsupported`) is passed over like an unavailable one — loadbalance
//! renormalises, fallback skips, with the reason noted — but is never failed open to; when no
//! reachable target can serve, the request is unroutable with each target and its reason.

use std::collections::HashMap;

use super::*;
use crate::config::validate_config;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Map, Value};

struct Table(HashMap<&'static str, TargetState>);

impl Health for Table {
    fn state(&self, leaf: &Leaf) -> TargetState {
        self.0.get(leaf.path.as_str()).copied().unwrap_or(TargetState::Available)
    }
}

const NO_EMBEDDINGS: TargetState = TargetState::Unsupported { reason: "anthropic does not offer an embeddings API" };
const OPEN: TargetState = TargetState::Open { until_ms: 9_000 };

fn tree(v: Value) -> RouteTree {
    validate_config(&v).unwrap_or_else(|e| panic!("config should validate: {e}"))
}

fn leaf(provider: &str) -> Value {
    json!({"provider": provider, "api_key": "k"})
}

fn planner<'t, 'h>(
    t: &'t RouteTree,
    health: &'h Table,
    facts: &'t (Map<String, Value>, Map<String, Value>),
    seed: u64,
) -> Planner<'t, 'h, StdRng> {
    Planner::new(t, RequestFacts { metadata: &facts.0, params: &facts.1 }, health, StdRng::seed_from_u64(seed))
}

fn skipped(planner: &Planner<'_, '_, StdRng>) -> Vec<(String, TargetState)> {
    planner.skipped().iter().map(|s| (s.leaf.path.clone(), s.state)).collect()
}

#[test]
fn fallback_skips_an_unsupported_target_and_notes_why() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("anthropic"), leaf("openai")]}));
    let health = Table(HashMap::from([("config.targets[0]", NO_EMBEDDINGS)]));
    let facts = (Map::new(), Map::new());
    let mut planner = planner(&t, &health, &facts, 1);
    assert_eq!(planner.first().map(|a| a.leaf.path.clone()), Ok("config.targets[1]".into()));
    assert_eq!(skipped(&planner), [("config.targets[0]".to_string(), NO_EMBEDDINGS)]);
    assert!(!planner.failed_open());
}

#[test]
fn loadbalance_renormalises_over_the_targets_that_can_serve() {
    let t = tree(json!({"strategy": {"mode": "loadbalance"}, "targets": [
        {"provider": "anthropic", "api_key": "a", "weight": 0.9}, {"provider": "openai", "api_key": "b", "weight": 0.1}]}));
    let health = Table(HashMap::from([("config.targets[0]", NO_EMBEDDINGS)]));
    let facts = (Map::new(), Map::new());
    for seed in 0..200 {
        let first = planner(&t, &health, &facts, seed).first().map(|a| a.leaf.path.clone());
        assert_eq!(first, Ok("config.targets[1]".into()), "seed {seed}");
    }
}

#[test]
fn an_unsupported_target_is_never_failed_open_to() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("anthropic"), leaf("openai")]}));
    let health = Table(HashMap::from([("config.targets[0]", NO_EMBEDDINGS), ("config.targets[1]", OPEN)]));
    let facts = (Map::new(), Map::new());
    let mut planner = planner(&t, &health, &facts, 1);
    assert_eq!(planner.first().map(|a| a.leaf.path.clone()), Ok("config.targets[1]".into()));
    assert!(planner.failed_open());
    assert_eq!(skipped(&planner), [("config.targets[0]".to_string(), NO_EMBEDDINGS)]);
}

#[test]
fn with_every_supported_target_unavailable_on_all_unavailable_fail_names_the_supported_one() {
    let t = tree(json!({"strategy": {"mode": "fallback", "on_all_unavailable": "fail"},
        "targets": [leaf("anthropic"), leaf("openai")]}));
    let health = Table(HashMap::from([("config.targets[0]", NO_EMBEDDINGS), ("config.targets[1]", OPEN)]));
    let facts = (Map::new(), Map::new());
    assert_eq!(planner(&t, &health, &facts, 1).first().err(), Some(Unroutable::AllUnavailable { until_ms: 9_000 }));
}

#[test]
fn when_no_target_can_serve_each_is_named_with_its_reason() {
    let t = tree(json!({"strategy": {"mode": "loadbalance"}, "targets": [leaf("anthropic"), leaf("anthropic")]}));
    let health = Table(HashMap::from([("config.targets[0]", NO_EMBEDDINGS), ("config.targets[1]", NO_EMBEDDINGS)]));
    let facts = (Map::new(), Map::new());
    let why = "anthropic does not offer an embeddings API";
    let expected = Unroutable::Unsupported(vec![("config.targets[0]".into(), why), ("config.targets[1]".into(), why)]);
    let got = planner(&t, &health, &facts, 1).first().err();
    assert_eq!(got.as_ref(), Some(&expected));
    let text = expected.to_string();
    assert!(text.contains("config.targets[0]: anthropic does not") && text.contains("config.targets[1]: "), "{text}");
}

#[test]
fn after_a_failure_fallback_passes_over_an_unsupported_target() {
    let t = tree(json!({"strategy": {"mode": "fallback"},
        "targets": [leaf("openai"), leaf("anthropic"), leaf("groq")]}));
    let health = Table(HashMap::from([("config.targets[1]", NO_EMBEDDINGS)]));
    let facts = (Map::new(), Map::new());
    let mut planner = planner(&t, &health, &facts, 1);
    assert!(planner.first().is_ok());
    let next = planner.next(&Failure::upstream(500)).map(|a| (a.leaf.path.clone(), a.kind));
    assert_eq!(next, Some(("config.targets[2]".into(), AttemptKind::Fallback)));
    assert_eq!(skipped(&planner), [("config.targets[1]".to_string(), NO_EMBEDDINGS)]);
}

#[test]
fn a_failure_with_only_unsupported_targets_left_is_final() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("openai"), leaf("anthropic")]}));
    let health = Table(HashMap::from([("config.targets[1]", NO_EMBEDDINGS)]));
    let facts = (Map::new(), Map::new());
    let mut planner = planner(&t, &health, &facts, 1);
    assert!(planner.first().is_ok());
    assert!(planner.next(&Failure::upstream(500)).is_none());
}
