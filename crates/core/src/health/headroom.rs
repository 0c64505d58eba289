//! Providers' rate-limit headers, read into "remaining until instant".
//!
//! It owns three things: reading one answer's rate-limit headers in a provider's dialect into a
//! [`Headroom`] (successes included: every answer says how much is left), deciding whether a
//! target should be skipped for a request of some size until its quota refills
//! ([`Headroom::blocks`]), and the request's token estimate that decision needs
//! ([`estimate_tokens`]). It keeps no table and reads no clock: `now_ms` (unix milliseconds) is
//! the caller's, and the server keeps one `Headroom` per target.
//!
//! Header values come from providers, so nothing here may panic on any text. A value that does
//! not read cleanly (negative, non-numeric, too large for `u64`, empty, decimal such as
//! `1000.0`) makes its whole quota unknown (`None`) rather than guessed: counts are plain
//! unsigned integers only. Unknown never blocks, and neither does a stale hint (a reset already
//! past), so a wrong or old header can at worst leave a target in use, never shut it out.
//!
//! The dialects:
//! - OpenAI ([`Dialect::OpenAi`]) sends `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`;
//!   the reset is a Go duration relative to the answer (`1s`, `6m0s`, see [`go_duration`]).
//! - Anthropic ([`Dialect::Anthropic`]) sends `anthropic-ratelimit-{family}-{limit,remaining,reset}`
//!   for the families `requests`, `tokens`, `input-tokens` and `output-tokens`; the reset is an
//!   RFC 3339 instant. Anthropic rounds its token counts to the nearest thousand; they are taken
//!   as sent, not "corrected". The `tokens` quota is the most restrictive token family present.
//! - Azure OpenAI ([`Dialect::Azure`]) sends `x-ratelimit-remaining-{requests,tokens}`, where `-1`
//!   and `0` mean "unknown" on some APIs, so a remaining count of 0 (or below) is unknown here. A
//!   reset header is rarely sent; when it is, it is read like OpenAI's (or as whole seconds,
//!   which Azure has been seen to send); when it is not, the quota is assumed to refill within
//!   60 s ([`AZURE_ASSUMED_RESET_MS`]).

use std::time::Duration;

use serde_json::{Map, Value};

/// One quota a provider reported: what is left, and when it refills.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    /// Requests or tokens left in the current window.
    pub remaining: u64,
    /// The window's size, when the provider said.
    pub limit: Option<u64>,
    /// When the window refills, in unix milliseconds.
    pub reset_at_ms: u64,
}

/// What an answer's headers said about the target's rate limits; `None` = not reported / unknown.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Headroom {
    pub requests: Option<Quota>,
    pub tokens: Option<Quota>,
}

/// Which header dialect to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAi,
    Anthropic,
    Azure,
}

/// How long Azure's quotas are assumed to take to refill when it sends no reset header: its
/// limits are per minute, so within a minute the window has moved on.
pub const AZURE_ASSUMED_RESET_MS: u64 = 60_000;

/// Reads the headers of one answer (successes included). `get` returns a header's value by
/// lowercase name; its answers may borrow from the caller's header map (`'h`), which outlives
/// the call.
pub fn read<'h>(dialect: Dialect, get: impl Fn(&str) -> Option<&'h str>, now_ms: u64) -> Headroom {
    let get = |name: &str| get(name).map(str::trim);
    match dialect {
        Dialect::OpenAi => {
            Headroom { requests: openai_quota(&get, "requests", now_ms), tokens: openai_quota(&get, "tokens", now_ms) }
        }
        Dialect::Anthropic => Headroom {
            requests: anthropic_quota(&get, "requests"),
            tokens: ["tokens", "input-tokens", "output-tokens"]
                .into_iter()
                .filter_map(|family| anthropic_quota(&get, family))
                .reduce(most_restrictive),
        },
        Dialect::Azure => {
            Headroom { requests: azure_quota(&get, "requests", now_ms), tokens: azure_quota(&get, "tokens", now_ms) }
        }
    }
}

/// `x-ratelimit-*-{kind}` with a Go-duration reset; no readable reset, no quota.
fn openai_quota<'h>(get: &impl Fn(&str) -> Option<&'h str>, kind: &str, now_ms: u64) -> Option<Quota> {
    let remaining = count(get(&format!("x-ratelimit-remaining-{kind}"))?)?;
    let reset = go_duration(get(&format!("x-ratelimit-reset-{kind}"))?)?;
    let limit = optional_count(get(&format!("x-ratelimit-limit-{kind}")))?;
    Some(Quota { remaining, limit, reset_at_ms: now_ms.saturating_add(ceil_millis(reset)) })
}

