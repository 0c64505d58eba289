//! The one wall clock. Every read of the time of day (log timestamps, feedback and custom
//! log rows, ids, HTTP-date arithmetic) goes through here; `clippy.toml` bans
//! `SystemTime::now` everywhere else. Durations and deadlines use `tokio::time::Instant`
//! instead, which tests can pause.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as the system clock says.
#[expect(clippy::disallowed_methods, reason = "this is the one home of the wall clock")]
pub fn now() -> SystemTime {
    SystemTime::now()
}

/// Milliseconds since the Unix epoch (0 before it, `i64::MAX` far after it).
pub fn unix_ms() -> i64 {
    now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Milliseconds since the Unix epoch, unsigned: the time base of target health and limits.
pub fn now_ms() -> u64 {
    u64::try_from(unix_ms()).unwrap_or(0)
}

/// Seconds since the Unix epoch (0 before it).
pub fn unix_secs() -> u64 {
    now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_readings_agree() {
        let (secs, ms) = (unix_secs(), unix_ms());
        assert!(ms / 1000 >= i64::try_from(secs).unwrap_or(i64::MAX), "ms read after secs");
        assert!(ms / 1000 - i64::try_from(secs).unwrap_or(0) <= 1);
        assert!(secs > 1_700_000_000, "the clock reads a time after 2023: {secs}");
    }
}
