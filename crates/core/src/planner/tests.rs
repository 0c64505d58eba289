//! Planner rules, each pinned by a test named after it. Configs are written as JSON and
//! validated first, so these also pin the contract between validation and planning.

use super::*;
use crate::config::validate_config;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Map, Value};

fn tree(v: Value) -> RouteTree {
    match validate_config(&v) {
        Ok(t) => t,
        Err(e) => panic!("config should validate: {e}"),
    }
}

fn leaf(name: &str) -> Value {
    json!({"provider": "openai", "api_key": name})
}

fn empty() -> Map<String, Value> {
    Map::new()
}

fn facts<'a>(metadata: &'a Map<String, Value>, params: &'a Map<String, Value>) -> RequestFacts<'a> {
    RequestFacts { metadata, params }
}

/// Runs a whole request: every attempt's path, with the failures scripted per path.
fn run(tree: &RouteTree, seed: u64, fail: impl Fn(&str) -> Option<Failure>) -> Vec<(String, AttemptKind, u32)> {
    let (m, p) = (empty(), empty());
    let mut planner = Planner::new(tree, facts(&m, &p), &AllAvailable, StdRng::seed_from_u64(seed));
    let mut out = Vec::new();
    let mut attempt = planner.first().ok();
    while let Some(a) = attempt {
        out.push((a.leaf.path.clone(), a.kind, a.retry));
        attempt = fail(&a.leaf.path).and_then(|f| planner.next(&f));
        assert!(out.len() < 100, "planner loops");
    }
    out
}

fn paths(attempts: &[(String, AttemptKind, u32)]) -> Vec<&str> {
    attempts.iter().map(|(p, _, _)| p.as_str()).collect()
}

#[test]
fn bare_leaf_is_single_attempt_at_config() {
    let t = tree(leaf("a"));
    assert_eq!(paths(&run(&t, 1, |_| None)), ["config"]);
}

#[test]
fn loadbalance_split_follows_weights_with_seeded_rng() {
    let t = tree(json!({"strategy": {"mode": "loadbalance"},
        "targets": [{"provider": "openai", "api_key": "a", "weight": 0.9},
                    {"provider": "openai", "api_key": "b", "weight": 0.1}]}));
    let mut first = 0;
    for seed in 0..2000 {
        if run(&t, seed, |_| None)[0].0 == "config.targets[0]" {
            first += 1;
        }
    }
    assert!((1700..1900).contains(&first), "90/10 split gave {first}/2000");
}

#[test]
fn weight_zero_is_never_picked() {
    let t = tree(json!({"strategy": {"mode": "loadbalance"},
        "targets": [{"provider": "openai", "api_key": "a", "weight": 0},
                    {"provider": "openai", "api_key": "b", "weight": 1},
                    {"provider": "openai", "api_key": "c", "weight": 0}]}));
    for seed in 0..500 {
        assert_eq!(run(&t, seed, |_| None)[0].0, "config.targets[1]");
    }
}

#[test]
fn default_weight_is_one() {
    let t = tree(json!({"strategy": {"mode": "loadbalance"}, "targets": [leaf("a"), leaf("b")]}));
    let first = (0..1000).filter(|s| run(&t, *s, |_| None)[0].0 == "config.targets[0]").count();
    assert!((400..600).contains(&first), "50/50 split gave {first}/1000");
}

#[test]
fn fallback_tries_targets_in_order_until_success() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("a"), leaf("b"), leaf("c")]}));
    let got = run(&t, 1, |p| (p != "config.targets[2]").then(|| Failure::upstream(503)));
    assert_eq!(paths(&got), ["config.targets[0]", "config.targets[1]", "config.targets[2]"]);
    assert_eq!(got[1].1, AttemptKind::Fallback);
}

#[test]
fn fallback_stops_at_first_success() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("a"), leaf("b")]}));
    assert_eq!(paths(&run(&t, 1, |_| None)), ["config.targets[0]"]);
}

#[test]
fn fallback_ends_after_last_target() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("a"), leaf("b")]}));
    let got = run(&t, 1, |_| Some(Failure::upstream(500)));
    assert_eq!(paths(&got), ["config.targets[0]", "config.targets[1]"]);
}

#[test]
fn fallback_only_on_listed_status_codes() {
    let t = tree(json!({"strategy": {"mode": "fallback", "on_status_codes": [429]},
        "targets": [leaf("a"), leaf("b")]}));
    assert_eq!(paths(&run(&t, 1, |_| Some(Failure::upstream(500)))), ["config.targets[0]"]);
    assert_eq!(paths(&run(&t, 1, |_| Some(Failure::upstream(429)))).len(), 2);
}

#[test]
fn gateway_failure_never_falls_back() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("a"), leaf("b")]}));
    assert_eq!(paths(&run(&t, 1, |_| Some(Failure::gateway(400)))), ["config.targets[0]"]);
}

#[test]
fn nested_fallback_inside_loadbalance_reports_nested_paths() {
    let t = tree(json!({"strategy": {"mode": "loadbalance"}, "targets": [
        {"provider": "anthropic", "api_key": "x", "weight": 0,
         "override_params": {"max_tokens": 200}},
        {"strategy": {"mode": "fallback"}, "weight": 1, "targets": [leaf("a"), leaf("b")]}]}));
    let got = run(&t, 7, |p| (p == "config.targets[1].targets[0]").then(|| Failure::upstream(503)));
    assert_eq!(paths(&got), ["config.targets[1].targets[0]", "config.targets[1].targets[1]"]);
}

#[test]
fn loadbalance_does_not_fall_back_to_sibling() {
    let t = tree(json!({"strategy": {"mode": "loadbalance"}, "targets": [leaf("a"), leaf("b")]}));
    for seed in 0..20 {
        assert_eq!(run(&t, seed, |_| Some(Failure::upstream(503))).len(), 1);
    }
}

