//! Validation: turns the raw JSON of a Portkey-shaped config into a [`RouteTree`].
//!
//! It walks the JSON by hand instead of deriving serde types so that one pass reports *every*
//! problem, each at its path (`config.targets[1].weight: …`), in words a user can act on:
//! typos get a suggestion, camelCase gets the snake_case spelling, Portkey features that
//! Switchboard lacks are refused by name rather than ignored. Inheritance down the tree is
//! resolved here, once, so each [`Leaf`] is complete. Errors never echo a credential.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::conditional::{parse_conditions, resolve_target, Condition};
use super::model::{Child, Group, Leaf, Mode, Node, Retry, RouteTree, DEFAULT_RETRY_STATUS, MAX_RETRY_ATTEMPTS};
use crate::health::breaker::CbConfig;
use crate::merge::deep_merge;
use crate::pricing::Price;
use crate::problem::{check_keys, got, kind, snake_case, unknown_key, Problem, Problems};
use crate::provider::{check_options, custom_host_url, provider_spec, CheckedOptions, Elsewhere, OPTION_KEYS};
use crate::secret::Secret;

use crate::problem::join;

/// Path of the config's root in every error.
const ROOT: &str = "config";

/// Keys of a target that calls a provider, besides its provider options.
const TARGET_KEYS: [&str; 11] = [
    "provider",
    "api_key",
    "virtual_key",
    "override_params",
    "weight",
    "name",
    "retry",
    "request_timeout",
    "stream_idle_timeout",
    "forward_headers",
    "pricing",
];

/// Keys of a target: its own, then the provider options ([`OPTION_KEYS`], `custom_host` first).
const LEAF_KEYS: [&str; TARGET_KEYS.len() + OPTION_KEYS.len()] = concat(TARGET_KEYS, OPTION_KEYS);

const fn concat<const A: usize, const B: usize, const C: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; C] {
    let mut out = [""; C];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < C {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

/// Keys of a group (a node with `targets`).
const GROUP_KEYS: [&str; 10] = [
    "strategy",
    "targets",
    "weight",
    "name",
    "retry",
    "request_timeout",
    "stream_idle_timeout",
    "custom_host",
    "forward_headers",
    "override_params",
];

const CREDENTIAL_KEYS: [&str; 3] = ["provider", "api_key", "virtual_key"];
const STRATEGY_KEYS: [&str; 7] =
    ["mode", "on_status_codes", "conditions", "default", "cb_config", "hash_key", "on_all_unavailable"];
const RETRY_KEYS: [&str; 3] = ["attempts", "on_status_codes", "use_retry_after_header"];
const MODES: &str = "single, loadbalance, fallback, conditional";
/// A strategy, as shown in error messages.
const EXAMPLE: &str = r#"{"mode": "fallback"}"#;

/// Portkey keys Switchboard does not implement: refused by name, never silently ignored.
const UNSUPPORTED: [(&str, &str); 10] = [
    ("cache", "Portkey's cache"),
    ("input_guardrails", "Portkey's guardrails"),
    ("output_guardrails", "Portkey's guardrails"),
    ("default_input_guardrails", "Portkey's guardrails"),
    ("default_output_guardrails", "Portkey's guardrails"),
    ("before_request_hooks", "Portkey's hooks"),
    ("after_request_hooks", "Portkey's hooks"),
    ("hooks", "Portkey's hooks"),
    ("strict_open_ai_compliance", "Portkey's strict OpenAI compliance switch"),
    ("azure_model_name", "Portkey's Azure model name for pricing"),
];

/// Parses the text of an `x-portkey-config` header or a saved config.
pub fn parse_config(text: &str) -> Result<RouteTree, Problems> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Problems(vec![Problem { path: ROOT.into(), message: format!("invalid JSON: {e}") }]))?;
    validate_config(&value)
}

