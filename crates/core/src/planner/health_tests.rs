//! The planner's health rules: unavailable targets are passed over, loadbalance
//! renormalises, fallback skips, nothing available fails open (or fails, if the config says
//! so), a gate refusal moves on, and sticky assignment follows rendezvous ranking.

use std::collections::HashMap;

use super::*;
use crate::config::validate_config;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Map, Value};

/// Health by leaf path; paths not listed are available.
struct Table(HashMap<&'static str, TargetState>);

impl Health for Table {
    fn state(&self, leaf: &Leaf) -> TargetState {
        self.0.get(leaf.path.as_str()).copied().unwrap_or(TargetState::Available)
    }
}

fn table(entries: &[(&'static str, TargetState)]) -> Table {
    Table(entries.iter().copied().collect())
}

fn tree(v: Value) -> RouteTree {
    validate_config(&v).unwrap_or_else(|e| panic!("config should validate: {e}"))
}

fn leaf(key: &str) -> Value {
    json!({"provider": "openai", "api_key": key})
}

const OPEN: TargetState = TargetState::Open { until_ms: 9_000 };
const COOLING: TargetState = TargetState::Cooling { until_ms: 5_000 };

fn first(t: &RouteTree, health: &(dyn Health + Sync), seed: u64) -> Result<String, Unroutable> {
    let (m, p) = (Map::new(), Map::new());
    let mut planner = Planner::new(t, RequestFacts { metadata: &m, params: &p }, health, StdRng::seed_from_u64(seed));
    planner.first().map(|a| a.leaf.path.clone())
}

#[test]
fn fallback_skips_an_open_target() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("a"), leaf("b")]}));
    let health = table(&[("config.targets[0]", OPEN)]);
    assert_eq!(first(&t, &health, 1), Ok("config.targets[1]".into()));
}

#[test]
fn loadbalance_renormalises_over_available_targets() {
    let t = tree(json!({"strategy": {"mode": "loadbalance"},
        "targets": [{"provider": "openai", "api_key": "a", "weight": 9}, leaf("b"), leaf("c")]}));
    let health = table(&[("config.targets[0]", COOLING)]);
    let mut counts = HashMap::new();
    for seed in 0..2000 {
        *counts.entry(first(&t, &health, seed).unwrap_or_default()).or_insert(0) += 1;
    }
    assert_eq!(counts.get("config.targets[0]"), None, "{counts:?}");
    let b = counts.get("config.targets[1]").copied().unwrap_or(0);
    assert!((850..1150).contains(&b), "b and c split the traffic evenly: {counts:?}");
}

#[test]
fn nothing_available_fails_open_to_the_target_available_first() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("a"), leaf("b")]}));
    let health = table(&[("config.targets[0]", OPEN), ("config.targets[1]", COOLING)]);
    let (m, p) = (Map::new(), Map::new());
    let mut planner = Planner::new(&t, RequestFacts { metadata: &m, params: &p }, &health, StdRng::seed_from_u64(1));
    assert_eq!(planner.first().map(|a| a.leaf.path.clone()), Ok("config.targets[1]".into()));
    assert!(planner.failed_open());
    let skipped: Vec<_> = planner.skipped().iter().map(|s| (s.leaf.path.as_str(), s.state.as_str())).collect();
    assert_eq!(skipped, [("config.targets[0]", "open")]);
}

#[test]
fn on_all_unavailable_fail_reports_when_the_first_target_returns() {
    let t = tree(json!({"strategy": {"mode": "fallback", "on_all_unavailable": "fail"},
        "targets": [leaf("a"), leaf("b")]}));
    let health = table(&[("config.targets[0]", OPEN), ("config.targets[1]", COOLING)]);
    assert_eq!(first(&t, &health, 1), Err(Unroutable::AllUnavailable { until_ms: 5_000 }));
}

#[test]
fn a_nested_group_with_nothing_available_is_skipped_by_its_fallback() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [
        {"strategy": {"mode": "loadbalance"}, "targets": [leaf("a"), leaf("b")]},
        leaf("c")]}));
    let health = table(&[("config.targets[0].targets[0]", OPEN), ("config.targets[0].targets[1]", COOLING)]);
    assert_eq!(first(&t, &health, 1), Ok("config.targets[1]".into()));
}

#[test]
fn after_a_failure_fallback_passes_over_unavailable_targets() {
    let t = tree(json!({"strategy": {"mode": "fallback"}, "targets": [leaf("a"), leaf("b"), leaf("c")]}));
    let health = table(&[("config.targets[1]", OPEN)]);
    let (m, p) = (Map::new(), Map::new());
    let mut planner = Planner::new(&t, RequestFacts { metadata: &m, params: &p }, &health, StdRng::seed_from_u64(1));
    assert!(planner.first().is_ok());
    let next = planner.next(&Failure::upstream(500)).map(|a| (a.leaf.path.clone(), a.kind));
    assert_eq!(next, Some(("config.targets[2]".into(), AttemptKind::Fallback)));
}

#[test]
fn a_refused_loadbalance_pick_moves_to_another_target() {
    let t = tree(json!({"strategy": {"mode": "loadbalance"}, "targets": [leaf("a"), leaf("b")]}));
    let (m, p) = (Map::new(), Map::new());
    let mut planner =
        Planner::new(&t, RequestFacts { metadata: &m, params: &p }, &AllAvailable, StdRng::seed_from_u64(3));
    let chosen = planner.first().map(|a| a.leaf.path.clone()).unwrap_or_default();
    let limited = TargetState::Limited { until_ms: 60_000 };
    let other = planner.skip(limited).map(|a| a.leaf.path.clone());
    assert!(other.is_some() && other.as_deref() != Some(chosen.as_str()), "{chosen} then {other:?}");
    assert_eq!(planner.skip(limited).map(|a| a.leaf.path.clone()), None, "both refused: nothing left");
    assert_eq!(planner.skipped().len(), 2);
}

