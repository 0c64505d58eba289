//! The routing planner: walks a validated [`RouteTree`] and decides, one attempt at a time,
//! which target to call next — loadbalance picks, fallback order, retries with backoff,
//! conditional routes, sticky assignment — as pure decisions over data and a [`Health`]
//! snapshot.
//!
//! The executor calls [`Planner::first`], runs the attempt, and on failure hands the
//! [`Failure`] to [`Planner::next`], which answers with the next attempt or `None` (the
//! failure is final); when a target refuses before it is called (its half-open probe is
//! taken, its key's limits are spent) the executor calls [`Planner::skip`] instead.
//! Unavailable targets (open, cooling, no headroom, limited) are passed over: loadbalance
//! renormalises over the available ones, fallback moves to the next available. When nothing
//! is available the planner tries the target that becomes available first (fail open), or,
//! with `on_all_unavailable: "fail"`, reports [`Unroutable::AllUnavailable`].
//! Backoff is computed here and slept by the caller; nothing here reads a clock or does
//! I/O, and randomness comes from the caller's RNG so tests can seed it.

use std::time::Duration;

use rand::Rng;

use crate::config::{Group, Leaf, Mode, Node, RequestFacts, RouteTree};
use crate::health::{rendezvous, TargetState};

mod explain;
pub use explain::{explain, Entry, Explained, StickyRank};

/// First retry waits about this long; each further retry doubles it.
pub const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// No single backoff sleeps longer than this.
pub const BACKOFF_MAX: Duration = Duration::from_secs(8);
/// Retries of one request never sleep longer than this in total; a `Retry-After` that would
/// exceed it ends retrying (the router moves on instead of hanging the client).
pub const BACKOFF_BUDGET: Duration = Duration::from_secs(30);

/// Why an attempt happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// The first target the plan reached.
    Initial,
    /// The same target again, after a retryable failure.
    Retry,
    /// A later target of a fallback group, after the previous one failed.
    Fallback,
}

/// One upstream call to make.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'t> {
    pub leaf: &'t Leaf,
    pub kind: AttemptKind,
    /// Retries already made on this target before this attempt (0 for its first try).
    pub retry: u32,
    /// How long to wait before making this attempt.
    pub backoff: Duration,
}

/// What went wrong with an attempt, as far as routing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The provider's status, or 408 for a timeout, 502 for an unreachable provider.
    pub status: u16,
    /// The provider's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// A gateway-side failure (bad request for this provider, missing credentials, …):
    /// neither retried nor a reason to fall back.
    pub gateway: bool,
}

impl Failure {
    pub fn upstream(status: u16) -> Self {
        Failure { status, retry_after: None, gateway: false }
    }
    pub fn gateway(status: u16) -> Self {
        Failure { status, retry_after: None, gateway: true }
    }
}

/// The planner's view of target health: a snapshot the server builds per request. It must
/// answer the same for the same leaf throughout one request.
pub trait Health {
    fn state(&self, leaf: &Leaf) -> TargetState;
}

/// Every target available: routing as if nothing were known.
pub struct AllAvailable;

impl Health for AllAvailable {
    fn state(&self, _leaf: &Leaf) -> TargetState {
        TargetState::Available
    }
}

/// The planner found no target to route to (a conditional group matched nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRoute {
    pub path: String,
}

impl std::fmt::Display for NoRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: no condition matched and the group has no default target", self.path)
    }
}

/// Why a request has no first attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unroutable {
    NoRoute(NoRoute),
    /// Every target is unavailable and the config says `on_all_unavailable: "fail"`;
    /// `until_ms` is when the first of them becomes available.
    AllUnavailable {
        until_ms: u64,
    },
    /// No target the request could reach can serve its endpoint: each one's path and why.
    Unsupported(Vec<(String, &'static str)>),
}

impl std::fmt::Display for Unroutable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unroutable::NoRoute(no_route) => no_route.fmt(f),
            Unroutable::AllUnavailable { until_ms } => {
                write!(f, "every target is unavailable until {until_ms} (unix ms)")
            }
            Unroutable::Unsupported(targets) => {
                let each: Vec<String> = targets.iter().map(|(path, why)| format!("{path}: {why}")).collect();
                write!(f, "no target of this route can serve the request: {}", each.join("; "))
            }
        }
    }
}

