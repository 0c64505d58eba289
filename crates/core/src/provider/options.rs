//! Provider options: the settings that only some providers take (Azure's resource,
//! deployment and API version, Anthropic's version headers), plus `custom_host`, which
//! replaces any provider's base URL. This is the one place they are named and checked:
//! [`check_options`] is called for an inline config's targets, the admin API's and the
//! declarative file's virtual keys, the CLI's flags, and the stored options the hot path
//! reads back, so all of them accept and refuse the same options with the same messages.
//!
//! It owns the option table, the rules (type, owner provider, Azure's required trio, the
//! URL rule, `deployment_config`'s shape) and the checked type [`CheckedOptions`], which
//! only [`check_options`] builds. It must not know where the options came from: callers
//! hand it a JSON map and a path prefix, and map spellings (camelCase, SDK aliases) first.

use serde_json::{Map, Value};

use super::{known_ids, lookup, Family, ProviderSpec};
use crate::problem::{got, join, kind, unknown_key, Problems};

/// Provider-specific settings of one call, flat: what a codec reads. Built from
/// [`CheckedOptions::call_options`], or from a request's `x-portkey-*` headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderOptions {
    pub resource_name: Option<String>,
    pub deployment_id: Option<String>,
    pub api_version: Option<String>,
    pub anthropic_version: Option<String>,
    pub anthropic_beta: Option<String>,
}

impl ProviderOptions {
    /// Each option from `self`, else from `fallback`: how a target's options layer over its
    /// virtual key's and the request's headers.
    pub fn or(&self, fallback: &ProviderOptions) -> ProviderOptions {
        let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        ProviderOptions {
            resource_name: pick(&self.resource_name, &fallback.resource_name),
            deployment_id: pick(&self.deployment_id, &fallback.deployment_id),
            api_version: pick(&self.api_version, &fallback.api_version),
            anthropic_version: pick(&self.anthropic_version, &fallback.anthropic_version),
            anthropic_beta: pick(&self.anthropic_beta, &fallback.anthropic_beta),
        }
    }
}

/// How one option is read.
#[derive(Clone, Copy)]
enum Kind {
    /// A non-blank string, kept in this slot of the written options.
    Text(fn(&mut ProviderOptions) -> &mut Option<String>),
    /// An http(s) base URL ([`custom_host_url`]).
    Url,
    /// Azure's list of deployments.
    Deployments,
}

struct Field {
    key: &'static str,
    /// The provider family that uses it (and that family's provider id); `None`: every provider.
    owner: Option<(Family, &'static str)>,
    kind: Kind,
}

const AZURE: Option<(Family, &str)> = Some((Family::Azure, "azure-openai"));
const ANTHROPIC: Option<(Family, &str)> = Some((Family::Anthropic, "anthropic"));

/// Every provider option, in the order problems and stored maps list them.
const FIELDS: [Field; 7] = [
    Field { key: "custom_host", owner: None, kind: Kind::Url },
    Field { key: "resource_name", owner: AZURE, kind: Kind::Text(|o| &mut o.resource_name) },
    Field { key: "deployment_id", owner: AZURE, kind: Kind::Text(|o| &mut o.deployment_id) },
    Field { key: "api_version", owner: AZURE, kind: Kind::Text(|o| &mut o.api_version) },
    Field { key: "deployment_config", owner: AZURE, kind: Kind::Deployments },
    Field { key: "anthropic_version", owner: ANTHROPIC, kind: Kind::Text(|o| &mut o.anthropic_version) },
    Field { key: "anthropic_beta", owner: ANTHROPIC, kind: Kind::Text(|o| &mut o.anthropic_beta) },
];

/// The names of every provider option, in [`FIELDS`] order.
pub const OPTION_KEYS: [&str; FIELDS.len()] = option_keys();

const fn option_keys() -> [&'static str; FIELDS.len()] {
    let mut keys = [""; FIELDS.len()];
    let mut i = 0;
    while i < FIELDS.len() {
        keys[i] = FIELDS[i].key;
        i += 1;
    }
    keys
}

/// Keys of one `deployment_config` entry.
const DEPLOYMENT_KEYS: [&str; 5] = ["deployment_name", "api_version", "alias", "ai_model_name", "is_default"];
const DEPLOYMENTS_EXAMPLE: &str = r#"[{"deployment_name": "gpt-4o", "api_version": "2024-02-01", "is_default": true}]"#;

/// What may supply, around these options, what they lack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Elsewhere {
    /// A `custom_host` set outside these options (an inline config's group): it replaces
    /// Azure's `resource_name`.
    pub custom_host: bool,
    /// A virtual key supplies the rest (an inline target that names one): nothing is required.
    pub virtual_key: bool,
}

