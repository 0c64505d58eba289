//! The executor: runs one request's routing plan. It asks the planner for an attempt, makes
//! it (see [`crate::gateway::attempt`]), notes the outcome in the log record, and loops until an
//! attempt succeeds or the planner gives up. Failover stops once a byte has gone to the
//! client: a stream is committed only on its first real upstream event.

use std::borrow::Cow;

use crate::http::error::GatewayError;
use axum::response::Response;
use http::HeaderValue;
use switchboard_core::config::RequestFacts;
use switchboard_core::health::TargetState;
use switchboard_core::planner::{Attempt, AttemptKind, Planner, Unroutable};
use switchboard_store::{AttemptEntry, AttemptReason};

use crate::gateway::attempt::{self, FailReply, Failed, Job, Note, Success};
use crate::gateway::eligibility;
use crate::gateway::health;
use crate::gateway::relay;
use crate::gateway::route::Resolved;
use crate::http::reply::{self, RouteInfo};
use crate::observe::{BodyPolicy, Identity, Recorder};
use crate::policy::limits::Reservation;
use crate::support::clock;

impl Failed {
    fn into_response(self, route: &RouteInfo, mut rec: Recorder) -> Response {
        match self.reply {
            FailReply::Gateway(err) => {
                rec.finish_error(err.status(), err.code(), &err.to_string());
                reply::gateway_error(&err, route)
            }
            FailReply::Upstream { status, body } => {
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                rec.class(switchboard_core::provider::classify_status(status));
                rec.finish_failure(status, &body, &bytes);
                let mut response = reply::json(status, bytes);
                if let Some(after) = self.failure.retry_after {
                    // The client's SDK paces its own retries by it (whole seconds, rounded up).
                    let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
                    response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
                }
                reply::stamp(&mut response, route);
                response
            }
        }
    }
}

/// Routes the request through its tree and answers it, logging what happened.
pub async fn execute(job: &Job<'_>, resolved: &Resolved, held: Option<Reservation>) -> Response {
    let mut rec = recorder(job, resolved);
    held.into_iter().for_each(|reservation| rec.hold(reservation));
    let mut route = RouteInfo { trace_id: job.inbound.trace_id.clone(), ..RouteInfo::default() };
    let facts = RequestFacts { metadata: &job.inbound.metadata, params: job.body };
    let snapshot = health::snapshot(job, &resolved.tree).await;
    let eligible = eligibility::check(job.state, (job.endpoint, job.body), &resolved.tree, &snapshot).await;
    let mut planner = Planner::new(&resolved.tree, facts, &eligible, crate::support::ids::fast_rng());
    let mut attempt = match planner.first() {
        Ok(first) => first,
        Err(unroutable) => {
            health::note_routing(&mut rec, &planner);
            return refuse(unroutable_error(&unroutable), rec, &route);
        }
    };
    loop {
        let leaf = attempt.leaf;
        if let Some(refused) = health::gate(job, &snapshot, leaf).await {
            match planner.skip(refused) {
                Some(next) => attempt = next,
                None => {
                    health::note_routing(&mut rec, &planner);
                    let wait_ms = refused.available_at_ms().saturating_sub(clock::now_ms());
                    return refuse(GatewayError::TargetsUnavailable { wait_ms }, rec, &route);
                }
            }
            continue;
        }
        route.target_path = Some(leaf.path.clone());
        route.retries = attempt.retry;
        if !attempt.backoff.is_zero() {
            tokio::time::sleep(attempt.backoff).await;
        }
        let (outcome, note) = run_attempt(job, &attempt, &mut rec, &mut route).await;
        health::report(job, &snapshot, leaf, (&note, &outcome), &mut rec);
        let failed = match outcome {
            Ok(success) => {
                health::note_routing(&mut rec, &planner);
                return answer(success, rec, &route, stream_limits(job, leaf));
            }
            Err(failed) => failed,
        };
        let next = match failed.limited_until(clock::now_ms()) {
            Some(until_ms) => planner.skip(TargetState::Limited { until_ms }),
            None => planner.next(&failed.failure),
        };
        match next {
            Some(next) => {
                tracing::debug!(trace_id = %route.trace_id, from = %leaf.path, to = %next.leaf.path,
                    status = failed.failure.status, kind = ?next.kind, "moving on");
                attempt = next;
            }
            None => {
                health::note_routing(&mut rec, &planner);
                return failed.into_response(&route, rec);
            }
        }
    }
}

