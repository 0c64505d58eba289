//! Dashboard sessions: an admin key exchanged once for a random session token that the browser keeps in an
//! HttpOnly cookie, so the key itself is never stored by the browser, put in a URL or sent again.
//!
//! The store keeps only the token's SHA-256, who signed in and when the session ends, so sessions hold across
//! restarts and across instances sharing a database. Each use checks the principal again: a revoked key, a key
//! whose scope is no longer `admin`, or a changed bootstrap key ends its sessions at once.
//!
//! CSRF: writes made with the cookie must carry `x-csrf-token`, a value derived from the token
//! ([`csrf_token`]): a page on another site can neither read the cookie nor compute it. The check itself is the
//! dashboard's CSRF layer's; this module only says what the value is.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::HeaderMap;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use switchboard_core::secret::Secret;
use switchboard_store::ApiKeyScope;

use crate::control::auth::Principal;
use crate::control::Control;
use crate::http::error::GatewayError;
use crate::settings::Settings;

/// The session cookie's name.
pub const COOKIE: &str = "sb_session";
/// The header a cookie-authenticated write must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts: a working day.
pub const TTL_MS: i64 = 12 * 60 * 60 * 1000;
/// Longest token accepted from a cookie (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 128;

/// A live session: who it is for and when it ends.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub expires_at: i64,
}

/// The session token in the request's `Cookie` header(s), if any.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty() && value.len() <= MAX_TOKEN_LEN)
}

/// The CSRF value for a session token: a different hash of the same token.
pub fn csrf_token(token: &str) -> String {
    hex::encode(&Sha256::digest(format!("switchboard-csrf:{token}").as_bytes())[..16])
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What the store records as the principal: an API key's id, or the bootstrap key's fingerprint.
fn principal_name(settings: &Settings, principal: &Principal) -> Option<String> {
    match principal {
        Principal::ApiKey(key) if key.scope == ApiKeyScope::Admin => Some(key.id.clone()),
        Principal::Admin => settings.admin_key.as_ref().map(admin_fingerprint),
        Principal::ApiKey(_) | Principal::Anonymous => None,
    }
}

fn admin_fingerprint(key: &Secret) -> String {
    format!("admin:{}", hex::encode(&Sha256::digest(key.expose().as_bytes())[..8]))
}

fn internal(e: switchboard_store::StoreError) -> GatewayError {
    GatewayError::internal("dashboard sessions", e)
}

/// Opens a session for an admin principal; returns the token for the cookie. Anything but an admin is refused.
pub async fn open(
    settings: &Settings,
    control: &Control,
    principal: &Principal,
) -> Result<(String, Session), GatewayError> {
    let name = principal_name(settings, principal).ok_or_else(|| {
        GatewayError::Forbidden(
            "the dashboard needs an API key with scope \"admin\"; this key's scope is \"gateway\"".into(),
        )
    })?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let expires_at = crate::support::clock::unix_ms() + TTL_MS;
    control.store.create_ui_session(&token_hash(&token), &name, expires_at).await.map_err(internal)?;
    Ok((token, Session { principal: principal.clone(), expires_at }))
}

/// The live session for `token`; `None` when it is unknown, expired, or its principal may no longer sign in
/// (such a session is deleted).
pub async fn find(settings: &Settings, control: &Control, token: &str) -> Result<Option<Session>, GatewayError> {
    let hash = token_hash(token);
    let Some(stored) = control.store.find_ui_session(&hash).await.map_err(internal)? else { return Ok(None) };
    let principal = match settings.admin_key.as_ref() {
        Some(key) if stored.principal == admin_fingerprint(key) => Some(Principal::Admin),
        _ => live_admin_key(control, &stored.principal).await?,
    };
    match principal {
        Some(principal) => Ok(Some(Session { principal, expires_at: stored.expires_at })),
        None => {
            control.store.delete_ui_session(&hash).await.map_err(internal)?;
            Ok(None)
        }
    }
}

async fn live_admin_key(control: &Control, id: &str) -> Result<Option<Principal>, GatewayError> {
    if id.starts_with("admin:") {
        return Ok(None);
    }
    let record = control.store.find_api_key(id).await.map_err(internal)?;
    Ok(record.filter(|k| !k.is_revoked() && k.scope == ApiKeyScope::Admin).map(|k| Principal::ApiKey(Arc::new(k))))
}

/// Ends the session for `token` (nothing happens when there is none).
pub async fn close(control: &Control, token: &str) -> Result<(), GatewayError> {
    control.store.delete_ui_session(&token_hash(token)).await.map_err(internal)?;
    Ok(())
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failed test should stop loudly")]
mod tests {
    use super::*;

    fn cookies(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(http::header::COOKIE, http::HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn the_session_cookie_is_found_among_others_and_in_any_cookie_header() {
        assert_eq!(token(&cookies(&["theme=dark; sb_session=abc ; x=1"])), Some("abc"));
        assert_eq!(token(&cookies(&["theme=dark", "sb_session=def"])), Some("def"));
        assert_eq!(token(&cookies(&["sb_sessionx=abc; xsb_session=abc"])), None, "names match exactly");
        assert_eq!(token(&cookies(&["sb_session="])), None);
        assert_eq!(token(&HeaderMap::new()), None);
    }

    #[test]
    fn oversized_tokens_are_ignored_before_any_lookup() {
        let long = format!("sb_session={}", "a".repeat(MAX_TOKEN_LEN + 1));
        let mut headers = HeaderMap::new();
        headers.insert(http::header::COOKIE, http::HeaderValue::from_str(&long).unwrap());
        assert_eq!(token(&headers), None);
    }

    #[test]
    fn csrf_tokens_differ_per_session_and_never_equal_the_session_token() {
        let (a, b) = (csrf_token("token-a"), csrf_token("token-b"));
        assert_ne!(a, b);
        assert_eq!(a, csrf_token("token-a"), "derived, so every instance computes the same");
        assert_eq!(a.len(), 32);
        assert!(!a.contains("token-a"));
        assert_ne!(token_hash("token-a"), a, "the stored hash is not the CSRF value");
    }
}