/// One Azure deployment of a `deployment_config` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    deployment_name: String,
    api_version: Option<String>,
    alias: Option<String>,
    ai_model_name: Option<String>,
    is_default: Option<bool>,
}

/// Provider options that passed [`check_options`] for their provider: every option present
/// is well-formed and used by that provider, at most one deployment is the default, and an
/// Azure key can be called. Only [`check_options`] builds one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckedOptions {
    /// The text options as written (not resolved from `deployment_config`).
    written: ProviderOptions,
    custom_host: Option<String>,
    deployments: Vec<Deployment>,
}

impl CheckedOptions {
    /// The options a call uses: `deployment_id` and `api_version` fall back to the default
    /// `deployment_config` entry (the one with `is_default: true`, else the first).
    pub fn call_options(&self) -> ProviderOptions {
        let default = self.deployments.iter().find(|d| d.is_default == Some(true)).or(self.deployments.first());
        let mut options = self.written.clone();
        if let Some(default) = default {
            options.deployment_id = options.deployment_id.or_else(|| Some(default.deployment_name.clone()));
            options.api_version = options.api_version.or_else(|| default.api_version.clone());
        }
        options
    }

    /// The base URL that replaces the provider's, without a trailing `/`.
    pub fn custom_host(&self) -> Option<&str> {
        self.custom_host.as_deref()
    }

    /// The stored form: every option set, under its name, in [`FIELDS`] order.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = Map::new();
        for field in &FIELDS {
            let value = match field.kind {
                Kind::Text(slot) => slot(&mut self.written.clone()).clone().map(Value::String),
                Kind::Url => self.custom_host.clone().map(Value::String),
                Kind::Deployments if self.deployments.is_empty() => None,
                Kind::Deployments => Some(Value::Array(self.deployments.iter().map(Deployment::to_value).collect())),
            };
            if let Some(value) = value {
                map.insert(field.key.to_string(), value);
            }
        }
        map
    }
}

impl Deployment {
    fn to_value(&self) -> Value {
        let mut entry = Map::new();
        entry.insert("deployment_name".into(), Value::String(self.deployment_name.clone()));
        let texts =
            [("api_version", &self.api_version), ("alias", &self.alias), ("ai_model_name", &self.ai_model_name)];
        for (key, text) in texts {
            if let Some(text) = text {
                entry.insert(key.into(), Value::String(text.clone()));
            }
        }
        if let Some(is_default) = self.is_default {
            entry.insert("is_default".into(), Value::Bool(is_default));
        }
        Value::Object(entry)
    }
}

/// The provider `id`, or the problem with it (the known ids listed).
pub fn provider_spec(id: &str) -> Result<&'static ProviderSpec, String> {
    lookup(id).ok_or_else(|| format!("unknown provider \"{id}\" (expected one of {})", known_ids()))
}

/// Checks the provider options of one target or virtual key. `provider` is its provider
/// id; when it is `None` or unknown (the caller reports that), only the options' shapes are
/// checked. Every key of `options` must be a provider option. Each problem's path is
/// `at.<option>` (`config.targets[1].api_version`, `virtual_key.deployment_config[0].alias`).
pub fn check_options(
    provider: Option<&str>,
    options: &Map<String, Value>,
    at: &str,
    elsewhere: Elsewhere,
) -> Result<CheckedOptions, Problems> {
    let family = provider.and_then(lookup).map(|spec| spec.family);
    let mut problems = Problems::default();
    let mut checked = CheckedOptions::default();
    for field in &FIELDS {
        let Some(value) = options.get(field.key) else { continue };
        let path = join(at, field.key);
        match (family, field.owner) {
            (Some(family), Some((owner, id))) if family != owner => {
                problems.push(path, format!("only used by provider \"{id}\""));
            }
            _ => read(field.kind, value, &path, &mut checked, &mut problems),
        }
    }
    for key in options.keys().filter(|k| !OPTION_KEYS.contains(&k.as_str())) {
        problems.push(join(at, key), unknown_key(key, &OPTION_KEYS, &OPTION_KEYS));
    }
    if family == Some(Family::Azure) && !elsewhere.virtual_key {
        azure_needs(&checked, at, elsewhere, &mut problems);
    }
    problems.or(checked)
}

fn read(kind: Kind, value: &Value, path: &str, checked: &mut CheckedOptions, problems: &mut Problems) {
    let complaint = match kind {
        Kind::Text(slot) => text(value).map(|text| *slot(&mut checked.written) = Some(text)),
        Kind::Url => custom_host_url(value).map(|url| checked.custom_host = Some(url)),
        Kind::Deployments => {
            checked.deployments = deployments(value, path, problems);
            Ok(())
        }
    };
    if let Err(message) = complaint {
        problems.push(path, message);
    }
}

