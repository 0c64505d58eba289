//! Any header text as `Retry-After` / `retry-after-ms`: a wait within the cap or none, never a
//! panic or an overflow.
//! Input: a flags byte (bit 0: `Retry-After` present, bit 1: `retry-after-ms` present, bits 2-3:
//! which `now`), then the two values separated by the first `\n`.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use switchboard_core::retry_after::{parse, MAX_RETRY_AFTER};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let (after, after_ms) = text.split_once('\n').unwrap_or((&text, ""));
    let now = match (flags >> 2) & 3 {
        0 => SystemTime::UNIX_EPOCH,
        1 => SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200),
        2 => SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799), // 9999-12-31T23:59:59Z
        _ => SystemTime::UNIX_EPOCH - Duration::from_secs(86_400),
    };
    let got = parse((flags & 1 != 0).then_some(after), (flags & 2 != 0).then_some(after_ms), now);
    assert!(got.is_none_or(|wait| wait <= MAX_RETRY_AFTER), "{got:?} is over the cap");
});
