//! Which routing tree a request follows: its inline `x-portkey-config` (parsed once per
//! distinct text, then cached), a saved config by ID, or a one-target tree built from
//! `x-portkey-provider` / `x-portkey-virtual-key` and the other provider headers.

use std::sync::Arc;

use crate::http::error::GatewayError;
use serde_json::{json, Map, Value};
use switchboard_core::config::{caller_chosen_destinations, parse_config, validate_config, RouteTree};
use switchboard_core::problem::{Problem, Problems};

use crate::control::auth::Principal;
use crate::control::ConfigCache;
use crate::gateway::GatewayState;
use crate::http::headers::{self, Inbound};

/// The routing tree a request follows, and the saved config it came from.
pub struct Resolved {
    pub tree: Arc<RouteTree>,
    pub config_slug: Option<String>,
    pub config_version: Option<i64>,
}

impl Resolved {
    fn inline(tree: Arc<RouteTree>) -> Self {
        Resolved { tree, config_slug: None, config_version: None }
    }
}

/// The tree for this request: `x-portkey-config` (inline JSON, or a saved config's ID),
/// else the provider headers, else `x-portkey-virtual-key`, else the API key's default
/// config.
pub async fn resolve(inbound: &Inbound, principal: &Principal, state: &GatewayState) -> Result<Resolved, GatewayError> {
    let resolved = match (&inbound.config, principal.default_config()) {
        (Some(text), _) if !text.starts_with('{') => saved(text, headers::CONFIG, state).await?,
        (Some(text), _) => Resolved::inline(inline(text, &state.configs)?),
        (None, _) if inbound.provider.is_some() => Resolved::inline(from_headers(inbound)?),
        (None, _) if inbound.virtual_key.is_some() => Resolved::inline(from_virtual_key_header(inbound)?),
        (None, Some(slug)) => saved(slug, "the API key's default config", state).await?,
        (None, None) => {
            return Err(GatewayError::InvalidRequest(format!(
                "no route: send a routing config in {} (inline JSON or a saved config ID), a provider in {} \
                 (with its key in Authorization), or a virtual key in {}",
                headers::CONFIG,
                headers::PROVIDER,
                headers::VIRTUAL_KEY
            )))
        }
    };
    principal.may_use_config(resolved.config_slug.as_deref())?;
    vault_destinations(&resolved, principal)?;
    Ok(resolved)
}

/// A virtual key's secret goes only where an admin chose: a caller without admin scope may
/// not point a virtual-key target elsewhere in a config it sends (saved configs are written
/// by admins). Checked before anything is sent.
fn vault_destinations(resolved: &Resolved, principal: &Principal) -> Result<(), GatewayError> {
    if resolved.config_slug.is_some() || principal.is_admin() {
        return Ok(());
    }
    let problems = caller_chosen_destinations(&resolved.tree);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(GatewayError::ForbiddenConfig(Problems(problems)))
    }
}

async fn saved(slug: &str, place: &str, state: &GatewayState) -> Result<Resolved, GatewayError> {
    let saved = state.control.saved_config(slug, place).await?;
    Ok(Resolved {
        tree: saved.tree.clone(),
        config_slug: Some(saved.slug.clone()),
        config_version: Some(saved.version),
    })
}

fn inline(text: &str, cache: &ConfigCache) -> Result<Arc<RouteTree>, GatewayError> {
    if let Some(tree) = cache.get(text) {
        return Ok(tree);
    }
    let tree = Arc::new(parse_config(text).map_err(GatewayError::InvalidConfig)?);
    cache.insert(text, tree.clone());
    Ok(tree)
}

fn from_virtual_key_header(inbound: &Inbound) -> Result<Arc<RouteTree>, GatewayError> {
    let leaf = json!({"virtual_key": inbound.virtual_key});
    validate_config(&leaf).map(Arc::new).map_err(|errs| GatewayError::InvalidConfig(rename(errs)))
}

/// The config keys that headers stand for, to name the header in errors.
const HEADER_KEYS: [(&str, &str); 4] = [
    ("provider", headers::PROVIDER),
    ("custom_host", headers::CUSTOM_HOST),
    ("request_timeout", headers::REQUEST_TIMEOUT),
    ("virtual_key", headers::VIRTUAL_KEY),
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
fn rename(errs: Problems) -> Problems {
    let rename_one = |e: Problem| {
        let key = e.path.strip_prefix("config.").unwrap_or(&e.path);
        let path = HEADER_KEYS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, h)| h.to_string())
            .unwrap_or_else(|| format!("headers ({})", e.path));
        Problem { path, message: e.message }
    };
    Problems(errs.0.into_iter().map(rename_one).collect())
}
