//! What a virtual key and a saved config must look like before they are stored, shared by the
//! declarative file and the CLI: slug rules, known provider ids, and config validation with
//! paths. A key's provider options are checked by core's [`check_options`] (the rules the
//! admin API and inline configs also apply), its `rate_limits` / `usage_limits` by core's
//! [`from_options`]. Pure: no store, no environment, no I/O.
//! Problems name the field and never quote a secret.

use serde_json::{Map, Value};
use switchboard_core::config::validate_config;
use switchboard_core::limits::{from_options, LIMIT_KEYS};
use switchboard_core::problem::join;
pub use switchboard_core::problem::{Problem, Problems};
use switchboard_core::provider::{check_options, provider_spec, CheckedOptions, Elsewhere};
use switchboard_store::Secret;

/// Longest slug accepted.
pub const MAX_SLUG_CHARS: usize = 64;

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

/// A virtual key as written (in the file, on the command line), before it is checked.
/// `Debug` hides the secret.
#[derive(Debug, Clone)]
pub struct KeyDraft {
    pub slug: String,
    pub name: String,
    pub provider: String,
    pub secret: Secret,
    /// Provider options by name (`resource_name`, `custom_host`, …) and the limits
    /// (`rate_limits`, `usage_limits`), unchecked.
    pub options: Map<String, Value>,
    pub note: Option<String>,
}

/// A virtual key ready to seal and store. `Debug` hides the secret.
#[derive(Debug, Clone)]
pub struct KeySpec {
    pub slug: String,
    pub name: String,
    pub provider: String,
    pub secret: Secret,
    pub options: CheckedOptions,
    /// `rate_limits` and `usage_limits`, checked, as written.
    pub limits: Map<String, Value>,
    pub note: Option<String>,
}

impl KeySpec {
    /// What the store keeps as the key's options: the provider options and the limits.
    pub fn stored_options(&self) -> Map<String, Value> {
        self.options.to_map().into_iter().chain(self.limits.clone()).collect()
    }
}

impl KeyDraft {
    /// The key, or every problem with it; each path is `at.<field>` (just `<field>` when
    /// `at` is empty, as for the CLI, which then names its flags).
    pub fn check(self, at: &str) -> Result<KeySpec, Problems> {
        let mut problems = Problems::default();
        if let Some(message) = slug_problem(&self.slug) {
            problems.push(join(at, "slug"), message);
        }
        if self.name.trim().is_empty() {
            problems.push(join(at, "name"), "must not be empty");
        }
        if self.secret.expose().trim().is_empty() {
            problems.push(join(at, "key"), "is empty");
        }
        if let Err(message) = provider_spec(&self.provider) {
            problems.push(join(at, "provider"), message);
        }
        let (limits, provider_options): (Map<String, Value>, Map<String, Value>) =
            self.options.clone().into_iter().partition(|(key, _)| LIMIT_KEYS.contains(&key.as_str()));
        if let Err(found) = from_options(&limits, at) {
            problems.extend(found);
        }
        let options = check_options(Some(&self.provider), &provider_options, at, Elsewhere::default())
            .map_err(|found| problems.extend(found))
            .ok();
        let KeyDraft { slug, name, provider, secret, note, .. } = self;
        match options {
            Some(options) if problems.is_empty() => Ok(KeySpec { slug, name, provider, secret, options, limits, note }),
            _ => Err(problems),
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

    fn draft(provider: &str, options: Value) -> KeyDraft {
        KeyDraft {
            slug: "k".into(),
            name: "K".into(),
            provider: provider.into(),
            secret: Secret::new("sk-test-0123456789"),
            options: options.as_object().cloned().unwrap(),
            note: None,
        }
    }

    fn paths(found: Result<KeySpec, Problems>) -> Vec<String> {
        found.err().map(|problems| problems.0.into_iter().map(|p| p.path).collect()).unwrap_or_default()
    }

    const AT: &str = "virtual_keys[0]";

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
        let problems = draft("openia", json!({})).check(AT).unwrap_err();
        assert_eq!(problems.0.len(), 1);
        assert_eq!(problems.0[0].path, "virtual_keys[0].provider");
        assert!(problems.0[0].message.contains("\"openia\"") && problems.0[0].message.contains("openai"));
    }

    #[test]
    fn provider_options_are_checked_at_the_keys_path() {
        let expected =
            ["virtual_keys[0].resource_name", "virtual_keys[0].deployment_id", "virtual_keys[0].api_version"];
        assert_eq!(paths(draft("azure-openai", json!({})).check(AT)), expected);
        assert_eq!(
            paths(draft("openai", json!({"custom_host": "gw.internal"})).check(AT)),
            ["virtual_keys[0].custom_host"]
        );
        let spec = draft("openai", json!({"custom_host": "http://h/"})).check(AT).unwrap();
        assert_eq!(Value::Object(spec.options.to_map()), json!({"custom_host": "http://h"}));
    }

    #[test]
    fn limits_are_checked_by_the_one_rule_and_stored_beside_the_options() {
        let limits = json!({"rate_limits": [{"type": "requests", "unit": "rps", "value": 1}]});
        assert_eq!(paths(draft("openai", limits).check(AT)), ["virtual_keys[0].rate_limits[0].unit"]);
        let good = json!({"custom_host": "http://h", "usage_limits": {"credit_limit": 5}});
        let spec = draft("openai", good).check(AT).unwrap();
        assert_eq!(
            Value::Object(spec.stored_options()),
            json!({"custom_host": "http://h", "usage_limits": {"credit_limit": 5}})
        );
    }

    #[test]
    fn empty_key_is_refused_without_echoing_anything() {
        let mut spec = draft("openai", json!({}));
        spec.secret = Secret::new("  ");
        assert_eq!(paths(spec.check(AT)), ["virtual_keys[0].key"]);
    }

    #[test]
    fn config_problems_carry_the_prefix() {
        let bad = json!({"strategy": {"mode": "loadbalance"}, "targets": [{"provider": "openai", "api_key": "k", "weight": -1}]});
        let problems = config_json(&bad, "configs[0].").unwrap_err();
        assert_eq!(
            problems.0.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
            ["configs[0].config.targets[0].weight"]
        );
    }

    #[test]
    fn valid_config_is_stored_as_compact_json_in_its_order() {
        let good = json!({"provider": "openai", "api_key": "k"});
        assert_eq!(config_json(&good, "").unwrap(), r#"{"provider":"openai","api_key":"k"}"#);
    }
}
