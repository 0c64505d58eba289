//! Timestamps at the edges, in one place: `from`/`to` read as Unix milliseconds, RFC 3339 or a bare date, and
//! times written as RFC 3339 (UTC, milliseconds) by the APIs, exports and the CLI.
//!
//! The calendar arithmetic is the `jiff` crate's (maintained, and correct where hand-written date code is
//! not), built without its time-zone database: only UTC and fixed offsets occur here. This module owns which
//! forms are accepted and the one shape written; it reads no clock.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;

const NS_PER_MS: i128 = 1_000_000;

/// Unix milliseconds from `1718000000000`, `2024-06-10T06:13:20Z`, `2024-06-10T08:13:20.5+02:00`
/// or a bare date `2024-06-10` (midnight UTC). Timestamps are read by jiff's RFC 3339 / ISO 8601
/// parser, so its lenient forms (`t`/`z`, a space for `T`, `+0200`, a trailing `[zone]` note) pass
/// too; a timestamp without an offset does not, since it names no instant.
pub fn parse_instant(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let at = text.parse::<Timestamp>().ok().or_else(|| midnight_utc(text))?;
    // Floor, not truncate: a sub-millisecond instant before 1970 belongs to the millisecond before it.
    i64::try_from(at.as_nanosecond().div_euclid(NS_PER_MS)).ok()
}

/// `2024-06-10` exactly. The length check keeps out the other forms jiff's date parser takes:
/// extended years (`+002024-06-10`) and a date-time without an offset (`2024-06-10T06:13`), whose
/// time of day it would silently drop.
fn midnight_utc(text: &str) -> Option<Timestamp> {
    let date = Some(text).filter(|t| t.len() == "2024-06-10".len())?.parse::<Date>().ok()?;
    TimeZone::UTC.to_timestamp(date.to_datetime(Time::midnight())).ok()
}

/// `created_at` as `2024-06-10T06:13:20.000Z`. Instants beyond jiff's range (years ±9999) are
/// written as its first or last instant rather than failing: a log line must always have a time.
pub fn format_rfc3339(unix_ms: i64) -> String {
    let at = Timestamp::from_millisecond(unix_ms).unwrap_or(if unix_ms < 0 { Timestamp::MIN } else { Timestamp::MAX });
    format!("{at:.3}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_milliseconds_pass_through() {
        assert_eq!(parse_instant("1718000000000"), Some(1_718_000_000_000));
        assert_eq!(parse_instant("0"), Some(0));
        assert_eq!(parse_instant("-5"), Some(-5));
    }

    #[test]
    fn rfc3339_with_zone_and_fraction_is_read_as_utc() {
        assert_eq!(parse_instant("2024-06-10T06:13:20Z"), Some(1_718_000_000_000));
        assert_eq!(parse_instant("2024-06-10T08:13:20.5+02:00"), Some(1_718_000_000_500));
        assert_eq!(parse_instant("2024-06-10t06:13:20.123456z"), Some(1_718_000_000_123));
        assert_eq!(parse_instant("2024-06-10 06:13:20Z"), Some(1_718_000_000_000));
        assert_eq!(parse_instant("1970-01-01T00:00:00-01:30"), Some(90 * 60_000));
        assert_eq!(parse_instant(" 2024-06-10T06:13:20.999999999Z "), Some(1_718_000_000_999));
        assert_eq!(parse_instant("1969-12-31T23:59:59.9995Z"), Some(-1));
    }

    /// Not promised to clients, but pinned so a jiff upgrade that changes them is noticed.
    #[test]
    fn jiffs_lenient_forms_are_accepted_too() {
        assert_eq!(parse_instant("2024-06-10T08:13:20+0200"), Some(1_718_000_000_000));
        assert_eq!(parse_instant("2024-06-10T06:13Z"), Some(1_717_999_980_000));
        assert_eq!(parse_instant("2024-06-10T06:13:20Z[UTC]"), Some(1_718_000_000_000));
        assert_eq!(parse_instant("2016-12-31T23:59:60Z"), parse_instant("2016-12-31T23:59:59Z"));
    }

    #[test]
    fn bare_date_is_midnight_utc() {
        assert_eq!(parse_instant("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(parse_instant("1970-01-01"), Some(0));
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2023-02-29",
            "2024-06-10T25:00:00Z",
            "2024-06-10T06:13:20",
            "2024-06-10T06:13:20.Z",
            "1.5e12",
            "2024-06-10T06:13:20Z junk",
            "2024-06-10 junk",
            "2024-6-10",
            "+002024-06-10",
            "2024-06-10T06",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }

    #[test]
    fn formatting_round_trips_through_parsing() {
        for ms in [0, 1_718_000_000_123, 951_782_400_000, -86_400_001, 4_102_444_800_000] {
            let text = format_rfc3339(ms);
            assert_eq!(parse_instant(&text), Some(ms), "{text}");
        }
        assert_eq!(format_rfc3339(1_718_000_000_123), "2024-06-10T06:13:20.123Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn out_of_range_instants_are_written_at_the_edge_of_the_calendar() {
        assert_eq!(format_rfc3339(i64::MAX), format!("{:.3}", Timestamp::MAX));
        assert_eq!(format_rfc3339(i64::MIN), format!("{:.3}", Timestamp::MIN));
    }
}
