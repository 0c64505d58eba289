//! Per-request randomness without a system call each time: routing RNGs, generated trace
//! IDs and log IDs are drawn from the thread-local RNG (seeded once per thread from the OS).
//! Secrets (API keys, master keys) do not come from here: they use the OS RNG directly.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// A fast RNG for one request's routing decisions.
pub fn fast_rng() -> SmallRng {
    SmallRng::from_rng(rand::thread_rng()).unwrap_or_else(|_| SmallRng::seed_from_u64(unix_ms()))
}

/// A time-ordered (version 7) UUID for a trace the client did not name. Time order keeps
/// the log's trace index appending at its end: random (version 4) IDs made every logged
/// request rewrite a random index page, which halved throughput with logging on.
pub fn trace_id() -> String {
    time_ordered()
}

/// A time-ordered (version 7) UUID for a log record, so ids sort roughly by time.
pub fn log_id() -> String {
    time_ordered()
}

/// A version 7 UUID: the Unix time in milliseconds, then 74 random bits.
fn time_ordered() -> String {
    let random: [u8; 10] = rand::thread_rng().gen();
    uuid::Builder::from_unix_timestamp_millis(unix_ms(), &random).into_uuid().to_string()
}

fn unix_ms() -> u64 {
    u64::try_from(crate::support::clock::unix_ms()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_of_the_right_version_and_differ() {
        let (a, b) = (trace_id(), trace_id());
        assert_ne!(a, b);
        assert_eq!(uuid::Uuid::parse_str(&a).map(|u| u.get_version_num()).ok(), Some(7));
        assert_eq!(uuid::Uuid::parse_str(&log_id()).map(|u| u.get_version_num()).ok(), Some(7));
    }

    #[test]
    fn log_and_trace_ids_sort_by_time() {
        let (log, trace) = (log_id(), trace_id());
        #[expect(
            clippy::disallowed_methods,
            reason = "a plain #[test] on no runtime: the ids must see the clock move"
        )]
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(log_id() > log);
        assert!(trace_id() > trace);
    }
}
