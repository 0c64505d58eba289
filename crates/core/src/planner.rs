//! The routing planner: walks a validated [`RouteTree`] and decides, one attempt at a time,
//! which target to call next — loadbalance picks, fallback order, retries with backoff,
//! conditional routes — as pure decisions over data.
//!
//! The executor calls [`Planner::first`], runs the attempt, and on failure hands the
//! [`Failure`] to [`Planner::next`], which answers with the next attempt or `None` (the
//! failure is final). Backoff is computed here and slept by the caller; nothing here reads
//! a clock or does I/O, and randomness comes from the caller's RNG so tests can seed it.

use std::time::Duration;

use rand::Rng;

use crate::config::{Group, Leaf, Mode, Node, RequestFacts, RouteTree};

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

pub struct Planner<'t, R> {
    stack: Vec<Frame<'t>>,
    tree: &'t RouteTree,
    facts: RequestFacts<'t>,
    rng: R,
    slept: Duration,
}

impl<'t, R: Rng> Planner<'t, R> {
    pub fn new(tree: &'t RouteTree, facts: RequestFacts<'t>, rng: R) -> Self {
        Planner { stack: Vec::with_capacity(4), tree, facts, rng, slept: Duration::ZERO }
    }

    /// The first attempt of the request.
    pub fn first(&mut self) -> Result<Attempt<'t>, NoRoute> {
        self.stack.clear();
        let leaf = self.descend(&self.tree.root)?;
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
        self.fall_back(failure)
    }

    /// Total backoff handed out so far.
    pub fn slept(&self) -> Duration {
        self.slept
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

    /// Pops finished frames until a fallback group has a next child that may be tried.
    fn fall_back(&mut self, failure: &Failure) -> Option<Attempt<'t>> {
        self.stack.pop();
        while let Some(frame) = self.stack.last_mut() {
            if let Frame::Group { group, index } = frame {
                if group.mode == Mode::Fallback && moves_on(group, failure) && *index + 1 < group.targets.len() {
                    *index += 1;
                    let node = &group.targets[*index].node;
                    let leaf = self.descend(node).ok()?;
                    return Some(Attempt { leaf, kind: AttemptKind::Fallback, retry: 0, backoff: Duration::ZERO });
                }
            }
            self.stack.pop();
        }
        None
    }

    /// Pushes frames from `node` down to the leaf the strategy picks.
    fn descend(&mut self, mut node: &'t Node) -> Result<&'t Leaf, NoRoute> {
        loop {
            match node {
                Node::Leaf(leaf) => {
                    self.stack.push(Frame::Leaf { leaf, retries: 0 });
                    return Ok(leaf);
                }
                Node::Group(group) => {
                    let index = self.pick(group)?;
                    self.stack.push(Frame::Group { group, index });
                    node = &group.targets[index].node;
                }
            }
        }
    }

    fn pick(&mut self, group: &Group) -> Result<usize, NoRoute> {
        match group.mode {
            Mode::Single | Mode::Fallback => Ok(0),
            Mode::Loadbalance => Ok(pick_weighted(group, &mut self.rng)),
            Mode::Conditional => crate::config::group_pick_conditional(group, &self.facts)
                .ok_or_else(|| NoRoute { path: group.path.clone() }),
        }
    }
}

/// Fallback moves on after any non-2xx, or only after `on_status_codes` when given.
fn moves_on(group: &Group, failure: &Failure) -> bool {
    match &group.on_status_codes {
        Some(codes) => codes.contains(&failure.status),
        None => !(200..300).contains(&failure.status),
    }
}

/// A weighted random child; weight 0 is never picked (validation guarantees a positive one).
fn pick_weighted<R: Rng>(group: &Group, rng: &mut R) -> usize {
    let total: f64 = group.targets.iter().map(|c| c.weight).sum();
    let mut point = rng.gen::<f64>() * total;
    let mut last_positive = 0;
    for (i, child) in group.targets.iter().enumerate() {
        if child.weight <= 0.0 {
            continue;
        }
        last_positive = i;
        if point < child.weight {
            return i;
        }
        point -= child.weight;
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
mod proptests;
#[cfg(test)]
mod tests;
