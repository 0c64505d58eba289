//! The admin API (Portkey-compatible shapes, so `portkey.virtualKeys.*`, `portkey.configs.*`
//! and `portkey.apiKeys.*` work unchanged): virtual keys, saved configs, API keys.
//!
//! Every route needs an `admin`-scoped Switchboard key: handlers take the [`Admin`] extractor,
//! which answers 401 (no or bad key) or 403 (a `gateway` key) before the body is read.
//! Handlers are thin: read the body, call the resource module, answer in Portkey's envelope.
//! Every write drops the control-plane cache so the next request sees it (other instances
//! follow the store's generation). Secrets never leave: a virtual key answers with its hint
//! only, and an API key is shown once, when it is created.

mod api_keys;
mod config_diff;
mod configs;
mod fields;
mod key_options;
mod virtual_keys;
mod wire;

use axum::extract::FromRequestParts;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use http::request::Parts;

use crate::control::auth;
use crate::control::SharedApi;
use crate::http::headers;
use crate::http::reply::{self, RouteInfo};

pub fn router(state: SharedApi) -> Router {
    Router::new()
        .route("/v1/virtual-keys", get(virtual_keys::list).post(virtual_keys::create))
        .route(
            "/v1/virtual-keys/{slug}",
            get(virtual_keys::retrieve).put(virtual_keys::update).delete(virtual_keys::delete),
        )
        .route("/v1/configs", get(configs::list).post(configs::create))
        .route("/v1/configs/{slug}", get(configs::retrieve).put(configs::update).delete(configs::delete))
        .route("/v1/configs/validate", post(configs::validate))
        .route("/v1/configs/{slug}/versions", get(configs::versions))
        .route("/v1/configs/{slug}/diff", get(configs::diff))
        .route("/v1/api-keys", get(api_keys::list).post(api_keys::create))
        // The Portkey SDKs create keys at `/api-keys/{type}/{sub-type}`.
        .route("/v1/api-keys/{kind}/{sub_kind}", post(api_keys::create_typed))
        .route("/v1/api-keys/{id}", get(api_keys::retrieve).put(api_keys::update).delete(api_keys::revoke))
        .with_state(state)
}

/// Proof that the caller holds an admin key; rejects with the gateway's 401/403 answer.
pub struct Admin;

impl FromRequestParts<SharedApi> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &SharedApi) -> Result<Self, Response> {
        let fail = |err| {
            let route = RouteInfo { trace_id: headers::trace_id(&parts.headers), ..RouteInfo::default() };
            reply::gateway_error(&err, &route)
        };
        let (principal, _) = auth::authenticate(&state.settings, &state.control, &parts.headers).await.map_err(fail)?;
        if principal.is_admin() {
            Ok(Admin)
        } else {
            Err(fail(auth::forbidden(
                "the admin API needs an API key with scope \"admin\"; this key's scope is \"gateway\"",
            )))
        }
    }
}
