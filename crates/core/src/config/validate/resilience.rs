//! The resilience keys of a strategy: `cb_config` (Portkey's circuit-breaker fields, plus
//! Switchboard's rolling `window`), `hash_key` (sticky loadbalance) and `on_all_unavailable`
//! (what to do when every target is open, cooling or limited).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{field, push_none, status_codes};
use crate::config::conditional::{parse_field, Field};
use crate::health::breaker::{CbConfig, DEFAULT_COOLDOWN_MS, DEFAULT_WINDOW_MS};
use crate::problem::{check_keys, got, join, Problems};

const CB_KEYS: [&str; 6] = [
    "failure_threshold",
    "failure_threshold_percentage",
    "minimum_requests",
    "cooldown_interval",
    "failure_status_codes",
    "window",
];

/// The shortest cooldown or window accepted, in milliseconds. Portkey requires a cooldown of
/// 30 s or more; Switchboard allows shorter, down to a second.
const MIN_INTERVAL_MS: u64 = 1_000;

pub(super) fn cb_config(value: &Value, path: &str, errs: &mut Problems) -> Option<Arc<CbConfig>> {
    let example = r#"{"failure_threshold": 5, "cooldown_interval": 30000}"#;
    let Some(obj) = value.as_object() else {
        return push_none(errs, path, format!("expected an object such as {example}, got {}", got(value)));
    };
    check_keys(obj, path, &CB_KEYS, errs);
    let threshold = field(obj, path, "failure_threshold", errs, |v| count(v, 1));
    let percentage = field(obj, path, "failure_threshold_percentage", errs, percentage);
    if !obj.contains_key("failure_threshold") && !obj.contains_key("failure_threshold_percentage") {
        errs.push(path, "needs \"failure_threshold\" (failures) or \"failure_threshold_percentage\" (0–100), or both");
    }
    let minimum_requests = field(obj, path, "minimum_requests", errs, |v| count(v, 1)).unwrap_or(1);
    let cooldown_ms = field(obj, path, "cooldown_interval", errs, interval_ms).unwrap_or(DEFAULT_COOLDOWN_MS);
    let window_ms = field(obj, path, "window", errs, interval_ms).unwrap_or(DEFAULT_WINDOW_MS);
    let codes = obj.get("failure_status_codes").map(|v| status_codes(v, &join(path, "failure_status_codes"), errs));
    Some(Arc::new(CbConfig {
        failure_threshold: threshold,
        failure_threshold_percentage: percentage,
        minimum_requests,
        cooldown_ms,
        failure_status_codes: codes.flatten(),
        window_ms,
    }))
}

/// `metadata.KEY` or `params.PATH`: the request value a sticky loadbalance hashes.
pub(super) fn hash_key(value: &Value, path: &str, errs: &mut Problems) -> Option<Field> {
    match value.as_str() {
        Some(key) => parse_field(key, path, errs),
        None => push_none(errs, path, format!("expected \"metadata.KEY\" or \"params.PATH\", got {}", got(value))),
    }
}

/// `"fail"` → `true` (answer 503 when nothing is available), `"fail_open"` → `false`.
fn on_all_unavailable(value: &Value) -> Result<bool, String> {
    match value.as_str() {
        Some("fail") => Ok(true),
        Some("fail_open") => Ok(false),
        _ => Err(format!(
            "expected \"fail_open\" (try the target available first; the default) or \"fail\" (answer 503), got {}",
            got(value)
        )),
    }
}

/// The strategy keys above, read from `strategy` at `path`.
pub(super) struct Resilience {
    pub cb_config: Option<Arc<CbConfig>>,
    pub hash_key: Option<Field>,
    pub fail_when_all_unavailable: Option<bool>,
}

pub(super) fn read(strategy: &Map<String, Value>, path: &str, errs: &mut Problems) -> Resilience {
    Resilience {
        cb_config: strategy.get("cb_config").and_then(|v| cb_config(v, &join(path, "cb_config"), errs)),
        hash_key: strategy.get("hash_key").and_then(|v| hash_key(v, &join(path, "hash_key"), errs)),
        fail_when_all_unavailable: field(strategy, path, "on_all_unavailable", errs, on_all_unavailable),
    }
}

fn count(value: &Value, min: u64) -> Result<u32, String> {
    let n = value.as_u64().filter(|n| *n >= min).and_then(|n| u32::try_from(n).ok());
    n.ok_or_else(|| format!("expected an integer ≥ {min}, got {}", got(value)))
}

fn percentage(value: &Value) -> Result<f64, String> {
    let pct = value.as_f64().filter(|p| *p > 0.0 && *p <= 100.0);
    pct.ok_or_else(|| format!("expected a percentage above 0 and at most 100, got {}", got(value)))
}

fn interval_ms(value: &Value) -> Result<u64, String> {
    let ms = value.as_u64().filter(|ms| *ms >= MIN_INTERVAL_MS);
    ms.ok_or_else(|| format!("expected milliseconds, at least {MIN_INTERVAL_MS}, got {}", got(value)))
}
