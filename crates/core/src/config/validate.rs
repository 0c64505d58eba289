//! Validation: turns the raw JSON of a Portkey-shaped config into a [`RouteTree`].
//!
//! It walks the JSON by hand instead of deriving serde types so that one pass reports *every*
//! problem, each at its path (`config.targets[1].weight: …`), in words a user can act on:
//! typos get a suggestion, camelCase gets the snake_case spelling, Portkey features that
//! Switchboard lacks are refused by name rather than ignored. Inheritance down the tree is
//! resolved here, once, so each [`Leaf`] is complete. Errors never echo a credential.

use std::fmt;

use serde_json::{Map, Value};

use super::conditional::{parse_conditions, resolve_target, Condition};
use super::model::{
    Child, Group, Leaf, Mode, Node, ProviderOptions, Retry, RouteTree, DEFAULT_RETRY_STATUS, MAX_RETRY_ATTEMPTS,
};
use crate::merge::deep_merge;
use crate::pricing::Price;
use crate::provider::{known_ids, lookup, Family};
use crate::secret::Secret;

/// Path of the config's root in every error.
const ROOT: &str = "config";

/// Keys of a target that calls a provider.
const LEAF_KEYS: [&str; 17] = [
    "provider",
    "api_key",
    "virtual_key",
    "custom_host",
    "override_params",
    "weight",
    "name",
    "retry",
    "request_timeout",
    "stream_idle_timeout",
    "forward_headers",
    "resource_name",
    "deployment_id",
    "api_version",
    "anthropic_version",
    "anthropic_beta",
    "pricing",
];

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
const AZURE_KEYS: [&str; 3] = ["resource_name", "deployment_id", "api_version"];
const ANTHROPIC_KEYS: [&str; 2] = ["anthropic_version", "anthropic_beta"];
const STRATEGY_KEYS: [&str; 4] = ["mode", "on_status_codes", "conditions", "default"];
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

/// Longest excerpt of a bad value quoted back in an error.
const QUOTE_MAX_CHARS: usize = 40;

/// One problem in a config, at its JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a config, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub(super) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let (path, message) = (path.into(), message.into());
        self.0.push(ConfigError { path, message });
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self.0.iter().map(ConfigError::to_string).collect();
        f.write_str(&all.join("; "))
    }
}

impl std::error::Error for ConfigErrors {}

/// Parses the text of an `x-portkey-config` header or a saved config.
pub fn parse_config(text: &str) -> Result<RouteTree, ConfigErrors> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ConfigErrors(vec![ConfigError { path: ROOT.into(), message: format!("invalid JSON: {e}") }]))?;
    validate_config(&value)
}

/// Validates a parsed config, reporting every problem with its path rooted at `config`.
pub fn validate_config(value: &Value) -> Result<RouteTree, ConfigErrors> {
    let mut errs = ConfigErrors(Vec::new());
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
}

/// A target of a group (or the root): a leaf, or a group if it has `targets`/`strategy`.
/// The root's `weight` and `name` are checked like any target's, then unused.
fn child(value: &Value, path: &str, parent: &Inherited, errs: &mut ConfigErrors) -> Option<Child> {
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
fn inherit(obj: &Map<String, Value>, path: &str, parent: &Inherited, errs: &mut ConfigErrors) -> Inherited {
    let mut override_params = parent.override_params.clone();
    if let Some(own) = field(obj, path, "override_params", errs, object) {
        deep_merge(&mut override_params, own);
    }
    let headers = obj.get("forward_headers");
    Inherited {
        retry: obj.get("retry").and_then(|v| retry(v, &join(path, "retry"), errs)),
        request_timeout_ms: field(obj, path, "request_timeout", errs, timeout_ms),
        stream_idle_timeout_ms: field(obj, path, "stream_idle_timeout", errs, timeout_ms),
        custom_host: field(obj, path, "custom_host", errs, url).map(|host| (host, join(path, "custom_host"))),
        forward_headers: headers.and_then(|v| forward_headers(v, &join(path, "forward_headers"), errs)),
        override_params,
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
        }
    }
}

