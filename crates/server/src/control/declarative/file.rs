//! The declarative file's shape and how it becomes a [`Declared`] set of virtual keys and
//! configs: parse (YAML or JSON, unknown keys refused), substitute `${VAR}`s, validate —
//! collecting every problem with its path. Pure but for the `env` lookup it is handed.
//! Parser messages are redacted so a misplaced secret is never quoted back.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use switchboard_core::limits::LIMIT_KEYS;
use switchboard_core::problem::unknown_key;
use switchboard_core::provider::OPTION_KEYS;
use switchboard_store::Secret;

use super::env::substitute;
use super::spec::{config_json, KeyDraft, KeySpec, Problems};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileModel {
    #[serde(default)]
    virtual_keys: Vec<KeyEntry>,
    #[serde(default)]
    configs: Vec<ConfigEntry>,
}

/// One virtual key as written. No `Debug`: `key` may hold a secret. Every other key is a
/// provider option (core's [`OPTION_KEYS`]) or a limit ([`LIMIT_KEYS`]); serde cannot refuse unknown keys next to a
/// flattened map, so [`key_draft`] does.
#[derive(Deserialize)]
struct KeyEntry {
    slug: String,
    name: Option<String>,
    provider: String,
    key: String,
    note: Option<String>,
    #[serde(flatten)]
    options: Map<String, Value>,
}

/// The keys of a virtual key entry besides its provider options.
const ENTRY_KEYS: [&str; 5] = ["slug", "name", "provider", "key", "note"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigEntry {
    slug: String,
    name: Option<String>,
    config: Value,
}

/// A saved config ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSpec {
    pub slug: String,
    pub name: String,
    /// Validated JSON text.
    pub json: String,
}

/// Everything a valid declarative file declares.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    pub virtual_keys: Vec<KeySpec>,
    pub configs: Vec<ConfigSpec>,
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Not YAML/JSON, or an unknown or mistyped key.
    #[error("{0}")]
    Syntax(String),
    #[error("{0}")]
    Invalid(Problems),
}

/// Parses, substitutes and validates a declarative file's text.
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Declared, FileError> {
    let model: Option<FileModel> =
        serde_norway::from_str(text).map_err(|e| FileError::Syntax(redact_strings(&e.to_string())))?;
    let model = model.unwrap_or_default();
    let mut problems = Problems::default();
    let mut subst = |text: &str, path: &str| match substitute(text, env) {
        Ok(value) => value,
        Err(e) => {
            problems.push(path, e.to_string());
            String::new()
        }
    };
    let mut unknown = Problems::default();
    let keys: Vec<KeyDraft> =
        model.virtual_keys.iter().enumerate().map(|(i, entry)| key_draft(entry, i, &mut subst, &mut unknown)).collect();
    let configs: Vec<(ConfigSpec, Value)> =
        model.configs.into_iter().enumerate().map(|(i, entry)| config_entry(entry, i, &mut subst)).collect();
    problems.extend(unknown);
    if !problems.is_empty() {
        // Checking values that could not be substituted would only add confusing follow-ups.
        return Err(FileError::Invalid(problems));
    }
    let keys = check_keys(keys, &mut problems);
    let configs = check_configs(configs, &mut problems);
    problems.or(Declared { virtual_keys: keys, configs }).map_err(FileError::Invalid)
}

type Subst<'a> = dyn FnMut(&str, &str) -> String + 'a;

fn key_draft(entry: &KeyEntry, index: usize, subst: &mut Subst<'_>, problems: &mut Problems) -> KeyDraft {
    let at = |field: &str| format!("virtual_keys[{index}].{field}");
    let allowed: Vec<&str> = ENTRY_KEYS.iter().chain(&OPTION_KEYS).chain(&LIMIT_KEYS).copied().collect();
    let mut options = Map::new();
    for (key, value) in &entry.options {
        if !OPTION_KEYS.contains(&key.as_str()) && !LIMIT_KEYS.contains(&key.as_str()) {
            problems.push(at(key), unknown_key(key, &allowed, &allowed));
            continue;
        }
        let mut value = value.clone();
        substitute_strings(&mut value, &at(key), subst);
        options.insert(key.clone(), value);
    }
    let mut opt = |value: &Option<String>, field: &str| value.as_deref().map(|v| subst(v, &at(field)));
    let note = opt(&entry.note, "note");
    let name = opt(&entry.name, "name").unwrap_or_else(|| entry.slug.clone());
    KeyDraft {
        slug: entry.slug.clone(),
        name,
        provider: subst(&entry.provider, &at("provider")),
        secret: Secret::new(subst(&entry.key, &at("key"))),
        options,
        note,
    }
}

