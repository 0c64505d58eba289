//! The limiter's in-memory backend: each key's bucket states, updated only through core's
//! [`admit`] and [`settle`] (the arithmetic the Redis scripts restate). Used alone without
//! `--redis-url`, and as the fallback while Redis is unreachable.
//!
//! Keys are spread over shards by a hash of the key, so requests of different keys do not
//! wait on one lock; a key's states are found by value ([`BucketKey`]), with no name built
//! per request.

use std::collections::HashMap;
use std::sync::Mutex;

use switchboard_core::health::rendezvous::stable_hash;
use switchboard_core::limits::{self, admit, Amounts, Bucket, BucketKey, Hold, Refusal, Tally};

const SHARDS: usize = 16;

/// One key's bucket states.
type States = Vec<(BucketKey, Tally)>;

pub struct Table {
    shards: Vec<Mutex<HashMap<String, States>>>,
}

impl Default for Table {
    fn default() -> Self {
        Table { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }
}

/// Takes `key`'s state out of `states`, if it has one.
fn take(states: &mut States, key: BucketKey) -> Option<Tally> {
    let at = states.iter().position(|(k, _)| *k == key)?;
    Some(states.swap_remove(at).1)
}

fn find(states: &mut States, key: BucketKey) -> Option<&mut Tally> {
    states.iter_mut().find(|(k, _)| *k == key).map(|(_, tally)| tally)
}

impl Table {
    /// Runs `f` on `owner`'s states (an owner seen for the first time is added after).
    fn with<T>(&self, owner: &str, f: impl FnOnce(&mut States) -> T) -> T {
        let shard = &self.shards[(stable_hash(owner.as_bytes()) % SHARDS as u64) as usize];
        let mut map = shard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(states) = map.get_mut(owner) {
            return f(states);
        }
        let mut states = States::new();
        let out = f(&mut states);
        if !states.is_empty() {
            map.insert(owner.to_string(), states);
        }
        out
    }

    /// Reserves `estimate` in every bucket of `owner`, or in none.
    pub fn admit(
        &self,
        owner: &str,
        buckets: &[Bucket],
        estimate: &Amounts,
        now_ms: u64,
    ) -> Result<Vec<Hold>, Refusal> {
        self.with(owner, |states| {
            let mut taken: Vec<Tally> =
                buckets.iter().map(|b| take(states, b.key()).unwrap_or_else(|| b.fresh())).collect();
            let outcome = admit(buckets, &mut taken, estimate, now_ms);
            states.extend(buckets.iter().map(Bucket::key).zip(taken));
            outcome
        })
    }

    /// Settles holds; `true` when a budget crossed its alert threshold.
    pub fn settle(&self, owner: &str, buckets: &[Bucket], holds: &[Hold], actual: &Amounts, now_ms: u64) -> bool {
        self.with(owner, |states| {
            let mut alert = false;
            for (bucket, hold) in buckets.iter().zip(holds) {
                if let Some(tally) = find(states, bucket.key()) {
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
        self.with(owner, |states| match find(states, bucket.key()) {
            Some(Tally::Budget(b)) if b.period_start == current => b.spent,
            _ => 0,
        })
    }
}