/// Makes one attempt and notes it in the log record.
async fn run_attempt(
    job: &Job<'_>,
    attempt: &Attempt<'_>,
    rec: &mut Recorder,
    route: &mut RouteInfo,
) -> (Result<Success, Failed>, Note) {
    let leaf = attempt.leaf;
    let began = rec.elapsed_ms();
    let mut note = Note::default();
    let outcome = attempt::run(job, leaf, &mut note).await;
    hold_or_settle(rec, note.reservation.take(), outcome.is_ok());
    route.ignored = std::mem::take(&mut note.ignored);
    if let Some(provider) = note.provider {
        route.provider = Some(provider);
        rec.target(&leaf.path, provider, leaf.virtual_key.as_deref(), leaf.pricing);
    }
    let (status, class) = match &outcome {
        Ok(Success::Json { status, .. }) => (*status, None),
        Ok(Success::Stream { .. }) => (200, None),
        Err(failed) => (failed.failure.status, Some(failed.class())),
    };
    rec.attempt(AttemptEntry {
        target_path: leaf.path.clone(),
        provider: note.provider.map(Cow::Borrowed),
        model: note.model.take(),
        status,
        latency_ms: rec.elapsed_ms().saturating_sub(began),
        start_offset_ms: began,
        error_class: class.map(Cow::Borrowed),
        retry: attempt.retry,
        backoff_ms: u64::try_from(attempt.backoff.as_millis()).unwrap_or(u64::MAX),
        reason: reason(attempt.kind),
    });
    (outcome, note)
}

/// No first attempt: a conditional group matched nothing, or every target is unavailable
/// and the config says to fail (503 with the wait until the first is back).
fn unroutable_error(unroutable: &Unroutable) -> GatewayError {
    match unroutable {
        Unroutable::NoRoute(no_route) => GatewayError::NoRoute(no_route.to_string()),
        Unroutable::AllUnavailable { until_ms } => {
            GatewayError::TargetsUnavailable { wait_ms: until_ms.saturating_sub(clock::now_ms()) }
        }
        Unroutable::Unsupported(_) => GatewayError::Unsupported(unroutable.to_string()),
    }
}

/// Answers a request the gateway refuses to route, logging it.
fn refuse(err: GatewayError, rec: Recorder, route: &RouteInfo) -> Response {
    rec.finish_error(err.status(), err.code(), &err.to_string());
    reply::gateway_error(&err, route)
}

/// What an attempt reserved on its virtual key's limits: held until the request ends when the
/// attempt succeeded; settled now, as having used no tokens, when it failed.
fn hold_or_settle(rec: &mut Recorder, reservation: Option<Reservation>, succeeded: bool) {
    match reservation {
        Some(reservation) if succeeded => rec.hold(reservation),
        Some(reservation) => reservation.settle(Some(0), Some(0.0)),
        None => {}
    }
}

fn reason(kind: AttemptKind) -> AttemptReason {
    match kind {
        AttemptKind::Initial => AttemptReason::Initial,
        AttemptKind::Retry => AttemptReason::Retry,
        AttemptKind::Fallback => AttemptReason::Fallback,
    }
}

fn recorder(job: &Job<'_>, resolved: &Resolved) -> Recorder {
    let inbound = job.inbound;
    let who = Identity {
        trace_id: &inbound.trace_id,
        span: [inbound.span_id.clone(), inbound.parent_span_id.clone(), inbound.span_name.clone()],
        metadata: &inbound.metadata,
        api_key_id: job.principal.api_key_id(),
        config_slug: resolved.config_slug.as_deref(),
        config_version: resolved.config_version,
        strategy_mode: resolved.tree.mode().as_str(),
        body: job.body,
        raw_body: &job.raw,
        stream: job.stream,
    };
    let logs = &job.state.settings.logs;
    let bodies = BodyPolicy { keep: logs.bodies && inbound.debug, max_bytes: logs.body_max_bytes };
    Recorder::start(who, bodies, job.state.logs.clone())
}

/// The client's answer to a successful attempt.
fn answer(success: Success, mut rec: Recorder, route: &RouteInfo, limits: relay::Limits) -> Response {
    rec.first_byte();
    let mut response = match success {
        Success::Json { status, body, facts } => {
            let cost = rec.finish_answer(status, &body, facts);
            let mut response = reply::json(status, body);
            if let Some(cost) = cost.and_then(|c| HeaderValue::from_str(&format!("{c:.8}")).ok()) {
                response.headers_mut().insert(reply::COST, cost);
            }
            response
        }
        Success::Stream { first, upstream, translate } => {
            let provider = route.provider.unwrap_or("unknown");
            let relay = relay::Relay::new(upstream, translate, provider, limits);
            let mut response = Response::new(relay.into_body(first, rec));
            let headers = response.headers_mut();
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
            headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
    };
    reply::stamp(&mut response, route);
    response
}

/// How long a stream may go quiet (the target's `stream_idle_timeout`, else the server's)
/// and how large one event may be.
fn stream_limits(job: &Job<'_>, leaf: &switchboard_core::config::Leaf) -> relay::Limits {
    let limits = &job.state.settings.limits;
    let idle = leaf.stream_idle_timeout_ms.map_or(limits.stream_idle, std::time::Duration::from_millis);
    relay::Limits { idle, max_event_bytes: limits.max_event_bytes }
}
