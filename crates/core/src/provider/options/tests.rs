//! One table per rule of [`check_options`]; each case is a provider, the options as sent,
//! and exactly the problems expected (none: accepted).

use super::*;
use serde_json::json;

const AT: &str = "virtual_key";

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("test options must be an object, got {other}"),
    }
}

fn problems(provider: &str, options: Value, elsewhere: Elsewhere) -> Vec<String> {
    match check_options(Some(provider), &map(options), AT, elsewhere) {
        Ok(_) => Vec::new(),
        Err(found) => found.0.iter().map(ToString::to_string).collect(),
    }
}

fn assert_table(cases: &[(&str, Value, &[&str])]) {
    for (provider, options, want) in cases {
        assert_eq!(problems(provider, options.clone(), Elsewhere::default()), *want, "{provider} {options}");
    }
}

fn checked(provider: &str, options: Value) -> CheckedOptions {
    match check_options(Some(provider), &map(options.clone()), AT, Elsewhere::default()) {
        Ok(checked) => checked,
        Err(found) => panic!("{options} should pass for {provider}: {found}"),
    }
}

const AZURE_OK: [(&str, &str); 3] = [("resource_name", "r"), ("deployment_id", "d"), ("api_version", "2024-02-01")];

fn azure(extra: Value) -> Value {
    let mut options: Map<String, Value> = AZURE_OK.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    options.extend(map(extra));
    Value::Object(options)
}

#[test]
fn text_options_must_be_non_blank_strings() {
    assert_table(&[
        ("anthropic", json!({"anthropic_version": "2023-06-01", "anthropic_beta": "tools-2024"}), &[]),
        (
            "azure-openai",
            azure(json!({"api_version": 20240201})),
            &["virtual_key.api_version: expected a non-empty string, got 20240201"],
        ),
        (
            "azure-openai",
            azure(json!({"resource_name": "  "})),
            &["virtual_key.resource_name: expected a non-empty string, got \"  \""],
        ),
        (
            "anthropic",
            json!({"anthropic_beta": null}),
            &["virtual_key.anthropic_beta: expected a non-empty string, got null"],
        ),
        (
            "anthropic",
            json!({"anthropic_beta": ["sk-ant-0123456789abcdef"]}),
            &["virtual_key.anthropic_beta: expected a non-empty string, got an array"],
        ),
    ]);
}

#[test]
fn options_of_another_provider_are_refused() {
    assert_table(&[
        (
            "openai",
            json!({"resource_name": "r", "anthropic_version": "2023-06-01"}),
            &[
                "virtual_key.resource_name: only used by provider \"azure-openai\"",
                "virtual_key.anthropic_version: only used by provider \"anthropic\"",
            ],
        ),
        (
            "anthropic",
            json!({"deployment_config": [{"deployment_name": "d"}]}),
            &["virtual_key.deployment_config: only used by provider \"azure-openai\""],
        ),
        (
            "azure-openai",
            azure(json!({"anthropic_beta": "b"})),
            &["virtual_key.anthropic_beta: only used by provider \"anthropic\""],
        ),
        ("groq", json!({"custom_host": "https://groq.internal/v1"}), &[]),
    ]);
}

#[test]
fn azure_needs_a_resource_a_deployment_and_a_version() {
    let need = "required for provider \"azure-openai\"";
    let resource = format!("virtual_key.resource_name: {need} (or set custom_host)");
    let deployment = format!("virtual_key.deployment_id: {need} (or a deployment_config entry)");
    let version = format!("virtual_key.api_version: {need} (here or in the default deployment_config entry)");
    assert_eq!(problems("azure-openai", json!({}), Elsewhere::default()), [resource.as_str(), &deployment, &version]);
    let with_host = json!({"custom_host": "https://az.internal/openai", "deployment_id": "d"});
    assert_eq!(problems("azure-openai", with_host, Elsewhere::default()), [version.as_str()]);
    let host_around = Elsewhere { custom_host: true, virtual_key: false };
    assert_eq!(problems("azure-openai", json!({"deployment_id": "d"}), host_around), [version.as_str()]);
    let key_supplies = Elsewhere { custom_host: false, virtual_key: true };
    assert_eq!(problems("azure-openai", json!({}), key_supplies), Vec::<String>::new());
    // A bad deployment_config says why; the missing deployment is not reported on top.
    let bad_list = json!({"resource_name": "r", "deployment_config": []});
    assert_eq!(problems("azure-openai", bad_list, Elsewhere::default()).len(), 1);
}

