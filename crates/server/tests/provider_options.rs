//! One rule set for provider options, wherever they are written: the admin API
//! (`POST /v1/virtual-keys`), the declarative file, and an inline config (sent in
//! `x-portkey-config`, and saved through `POST /v1/configs`) accept and refuse the same
//! options, with the same messages at the same option paths, and store the same options.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;
mod common;

use admin_support::*;
use common::*;
use serde_json::{json, Map, Value};
use switchboard::control::declarative::{parse, FileError};

/// What a surface said about some options: stored options (accepted), or each problem as
/// (option path below the surface's prefix, message).
#[derive(Debug, PartialEq)]
enum Verdict {
    Accepted(Option<Value>),
    Refused(Vec<(String, String)>),
}

/// `a.x: m1; a.y: m2` → [(x, m1), (y, m2)], for problems under `prefix` (`virtual_key.`).
fn split(message: &str, prefix: &str) -> Vec<(String, String)> {
    let rest = message.strip_prefix(prefix).unwrap_or_else(|| panic!("{message:?} should start with {prefix:?}"));
    let separator = format!("; {prefix}");
    rest.split(&separator).map(|p| p.split_once(": ").map(|(a, b)| (a.to_string(), b.to_string())).unwrap()).collect()
}

fn with(base: Value, options: &Value) -> Value {
    let mut object: Map<String, Value> = base.as_object().unwrap().clone();
    object.extend(options.as_object().unwrap().clone());
    Value::Object(object)
}

async fn through_admin(gw: &Gateway, provider: &str, options: &Value) -> Verdict {
    let body = with(json!({"name": "k", "provider": provider, "key": "sk-test-0000000001"}), options);
    let answer = admin(gw, "POST", "/v1/virtual-keys", Some(&body)).await;
    if answer.status != 200 {
        assert_eq!(answer.status, 400, "{}", answer.text);
        return Verdict::Refused(split(&message(&answer), "virtual_key."));
    }
    let slug = answer.json()["slug"].as_str().unwrap().to_string();
    let stored = admin(gw, "GET", &format!("/v1/virtual-keys/{slug}"), None).await.json();
    Verdict::Accepted(Some(stored["model_config"].clone()))
}

fn through_declarative_file(provider: &str, options: &Value) -> Verdict {
    let entry = with(json!({"slug": "k", "provider": provider, "key": "sk-test-0000000001"}), options);
    let file = json!({"virtual_keys": [entry]}).to_string();
    match parse(&file, &|_| None) {
        Ok(declared) => Verdict::Accepted(Some(Value::Object(declared.virtual_keys[0].options.to_map()))),
        Err(FileError::Invalid(problems)) => Verdict::Refused(split(&problems.to_string(), "virtual_keys[0].")),
        Err(other) => panic!("{file}: {other}"),
    }
}

/// The inline config's verdict, through the saved-config API; when refused, the same
/// config sent in `x-portkey-config` must be refused with the same problems.
async fn through_inline_config(gw: &Gateway, provider: &str, options: &Value) -> Verdict {
    let config = with(json!({"provider": provider, "api_key": "sk-test-0000000001"}), options);
    let saved = admin(gw, "POST", "/v1/configs", Some(&json!({"name": "c", "config": config}))).await;
    if saved.status == 200 {
        return Verdict::Accepted(None);
    }
    assert_eq!(saved.status, 400, "{}", saved.text);
    let refused = split(&message(&saved), "config.");
    let sent = gw.chat(&config, &chat_body()).await;
    assert_eq!((sent.status, split(&message(&sent), "config.")), (400, refused.clone()), "{config}");
    Verdict::Refused(refused)
}

fn problems(list: &[(&str, &str)]) -> Verdict {
    Verdict::Refused(list.iter().map(|(p, m)| (p.to_string(), m.to_string())).collect())
}

const AZURE_NEEDS: &str = "required for provider \"azure-openai\"";
const CREDENTIALS: &str = "must not contain credentials (user:password@): a URL is shown and logged, a key is not";

/// (provider, options, what every surface must say; `Accepted(Some(stored))` for the keys).
fn cases() -> Vec<(&'static str, Value, Verdict)> {
    let url = "expected an http(s) URL such as \"https://example.com/v1\", got";
    let deployments = json!([{"deployment_name": "d", "api_version": "2024-02-01", "is_default": true}]);
    vec![
        (
            "azure-openai",
            json!({"resource_name": "r", "deployment_id": "d", "api_version": 20240201}),
            problems(&[("api_version", "expected a non-empty string, got 20240201")]),
        ),
        (
            "azure-openai",
            json!({}),
            problems(&[
                ("resource_name", &format!("{AZURE_NEEDS} (or set custom_host)")),
                ("deployment_id", &format!("{AZURE_NEEDS} (or a deployment_config entry)")),
                ("api_version", &format!("{AZURE_NEEDS} (here or in the default deployment_config entry)")),
            ]),
        ),
        ("openai", json!({"custom_host": "http://user:pw@gw.internal/v1"}), problems(&[("custom_host", CREDENTIALS)])),
        (
            "openai",
            json!({"custom_host": "gw.internal"}),
            problems(&[("custom_host", &format!("{url} \"gw.internal\""))]),
        ),
        (
            "openai",
            json!({"anthropic_version": "2023-06-01"}),
            problems(&[("anthropic_version", "only used by provider \"anthropic\"")]),
        ),
        (
            "anthropic",
            json!({"anthropic_version": "2023-06-01", "anthropic_beta": "tools-2024"}),
            Verdict::Accepted(Some(json!({"anthropic_version": "2023-06-01", "anthropic_beta": "tools-2024"}))),
        ),
        (
            "azure-openai",
            json!({"resource_name": "r", "deployment_config": deployments}),
            Verdict::Accepted(Some(json!({"resource_name": "r", "deployment_config": deployments}))),
        ),
        (
            "azure-openai",
            json!({"resource_name": "r", "deployment_config": [{"deployment_name": "a", "is_default": true},
                {"deployment_name": "b", "is_default": true}]}),
            problems(&[("deployment_config", "2 entries have is_default: true; at most one may")]),
        ),
        (
            "openai",
            json!({"custom_host": "http://gw.internal/v1/"}),
            Verdict::Accepted(Some(json!({"custom_host": "http://gw.internal/v1"}))),
        ),
    ]
}

#[tokio::test]
async fn admin_api_declarative_file_and_inline_config_agree_on_provider_options() {
    let gw = gateway().await;
    for (provider, options, want) in cases() {
        let admin = through_admin(&gw, provider, &options).await;
        let file = through_declarative_file(provider, &options);
        let inline = through_inline_config(&gw, provider, &options).await;
        assert_eq!(admin, want, "admin API: {provider} {options}");
        assert_eq!(file, want, "declarative file: {provider} {options}");
        let inline_want = match &want {
            Verdict::Accepted(_) => Verdict::Accepted(None),
            Verdict::Refused(list) => Verdict::Refused(list.clone()),
        };
        assert_eq!(inline, inline_want, "inline config: {provider} {options}");
    }
    assert_no_panics();
}
