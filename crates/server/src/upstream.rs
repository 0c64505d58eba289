//! The one upstream HTTP client (pooled, keep-alive, HTTP/2 where offered, rustls,
//! TCP_NODELAY): the only place Switchboard talks to providers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use switchboard_core::error::GatewayError;
use switchboard_core::provider::UpstreamRequest;

pub struct Upstream {
    client: reqwest::Client,
    urls: UrlCache,
}

/// Parsed upstream URLs by their text. A gateway calls the same few URLs over and over, and
/// parsing one (host normalisation included) cost ~4 % of a proxied request.
#[derive(Default)]
struct UrlCache(Mutex<HashMap<String, reqwest::Url>>);

impl UrlCache {
    /// Distinct URLs kept; past this the cache starts over (a config with thousands of
    /// distinct hosts still works, it just parses again).
    const CAPACITY: usize = 1024;

    /// The parsed URL; `None` when `text` does not parse (reqwest then reports why).
    fn get(&self, text: &str) -> Option<reqwest::Url> {
        let mut cached = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(url) = cached.get(text) {
            return Some(url.clone());
        }
        let url = reqwest::Url::parse(text).ok()?;
        if cached.len() >= Self::CAPACITY {
            cached.clear();
        }
        cached.insert(text.to_owned(), url.clone());
        Some(url)
    }
}

impl Upstream {
    pub fn new(connect_timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Upstream { client, urls: UrlCache::default() })
    }

    /// Sends a POST with the request's headers plus `forwarded` client headers.
    pub async fn post(&self, req: UpstreamRequest, forwarded: HeaderMap) -> Result<reqwest::Response, reqwest::Error> {
        let mut headers = forwarded;
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in req.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        let builder = match self.urls.get(&req.url) {
            Some(url) => self.client.post(url),
            None => self.client.post(req.url),
        };
        builder.headers(headers).body(req.body).send().await
    }

    /// Sends a GET (used for `/v1/models`).
    pub async fn get(&self, req: UpstreamRequest) -> Result<reqwest::Response, reqwest::Error> {
        let mut builder = self.client.get(req.url);
        for (name, value) in req.headers {
            builder = builder.header(name, value);
        }
        builder.send().await
    }
}

/// A transport failure as a gateway error. The URL is dropped from the message (a custom
/// host may carry credentials in it); the cause chain is kept.
pub fn transport_error(provider: &str, err: reqwest::Error) -> GatewayError {
    let err = err.without_url();
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        detail = format!("{detail}: {cause}");
        source = cause.source();
    }
    GatewayError::Unreachable { provider: provider.to_string(), detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_cache_parses_once_and_starts_over_when_full() {
        let cache = UrlCache::default();
        let first = cache.get("http://Example.COM:80/v1/chat/completions");
        assert_eq!(first.map(String::from).as_deref(), Some("http://example.com/v1/chat/completions"));
        assert!(cache.get("http://example.com/v1/chat/completions").is_some());
        assert_eq!(cache.0.lock().map(|m| m.len()).unwrap_or(0), 2);
        for i in 0..UrlCache::CAPACITY {
            assert!(cache.get(&format!("http://h{i}.test/v1")).is_some());
        }
        assert!(cache.0.lock().map(|m| m.len()).unwrap_or(usize::MAX) <= UrlCache::CAPACITY);
    }

    #[test]
    fn url_cache_leaves_bad_urls_to_reqwest() {
        let cache = UrlCache::default();
        assert!(cache.get("not a url").is_none());
        assert_eq!(cache.0.lock().map(|m| m.len()).unwrap_or(1), 0);
    }
}
