//! A virtual key's provider options, as the admin API reads and checks them: the Azure
//! resource and deployments, Anthropic's version headers, a base URL, and usage / rate
//! limits. They are stored under the names [`crate::control::key_options`] reads on the hot
//! path, and the provider rules are checked through that same function, so a key that is
//! accepted here is a key the executor can call with.

use serde_json::{Map, Value};
use switchboard_core::provider::{self, Family};

use super::fields::{kind, Fields};
use crate::control::key_options;

/// Text options: the stored name, then the spellings clients send (each also in camelCase).
/// The first spelling names the field in errors.
const TEXT_OPTIONS: [(&str, &[&str]); 6] = [
    ("resource_name", &["resource_name"]),
    ("deployment_id", &["deployment_name", "deployment_id"]),
    ("api_version", &["api_version"]),
    ("anthropic_version", &["anthropic_version"]),
    ("anthropic_beta", &["anthropic_beta"]),
    ("custom_host", &["custom_host", "base_url"]),
];

/// Options only one provider family uses: (stored name, field name, owner, owner's id).
const OWNED: [(&str, &str, Family, &str); 6] = [
    ("resource_name", "resource_name", Family::Azure, "azure-openai"),
    ("deployment_id", "deployment_name", Family::Azure, "azure-openai"),
    ("api_version", "api_version", Family::Azure, "azure-openai"),
    ("deployment_config", "deployment_config", Family::Azure, "azure-openai"),
    ("anthropic_version", "anthropic_version", Family::Anthropic, "anthropic"),
    ("anthropic_beta", "anthropic_beta", Family::Anthropic, "anthropic"),
];

/// The options a body sets, as a patch over the stored ones: `null` removes an option.
pub fn read(fields: &mut Fields) -> Map<String, Value> {
    let mut patch = Map::new();
    for (stored, names) in TEXT_OPTIONS {
        let value = match fields.take(names) {
            None => continue,
            Some(Value::Null) => Value::Null,
            Some(value) if stored == "custom_host" => base_url(fields, names[0], &value),
            Some(value) => text(fields, names[0], value),
        };
        patch.insert(stored.to_string(), value);
    }
    if let Some(value) = fields.take(&["deployment_config"]) {
        patch.insert("deployment_config".into(), deployments(fields, value));
    }
    if let Some(value) = fields.take(&["usage_limits"]) {
        patch.insert("usage_limits".into(), shaped(fields, "usage_limits", value, Value::is_object, "an object"));
    }
    if let Some(value) = fields.take(&["rate_limits"]) {
        patch.insert("rate_limits".into(), shaped(fields, "rate_limits", value, Value::is_array, "an array"));
    }
    patch
}

/// `options` with `patch` applied.
pub fn apply(mut options: Map<String, Value>, patch: Map<String, Value>) -> Map<String, Value> {
    for (key, value) in patch {
        if value.is_null() {
            options.remove(&key);
        } else {
            options.insert(key, value);
        }
    }
    options
}

/// The provider exists, carries no other provider's options, and has what it needs to be
/// called (Azure: a resource or base URL, a deployment and an API version).
pub fn check_provider(fields: &mut Fields, provider: &str, options: &Map<String, Value>) {
    let Some(spec) = provider::lookup(provider) else {
        let known = provider::known_ids();
        fields.problem("provider", format!("unknown provider \"{provider}\" (expected one of {known})"));
        return;
    };
    for (stored, field, owner, owner_id) in OWNED {
        if owner != spec.family && options.contains_key(stored) {
            fields.problem(
                field,
                format!("only used by provider \"{owner_id}\" (this key's provider is \"{provider}\")"),
            );
        }
    }
    if spec.family == Family::Azure {
        azure_rules(fields, options);
    }
}

fn azure_rules(fields: &mut Fields, options: &Map<String, Value>) {
    let (resolved, host) = key_options(options);
    let needs = "required for provider \"azure-openai\"";
    if resolved.resource_name.is_none() && host.is_none() {
        fields.problem("resource_name", format!("{needs} (or set custom_host)"));
    }
    if resolved.deployment_id.is_none() && !fields.has_problem("deployment_config") {
        fields.problem("deployment_name", format!("{needs} (or a deployment_config entry)"));
    }
    if resolved.api_version.is_none() && !fields.has_problem("deployment_config") {
        fields.problem("api_version", format!("{needs} (here or in the default deployment_config entry)"));
    }
}

/// Null on a problem (the body is refused anyway).
fn text(fields: &mut Fields, field: &str, value: Value) -> Value {
    match value {
        Value::String(s) if !s.trim().is_empty() => Value::String(s),
        other => {
            fields.problem(field, format!("expected a non-empty string, got {}", kind(&other)));
            Value::Null
        }
    }
}

/// An http(s) base URL, without a trailing `/`.
fn base_url(fields: &mut Fields, field: &str, value: &Value) -> Value {
    let text = value.as_str().unwrap_or_default();
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '?' || c == '#';
    if rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(bad_char)) {
        return Value::String(text.trim_end_matches('/').to_string());
    }
    fields.problem(field, format!("expected an http(s) URL such as \"https://example.com/v1\", got {}", kind(value)));
    Value::Null
}

fn shaped(fields: &mut Fields, field: &str, value: Value, ok: fn(&Value) -> bool, what: &str) -> Value {
    if ok(&value) {
        return value;
    }
    fields.problem(field, format!("expected {what}, got {}", kind(&value)));
    Value::Null
}