/// `anthropic-ratelimit-{family}-*` with an RFC 3339 reset.
fn anthropic_quota<'h>(get: &impl Fn(&str) -> Option<&'h str>, family: &str) -> Option<Quota> {
    let remaining = count(get(&format!("anthropic-ratelimit-{family}-remaining"))?)?;
    let reset_at_ms = rfc3339_ms(get(&format!("anthropic-ratelimit-{family}-reset"))?)?;
    let limit = optional_count(get(&format!("anthropic-ratelimit-{family}-limit")))?;
    Some(Quota { remaining, limit, reset_at_ms })
}

/// Azure's `x-ratelimit-*-{kind}`: 0 remaining is unknown; no reset header means 60 s.
fn azure_quota<'h>(get: &impl Fn(&str) -> Option<&'h str>, kind: &str, now_ms: u64) -> Option<Quota> {
    let remaining = count(get(&format!("x-ratelimit-remaining-{kind}"))?).filter(|&left| left > 0)?;
    let reset_ms = match get(&format!("x-ratelimit-reset-{kind}")) {
        Some(text) => ceil_millis(count(text).map(Duration::from_secs).or_else(|| go_duration(text))?),
        None => AZURE_ASSUMED_RESET_MS,
    };
    let limit = optional_count(get(&format!("x-ratelimit-limit-{kind}")))?;
    Some(Quota { remaining, limit, reset_at_ms: now_ms.saturating_add(reset_ms) })
}

/// The quota that leaves less room: the lower remaining count; on a tie, the later reset.
fn most_restrictive(a: Quota, b: Quota) -> Quota {
    if (b.remaining, std::cmp::Reverse(b.reset_at_ms)) < (a.remaining, std::cmp::Reverse(a.reset_at_ms)) {
        b
    } else {
        a
    }
}

/// A plain unsigned integer (`42`), or `None`: no sign, no decimal point, no exponent, not
/// past `u64::MAX`.
fn count(text: &str) -> Option<u64> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits_only.then(|| text.parse().ok()).flatten()
}

/// An optional header: absent is `Some(None)`; present but unreadable is `None`, which spoils
/// the quota it belongs to.
fn optional_count(text: Option<&str>) -> Option<Option<u64>> {
    match text {
        None => Some(None),
        Some(text) => count(text).map(Some),
    }
}

/// Whole milliseconds, rounded up so that a wait the provider did report is never in the past;
/// saturating at `u64::MAX`.
fn ceil_millis(wait: Duration) -> u64 {
    let millis = wait.as_nanos().div_ceil(1_000_000);
    u64::try_from(millis).unwrap_or(u64::MAX)
}

/// An RFC 3339 instant (`2024-06-30T12:00:30Z`, `…30.5+02:00`) as unix milliseconds, read by
/// `jiff`; an instant before 1970 is 0 (long past, so stale).
fn rfc3339_ms(text: &str) -> Option<u64> {
    let instant: jiff::Timestamp = text.parse().ok()?;
    Some(u64::try_from(instant.as_millisecond()).unwrap_or(0))
}

/// Go's duration syntax as OpenAI sends it: `1s`, `6m0s`, `12ms`, `23h47m36.648s`, `0.5s`,
/// `1h`, `250us`/`µs`, `ns`. None on anything else. Never panics, saturates on huge values.
///
/// As in Go's `time.ParseDuration`: one or more `number unit` pairs with no spaces, a number
/// being digits with an optional fraction (`5`, `0.5`, `.5`, `5.`), a unit one of `h`, `m`,
/// `s`, `ms`, `us`, `µs` (micro sign) or `μs` (Greek mu), `ns`; and a bare `0`. Unlike Go, a
/// sign is refused (a reset is never negative), and a value past `Duration::MAX` saturates
/// instead of failing.
pub fn go_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    if text.is_empty() {
        return None;
    }
    let (mut rest, mut nanos) = (text, 0u128);
    while !rest.is_empty() {
        let (part, tail) = duration_part(rest)?;
        nanos = nanos.saturating_add(part);
        rest = tail;
    }
    Some(nanos_to_duration(nanos))
}

