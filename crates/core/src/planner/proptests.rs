//! Planner rules held over random trees: loadbalance and fallback groups nested up to three
//! deep, weights 0–3, retry attempts 0–3 set anywhere in the tree (some obeying `Retry-After`),
//! and random failures, some with a `Retry-After` long enough to exhaust the backoff budget. Each
//! generated config is validated first (the generator makes only valid ones), then a whole
//! request is run and every rule checked against the attempts it made.

use std::collections::HashMap;

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Map, Value};

use super::*;
use crate::config::validate_config;

/// A config tree to generate; turned into Portkey JSON by [`Spec::to_json`].
#[derive(Debug, Clone)]
enum Spec {
    Leaf { retry: Option<RetrySpec> },
    Group { mode: Mode, only_429: bool, retry: Option<RetrySpec>, children: Vec<(u32, Spec)> },
}

impl Spec {
    fn to_json(&self, key: &mut u32) -> Value {
        match self {
            Spec::Leaf { retry } => {
                *key += 1;
                with_retry(json!({"provider": "openai", "api_key": format!("sk-{key}")}), *retry)
            }
            Spec::Group { mode, only_429, retry, children } => {
                let mut strategy = json!({"mode": mode.as_str()});
                if *only_429 && *mode == Mode::Fallback {
                    strategy["on_status_codes"] = json!([429]);
                }
                let targets: Vec<Value> = weights(*mode, children)
                    .zip(children)
                    .map(|(weight, (_, child))| {
                        let mut target = child.to_json(key);
                        target["weight"] = json!(weight);
                        target
                    })
                    .collect();
                with_retry(json!({"strategy": strategy, "targets": targets}), *retry)
            }
        }
    }
}

/// The children's weights; a loadbalance group whose weights are all 0 (which validation
/// refuses) gets weight 1 on its last child.
fn weights(mode: Mode, children: &[(u32, Spec)]) -> impl Iterator<Item = u32> + '_ {
    let all_zero = mode == Mode::Loadbalance && children.iter().all(|(w, _)| *w == 0);
    let last = children.len() - 1;
    children.iter().enumerate().map(move |(i, (w, _))| if all_zero && i == last { 1 } else { *w })
}

/// A `retry` block: attempts, and whether to wait as long as the provider's `Retry-After` says.
type RetrySpec = (u32, bool);

fn with_retry(mut node: Value, retry: Option<RetrySpec>) -> Value {
    if let Some((attempts, use_header)) = retry {
        node["retry"] = json!({"attempts": attempts, "use_retry_after_header": use_header});
    }
    node
}

fn spec() -> impl Strategy<Value = Spec> {
    let leaf = retry().prop_map(|retry| Spec::Leaf { retry });
    leaf.prop_recursive(3, 24, 4, |inner| {
        let mode = prop_oneof![Just(Mode::Loadbalance), Just(Mode::Fallback)];
        let children = proptest::collection::vec((0..=3u32, inner), 1..=4);
        (mode, any::<bool>(), retry(), children).prop_map(|(mode, only_429, retry, children)| Spec::Group {
            mode,
            only_429,
            retry,
            children,
        })
    })
}

/// A node's `retry`, or none (it then inherits its parent's).
fn retry() -> impl Strategy<Value = Option<RetrySpec>> {
    proptest::option::of((0..=3u32, any::<bool>()))
}

/// What an attempt meets: `None` is success; a gateway failure ends the request at once. Some
/// failures carry a `Retry-After` long enough to run into the backoff budget.
fn outcome() -> impl Strategy<Value = Option<Failure>> {
    let status = prop_oneof![Just(429u16), Just(500), Just(502), Just(503), Just(400), Just(401)];
    let seconds = prop_oneof![1 => Just(1u64), 1 => Just(5), 2 => Just(10), 2 => Just(25), 1 => Just(3600)];
    let retry_after = proptest::option::weighted(0.6, seconds);
    let upstream = (status, retry_after).prop_map(|(status, after)| Failure {
        status,
        retry_after: after.map(Duration::from_secs),
        gateway: false,
    });
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(Failure::gateway(400))),
        10 => upstream.prop_map(Some),
    ]
}

/// One attempt as the request made it, with the failure it met (`None`: it succeeded).
struct Step<'t> {
    attempt: Attempt<'t>,
    failure: Option<Failure>,
}

