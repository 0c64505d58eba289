//! Target health shared across instances through Redis (`--redis-url`). Every attempt's
//! outcome is applied by one atomic script on the Redis server's clock (the breaker's
//! rolling window and phase, the Retry-After cooldown, the headroom hints), so a target
//! tripped through one instance is open for all; half-open probes are claimed there too, so
//! only one instance probes.
//!
//! The request path never waits on Redis for a known identity: reports are queued (bounded;
//! a full queue drops and counts) and applied in the background, and each instance's table
//! mirrors the shared state, refreshed every [`REFRESH`] — the staleness bound, under a
//! second. An identity an instance has never seen is fetched once before its first request
//! (within the call timeout). While Redis is unreachable the instance keeps routing on its
//! own table (its local breaker still counts) and says so (`switchboard_shared_state_degraded`,
//! a warning per transition, the health view).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::Script;
use switchboard_core::health::breaker::{CbConfig, DEFAULT_COOLDOWN_MS};
use switchboard_core::health::headroom::{Headroom, Quota};
use tokio::sync::mpsc;

use super::health::{HealthTable, Outcome, SharedView, TargetId, TargetLabel};
use super::redis::Shared;
use crate::support::{clock, tasks};

/// How often the mirror of every known identity is read again.
pub const REFRESH: Duration = Duration::from_millis(500);
/// Reports waiting to be applied, at most.
const QUEUE: usize = 4096;
/// Reports applied at once.
const CONCURRENCY: usize = 16;
/// Identities read per script call.
const READ_CHUNK: usize = 128;

struct Pending {
    id: TargetId,
    args: Vec<String>,
}

pub struct SharedHealth {
    shared: Arc<Shared>,
    table: Arc<HealthTable>,
    queue: mpsc::Sender<Pending>,
    report: Script,
    read: Script,
    claim: Script,
}

impl SharedHealth {
    /// Starts the report queue and the refresh loop over `table`.
    pub fn start(shared: Arc<Shared>, table: Arc<HealthTable>) -> Arc<SharedHealth> {
        let (queue, reports) = mpsc::channel(QUEUE);
        let this = Arc::new(SharedHealth {
            shared,
            table,
            queue,
            report: Script::new(include_str!("shared_health/report.lua")),
            read: Script::new(include_str!("shared_health/read.lua")),
            claim: Script::new(include_str!("shared_health/claim.lua")),
        });
        tasks::spawn_loop("shared health reports", this.clone().apply_reports(reports));
        tasks::spawn_loop("shared health refresh", this.clone().refresh());
        this
    }

    pub fn is_degraded(&self) -> bool {
        self.shared.is_degraded()
    }

    fn keys(&self, id: &TargetId) -> [String; 2] {
        let hash = self.shared.key(&format!("health:{id}"));
        let probe = format!("{hash}:probe");
        [hash, probe]
    }

    /// Queues one attempt's outcome; `failed` is whether it counts against the target.
    pub fn report(&self, id: TargetId, outcome: &Outcome, failed: bool, cb: Option<&CbConfig>) {
        let args = report_args(outcome, failed, cb, clock::now_ms());
        if self.queue.try_send(Pending { id, args }).is_err() {
            tracing::debug!("shared health queue full: an outcome was not shared");
        }
    }

    /// Claims a half-open identity's probe across instances: `None` when Redis did not
    /// answer (the caller decides locally).
    pub async fn claim(&self, id: &TargetId, ttl_ms: u64) -> Option<bool> {
        let keys = self.keys(id);
        let won: i64 = self.shared.run(&self.claim, &keys, &[ttl_ms.to_string()]).await.ok()?;
        Some(won == 1)
    }

    /// Reads the identities this instance has no entry for yet, before its first request.
    pub async fn prefetch(&self, labels: &[TargetLabel]) {
        let unknown: Vec<&TargetLabel> = labels.iter().filter(|l| !self.table.knows(&l.id)).collect();
        if unknown.is_empty() || self.is_degraded() {
            return;
        }
        let ids: Vec<TargetId> = unknown.iter().map(|l| l.id).collect();
        if let Some(views) = self.read_views(&ids).await {
            for (label, view) in unknown.into_iter().zip(views) {
                self.table.mirror(label, view, clock::now_ms());
            }
        }
    }

    async fn apply_reports(self: Arc<Self>, reports: mpsc::Receiver<Pending>) {
        let stream = tokio_stream_from(reports);
        stream
            .for_each_concurrent(CONCURRENCY, |pending| {
                let this = self.clone();
                async move { this.apply(pending).await }
            })
            .await;
    }