/// Validates a parsed config, reporting every problem with its path rooted at `config`.
pub fn validate_config(value: &Value) -> Result<RouteTree, Problems> {
    let mut errs = Problems::default();
    let root = child(value, ROOT, &Inherited::default(), &mut errs);
    match root {
        Some(root) if errs.0.is_empty() => Ok(RouteTree { root: root.node }),
        _ => Err(errs),
    }
}

/// Settings a node passes down to the targets below it.
#[derive(Debug, Clone, Default)]
struct Inherited {
    retry: Option<Retry>,
    request_timeout_ms: Option<u64>,
    stream_idle_timeout_ms: Option<u64>,
    /// The URL, and the path of the `custom_host` key that set it.
    custom_host: Option<(String, String)>,
    forward_headers: Option<Vec<String>>,
    override_params: Map<String, Value>,
    /// The nearest enclosing strategy's `cb_config`.
    breaker: Option<Arc<CbConfig>>,
}

/// A target of a group (or the root): a leaf, or a group if it has `targets`/`strategy`.
/// The root's `weight` and `name` are checked like any target's, then unused.
fn child(value: &Value, path: &str, parent: &Inherited, errs: &mut Problems) -> Option<Child> {
    let Some(obj) = value.as_object() else {
        let hint = "a target, or a group with \"strategy\" and \"targets\"";
        errs.push(path, format!("expected an object ({hint}), got {}", got(value)));
        return None;
    };
    let is_group = obj.contains_key("targets") || obj.contains_key("strategy");
    check_node_keys(obj, path, is_group, errs);
    let weight = field(obj, path, "weight", errs, weight).unwrap_or(1.0);
    let name = field(obj, path, "name", errs, text);
    let inherited = inherit(obj, path, parent, errs);
    let node = if is_group {
        group(obj, path, &inherited, errs).map(|g| Node::Group(Box::new(g)))
    } else {
        Some(Node::Leaf(Box::new(leaf(obj, path, inherited, errs))))
    };
    Some(Child { node: node?, weight, name })
}

/// Nearest ancestor-or-self wins, except `override_params`: deep-merged, child wins.
fn inherit(obj: &Map<String, Value>, path: &str, parent: &Inherited, errs: &mut Problems) -> Inherited {
    let mut override_params = parent.override_params.clone();
    if let Some(own) = field(obj, path, "override_params", errs, object) {
        deep_merge(&mut override_params, own);
    }
    let headers = obj.get("forward_headers");
    Inherited {
        retry: obj.get("retry").and_then(|v| retry(v, &join(path, "retry"), errs)),
        request_timeout_ms: field(obj, path, "request_timeout", errs, timeout_ms),
        stream_idle_timeout_ms: field(obj, path, "stream_idle_timeout", errs, timeout_ms),
        custom_host: field(obj, path, "custom_host", errs, custom_host_url)
            .map(|host| (host, join(path, "custom_host"))),
        forward_headers: headers.and_then(|v| forward_headers(v, &join(path, "forward_headers"), errs)),
        override_params,
        breaker: None,
    }
    .or(parent)
}

impl Inherited {
    fn or(self, parent: &Inherited) -> Inherited {
        Inherited {
            retry: self.retry.or_else(|| parent.retry.clone()),
            request_timeout_ms: self.request_timeout_ms.or(parent.request_timeout_ms),
            stream_idle_timeout_ms: self.stream_idle_timeout_ms.or(parent.stream_idle_timeout_ms),
            custom_host: self.custom_host.or_else(|| parent.custom_host.clone()),
            forward_headers: self.forward_headers.or_else(|| parent.forward_headers.clone()),
            override_params: self.override_params,
            breaker: self.breaker.or_else(|| parent.breaker.clone()),
        }
    }
}

