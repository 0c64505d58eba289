//! The table of target health, one entry per identity (provider, credential, destination
//! and model; see [`TargetId`]), whichever config or request reaches it: each identity's
//! breaker, Retry-After cooldown, rate-limit headroom and last error.
//!
//! The request path reads it through a per-request [`Snapshot`] (the planner's
//! `Health`), claims half-open probes with [`HealthTable::try_pass`], and reports each
//! attempt's [`Outcome`]. The table is sharded so that reads and reports of different
//! identities do not contend, each critical section is a map lookup, and it is bounded:
//! a full shard evicts its least recently touched entry (a client sending many distinct
//! provider keys cannot grow memory). An identity never reported is available and costs
//! no entry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use switchboard_core::health::breaker::{Breaker, BreakerState, CbConfig, Transition};
use switchboard_core::health::headroom::Headroom;
use switchboard_core::health::{cooldown_until, TargetState};

/// Shards of the table; a power of two.
const SHARDS: usize = 16;
/// Identities kept, at most.
pub const MAX_IDENTITIES: usize = 4096;

/// A target's identity, the key of its health: a stable 64-bit hash of provider,
/// credential, destination and model (see `snapshot::identity`), made without allocating on
/// every request. Shown in hex. Two identities sharing a hash would share health; among the
/// at most [`MAX_IDENTITIES`] kept, the odds are about 1 in 10^12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TargetId(pub u64);

impl std::fmt::Display for TargetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// What the health view shows of an identity. Never holds a secret: an inline key is shown
/// by a hash of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetLabel {
    pub id: TargetId,
    pub provider: String,
    /// `vk:SLUG` or `key:HASH`.
    pub credential: String,
    /// The custom host, or `default` (the provider's own API, or the virtual key's).
    pub destination: String,
    pub model: String,
}

impl TargetLabel {
    /// The identity as one line of text (a metric label).
    pub fn text(&self) -> String {
        format!("{}|{}|{}|{}", self.provider, self.credential, self.destination, self.model)
    }
}

/// What one attempt's answer said about its target.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// The provider's status, or the gateway's for a timeout or an unreachable provider.
    pub status: u16,
    /// No answer at all: a timeout, a refused or reset connection.
    pub transport: bool,
    /// The failure's class (`rate_limit`, `server_error`, `timeout`, …); `None` on success.
    pub class: Option<&'static str>,
    pub retry_after_ms: Option<u64>,
    pub headroom: Option<Headroom>,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.class.is_some()
    }
}

/// What Redis says of one identity, on this instance's clock.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SharedView {
    pub open_until_ms: Option<u64>,
    pub probe_until_ms: Option<u64>,
    pub cool_until_ms: Option<u64>,
    pub headroom: Headroom,
}

impl SharedView {
    pub fn state(&self, now_ms: u64, tokens: &dyn Fn() -> u64) -> TargetState {
        let breaker = match (self.open_until_ms, self.probe_until_ms) {
            (Some(until_ms), _) if now_ms < until_ms => TargetState::Open { until_ms },
            (Some(_), probing) => TargetState::HalfOpen { probing_until_ms: probing.filter(|p| *p > now_ms) },
            (None, _) => TargetState::Available,
        };
        let cooling = self.cool_until_ms.filter(|u| *u > now_ms).map(|until_ms| TargetState::Cooling { until_ms });
        let headroom = self.headroom.blocks_with(now_ms, tokens).map(|until_ms| TargetState::NoHeadroom { until_ms });
        [cooling, headroom].into_iter().flatten().fold(breaker, TargetState::worst)
    }
}

#[derive(Debug, Clone)]
struct Entry {
    label: TargetLabel,
    breaker: Breaker,
    cool_until_ms: u64,
    headroom: Headroom,
    last_class: Option<&'static str>,
    last_status: u16,
    successes: u64,
    failures: u64,
    touched_ms: u64,
    /// The shared state's mirror, with `--redis-url`.
    shared: Option<SharedView>,
}

