//! Where the request path meets target health: the snapshot the planner reads, the gate
//! that claims a half-open probe before an attempt, the report of each attempt's outcome,
//! and the log's account of what routing passed over (skipped targets, the sticky choice,
//! failing open). Decisions are core's (`health`, `planner`); the table is `policy`'s.

use switchboard_core::config::{Leaf, RouteTree};
use switchboard_core::health::breaker::{CbConfig, Transition};
use switchboard_core::health::headroom::Headroom;
use switchboard_core::health::TargetState;
use switchboard_core::planner::{Health, Planner};

use crate::gateway::attempt::{FailReply, Failed, Job, Note, Success};
use crate::gateway::GatewayState;
use crate::observe::metrics::Metrics;
use crate::observe::metrics::TransitionLabels;
use crate::observe::{Recorder, SkipNote};
use crate::policy::health::{counts_against, Outcome, TargetId, TargetLabel};
use crate::policy::snapshot::{label, RequestKeys, Snapshot};
use crate::policy::Policy;
use crate::support::clock;

fn keys<'a>(job: &'a Job<'_>) -> RequestKeys<'a> {
    RequestKeys { client_key: job.inbound.api_key.as_ref(), body: job.body }
}

/// The request's view of its targets' health. Without shared state, nothing is looked up
/// while nothing was ever reported; with it, identities this instance has not seen yet are
/// read from Redis first (once).
pub async fn snapshot<'t>(job: &Job<'_>, tree: &'t RouteTree) -> Snapshot<'t> {
    snapshot_for(job.state, tree, keys(job)).await
}

/// [`snapshot`] for a request described by `keys` (the explainer's too). A virtual key
/// whose own limits refused recently is `limited` in it.
pub async fn snapshot_for<'t>(state: &GatewayState, tree: &'t RouteTree, keys: RequestKeys<'_>) -> Snapshot<'t> {
    let policy = &state.policy;
    if policy.health.is_unused() && policy.shared_health.is_none() && !state.limits.has_refused() {
        return Snapshot::empty();
    }
    let now = clock::now_ms();
    let limited = |slug: &str| state.limits.limited_until(slug, now);
    let take = || Snapshot::take(&policy.health, tree, keys, now, &limited);
    let snapshot = take();
    let Some(shared) = &policy.shared_health else { return snapshot };
    let unknown = snapshot.unknown(&policy.health, keys);
    if unknown.is_empty() {
        return snapshot;
    }
    shared.prefetch(&unknown).await;
    take()
}

/// Before an attempt: a half-open target lets one probe through (one across instances with
/// shared state). `Some(state)` when this request may not go (another holds the probe).
pub async fn gate(job: &Job<'_>, snapshot: &Snapshot<'_>, leaf: &Leaf) -> Option<TargetState> {
    if snapshot.state(leaf) != (TargetState::HalfOpen { probing_until_ms: None }) {
        return None;
    }
    let id = snapshot.id(leaf)?;
    let now = clock::now_ms();
    let limits = &job.state.settings.limits;
    let timeout = leaf.request_timeout_ms.or(job.inbound.request_timeout_ms);
    let ttl = timeout.unwrap_or_else(|| u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX));
    let policy = &job.state.policy;
    let shared = match &policy.shared_health {
        Some(shared) => shared.claim(&id, ttl).await,
        None => None,
    };
    let passed = shared.unwrap_or_else(|| policy.health.try_pass(&id, now, ttl));
    (!passed).then_some(TargetState::HalfOpen { probing_until_ms: Some(now.saturating_add(ttl)) })
}

/// After an attempt: what its answer says about the target. Failures of the request or
/// the config (a bad body, missing credentials) say nothing about the target. A stream is
/// judged when it ends (a stream that breaks after its first event is a failure), through
/// the recorder, which calls back when it finishes one.
pub fn report(
    job: &Job<'_>,
    snapshot: &Snapshot<'_>,
    leaf: &Leaf,
    (note, outcome): (&Note, &Result<Success, Failed>),
    rec: &mut Recorder,
) {
    let Some(provider) = note.provider else { return };
    let outcome = match outcome {
        Ok(Success::Json { status, .. }) => Outcome { status: *status, headroom: note.headroom, ..Outcome::default() },
        Ok(Success::Stream { .. }) => return report_at_stream_end(job, snapshot, leaf, (provider, note.headroom), rec),
        // The request's or the key's own trouble (a key's limits refused before any call).
        Err(failed) if failed.failure.gateway || failed.limited_until(0).is_some() => return,
        Err(failed) => Outcome {
            status: failed.failure.status,
            transport: matches!(failed.reply, FailReply::Gateway(_)),
            class: Some(failed.class()),
            retry_after_ms: failed.failure.retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            headroom: note.headroom,
        },
    };
    let report = Report {
        policy: &job.state.policy,
        metrics: &job.state.metrics,
        id: snapshot.identity(leaf, keys(job)),
        provider,
        cb: leaf.breaker.as_deref(),
        state: snapshot.state(leaf),
        trace_id: &job.inbound.trace_id,
        target: &leaf.path,
    };
    report.apply(&outcome, || label(leaf, keys(job)));
}