fn leaf(obj: &Map<String, Value>, path: &str, inherited: Inherited, errs: &mut ConfigErrors) -> Leaf {
    let provider = field(obj, path, "provider", errs, provider_id);
    if !obj.contains_key("provider") && !obj.contains_key("virtual_key") {
        errs.push(path, "a target needs \"provider\" or \"virtual_key\"");
    }
    let family = provider.as_deref().and_then(lookup).map(|spec| spec.family);
    if let Some(family) = family {
        option_rules(obj, path, family, inherited.custom_host.is_some(), errs);
    }
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
        options: provider_options(obj, path, errs),
        pricing: field(obj, path, "pricing", errs, pricing),
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

fn provider_options(obj: &Map<String, Value>, path: &str, errs: &mut ConfigErrors) -> ProviderOptions {
    ProviderOptions {
        resource_name: field(obj, path, "resource_name", errs, text),
        deployment_id: field(obj, path, "deployment_id", errs, text),
        api_version: field(obj, path, "api_version", errs, text),
        anthropic_version: field(obj, path, "anthropic_version", errs, text),
        anthropic_beta: field(obj, path, "anthropic_beta", errs, text),
    }
}

/// Options of another provider are refused; Azure's are required unless a virtual key
/// (which carries them) is used, and `resource_name` also unless `custom_host` replaces it.
fn option_rules(obj: &Map<String, Value>, path: &str, family: Family, has_host: bool, errs: &mut ConfigErrors) {
    for (keys, owner, id) in
        [(&AZURE_KEYS[..], Family::Azure, "azure-openai"), (&ANTHROPIC_KEYS[..], Family::Anthropic, "anthropic")]
    {
        let foreign = keys.iter().filter(|k| owner != family && obj.contains_key(**k));
        foreign.for_each(|k| errs.push(join(path, k), format!("only used by provider \"{id}\"")));
    }
    if family != Family::Azure || obj.contains_key("virtual_key") {
        return;
    }
    let needed = AZURE_KEYS.iter().filter(|k| !(has_host && **k == "resource_name"));
    for key in needed.filter(|k| !obj.contains_key(**k)) {
        errs.push(join(path, key), "required for provider \"azure-openai\" (or use a virtual_key)");
    }
}

fn group(obj: &Map<String, Value>, path: &str, inherited: &Inherited, errs: &mut ConfigErrors) -> Option<Group> {
    let names = target_names(obj);
    let strategy = strategy(obj, path, &names, errs);
    let targets = targets(obj, path, inherited, errs);
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
    })
}

fn targets(obj: &Map<String, Value>, path: &str, inherited: &Inherited, errs: &mut ConfigErrors) -> Option<Vec<Child>> {
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
}

fn strategy(
    obj: &Map<String, Value>,
    group_path: &str,
    names: &[Option<String>],
    errs: &mut ConfigErrors,
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
    let mut strategy = Strategy { mode, on_status_codes, conditions: Vec::new(), default: None };
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
    errs: &mut ConfigErrors,
) -> (Vec<Condition>, Option<usize>) {
    let conditions = strategy.get("conditions").map(|v| parse_conditions(v, &join(path, "conditions"), names, errs));
    let default = strategy.get("default").and_then(|v| resolve_target(v, &join(path, "default"), names, errs));
    (conditions.unwrap_or_default(), default)
}