fn leaf(obj: &Map<String, Value>, path: &str, inherited: Inherited, errs: &mut Problems) -> Leaf {
    let provider = field(obj, path, "provider", errs, provider_id);
    if !obj.contains_key("provider") && !obj.contains_key("virtual_key") {
        errs.push(path, "a target needs \"provider\" or \"virtual_key\"");
    }
    let options = provider_options(obj, path, provider.as_deref(), inherited.custom_host.is_some(), errs);
    let (custom_host, custom_host_at) = inherited.custom_host.unzip();
    Leaf {
        path: path.to_string(),
        provider,
        api_key: field(obj, path, "api_key", errs, secret).map(Secret::from),
        virtual_key: field(obj, path, "virtual_key", errs, secret),
        custom_host,
        custom_host_at,
        override_params: inherited.override_params,
        retry: inherited.retry.unwrap_or_default(),
        request_timeout_ms: inherited.request_timeout_ms,
        stream_idle_timeout_ms: inherited.stream_idle_timeout_ms,
        forward_headers: inherited.forward_headers.unwrap_or_default(),
        options: options.call_options(),
        pricing: field(obj, path, "pricing", errs, pricing),
        breaker: inherited.breaker,
    }
}

/// `{"input": USD per 1M, "output": …, "cached_input"?: …, "cache_write"?: …}`.
fn pricing(value: &Value) -> Result<Price, String> {
    let example = r#"{"input": 2.5, "output": 10}"#;
    let obj = value.as_object().ok_or_else(|| format!("expected an object like {example}, got {}", got(value)))?;
    if let Some(key) = obj.keys().find(|k| !["input", "output", "cached_input", "cache_write"].contains(&k.as_str())) {
        return Err(format!(
            "unknown price \"{key}\" (expected input, output, cached_input, cache_write: USD per 1M tokens)"
        ));
    }
    let price = |key: &str| obj.get(key).map(|v| v.as_f64().filter(|p| p.is_finite() && *p >= 0.0));
    let bad = |key: &str| format!("{key}: expected a price ≥ 0 in USD per 1M tokens");
    let required = |key: &str| price(key).flatten().ok_or_else(|| bad(key));
    let optional = |key: &str| match price(key) {
        None => Ok(None),
        Some(Some(p)) => Ok(Some(p)),
        Some(None) => Err(bad(key)),
    };
    Ok(Price {
        input: required("input")?,
        output: required("output")?,
        cached_input: optional("cached_input")?,
        cache_write: optional("cache_write")?,
    })
}