fn config_entry(entry: ConfigEntry, index: usize, subst: &mut Subst<'_>) -> (ConfigSpec, Value) {
    let prefix = format!("configs[{index}]");
    let name = entry.name.as_deref().map(|n| subst(n, &format!("{prefix}.name")));
    let mut config = entry.config;
    substitute_strings(&mut config, &format!("{prefix}.config"), subst);
    let spec = ConfigSpec { name: name.unwrap_or_else(|| entry.slug.clone()), slug: entry.slug, json: String::new() };
    (spec, config)
}

/// Substitutes inside every string of a config, naming each string's path on error.
fn substitute_strings(value: &mut Value, path: &str, subst: &mut Subst<'_>) {
    match value {
        Value::String(text) => *text = subst(text, path),
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute_strings(item, &format!("{path}[{i}]"), subst);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                substitute_strings(item, &format!("{path}.{key}"), subst);
            }
        }
        _ => {}
    }
}

fn check_keys(drafts: Vec<KeyDraft>, problems: &mut Problems) -> Vec<KeySpec> {
    let mut seen = HashMap::new();
    let mut keys = Vec::with_capacity(drafts.len());
    for (i, draft) in drafts.into_iter().enumerate() {
        let at = format!("virtual_keys[{i}]");
        let duplicate = seen
            .insert(draft.slug.clone(), i)
            .map(|first| format!("\"{}\" is already declared at virtual_keys[{first}]", draft.slug));
        match draft.check(&at) {
            Ok(key) => keys.push(key),
            Err(found) => problems.extend(found),
        }
        if let Some(message) = duplicate {
            problems.push(format!("{at}.slug"), message);
        }
    }
    keys
}

fn check_configs(configs: Vec<(ConfigSpec, Value)>, problems: &mut Problems) -> Vec<ConfigSpec> {
    let mut seen = HashMap::new();
    let mut checked = Vec::with_capacity(configs.len());
    for (i, (mut spec, config)) in configs.into_iter().enumerate() {
        if let Some(message) = super::spec::slug_problem(&spec.slug) {
            problems.push(format!("configs[{i}].slug"), message);
        }
        if let Some(first) = seen.insert(spec.slug.clone(), i) {
            problems.push(
                format!("configs[{i}].slug"),
                format!("\"{}\" is already declared at configs[{first}]", spec.slug),
            );
        }
        match config_json(&config, &format!("configs[{i}].")) {
            Ok(json) => spec.json = json,
            Err(found) => problems.0.extend(found.0),
        }
        checked.push(spec);
    }
    checked
}

/// Parses YAML (or JSON, which YAML includes) into a JSON value; the error message is
/// redacted like the file's.
pub fn yaml_value(text: &str) -> Result<Value, String> {
    serde_norway::from_str(text).map_err(|e| redact_strings(&e.to_string()))
}

/// Replaces the quoted value in serde's `string "…"` with `…`: a parser message may quote a
/// value that is a secret written in the wrong place.
fn redact_strings(message: &str) -> String {
    const MARK: &str = "string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at + MARK.len()]);
        out.push_str("…\"");
        rest = skip_quoted(&rest[at + MARK.len()..]);
    }
    out.push_str(rest);
    out
}