/// One `number unit` pair at the start of `text`, in nanoseconds (saturating), and the rest.
fn duration_part(text: &str) -> Option<(u128, &str)> {
    let (whole, rest) = leading_digits(text);
    let (fraction, rest) = match rest.strip_prefix('.') {
        Some(after_dot) => leading_digits(after_dot),
        None => ("", rest),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
    let (unit, rest) = rest.split_at(unit_len);
    let unit_nanos = unit_nanos(unit)?;
    let whole_nanos = decimal(whole).saturating_mul(unit_nanos);
    Some((whole_nanos.saturating_add(fraction_nanos(fraction, unit_nanos)), rest))
}

/// The ASCII digits `text` starts with, and what follows them.
fn leading_digits(text: &str) -> (&str, &str) {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    text.split_at(end)
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Digits as a number, saturating (a duration that large saturates anyway).
fn decimal(digits: &str) -> u128 {
    digits.bytes().fold(0u128, |n, b| n.saturating_mul(10).saturating_add(u128::from(b - b'0')))
}

/// `0.fraction` of a unit, in nanoseconds (rounded down). Only the first 19 digits count: past
/// them a digit is worth less than a nanosecond of even an hour, and 10^19 still fits in u64.
fn fraction_nanos(fraction: &str, unit_nanos: u128) -> u128 {
    let significant = fraction.get(..fraction.len().min(19)).unwrap_or("");
    let scale = 10u128.pow(u32::try_from(significant.len()).unwrap_or(0));
    decimal(significant) * unit_nanos / scale
}

fn nanos_to_duration(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    match u64::try_from(nanos / NANOS_PER_SEC) {
        // The remainder is below 10^9, so it fits in u32.
        Ok(secs) => Duration::new(secs, u32::try_from(nanos % NANOS_PER_SEC).unwrap_or(0)),
        Err(_) => Duration::MAX,
    }
}

impl Headroom {
    /// Until when this target should be skipped for a request estimated at `tokens`:
    /// `Some(reset_at_ms)` when remaining requests are 0, or remaining tokens < `tokens`, and that
    /// reset is still in the future; else None. (Stale hints — reset already past — never
    /// block.) When both block, the later reset.
    pub fn blocks(&self, now_ms: u64, tokens: u64) -> Option<u64> {
        let live = |quota: &Quota| quota.reset_at_ms > now_ms;
        let requests = self.requests.filter(|q| q.remaining == 0 && live(q)).map(|q| q.reset_at_ms);
        let tokens = self.tokens.filter(|q| q.remaining < tokens && live(q)).map(|q| q.reset_at_ms);
        // `None` orders below every `Some`, so this is the later of the blocking resets.
        requests.max(tokens)
    }

    /// [`Headroom::blocks`] with the request's token estimate made only when a token quota
    /// is known (the estimate walks the whole prompt).
    pub fn blocks_with(&self, now_ms: u64, tokens: impl FnOnce() -> u64) -> Option<u64> {
        let tokens = if self.tokens.is_some() { tokens() } else { 0 };
        self.blocks(now_ms, tokens)
    }

    /// Newer answer's hints over older ones, per quota (a quota the newer answer did not report
    /// keeps the old one unless it is stale at `now_ms`).
    pub fn update(&mut self, newer: Headroom, now_ms: u64) {
        let keep = |old: Option<Quota>| old.filter(|q| q.reset_at_ms > now_ms);
        self.requests = newer.requests.or(keep(self.requests));
        self.tokens = newer.tokens.or(keep(self.tokens));
    }
}

/// The request's token estimate for headroom and limits: prompt characters / 4 (all string
/// content in `messages[*].content` — strings or arrays of parts with `text` — plus `prompt`
/// (string or array of strings) and `input` for embeddings, plus `system` if present), plus
/// `max_tokens` or `max_completion_tokens` when present, else `default_output`. Saturating,
/// never panics.
///
/// Characters are Unicode scalar values, and the division rounds down. When both `max_tokens`
/// and `max_completion_tokens` are present the larger counts (the estimate should not be the
/// smaller of two limits the request states); either must be a non-negative integer to count.
/// Token-id prompts (arrays of numbers) add nothing: only text is counted.
pub fn estimate_tokens(body: &Map<String, Value>, default_output: u64) -> u64 {
    let (prompt, output) = estimate_parts(body, default_output);
    prompt.saturating_add(output)
}

/// Output tokens assumed for a request that does not say how many it wants.
pub const DEFAULT_OUTPUT_TOKENS: u64 = 256;

/// [`estimate_tokens`] in its two parts, prompt and output (a limit prices them apart).
pub fn estimate_parts(body: &Map<String, Value>, default_output: u64) -> (u64, u64) {
    let messages = body.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let content = messages.iter().map(|message| message.get("content").map_or(0, content_chars));
    let others = ["prompt", "input", "system"].map(|field| body.get(field).map_or(0, content_chars));
    let chars = content.chain(others).fold(0u64, u64::saturating_add);
    let output = ["max_tokens", "max_completion_tokens"].iter().filter_map(|field| body.get(*field)?.as_u64()).max();
    (chars / 4, output.unwrap_or(default_output))
}

/// The characters of a content value: a string, or an array of strings and of parts with a
/// string `text`.
fn content_chars(value: &Value) -> u64 {
    match value {
        Value::String(text) => text_chars(text),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => text_chars(text),
                part => part.get("text").and_then(Value::as_str).map_or(0, text_chars),
            })
            .fold(0, u64::saturating_add),
        _ => 0,
    }
}

fn text_chars(text: &str) -> u64 {
    u64::try_from(text.chars().count()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
