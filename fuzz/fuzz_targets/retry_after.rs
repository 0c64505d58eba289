//! Any header text as `Retry-After` / `retry-after-ms` / `x-ms-retry-after-ms`: a wait within the
//! cap or none, never a panic or an overflow.
//! Input: a flags byte (bit 0: `Retry-After` present, bit 1: `retry-after-ms` present, bit 2:
//! `x-ms-retry-after-ms` present, bits 3-4: which `now`), then the three values separated by the
//! first two `\n`s.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use switchboard_core::retry_after::{parse, MAX_RETRY_AFTER};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let (after, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let (after_ms, x_ms) = rest.split_once('\n').unwrap_or((rest, ""));
    let now = match (flags >> 3) & 3 {
        0 => SystemTime::UNIX_EPOCH,
        1 => SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200),
        2 => SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799), // 9999-12-31T23:59:59Z
        _ => SystemTime::UNIX_EPOCH - Duration::from_secs(86_400),
    };
    let present = |bit: u8, value| (flags & bit != 0).then_some(value);
    let got = parse(present(1, after), present(2, after_ms), present(4, x_ms), now);
    assert!(got.is_none_or(|wait| wait <= MAX_RETRY_AFTER), "{got:?} is over the cap");
});
