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
use crate::provider::{known_ids, lookup, Family};

/// Path of the config's root in every error.
const ROOT: &str = "config";

/// Keys of a target that calls a provider.
const LEAF_KEYS: [&str; 15] = [
    "provider",
    "api_key",
    "virtual_key",
    "custom_host",
    "override_params",
    "weight",
    "name",
    "retry",
    "request_timeout",
    "forward_headers",
    "resource_name",
    "deployment_id",
    "api_version",
    "anthropic_version",
    "anthropic_beta",
];

/// Keys of a group (a node with `targets`).
const GROUP_KEYS: [&str; 9] = [
    "strategy",
    "targets",
    "weight",
    "name",
    "retry",
    "request_timeout",
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
    custom_host: Option<String>,
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
        custom_host: field(obj, path, "custom_host", errs, url),
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
    Leaf {
        path: path.to_string(),
        provider,
        api_key: field(obj, path, "api_key", errs, secret),
        virtual_key: field(obj, path, "virtual_key", errs, secret),
        custom_host: inherited.custom_host,
        override_params: inherited.override_params,
        retry: inherited.retry.unwrap_or_default(),
        request_timeout_ms: inherited.request_timeout_ms,
        forward_headers: inherited.forward_headers.unwrap_or_default(),
        options: provider_options(obj, path, errs),
    }
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
            return push_none(
                errs,
                &path,
                format!("expected an object such as {{\"mode\": \"fallback\"}}, got {}", got(other)),
            )
        }
        None => return push_none(errs, &path, "required next to \"targets\" (e.g. {\"mode\": \"fallback\"})"),
    };
    check_keys(s, &path, &STRATEGY_KEYS, errs);
    let mode = mode(s.get("mode"), &join(&path, "mode"), errs);
    let on_status_codes = s.get("on_status_codes").and_then(|v| status_codes(v, &join(&path, "on_status_codes"), errs));
    let mut strategy = Strategy { mode, on_status_codes, conditions: Vec::new(), default: None };
    if let Some(mode) = mode {
        mode_rules(mode, s, &path, errs);
    }
    if mode.is_none_or(|m| m == Mode::Conditional) {
        unique_names(names, group_path, errs);
        let conditions = s.get("conditions").map(|v| parse_conditions(v, &join(&path, "conditions"), names, errs));
        strategy.conditions = conditions.unwrap_or_default();
        strategy.default = s.get("default").and_then(|v| resolve_target(v, &join(&path, "default"), names, errs));
    }
    Some(strategy)
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
    let text = value.to_string();
    if text.chars().count() <= QUOTE_MAX_CHARS {
        return text;
    }
    format!("{}…", text.chars().take(QUOTE_MAX_CHARS).collect::<String>())
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
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(config: Value) -> RouteTree {
        match validate_config(&config) {
            Ok(tree) => tree,
            Err(e) => panic!("{config} should validate: {e}"),
        }
    }

    fn errors(config: Value) -> Vec<String> {
        match validate_config(&config) {
            Ok(_) => panic!("{config} should be rejected"),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    /// Each case: a config and exactly the errors it must produce, in order.
    fn assert_errors(cases: &[(Value, &[&str])]) {
        for (config, want) in cases {
            assert_eq!(errors(config.clone()), *want, "for {config}");
        }
    }

    fn openai(key: &str) -> Value {
        json!({"provider": "openai", "api_key": key})
    }

    fn leaves(node: &Node) -> Vec<&Leaf> {
        match node {
            Node::Leaf(leaf) => vec![leaf],
            Node::Group(group) => group.targets.iter().flat_map(|c| leaves(&c.node)).collect(),
        }
    }

    fn root_group(tree: &RouteTree) -> &Group {
        match &tree.root {
            Node::Group(group) => group,
            Node::Leaf(_) => panic!("root should be a group"),
        }
    }

    #[test]
    fn bare_leaf_is_the_root_at_path_config() {
        let t = tree(openai("sk-1"));
        let Node::Leaf(leaf) = &t.root else { panic!("root should be a leaf") };
        assert_eq!((leaf.path.as_str(), leaf.provider.as_deref()), ("config", Some("openai")));
        assert_eq!((leaf.retry.clone(), leaf.api_key.as_deref()), (Retry::default(), Some("sk-1")));
        assert_eq!(t.mode(), Mode::Single);
    }

    #[test]
    fn cookbook_config_validates() {
        let with_virtual_keys = json!({"strategy": {"mode": "loadbalance"}, "targets": [
            {"virtual_key": "anthropic-vk", "weight": 0.5,
             "override_params": {"max_tokens": 200, "model": "claude-3-opus-20240229"}},
            {"strategy": {"mode": "fallback"}, "weight": 0.5,
             "targets": [{"virtual_key": "openai-vk"}, {"virtual_key": "azure-vk"}]}]});
        let with_keys = json!({"strategy": {"mode": "loadbalance"}, "targets": [
            {"provider": "anthropic", "api_key": "sk-ant", "weight": 0.5,
             "override_params": {"max_tokens": 200, "model": "claude-3-opus-20240229"}},
            {"strategy": {"mode": "fallback"}, "weight": 0.5, "targets": [
                {"provider": "openai", "api_key": "sk-oai", "custom_host": "http://127.0.0.1:9000/v1/"},
                {"provider": "azure-openai", "api_key": "az", "custom_host": "https://proxy.example.com/openai",
                 "deployment_id": "gpt35", "api_version": "2024-02-01"}]}]});
        for config in [with_virtual_keys, with_keys] {
            let t = tree(config);
            let group = root_group(&t);
            assert_eq!((group.mode, group.targets[0].weight, group.targets[1].weight), (Mode::Loadbalance, 0.5, 0.5));
            let all = leaves(&t.root);
            let paths: Vec<&str> = all.iter().map(|l| l.path.as_str()).collect();
            assert_eq!(paths, ["config.targets[0]", "config.targets[1].targets[0]", "config.targets[1].targets[1]"]);
            assert_eq!(
                Value::Object(all[0].override_params.clone()),
                json!({"max_tokens": 200, "model": "claude-3-opus-20240229"})
            );
            assert!(all[1].override_params.is_empty());
        }
        let canary = json!({"strategy": {"mode": "loadbalance"}, "targets": [
            {"virtual_key": "openai-vk", "weight": 0.9},
            {"virtual_key": "anyscale-vk", "weight": 0.1, "override_params": {"model": "meta-llama/Llama-2-70b-chat-hf"}}]});
        assert_eq!(root_group(&tree(canary)).targets[1].weight, 0.1);
    }

    #[test]
    fn custom_host_keeps_url_without_trailing_slash() {
        let t = tree(json!({"provider": "openai", "custom_host": "http://127.0.0.1:9000/v1/"}));
        assert_eq!(leaves(&t.root)[0].custom_host.as_deref(), Some("http://127.0.0.1:9000/v1"));
        let bad = "expected an http(s) URL such as \"https://example.com/v1\", got";
        assert_errors(&[
            (
                json!({"provider": "openai", "custom_host": "ftp://x"}),
                &[&format!("config.custom_host: {bad} \"ftp://x\"")],
            ),
            (
                json!({"provider": "openai", "custom_host": "https://"}),
                &[&format!("config.custom_host: {bad} \"https://\"")],
            ),
            (json!({"provider": "openai", "custom_host": 5}), &[&format!("config.custom_host: {bad} 5")]),
        ]);
    }

    #[test]
    fn unknown_mode_names_path_and_choices() {
        let with_mode = |mode: Value| json!({"strategy": {"mode": mode}, "targets": [openai("a")]});
        assert_errors(&[
            (
                with_mode(json!("roundrobin")),
                &["config.strategy.mode: unknown mode \"roundrobin\" (expected single, loadbalance, fallback, conditional)"],
            ),
            (
                with_mode(json!(3)),
                &["config.strategy.mode: expected one of single, loadbalance, fallback, conditional, got 3"],
            ),
            (
                json!({"strategy": {}, "targets": [openai("a")]}),
                &["config.strategy.mode: required (expected single, loadbalance, fallback, conditional)"],
            ),
        ]);
    }

    #[test]
    fn typo_key_suggests_spelling() {
        assert_errors(&[
            (
                json!({"strategy": {"mode": "fallback"}, "targets": [openai("a"),
                    {"provider": "openai", "overide_params": {"model": "x"}}]}),
                &["config.targets[1].overide_params: unknown key (did you mean \"override_params\"?)"],
            ),
            (
                json!({"provider": "openai", "retry": {"atempts": 2}}),
                &[
                    "config.retry.atempts: unknown key (did you mean \"attempts\"?)",
                    "config.retry.attempts: required (an integer from 0 to 5)",
                ],
            ),
            (
                json!({"strategy": {"mode": "fallback", "on_status_code": [429]}, "targets": [openai("a")]}),
                &["config.strategy.on_status_code: unknown key (did you mean \"on_status_codes\"?)"],
            ),
            (
                json!({"provider": "openai", "zzz": 1}),
                &["config.zzz: unknown key (expected one of provider, api_key, virtual_key, custom_host, \
                   override_params, weight, name, retry, request_timeout, forward_headers, resource_name, \
                   deployment_id, api_version, anthropic_version, anthropic_beta)"],
            ),
        ]);
    }

    #[test]
    fn camel_case_key_suggests_snake_case() {
        assert_errors(&[
            (
                json!({"provider": "openai", "overrideParams": {}}),
                &["config.overrideParams: use the snake_case spelling \"override_params\""],
            ),
            (
                json!({"virtualKey": "vk"}),
                &[
                    "config.virtualKey: use the snake_case spelling \"virtual_key\"",
                    "config: a target needs \"provider\" or \"virtual_key\"",
                ],
            ),
            (
                json!({"strategy": {"mode": "fallback", "onStatusCodes": [429]}, "targets": [openai("a")]}),
                &["config.strategy.onStatusCodes: use the snake_case spelling \"on_status_codes\""],
            ),
            (
                json!({"provider": "openai", "retry": {"attempts": 1, "useRetryAfterHeader": true}}),
                &["config.retry.useRetryAfterHeader: use the snake_case spelling \"use_retry_after_header\""],
            ),
        ]);
    }

    #[test]
    fn cache_key_refused_explicitly() {
        assert_errors(&[
            (
                json!({"cache": {"mode": "simple"}, "provider": "openai"}),
                &["config.cache: not supported by Switchboard yet (Portkey's cache); remove it"],
            ),
            (
                json!({"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai", "input_guardrails": ["g"]}]}),
                &["config.targets[0].input_guardrails: not supported by Switchboard yet (Portkey's guardrails); remove it"],
            ),
            (
                json!({"provider": "openai", "afterRequestHooks": []}),
                &["config.afterRequestHooks: not supported by Switchboard yet (Portkey's hooks); remove it"],
            ),
        ]);
        for (key, _) in UNSUPPORTED {
            let message = errors(json!({"provider": "openai", key: true})).join("; ");
            assert!(message.starts_with(&format!("config.{key}: not supported by Switchboard yet")), "{message}");
        }
    }

    #[test]
    fn credentials_and_provider_options_rejected_on_groups() {
        let group = |key: &str| json!({"strategy": {"mode": "fallback"}, key: "x", "targets": [openai("a")]});
        assert_errors(&[
            (group("api_key"), &["config.api_key: credentials belong on a target, not on a group with targets"]),
            (
                group("virtual_key"),
                &["config.virtual_key: credentials belong on a target, not on a group with targets"],
            ),
            (group("provider"), &["config.provider: credentials belong on a target, not on a group with targets"]),
            (
                group("resource_name"),
                &["config.resource_name: provider options belong on a target, not on a group with targets"],
            ),
        ]);
    }

    #[test]
    fn retry_inherited_credentials_not() {
        let t = tree(json!({"strategy": {"mode": "fallback"}, "retry": {"attempts": 2}, "request_timeout": 1000,
            "custom_host": "https://gw.example.com/v1", "forward_headers": ["x-trace"],
            "targets": [
                {"provider": "openai", "api_key": "a"},
                {"strategy": {"mode": "single"}, "retry": {"attempts": 4, "on_status_codes": [503]},
                 "request_timeout": 50, "targets": [{"provider": "groq", "forward_headers": []}]},
                {"provider": "anthropic", "custom_host": "http://localhost:8080"}]}));
        let all = leaves(&t.root);
        let retries: Vec<(u32, Vec<u16>)> =
            all.iter().map(|l| (l.retry.attempts, l.retry.on_status_codes.clone())).collect();
        assert_eq!(retries, [(2, DEFAULT_RETRY_STATUS.to_vec()), (4, vec![503]), (2, DEFAULT_RETRY_STATUS.to_vec())]);
        let timeouts: Vec<Option<u64>> = all.iter().map(|l| l.request_timeout_ms).collect();
        assert_eq!(timeouts, [Some(1000), Some(50), Some(1000)]);
        let hosts: Vec<Option<&str>> = all.iter().map(|l| l.custom_host.as_deref()).collect();
        assert_eq!(
            hosts,
            [Some("https://gw.example.com/v1"), Some("https://gw.example.com/v1"), Some("http://localhost:8080")]
        );
        let headers: Vec<Vec<String>> = all.iter().map(|l| l.forward_headers.clone()).collect();
        assert_eq!(headers, [vec!["x-trace".to_string()], vec![], vec!["x-trace".to_string()]]);
        let keys: Vec<Option<&str>> = all.iter().map(|l| l.api_key.as_deref()).collect();
        assert_eq!(keys, [Some("a"), None, None]);
    }

    #[test]
    fn override_params_deep_merge_child_wins() {
        let t = tree(json!({"strategy": {"mode": "fallback"},
            "override_params": {"model": "root", "max_tokens": 10, "metadata": {"a": 1, "b": 2}},
            "targets": [
                {"strategy": {"mode": "fallback"}, "override_params": {"metadata": {"b": 3}},
                 "targets": [{"provider": "openai", "override_params": {"model": "leaf", "metadata": {"c": 4}}}]},
                {"provider": "openai"}]}));
        let all = leaves(&t.root);
        assert_eq!(
            Value::Object(all[0].override_params.clone()),
            json!({"model": "leaf", "max_tokens": 10, "metadata": {"a": 1, "b": 3, "c": 4}})
        );
        assert_eq!(
            Value::Object(all[1].override_params.clone()),
            json!({"model": "root", "max_tokens": 10, "metadata": {"a": 1, "b": 2}})
        );
        assert_errors(&[(
            json!({"provider": "openai", "override_params": [1]}),
            &["config.override_params: expected an object, got [1]"],
        )]);
    }

    #[test]
    fn all_zero_weights_rejected() {
        let lb = |w0: Value, w1: Value| {
            json!({"strategy": {"mode": "loadbalance"},
            "targets": [{"provider": "openai", "weight": w0}, {"provider": "openai", "weight": w1}]})
        };
        assert_errors(&[(
            lb(json!(0), json!(0.0)),
            &["config.targets: every target has weight 0: nothing can be picked"],
        )]);
        let t = tree(lb(json!(0), json!(2)));
        let weights: Vec<f64> = root_group(&t).targets.iter().map(|c| c.weight).collect();
        assert_eq!(weights, [0.0, 2.0]);
        // Only loadbalance picks by weight; a fallback of zero weights is fine.
        tree(json!({"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai", "weight": 0}]}));
    }

    #[test]
    fn weight_is_a_non_negative_number_default_one() {
        let lb = |w: Value| json!({"strategy": {"mode": "loadbalance"}, "targets": [openai("a"), {"provider": "openai", "weight": w}]});
        assert_errors(&[
            (lb(json!(-1)), &["config.targets[1].weight: expected a number ≥ 0, got -1"]),
            (lb(json!("0.5")), &["config.targets[1].weight: expected a number ≥ 0, got \"0.5\""]),
            (lb(json!(null)), &["config.targets[1].weight: expected a number ≥ 0, got null"]),
        ]);
        let t = tree(json!({"strategy": {"mode": "loadbalance"}, "targets": [openai("a")]}));
        assert_eq!(root_group(&t).targets[0].weight, 1.0);
    }

    #[test]
    fn leaf_needs_provider_or_virtual_key() {
        assert_errors(&[
            (json!({"api_key": "sk"}), &["config: a target needs \"provider\" or \"virtual_key\""]),
            (
                json!({"strategy": {"mode": "fallback"}, "targets": [openai("a"), {}]}),
                &["config.targets[1]: a target needs \"provider\" or \"virtual_key\""],
            ),
        ]);
        tree(json!({"virtual_key": "vk"}));
    }

    #[test]
    fn unknown_provider_lists_known_ids() {
        let want =
            format!("config.targets[0].provider: unknown provider \"open-ai\" (expected one of {})", known_ids());
        let got = errors(json!({"strategy": {"mode": "single"}, "targets": [{"provider": "open-ai"}]}));
        assert_eq!(got, [want]);
        assert!(known_ids().starts_with("openai, azure-openai, anthropic"));
    }

    #[test]
    fn azure_needs_resource_deployment_version_unless_virtual_key() {
        let need = "required for provider \"azure-openai\" (or use a virtual_key)";
        assert_errors(&[
            (
                json!({"provider": "azure-openai", "api_key": "k"}),
                &[
                    &format!("config.resource_name: {need}"),
                    &format!("config.deployment_id: {need}"),
                    &format!("config.api_version: {need}"),
                ],
            ),
            (
                json!({"provider": "azure-openai", "custom_host": "https://az.example.com/openai", "deployment_id": "d"}),
                &[&format!("config.api_version: {need}")],
            ),
        ]);
        tree(json!({"provider": "azure-openai", "virtual_key": "vk"}));
        let t = tree(
            json!({"provider": "azure-openai", "api_key": "k", "resource_name": "r", "deployment_id": "d", "api_version": "v"}),
        );
        let want = ProviderOptions {
            resource_name: Some("r".into()),
            deployment_id: Some("d".into()),
            api_version: Some("v".into()),
            ..ProviderOptions::default()
        };
        assert_eq!(leaves(&t.root)[0].options, want);
    }

    #[test]
    fn provider_options_of_another_provider_refused() {
        assert_errors(&[
            (
                json!({"provider": "openai", "anthropic_version": "2023-06-01"}),
                &["config.anthropic_version: only used by provider \"anthropic\""],
            ),
            (
                json!({"provider": "anthropic", "deployment_id": "d"}),
                &["config.deployment_id: only used by provider \"azure-openai\""],
            ),
        ]);
        let t =
            tree(json!({"provider": "anthropic", "anthropic_version": "2023-06-01", "anthropic_beta": "tools-2024"}));
        assert_eq!(leaves(&t.root)[0].options.anthropic_beta.as_deref(), Some("tools-2024"));
        tree(json!({"virtual_key": "vk", "anthropic_version": "2023-06-01"}));
    }

    #[test]
    fn wrong_types_name_the_expected_type() {
        assert_errors(&[
            (
                json!({"provider": "openai", "retry": {"attempts": 9}}),
                &["config.retry.attempts: expected an integer from 0 to 5, got 9"],
            ),
            (
                json!({"provider": "openai", "retry": {"attempts": 1, "on_status_codes": [429, 42], "use_retry_after_header": "yes"}}),
                &[
                    "config.retry.on_status_codes[1]: expected an HTTP status code from 100 to 599, got 42",
                    "config.retry.use_retry_after_header: expected true or false, got \"yes\"",
                ],
            ),
            (
                json!({"provider": "openai", "retry": {"attempts": 1, "on_status_codes": []}}),
                &["config.retry.on_status_codes: expected a non-empty array of HTTP status codes, got []"],
            ),
            (
                json!({"provider": "openai", "retry": 3}),
                &["config.retry: expected an object such as {\"attempts\": 3}, got 3"],
            ),
            (
                json!({"provider": "openai", "request_timeout": 0}),
                &["config.request_timeout: expected a positive integer (milliseconds), got 0"],
            ),
            (
                json!({"provider": "openai", "forward_headers": ["x-ok", "bad header"]}),
                &["config.forward_headers[1]: expected an HTTP header name, got \"bad header\""],
            ),
            (
                json!({"provider": "openai", "forward_headers": "x-a"}),
                &["config.forward_headers: expected an array of header names, got \"x-a\""],
            ),
            (
                json!({"provider": "", "name": 7}),
                &[
                    "config.name: expected a non-empty string, got 7",
                    "config.provider: expected a non-empty string, got \"\"",
                ],
            ),
            (
                json!([1, 2]),
                &["config: expected an object (a target, or a group with \"strategy\" and \"targets\"), got [1,2]"],
            ),
        ]);
    }

    #[test]
    fn credentials_never_echoed_in_errors() {
        let got = errors(json!({"provider": "openai", "api_key": 123456789, "virtual_key": ["vk-secret"]}));
        assert_eq!(
            got,
            [
                "config.api_key: expected a non-empty string, got a number",
                "config.virtual_key: expected a non-empty string, got an array"
            ]
        );
    }

    #[test]
    fn long_values_are_quoted_short() {
        let long = "x".repeat(100);
        let got = errors(json!({"provider": "openai", "weight": long}));
        assert_eq!(got, [format!("config.weight: expected a number ≥ 0, got \"{}…", "x".repeat(39))]);
    }

    #[test]
    fn group_needs_strategy_and_non_empty_targets() {
        assert_errors(&[
            (
                json!({"targets": [openai("a")]}),
                &["config.strategy: required next to \"targets\" (e.g. {\"mode\": \"fallback\"})"],
            ),
            (
                json!({"strategy": {"mode": "fallback"}}),
                &["config.targets: required next to \"strategy\" (a non-empty array of targets)"],
            ),
            (
                json!({"strategy": {"mode": "fallback"}, "targets": []}),
                &["config.targets: expected a non-empty array of targets, got []"],
            ),
            (
                json!({"strategy": "fallback", "targets": [openai("a")]}),
                &["config.strategy: expected an object such as {\"mode\": \"fallback\"}, got \"fallback\""],
            ),
        ]);
    }

    #[test]
    fn single_mode_accepts_several_targets() {
        let t = tree(json!({"strategy": {"mode": "single"}, "targets": [openai("a"), openai("b")]}));
        assert_eq!((t.mode(), root_group(&t).targets.len()), (Mode::Single, 2));
    }

    #[test]
    fn fallback_on_status_codes_only_for_fallback() {
        let t =
            tree(json!({"strategy": {"mode": "fallback", "on_status_codes": [429, 503]}, "targets": [openai("a")]}));
        assert_eq!(root_group(&t).on_status_codes, Some(vec![429, 503]));
        assert_eq!(
            root_group(&tree(json!({"strategy": {"mode": "fallback"}, "targets": [openai("a")]}))).on_status_codes,
            None
        );
        assert_errors(&[(
            json!({"strategy": {"mode": "loadbalance", "on_status_codes": [429]}, "targets": [openai("a")]}),
            &["config.strategy.on_status_codes: only used by mode \"fallback\" (this group's mode is \"loadbalance\")"],
        )]);
    }

    fn conditional(strategy_extra: Value, targets: Value) -> Value {
        let mut strategy = json!({"mode": "conditional"});
        if let (Some(s), Some(extra)) = (strategy.as_object_mut(), strategy_extra.as_object()) {
            s.extend(extra.clone());
        }
        json!({"strategy": strategy, "targets": targets})
    }

    fn named(name: &str) -> Value {
        json!({"name": name, "provider": "openai"})
    }

    #[test]
    fn conditions_only_with_conditional_and_required_there() {
        assert_errors(&[
            (
                json!({"strategy": {"mode": "fallback", "conditions": [], "default": "a"}, "targets": [named("a")]}),
                &[
                    "config.strategy.conditions: only used by mode \"conditional\" (this group's mode is \"fallback\")",
                    "config.strategy.default: only used by mode \"conditional\" (this group's mode is \"fallback\")",
                ],
            ),
            (
                conditional(json!({"default": "a"}), json!([named("a")])),
                &["config.strategy.conditions: required for mode \"conditional\" (a non-empty array of {\"query\", \"then\"})"],
            ),
            (
                conditional(json!({"conditions": []}), json!([named("a")])),
                &["config.strategy.conditions: expected a non-empty array of {\"query\", \"then\"}, got []"],
            ),
        ]);
    }

    #[test]
    fn conditional_then_and_default_must_name_a_target() {
        let query = json!({"metadata.plan": "paid"});
        assert_errors(&[
            (
                conditional(
                    json!({"conditions": [{"query": query, "then": "x"}], "default": "y"}),
                    json!([named("a"), named("b")]),
                ),
                &[
                    "config.strategy.conditions[0].then: no target named \"x\" (targets here are named \"a\", \"b\")",
                    "config.strategy.default: no target named \"y\" (targets here are named \"a\", \"b\")",
                ],
            ),
            (
                conditional(json!({"conditions": [{"query": query, "then": "x"}]}), json!([openai("k")])),
                &["config.strategy.conditions[0].then: no target named \"x\" (no target in this group has a \"name\")"],
            ),
            (
                conditional(json!({"conditions": [{"query": query}, {"then": "a", "if": 1}]}), json!([named("a")])),
                &[
                    "config.strategy.conditions[0].then: required",
                    "config.strategy.conditions[1].if: unknown key (expected one of query, then)",
                    "config.strategy.conditions[1].query: required",
                ],
            ),
        ]);
        let t = tree(conditional(
            json!({"conditions": [{"query": query, "then": "b"}], "default": "a"}),
            json!([named("a"), named("b")]),
        ));
        let group = root_group(&t);
        assert_eq!((group.conditions[0].then, group.default), (1, Some(0)));
    }

    #[test]
    fn conditional_target_names_unique() {
        assert_errors(&[(
            conditional(
                json!({"conditions": [{"query": {"metadata.a": "1"}, "then": "a"}]}),
                json!([named("a"), named("b"), named("a")]),
            ),
            &["config.targets[2].name: \"a\" is already the name of config.targets[0]"],
        )]);
    }

    #[test]
    fn every_error_is_collected() {
        let got = errors(json!({
            "strategy": {"mode": "loadbalance"}, "cache": {"mode": "simple"},
            "targets": [
                {"provider": "open-ai", "weight": -2},
                {"strategy": {"mode": "fallback"}, "targets": [{"api_key": "sk"}, {"virtual_key": "vk", "overide_params": {}}]},
                {"provider": "openai", "retry": {"attempts": 9}, "request_timeout": -5}]}));
        let want = [
            "config.cache: not supported by Switchboard yet (Portkey's cache); remove it".to_string(),
            "config.targets[0].weight: expected a number ≥ 0, got -2".to_string(),
            format!("config.targets[0].provider: unknown provider \"open-ai\" (expected one of {})", known_ids()),
            "config.targets[1].targets[0]: a target needs \"provider\" or \"virtual_key\"".to_string(),
            "config.targets[1].targets[1].overide_params: unknown key (did you mean \"override_params\"?)".to_string(),
            "config.targets[2].retry.attempts: expected an integer from 0 to 5, got 9".to_string(),
            "config.targets[2].request_timeout: expected a positive integer (milliseconds), got -5".to_string(),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let Err(ConfigErrors(errs)) = parse_config("{\n  \"provider\": \"openai\",\n}") else { panic!("should fail") };
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].path, "config");
        assert!(
            errs[0].message.starts_with("invalid JSON: ") && errs[0].message.contains("line 3 column 1"),
            "{}",
            errs[0].message
        );
        assert!(parse_config("{\"provider\": \"openai\"}").is_ok());
    }

    #[test]
    fn display_joins_errors_with_semicolons() {
        let errs = ConfigErrors(vec![
            ConfigError { path: "config.a".into(), message: "one".into() },
            ConfigError { path: "config.b".into(), message: "two".into() },
        ]);
        assert_eq!(errs.to_string(), "config.a: one; config.b: two");
    }

    #[test]
    fn suggestions_come_from_edit_distance_two_or_less() {
        let cases = [
            ("overide_params", Some("override_params")),
            ("virtal_key", Some("virtual_key")),
            ("targts", Some("targets")),
            ("wieght", Some("weight")),
            ("model", None),
        ];
        let candidates: Vec<&str> = LEAF_KEYS.iter().chain(&GROUP_KEYS[..2]).copied().collect();
        for (key, want) in cases {
            assert_eq!(closest(key, &candidates), want, "{key}");
        }
        assert_eq!((edit_distance("kitten", "sitting"), edit_distance("", "ab"), edit_distance("ab", "ab")), (3, 2, 0));
    }
}
