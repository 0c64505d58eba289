//! The logs API, Portkey-compatible where Portkey has one: list and fetch request logs
//! (`/v1/logs`), stream an export (`/v1/logs/export`), insert custom logs (`POST /v1/logs`),
//! per-group analytics (`/v1/analytics/summary`, and per time bucket `/v1/analytics/timeseries`),
//! a live tail of new rows as server-sent events (`/v1/logs/tail`) and feedback on traces (`/v1/feedback`).
//!
//! Every route needs an `admin`-scoped key. Handlers here only parse, call the store and
//! shape the answer; they never build records for proxied requests (that is `crate::observe`)
//! and never hold a whole result set in memory (exports stream page by page).

mod analytics;
mod export;
mod feedback;
mod insert;
mod list;
mod params;
mod tail;

use crate::http::error::GatewayError;
use axum::response::Response;
use axum::routing::{get, put};
use axum::Router;
use http::HeaderMap;
use serde::Serialize;

use crate::control::api_error::ApiError;
use crate::control::auth::{self, Principal};
use crate::control::{ApiState, SharedApi};
use crate::http::reply;

pub fn router(state: SharedApi) -> Router {
    Router::new()
        .route("/v1/logs", get(list::list).post(insert::insert))
        .route("/v1/logs/export", get(export::export))
        .route("/v1/logs/tail", get(tail::tail))
        .route("/v1/logs/{id}", get(list::get_one))
        .route("/v1/analytics/summary", get(analytics::summary))
        .route("/v1/analytics/timeseries", get(analytics::timeseries))
        .route("/v1/feedback", axum::routing::post(feedback::create))
        .route("/v1/feedback/{id}", put(feedback::update))
        .with_state(state)
}

/// A handler's outcome: an error becomes its OpenAI-shaped response (`ApiError: IntoResponse`).
type Reply = Result<Response, ApiError>;

/// The caller, who must hold an admin-scoped key.
async fn admin(state: &ApiState, headers: &HeaderMap) -> Result<Principal, GatewayError> {
    let (principal, _) = auth::authenticate(&state.settings, &state.control, headers).await?;
    if principal.is_admin() {
        Ok(principal)
    } else {
        Err(auth::forbidden("the logs API needs a Switchboard key with admin scope"))
    }
}

/// A 200 (or other) JSON answer from a serialisable value.
fn json<T: Serialize>(status: u16, value: &T) -> Reply {
    let body = serde_json::to_vec(value).map_err(|e| GatewayError::internal("serialising the answer", e))?;
    Ok(reply::json(status, body))
}