/// A target the router passed over, and why.
#[derive(Debug, Clone, Copy)]
pub struct Skipped<'t> {
    pub leaf: &'t Leaf,
    pub state: TargetState,
}

/// A sticky loadbalance's assignment: which child the request's `hash_key` value ranks
/// first, and which one it went to (its next choice when the first was unavailable).
#[derive(Debug, Clone, Copy)]
pub struct Sticky<'t> {
    pub group: &'t Group,
    pub first_choice: usize,
    pub chosen: usize,
}

enum Frame<'t> {
    /// A group being walked; for fallback, `index` is the child now being tried.
    Group {
        group: &'t Group,
        index: usize,
    },
    Leaf {
        leaf: &'t Leaf,
        retries: u32,
    },
}

pub struct Planner<'t, 'h, R> {
    stack: Vec<Frame<'t>>,
    tree: &'t RouteTree,
    facts: RequestFacts<'t>,
    health: &'h (dyn Health + Sync),
    rng: R,
    slept: Duration,
    /// Targets refused by the executor's gate ([`Planner::skip`]), and why: unavailable
    /// from then on.
    refused: Vec<(&'t Leaf, TargetState)>,
    /// Targets already tried and moved on from: never chosen again by this request (a
    /// loadbalance re-picking after a refusal does not go back to one that failed).
    done: Vec<&'t Leaf>,
    skipped: Vec<Skipped<'t>>,
    sticky: Option<Sticky<'t>>,
    failed_open: bool,
}

impl<'t, 'h, R: Rng> Planner<'t, 'h, R> {
    pub fn new(tree: &'t RouteTree, facts: RequestFacts<'t>, health: &'h (dyn Health + Sync), rng: R) -> Self {
        Planner {
            stack: Vec::with_capacity(4),
            tree,
            facts,
            health,
            rng,
            slept: Duration::ZERO,
            refused: Vec::new(),
            done: Vec::new(),
            skipped: Vec::new(),
            sticky: None,
            failed_open: false,
        }
    }

    /// The first attempt of the request.
    pub fn first(&mut self) -> Result<Attempt<'t>, Unroutable> {
        self.stack.clear();
        let root = &self.tree.root;
        if let Some(leaf) = self.available(root).then(|| self.descend(root)).flatten() {
            return Ok(Attempt { leaf, kind: AttemptKind::Initial, retry: 0, backoff: Duration::ZERO });
        }
        let (leaf, until_ms) = self.soonest(root)?;
        if matches!(root, Node::Group(g) if g.fail_when_all_unavailable) {
            return Err(Unroutable::AllUnavailable { until_ms });
        }
        self.stack.clear();
        self.failed_open = true;
        let mut passed = Vec::new();
        self.reachable_leaves(root, &mut passed);
        for other in passed.into_iter().filter(|l| !std::ptr::eq(*l, leaf)) {
            let state = self.leaf_state(other);
            self.note_skip(other, state);
        }
        self.descend_to(root, leaf);
        Ok(Attempt { leaf, kind: AttemptKind::Initial, retry: 0, backoff: Duration::ZERO })
    }