/// Azure deployments: `[{deployment_name, api_version?, alias?, is_default?}]`, stored in
/// snake_case whatever the spelling sent (Portkey's docs use `deploymentName`, `apiVersion`).
fn deployments(fields: &mut Fields, value: Value) -> Value {
    let items = match value {
        Value::Null => return Value::Null,
        Value::Array(items) if !items.is_empty() => items,
        other => {
            let example = r#"[{"deployment_name": "gpt-4o", "api_version": "2024-02-01", "is_default": true}]"#;
            fields.problem(
                "deployment_config",
                format!("expected a non-empty array like {example}, got {}", kind(&other)),
            );
            return Value::Null;
        }
    };
    let entries: Vec<Value> = items.into_iter().enumerate().map(|(i, item)| deployment(fields, i, item)).collect();
    let defaults = entries.iter().filter(|e| e.get("is_default") == Some(&Value::Bool(true))).count();
    if defaults > 1 {
        fields.problem("deployment_config", format!("{defaults} entries have is_default: true; at most one may"));
    }
    Value::Array(entries)
}

fn deployment(fields: &mut Fields, index: usize, item: Value) -> Value {
    let field = format!("deployment_config[{index}]");
    let Value::Object(map) = item else {
        fields.problem(&field, format!("expected an object, got {}", kind(&item)));
        return Value::Null;
    };
    let mut entry = Fields::new(fields.path(&format!("{field}.")), map);
    let name = entry.text(&["deployment_name", "deployment_id"]);
    let name = entry.require("deployment_name", name, "the Azure deployment's name");
    let mut out = Map::new();
    out.insert("deployment_name".into(), name.map_or(Value::Null, Value::String));
    for key in ["api_version", "alias", "ai_model_name"] {
        if let Some(text) = entry.text(&[key]) {
            out.insert(key.into(), Value::String(text));
        }
    }
    if let Some(is_default) = entry.boolean(&["is_default"]) {
        out.insert("is_default".into(), Value::Bool(is_default));
    }
    fields.absorb(entry);
    Value::Object(out)
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use serde_json::json;

    fn checked(provider: &str, body: Value) -> (Map<String, Value>, Result<(), String>) {
        let mut fields = Fields::new("virtual_key.", body.as_object().cloned().unwrap());
        let options = apply(Map::new(), read(&mut fields));
        check_provider(&mut fields, provider, &options);
        (options, fields.finish().map_err(|e| e.to_string()))
    }

    #[test]
    fn camel_case_azure_fields_are_stored_as_control_reads_them() {
        let body = json!({"resourceName": "res", "deploymentName": "gpt35", "apiVersion": "2024-02-01"});
        let (options, result) = checked("azure-openai", body);
        assert_eq!(result, Ok(()));
        assert_eq!(
            Value::Object(options),
            json!({"resource_name": "res", "deployment_id": "gpt35", "api_version": "2024-02-01"})
        );
    }

    #[test]
    fn azure_deployment_may_come_from_the_default_deployment_config_entry() {
        let body = json!({"base_url": "http://mock/openai/", "deploymentConfig": [
            {"deploymentName": "a", "apiVersion": "v1"}, {"deploymentName": "b", "apiVersion": "v2", "is_default": true}]});
        let (options, result) = checked("azure-openai", body);
        assert_eq!(result, Ok(()));
        assert_eq!(options["custom_host"], "http://mock/openai");
        assert_eq!(
            options["deployment_config"][1],
            json!({"deployment_name": "b", "api_version": "v2", "is_default": true})
        );
    }

    #[test]
    fn azure_without_resource_deployment_or_version_names_each_field() {
        let (_, result) = checked("azure-openai", json!({}));
        let err = result.unwrap_err();
        for field in ["resource_name", "deployment_name", "api_version"] {
            assert!(err.contains(&format!("virtual_key.{field}: required for provider \"azure-openai\"")), "{err}");
        }
    }

    #[test]
    fn another_providers_options_are_refused() {
        let (_, result) = checked("openai", json!({"resource_name": "r", "anthropic_version": "2023-06-01"}));
        let err = result.unwrap_err();
        assert!(err.contains("virtual_key.resource_name: only used by provider \"azure-openai\""), "{err}");
        assert!(err.contains("virtual_key.anthropic_version: only used by provider \"anthropic\""), "{err}");
    }

    #[test]
    fn unknown_provider_lists_the_known_ones() {
        let (_, result) = checked("open-ai", json!({}));
        let err = result.unwrap_err();
        assert!(
            err.starts_with("virtual_key.provider: unknown provider \"open-ai\" (expected one of openai, "),
            "{err}"
        );
    }

    #[test]
    fn deployment_entries_need_a_name_and_known_fields() {
        let (_, result) = checked(
            "azure-openai",
            json!({"resource_name": "r", "deployment_config": [{"apiVersion": "v", "modle": "x"}]}),
        );
        let err = result.unwrap_err();
        assert!(err.contains("virtual_key.deployment_config[0].deployment_name: required"), "{err}");
        assert!(err.contains("virtual_key.deployment_config[0].modle: unknown field"), "{err}");
    }

    #[test]
    fn null_removes_an_option() {
        let stored = json!({"custom_host": "http://h", "usage_limits": {"credit_limit": 10}});
        let mut fields = Fields::new("virtual_key.", json!({"customHost": null}).as_object().cloned().unwrap());
        let options = apply(stored.as_object().cloned().unwrap(), read(&mut fields));
        assert_eq!(Value::Object(options), json!({"usage_limits": {"credit_limit": 10}}));
    }
}