#[test]
fn failure_propagates_out_of_exhausted_inner_group() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [
        {"strategy": {"mode": "fallback"}, "targets": [leaf("a"), leaf("b")]},
        leaf("c")]}));
    let got = run(&t, 1, |p| (p != "config.targets[1]").then(|| Failure::upstream(502)));
    assert_eq!(paths(&got), ["config.targets[0].targets[0]", "config.targets[0].targets[1]", "config.targets[1]"]);
}

#[test]
fn retry_repeats_target_up_to_attempts_then_falls_back() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "retry": {"attempts": 2},
        "targets": [leaf("a"), leaf("b")]}));
    let got = run(&t, 1, |p| (p == "config.targets[0]").then(|| Failure::upstream(503)));
    let kinds: Vec<_> = got.iter().map(|(p, k, r)| (p.as_str(), *k, *r)).collect();
    assert_eq!(
        kinds,
        [
            ("config.targets[0]", AttemptKind::Initial, 0),
            ("config.targets[0]", AttemptKind::Retry, 1),
            ("config.targets[0]", AttemptKind::Retry, 2),
            ("config.targets[1]", AttemptKind::Fallback, 0),
        ]
    );
}

#[test]
fn retry_only_on_its_status_codes() {
    let t = tree(json!({"provider": "openai", "api_key": "a", "retry": {"attempts": 3}}));
    assert_eq!(run(&t, 1, |_| Some(Failure::upstream(400))).len(), 1);
    assert_eq!(run(&t, 1, |_| Some(Failure::upstream(429))).len(), 4);
    let t = tree(json!({"provider": "openai", "api_key": "a",
        "retry": {"attempts": 3, "on_status_codes": [408]}}));
    assert_eq!(run(&t, 1, |_| Some(Failure::upstream(503))).len(), 1);
    assert_eq!(run(&t, 1, |_| Some(Failure::upstream(408))).len(), 4);
}

#[test]
fn backoff_grows_exponentially_with_jitter_and_cap() {
    let mut rng = StdRng::seed_from_u64(3);
    for n in 1..=10u32 {
        let full = BACKOFF_BASE.saturating_mul(1 << (n - 1)).min(BACKOFF_MAX);
        let got = backoff(n, &mut rng);
        assert!(got >= full / 2 && got <= full, "retry {n}: {got:?} outside [{:?}, {full:?}]", full / 2);
    }
}

#[test]
fn retry_after_header_used_when_enabled() {
    let t = tree(json!({"provider": "openai", "api_key": "a",
        "retry": {"attempts": 1, "use_retry_after_header": true}}));
    let (m, p) = (empty(), empty());
    let mut planner = Planner::new(&t, facts(&m, &p), &AllAvailable, StdRng::seed_from_u64(1));
    planner.first().ok();
    let failure = Failure { status: 429, retry_after: Some(Duration::from_secs(3)), gateway: false };
    assert_eq!(planner.next(&failure).map(|a| a.backoff), Some(Duration::from_secs(3)));
}

#[test]
fn retry_after_beyond_budget_ends_retrying() {
    let t = tree(json!({"provider": "openai", "api_key": "a",
        "retry": {"attempts": 3, "use_retry_after_header": true}}));
    let (m, p) = (empty(), empty());
    let mut planner = Planner::new(&t, facts(&m, &p), &AllAvailable, StdRng::seed_from_u64(1));
    planner.first().ok();
    let failure = Failure { status: 429, retry_after: Some(BACKOFF_BUDGET * 2), gateway: false };
    assert!(planner.next(&failure).is_none());
}

#[test]
fn retry_after_ignored_unless_enabled() {
    let t = tree(json!({"provider": "openai", "api_key": "a", "retry": {"attempts": 1}}));
    let (m, p) = (empty(), empty());
    let mut planner = Planner::new(&t, facts(&m, &p), &AllAvailable, StdRng::seed_from_u64(1));
    planner.first().ok();
    let failure = Failure { status: 429, retry_after: Some(Duration::from_secs(20)), gateway: false };
    let wait = planner.next(&failure).map(|a| a.backoff);
    assert!(wait.is_some_and(|w| w <= BACKOFF_BASE), "{wait:?}");
}

#[test]
fn conditional_routes_on_metadata_else_default() {
    let t = tree(json!({"strategy": {"mode": "conditional",
            "conditions": [{"query": {"metadata.plan": {"$eq": "paid"}}, "then": "big"}],
            "default": "small"},
        "targets": [{"name": "big", "provider": "openai", "api_key": "a"},
                    {"name": "small", "provider": "openai", "api_key": "b"}]}));
    let params = empty();
    for (plan, want) in [("paid", "config.targets[0]"), ("free", "config.targets[1]")] {
        let mut meta = empty();
        meta.insert("plan".into(), json!(plan));
        let mut planner = Planner::new(&t, facts(&meta, &params), &AllAvailable, StdRng::seed_from_u64(1));
        assert_eq!(planner.first().map(|a| a.leaf.path.clone()), Ok(want.to_string()));
    }
}

#[test]
fn conditional_without_match_or_default_is_no_route() {
    let t = tree(json!({"strategy": {"mode": "conditional",
            "conditions": [{"query": {"params.model": {"$eq": "x"}}, "then": "a"}]},
        "targets": [{"name": "a", "provider": "openai", "api_key": "a"}]}));
    let (m, p) = (empty(), empty());
    let mut planner = Planner::new(&t, facts(&m, &p), &AllAvailable, StdRng::seed_from_u64(1));
    assert_eq!(
        planner.first().map(|a| a.leaf.path.clone()),
        Err(Unroutable::NoRoute(NoRoute { path: "config".into() }))
    );
}