    /// The attempt to make after `failure`, or `None` when the failure is final.
    pub fn next(&mut self, failure: &Failure) -> Option<Attempt<'t>> {
        if failure.gateway {
            return None;
        }
        if let Some(attempt) = self.retry(failure) {
            return Some(attempt);
        }
        self.fall_back(Some(failure))
    }

    /// The current target refused before it was called (`state` says why): it is passed
    /// over like an unavailable one, by fallback and by loadbalance alike.
    pub fn skip(&mut self, state: TargetState) -> Option<Attempt<'t>> {
        let Some(Frame::Leaf { leaf, .. }) = self.stack.last() else { return None };
        let leaf = *leaf;
        self.refused.push((leaf, state));
        self.note_skip(leaf, state);
        self.fall_back(None)
    }

    /// Total backoff handed out so far.
    pub fn slept(&self) -> Duration {
        self.slept
    }

    /// Targets passed over so far, in the order the router met them.
    pub fn skipped(&self) -> &[Skipped<'t>] {
        &self.skipped
    }

    /// The sticky assignment, when a `hash_key` applied.
    pub fn sticky(&self) -> Option<Sticky<'t>> {
        self.sticky
    }

    /// Whether nothing was available and the planner chose the target available first.
    pub fn failed_open(&self) -> bool {
        self.failed_open
    }

    fn retry(&mut self, failure: &Failure) -> Option<Attempt<'t>> {
        let Some(Frame::Leaf { leaf, retries }) = self.stack.last_mut() else { return None };
        let policy = &leaf.retry;
        if *retries >= policy.attempts || !policy.on_status_codes.contains(&failure.status) {
            return None;
        }
        let wait = match failure.retry_after.filter(|_| policy.use_retry_after_header) {
            Some(after) => after,
            None => backoff(*retries + 1, &mut self.rng),
        };
        if self.slept + wait > BACKOFF_BUDGET {
            return None;
        }
        *retries += 1;
        self.slept += wait;
        Some(Attempt { leaf, kind: AttemptKind::Retry, retry: *retries, backoff: wait })
    }

    /// Pops finished frames until a group has a next child to try: a fallback group after
    /// a failure it moves on from, or — after a skip (`failure` is `None`) — a fallback or
    /// loadbalance group with another available child.
    fn fall_back(&mut self, failure: Option<&Failure>) -> Option<Attempt<'t>> {
        if let Some(Frame::Leaf { leaf, .. }) = self.stack.pop() {
            self.done.push(leaf);
        }
        while let Some(Frame::Group { group, index }) = self.stack.last() {
            let (group, index) = (*group, *index);
            let next = match (group.mode, failure) {
                (Mode::Fallback, Some(f)) if moves_on(group, f) => self.next_available(group, index + 1),
                (Mode::Fallback, None) => self.next_available(group, index + 1),
                (Mode::Loadbalance, None) => self.choose(group),
                _ => None,
            };
            if let Some(next) = next {
                self.stack.pop();
                self.stack.push(Frame::Group { group, index: next });
                let leaf = self.descend(&group.targets[next].node)?;
                let kind = if failure.is_some() { AttemptKind::Fallback } else { AttemptKind::Initial };
                return Some(Attempt { leaf, kind, retry: 0, backoff: Duration::ZERO });
            }
            self.stack.pop();
        }
        None
    }

    /// Pushes frames from `node` down to the leaf the strategy picks among available
    /// targets; `None` (frames popped again) when nothing below is available.
    fn descend(&mut self, node: &'t Node) -> Option<&'t Leaf> {
        let depth = self.stack.len();
        let mut node = node;
        loop {
            match node {
                Node::Leaf(leaf) => {
                    self.stack.push(Frame::Leaf { leaf, retries: 0 });
                    return Some(leaf);
                }
                Node::Group(group) => {
                    let Some(index) = self.choose(group) else {
                        self.stack.truncate(depth);
                        return None;
                    };
                    self.stack.push(Frame::Group { group, index });
                    node = &group.targets[index].node;
                }
            }
        }
    }

    /// Like [`Planner::descend`], but toward one given leaf, whatever its health.
    fn descend_to(&mut self, mut node: &'t Node, target: &'t Leaf) {
        loop {
            match node {
                Node::Leaf(leaf) => {
                    self.stack.push(Frame::Leaf { leaf, retries: 0 });
                    return;
                }
                Node::Group(group) => {
                    let index = group.targets.iter().position(|c| contains(&c.node, target)).unwrap_or(0);
                    self.stack.push(Frame::Group { group, index });
                    node = &group.targets[index].node;
                }
            }
        }
    }

    /// The child of `group` to walk into now, among available ones.
    fn choose(&mut self, group: &'t Group) -> Option<usize> {
        match group.mode {
            Mode::Single => self.available_or_skip(&group.targets[0].node).then_some(0),
            Mode::Fallback => self.next_available(group, 0),
            Mode::Loadbalance => self.pick_loadbalance(group),
            Mode::Conditional => {
                let index = crate::config::group_pick_conditional(group, &self.facts)?;
                self.available_or_skip(&group.targets[index].node).then_some(index)
            }
        }
    }

    fn next_available(&mut self, group: &'t Group, from: usize) -> Option<usize> {
        (from..group.targets.len()).find(|i| self.available_or_skip(&group.targets[*i].node))
    }

    fn pick_loadbalance(&mut self, group: &'t Group) -> Option<usize> {
        let open: Vec<bool> = group.targets.iter().map(|c| c.weight > 0.0 && self.available_or_skip(&c.node)).collect();
        if let Some(ranked) = sticky_ranking(group, &self.facts) {
            let chosen = ranked.iter().copied().find(|i| open[*i])?;
            let first_choice = ranked.first().copied().unwrap_or(chosen);
            self.sticky = Some(Sticky { group, first_choice, chosen });
            return Some(chosen);
        }
        pick_weighted(group, &open, &mut self.rng)
    }

    /// Whether anything below `node` is available now.
    fn available(&self, node: &Node) -> bool {
        reaches(node, &self.facts, &|leaf| !self.is_done(leaf) && self.leaf_state(leaf).is_available())
    }

    /// [`Planner::available`], noting the unavailable targets passed over.
    fn available_or_skip(&mut self, node: &'t Node) -> bool {
        if self.available(node) {
            return true;
        }
        let mut passed = Vec::new();
        self.reachable_leaves(node, &mut passed);
        passed.retain(|l| !self.is_done(l));
        for leaf in passed {
            let state = self.leaf_state(leaf);
            self.note_skip(leaf, state);
        }
        false
    }

    fn is_done(&self, leaf: &Leaf) -> bool {
        self.done.iter().any(|d| std::ptr::eq(*d, leaf))
    }

    fn leaf_state(&self, leaf: &Leaf) -> TargetState {
        match self.refused.iter().find(|(r, _)| std::ptr::eq(*r, leaf)) {
            Some((_, state)) => *state,
            None => self.health.state(leaf),
        }
    }

    fn note_skip(&mut self, leaf: &'t Leaf, state: TargetState) {
        if !self.skipped.iter().any(|s| std::ptr::eq(s.leaf, leaf)) {
            self.skipped.push(Skipped { leaf, state });
        }
    }

    /// The leaves a request could reach below `node` (weight-0 and unmatched ones excluded).
    fn reachable_leaves(&self, node: &'t Node, out: &mut Vec<&'t Leaf>) {
        match node {
            Node::Leaf(leaf) => out.push(leaf),
            Node::Group(group) => match group.mode {
                Mode::Single => self.reachable_leaves(&group.targets[0].node, out),
                Mode::Conditional => {
                    if let Some(i) = crate::config::group_pick_conditional(group, &self.facts) {
                        self.reachable_leaves(&group.targets[i].node, out);
                    }
                }
                Mode::Loadbalance | Mode::Fallback => {
                    let reachable = group.targets.iter().filter(|c| group.mode == Mode::Fallback || c.weight > 0.0);
                    reachable.for_each(|c| self.reachable_leaves(&c.node, out));
                }
            },
        }
    }

    /// The reachable leaf that can serve the request and becomes available first; `NoRoute`
    /// when a conditional group leaves nothing reachable, `Unsupported` when nothing reachable
    /// can serve it (an unsupported target is never failed open to).
    fn soonest(&self, root: &'t Node) -> Result<(&'t Leaf, u64), Unroutable> {
        let mut leaves = Vec::new();
        self.reachable_leaves(root, &mut leaves);
        let states: Vec<_> = leaves.into_iter().map(|leaf| (leaf, self.leaf_state(leaf))).collect();
        let supported = states.iter().filter(|(_, state)| state.is_supported());
        if let Some((leaf, state)) = supported.min_by_key(|(_, state)| state.available_at_ms()) {
            return Ok((leaf, state.available_at_ms()));
        }
        if states.is_empty() {
            return Err(Unroutable::NoRoute(NoRoute { path: no_route_path(root, &self.facts) }));
        }
        let why = |state: TargetState| match state {
            TargetState::Unsupported { reason } => reason,
            _ => "unsupported",
        };
        Err(Unroutable::Unsupported(states.into_iter().map(|(leaf, state)| (leaf.path.clone(), why(state))).collect()))
    }
}

