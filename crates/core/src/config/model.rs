//! Validated config types. Constructed only by `validate`; every field is already checked.

use serde_json::{Map, Value};

use std::sync::Arc;

use super::conditional::{Condition, Field, RequestFacts};
use crate::health::breaker::CbConfig;
use crate::pricing::Price;
pub use crate::provider::ProviderOptions;
use crate::secret::Secret;

/// How a group picks among its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Single,
    Loadbalance,
    Fallback,
    Conditional,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Loadbalance => "loadbalance",
            Mode::Fallback => "fallback",
            Mode::Conditional => "conditional",
        }
    }
}

/// A validated config: the root node of the routing tree.
#[derive(Debug, Clone)]
pub struct RouteTree {
    pub root: Node,
}

impl RouteTree {
    /// The strategy mode at the root (`single` for a bare leaf).
    pub fn mode(&self) -> Mode {
        match &self.root {
            Node::Leaf(_) => Mode::Single,
            Node::Group(g) => g.mode,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Node {
    Leaf(Box<Leaf>),
    Group(Box<Group>),
}

impl Node {
    /// JSON path of this node (`config.targets[1]`).
    pub fn path(&self) -> &str {
        match self {
            Node::Leaf(leaf) => &leaf.path,
            Node::Group(group) => &group.path,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    /// JSON path of this group, e.g. `config` or `config.targets[1]`.
    pub path: String,
    pub mode: Mode,
    pub targets: Vec<Child>,
    /// Fallback moves on only after these statuses; `None` means after any non-2xx.
    pub on_status_codes: Option<Vec<u16>>,
    /// For `conditional`: evaluated in order, first match wins.
    pub conditions: Vec<Condition>,
    /// For `conditional`: index into `targets` of the `default` target.
    pub default: Option<usize>,
    /// For `loadbalance`: the request value that pins a caller to a target (sticky split).
    pub hash_key: Option<Field>,
    /// `on_all_unavailable: "fail"` (root only): answer 503 instead of trying the target
    /// that becomes available first.
    pub fail_when_all_unavailable: bool,
}

#[derive(Debug, Clone)]
pub struct Child {
    pub node: Node,
    /// Relative weight for `loadbalance` (default 1; 0 is never picked).
    pub weight: f64,
    /// `name`, for `conditional` routing.
    pub name: Option<String>,
}

/// A target that calls one provider. Inherited settings are already resolved into it.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// JSON path of this target, e.g. `config.targets[1].targets[0]` (or `config` for a bare leaf).
    pub path: String,
    /// Provider id as written (`openai`, `azure-openai`, `anthropic`, `groq`, …); checked
    /// against the provider table. `None` only when `virtual_key` is set (the key supplies it).
    pub provider: Option<String>,
    /// A credential given inline. Never logged, never echoed in an error.
    pub api_key: Option<Secret>,
    pub virtual_key: Option<String>,
    /// Replaces the provider's base URL (which includes the version path, e.g. `…/v1`).
    pub custom_host: Option<String>,
    /// Where `custom_host` was written (this target's or an ancestor's
    /// `….custom_host`), for the vault-destination rule's errors.
    pub custom_host_at: Option<String>,
    /// Deep-merged from the root down (child wins); merged over the request body (config wins).
    pub override_params: Map<String, Value>,
    pub retry: Retry,
    /// Per attempt, in milliseconds: time to the answer's headers (and, for a non-stream
    /// answer, its whole body).
    pub request_timeout_ms: Option<u64>,
    /// Streams: the longest wait for the next upstream event, in milliseconds.
    pub stream_idle_timeout_ms: Option<u64>,
    /// Client request headers to pass through to the provider unchanged.
    pub forward_headers: Vec<String>,
    pub options: ProviderOptions,
    /// Overrides the pricing table for this target (USD per 1M tokens).
    pub pricing: Option<Price>,
    /// The nearest enclosing strategy's `cb_config`: this target trips its breaker by it.
    pub breaker: Option<Arc<CbConfig>>,
}

/// Retry policy of a target. `attempts` counts retries after the first try (0 = no retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    pub on_status_codes: Vec<u16>,
    pub use_retry_after_header: bool,
}

pub const MAX_RETRY_ATTEMPTS: u32 = 5;
pub const DEFAULT_RETRY_STATUS: [u16; 5] = [429, 500, 502, 503, 504];

impl Default for Retry {
    fn default() -> Self {
        Retry { attempts: 0, on_status_codes: DEFAULT_RETRY_STATUS.to_vec(), use_retry_after_header: false }
    }
}

/// The target a conditional group routes to: the first matching condition's `then`, else
/// its `default`; `None` when neither applies (the planner reports "no route").
pub fn group_pick_conditional(group: &Group, facts: &RequestFacts) -> Option<usize> {
    group.conditions.iter().find(|c| c.matches(facts)).map(|c| c.then).or(group.default)
}
