//! The dashboard's built files (`ui/dist`, committed and rebuilt by CI), embedded at compile time. Hashed
//! files under `assets/` are immutable and cached for a year; `index.html` is never cached, so a new binary's
//! page loads its new assets. Any other path under `/ui` is a client-side route and gets `index.html`.

use axum::body::Body;
use axum::extract::Path;
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use include_dir::{include_dir, Dir};

static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../ui/dist");

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

pub async fn index() -> Response {
    match DIST.get_file("index.html") {
        Some(file) => respond(file.contents(), "index.html", NO_CACHE),
        None => missing(),
    }
}

pub async fn file(Path(path): Path<String>) -> Response {
    if let Some(file) = DIST.get_file(&path) {
        let cache = if path.starts_with("assets/") { IMMUTABLE } else { NO_CACHE };
        return respond(file.contents(), &path, cache);
    }
    // A missing asset is a 404, not the page: a stale page asking for old assets must see it fail.
    if path.starts_with("assets/") || path.starts_with("api/") {
        return missing();
    }
    index().await
}

fn respond(bytes: &'static [u8], path: &str, cache: &'static str) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

fn missing() -> Response {
    let mut response = Response::new(Body::from("not found"));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json") | Some("map") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_has_a_page_and_types_are_named_by_extension() {
        assert!(DIST.get_file("index.html").is_some(), "ui/dist/index.html is committed");
        assert_eq!(content_type("assets/index-abc123.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("assets/index-abc123.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("noextension"), "application/octet-stream");
    }
}