/// The target's provider options, checked by the one rule set every virtual key also
/// meets. `custom_host` is read with the inherited settings (a group may set it too), so it
/// only counts here as present; a `virtual_key` supplies whatever else is missing.
fn provider_options(
    obj: &Map<String, Value>,
    path: &str,
    provider: Option<&str>,
    has_host: bool,
    errs: &mut Problems,
) -> CheckedOptions {
    let own = |key: &String| OPTION_KEYS.contains(&key.as_str()) && key != "custom_host";
    let options: Map<String, Value> = obj.iter().filter(|(k, _)| own(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let elsewhere = Elsewhere { custom_host: has_host, virtual_key: obj.contains_key("virtual_key") };
    check_options(provider, &options, path, elsewhere).unwrap_or_else(|found| {
        errs.extend(found);
        CheckedOptions::default()
    })
}

fn group(obj: &Map<String, Value>, path: &str, inherited: &Inherited, errs: &mut Problems) -> Option<Group> {
    let names = target_names(obj);
    let strategy = strategy(obj, path, &names, errs);
    let breaker = strategy.as_ref().and_then(|s| s.resilience.cb_config.clone());
    let below = Inherited { breaker: breaker.or_else(|| inherited.breaker.clone()), ..inherited.clone() };
    let targets = targets(obj, path, &below, errs);
    let (strategy, targets) = (strategy?, targets?);
    let mode = strategy.mode?;
    if mode == Mode::Loadbalance && targets.iter().all(|t| t.weight == 0.0) {
        errs.push(join(path, "targets"), "every target has weight 0: nothing can be picked");
    }
    Some(Group {
        path: path.to_string(),
        mode,
        targets,
        on_status_codes: strategy.on_status_codes,
        conditions: strategy.conditions,
        default: strategy.default,
        hash_key: strategy.resilience.hash_key,
        fail_when_all_unavailable: strategy.resilience.fail_when_all_unavailable.unwrap_or(false),
    })
}

fn targets(obj: &Map<String, Value>, path: &str, inherited: &Inherited, errs: &mut Problems) -> Option<Vec<Child>> {
    let path = join(path, "targets");
    let items = match obj.get("targets") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(other) => {
            return push_none(errs, &path, format!("expected a non-empty array of targets, got {}", got(other)))
        }
        None => return push_none(errs, &path, "required next to \"strategy\" (a non-empty array of targets)"),
    };
    let children: Vec<Option<Child>> =
        items.iter().enumerate().map(|(i, t)| child(t, &format!("{path}[{i}]"), inherited, errs)).collect();
    children.into_iter().collect()
}

/// The raw `name` of each target, read before the targets are validated so that conditions
/// can be checked even when a target has other problems.
fn target_names(obj: &Map<String, Value>) -> Vec<Option<String>> {
    let targets = obj.get("targets").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    targets.iter().map(|t| t.get("name").and_then(Value::as_str).map(str::to_string)).collect()
}

/// The checked `strategy` of a group.
struct Strategy {
    mode: Option<Mode>,
    on_status_codes: Option<Vec<u16>>,
    conditions: Vec<Condition>,
    default: Option<usize>,
    resilience: resilience::Resilience,
}

fn strategy(
    obj: &Map<String, Value>,
    group_path: &str,
    names: &[Option<String>],
    errs: &mut Problems,
) -> Option<Strategy> {
    let path = join(group_path, "strategy");
    let s = match obj.get("strategy") {
        Some(Value::Object(s)) => s,
        Some(other) => {
            return push_none(errs, &path, format!("expected an object such as {EXAMPLE}, got {}", got(other)))
        }
        None => return push_none(errs, &path, format!("required next to \"targets\" (e.g. {EXAMPLE})")),
    };
    check_keys(s, &path, &STRATEGY_KEYS, errs);
    let mode = mode(s.get("mode"), &join(&path, "mode"), errs);
    let on_status_codes = s.get("on_status_codes").and_then(|v| status_codes(v, &join(&path, "on_status_codes"), errs));
    let resilience = resilience::read(s, &path, errs);
    if resilience.fail_when_all_unavailable.is_some() && group_path != ROOT {
        errs.push(join(&path, "on_all_unavailable"), "only allowed in the config's top-level strategy");
    }
    let mut strategy = Strategy { mode, on_status_codes, conditions: Vec::new(), default: None, resilience };
    if let Some(mode) = mode {
        mode_rules(mode, s, &path, errs);
    }
    // With an unknown mode the conditions are still checked, so their errors are not lost.
    if mode.is_none_or(|m| m == Mode::Conditional) {
        unique_names(names, group_path, errs);
        (strategy.conditions, strategy.default) = routes(s, &path, names, errs);
    }
    Some(strategy)
}

/// `conditions` and `default` of a conditional strategy, resolved against target names.
fn routes(
    strategy: &Map<String, Value>,
    path: &str,
    names: &[Option<String>],
    errs: &mut Problems,
) -> (Vec<Condition>, Option<usize>) {
    let conditions = strategy.get("conditions").map(|v| parse_conditions(v, &join(path, "conditions"), names, errs));
    let default = strategy.get("default").and_then(|v| resolve_target(v, &join(path, "default"), names, errs));
    (conditions.unwrap_or_default(), default)
}

fn mode(value: Option<&Value>, path: &str, errs: &mut Problems) -> Option<Mode> {
    let found = match value {
        None => return push_none(errs, path, format!("required (expected {MODES})")),
        Some(Value::String(s)) => s,
        Some(other) => return push_none(errs, path, format!("expected one of {MODES}, got {}", got(other))),
    };
    let mode =
        [Mode::Single, Mode::Loadbalance, Mode::Fallback, Mode::Conditional].into_iter().find(|m| m.as_str() == found);
    if mode.is_none() {
        errs.push(path, format!("unknown mode \"{found}\" (expected {MODES})"));
    }
    mode
}

/// Strategy keys that only one mode uses are refused elsewhere rather than ignored.
fn mode_rules(mode: Mode, strategy: &Map<String, Value>, path: &str, errs: &mut Problems) {
    let this = mode.as_str();
    let owned = [
        ("conditions", Mode::Conditional),
        ("default", Mode::Conditional),
        ("on_status_codes", Mode::Fallback),
        ("hash_key", Mode::Loadbalance),
    ];
    for (key, owner) in owned.into_iter().filter(|(k, o)| *o != mode && strategy.contains_key(*k)) {
        let message = format!("only used by mode \"{}\" (this group's mode is \"{this}\")", owner.as_str());
        errs.push(join(path, key), message);
    }
    if mode == Mode::Conditional && !strategy.contains_key("conditions") {
        errs.push(
            join(path, "conditions"),
            "required for mode \"conditional\" (a non-empty array of {\"query\", \"then\"})",
        );
    }
}

/// Conditions route by name, so a name may be used once per group.
fn unique_names(names: &[Option<String>], group_path: &str, errs: &mut Problems) {
    for (i, name) in names.iter().enumerate() {
        let Some(name) = name else { continue };
        if let Some(first) = names[..i].iter().position(|n| n.as_deref() == Some(name)) {
            let message = format!("\"{name}\" is already the name of {group_path}.targets[{first}]");
            errs.push(format!("{group_path}.targets[{i}].name"), message);
        }
    }
}

fn retry(value: &Value, path: &str, errs: &mut Problems) -> Option<Retry> {
    let Some(obj) = value.as_object() else {
        return push_none(errs, path, format!("expected an object such as {{\"attempts\": 3}}, got {}", got(value)));
    };
    check_keys(obj, path, &RETRY_KEYS, errs);
    let attempts = match obj.get("attempts") {
        Some(v) => check(v, &join(path, "attempts"), errs, attempts),
        None => {
            push_none(errs, join(path, "attempts"), format!("required (an integer from 0 to {MAX_RETRY_ATTEMPTS})"))
        }
    };
    let codes = obj.get("on_status_codes").map(|v| status_codes(v, &join(path, "on_status_codes"), errs));
    let use_retry_after_header = field(obj, path, "use_retry_after_header", errs, boolean).unwrap_or(false);
    let on_status_codes = codes.unwrap_or_else(|| Some(DEFAULT_RETRY_STATUS.to_vec()))?;
    Some(Retry { attempts: attempts?, on_status_codes, use_retry_after_header })
}

fn status_codes(value: &Value, path: &str, errs: &mut Problems) -> Option<Vec<u16>> {
    if value.as_array().is_some_and(Vec::is_empty) {
        return push_none(errs, path, "expected a non-empty array of HTTP status codes, got []");
    }
    list(value, path, "HTTP status codes", errs, status_code)
}

fn forward_headers(value: &Value, path: &str, errs: &mut Problems) -> Option<Vec<String>> {
    list(value, path, "header names", errs, header_name)
}

/// Checks each key of a node: unsupported Portkey features, credentials or provider options
/// on a group, then typos and camelCase.
fn check_node_keys(obj: &Map<String, Value>, path: &str, is_group: bool, errs: &mut Problems) {
    let allowed: &[&str] = if is_group { &GROUP_KEYS } else { &LEAF_KEYS };
    for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errs.push(join(path, key), node_key_problem(key, allowed, is_group));
    }
}

