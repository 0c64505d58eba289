//! A virtual key's options, as the admin API reads them: the provider options (checked by
//! core's [`check_options`], the rules every virtual key and config target meets) and the
//! usage / rate limits (checked by core's [`from_options`], the rule API keys, the CLI and
//! the declarative file meet too), stored beside them. This module only maps the spellings
//! the Portkey SDKs send (camelCase, `deployment_name`, `base_url`) onto the option names and
//! applies a body as a patch over the stored options; it checks nothing itself.

use serde_json::{Map, Value};
use switchboard_core::limits::{from_options, LIMIT_KEYS};
use switchboard_core::problem::snake_case;
use switchboard_core::provider::{check_options, provider_spec, Elsewhere, OPTION_KEYS};

use super::fields::Fields;

/// Where admin errors put the options (`virtual_key.api_version`).
const AT: &str = "virtual_key";

/// Other spellings the SDKs send for an option (each also in camelCase).
const ALIASES: [(&str, &str); 2] = [("deployment_id", "deployment_name"), ("custom_host", "base_url")];

/// The options a body sets, as a patch over the stored ones: `null` removes an option.
pub fn read(fields: &mut Fields) -> Map<String, Value> {
    let mut patch = Map::new();
    for key in OPTION_KEYS {
        let alias = ALIASES.iter().find(|(k, _)| *k == key).map(|(_, alias)| *alias);
        let names: Vec<&'static str> = std::iter::once(key).chain(alias).collect();
        if let Some(value) = fields.take(&names) {
            patch.insert(key.to_string(), if key == "deployment_config" { snake_entries(value) } else { value });
        }
    }
    for key in LIMIT_KEYS {
        if let Some(value) = fields.take(&[key]) {
            patch.insert(key.to_string(), value);
        }
    }
    patch
}

/// Deployment entries in snake_case whatever the spelling sent (Portkey's docs use
/// `deploymentName`, `apiVersion`), `deployment_id` read as `deployment_name`.
fn snake_entries(value: Value) -> Value {
    let Value::Array(items) = value else { return value };
    let entry = |item: Value| match item {
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (entry_key(&k), v)).collect()),
        other => other,
    };
    Value::Array(items.into_iter().map(entry).collect())
}

fn entry_key(key: &str) -> String {
    match snake_case(key) {
        id if id == "deployment_id" => "deployment_name".to_string(),
        other => other,
    }
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

/// The options to store for a key of `provider`, checked by core: the provider exists, its
/// options are its own and well-formed, it has what it needs to be called, and its limits
/// have Portkey's shapes. `None` when a problem was recorded.
pub fn check_provider(fields: &mut Fields, provider: &str, options: Map<String, Value>) -> Option<Map<String, Value>> {
    if let Err(message) = provider_spec(provider) {
        fields.problem("provider", message);
        return None;
    }
    let (limits, provider_options): (Map<String, Value>, Map<String, Value>) =
        options.into_iter().partition(|(key, _)| LIMIT_KEYS.contains(&key.as_str()));
    let limits_ok = from_options(&limits, AT).map_err(|problems| fields.extend(problems)).is_ok();
    match check_options(Some(provider), &provider_options, AT, Elsewhere::default()) {
        Ok(checked) if limits_ok => Some(checked.to_map().into_iter().chain(limits).collect()),
        Ok(_) => None,
        Err(problems) => {
            fields.extend(problems);
            None
        }
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use serde_json::json;

    fn checked(provider: &str, body: Value) -> (Map<String, Value>, Result<(), String>) {
        let mut fields = Fields::new("virtual_key.", body.as_object().cloned().unwrap());
        let options = apply(Map::new(), read(&mut fields));
        let stored = check_provider(&mut fields, provider, options).unwrap_or_default();
        (stored, fields.finish().map_err(|e| e.to_string()))
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
        for field in ["resource_name", "deployment_id", "api_version"] {
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
    fn limits_are_kept_next_to_the_checked_provider_options() {
        let body = json!({"baseUrl": "http://mock/v1/", "usage_limits": {"credit_limit": 10}});
        let (options, result) = checked("openai", body);
        assert_eq!(result, Ok(()));
        assert_eq!(
            Value::Object(options),
            json!({"custom_host": "http://mock/v1", "usage_limits": {"credit_limit": 10}})
        );
        let (_, result) = checked("openai", json!({"rate_limits": {}}));
        assert_eq!(
            result,
            Err("virtual_key.rate_limits: expected an array of {type, unit, value}, got an object".to_string())
        );
        let (_, result) = checked("openai", json!({"rate_limits": [{"type": "requests", "unit": "rps", "value": 1}]}));
        assert_eq!(
            result,
            Err("virtual_key.rate_limits[0].unit: unknown unit \"rps\" (expected rpm, rph, rpd)".to_string())
        );
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
        assert!(err.contains("virtual_key.deployment_config[0].modle: unknown key"), "{err}");
    }

    #[test]
    fn null_removes_an_option() {
        let stored = json!({"custom_host": "http://h", "usage_limits": {"credit_limit": 10}});
        let mut fields = Fields::new("virtual_key.", json!({"customHost": null}).as_object().cloned().unwrap());
        let options = apply(stored.as_object().cloned().unwrap(), read(&mut fields));
        assert_eq!(Value::Object(options), json!({"usage_limits": {"credit_limit": 10}}));
    }
}
