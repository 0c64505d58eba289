//! How long a provider asks us to wait: `retry-after-ms` (OpenAI's, Azure's), `x-ms-retry-after-ms`
//! (Azure's own) or `Retry-After` (seconds or an HTTP-date), read into one bounded [`Duration`].
//!
//! It owns the reading only; whether to wait at all is the planner's call
//! ([`crate::planner::BACKOFF_BUDGET`]). Header values come from the provider, so nothing here
//! may panic or overflow on any text: numbers are checked before they become a `Duration`, and
//! anything longer than [`MAX_RETRY_AFTER`] is cut to it. No clock is read: `now` (for a date)
//! is the caller's.

use std::time::{Duration, SystemTime};

/// The longest wait a header can ask for; longer requests are cut to it.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The wait the headers ask for, or `None` when none holds a readable one.
/// The milliseconds forms are more precise, so they go first: `retry-after-ms` when it parses,
/// else `x-ms-retry-after-ms`; otherwise `Retry-After` is read as seconds or as an HTTP-date
/// (a date already past means "now": `Duration::ZERO`).
pub fn parse(
    retry_after: Option<&str>,
    retry_after_ms: Option<&str>,
    x_ms_retry_after_ms: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let millis = |text: Option<&str>| text.and_then(number).map(|ms| capped_secs(ms / 1000.0));
    millis(retry_after_ms)
        .or_else(|| millis(x_ms_retry_after_ms))
        .or_else(|| retry_after.and_then(|v| seconds_or_date(v, now)))
}

fn seconds_or_date(value: &str, now: SystemTime) -> Option<Duration> {
    match number(value) {
        Some(secs) => Some(capped_secs(secs)),
        None => http_date(value, now),
    }
}

/// An unsigned decimal number (`3`, `1.5`, `.5`, `2e1`), or `None`. Signs, `inf` and `NaN` are
/// refused by the grammar, before `f64` parsing (which would take them); a number too large
/// for `f64` parses as infinity, which [`capped_secs`] cuts like any other huge value.
fn number(value: &str) -> Option<f64> {
    let value = value.trim();
    is_unsigned_decimal(value).then(|| value.parse().ok()).flatten()
}