fn node_key_problem(key: &str, allowed: &[&str], is_group: bool) -> String {
    let snake = snake_case(key);
    if let Some((_, feature)) = UNSUPPORTED.iter().find(|(k, _)| *k == snake) {
        return format!("not supported by Switchboard yet ({feature}); remove it");
    }
    if is_group && CREDENTIAL_KEYS.contains(&snake.as_str()) {
        return "credentials belong on a target, not on a group with targets".to_string();
    }
    if is_group && LEAF_KEYS.contains(&snake.as_str()) {
        return "provider options belong on a target, not on a group with targets".to_string();
    }
    let candidates: Vec<&str> = LEAF_KEYS.iter().chain(&GROUP_KEYS[..2]).copied().collect();
    unknown_key(key, allowed, &candidates)
}

// ---- reading values: each parser names the type it expected ----

/// Runs `parse` on a value, recording its complaint at `path`.
fn check<'a, T>(
    value: &'a Value,
    path: &str,
    errs: &mut Problems,
    parse: impl FnOnce(&'a Value) -> Result<T, String>,
) -> Option<T> {
    parse(value).map_err(|message| errs.push(path, message)).ok()
}

/// An optional key of `obj`, parsed.
fn field<'a, T>(
    obj: &'a Map<String, Value>,
    path: &str,
    key: &str,
    errs: &mut Problems,
    parse: impl FnOnce(&'a Value) -> Result<T, String>,
) -> Option<T> {
    check(obj.get(key)?, &join(path, key), errs, parse)
}

