//! Gateway authentication and authorisation. A request carries a Switchboard key in
//! `x-portkey-api-key` (or, when that header is absent, as `Authorization: Bearer`): the
//! bootstrap admin key (compared in constant time) or an API key from the store (looked up
//! by its SHA-256 hash). Scopes: `admin` may do everything, `gateway` only inference,
//! optionally limited to given configs and virtual keys. With no key in the headers, a dashboard
//! session cookie (`sessions`) stands for the admin key that opened it.

use std::sync::Arc;

use crate::http::error::GatewayError;
use http::HeaderMap;
use switchboard_core::secret::Secret;
use switchboard_store::{ApiKeyRecord, ApiKeyScope};

use crate::control::{sessions, Control};
use crate::settings::Settings;

pub const API_KEY_HEADER: &str = "x-portkey-api-key";

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Principal {
    /// `--insecure-no-auth`.
    Anonymous,
    /// The bootstrap admin key.
    Admin,
    ApiKey(Arc<ApiKeyRecord>),
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::Anonymous | Principal::Admin => true,
            Principal::ApiKey(key) => key.scope == ApiKeyScope::Admin,
        }
    }

    /// The stored key's id, for logs (never the key).
    pub fn api_key_id(&self) -> Option<&str> {
        match self {
            Principal::ApiKey(key) => Some(&key.id),
            Principal::Admin => Some("admin"),
            Principal::Anonymous => None,
        }
    }

    /// The key's default config, used when a request names none.
    pub fn default_config(&self) -> Option<&str> {
        match self {
            Principal::ApiKey(key) => key.default_config.as_deref(),
            _ => None,
        }
    }

    /// Whether this principal may route through saved config `slug` (`None`: an inline
    /// config or provider headers).
    pub fn may_use_config(&self, slug: Option<&str>) -> Result<(), GatewayError> {
        let Principal::ApiKey(key) = self else { return Ok(()) };
        if key.scope == ApiKeyScope::Admin || key.allowed_configs.is_empty() {
            return Ok(());
        }
        match slug {
            Some(slug) if key.allowed_configs.iter().any(|c| c == slug) => Ok(()),
            Some(slug) => Err(forbidden(&format!("this API key may not use config \"{slug}\""))),
            None => Err(forbidden("this API key may only route through its allowed saved configs")),
        }
    }

    /// Whether this principal may use virtual key `slug`.
    pub fn may_use_virtual_key(&self, slug: &str) -> Result<(), GatewayError> {
        let Principal::ApiKey(key) = self else { return Ok(()) };
        let allowed = key.scope == ApiKeyScope::Admin
            || key.allowed_virtual_keys.is_empty()
            || key.allowed_virtual_keys.iter().any(|k| k == slug);
        if allowed {
            Ok(())
        } else {
            Err(forbidden(&format!("this API key may not use virtual key \"{slug}\"")))
        }
    }
}

pub fn forbidden(why: &str) -> GatewayError {
    GatewayError::Forbidden(why.to_string())
}

/// Whether the request carries a Switchboard key in its headers (rather than a session cookie).
pub fn presents_key(headers: &HeaderMap) -> bool {
    presented(headers).is_some()
}

/// The Switchboard key the request presents, and whether it came in `Authorization`.
fn presented(headers: &HeaderMap) -> Option<(&str, bool)> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    if let Some(key) = text(API_KEY_HEADER) {
        return Some((key, false));
    }
    let key = crate::http::headers::bearer(text("authorization")?);
    (!key.is_empty()).then_some((key, true))
}

/// Authenticates the request. The returned flag says whether `Authorization` carried the
/// Switchboard key (so it is not a provider credential).
pub async fn authenticate(
    settings: &Settings,
    control: &Control,
    headers: &HeaderMap,
) -> Result<(Principal, bool), GatewayError> {
    let Some(admin_key) = settings.admin_key.as_ref().map(Secret::expose) else {
        return Ok((Principal::Anonymous, false));
    };
    let Some((key, in_authorization)) = presented(headers) else {
        return from_session(settings, control, headers).await;
    };
    if constant_time_eq(key.as_bytes(), admin_key.as_bytes()) {
        return Ok((Principal::Admin, in_authorization));
    }
    match control.api_key(key).await? {
        Some(record) => Ok((Principal::ApiKey(record), in_authorization)),
        // A provider key in Authorization, with no Switchboard key anywhere.
        None if in_authorization => {
            Err(GatewayError::Unauthorized(format!("missing {API_KEY_HEADER} header: send your Switchboard key")))
        }
        None => Err(GatewayError::Unauthorized(format!("invalid Switchboard key in {API_KEY_HEADER}"))),
    }
}

/// The principal of the request's dashboard session, or the missing-key answer.
async fn from_session(
    settings: &Settings,
    control: &Control,
    headers: &HeaderMap,
) -> Result<(Principal, bool), GatewayError> {
    let missing = || GatewayError::Unauthorized(format!("missing {API_KEY_HEADER} header: send your Switchboard key"));
    let Some(token) = sessions::token(headers) else { return Err(missing()) };
    match sessions::find(settings, control, token).await? {
        Some(session) => Ok((session.principal, false)),
        None => Err(GatewayError::Unauthorized(
            "the dashboard session has ended (signed out, expired or its key was revoked): sign in again".into(),
        )),
    }
}

/// Equal-length comparison that does not stop at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn portkey_header_wins_over_authorization() {
        let h = headers(&[(API_KEY_HEADER, "sb-1"), ("authorization", "Bearer sk-provider")]);
        assert_eq!(presented(&h), Some(("sb-1", false)));
    }

    #[test]
    fn bearer_authorization_is_the_fallback() {
        assert_eq!(presented(&headers(&[("authorization", "Bearer sb-2")])), Some(("sb-2", true)));
        assert_eq!(presented(&headers(&[])), None);
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    fn gateway_key(configs: &[&str], keys: &[&str]) -> Principal {
        Principal::ApiKey(Arc::new(ApiKeyRecord {
            id: "k1".into(),
            name: "n".into(),
            key_hash: String::new(),
            hint: String::new(),
            scope: ApiKeyScope::Gateway,
            allowed_configs: configs.iter().map(|s| s.to_string()).collect(),
            allowed_virtual_keys: keys.iter().map(|s| s.to_string()).collect(),
            default_config: None,
            created_at: 0,
            revoked_at: None,
            rate_limits: None,
            usage_limits: None,
        }))
    }

    #[test]
    fn gateway_scope_limits_configs_and_virtual_keys_when_listed() {
        let open = gateway_key(&[], &[]);
        assert!(open.may_use_config(None).is_ok() && open.may_use_virtual_key("any").is_ok());
        assert!(!open.is_admin());
        let limited = gateway_key(&["pc-a"], &["vk-a"]);
        assert!(limited.may_use_config(Some("pc-a")).is_ok());
        assert!(limited.may_use_config(Some("pc-b")).is_err());
        assert!(limited.may_use_config(None).is_err());
        assert!(limited.may_use_virtual_key("vk-a").is_ok());
        assert!(limited.may_use_virtual_key("vk-b").is_err());
        assert!(Principal::Admin.is_admin());
    }
}