    async fn apply(&self, pending: Pending) {
        let keys = self.keys(&pending.id);
        let Ok(values) = self.shared.run::<Vec<i64>>(&self.report, &keys, &pending.args).await else { return };
        let Some(view) = report_view(&values, clock::now_ms()) else { return };
        if values.get(8).copied() == Some(1) {
            tracing::warn!(target_id = %pending.id, "circuit opened across instances");
        }
        self.table.set_shared(&pending.id, view);
    }

    async fn refresh(self: Arc<Self>) {
        let mut tick = tokio::time::interval(REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let ids = self.table.ids();
            for chunk in ids.chunks(READ_CHUNK) {
                let Some(views) = self.read_views(chunk).await else { break };
                for (id, view) in chunk.iter().zip(views) {
                    self.table.set_shared(id, view);
                }
            }
        }
    }

    async fn read_views(&self, ids: &[TargetId]) -> Option<Vec<SharedView>> {
        let keys: Vec<String> = ids.iter().flat_map(|id| self.keys(id)).collect();
        let values: Vec<i64> = self.shared.run(&self.read, &keys, &[]).await.ok()?;
        read_views(&values, ids.len(), clock::now_ms())
    }
}

fn tokio_stream_from<T: Send + 'static>(mut rx: mpsc::Receiver<T>) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// The REPORT script's arguments (see `report.lua`).
fn report_args(outcome: &Outcome, failed: bool, cb: Option<&CbConfig>, now_ms: u64) -> Vec<String> {
    let quota = |q: Option<Quota>| match q {
        Some(q) if q.reset_at_ms > now_ms => [q.remaining.to_string(), (q.reset_at_ms - now_ms).to_string()],
        _ => ["-1".to_string(), "0".to_string()],
    };
    let headroom = outcome.headroom.unwrap_or_default();
    let cool_ms = switchboard_core::health::cooldown_until(0, outcome.status, outcome.retry_after_ms).unwrap_or(0);
    let [rr, rt] = quota(headroom.requests);
    let [tr, tt] = quota(headroom.tokens);
    vec![
        u8::from(failed).to_string(),
        u8::from(cb.is_some()).to_string(),
        cb.and_then(|c| c.failure_threshold).unwrap_or(0).to_string(),
        cb.and_then(|c| c.failure_threshold_percentage).unwrap_or(0.0).to_string(),
        cb.map_or(1, |c| c.minimum_requests).to_string(),
        cb.map_or(DEFAULT_COOLDOWN_MS, |c| c.cooldown_ms).to_string(),
        cb.map_or(switchboard_core::health::breaker::DEFAULT_WINDOW_MS, |c| c.window_ms).to_string(),
        cool_ms.to_string(),
        rr,
        rt,
        tr,
        tt,
    ]
}

/// Redis's instant `at` on this instance's clock (`offset` = local now − Redis now).
fn local(at: i64, offset: i64) -> Option<u64> {
    (at >= 0).then(|| u64::try_from(at.saturating_add(offset)).unwrap_or(0))
}

fn quota(remaining: i64, reset_at: i64, offset: i64) -> Option<Quota> {
    let remaining = u64::try_from(remaining).ok()?;
    Some(Quota { remaining, limit: None, reset_at_ms: local(reset_at, offset)? })
}

/// The REPORT script's answer as a view.
fn report_view(v: &[i64], now_ms: u64) -> Option<SharedView> {
    let [phase, open_until, cool_until, rr, rt, tr, tt, redis_now, _] = <[i64; 9]>::try_from(v).ok()?;
    let offset = i64::try_from(now_ms).unwrap_or(i64::MAX).saturating_sub(redis_now);
    Some(SharedView {
        open_until_ms: (phase != 0).then(|| local(open_until, offset)).flatten(),
        probe_until_ms: None,
        cool_until_ms: local(cool_until, offset),
        headroom: Headroom { requests: quota(rr, rt, offset), tokens: quota(tr, tt, offset) },
    })
}

/// The READ script's answer: `count` views of eight numbers each after Redis's now.
fn read_views(v: &[i64], count: usize, now_ms: u64) -> Option<Vec<SharedView>> {
    let (redis_now, rest) = v.split_first()?;
    if rest.len() != count * 8 {
        return None;
    }
    let offset = i64::try_from(now_ms).unwrap_or(i64::MAX).saturating_sub(*redis_now);
    let view = |c: &[i64]| SharedView {
        open_until_ms: (c[0] != 0).then(|| local(c[1], offset)).flatten(),
        probe_until_ms: local(c[2], offset),
        cool_until_ms: local(c[3], offset),
        headroom: Headroom { requests: quota(c[4], c[5], offset), tokens: quota(c[6], c[7], offset) },
    };
    Some(rest.chunks(8).map(view).collect())
}

#[cfg(test)]
mod tests;