#[test]
fn azure_deployment_and_version_may_come_from_the_default_deployment_config_entry() {
    let options = checked(
        "azure-openai",
        json!({"resource_name": "r", "deployment_config": [
            {"deployment_name": "a", "api_version": "v1"},
            {"deployment_name": "b", "api_version": "v2", "is_default": true}]}),
    );
    let call = options.call_options();
    assert_eq!((call.deployment_id.as_deref(), call.api_version.as_deref()), (Some("b"), Some("v2")));
    let first = checked(
        "azure-openai",
        json!({"resource_name": "r", "deployment_config": [{"deployment_name": "a", "api_version": "v1"}]}),
    );
    assert_eq!(first.call_options().deployment_id.as_deref(), Some("a"));
    let own =
        checked("azure-openai", azure(json!({"deployment_config": [{"deployment_name": "a", "api_version": "v1"}]})));
    assert_eq!(
        (own.call_options().deployment_id.as_deref(), own.call_options().api_version.as_deref()),
        (Some("d"), Some("2024-02-01"))
    );
}

#[test]
fn custom_host_is_an_http_url_without_credentials_or_trailing_slash() {
    let url = "expected an http(s) URL such as \"https://example.com/v1\", got";
    let credentials = "must not contain credentials (user:password@): a URL is shown and logged, a key is not";
    assert_table(&[
        ("openai", json!({"custom_host": "ftp://x"}), &[&format!("virtual_key.custom_host: {url} \"ftp://x\"")]),
        (
            "openai",
            json!({"custom_host": "gw.internal"}),
            &[&format!("virtual_key.custom_host: {url} \"gw.internal\"")],
        ),
        ("openai", json!({"custom_host": "https://"}), &[&format!("virtual_key.custom_host: {url} \"https://\"")]),
        ("openai", json!({"custom_host": 5}), &[&format!("virtual_key.custom_host: {url} 5")]),
        ("openai", json!({"custom_host": "http://a b"}), &[&format!("virtual_key.custom_host: {url} \"http://a b\"")]),
        (
            "openai",
            json!({"custom_host": "http://user:pw@gw.internal/v1"}),
            &[&format!("virtual_key.custom_host: {credentials}")],
        ),
        (
            "openai",
            json!({"custom_host": "user:pw@gw internal"}),
            &[&format!("virtual_key.custom_host: {url} a string")],
        ),
        ("openai", json!({"custom_host": "http://gw.internal/v1/"}), &[]),
    ]);
    for (sent, kept) in
        [("http://gw/v1/", "http://gw/v1"), ("https://gw//", "https://gw"), ("http://gw/a@b", "http://gw/a@b")]
    {
        assert_eq!(checked("openai", json!({"custom_host": sent})).custom_host(), Some(kept), "{sent}");
    }
}

