//! Request-log retention (`--log-retention-days`): one sweep at start, then one an hour, each
//! deleting the logs created more than the given number of days ago. 0 keeps logs forever.
//! Feedback rows are left alone (they are tiny and keyed by trace, not by log).
//!
//! [`run`] never returns for a non-zero window: the caller spawns it and aborts it at
//! shutdown; each sweep is one DELETE, so stopping between or during sweeps loses nothing.

use std::future::Future;
use std::time::Duration;

use crate::support::clock;
use switchboard_store::{Store, StoreError};
use tokio::time::MissedTickBehavior;

/// Time between sweeps.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);

const MS_PER_DAY: i64 = 86_400_000;

/// Deletes logs older than `days` days now and every [`SWEEP_INTERVAL`]; returns at once
/// when `days` is 0.
pub async fn run(store: Store, days: u32) {
    if days == 0 {
        return;
    }
    every(SWEEP_INTERVAL, || report(&store, days)).await;
}

/// One sweep: deletes logs created before `now_ms` minus `days` days; returns how many.
pub async fn sweep(store: &Store, days: u32, now_ms: i64) -> Result<u64, StoreError> {
    let cutoff = now_ms.saturating_sub(i64::from(days) * MS_PER_DAY);
    store.delete_logs_before(cutoff).await
}

async fn report(store: &Store, days: u32) {
    match sweep(store, days, clock::unix_ms()).await {
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
