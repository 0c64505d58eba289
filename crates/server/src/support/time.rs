//! Timestamps at the edges, in one place: `from`/`to` read as Unix milliseconds or RFC 3339,
//! and times written as RFC 3339 (UTC, milliseconds) by the APIs, exports and the CLI. Proleptic Gregorian
//! calendar arithmetic (Howard Hinnant's `days_from_civil`), so no date crate is needed.

const MS_PER_DAY: i64 = 86_400_000;

/// Unix milliseconds from `1718000000000`, `2024-06-10T06:13:20Z`, `2024-06-10T08:13:20.5+02:00`
/// or a bare date `2024-06-10` (midnight UTC).
pub fn parse_instant(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    parse_rfc3339(text)
}

/// `created_at` as `2024-06-10T06:13:20.000Z`.
pub fn format_rfc3339(unix_ms: i64) -> String {
    let (days, ms) = (unix_ms.div_euclid(MS_PER_DAY), unix_ms.rem_euclid(MS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    let (secs, millis) = (ms / 1000, ms % 1000);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Reads fixed-width fields left to right.
struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    fn number(&mut self, width: usize) -> Option<i64> {
        let field = self.bytes.get(self.at..self.at + width)?;
        if !field.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += width;
        Some(field.iter().fold(0, |n, b| n * 10 + i64::from(b - b'0')))
    }

    fn expect(&mut self, allowed: &[u8]) -> Option<u8> {
        let byte = *self.bytes.get(self.at).filter(|b| allowed.contains(b))?;
        self.at += 1;
        Some(byte)
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// `.123456` → 123 (milliseconds; finer digits are dropped).
    fn fraction_ms(&mut self) -> Option<i64> {
        if self.expect(b".").is_none() {
            return Some(0);
        }
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        if digits.is_empty() {
            return None;
        }
        Some((0..3).fold(0, |n, i| n * 10 + digits.get(i).map_or(0, |b| i64::from(b - b'0'))))
    }

    /// `Z` → 0, `+02:00` → 120 minutes east of UTC.
    fn offset_minutes(&mut self) -> Option<i64> {
        let sign = match self.expect(b"Zz+-")? {
            b'Z' | b'z' => return Some(0),
            b'+' => 1,
            _ => -1,
        };
        let hours = self.number(2).filter(|h| *h <= 23)?;
        self.expect(b":")?;
        let minutes = self.number(2).filter(|m| *m <= 59)?;
        Some(sign * (hours * 60 + minutes))
    }
}

fn parse_rfc3339(text: &str) -> Option<i64> {
    let mut scan = Scan { bytes: text.as_bytes(), at: 0 };
    let days = date(&mut scan)?;
    if scan.done() {
        return Some(days * MS_PER_DAY);
    }
    scan.expect(b"Tt ")?;
    let time_ms = clock_ms(&mut scan)?;
    let offset = scan.offset_minutes()?;
    scan.done().then_some(days * MS_PER_DAY + time_ms - offset * 60_000)
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn date(scan: &mut Scan<'_>) -> Option<i64> {
    let year = scan.number(4)?;
    scan.expect(b"-")?;
    let month = scan.number(2).filter(|m| (1..=12).contains(m))?;
    scan.expect(b"-")?;
    let day = scan.number(2).filter(|d| (1..=days_in_month(year, month)).contains(d))?;
    Some(days_from_civil(year, month, day))
}

/// `HH:MM:SS(.fff)` as milliseconds since midnight (a leap second 60 is accepted).
fn clock_ms(scan: &mut Scan<'_>) -> Option<i64> {
    let hours = scan.number(2).filter(|h| *h <= 23)?;
    scan.expect(b":")?;
    let minutes = scan.number(2).filter(|m| *m <= 59)?;
    scan.expect(b":")?;
    let seconds = scan.number(2).filter(|s| *s <= 60)?;
    let millis = scan.fraction_ms()?;
    Some(((hours * 60 + minutes) * 60 + seconds) * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
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
        assert_eq!(parse_instant("1970-01-01T00:00:00-01:30"), Some(90 * 60_000));
        assert_eq!(parse_instant("2024-02-29"), Some(1_709_164_800_000));
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
    }
}
