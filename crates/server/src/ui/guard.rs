//! The CSRF check for dashboard sessions, in front of every route: a write (any method but GET, HEAD and
//! OPTIONS) authenticated by the session cookie alone must carry `x-csrf-token` with the session's value.
//! Requests that present a key in their headers are not affected (no browser adds those by itself), and
//! neither is signing in, which has no session yet and accepts only a JSON body.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, Method};

use crate::control::auth::{constant_time_eq, presents_key};
use crate::control::sessions::{self, CSRF_HEADER};
use crate::http::error::GatewayError;
use crate::http::reply::{self, RouteInfo};

const SIGN_IN: &str = "/ui/api/session";

pub async fn csrf(request: Request, next: Next) -> Response {
    let exempt = request.method() == Method::POST && request.uri().path() == SIGN_IN;
    if !exempt && !allowed(request.method(), request.headers()) {
        return reply::gateway_error(&GatewayError::CsrfFailed, &RouteInfo::default());
    }
    next.run(request).await
}

/// Whether the request may go on: a safe method, a key in the headers, no session cookie, or the right token.
fn allowed(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || presents_key(headers) {
        return true;
    }
    let Some(token) = sessions::token(headers) else { return true };
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    constant_time_eq(sent.as_bytes(), sessions::csrf_token(token).as_bytes())
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failed test should stop loudly")]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn cookie_writes_need_the_sessions_own_token() {
        let cookie = ("cookie", "sb_session=tok-1".to_owned());
        let right = (CSRF_HEADER, sessions::csrf_token("tok-1"));
        let wrong = (CSRF_HEADER, sessions::csrf_token("tok-2"));
        assert!(allowed(&Method::POST, &headers(&[cookie.clone(), right.clone()])));
        assert!(allowed(&Method::DELETE, &headers(&[cookie.clone(), right])));
        assert!(!allowed(&Method::POST, &headers(&[cookie.clone(), wrong])), "another session's token");
        assert!(!allowed(&Method::PUT, &headers(std::slice::from_ref(&cookie))), "no token");
        assert!(!allowed(&Method::PATCH, &headers(&[cookie.clone(), (CSRF_HEADER, String::new())])));
    }

    #[test]
    fn reads_keys_and_cookieless_requests_pass() {
        let cookie = ("cookie", "sb_session=tok-1".to_owned());
        assert!(allowed(&Method::GET, &headers(std::slice::from_ref(&cookie))));
        assert!(allowed(&Method::POST, &headers(&[cookie, ("x-portkey-api-key", "sb-key".to_owned())])));
        assert!(allowed(&Method::POST, &headers(&[])));
        assert!(allowed(&Method::POST, &headers(&[("authorization", "Bearer sb-key".to_owned())])));
    }
}
