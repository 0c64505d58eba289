//! Request-log retention (`--log-retention-days`): one sweep at start, then one an hour, each
//! deleting the logs created more than the given number of days ago. 0 keeps logs forever.
//! Feedback rows are left alone (they are tiny and keyed by trace, not by log).
//!
//! On PostgreSQL, where the log is partitioned by day, each pass first makes the partitions for
//! today and the next [`PARTITION_DAYS_AHEAD`] days (the store's upkeep), also when logs are kept
//! forever; the store drops whole days' partitions when it sweeps.
//!
//! [`run`] never returns for a non-zero window or on PostgreSQL: the caller spawns it and aborts
//! it at shutdown; each step of a pass is its own transaction, so stopping between or during
//! passes loses nothing.

use std::future::Future;
use std::time::Duration;

use crate::support::clock;
use switchboard_store::{Backend, Store, StoreError};
use tokio::time::MissedTickBehavior;

/// Time between sweeps.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);

const MS_PER_DAY: i64 = 86_400_000;

/// Days of log partitions made ahead of today: a pass that fails (a lock it waited too long for)
/// is retried an hour later, long before the gateway writes a row of those days.
pub const PARTITION_DAYS_AHEAD: u32 = 3;

/// Deletes logs older than `days` days now and every [`SWEEP_INTERVAL`], after the partition
/// upkeep on PostgreSQL; returns at once when `days` is 0 on SQLite.
pub async fn run(store: Store, days: u32) {
    if days == 0 && store.backend() != Backend::Postgres {
        return;
    }
    every(SWEEP_INTERVAL, || pass(&store, days)).await;
}

async fn pass(store: &Store, days: u32) {
    let now_ms = clock::unix_ms();
    upkeep(store, now_ms).await;
    if days > 0 {
        report(store, days, now_ms).await;
    }
}

async fn upkeep(store: &Store, now_ms: i64) {
    match store.ensure_log_partitions(now_ms, PARTITION_DAYS_AHEAD).await {
        Ok(0) => {}
        Ok(made) => tracing::info!(made, "request log: made {made} daily partitions"),
        Err(err) => tracing::warn!("request log: partition upkeep failed, will retry next hour: {err}"),
    }
}

/// One sweep: deletes logs created before `now_ms` minus `days` days; returns how many.
pub async fn sweep(store: &Store, days: u32, now_ms: i64) -> Result<u64, StoreError> {
    let cutoff = now_ms.saturating_sub(i64::from(days) * MS_PER_DAY);
    store.delete_logs_before(cutoff).await
}

async fn report(store: &Store, days: u32, now_ms: i64) {
    match sweep(store, days, now_ms).await {
        Ok(deleted) => {
            tracing::info!(deleted, days, "log retention: deleted {deleted} request logs older than {days} days")
        }
        Err(err) => tracing::warn!(days, "log retention: sweep failed, will retry next hour: {err}"),
    }
}

/// Runs `pass` now and then once per `period`, forever; a slow pass delays the next one
/// instead of bunching them up.
async fn every<F, Fut>(period: Duration, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        pass().await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sweeps_run_at_start_and_then_once_per_period() {
        let passes = Arc::new(AtomicUsize::new(0));
        let counter = passes.clone();
        let task = crate::support::tasks::spawn(every(SWEEP_INTERVAL, move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }));
        let after = |secs: u64| tokio::time::sleep(Duration::from_secs(secs));
        after(1).await;
        assert_eq!(passes.load(Ordering::SeqCst), 1, "one sweep at start");
        after(3598).await;
        assert_eq!(passes.load(Ordering::SeqCst), 1, "none before the hour");
        after(2).await;
        assert_eq!(passes.load(Ordering::SeqCst), 2, "one on the hour");
        after(2 * 3600).await;
        assert_eq!(passes.load(Ordering::SeqCst), 4);
        task.abort();
    }
}
