//! `/ui/api/session`: sign in (an admin key in, a session cookie out), who is signed in (with the CSRF value
//! the page sends on writes), and sign out. The key is read from the JSON body only, checked like any
//! presented key, and forgotten: it is never logged, stored or echoed.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

use crate::control::auth::{self, Principal, API_KEY_HEADER};
use crate::control::sessions::{self, Session, COOKIE};
use crate::control::SharedApi;
use crate::http::error::GatewayError;
use crate::http::reply::{self, RouteInfo};

/// A sign-in body is one short field.
const MAX_SIGN_IN_BYTES: usize = 4096;

type Reply = Result<Response, GatewayError>;

fn fail(err: &GatewayError) -> Response {
    reply::gateway_error(err, &RouteInfo::default())
}

/// `GET`: 200 with the session (or `auth: none` when the gateway runs without keys), 401 when signed out.
pub async fn current(State(state): State<SharedApi>, headers: HeaderMap) -> Response {
    answer_current(&state, &headers).await.unwrap_or_else(|err| fail(&err))
}

async fn answer_current(state: &SharedApi, headers: &HeaderMap) -> Reply {
    if state.settings.admin_key.is_none() {
        return Ok(no_auth());
    }
    let signed_out = || GatewayError::Unauthorized("not signed in to the dashboard".into());
    let token = sessions::token(headers).ok_or_else(signed_out)?;
    let session = sessions::find(&state.settings, &state.control, token).await?.ok_or_else(signed_out)?;
    Ok(reply::json_value(200, &describe(&session, token)))
}

/// `POST {"api_key": "…"}`: a JSON body only, so a form on another site cannot sign a browser in.
pub async fn sign_in(State(state): State<SharedApi>, headers: HeaderMap, body: Body) -> Response {
    answer_sign_in(&state, &headers, body).await.unwrap_or_else(|err| fail(&err))
}

async fn answer_sign_in(state: &SharedApi, headers: &HeaderMap, body: Body) -> Reply {
    if state.settings.admin_key.is_none() {
        return Ok(no_auth());
    }
    let key = presented_key(headers, body).await?;
    let mut key_headers = HeaderMap::new();
    let value = HeaderValue::from_str(&key)
        .map_err(|_| GatewayError::InvalidRequest("api_key: not a valid key (control characters)".into()))?;
    key_headers.insert(API_KEY_HEADER, value);
    let (principal, _) = auth::authenticate(&state.settings, &state.control, &key_headers).await?;
    let (token, session) = sessions::open(&state.settings, &state.control, &principal).await?;
    tracing::info!(principal = principal_id(&principal), "dashboard sign-in");
    let mut response = reply::json_value(200, &describe(&session, &token));
    set_cookie(&mut response, &cookie(&token, sessions::TTL_MS / 1000, secure(headers)));
    Ok(response)
}

async fn presented_key(headers: &HeaderMap, body: Body) -> Result<String, GatewayError> {
    let is_json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !is_json {
        return Err(GatewayError::InvalidRequest("sign in with a JSON body: {\"api_key\": \"…\"}".into()));
    }
    let mut object = crate::http::body::read_object(body, MAX_SIGN_IN_BYTES).await?;
    match object.remove("api_key") {
        Some(Value::String(key)) if !key.trim().is_empty() => Ok(key.trim().to_owned()),
        _ => Err(GatewayError::InvalidRequest("api_key: expected your Switchboard API key (a string)".into())),
    }
}

/// `DELETE`: ends the session (the CSRF guard has checked the write) and clears the cookie.
pub async fn sign_out(State(state): State<SharedApi>, headers: HeaderMap) -> Response {
    if let Some(token) = sessions::token(&headers) {
        if let Err(err) = sessions::close(&state.control, token).await {
            return fail(&err);
        }
    }
    let mut response = Response::new(Body::empty());
    *response.status_mut() = http::StatusCode::NO_CONTENT;
    set_cookie(&mut response, &cookie("", 0, secure(&headers)));
    response
}

fn no_auth() -> Response {
    reply::json_value(
        200,
        &json!({"auth": "none", "csrf_token": null, "expires_at": null,
        "principal": {"id": null, "name": "no authentication (--insecure-no-auth)"}}),
    )
}

fn describe(session: &Session, token: &str) -> Value {
    let (id, name) = match &session.principal {
        Principal::ApiKey(key) => (key.id.as_str(), key.name.as_str()),
        Principal::Admin => ("admin", "bootstrap admin key"),
        Principal::Anonymous => ("anonymous", "anonymous"),
    };
    json!({"auth": "session", "csrf_token": sessions::csrf_token(token), "expires_at": session.expires_at,
        "principal": {"id": id, "name": name}})
}

fn principal_id(principal: &Principal) -> &str {
    principal.api_key_id().unwrap_or("anonymous")
}

/// Behind a TLS-terminating proxy the cookie is marked `Secure`.
fn secure(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's request carries it).
fn cookie(token: &str, max_age_s: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}")
}

fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(http::header::SET_COOKIE, value);
    }
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_behind_tls() {
        let plain = cookie("t0k", 43_200, false);
        assert_eq!(plain, "sb_session=t0k; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");
        assert!(cookie("t0k", 43_200, true).ends_with("; Secure"));
        assert!(cookie("", 0, false).contains("Max-Age=0"), "sign-out expires it");
    }
}
