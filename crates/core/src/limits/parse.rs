//! Portkey's limit shapes, read into [`KeyLimits`] with every problem at its path: the one
//! check the admin API (virtual keys, API keys), the CLI and the declarative file all use.
//!
//! `rate_limits: [{type: "requests"|"tokens", unit: "rpm"|"rph"|"rpd", value: integer ≥ 0}]`;
//! `usage_limits: {credit_limit: number > 0, type: "cost"|"tokens" (default "cost"),
//! alert_threshold?: number below credit_limit, periodic_reset?: "monthly"|"weekly",
//! periodic_reset_days?: integer ≥ 1}` (one of the two resets at most). `null` means none.

use serde_json::{Map, Value};

use super::{BudgetKind, KeyLimits, Measure, RateLimit, Reset, Unit, UsageLimit};
use crate::problem::{check_keys, got, join, kind, Problems};

/// The keys a virtual key's stored options hold its limits under, beside its provider options.
pub const LIMIT_KEYS: [&str; 2] = ["rate_limits", "usage_limits"];

/// The limits kept in a key's options (`rate_limits`, `usage_limits`), checked, under `at`.
pub fn from_options(options: &Map<String, Value>, at: &str) -> Result<KeyLimits, Problems> {
    parse_key_limits(options.get("rate_limits"), options.get("usage_limits"), at)
}

const RATE_KEYS: [&str; 3] = ["type", "unit", "value"];
const USAGE_KEYS: [&str; 5] = ["credit_limit", "type", "alert_threshold", "periodic_reset", "periodic_reset_days"];

/// Both limits of a key, under `at` (`virtual_key`, `api_key`; empty for the top level).
pub fn parse_key_limits(rate: Option<&Value>, usage: Option<&Value>, at: &str) -> Result<KeyLimits, Problems> {
    let mut errs = Problems::default();
    let rate = rate.map(|v| parse_rate_limits(v, &join(at, "rate_limits"), &mut errs)).unwrap_or_default();
    let usage = usage.and_then(|v| parse_usage_limits(v, &join(at, "usage_limits"), &mut errs));
    errs.or(KeyLimits { rate, usage })
}

/// `rate_limits` at `path`.
pub fn parse_rate_limits(value: &Value, path: &str, errs: &mut Problems) -> Vec<RateLimit> {
    let items = match value {
        Value::Null => return Vec::new(),
        Value::Array(items) => items,
        other => {
            errs.push(path, format!("expected an array of {{type, unit, value}}, got {}", kind(other)));
            return Vec::new();
        }
    };
    let mut limits: Vec<RateLimit> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let Some(limit) = rate_limit(item, &at, errs) else { continue };
        if limits.iter().any(|l| l.measure == limit.measure && l.unit == limit.unit) {
            let what = format!("{} per {}", limit.measure.as_str(), limit.unit.noun());
            errs.push(at, format!("a second limit on {what}: give each type and unit once"));
            continue;
        }
        limits.push(limit);
    }
    limits
}

fn rate_limit(item: &Value, at: &str, errs: &mut Problems) -> Option<RateLimit> {
    let Value::Object(obj) = item else {
        errs.push(
            at,
            format!(
                "expected an object like {{\"type\": \"requests\", \"unit\": \"rpm\", \"value\": 100}}, got {}",
                kind(item)
            ),
        );
        return None;
    };
    check_keys(obj, at, &RATE_KEYS, errs);
    let measure = choice(obj, at, "type", &[("requests", Measure::Requests), ("tokens", Measure::Tokens)], errs);
    let units = [("rpm", Unit::Rpm), ("rph", Unit::Rph), ("rpd", Unit::Rpd)];
    let unit = choice(obj, at, "unit", &units, errs);
    let value = match obj.get("value") {
        None => required(at, "value", "an integer ≥ 0; 0 disables the key", errs),
        Some(v) => whole(v, &join(at, "value"), 0, errs),
    };
    Some(RateLimit { measure: measure?, unit: unit?, value: value? })
}

/// `usage_limits` at `path`.
pub fn parse_usage_limits(value: &Value, path: &str, errs: &mut Problems) -> Option<UsageLimit> {
    let obj = match value {
        Value::Null => return None,
        Value::Object(obj) => obj,
        other => {
            errs.push(path, format!("expected an object like {{\"credit_limit\": 10}}, got {}", kind(other)));
            return None;
        }
    };
    check_keys(obj, path, &USAGE_KEYS, errs);
    let kind = match obj.get("type") {
        None | Some(Value::Null) => Some(BudgetKind::Cost),
        Some(_) => choice(obj, path, "type", &[("cost", BudgetKind::Cost), ("tokens", BudgetKind::Tokens)], errs),
    };
    let credit_limit = credit_limit(obj, path, kind, errs);
    let alert_threshold = alert_threshold(obj, path, credit_limit, errs);
    let reset = reset(obj, path, errs);
    Some(UsageLimit { kind: kind?, credit_limit: credit_limit?, alert_threshold: alert_threshold?, reset: reset? })
}