/// The text after the closing quote of a Debug-escaped string whose opening quote is gone.
fn skip_quoted(text: &str) -> &str {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return &text[i + 1..],
            _ => escaped = false,
        }
    }
    ""
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails loudly")]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "OPENAI_API_KEY").then(|| "sk-env-0123456789abcdef".to_owned())
    }

    fn invalid(text: &str) -> Vec<String> {
        match parse(text, &env) {
            Err(FileError::Invalid(problems)) => problems.0.iter().map(ToString::to_string).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    fn syntax(text: &str) -> String {
        match parse(text, &env) {
            Err(FileError::Syntax(message)) => message,
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    const GOOD: &str = r#"
virtual_keys:
  - slug: openai-prod
    name: OpenAI prod
    provider: openai
    key: ${OPENAI_API_KEY}
configs:
  - slug: pc-cookbook
    config: { strategy: {mode: loadbalance}, targets: [ {virtual_key: openai-prod, weight: 1} ] }
"#;

    #[test]
    fn a_good_file_declares_keys_and_configs_with_env_substituted() {
        let declared = parse(GOOD, &env).unwrap();
        let key = &declared.virtual_keys[0];
        assert_eq!(
            (key.slug.as_str(), key.name.as_str(), key.provider.as_str()),
            ("openai-prod", "OpenAI prod", "openai")
        );
        assert_eq!(key.secret.expose(), "sk-env-0123456789abcdef");
        let config = &declared.configs[0];
        assert_eq!((config.slug.as_str(), config.name.as_str()), ("pc-cookbook", "pc-cookbook"));
        let json: Value = serde_json::from_str(&config.json).unwrap();
        assert_eq!(json["targets"][0]["virtual_key"], "openai-prod");
    }

    #[test]
    fn an_empty_file_declares_nothing() {
        let declared = parse("# nothing yet\n", &env).unwrap();
        assert!(declared.virtual_keys.is_empty() && declared.configs.is_empty());
    }

    #[test]
    fn json_is_accepted_too() {
        let text = r#"{"configs": [{"slug": "c", "config": {"provider": "openai", "api_key": "k"}}]}"#;
        assert_eq!(parse(text, &env).unwrap().configs[0].slug, "c");
    }

    #[test]
    fn a_missing_env_var_is_named_with_its_path() {
        let text = GOOD.replace("OPENAI_API_KEY", "MISSING_KEY");
        assert_eq!(invalid(&text), ["virtual_keys[0].key: environment variable MISSING_KEY is not set"]);
    }

    #[test]
    fn env_vars_inside_configs_are_substituted_with_paths() {
        let text = "configs:\n  - slug: c\n    config: {provider: openai, api_key: \"${NOPE}\"}\n";
        assert_eq!(invalid(text), ["configs[0].config.api_key: environment variable NOPE is not set"]);
    }

    #[test]
    fn config_validation_errors_carry_the_file_path() {
        let text = "configs:\n  - slug: c\n    config: {strategy: {mode: loadbalance}, targets: [{provider: openai, api_key: k}, {provider: openai, api_key: k, weight: -2}]}\n";
        let problems = invalid(text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("configs[0].config.targets[1].weight: "), "{problems:?}");
    }

    #[test]
    fn a_keys_limits_are_read_and_checked_like_everywhere_else() {
        let text =
            "virtual_keys:\n  - slug: a\n    provider: openai\n    key: k\n    rate_limits: [{type: requests, unit: rpm, value: 5}]\n";
        let declared = parse(text, &env).unwrap();
        assert_eq!(declared.virtual_keys[0].stored_options()["rate_limits"][0]["value"], 5);
        assert_eq!(
            invalid(&text.replace("rpm", "rps")),
            ["virtual_keys[0].rate_limits[0].unit: unknown unit \"rps\" (expected rpm, rph, rpd)"]
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_where_they_are() {
        let text = "virtual_keys:\n  - slug: a\n    provider: openai\n    key: k\n    kye: x\n    region: eu\n";
        let expected = "virtual_keys[0].region: unknown key (expected one of slug, name, provider, key, note, \
                        custom_host, resource_name, deployment_id, api_version, deployment_config, anthropic_version, \
                        anthropic_beta, rate_limits, usage_limits)";
        assert_eq!(invalid(text), ["virtual_keys[0].kye: unknown key (did you mean \"key\"?)", expected]);
        assert!(syntax("virtual_key: []\n").contains("unknown field `virtual_key`"));
    }

    #[test]
    fn provider_options_are_the_same_as_everywhere_else() {
        let text = "virtual_keys:\n  - slug: a\n    provider: anthropic\n    key: k\n    anthropic_beta: ${OPENAI_API_KEY}\n    custom_host: http://h/v1/\n";
        let key = &parse(text, &env).unwrap().virtual_keys[0];
        let stored = Value::Object(key.options.to_map());
        assert_eq!(
            stored,
            serde_json::json!({"custom_host": "http://h/v1", "anthropic_beta": "sk-env-0123456789abcdef"})
        );
        let bad = "virtual_keys:\n  - {slug: a, provider: openai, key: k, deployment_config: [{deployment_name: d}]}\n";
        assert_eq!(invalid(bad), ["virtual_keys[0].deployment_config: only used by provider \"azure-openai\""]);
    }

    #[test]
    fn broken_yaml_is_a_syntax_error() {
        assert!(!syntax("virtual_keys: [\n").is_empty());
    }

    #[test]
    fn a_secret_in_the_wrong_place_is_not_quoted_back() {
        let message = syntax("virtual_keys: sk-live-very-secret-value\n");
        assert!(!message.contains("sk-live-very-secret-value"), "{message}");
    }

    #[test]
    fn duplicate_slugs_are_refused() {
        let text = "configs:\n  - {slug: c, config: {provider: openai, api_key: k}}\n  - {slug: c, config: {provider: openai, api_key: k}}\n";
        assert_eq!(invalid(text), ["configs[1].slug: \"c\" is already declared at configs[0]"]);
    }

    #[test]
    fn every_key_problem_is_reported_at_once() {
        let text = "virtual_keys:\n  - {slug: 'bad slug', provider: openia, key: k}\n  - {slug: az, provider: azure-openai, key: k, resource_name: r}\n";
        let problems = invalid(text);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("virtual_keys[0].slug: "));
        assert!(problems[1].starts_with("virtual_keys[0].provider: unknown provider \"openia\""));
        assert!(problems[2].starts_with("virtual_keys[1].deployment_id: required"));
    }

    #[test]
    fn redaction_hides_quoted_strings_only() {
        let message = r#"invalid type: string "sk-\"x\"-secret", expected a sequence at line 1"#;
        assert_eq!(redact_strings(message), r#"invalid type: string "…", expected a sequence at line 1"#);
        assert_eq!(redact_strings("unknown field `kye`"), "unknown field `kye`");
    }
}