/// Whether a request could reach, below `node`, a leaf `usable` accepts: a single group's
/// first target, a conditional's matching one, a loadbalance's weighted ones, any of a
/// fallback's. The planner and the explainer judge availability by this one rule.
pub(crate) fn reaches(node: &Node, facts: &RequestFacts, usable: &dyn Fn(&Leaf) -> bool) -> bool {
    match node {
        Node::Leaf(leaf) => usable(leaf),
        Node::Group(group) => match group.mode {
            Mode::Single => reaches(&group.targets[0].node, facts, usable),
            Mode::Conditional => crate::config::group_pick_conditional(group, facts)
                .is_some_and(|i| reaches(&group.targets[i].node, facts, usable)),
            Mode::Loadbalance => group.targets.iter().any(|c| c.weight > 0.0 && reaches(&c.node, facts, usable)),
            Mode::Fallback => group.targets.iter().any(|c| reaches(&c.node, facts, usable)),
        },
    }
}

/// Whether `leaf` lies below (or is) `node`.
fn contains(node: &Node, leaf: &Leaf) -> bool {
    match node {
        Node::Leaf(l) => std::ptr::eq(&**l, leaf),
        Node::Group(g) => g.targets.iter().any(|c| contains(&c.node, leaf)),
    }
}

/// The conditional group that matched nothing, for the "no route" error.
fn no_route_path(node: &Node, facts: &RequestFacts) -> String {
    let mut node = node;
    loop {
        match node {
            Node::Group(g) if g.mode == Mode::Conditional => match crate::config::group_pick_conditional(g, facts) {
                Some(i) => node = &g.targets[i].node,
                None => return g.path.clone(),
            },
            Node::Group(g) => node = &g.targets[0].node,
            Node::Leaf(l) => return l.path.clone(),
        }
    }
}