/// `digits [. digits] [(e|E) [+|-] digits]`, with at least one digit before the exponent.
fn is_unsigned_decimal(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// Seconds as a `Duration`, cut at [`MAX_RETRY_AFTER`]. Given only values ≥ 0 (infinity
/// included), and the comparison comes before `from_secs_f64`, which panics past `u64::MAX`.
fn capped_secs(secs: f64) -> Duration {
    if secs >= MAX_RETRY_AFTER.as_secs_f64() {
        return MAX_RETRY_AFTER;
    }
    Duration::from_secs_f64(secs)
}

/// An HTTP-date in any of its three forms, read by the `httpdate` crate (the one hyper uses) rather than by
/// hand; a date already past is a wait of zero.
fn http_date(value: &str, now: SystemTime) -> Option<Duration> {
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-01T00:00:00Z, the `now` of every test.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200)
    }

    fn secs(s: f64) -> Option<Duration> {
        Some(Duration::from_secs_f64(s))
    }

    fn check(cases: &[(Option<&str>, Option<&str>, Option<Duration>)]) {
        for (after, after_ms, want) in cases {
            assert_eq!(
                parse(*after, *after_ms, None, now()),
                *want,
                "Retry-After {after:?}, retry-after-ms {after_ms:?}"
            );
        }
    }

    /// (`Retry-After`, `retry-after-ms`, `x-ms-retry-after-ms`, the wait).
    type AzureCase<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<Duration>);

    fn check_azure(cases: &[AzureCase]) {
        for (after, after_ms, x_ms, want) in cases {
            let got = parse(*after, *after_ms, *x_ms, now());
            assert_eq!(got, *want, "Retry-After {after:?}, retry-after-ms {after_ms:?}, x-ms-retry-after-ms {x_ms:?}");
        }
    }

    #[test]
    fn x_ms_header_is_read_as_milliseconds_over_retry_after() {
        check_azure(&[
            (None, None, Some("1500"), secs(1.5)),
            (Some("30"), None, Some("250"), secs(0.25)),
            (Some("Mon, 01 Jan 2024 00:00:10 GMT"), None, Some("20"), Some(Duration::from_millis(20))),
            (None, None, Some(" 0 "), Some(Duration::ZERO)),
        ]);
    }

    #[test]
    fn retry_after_ms_wins_over_x_ms_header() {
        check_azure(&[
            (None, Some("100"), Some("900"), Some(Duration::from_millis(100))),
            (Some("30"), Some("100"), Some("900"), Some(Duration::from_millis(100))),
        ]);
    }

    #[test]
    fn unreadable_ms_headers_fall_through_in_order() {
        check_azure(&[
            (Some("7"), Some("soon"), Some("900"), Some(Duration::from_millis(900))),
            (Some("7"), Some("-1"), Some("-1"), secs(7.0)),
            (Some("7"), None, Some("inf"), secs(7.0)),
            (None, Some(""), Some("NaN"), None),
        ]);
    }

    #[test]
    fn x_ms_header_saturates_at_the_cap() {
        let cap = Some(MAX_RETRY_AFTER);
        check_azure(&[
            (None, None, Some("3600001"), cap),
            (None, None, Some("1e400"), cap),
            (Some("1"), None, Some("9".repeat(400).as_str()), cap),
        ]);
    }

    #[test]
    fn seconds_may_be_integer_or_decimal() {
        check(&[
            (Some("0"), None, Some(Duration::ZERO)),
            (Some("3"), None, secs(3.0)),
            (Some(" 120 "), None, secs(120.0)),
            (Some("1.5"), None, secs(1.5)),
            (Some("0.25"), None, secs(0.25)),
            (Some("2e1"), None, secs(20.0)),
            (Some(".5"), None, secs(0.5)),
            (Some("5."), None, secs(5.0)),
        ]);
    }

    #[test]
    fn ms_header_wins() {
        check(&[
            (Some("30"), Some("1500"), secs(1.5)),
            (None, Some("250"), secs(0.25)),
            (None, Some("0.5"), Some(Duration::from_micros(500))),
            (Some("Mon, 01 Jan 2024 00:00:10 GMT"), Some("20"), Some(Duration::from_millis(20))),
        ]);
    }

    #[test]
    fn unreadable_ms_header_falls_back_to_retry_after() {
        check(&[
            (Some("7"), Some("soon"), secs(7.0)),
            (Some("7"), Some("-1"), secs(7.0)),
            (Some("7"), Some(""), secs(7.0)),
        ]);
    }

    /// The three forms RFC 9110 §5.6.7 makes recipients accept, all of which `httpdate` reads.
    #[test]
    fn http_date_is_the_wait_until_then() {
        check(&[
            // IMF-fixdate, the one senders must use.
            (Some("Mon, 01 Jan 2024 00:00:30 GMT"), None, secs(30.0)),
            // Obsolete RFC 850 form (two-digit year).
            (Some("Monday, 01-Jan-24 00:01:00 GMT"), None, secs(60.0)),
            // Obsolete asctime() form (no zone: GMT by definition).
            (Some("Mon Jan  1 00:00:05 2024"), None, secs(5.0)),
        ]);
    }

    #[test]
    fn past_http_date_is_zero() {
        check(&[
            (Some("Sun, 31 Dec 2023 23:59:59 GMT"), None, Some(Duration::ZERO)),
            (Some("Thu, 01 Jan 1970 00:00:00 GMT"), None, Some(Duration::ZERO)),
            (Some("Mon, 01 Jan 2024 00:00:00 GMT"), None, Some(Duration::ZERO)),
        ]);
    }

    #[test]
    fn huge_values_saturate_at_the_cap() {
        let cap = Some(MAX_RETRY_AFTER);
        check(&[
            (Some("3600"), None, cap),
            (Some("3601"), None, cap),
            (Some("99999999999999999999"), None, cap),
            (Some("184467440737095516160000"), None, cap),
            (Some("1e20"), None, cap),
            (Some("1e308"), None, cap),
            (Some("1e400"), None, cap),
            (Some("9".repeat(400).as_str()), None, cap),
            (None, Some("3600001"), cap),
            (None, Some("99999999999999999999"), cap),
            (None, Some("1e20"), cap),
            (Some("Fri, 31 Dec 9999 23:59:59 GMT"), None, cap),
        ]);
        check(&[(Some("3599.5"), None, secs(3599.5))]);
    }

    #[test]
    fn garbage_is_ignored() {
        let garbage = ["", "  ", "soon", "-5", "-0", "-0.5", "inf", "-inf", "infinity", "NaN", "nan", "+5", "5s"];
        for text in
            garbage.iter().chain(&["1,5", "0x10", ".", "1e", "e5", "1.2.3", "Mon, 32 Jan 2024 00:00:00 GMT", "\u{0}"])
        {
            check(&[(Some(text), None, None), (None, Some(text), None), (Some(text), Some(text), None)]);
        }
        check(&[(None, None, None)]);
    }
}