/// Azure is called at `{resource}.openai.azure.com` (or `custom_host`), per deployment, with
/// an `api-version`: each must come from somewhere. Nothing is said about an option that
/// already has a problem.
fn azure_needs(checked: &CheckedOptions, at: &str, elsewhere: Elsewhere, problems: &mut Problems) {
    let call = checked.call_options();
    let needs = "required for provider \"azure-openai\"";
    let quiet = |keys: &[&str], problems: &Problems| keys.iter().any(|k| problems.has_at(&join(at, k)));
    let has_host = checked.custom_host.is_some() || elsewhere.custom_host;
    let mut missing = Vec::new();
    if call.resource_name.is_none() && !has_host && !quiet(&["resource_name", "custom_host"], problems) {
        missing.push(("resource_name", format!("{needs} (or set custom_host)")));
    }
    if call.deployment_id.is_none() && !quiet(&["deployment_id", "deployment_config"], problems) {
        missing.push(("deployment_id", format!("{needs} (or a deployment_config entry)")));
    }
    if call.api_version.is_none() && !quiet(&["api_version", "deployment_config"], problems) {
        missing.push(("api_version", format!("{needs} (here or in the default deployment_config entry)")));
    }
    missing.into_iter().for_each(|(key, message)| problems.push(join(at, key), message));
}

/// A non-blank string.
fn text(value: &Value) -> Result<String, String> {
    match value.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(format!("expected a non-empty string, got {}", got(value))),
    }
}

/// An http(s) base URL, its trailing `/`s dropped so paths join cleanly. Credentials in it
/// (`user:password@`) are refused: a URL is shown and logged, a key is not.
pub fn custom_host_url(value: &Value) -> Result<String, String> {
    let s = value.as_str().unwrap_or_default();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '?' || c == '#';
    let valid = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(bad_char));
    if !valid {
        // A value with an `@` may hold credentials: describe it, never quote it.
        let quoted = if s.contains('@') { kind(value).to_string() } else { got(value) };
        return Err(format!("expected an http(s) URL such as \"https://example.com/v1\", got {quoted}"));
    }
    if rest.and_then(|r| r.split('/').next()).is_some_and(|authority| authority.contains('@')) {
        return Err("must not contain credentials (user:password@): a URL is shown and logged, a key is not".into());
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// `deployment_config`: a non-empty array of deployments, at most one of them the default.
fn deployments(value: &Value, path: &str, problems: &mut Problems) -> Vec<Deployment> {
    let Some(items) = value.as_array().filter(|items| !items.is_empty()) else {
        problems.push(path, format!("expected a non-empty array like {DEPLOYMENTS_EXAMPLE}, got {}", got(value)));
        return Vec::new();
    };
    let entries: Vec<Option<Deployment>> =
        items.iter().enumerate().map(|(i, item)| deployment(item, &format!("{path}[{i}]"), problems)).collect();
    let entries: Vec<Deployment> = entries.into_iter().flatten().collect();
    let defaults = entries.iter().filter(|d| d.is_default == Some(true)).count();
    if defaults > 1 {
        problems.push(path, format!("{defaults} entries have is_default: true; at most one may"));
    }
    entries
}

fn deployment(item: &Value, path: &str, problems: &mut Problems) -> Option<Deployment> {
    let Some(entry) = item.as_object() else {
        problems.push(path, format!("expected an object, got {}", got(item)));
        return None;
    };
    for key in entry.keys().filter(|k| !DEPLOYMENT_KEYS.contains(&k.as_str())) {
        problems.push(join(path, key), unknown_key(key, &DEPLOYMENT_KEYS, &DEPLOYMENT_KEYS));
    }
    let mut text_at = |key: &str| {
        let value = entry.get(key)?;
        text(value).map_err(|message| problems.push(join(path, key), message)).ok()
    };
    let name = text_at("deployment_name");
    let (api_version, alias, ai_model_name) = (text_at("api_version"), text_at("alias"), text_at("ai_model_name"));
    let is_default =
        entry.get("is_default").and_then(|v| boolean(v).map_err(|m| problems.push(join(path, "is_default"), m)).ok());
    if name.is_none() && !entry.contains_key("deployment_name") {
        problems.push(join(path, "deployment_name"), "required (the Azure deployment's name)");
    }
    Some(Deployment { deployment_name: name?, api_version, alias, ai_model_name, is_default })
}

/// `true` or `false` (also 1 or 0, as Portkey's `is_default` is sometimes sent).
fn boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        other => Err(format!("expected true or false, got {}", got(other))),
    }
}

#[cfg(test)]
mod tests;