/// A sticky loadbalance's children ranked for the request's `hash_key` value (weight-0
/// children left out); `None` without a `hash_key` or without the value in the request.
fn sticky_ranking(group: &Group, facts: &RequestFacts) -> Option<Vec<usize>> {
    let key = group.hash_key.as_ref()?.lookup(facts).map(sticky_key)?;
    let seeds: Vec<(u64, f64)> =
        group.targets.iter().map(|c| (rendezvous::stable_hash(c.node.path().as_bytes()), c.weight)).collect();
    Some(rendezvous::rank(key, &seeds))
}

/// The hash of a sticky value: strings as their text, anything else as its JSON.
fn sticky_key(value: &serde_json::Value) -> u64 {
    match value {
        serde_json::Value::String(s) => rendezvous::stable_hash(s.as_bytes()),
        other => rendezvous::stable_hash(other.to_string().as_bytes()),
    }
}

/// Fallback moves on after any non-2xx, or only after `on_status_codes` when given.
fn moves_on(group: &Group, failure: &Failure) -> bool {
    match &group.on_status_codes {
        Some(codes) => codes.contains(&failure.status),
        None => !(200..300).contains(&failure.status),
    }
}

/// A weighted random child among the `open` ones (weights renormalised over them); weight 0
/// is never picked. `None` when none is open.
fn pick_weighted<R: Rng>(group: &Group, open: &[bool], rng: &mut R) -> Option<usize> {
    let weight = |i: usize| if open[i] { group.targets[i].weight } else { 0.0 };
    let total: f64 = (0..group.targets.len()).map(weight).sum();
    if total <= 0.0 {
        return None;
    }
    let mut point = rng.gen::<f64>() * total;
    let mut last_positive = None;
    for i in 0..group.targets.len() {
        if weight(i) <= 0.0 {
            continue;
        }
        last_positive = Some(i);
        if point < weight(i) {
            return Some(i);
        }
        point -= weight(i);
    }
    last_positive
}

/// Exponential backoff with jitter: retry `n` (1-based) waits 50–100% of `BASE · 2^(n-1)`,
/// capped at `BACKOFF_MAX`.
pub fn backoff<R: Rng>(n: u32, rng: &mut R) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << (n.saturating_sub(1)).min(16));
    let capped = exp.min(BACKOFF_MAX);
    capped.mul_f64(rng.gen_range(0.5..=1.0))
}

#[cfg(test)]
mod eligibility_tests;
#[cfg(test)]
mod health_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