fn mode(value: Option<&Value>, path: &str, errs: &mut ConfigErrors) -> Option<Mode> {
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
fn mode_rules(mode: Mode, strategy: &Map<String, Value>, path: &str, errs: &mut ConfigErrors) {
    let this = mode.as_str();
    let owned =
        [("conditions", Mode::Conditional), ("default", Mode::Conditional), ("on_status_codes", Mode::Fallback)];
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
fn unique_names(names: &[Option<String>], group_path: &str, errs: &mut ConfigErrors) {
    for (i, name) in names.iter().enumerate() {
        let Some(name) = name else { continue };
        if let Some(first) = names[..i].iter().position(|n| n.as_deref() == Some(name)) {
            let message = format!("\"{name}\" is already the name of {group_path}.targets[{first}]");
            errs.push(format!("{group_path}.targets[{i}].name"), message);
        }
    }
}

fn retry(value: &Value, path: &str, errs: &mut ConfigErrors) -> Option<Retry> {
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

fn status_codes(value: &Value, path: &str, errs: &mut ConfigErrors) -> Option<Vec<u16>> {
    if value.as_array().is_some_and(Vec::is_empty) {
        return push_none(errs, path, "expected a non-empty array of HTTP status codes, got []");
    }
    list(value, path, "HTTP status codes", errs, status_code)
}

fn forward_headers(value: &Value, path: &str, errs: &mut ConfigErrors) -> Option<Vec<String>> {
    list(value, path, "header names", errs, header_name)
}

/// Checks each key of a node: unsupported Portkey features, credentials or provider options
/// on a group, then typos and camelCase.
fn check_node_keys(obj: &Map<String, Value>, path: &str, is_group: bool, errs: &mut ConfigErrors) {
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
    key_problem(key, allowed, &candidates)
}

/// Reports every key of `obj` that is not in `allowed` (for the small fixed-shape objects).
pub(super) fn check_keys(obj: &Map<String, Value>, path: &str, allowed: &[&str], errs: &mut ConfigErrors) {
    for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errs.push(join(path, key), key_problem(key, allowed, allowed));
    }
}

/// An unknown key: its snake_case spelling if that is known, else the nearest known key
/// (edit distance ≤ 2), else the list of allowed keys.
fn key_problem(key: &str, allowed: &[&str], candidates: &[&str]) -> String {
    let snake = snake_case(key);
    if snake != key && candidates.contains(&snake.as_str()) {
        return format!("use the snake_case spelling \"{snake}\"");
    }
    match closest(&snake, candidates) {
        Some(near) => format!("unknown key (did you mean \"{near}\"?)"),
        None => format!("unknown key (expected one of {})", allowed.join(", ")),
    }
}

fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Suggestions further than this many edits away are more confusing than helpful.
const MAX_SUGGESTION_DISTANCE: usize = 2;

fn closest<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let scored = candidates.iter().map(|c| (edit_distance(key, c), *c));
    scored.filter(|(d, _)| *d <= MAX_SUGGESTION_DISTANCE).min_by_key(|(d, _)| *d).map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

// ---- reading values: each parser names the type it expected ----

/// Runs `parse` on a value, recording its complaint at `path`.
fn check<'a, T>(
    value: &'a Value,
    path: &str,
    errs: &mut ConfigErrors,
    parse: impl FnOnce(&'a Value) -> Result<T, String>,
) -> Option<T> {
    parse(value).map_err(|message| errs.push(path, message)).ok()
}

/// An optional key of `obj`, parsed.
fn field<'a, T>(
    obj: &'a Map<String, Value>,
    path: &str,
    key: &str,
    errs: &mut ConfigErrors,
    parse: impl FnOnce(&'a Value) -> Result<T, String>,
) -> Option<T> {
    check(obj.get(key)?, &join(path, key), errs, parse)
}

/// An array whose items are each parsed, with errors at `path[i]`.
fn list<T>(
    value: &Value,
    path: &str,
    what: &str,
    errs: &mut ConfigErrors,
    parse: impl Fn(&Value) -> Result<T, String>,
) -> Option<Vec<T>> {
    let Some(items) = value.as_array() else {
        return push_none(errs, path, format!("expected an array of {what}, got {}", got(value)));
    };
    let parsed: Vec<Option<T>> =
        items.iter().enumerate().map(|(i, v)| check(v, &format!("{path}[{i}]"), errs, &parse)).collect();
    parsed.into_iter().collect()
}

fn push_none<T>(errs: &mut ConfigErrors, path: impl Into<String>, message: impl Into<String>) -> Option<T> {
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
    match lookup(&id) {
        Some(_) => Ok(id),
        None => Err(format!("unknown provider \"{id}\" (expected one of {})", known_ids())),
    }
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

/// An http(s) base URL; one trailing `/` is dropped so paths join cleanly.
fn url(value: &Value) -> Result<String, String> {
    let s = value.as_str().unwrap_or_default();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '?' || c == '#';
    let valid = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(bad_char));
    if !valid {
        return Err(format!("expected an http(s) URL such as \"https://example.com/v1\", got {}", got(value)));
    }
    Ok(s.strip_suffix('/').unwrap_or(s).to_string())
}

/// An HTTP header name (RFC 9110 token).
fn header_name(value: &Value) -> Result<String, String> {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    match value.as_str() {
        Some(s) if !s.is_empty() && s.chars().all(is_token_char) => Ok(s.to_string()),
        _ => Err(format!("expected an HTTP header name, got {}", got(value))),
    }
}

/// `path.key`, the path of a key inside the object at `path`.
pub(super) fn join(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

/// A bad value quoted back to the user as compact JSON, cut short if long.
pub(super) fn got(value: &Value) -> String {
    if holds_secret(value) {
        return kind(value).to_string();
    }
    let text = value.to_string();
    if text.chars().count() <= QUOTE_MAX_CHARS {
        return text;
    }
    format!("{}…", text.chars().take(QUOTE_MAX_CHARS).collect::<String>())
}

/// Whether a value holds a string that may be a credential (pasted under the wrong key):
/// such values are described by kind only, never quoted back.
fn holds_secret(value: &Value) -> bool {
    match value {
        Value::String(s) => looks_like_secret(s),
        Value::Array(items) => items.iter().any(holds_secret),
        Value::Object(map) => map.values().any(holds_secret),
        _ => false,
    }
}

fn looks_like_secret(s: &str) -> bool {
    let prefixed =
        ["sk-", "sk_", "sb-", "pk-", "key-", "bearer "].iter().any(|p| s.to_ascii_lowercase().starts_with(p));
    let token_like = s.len() >= 16
        && !s.contains(char::is_whitespace)
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().any(|c| c.is_ascii_alphabetic());
    prefixed || token_like
}

/// The kind of a value, for errors about values that must not be echoed.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) if s.is_empty() => "an empty string",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