impl Entry {
    fn new(label: TargetLabel) -> Self {
        Entry {
            label,
            breaker: Breaker::default(),
            cool_until_ms: 0,
            headroom: Headroom::default(),
            last_class: None,
            last_status: 0,
            successes: 0,
            failures: 0,
            touched_ms: 0,
            shared: None,
        }
    }

    fn state(&self, now_ms: u64, tokens: &dyn Fn() -> u64) -> TargetState {
        let breaker = match self.breaker.state(now_ms) {
            BreakerState::Closed => TargetState::Available,
            BreakerState::Open { until_ms } => TargetState::Open { until_ms },
            BreakerState::HalfOpen { probing_until_ms } => TargetState::HalfOpen { probing_until_ms },
        };
        let cooling = (self.cool_until_ms > now_ms).then_some(TargetState::Cooling { until_ms: self.cool_until_ms });
        let headroom = self.headroom.blocks_with(now_ms, tokens).map(|until_ms| TargetState::NoHeadroom { until_ms });
        let shared = self.shared.map(|s| s.state(now_ms, tokens));
        [cooling, headroom, shared].into_iter().flatten().fold(breaker, TargetState::worst)
    }
}

/// One identity as the health view shows it.
#[derive(Debug, Clone)]
pub struct TargetView {
    pub label: TargetLabel,
    pub state: TargetState,
    pub successes: u64,
    pub failures: u64,
    /// When a Retry-After cooldown ends, while one lasts.
    pub cool_until_ms: Option<u64>,
    pub headroom: Headroom,
    pub last_status: Option<u16>,
    pub last_error: Option<&'static str>,
}

pub struct HealthTable {
    shards: Vec<Mutex<HashMap<TargetId, Entry>>>,
    /// Set by the first report: until then every request skips the lookups.
    used: AtomicBool,
}

impl Default for HealthTable {
    fn default() -> Self {
        HealthTable { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(), used: AtomicBool::new(false) }
    }
}

impl HealthTable {
    /// Whether nothing was ever reported (every target is available, with no lookup).
    pub fn is_unused(&self) -> bool {
        !self.used.load(Ordering::Relaxed)
    }

    fn shard(&self, id: &TargetId) -> std::sync::MutexGuard<'_, HashMap<TargetId, Entry>> {
        let index = (id.0 % SHARDS as u64) as usize;
        // A poisoned shard only means a panic elsewhere mid-update; its data is still plain values.
        self.shards[index].lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The identity's state for a request whose token estimate `tokens` gives (asked only
    /// when a token quota is known).
    pub fn state(&self, id: &TargetId, now_ms: u64, tokens: &dyn Fn() -> u64) -> TargetState {
        self.shard(id).get(id).map_or(TargetState::Available, |e| e.state(now_ms, tokens))
    }

    /// Whether a request may go to the identity now: `false` when its breaker is half-open
    /// and another request holds the probe. Claims the probe (for `probe_ttl_ms`) if free.
    pub fn try_pass(&self, id: &TargetId, now_ms: u64, probe_ttl_ms: u64) -> bool {
        self.shard(id).get_mut(id).is_none_or(|e| e.breaker.try_pass(now_ms, probe_ttl_ms))
    }

    /// Counts one attempt's outcome for identity `id` (`label` makes its label, only for a
    /// new entry; `provider` is the provider the attempt called, which names a virtual key's
    /// once resolved); `cb` is the reporting config's breaker, if any.
    pub fn report(
        &self,
        id: TargetId,
        label: impl FnOnce() -> TargetLabel,
        provider: &str,
        outcome: &Outcome,
        (cb, now_ms): (Option<&CbConfig>, u64),
    ) -> Transition {
        self.used.store(true, Ordering::Relaxed);
        with_entry(&mut self.shard(&id), id, label, |entry| {
            if entry.label.provider != provider {
                provider.clone_into(&mut entry.label.provider);
            }
            apply(entry, outcome, cb, now_ms)
        })
    }

    /// Whether the table has an entry for `id`.
    pub fn knows(&self, id: &TargetId) -> bool {
        self.shard(id).contains_key(id)
    }