/// Each leaf's path → the groups above it, each with the index of the child on the way down.
type Chains<'t> = HashMap<&'t str, Vec<(&'t Group, usize)>>;

fn chains(tree: &RouteTree) -> Chains<'_> {
    fn walk<'t>(node: &'t Node, above: &mut Vec<(&'t Group, usize)>, out: &mut Chains<'t>) {
        match node {
            Node::Leaf(leaf) => {
                out.insert(leaf.path.as_str(), above.clone());
            }
            Node::Group(group) => {
                for (i, child) in group.targets.iter().enumerate() {
                    above.push((group, i));
                    walk(&child.node, above, out);
                    above.pop();
                }
            }
        }
    }
    let mut out = HashMap::new();
    walk(&tree.root, &mut Vec::new(), &mut out);
    out
}

fn leaf_count(node: &Node) -> usize {
    match node {
        Node::Leaf(_) => 1,
        Node::Group(g) => g.targets.iter().map(|c| leaf_count(&c.node)).sum(),
    }
}

/// Runs one request to its end, failing the case if it takes more attempts than every leaf
/// tried once plus all its retries (at most 3) could.
fn run<'t>(
    tree: &'t RouteTree,
    facts: RequestFacts<'t>,
    seed: u64,
    outcomes: &[Option<Failure>],
) -> Result<Vec<Step<'t>>, TestCaseError> {
    let mut planner = Planner::new(tree, facts, &AllAvailable, StdRng::seed_from_u64(seed));
    let bound = leaf_count(&tree.root) * 4;
    let mut steps: Vec<Step<'t>> = Vec::new();
    let mut next = planner.first().ok();
    while let Some(attempt) = next {
        prop_assert!(steps.len() < bound, "more than {bound} attempts: the sequence does not end");
        let failure = outcomes[steps.len() % outcomes.len()];
        next = failure.and_then(|f| planner.next(&f));
        if failure.is_some_and(|f| f.gateway) {
            prop_assert!(next.is_none(), "an attempt followed a gateway failure");
        }
        steps.push(Step { attempt, failure });
    }
    Ok(steps)
}