#[test]
fn deployment_config_is_a_list_of_named_deployments_with_one_default() {
    let example = DEPLOYMENTS_EXAMPLE;
    assert_table(&[
        (
            "azure-openai",
            azure(json!({"deployment_config": {"deployment_name": "d"}})),
            &[&format!("virtual_key.deployment_config: expected a non-empty array like {example}, got {{\"deployment_name\":\"d\"}}")],
        ),
        (
            "azure-openai",
            azure(json!({"deployment_config": [{"api_version": "v", "modle": "x"}, "d", {"deployment_name": "e", "is_default": 2}]})),
            &[
                "virtual_key.deployment_config[0].modle: unknown key (expected one of deployment_name, api_version, alias, ai_model_name, is_default)",
                "virtual_key.deployment_config[0].deployment_name: required (the Azure deployment's name)",
                "virtual_key.deployment_config[1]: expected an object, got \"d\"",
                "virtual_key.deployment_config[2].is_default: expected true or false, got 2",
            ],
        ),
        (
            "azure-openai",
            azure(json!({"deployment_config": [{"deployment_name": "a", "is_default": true}, {"deployment_name": "b", "is_default": 1}]})),
            &["virtual_key.deployment_config: 2 entries have is_default: true; at most one may"],
        ),
        ("azure-openai", azure(json!({"deployment_config": [{"deployment_name": "a", "alias": "x", "ai_model_name": "gpt-4o", "is_default": 0}]})), &[]),
    ]);
}

#[test]
fn unknown_options_are_refused_with_a_suggestion() {
    assert_table(&[
        ("openai", json!({"custom_hots": "http://h"}), &["virtual_key.custom_hots: unknown key (did you mean \"custom_host\"?)"]),
        ("openai", json!({"customHost": "http://h"}), &["virtual_key.customHost: use the snake_case spelling \"custom_host\""]),
        (
            "openai",
            json!({"region": "eu"}),
            &["virtual_key.region: unknown key (expected one of custom_host, resource_name, deployment_id, api_version, \
               deployment_config, anthropic_version, anthropic_beta)"],
        ),
    ]);
}

#[test]
fn without_a_known_provider_only_shapes_are_checked() {
    let options = map(json!({"resource_name": "r", "anthropic_version": 3}));
    for provider in [None, Some("open-ai")] {
        let found = check_options(provider, &options, AT, Elsewhere::default()).map_err(|p| p.to_string());
        assert_eq!(found, Err("virtual_key.anthropic_version: expected a non-empty string, got 3".to_string()));
    }
    assert_eq!(
        provider_spec("open-ai").err(),
        Some(format!("unknown provider \"open-ai\" (expected one of {})", known_ids()))
    );
}

#[test]
fn paths_at_the_top_are_the_bare_option_names() {
    let found = check_options(Some("azure-openai"), &map(json!({"resource_name": "r"})), "", Elsewhere::default());
    let paths: Vec<String> = found.err().map(|p| p.0.into_iter().map(|p| p.path).collect()).unwrap_or_default();
    assert_eq!(paths, ["deployment_id", "api_version"]);
}

#[test]
fn the_stored_form_is_checked_back_to_the_same_options() {
    let sent = azure(json!({"custom_host": "https://az.internal/openai/", "deployment_config": [
        {"deployment_name": "a", "api_version": "v1", "is_default": 1}, {"deployment_name": "b", "alias": "x"}]}));
    let first = checked("azure-openai", sent);
    let stored = Value::Object(first.to_map());
    assert_eq!(stored["custom_host"], "https://az.internal/openai");
    assert_eq!(
        stored["deployment_config"],
        json!([{"deployment_name": "a", "api_version": "v1", "is_default": true}, {"deployment_name": "b", "alias": "x"}])
    );
    assert_eq!(checked("azure-openai", stored), first);
}

#[test]
fn layered_options_take_each_field_from_the_first_layer_that_sets_it() {
    let target = ProviderOptions { api_version: Some("2024-10-21".into()), ..ProviderOptions::default() };
    let key = ProviderOptions {
        resource_name: Some("res".into()),
        api_version: Some("2023-05-15".into()),
        ..ProviderOptions::default()
    };
    let headers = ProviderOptions { anthropic_beta: Some("tools".into()), ..ProviderOptions::default() };
    let merged = target.or(&key).or(&headers);
    assert_eq!(merged.api_version.as_deref(), Some("2024-10-21"), "the target wins");
    assert_eq!(merged.resource_name.as_deref(), Some("res"), "the key fills what the target left");
    assert_eq!(merged.anthropic_beta.as_deref(), Some("tools"), "headers fill the rest");
    assert_eq!(merged.deployment_id, None);
}