#[test]
fn a_refused_fallback_target_moves_on_without_retrying_it() {
    let t = tree(json!({"strategy": {"mode": "fallback"},
        "targets": [{"provider": "openai", "api_key": "a", "retry": {"attempts": 3}}, leaf("b")]}));
    let (m, p) = (Map::new(), Map::new());
    let mut planner =
        Planner::new(&t, RequestFacts { metadata: &m, params: &p }, &AllAvailable, StdRng::seed_from_u64(1));
    assert!(planner.first().is_ok());
    let next = planner.skip(TargetState::HalfOpen { probing_until_ms: Some(10) });
    assert_eq!(next.map(|a| a.leaf.path.clone()), Some("config.targets[1]".into()));
}

fn sticky_first(t: &RouteTree, health: &(dyn Health + Sync), user: &str) -> (String, Option<(usize, usize)>) {
    let mut m = Map::new();
    m.insert("user_id".into(), json!(user));
    let p = Map::new();
    let mut planner = Planner::new(t, RequestFacts { metadata: &m, params: &p }, health, StdRng::seed_from_u64(7));
    let path = planner.first().map(|a| a.leaf.path.clone()).unwrap_or_default();
    (path, planner.sticky().map(|s| (s.first_choice, s.chosen)))
}

fn canary(weights: [u32; 2]) -> RouteTree {
    tree(json!({"strategy": {"mode": "loadbalance", "hash_key": "metadata.user_id"}, "targets": [
        {"provider": "openai", "api_key": "a", "weight": weights[0]},
        {"provider": "openai", "api_key": "b", "weight": weights[1]}]}))
}

#[test]
fn a_sticky_user_stays_on_one_target_whatever_the_rng() {
    let t = canary([50, 50]);
    let (m, p) = (HashMap::from([("user_id", "u-17")]), Map::new());
    let metadata: Map<String, Value> = m.into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let picks: Vec<String> = (0..50)
        .map(|seed| {
            let facts = RequestFacts { metadata: &metadata, params: &p };
            let mut planner = Planner::new(&t, facts, &AllAvailable, StdRng::seed_from_u64(seed));
            planner.first().map(|a| a.leaf.path.clone()).unwrap_or_default()
        })
        .collect();
    assert!(picks.windows(2).all(|w| w[0] == w[1]), "{picks:?}");
}

#[test]
fn an_unavailable_sticky_target_sends_its_users_to_their_next_choice() {
    let t = canary([50, 50]);
    let users: Vec<String> = (0..200).map(|i| format!("user-{i}")).collect();
    let on_a: Vec<&String> =
        users.iter().filter(|u| sticky_first(&t, &AllAvailable, u).0 == "config.targets[0]").collect();
    assert!(!on_a.is_empty());
    let health = table(&[("config.targets[0]", OPEN)]);
    for user in on_a {
        assert_eq!(sticky_first(&t, &health, user), ("config.targets[1]".into(), Some((0, 1))));
        assert_eq!(sticky_first(&t, &AllAvailable, user).0, "config.targets[0]", "back once it recovers");
    }
}

#[test]
fn a_sticky_split_follows_the_weights() {
    let t = canary([90, 10]);
    let on_canary = (0..4000).filter(|i| sticky_first(&t, &AllAvailable, &format!("u{i}")).0 == "config.targets[1]");
    let share = on_canary.count();
    assert!((300..500).contains(&share), "10 % of 4000 users on the canary, got {share}");
}

#[test]
fn without_the_hash_value_the_split_is_random() {
    let t = canary([50, 50]);
    let (m, p) = (Map::new(), Map::new());
    let mut planner =
        Planner::new(&t, RequestFacts { metadata: &m, params: &p }, &AllAvailable, StdRng::seed_from_u64(1));
    assert!(planner.first().is_ok());
    assert!(planner.sticky().is_none());
}

#[test]
fn a_loadbalance_repicking_after_a_refusal_never_goes_back_to_a_failed_target() {
    // Loadbalance over (fallback a → b) and c: a fails, b is refused, so the loadbalance
    // re-picks — c, never a again.
    let t = tree(json!({"strategy": {"mode": "loadbalance"}, "targets": [
        {"strategy": {"mode": "fallback"}, "targets": [leaf("a"), leaf("b")], "weight": 1000},
        {"provider": "openai", "api_key": "c", "weight": 1}]}));
    for seed in 0..50 {
        let (m, p) = (Map::new(), Map::new());
        let mut planner =
            Planner::new(&t, RequestFacts { metadata: &m, params: &p }, &AllAvailable, StdRng::seed_from_u64(seed));
        let Ok(first) = planner.first() else { panic!("a first attempt") };
        if first.leaf.path != "config.targets[0].targets[0]" {
            continue;
        }
        let second = planner.next(&Failure::upstream(500)).map(|a| a.leaf.path.clone());
        assert_eq!(second.as_deref(), Some("config.targets[0].targets[1]"));
        let third = planner.skip(TargetState::Limited { until_ms: 9 }).map(|a| a.leaf.path.clone());
        assert_eq!(third.as_deref(), Some("config.targets[1]"), "seed {seed}");
    }
}
