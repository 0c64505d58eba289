//! One attempt's target: which provider it calls, with which credential and options, and
//! where. A virtual key's secret comes from the vault and its destination from the key or
//! the config (never from the request's headers); an inline target's key from the config,
//! else the client's `Authorization`. Credentials are never inherited down a config tree.
//! The egress policy checks the destination later, in the upstream client.

use switchboard_core::config::{Leaf, ProviderOptions};
use switchboard_core::provider::{self, ProviderSpec};
use switchboard_core::secret::Secret;

use std::sync::Arc;

use crate::control::auth::Principal;
use crate::control::ResolvedKey;
use crate::gateway::GatewayState;
use crate::http::error::GatewayError;
use crate::http::headers::Inbound;

/// Where and how one attempt calls: the provider, its key and options.
pub struct Target {
    pub spec: &'static ProviderSpec,
    pub api_key: Secret,
    pub options: ProviderOptions,
    pub custom_host: Option<String>,
    /// The virtual key it calls with, if any (its limits apply).
    pub virtual_key: Option<Arc<ResolvedKey>>,
}

/// The leaf's provider and credentials: its virtual key (from the vault), else its inline
/// `api_key`, else the client's `Authorization`. Credentials are never inherited. A virtual
/// key's destination comes from the key or the config, never from the request's headers.
pub async fn resolve_target(
    state: &GatewayState,
    principal: &Principal,
    inbound: &Inbound,
    leaf: &Leaf,
) -> Result<Target, GatewayError> {
    if let Some(slug) = &leaf.virtual_key {
        principal.may_use_virtual_key(slug)?;
        let key = state.control.virtual_key(slug, &format!("{}.virtual_key", leaf.path)).await?;
        let spec = lookup_provider(&key.provider, &format!("virtual key \"{slug}\""))?;
        let from_headers = ProviderOptions { resource_name: None, ..inbound.options.clone() };
        let options = leaf.options.or(&key.options).or(&from_headers);
        let custom_host = leaf.custom_host.clone().or_else(|| key.custom_host.clone());
        let api_key = key.api_key.clone();
        return Ok(Target { spec, api_key, options, custom_host, virtual_key: Some(key) });
    }
    let id = leaf.provider.as_deref().unwrap_or_default();
    let spec = lookup_provider(id, &format!("{}.provider", leaf.path))?;
    let api_key = leaf.api_key.clone().or_else(|| inbound.api_key.clone()).ok_or_else(|| {
        GatewayError::Unauthorized(format!(
            "{}: no credentials for {}: set \"api_key\" or \"virtual_key\" on the target, or send the provider key in Authorization",
            leaf.path, spec.id
        ))
    })?;
    let options = leaf.options.or(&inbound.options);
    Ok(Target { spec, api_key, options, custom_host: leaf.custom_host.clone(), virtual_key: None })
}

fn lookup_provider(id: &str, place: &str) -> Result<&'static ProviderSpec, GatewayError> {
    provider::lookup(id).ok_or_else(|| {
        GatewayError::InvalidRequest(format!(
            "{place}: unknown provider \"{id}\" (expected one of {})",
            provider::known_ids()
        ))
    })
}