fn credit_limit(obj: &Map<String, Value>, path: &str, kind: Option<BudgetKind>, errs: &mut Problems) -> Option<f64> {
    let at = join(path, "credit_limit");
    let Some(value) = obj.get("credit_limit") else {
        return required(path, "credit_limit", "a number > 0: USD, or tokens with \"type\": \"tokens\"", errs);
    };
    let limit = positive(value, &at, errs)?;
    if kind == Some(BudgetKind::Tokens) && limit.fract() != 0.0 {
        errs.push(at, format!("a token budget is a whole number of tokens, got {}", got(value)));
        return None;
    }
    Some(limit)
}

/// `Some(None)` when absent; `None` when wrong.
fn alert_threshold(
    obj: &Map<String, Value>,
    path: &str,
    limit: Option<f64>,
    errs: &mut Problems,
) -> Option<Option<f64>> {
    let at = join(path, "alert_threshold");
    let value = match obj.get("alert_threshold") {
        None | Some(Value::Null) => return Some(None),
        Some(value) => value,
    };
    let Some(threshold) = value.as_f64().filter(|t| t.is_finite() && *t >= 0.0) else {
        errs.push(at, format!("expected a number ≥ 0 (an amount in credit_limit's unit), got {}", got(value)));
        return None;
    };
    match limit {
        Some(limit) if threshold >= limit => {
            errs.push(at, format!("must be below credit_limit ({limit}): it is an amount, not a share"));
            None
        }
        _ => Some(Some(threshold)),
    }
}

fn reset(obj: &Map<String, Value>, path: &str, errs: &mut Problems) -> Option<Reset> {
    let named = match obj.get("periodic_reset") {
        None | Some(Value::Null) => Some(None),
        Some(_) => choice(obj, path, "periodic_reset", &[("monthly", Reset::Monthly), ("weekly", Reset::Weekly)], errs)
            .map(Some),
    };
    let days = match obj.get("periodic_reset_days") {
        None | Some(Value::Null) => Some(None),
        Some(v) => whole(v, &join(path, "periodic_reset_days"), 1, errs)
            .map(|n| Some(Reset::Days(u32::try_from(n).unwrap_or(u32::MAX)))),
    };
    match (named?, days?) {
        (Some(_), Some(_)) => {
            errs.push(join(path, "periodic_reset_days"), "give periodic_reset or periodic_reset_days, not both");
            None
        }
        (named, days) => Some(named.or(days).unwrap_or(Reset::Never)),
    }
}

/// One of a few strings at `obj[key]`.
fn choice<T: Copy>(
    obj: &Map<String, Value>,
    at: &str,
    key: &str,
    options: &[(&str, T)],
    errs: &mut Problems,
) -> Option<T> {
    let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
    let Some(value) = obj.get(key) else {
        return required(at, key, &format!("one of {}", names.join(", ")), errs);
    };
    let found = value.as_str().and_then(|s| options.iter().find(|(name, _)| *name == s));
    if found.is_none() {
        let noun = if key == "type" { "type" } else { key.trim_start_matches("periodic_") };
        let shown = if value.is_string() { got(value) } else { kind(value).to_string() };
        errs.push(join(at, key), format!("unknown {noun} {shown} (expected {})", names.join(", ")));
    }
    found.map(|(_, v)| *v)
}

fn required<T>(at: &str, key: &str, what: &str, errs: &mut Problems) -> Option<T> {
    errs.push(join(at, key), format!("required ({what})"));
    None
}

/// A whole number ≥ `min`.
fn whole(value: &Value, at: &str, min: u64, errs: &mut Problems) -> Option<u64> {
    let n = value.as_u64().or_else(|| value.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64));
    match n.filter(|n| *n >= min) {
        Some(n) => Some(n),
        None => {
            errs.push(at, format!("expected an integer ≥ {min}, got {}", got(value)));
            None
        }
    }
}