    /// Every identity the table holds.
    pub fn ids(&self) -> Vec<TargetId> {
        let mut out = Vec::new();
        for shard in &self.shards {
            out.extend(shard.lock().unwrap_or_else(std::sync::PoisonError::into_inner).keys().copied());
        }
        out
    }

    /// Updates an entry's mirror of the shared state (an entry evicted since is not revived).
    pub fn set_shared(&self, id: &TargetId, view: SharedView) {
        if let Some(entry) = self.shard(id).get_mut(id) {
            entry.shared = Some(view);
        }
    }

    /// Adds an identity first seen in the shared state (or known to be clean there).
    pub fn mirror(&self, label: &TargetLabel, view: SharedView, now_ms: u64) {
        self.used.store(true, Ordering::Relaxed);
        with_entry(
            &mut self.shard(&label.id),
            label.id,
            || label.clone(),
            |entry| {
                entry.shared = Some(view);
                entry.touched_ms = entry.touched_ms.max(now_ms);
            },
        );
    }

    /// Every known identity, for the health view and the metrics.
    pub fn view(&self, now_ms: u64) -> Vec<TargetView> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let shard = shard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            out.extend(shard.values().map(|e| view(e, now_ms)));
        }
        out.sort_by_cached_key(|view| view.label.text());
        out
    }
}

fn apply(entry: &mut Entry, outcome: &Outcome, cb: Option<&CbConfig>, now_ms: u64) -> Transition {
    entry.touched_ms = now_ms;
    entry.last_status = outcome.status;
    if let Some(headroom) = outcome.headroom {
        entry.headroom.update(headroom, now_ms);
    }
    if let Some(until) = cooldown_until(now_ms, outcome.status, outcome.retry_after_ms) {
        entry.cool_until_ms = entry.cool_until_ms.max(until);
    }
    let counts_as_failure = counts_against(outcome, cb);
    if outcome.failed() {
        entry.failures += 1;
        entry.last_class = outcome.class;
    } else {
        entry.successes += 1;
    }
    entry.breaker.record(now_ms, counts_as_failure, cb)
}

/// Whether an outcome counts against its target's breaker: by the config's
/// `failure_status_codes`, else (a config without a breaker, judging a half-open probe) any
/// status ≥ 500 and any transport failure.
pub fn counts_against(outcome: &Outcome, cb: Option<&CbConfig>) -> bool {
    match cb {
        Some(cb) => outcome.failed() && cb.is_failure(outcome.status, outcome.transport),
        None => outcome.failed() && (outcome.transport || outcome.status >= 500),
    }
}

fn view(entry: &Entry, now_ms: u64) -> TargetView {
    TargetView {
        label: entry.label.clone(),
        state: entry.state(now_ms, &|| 0),
        successes: entry.successes,
        failures: entry.failures,
        cool_until_ms: (entry.cool_until_ms > now_ms).then_some(entry.cool_until_ms),
        headroom: entry.headroom,
        last_status: (entry.last_status != 0).then_some(entry.last_status),
        last_error: entry.last_class,
    }
}

/// Runs `f` on `id`'s entry in its shard, made (evicting the oldest of a full shard) if new;
/// an existing entry costs no allocation.
fn with_entry<R>(
    shard: &mut HashMap<TargetId, Entry>,
    id: TargetId,
    label: impl FnOnce() -> TargetLabel,
    f: impl FnOnce(&mut Entry) -> R,
) -> R {
    if let Some(entry) = shard.get_mut(&id) {
        return f(entry);
    }
    if shard.len() >= MAX_IDENTITIES / SHARDS {
        evict_oldest(shard);
    }
    f(shard.entry(id).or_insert_with(|| Entry::new(label())))
}

/// Makes room in a full shard: the entry touched longest ago goes.
fn evict_oldest(shard: &mut HashMap<TargetId, Entry>) {
    if let Some(oldest) = shard.iter().min_by_key(|(_, e)| e.touched_ms).map(|(id, _)| *id) {
        shard.remove(&oldest);
    }
}

#[cfg(test)]
mod tests;
