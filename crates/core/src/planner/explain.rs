//! The route explainer: the order in which a request would meet its targets, each with its
//! state and the reason it is where it is — without calling anything. It walks the tree
//! the way the [`Planner`](super::Planner) does: fallback in order, loadbalance by sticky
//! rank (with a `hash_key` value) or by share of traffic, conditional by the matching
//! condition; weight-0 targets come last, marked `weight_zero`.

use crate::config::{Group, Leaf, Mode, Node, RequestFacts, RouteTree};
use crate::health::TargetState;

use super::{sticky_ranking, Health};

/// One target in the planned order.
#[derive(Debug, Clone)]
pub struct Entry<'t> {
    pub leaf: &'t Leaf,
    /// `None` for a weight-0 target (`weight_zero`): never picked, whatever its health.
    pub state: Option<TargetState>,
    pub reason: String,
}

impl Entry<'_> {
    pub fn state_name(&self) -> &'static str {
        self.state.map_or("weight_zero", TargetState::as_str)
    }
}

/// A sticky group's ranking for the request's value.
#[derive(Debug, Clone)]
pub struct StickyRank<'t> {
    pub group: &'t Group,
    /// Child indices, best first.
    pub ranking: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Explained<'t> {
    pub entries: Vec<Entry<'t>>,
    pub sticky: Vec<StickyRank<'t>>,
    /// The conditional group that matched nothing, when one did.
    pub no_route: Option<String>,
}

impl Explained<'_> {
    /// Whether no target in the order is available now.
    pub fn all_unavailable(&self) -> bool {
        !self.entries.iter().any(|e| e.state.is_some_and(TargetState::is_available))
    }
}

pub fn explain<'t>(tree: &'t RouteTree, facts: RequestFacts<'t>, health: &dyn Health) -> Explained<'t> {
    let mut walk = Walk { facts, health, out: Explained::default() };
    walk.node(&tree.root, "the config's only target".to_string(), false);
    walk.out
}

struct Walk<'t, 'h> {
    facts: RequestFacts<'t>,
    health: &'h dyn Health,
    out: Explained<'t>,
}

impl<'t> Walk<'t, '_> {
    fn node(&mut self, node: &'t Node, reason: String, weight_zero: bool) {
        match node {
            Node::Leaf(leaf) => {
                let state = (!weight_zero).then(|| self.health.state(leaf));
                self.out.entries.push(Entry { leaf, state, reason });
            }
            Node::Group(group) => self.group(group, &reason, weight_zero),
        }
    }

    fn group(&mut self, group: &'t Group, outer: &str, weight_zero: bool) {
        let within = |what: String| if outer.starts_with("the config") { what } else { format!("{outer}; {what}") };
        for (index, reason, zero) in self.order(group) {
            self.node(&group.targets[index].node, within(reason), weight_zero || zero);
        }
    }

    /// The children of `group` in the order a request meets them, with why, and whether
    /// each is never picked (weight 0).
    fn order(&mut self, group: &'t Group) -> Vec<(usize, String, bool)> {
        let count = group.targets.len();
        match group.mode {
            Mode::Single => vec![(0, format!("{}: single target", group.path), false)],
            Mode::Fallback => {
                (0..count).map(|i| (i, format!("{}: fallback option {}", group.path, i + 1), false)).collect()
            }
            Mode::Conditional => match crate::config::group_pick_conditional(group, &self.facts) {
                Some(i) => vec![(i, format!("{}: {}", group.path, condition_reason(group, i, &self.facts)), false)],
                None => {
                    self.out.no_route.get_or_insert_with(|| group.path.clone());
                    Vec::new()
                }
            },
            Mode::Loadbalance => self.loadbalance_order(group),
        }
    }

    fn loadbalance_order(&mut self, group: &'t Group) -> Vec<(usize, String, bool)> {
        let zero = group.targets.iter().enumerate().filter(|(_, c)| c.weight <= 0.0).map(|(i, _)| i);
        let zero: Vec<(usize, String, bool)> =
            zero.map(|i| (i, format!("{}: weight 0, never picked", group.path), true)).collect();
        let mut order = match sticky_ranking(group, &self.facts) {
            Some(ranking) => {
                self.out.sticky.push(StickyRank { group, ranking: ranking.clone() });
                let reason = |n: usize| format!("{}: sticky choice {} for this hash_key value", group.path, n + 1);
                ranking.into_iter().enumerate().map(|(n, i)| (i, reason(n), false)).collect::<Vec<_>>()
            }
            None => self.shares(group),
        };
        order.extend(zero);
        order
    }

    /// Loadbalance without a sticky value: heaviest first, with each one's share of the
    /// traffic now (renormalised over the available children).
    fn shares(&self, group: &'t Group) -> Vec<(usize, String, bool)> {
        let live = |i: usize| group.targets[i].weight > 0.0 && self.any_available(&group.targets[i].node);
        let total: f64 = (0..group.targets.len()).filter(|i| live(*i)).map(|i| group.targets[i].weight).sum();
        let mut weighted: Vec<usize> = (0..group.targets.len()).filter(|i| group.targets[*i].weight > 0.0).collect();
        weighted.sort_by(|a, b| group.targets[*b].weight.total_cmp(&group.targets[*a].weight));
        let share = |i: usize| if live(i) && total > 0.0 { group.targets[i].weight * 100.0 / total } else { 0.0 };
        weighted
            .into_iter()
            .map(|i| (i, format!("{}: loadbalance, {:.0} % of traffic now", group.path, share(i)), false))
            .collect()
    }

    fn any_available(&self, node: &Node) -> bool {
        super::reaches(node, &self.facts, &|leaf| self.health.state(leaf).is_available())
    }
}

fn condition_reason(group: &Group, index: usize, facts: &RequestFacts) -> String {
    match group.conditions.iter().position(|c| c.matches(facts)) {
        Some(n) => format!("condition {} matched", n + 1),
        None if group.default == Some(index) => "no condition matched: the default target".to_string(),
        None => "conditional target".to_string(),
    }
}

#[cfg(test)]
mod tests;
