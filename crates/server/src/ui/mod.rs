//! The embedded dashboard's server side: its built assets under `/ui` (`assets`), sign-in sessions
//! (`session`), the CSRF check on writes made with a session cookie (`guard`), and the security headers every
//! dashboard page carries. The dashboard reads and writes through the same JSON APIs as everyone else; nothing
//! here knows about logs, configs or keys.

mod assets;
pub mod guard;
mod session;

use axum::response::Response;
use axum::routing::get;
use axum::Router;
use http::HeaderValue;

use crate::control::SharedApi;

/// Scripts and styles from this origin only (the build has no inline ones), no framing, no other origins.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

pub fn router(state: SharedApi) -> Router {
    Router::new()
        .route("/ui", get(assets::index))
        .route("/ui/", get(assets::index))
        .route("/ui/api/session", get(session::current).post(session::sign_in).delete(session::sign_out))
        .route("/ui/{*path}", get(assets::file))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert("content-security-policy", HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    response
}

/// Whether a request to `/` comes from a browser (which is sent on to the dashboard).
pub fn wants_html(headers: &http::HeaderMap) -> bool {
    headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}