fn weight_zero_is_never_picked(steps: &[Step<'_>], chains: &Chains<'_>) -> Result<(), TestCaseError> {
    for step in steps {
        for (group, i) in &chains[step.attempt.leaf.path.as_str()] {
            if group.mode == Mode::Loadbalance {
                prop_assert!(group.targets[*i].weight > 0.0, "{} picked weight 0 child {i}", group.path);
            }
        }
    }
    Ok(())
}

/// Per fallback group: its children are entered from the first, one after the other, each only
/// after a failure the group moves on after, and the group is never re-entered once left.
fn fallback_children_are_tried_in_order(steps: &[Step<'_>], chains: &Chains<'_>) -> Result<(), TestCaseError> {
    let mut seen: HashMap<&str, (usize, usize)> = HashMap::new(); // group path → (last step, child)
    for (n, step) in steps.iter().enumerate() {
        for (group, i) in chains[step.attempt.leaf.path.as_str()].iter().filter(|(g, _)| g.mode == Mode::Fallback) {
            match seen.insert(group.path.as_str(), (n, *i)) {
                None => prop_assert_eq!(*i, 0, "{} entered at child {}", group.path, i),
                Some((last, before)) => {
                    prop_assert_eq!(last + 1, n, "{} re-entered after it was left", group.path);
                    prop_assert!(*i == before || *i == before + 1, "{} went from child {before} to {i}", group.path);
                    if *i == before + 1 {
                        let failure = steps[last].failure.map(|f| f.status);
                        prop_assert!(failure.is_some_and(|s| falls_back_after(group, s)), "{failure:?}");
                        prop_assert_eq!(step.attempt.kind, AttemptKind::Fallback);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Per leaf: its attempts are consecutive, the first is not a retry, each retry follows a
/// failure its policy retries, and there are at most `retry.attempts` of them.
fn no_target_is_retried_beyond_its_attempts(steps: &[Step<'_>]) -> Result<(), TestCaseError> {
    for (n, step) in steps.iter().enumerate() {
        let Attempt { leaf, kind, retry, .. } = step.attempt;
        let previous = n.checked_sub(1).map(|p| &steps[p]);
        let same_leaf = previous.is_some_and(|p| std::ptr::eq(p.attempt.leaf, leaf));
        prop_assert_eq!(kind == AttemptKind::Retry, same_leaf, "{}: attempt {} is {:?}", leaf.path, n, kind);
        prop_assert!(retry <= leaf.retry.attempts, "{}: retry {retry} of {}", leaf.path, leaf.retry.attempts);
        match previous.filter(|_| same_leaf) {
            Some(p) => {
                prop_assert_eq!(retry, p.attempt.retry + 1);
                let status = p.failure.map(|f| f.status).unwrap_or(200);
                prop_assert!(leaf.retry.on_status_codes.contains(&status), "{} retried after {status}", leaf.path);
            }
            None => {
                prop_assert_eq!(retry, 0);
                let tried_before = steps[..n].iter().any(|s| std::ptr::eq(s.attempt.leaf, leaf));
                prop_assert!(!tried_before, "{} tried again after the request moved on", leaf.path);
            }
        }
    }
    Ok(())
}

/// What must follow each failure: a retry when the leaf's policy surely allows one (its
/// attempts, its status codes, and a backoff that fits the budget whatever the jitter), else the
/// next child of the innermost fallback group that moves on after it, else nothing: the
/// request ends.
fn every_failure_leads_where_the_rules_say(steps: &[Step<'_>], chains: &Chains<'_>) -> Result<(), TestCaseError> {
    let mut slept = Duration::ZERO;
    for (n, step) in steps.iter().enumerate() {
        slept += step.attempt.backoff;
        let next = steps.get(n + 1);
        let Some(failure) = step.failure.filter(|f| !f.gateway) else {
            prop_assert!(next.is_none(), "an attempt followed a success or a gateway failure");
            continue;
        };
        let Attempt { leaf, retry, .. } = step.attempt;
        let retryable = retry < leaf.retry.attempts && leaf.retry.on_status_codes.contains(&failure.status);
        let (least, most) = match failure.retry_after.filter(|_| leaf.retry.use_retry_after_header) {
            Some(after) => (after, after),
            None => backoff_bounds(retry + 1),
        };
        let retried = next.filter(|s| s.attempt.kind == AttemptKind::Retry);
        if let Some(r) = retried {
            prop_assert!(retryable && slept + least <= BACKOFF_BUDGET, "{} retried against its policy", leaf.path);
            prop_assert!((least..=most).contains(&r.attempt.backoff), "backoff {:?}", r.attempt.backoff);
            continue;
        }
        prop_assert!(
            !(retryable && slept + most <= BACKOFF_BUDGET),
            "{} was not retried after {}",
            leaf.path,
            failure.status
        );
        the_innermost_fallback_moves_on(leaf, failure.status, next, chains)?;
    }
    Ok(())
}

/// After a failure that is not retried: the next attempt is in the next child of the innermost
/// fallback group that moves on after `status`, and without such a group there is none.
fn the_innermost_fallback_moves_on(
    leaf: &Leaf,
    status: u16,
    next: Option<&Step<'_>>,
    chains: &Chains<'_>,
) -> Result<(), TestCaseError> {
    let chain = &chains[leaf.path.as_str()];
    let mover = chain
        .iter()
        .rev()
        .find(|(g, i)| g.mode == Mode::Fallback && i + 1 < g.targets.len() && falls_back_after(g, status));
    match (mover, next) {
        (None, None) => {}
        (Some((group, i)), Some(next)) => {
            let entered =
                chains[next.attempt.leaf.path.as_str()].iter().any(|(g, j)| std::ptr::eq(*g, *group) && *j == i + 1);
            prop_assert!(
                entered,
                "{} should have moved on to child {}, went to {}",
                group.path,
                i + 1,
                next.attempt.leaf.path
            );
            prop_assert_eq!(next.attempt.kind, AttemptKind::Fallback);
        }
        (None, Some(next)) => {
            prop_assert!(false, "{} followed a failure no group moves on after", next.attempt.leaf.path)
        }
        (Some((group, i)), None) => {
            prop_assert!(false, "{} did not move on to child {} after {}", group.path, i + 1, status)
        }
    }
    Ok(())
}

/// Whether a fallback group moves on after `status`: said again here, not borrowed from the
/// planner, so the test does not take the rule from the code it checks.
fn falls_back_after(group: &Group, status: u16) -> bool {
    match &group.on_status_codes {
        Some(codes) => codes.contains(&status),
        None => !(200..300).contains(&status),
    }
}

/// The least and most wait before retry `n` (1-based): 50–100 % of `BASE · 2^(n-1)`, capped.
fn backoff_bounds(n: u32) -> (Duration, Duration) {
    let full = BACKOFF_BASE.saturating_mul(1 << (n - 1)).min(BACKOFF_MAX);
    (full / 2, full)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_and_failures_keep_every_planner_rule(
        spec in spec(),
        seed in any::<u64>(),
        outcomes in proptest::collection::vec(outcome(), 1..24),
    ) {
        let (metadata, params) = (Map::new(), Map::new());
        let config = spec.to_json(&mut 0);
        let tree = validate_config(&config).map_err(|e| TestCaseError::fail(format!("{e} in {config}")))?;
        let steps = run(&tree, RequestFacts { metadata: &metadata, params: &params }, seed, &outcomes)?;
        let chains = chains(&tree);
        prop_assert!(!steps.is_empty());
        prop_assert_eq!(steps[0].attempt.kind, AttemptKind::Initial);
        weight_zero_is_never_picked(&steps, &chains)?;
        fallback_children_are_tried_in_order(&steps, &chains)?;
        no_target_is_retried_beyond_its_attempts(&steps)?;
        every_failure_leads_where_the_rules_say(&steps, &chains)?;
    }
}

/// Health by leaf path, for the health property below.
struct PathHealth(HashMap<String, TargetState>);

impl Health for PathHealth {
    fn state(&self, leaf: &Leaf) -> TargetState {
        self.0.get(&leaf.path).copied().unwrap_or(TargetState::Available)
    }
}

/// What the executor does after an attempt: it succeeded, it failed, or its gate refused it.
#[derive(Debug, Clone, Copy)]
enum Turn {
    Fail(Failure),
    Refuse,
}

fn turn() -> impl Strategy<Value = Option<Turn>> {
    prop_oneof![1 => Just(None), 1 => Just(Some(Turn::Refuse)), 6 => outcome().prop_map(|f| f.map(Turn::Fail))]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Over random trees, random health and random outcomes (failures and gate refusals): the
    /// request ends; an unavailable target is called only by a request that failed open, and
    /// only the target it failed open to (its first, and that target's retries); a refused
    /// target is never called again; a target moved on from is never gone back to.
    #[test]
    fn unavailable_and_refused_targets_are_passed_over(
        spec in spec(),
        seed in any::<u64>(),
        down in proptest::collection::vec(any::<bool>(), 1..16),
        turns in proptest::collection::vec(turn(), 1..24),
    ) {
        let (metadata, params) = (Map::new(), Map::new());
        let config = spec.to_json(&mut 0);
        let tree = validate_config(&config).map_err(|e| TestCaseError::fail(format!("{e} in {config}")))?;
        let mut paths: Vec<&str> = chains(&tree).keys().copied().collect();
        paths.sort_unstable();
        let health = PathHealth(paths.iter().zip(down.iter().cycle())
            .filter(|(_, down)| **down)
            .map(|(p, _)| (p.to_string(), TargetState::Open { until_ms: 1_000 }))
            .collect());
        let facts = RequestFacts { metadata: &metadata, params: &params };
        let mut planner = Planner::new(&tree, facts, &health, StdRng::seed_from_u64(seed));
        let bound = leaf_count(&tree.root) * 5;
        let (mut made, mut refused, mut left) = (0usize, Vec::<String>::new(), Vec::<String>::new());
        let mut next = planner.first().ok();
        let opened_to = next.map(|a| a.leaf.path.clone()).filter(|_| planner.failed_open());
        while let Some(attempt) = next {
            prop_assert!(made < bound, "more than {bound} attempts");
            let path = attempt.leaf.path.clone();
            prop_assert!(!refused.contains(&path), "{path} was called after its gate refused it");
            prop_assert!(!left.contains(&path), "{path} was gone back to after the planner moved on");
            if health.state(attempt.leaf) != TargetState::Available {
                prop_assert!(opened_to.as_ref() == Some(&path), "unavailable {path} called at attempt {made}");
            }
            next = match turns[made % turns.len()] {
                None => None,
                Some(Turn::Fail(f)) => planner.next(&f),
                Some(Turn::Refuse) => {
                    refused.push(path.clone());
                    planner.skip(TargetState::Limited { until_ms: 5_000 })
                }
            };
            if next.as_ref().is_some_and(|n| n.leaf.path != path) {
                left.push(path);
            }
            made += 1;
        }
    }
}