/// A committed stream's outcome, reported by the recorder when the stream ends: a success,
/// or (broken, cut, gone quiet) a failure of class `stream_broken`.
fn report_at_stream_end(
    job: &Job<'_>,
    snapshot: &Snapshot<'_>,
    leaf: &Leaf,
    (provider, headroom): (&'static str, Option<Headroom>),
    rec: &mut Recorder,
) {
    let (policy, metrics) = (job.state.policy.clone(), job.state.metrics.clone());
    let (id, state, cb) = (snapshot.identity(leaf, keys(job)), snapshot.state(leaf), leaf.breaker.clone());
    let (label, trace_id, target) = (label(leaf, keys(job)), job.inbound.trace_id.clone(), leaf.path.clone());
    rec.on_stream_end(Box::new(move |broken| {
        let outcome = match broken {
            true => {
                Outcome { status: 502, transport: true, class: Some("stream_broken"), headroom, ..Outcome::default() }
            }
            false => Outcome { status: 200, headroom, ..Outcome::default() },
        };
        let report = Report {
            policy: &policy,
            metrics: &metrics,
            id,
            provider,
            cb: cb.as_deref(),
            state,
            trace_id: &trace_id,
            target: &target,
        };
        report.apply(&outcome, || label);
    }));
}

/// One outcome to count against one identity, and where to say what it changed.
struct Report<'a> {
    policy: &'a Policy,
    metrics: &'a Metrics,
    id: TargetId,
    provider: &'static str,
    cb: Option<&'a CbConfig>,
    /// The target's state when the request was routed.
    state: TargetState,
    trace_id: &'a str,
    target: &'a str,
}

impl Report<'_> {
    fn apply(&self, outcome: &Outcome, label: impl FnOnce() -> TargetLabel) {
        let (policy, cb, id, provider) = (self.policy, self.cb, self.id, self.provider);
        let transition = policy.health.report(id, label, provider, outcome, (cb, clock::now_ms()));
        if let Some(shared) = policy.shared_health.as_ref().filter(|_| worth_sharing(outcome, cb, self.state)) {
            shared.report(id, outcome, counts_against(outcome, cb), cb);
        }
        let (trace_id, target) = (self.trace_id, self.target);
        match transition {
            Transition::Opened { until_ms } => {
                self.metrics.circuit_transitions.get_or_create(&TransitionLabels { to: "open" }).inc();
                let reopens_in_ms = until_ms.saturating_sub(clock::now_ms());
                tracing::warn!(trace_id, target, provider, target_id = %id, reopens_in_ms, "circuit opened");
            }
            Transition::Closed => {
                self.metrics.circuit_transitions.get_or_create(&TransitionLabels { to: "closed" }).inc();
                tracing::info!(trace_id, target, provider, target_id = %id, "circuit closed: the probe succeeded");
            }
            Transition::None => {}
        }
    }
}

/// Whether an outcome changes the shared state. A plain success of an available target
/// does not — unless the breaker counts every request (a share of failures, or a minimum
/// number of requests) or the answer carried rate-limit headers — so the common case costs
/// Redis nothing.
fn worth_sharing(outcome: &Outcome, cb: Option<&CbConfig>, state: TargetState) -> bool {
    let counts_successes = cb.is_some_and(|cb| cb.failure_threshold_percentage.is_some() || cb.minimum_requests > 1);
    outcome.failed() || outcome.headroom.is_some() || counts_successes || state != TargetState::Available
}

/// Puts what routing passed over into the log record.
pub fn note_routing<R: rand::Rng>(rec: &mut Recorder, planner: &Planner<'_, '_, R>) {
    let now = clock::now_ms();
    for skipped in planner.skipped() {
        let until = Some(skipped.state.available_at_ms()).filter(|at| *at > now && skipped.state.is_supported());
        let why = match skipped.state {
            TargetState::Unsupported { reason } => Some(reason),
            _ => None,
        };
        let leaf = skipped.leaf;
        rec.skipped(&SkipNote {
            target_path: &leaf.path,
            state: skipped.state.as_str(),
            until_ms: until,
            why,
            provider: leaf.provider.as_deref(),
            virtual_key: leaf.virtual_key.as_deref(),
        });
    }
    if let Some(sticky) = planner.sticky() {
        let target = |i: usize| sticky.group.targets[i].node.path();
        rec.sticky(&sticky.group.path, target(sticky.first_choice), target(sticky.chosen));
    }
    if planner.failed_open() {
        rec.failed_open();
    }
}
