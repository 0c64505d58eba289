//! The limiter's in-memory backend: each bucket's state in one map behind a mutex, updated
//! only through core's [`admit`] and [`settle`] (the arithmetic the Redis scripts restate).
//! Used alone without `--redis-url`, and as the fallback while Redis is unreachable.

use std::collections::HashMap;
use std::sync::Mutex;

use switchboard_core::limits::{self, admit, Amounts, Bucket, Hold, Refusal, Tally};

#[derive(Default)]
pub struct Table {
    tallies: Mutex<HashMap<String, Tally>>,
}

fn name(owner: &str, bucket: &Bucket) -> String {
    format!("{owner}:{}", bucket.name())
}

impl Table {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Tally>) -> T) -> T {
        match self.tallies.lock() {
            Ok(mut map) => f(&mut map),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// Reserves `estimate` in every bucket of `owner`, or in none.
    pub fn admit(
        &self,
        owner: &str,
        buckets: &[Bucket],
        estimate: &Amounts,
        now_ms: u64,
    ) -> Result<Vec<Hold>, Refusal> {
        self.with(|map| {
            let mut taken: Vec<Tally> =
                buckets.iter().map(|b| map.remove(&name(owner, b)).unwrap_or_else(|| b.fresh())).collect();
            let outcome = admit(buckets, &mut taken, estimate, now_ms);
            for (bucket, tally) in buckets.iter().zip(taken) {
                map.insert(name(owner, bucket), tally);
            }
            outcome
        })
    }

    /// Settles holds; `true` when a budget crossed its alert threshold.
    pub fn settle(&self, owner: &str, buckets: &[Bucket], holds: &[Hold], actual: &Amounts, now_ms: u64) -> bool {
        self.with(|map| {
            let mut alert = false;
            for (bucket, hold) in buckets.iter().zip(holds) {
                if let Some(tally) = map.get_mut(&name(owner, bucket)) {
                    alert |= limits::settle(bucket, tally, *hold, actual, now_ms).alert;
                }
            }
            alert
        })
    }

    /// What a budget has spent in its current period.
    pub fn spent(&self, owner: &str, bucket: &Bucket, now_ms: u64) -> u64 {
        let Bucket::Usage(usage) = bucket else { return 0 };
        let current = limits::period(usage.reset, now_ms).start_ms;
        self.with(|map| match map.get(&name(owner, bucket)) {
            Some(Tally::Budget(b)) if b.period_start == current => b.spent,
            _ => 0,
        })
    }
}