fn positive(value: &Value, at: &str, errs: &mut Problems) -> Option<f64> {
    let n = value.as_f64().filter(|f| f.is_finite() && *f > 0.0);
    if n.is_none() {
        errs.push(at, format!("expected a number > 0, got {}", got(value)));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(rate: Value, usage: Value) -> Vec<String> {
        match parse_key_limits(Some(&rate), Some(&usage), "virtual_key") {
            Ok(_) => Vec::new(),
            Err(p) => p.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn portkeys_shapes_read_into_limits() {
        let rate =
            json!([{"type": "requests", "unit": "rpm", "value": 5}, {"type": "tokens", "unit": "rpd", "value": 1000}]);
        let usage = json!({"credit_limit": 10, "alert_threshold": 8, "periodic_reset": "monthly"});
        let limits = parse_key_limits(Some(&rate), Some(&usage), "virtual_key");
        let Ok(limits) = limits else { panic!("{limits:?}") };
        assert_eq!(limits.rate[0], RateLimit { measure: Measure::Requests, unit: Unit::Rpm, value: 5 });
        assert_eq!(limits.rate[1].unit, Unit::Rpd);
        let usage = limits.usage.unwrap_or_else(|| panic!("a budget"));
        assert_eq!((usage.kind, usage.credit_limit, usage.alert_threshold), (BudgetKind::Cost, 10.0, Some(8.0)));
        assert_eq!((usage.reset, usage.limit_units()), (Reset::Monthly, 10_000_000_000));
    }

    #[test]
    fn null_or_absent_limits_are_none() {
        assert_eq!(parse_key_limits(None, Some(&Value::Null), "api_key"), Ok(KeyLimits::default()));
    }

    #[test]
    fn an_unknown_unit_is_named_at_its_path_with_the_known_ones() {
        let rate =
            json!([{"type": "requests", "unit": "rpm", "value": 1}, {"type": "requests", "unit": "rps", "value": 1}]);
        assert_eq!(
            problems(rate, Value::Null),
            ["virtual_key.rate_limits[1].unit: unknown unit \"rps\" (expected rpm, rph, rpd)"]
        );
    }

    #[test]
    fn every_problem_of_a_rate_limit_is_reported() {
        let rate = json!([{"type": "calls", "value": -1, "per": "rpm"}, "rpm", {"type": "tokens", "unit": "rph", "value": 1.5}]);
        let got = problems(rate, Value::Null);
        assert_eq!(
            got,
            [
                "virtual_key.rate_limits[0].per: unknown key (expected one of type, unit, value)",
                "virtual_key.rate_limits[0].type: unknown type \"calls\" (expected requests, tokens)",
                "virtual_key.rate_limits[0].unit: required (one of rpm, rph, rpd)",
                "virtual_key.rate_limits[0].value: expected an integer ≥ 0, got -1",
                "virtual_key.rate_limits[1]: expected an object like {\"type\": \"requests\", \"unit\": \"rpm\", \"value\": 100}, got a string",
                "virtual_key.rate_limits[2].value: expected an integer ≥ 0, got 1.5",
            ]
        );
    }

    #[test]
    fn the_same_type_and_unit_twice_is_refused() {
        let rate =
            json!([{"type": "requests", "unit": "rpm", "value": 1}, {"type": "requests", "unit": "rpm", "value": 2}]);
        assert_eq!(
            problems(rate, Value::Null),
            ["virtual_key.rate_limits[1]: a second limit on requests per minute: give each type and unit once"]
        );
    }

    #[test]
    fn rate_limits_must_be_an_array() {
        assert_eq!(
            problems(json!({"type": "requests"}), Value::Null),
            ["virtual_key.rate_limits: expected an array of {type, unit, value}, got an object"]
        );
    }

    #[test]
    fn a_budget_needs_a_positive_credit_limit_and_a_threshold_below_it() {
        let got = problems(Value::Null, json!({"credit_limit": 0, "alert_threshold": -1, "type": "usd"}));
        assert_eq!(
            got,
            [
                "virtual_key.usage_limits.type: unknown type \"usd\" (expected cost, tokens)",
                "virtual_key.usage_limits.credit_limit: expected a number > 0, got 0",
                "virtual_key.usage_limits.alert_threshold: expected a number ≥ 0 (an amount in credit_limit's unit), got -1",
            ]
        );
        let got = problems(Value::Null, json!({"credit_limit": 10, "alert_threshold": 10}));
        assert_eq!(
            got,
            ["virtual_key.usage_limits.alert_threshold: must be below credit_limit (10): it is an amount, not a share"]
        );
    }

    #[test]
    fn a_budget_resets_one_way_at_most() {
        let got =
            problems(Value::Null, json!({"credit_limit": 1, "periodic_reset": "daily", "periodic_reset_days": 0}));
        assert_eq!(
            got,
            [
                "virtual_key.usage_limits.periodic_reset: unknown reset \"daily\" (expected monthly, weekly)",
                "virtual_key.usage_limits.periodic_reset_days: expected an integer ≥ 1, got 0",
            ]
        );
        let got =
            problems(Value::Null, json!({"credit_limit": 1, "periodic_reset": "weekly", "periodic_reset_days": 7}));
        assert_eq!(
            got,
            ["virtual_key.usage_limits.periodic_reset_days: give periodic_reset or periodic_reset_days, not both"]
        );
        let days = parse_key_limits(None, Some(&json!({"credit_limit": 1, "periodic_reset_days": 3})), "");
        assert_eq!(days.map(|l| l.usage.map(|u| u.reset)), Ok(Some(Reset::Days(3))));
    }

    #[test]
    fn a_token_budget_is_whole_tokens() {
        let got = problems(Value::Null, json!({"credit_limit": 10.5, "type": "tokens"}));
        assert_eq!(
            got,
            ["virtual_key.usage_limits.credit_limit: a token budget is a whole number of tokens, got 10.5"]
        );
    }

    #[test]
    fn a_budget_without_credit_limit_says_what_it_is() {
        assert_eq!(
            problems(Value::Null, json!({})),
            ["virtual_key.usage_limits.credit_limit: required (a number > 0: USD, or tokens with \"type\": \"tokens\")"]
        );
    }
}
