//! What a virtual key and a saved config must look like before they are stored, shared by the
//! declarative file and the CLI: slug rules, known provider ids, which provider options a
//! provider takes, and config validation with paths. Pure: no store, no environment, no I/O.
//! Problems name the field and never quote a secret.

use std::fmt;

use serde_json::{Map, Value};
use switchboard_core::config::validate_config;
use switchboard_core::provider::{known_ids, lookup, Family};
use switchboard_store::Secret;

/// Longest slug accepted.
pub const MAX_SLUG_CHARS: usize = 64;

/// One problem, at its path (`virtual_keys[0].provider`, `--provider`, `config.targets[1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { path: path.into(), message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was found, else these problems.
    pub fn or<T>(self, value: T) -> Result<T, Problems> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self.0.iter().map(Problem::to_string).collect();
        f.write_str(&all.join("; "))
    }
}

/// Why `slug` cannot be a slug, if it cannot.
pub fn slug_problem(slug: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if slug.is_empty() {
        Some("must not be empty".to_owned())
    } else if slug.chars().count() > MAX_SLUG_CHARS {
        Some(format!("must be at most {MAX_SLUG_CHARS} characters"))
    } else if !slug.chars().all(allowed) {
        Some(format!("\"{slug}\" may contain only letters, digits, '-', '_' and '.'"))
    } else {
        None
    }
}

/// A slug made from a display name: lowercase letters and digits, other runs become `-`.
pub fn slugify(name: &str) -> String {
    let mapped: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let joined = mapped.split('-').filter(|part| !part.is_empty()).collect::<Vec<_>>().join("-");
    joined.chars().take(MAX_SLUG_CHARS).collect::<String>().trim_end_matches('-').to_owned()
}

/// Non-secret provider settings of a virtual key, stored as its `options`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyOptions {
    pub resource_name: Option<String>,
    pub deployment_id: Option<String>,
    pub api_version: Option<String>,
    pub custom_host: Option<String>,
}

impl KeyOptions {
    fn fields(&self) -> [(&'static str, &Option<String>); 4] {
        [
            ("resource_name", &self.resource_name),
            ("deployment_id", &self.deployment_id),
            ("api_version", &self.api_version),
            ("custom_host", &self.custom_host),
        ]
    }

    /// The options map as the store and the control plane read it (unset fields left out).
    pub fn to_map(&self) -> Map<String, Value> {
        let set = self.fields().into_iter().filter_map(|(k, v)| Some((k.to_owned(), Value::String(v.clone()?))));
        set.collect()
    }
}

/// A virtual key ready to seal and store. `Debug` hides the secret.
#[derive(Debug, Clone)]
pub struct KeySpec {
    pub slug: String,
    pub name: String,
    pub provider: String,
    pub secret: Secret,
    pub options: KeyOptions,
    pub note: Option<String>,
}

impl KeySpec {
    /// Every problem with this key; `at` turns a field name (`provider`, `key`, …) into the
    /// path shown to the user.
    pub fn problems(&self, at: &dyn Fn(&str) -> String) -> Problems {
        let mut problems = Problems::default();
        if let Some(message) = slug_problem(&self.slug) {
            problems.push(at("slug"), message);
        }
        if self.name.trim().is_empty() {
            problems.push(at("name"), "must not be empty");
        }
        if self.secret.expose().trim().is_empty() {
            problems.push(at("key"), "is empty");
        }
        let family = lookup(&self.provider).map(|spec| spec.family);
        if family.is_none() {
            let message = format!("unknown provider \"{}\" (expected one of {})", self.provider, known_ids());
            problems.push(at("provider"), message);
        }
        self.option_problems(family, at, &mut problems);
        problems
    }