/// An array whose items are each parsed, with errors at `path[i]`.
fn list<T>(
    value: &Value,
    path: &str,
    what: &str,
    errs: &mut Problems,
    parse: impl Fn(&Value) -> Result<T, String>,
) -> Option<Vec<T>> {
    let Some(items) = value.as_array() else {
        return push_none(errs, path, format!("expected an array of {what}, got {}", got(value)));
    };
    let parsed: Vec<Option<T>> =
        items.iter().enumerate().map(|(i, v)| check(v, &format!("{path}[{i}]"), errs, &parse)).collect();
    parsed.into_iter().collect()
}

fn push_none<T>(errs: &mut Problems, path: impl Into<String>, message: impl Into<String>) -> Option<T> {
    errs.push(path, message);
    None
}

fn text(value: &Value) -> Result<String, String> {
    match value.as_str() {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(format!("expected a non-empty string, got {}", got(value))),
    }
}

/// Like [`text`], but a complaint names only the kind of value, never the value.
fn secret(value: &Value) -> Result<String, String> {
    match value.as_str() {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(format!("expected a non-empty string, got {}", kind(value))),
    }
}

fn provider_id(value: &Value) -> Result<String, String> {
    let id = text(value)?;
    provider_spec(&id).map(|_| id)
}

fn weight(value: &Value) -> Result<f64, String> {
    let weight = value.as_f64().filter(|w| w.is_finite() && *w >= 0.0);
    weight.ok_or_else(|| format!("expected a number ≥ 0, got {}", got(value)))
}

fn timeout_ms(value: &Value) -> Result<u64, String> {
    let ms = value.as_u64().filter(|ms| *ms > 0);
    ms.ok_or_else(|| format!("expected a positive integer (milliseconds), got {}", got(value)))
}

fn attempts(value: &Value) -> Result<u32, String> {
    let n = value.as_u64().filter(|n| *n <= u64::from(MAX_RETRY_ATTEMPTS));
    let n = n.and_then(|n| u32::try_from(n).ok());
    n.ok_or_else(|| format!("expected an integer from 0 to {MAX_RETRY_ATTEMPTS}, got {}", got(value)))
}

fn status_code(value: &Value) -> Result<u16, String> {
    let code = value.as_u64().filter(|c| (100..=599).contains(c)).and_then(|c| u16::try_from(c).ok());
    code.ok_or_else(|| format!("expected an HTTP status code from 100 to 599, got {}", got(value)))
}

fn boolean(value: &Value) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| format!("expected true or false, got {}", got(value)))
}

fn object(value: &Value) -> Result<&Map<String, Value>, String> {
    value.as_object().ok_or_else(|| format!("expected an object, got {}", got(value)))
}

/// An HTTP header name (RFC 9110 token).
fn header_name(value: &Value) -> Result<String, String> {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    match value.as_str() {
        Some(s) if !s.is_empty() && s.chars().all(is_token_char) => Ok(s.to_string()),
        _ => Err(format!("expected an HTTP header name, got {}", got(value))),
    }
}

mod resilience;
#[cfg(test)]
mod tests;
