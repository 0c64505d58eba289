//! Which routing tree a request follows: its inline `x-portkey-config` (parsed once per
//! distinct text, then cached), or a one-target tree built from `x-portkey-provider` and
//! the other provider headers.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use switchboard_core::config::{parse_config, validate_config, ConfigError, ConfigErrors, RouteTree};
use switchboard_core::error::GatewayError;

use crate::headers::{self, Inbound};
use crate::state::ConfigCache;

/// The tree for this request.
pub fn resolve(inbound: &Inbound, cache: &ConfigCache) -> Result<Arc<RouteTree>, GatewayError> {
    if let Some(text) = &inbound.config {
        return inline(text, cache);
    }
    if inbound.provider.is_some() {
        return from_headers(inbound);
    }
    if inbound.virtual_key.is_some() {
        return Err(virtual_keys_unavailable(headers::VIRTUAL_KEY));
    }
    Err(GatewayError::InvalidRequest(format!(
        "no route: send a routing config in {} or a provider in {} (with its key in Authorization)",
        headers::CONFIG,
        headers::PROVIDER
    )))
}

/// The error for a virtual key until the control plane (vault) lands.
pub fn virtual_keys_unavailable(place: &str) -> GatewayError {
    GatewayError::InvalidRequest(format!(
        "{place}: virtual keys need Switchboard's vault, which this build does not have yet; \
         give the target \"provider\" and \"api_key\" instead"
    ))
}

fn inline(text: &str, cache: &ConfigCache) -> Result<Arc<RouteTree>, GatewayError> {
    if let Some(tree) = cache.get(text) {
        return Ok(tree);
    }
    if text.starts_with("pc-") {
        return Err(GatewayError::InvalidRequest(format!(
            "{}: saved config \"{text}\" cannot be resolved: saved configs need Switchboard's config store, \
             which this build does not have yet; send the config JSON inline",
            headers::CONFIG
        )));
    }
    let tree = Arc::new(parse_config(text).map_err(GatewayError::InvalidConfig)?);
    cache.insert(text, tree.clone());
    Ok(tree)
}

/// The config keys that headers stand for, to name the header in errors.
const HEADER_KEYS: [(&str, &str); 3] = [
    ("provider", headers::PROVIDER),
    ("custom_host", headers::CUSTOM_HOST),
    ("request_timeout", headers::REQUEST_TIMEOUT),
];

fn from_headers(inbound: &Inbound) -> Result<Arc<RouteTree>, GatewayError> {
    let mut leaf = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            leaf.insert(key.to_string(), v);
        }
    };
    put("provider", inbound.provider.clone().map(Value::String));
    put("custom_host", inbound.custom_host.clone().map(Value::String));
    put("request_timeout", inbound.request_timeout_ms.map(|ms| json!(ms)));
    let o = &inbound.options;
    put("resource_name", o.resource_name.clone().map(Value::String));
    put("deployment_id", o.deployment_id.clone().map(Value::String));
    put("api_version", o.api_version.clone().map(Value::String));
    validate_config(&Value::Object(leaf)).map(Arc::new).map_err(|errs| GatewayError::InvalidConfig(rename(errs)))
}

/// Rewrites `config.provider` into `x-portkey-provider` and so on.
fn rename(errs: ConfigErrors) -> ConfigErrors {
    let rename_one = |e: ConfigError| {
        let key = e.path.strip_prefix("config.").unwrap_or(&e.path);
        let path = HEADER_KEYS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, h)| h.to_string())
            .unwrap_or_else(|| format!("headers ({})", e.path));
        ConfigError { path, message: e.message }
    };
    ConfigErrors(errs.0.into_iter().map(rename_one).collect())
}