    /// `custom_host` must be an http(s) URL. Azure's options only on Azure, where they are
    /// required (`resource_name` unless a `custom_host` replaces it); with an unknown
    /// provider there is nothing to hold them against.
    fn option_problems(&self, family: Option<Family>, at: &dyn Fn(&str) -> String, problems: &mut Problems) {
        let options = &self.options;
        if let Some(host) = &options.custom_host {
            if !(host.starts_with("http://") || host.starts_with("https://")) {
                problems.push(at("custom_host"), "must be an http:// or https:// URL");
            }
        }
        let Some(family) = family else { return };
        for (field, value) in options.fields().into_iter().take(3) {
            let needed = !(field == "resource_name" && options.custom_host.is_some());
            match (family == Family::Azure, value.is_some()) {
                (false, true) => problems.push(at(field), "only used by provider \"azure-openai\""),
                (true, false) if needed => problems.push(at(field), "required for provider \"azure-openai\""),
                _ => {}
            }
        }
    }
}

/// Validates a config and returns its JSON text as stored; problems carry `prefix` before
/// the validator's path (`configs[0].` + `config.targets[1].weight`).
pub fn config_json(config: &Value, prefix: &str) -> Result<String, Problems> {
    match validate_config(config) {
        Ok(_) => serde_json::to_string(config)
            .map_err(|e| Problems(vec![Problem { path: format!("{prefix}config"), message: e.to_string() }])),
        Err(errors) => Err(Problems(
            errors.0.into_iter().map(|e| Problem { path: format!("{prefix}{}", e.path), message: e.message }).collect(),
        )),
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails loudly")]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(provider: &str, options: KeyOptions) -> KeySpec {
        KeySpec {
            slug: "k".into(),
            name: "K".into(),
            provider: provider.into(),
            secret: Secret::new("sk-test-0123456789"),
            options,
            note: None,
        }
    }

    fn paths(problems: &Problems) -> Vec<String> {
        problems.0.iter().map(|p| p.path.clone()).collect()
    }

    fn at(field: &str) -> String {
        format!("virtual_keys[0].{field}")
    }

    #[test]
    fn slugs_are_letters_digits_dash_underscore_dot() {
        assert_eq!(slug_problem("openai-prod_1.v2"), None);
        assert!(slug_problem("").is_some());
        assert!(slug_problem("has space").is_some());
        assert!(slug_problem("{json").is_some());
        assert!(slug_problem(&"a".repeat(MAX_SLUG_CHARS + 1)).is_some());
    }

    #[test]
    fn slugify_lowercases_and_joins_words_with_dashes() {
        assert_eq!(slugify("OpenAI prod"), "openai-prod");
        assert_eq!(slugify("  Azure (EU) / west  "), "azure-eu-west");
        assert_eq!(slugify("élan"), "lan");
    }

    #[test]
    fn unknown_provider_is_named_with_the_known_ones() {
        let problems = key("openia", KeyOptions::default()).problems(&at);
        assert_eq!(paths(&problems), ["virtual_keys[0].provider"]);
        assert!(problems.0[0].message.contains("\"openia\"") && problems.0[0].message.contains("openai"));
    }

    #[test]
    fn azure_needs_resource_deployment_and_version() {
        let problems = key("azure-openai", KeyOptions::default()).problems(&at);
        let expected =
            ["virtual_keys[0].resource_name", "virtual_keys[0].deployment_id", "virtual_keys[0].api_version"];
        assert_eq!(paths(&problems), expected);
    }

    #[test]
    fn azure_with_custom_host_needs_no_resource_name() {
        let options = KeyOptions {
            custom_host: Some("https://gw.internal/openai".into()),
            deployment_id: Some("d".into()),
            api_version: Some("2024-02-01".into()),
            ..KeyOptions::default()
        };
        assert!(key("azure-openai", options).problems(&at).is_empty());
    }

    #[test]
    fn azure_options_on_another_provider_are_refused() {
        let options = KeyOptions { resource_name: Some("r".into()), ..KeyOptions::default() };
        assert_eq!(paths(&key("openai", options).problems(&at)), ["virtual_keys[0].resource_name"]);
    }

    #[test]
    fn custom_host_must_be_http() {
        let options = KeyOptions { custom_host: Some("gw.internal".into()), ..KeyOptions::default() };
        assert_eq!(paths(&key("openai", options).problems(&at)), ["virtual_keys[0].custom_host"]);
    }

    #[test]
    fn empty_key_is_refused_without_echoing_anything() {
        let mut spec = key("openai", KeyOptions::default());
        spec.secret = Secret::new("  ");
        assert_eq!(paths(&spec.problems(&at)), ["virtual_keys[0].key"]);
    }

    #[test]
    fn options_map_keeps_only_set_fields() {
        let options = KeyOptions { custom_host: Some("http://h".into()), ..KeyOptions::default() };
        assert_eq!(Value::Object(options.to_map()), json!({"custom_host": "http://h"}));
    }

    #[test]
    fn config_problems_carry_the_prefix() {
        let bad = json!({"strategy": {"mode": "loadbalance"}, "targets": [{"provider": "openai", "api_key": "k", "weight": -1}]});
        let problems = config_json(&bad, "configs[0].").unwrap_err();
        assert_eq!(paths(&problems), ["configs[0].config.targets[0].weight"]);
    }

    #[test]
    fn valid_config_is_stored_as_compact_json_in_its_order() {
        let good = json!({"provider": "openai", "api_key": "k"});
        assert_eq!(config_json(&good, "").unwrap(), r#"{"provider":"openai","api_key":"k"}"#);
    }
}
