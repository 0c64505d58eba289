//! The Redis backend of the limiter: three Lua scripts (`reserve.lua`, `settle.lua`,
//! `spent.lua`, each after `helpers.lua`) that restate core's arithmetic on Redis's clock,
//! and the argument lists they take. Keys: `<prefix>lim:<owner>:<bucket name>` per bucket (a
//! window is a HASH slot → amount, with a TTL of twice the window; a budget a HASH p/s/r:
//! period start, spent, reserved, kept until a day after its period ends), and
//! `<prefix>lim:res` / `<prefix>lim:held` for the reservations in flight (kept as long as the
//! longest-lived budget they name), each with an expiry after which the next reservation
//! settles it at its estimate (its instance died mid-request).

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use switchboard_core::limits::{Amounts, Bucket, Hold, Refusal};

use crate::policy::redis::{Shared, SharedError};

const HELPERS: &str = include_str!("helpers.lua");

static RESERVE: LazyLock<Script> = LazyLock::new(|| script(include_str!("reserve.lua")));
static SETTLE: LazyLock<Script> = LazyLock::new(|| script(include_str!("settle.lua")));
static SPENT: LazyLock<Script> = LazyLock::new(|| script(include_str!("spent.lua")));

fn script(body: &str) -> Script {
    Script::new(&format!("{HELPERS}\n{body}"))
}

/// The reservation index keys (ZSET of expiries, HASH of budget parts).
fn index_keys(shared: &Shared) -> [String; 2] {
    [shared.key("lim:res"), shared.key("lim:held")]
}

/// Each bucket's key, after the two index keys: made once per reservation, for its reserve
/// and its settle.
pub fn keys(shared: &Shared, owner: &str, buckets: &[Bucket]) -> Vec<String> {
    let prefix = shared.key("lim:");
    let bucket_key = |b: &Bucket| {
        let name = b.name();
        let mut key = String::with_capacity(prefix.len() + owner.len() + 1 + name.len());
        key.push_str(&prefix);
        key.push_str(owner);
        key.push(':');
        key.push_str(&name);
        key
    };
    index_keys(shared).into_iter().chain(buckets.iter().map(bucket_key)).collect()
}

/// What the scripts call a bucket's time: a window's length, a budget's reset.
fn span(bucket: &Bucket) -> String {
    match bucket {
        Bucket::Rate(rate) => rate.unit.window_ms().to_string(),
        Bucket::Usage(usage) => match usage.reset {
            switchboard_core::limits::Reset::Days(n) => format!("d:{n}"),
            other => other.key(),
        },
    }
}

fn kind(bucket: &Bucket) -> &'static str {
    match bucket {
        Bucket::Rate(_) => "w",
        Bucket::Usage(_) => "b",
    }
}

/// Reserves `estimate` in every bucket or none; `Ok(Err(_))` is a refusal.
pub async fn reserve(
    shared: &Shared,
    keys: &[String],
    buckets: &[Bucket],
    estimate: &Amounts,
    id: &str,
    expiry: Duration,
    now_ms: u64,
) -> Result<Result<Vec<Hold>, Refusal>, SharedError> {
    let mut args = vec![id.to_string(), expiry.as_millis().to_string()];
    for bucket in buckets {
        let amount = bucket.amount(estimate);
        args.extend([kind(bucket).to_string(), bucket.limit().to_string(), amount.to_string(), span(bucket)]);
    }
    let reply: Vec<i64> = shared.run(&RESERVE, keys, &args).await?;
    Ok(read_reserve(&reply, buckets, estimate, now_ms))
}

/// The script's reply; a budget's end, which Redis gives as a wait, as an instant on this
/// instance's clock (`now_ms`).
fn read_reserve(reply: &[i64], buckets: &[Bucket], estimate: &Amounts, now_ms: u64) -> Result<Vec<Hold>, Refusal> {
    let unsigned = |v: i64| u64::try_from(v).unwrap_or(0);
    match reply {
        [1, marks @ ..] => Ok(buckets
            .iter()
            .zip(marks)
            .map(|(b, mark)| Hold { mark: unsigned(*mark), estimate: b.amount(estimate) })
            .collect()),
        [0, 1, wait] => Err(Refusal::RateLimited { retry_after_ms: unsigned(*wait) }),
        [0, 2, wait] if *wait < 0 => Err(Refusal::Exhausted { until_ms: None }),
        [0, 2, wait] => Err(Refusal::Exhausted { until_ms: Some(now_ms.saturating_add(unsigned(*wait))) }),
        _ => Err(Refusal::Disabled),
    }
}

/// Settles a reservation; `true` when a budget crossed its alert threshold.
pub async fn settle(
    shared: &Shared,
    keys: &[String],
    buckets: &[Bucket],
    id: &str,
    holds: &[Hold],
    actual: &Amounts,
) -> Result<bool, SharedError> {
    let mut args = vec![id.to_string()];
    for (bucket, hold) in buckets.iter().zip(holds) {
        let extra = match bucket {
            Bucket::Rate(rate) => rate.unit.window_ms().to_string(),
            Bucket::Usage(usage) => usage.alert_units().map_or("-1".to_string(), |t| t.to_string()),
        };
        let amounts = [hold.mark, hold.estimate, bucket.amount(actual)].map(|n| n.to_string());
        args.push(kind(bucket).to_string());
        args.extend(amounts);
        args.push(extra);
    }
    let alert: i64 = shared.run(&SETTLE, keys, &args).await?;
    Ok(alert == 1)
}

/// What `bucket` (a budget) has spent in its current period.
pub async fn spent(shared: &Shared, owner: &str, bucket: &Bucket) -> Result<u64, SharedError> {
    let key = shared.key(&format!("lim:{owner}:{}", bucket.name()));
    let spent: i64 = shared.run(&SPENT, &[key], &[span(bucket)]).await?;
    Ok(u64::try_from(spent).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_reply_reads_into_holds_or_a_refusal() {
        let bucket = Bucket::Rate(switchboard_core::limits::RateLimit {
            measure: switchboard_core::limits::Measure::Tokens,
            unit: switchboard_core::limits::Unit::Rpm,
            value: 10,
        });
        let estimate = Amounts { requests: 1, tokens: 7, nano_usd: 0 };
        let read = |reply: &[i64]| read_reserve(reply, &[bucket], &estimate, 1000);
        assert_eq!(read(&[1, 42]), Ok(vec![Hold { mark: 42, estimate: 7 }]));
        assert_eq!(read(&[0, 1, 900]), Err(Refusal::RateLimited { retry_after_ms: 900 }));
        assert_eq!(read(&[0, 2, 500]), Err(Refusal::Exhausted { until_ms: Some(1500) }));
        assert_eq!(read(&[0, 2, -1]), Err(Refusal::Exhausted { until_ms: None }));
        assert_eq!(read(&[0, 3, 0]), Err(Refusal::Disabled));
    }
}
