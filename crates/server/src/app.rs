//! The composition root of the HTTP surface: `fn app(state) -> Router` merges each folder's
//! routes (the gateway's inference routes under the in-flight limit, the admin API, the logs
//! API, the dashboard) with the process routes (`/`, `/health`, `/metrics`) and puts everything
//! under the dashboard's CSRF check and the catch-panic layer. It sits above every folder so
//! that none of them depends on another's handlers.

use crate::http::error::GatewayError;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::http::layers::{admit_in_flight, catch_panics};
use crate::http::reply::{self, RouteInfo};
use crate::observe::metrics::Metrics;
use crate::policy::Policy;
use crate::state::SharedState;
use std::sync::Arc;

pub fn app(state: SharedState) -> Router {
    let inference = crate::gateway::router(state.gateway.clone())
        .route_layer(axum::middleware::from_fn_with_state(state.in_flight.clone(), admit_in_flight));
    let router = Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/metrics", get(metrics).with_state((state.metrics.clone(), state.gateway.policy.clone())))
        .merge(inference)
        .merge(crate::control::admin::router(state.api.clone()))
        .merge(crate::observe::logs_api::router(state.api.clone()))
        .merge(crate::ui::router(state.api.clone()))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::ui::guard::csrf));
    catch_panics(router)
}

/// A browser is sent to the dashboard; anything else gets the gateway's name and version.
async fn root(headers: http::HeaderMap) -> Response {
    if crate::ui::wants_html(&headers) {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = http::StatusCode::SEE_OTHER;
        response.headers_mut().insert(http::header::LOCATION, http::HeaderValue::from_static("/ui/"));
        return response;
    }
    reply::json_value(200, &json!({"name": "switchboard", "version": env!("CARGO_PKG_VERSION"), "status": "ok"}))
}

async fn health() -> Response {
    reply::json_value(200, &json!({"status": "ok"}))
}

/// The metrics, with the target-health gauges read from the policy table at scrape time.
async fn metrics(State((metrics, policy)): State<(Arc<Metrics>, Arc<Policy>)>) -> Response {
    let targets = policy.health.view(crate::support::clock::now_ms());
    metrics.set_target_states(targets.iter().map(|t| (t.label.text(), t.state.as_str())));
    let mut response = Response::new(Body::from(metrics.render()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

async fn not_found(uri: http::Uri) -> Response {
    let err = GatewayError::NotFound(format!("no route for {}", uri.path()));
    reply::gateway_error(&err, &RouteInfo::default())
}
