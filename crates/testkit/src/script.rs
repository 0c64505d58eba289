//! The mock's script: how the next requests should misbehave (fail with a status, wait, hang, pace or cut a
//! stream). It owns parsing the `POST /_script` body and deciding, one request at a time, what that request gets.
//! It does no I/O: the HTTP layer applies the [`Turn`] it hands out.

use serde_json::{Map, Value};

/// How the mock misbehaves. The default is a well-behaved provider.
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// Fail with this status…
    pub status: Option<u16>,
    /// …for this many requests (-1: forever); then answer normally.
    pub count: i64,
    /// `Retry-After` seconds on scripted failures.
    pub retry_after: Option<u64>,
    /// Delay before answering (every request).
    pub delay_ms: u64,
    /// Never answer (until the client goes away).
    pub hang: bool,
    /// Pause between stream events.
    pub chunk_delay_ms: u64,
    /// Abort the connection mid-stream after N events (no clean end).
    pub cut_after: Option<usize>,
}

/// What one request gets, decided when it arrives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Turn {
    pub failure: Option<u16>,
    pub retry_after: Option<u64>,
    pub delay_ms: u64,
    pub hang: bool,
    pub pacing: Pacing,
}

/// How a stream answer is paced and whether it is cut.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pacing {
    pub chunk_delay_ms: u64,
    pub cut_after: Option<usize>,
}

const FIELDS: [&str; 7] = ["status", "count", "retry_after", "delay_ms", "hang", "chunk_delay_ms", "cut_after"];

impl Script {
    /// Parses the JSON body of `POST /_script`. Unknown fields are rejected so a typo in a test fails loudly.
    /// When `status` is given without `count`, the failure lasts forever (`count: -1`), as in the bench mock.
    pub fn from_json(value: &Value) -> Result<Script, String> {
        let obj = value.as_object().ok_or("the script must be a JSON object")?;
        if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!("unknown script field `{unknown}`; known: {FIELDS:?}"));
        }
        let status = opt_u64(obj, "status")?.map(to_status).transpose()?;
        let default_count = if status.is_some() { -1 } else { 0 };
        Ok(Script {
            status,
            count: opt_i64(obj, "count")?.unwrap_or(default_count),
            retry_after: opt_u64(obj, "retry_after")?,
            delay_ms: opt_u64(obj, "delay_ms")?.unwrap_or(0),
            hang: opt_bool(obj, "hang")?.unwrap_or(false),
            chunk_delay_ms: opt_u64(obj, "chunk_delay_ms")?.unwrap_or(0),
            cut_after: opt_u64(obj, "cut_after")?.map(to_usize).transpose()?,
        })
    }

    /// Hands out what the next request gets and uses up one scripted failure.
    pub(crate) fn take_turn(&mut self) -> Turn {
        let failure = match self.status {
            Some(status) if self.count != 0 => {
                if self.count > 0 {
                    self.count -= 1;
                }
                Some(status)
            }
            _ => None,
        };
        Turn {
            failure,
            retry_after: self.retry_after,
            delay_ms: self.delay_ms,
            hang: self.hang,
            pacing: Pacing { chunk_delay_ms: self.chunk_delay_ms, cut_after: self.cut_after },
        }
    }
}

fn present<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn opt_u64(obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    present(obj, key).map(|v| v.as_u64().ok_or(format!("`{key}` must be a non-negative integer"))).transpose()
}

fn opt_i64(obj: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    present(obj, key).map(|v| v.as_i64().ok_or(format!("`{key}` must be an integer"))).transpose()
}

fn opt_bool(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    present(obj, key).map(|v| v.as_bool().ok_or(format!("`{key}` must be a boolean"))).transpose()
}

fn to_status(n: u64) -> Result<u16, String> {
    u16::try_from(n)
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or(format!("`status` must be an HTTP status (100-599), got {n}"))
}

fn to_usize(n: u64) -> Result<usize, String> {
    usize::try_from(n).map_err(|_| format!("`cut_after` is too large: {n}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_without_count_fails_forever() {
        let script = Script::from_json(&json!({"status": 503})).ok();
        assert_eq!(script.map(|s| s.count), Some(-1));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(Script::from_json(&json!({"stauts": 503})).is_err());
        assert!(Script::from_json(&json!({"status": 99})).is_err());
    }

    #[test]
    fn count_is_used_up_then_answers_normally() {
        let mut script = Script { status: Some(429), count: 2, ..Script::default() };
        let failures: Vec<_> = (0..4).map(|_| script.take_turn().failure).collect();
        assert_eq!(failures, vec![Some(429), Some(429), None, None]);
    }

    #[test]
    fn negative_count_never_runs_out() {
        let mut script = Script { status: Some(503), count: -1, ..Script::default() };
        assert!((0..10).all(|_| script.take_turn().failure == Some(503)));
    }
}
