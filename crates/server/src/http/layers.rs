//! The layers every route passes: a catch-panic layer that answers a panic with a 500 JSON
//! error instead of dropping the connection, and the in-flight limit on the inference routes
//! (503 with `Retry-After: 1` past `--max-in-flight`, never a queue).

use std::sync::Arc;

use crate::http::error::GatewayError;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::Router;
use prometheus_client::metrics::counter::Counter;

use crate::http::reply::{self, RouteInfo};

/// Any panic below becomes a 500 JSON error (`x-portkey-gateway-exception: true`) and an
/// error-level log line; the connection lives on. The request's log record is written by
/// its recorder's drop guard while the panic unwinds.
pub fn catch_panics(router: Router) -> Router {
    router.layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    tracing::error!("request handler panicked: {what}");
    let err = GatewayError::bug("a request handler panicked");
    // gateway_error sets `x-portkey-gateway-exception: true`, as on every gateway-side error.
    reply::gateway_error(&err, &RouteInfo::default())
}

/// Requests handled at once, and the counter of those turned away.
#[derive(Clone)]
pub struct InFlight {
    permits: Arc<tokio::sync::Semaphore>,
    limit: usize,
    rejected: Counter,
}

impl InFlight {
    pub fn new(limit: usize, rejected: Counter) -> Self {
        let limit = limit.max(1);
        InFlight { permits: Arc::new(tokio::sync::Semaphore::new(limit)), limit, rejected }
    }
}

/// Admits the request if a permit is free, holding it until the response body is done
/// (a stream holds its permit while it streams).
pub async fn admit_in_flight(
    State(in_flight): State<InFlight>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Ok(permit) = in_flight.permits.clone().try_acquire_owned() else {
        in_flight.rejected.inc();
        let err = GatewayError::Busy { limit: in_flight.limit };
        // Counted, not logged: this is before authentication, and an overload is no time to
        // let anyone add rows to the request log.
        let trace_id = crate::http::headers::trace_id(request.headers());
        let mut response = reply::gateway_error(&err, &RouteInfo { trace_id, ..RouteInfo::default() });
        response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
        return response;
    };
    let response = next.run(request).await;
    response.map(|body| {
        Body::new(http_body_util::BodyExt::map_frame(body, move |frame| {
            let _held = &permit;
            frame
        }))
    })
}
