//! The one upstream HTTP client (pooled, keep-alive, HTTP/2 where offered, rustls,
//! TCP_NODELAY): the only place Switchboard talks to providers. It enforces the trust
//! boundary on the way out: every address passes the egress policy (IP literals here, names
//! in the resolver), redirects are never followed, no proxy from the environment is used
//! (a proxy would resolve names past the policy), credential headers are marked sensitive,
//! and an answer's body is read only up to a cap.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::error::GatewayError;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};
use lru::LruCache;
use switchboard_core::provider::UpstreamRequest;

use crate::gateway::egress::{refusal, EgressPolicy, PolicyResolver, Refused};

pub struct Upstream {
    client: reqwest::Client,
    urls: UrlCache,
    policy: Arc<EgressPolicy>,
}

/// Why a request could not be sent, or its answer cannot be taken.
#[derive(Debug)]
pub enum SendError {
    /// The egress policy refused the destination; nothing was sent.
    Refused(Refused),
    /// The provider answered with a redirect (never followed).
    Redirect {
        status: u16,
    },
    Transport(reqwest::Error),
}

/// Why an answer's body could not be read.
#[derive(Debug)]
pub enum ReadError {
    TooLarge { limit: usize },
    Transport(reqwest::Error),
}

/// Parsed upstream URLs by their text. A gateway calls the same few URLs over and over, and
/// parsing one (host normalisation included) cost ~4 % of a proxied request. Least recently
/// used entries make room for new ones, one at a time.
struct UrlCache(Mutex<LruCache<String, reqwest::Url>>);

impl UrlCache {
    const CAPACITY: NonZeroUsize = NonZeroUsize::MIN.saturating_add(1023);

    fn new() -> Self {
        UrlCache(Mutex::new(LruCache::new(Self::CAPACITY)))
    }

    /// The parsed URL; `None` when `text` does not parse (reqwest then reports why).
    fn get(&self, text: &str) -> Option<reqwest::Url> {
        let mut cached = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(url) = cached.get(text) {
            return Some(url.clone());
        }
        let url = reqwest::Url::parse(text).ok()?;
        cached.put(text.to_owned(), url.clone());
        Some(url)
    }
}

impl Upstream {
    /// A client under the default egress policy.
    pub fn new(connect_timeout: Duration) -> Result<Self, reqwest::Error> {
        Upstream::with_policy(connect_timeout, EgressPolicy::default())
    }

    pub fn with_policy(connect_timeout: Duration, policy: EgressPolicy) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver { policy: policy.clone() }))
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Upstream { client, urls: UrlCache::new(), policy })
    }

    /// Sends a POST with the request's headers plus `forwarded` client headers.
    pub async fn post(&self, req: UpstreamRequest, forwarded: HeaderMap) -> Result<reqwest::Response, SendError> {
        let mut headers = forwarded;
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        add_headers(&mut headers, req.headers);
        let url = self.url(&req.url)?;
        let builder = match url {
            Some(url) => self.client.post(url),
            None => self.client.post(req.url),
        };
        refuse_redirects(builder.headers(headers).body(req.body).send().await.map_err(classify)?)
    }

    /// Sends a GET (used for `/v1/models`).
    pub async fn get(&self, req: UpstreamRequest) -> Result<reqwest::Response, SendError> {
        let mut headers = HeaderMap::new();
        add_headers(&mut headers, req.headers);
        let builder = match self.url(&req.url)? {
            Some(url) => self.client.get(url),
            None => self.client.get(req.url),
        };
        refuse_redirects(builder.headers(headers).send().await.map_err(classify)?)
    }

    /// The parsed URL, after the policy's check of an IP-literal host.
    fn url(&self, text: &str) -> Result<Option<reqwest::Url>, SendError> {
        let url = self.urls.get(text);
        if let Some(url) = &url {
            self.policy.check_url(url).map_err(SendError::Refused)?;
        }
        Ok(url)
    }
}

fn add_headers(headers: &mut HeaderMap, extra: Vec<(&'static str, String)>) {
    for (name, value) in extra {
        if let Ok(mut value) = HeaderValue::from_str(&value) {
            value.set_sensitive(crate::http::headers::CREDENTIAL_HEADERS.contains(&name));
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

/// The client follows no redirect (`Policy::none`); a 3xx is an error here, once, for every caller.
fn refuse_redirects(response: reqwest::Response) -> Result<reqwest::Response, SendError> {
    let status = response.status();
    if status.is_redirection() {
        return Err(SendError::Redirect { status: status.as_u16() });
    }
    Ok(response)
}

fn classify(err: reqwest::Error) -> SendError {
    match refusal(&err) {
        Some(refused) => SendError::Refused(refused.clone()),
        None => SendError::Transport(err),
    }
}

/// The whole body of `response`, refused past `limit` bytes (by `Content-Length` before
/// reading, else as the bytes arrive).
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Bytes, ReadError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge { limit });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A send failure as a gateway error.
pub fn send_error(provider: &str, err: SendError) -> GatewayError {
    match err {
        SendError::Refused(refused) => {
            GatewayError::EgressDenied { provider: provider.to_string(), host: refused.host, reason: refused.reason }
        }
        SendError::Redirect { status } => GatewayError::UpstreamRedirect { provider: provider.to_string(), status },
        SendError::Transport(err) => transport_error(provider, err),
    }
}

/// A body-read failure as a gateway error.
pub fn read_error(provider: &str, err: ReadError) -> GatewayError {
    match err {
        ReadError::TooLarge { limit } => GatewayError::UpstreamTooLarge { provider: provider.to_string(), limit },
        ReadError::Transport(err) => transport_error(provider, err),
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
    fn url_cache_parses_once_and_evicts_one_at_a_time() {
        let cache = UrlCache::new();
        let first = cache.get("http://Example.COM:80/v1/chat/completions");
        assert_eq!(first.map(String::from).as_deref(), Some("http://example.com/v1/chat/completions"));
        let len = || cache.0.lock().map(|m| m.len()).unwrap_or(usize::MAX);
        assert_eq!(len(), 1);
        for i in 0..UrlCache::CAPACITY.get() {
            assert!(cache.get(&format!("http://h{i}.test/v1")).is_some());
            // The hot URL stays: it is used between the new ones.
            assert!(cache.get("http://Example.COM:80/v1/chat/completions").is_some());
        }
        assert_eq!(len(), UrlCache::CAPACITY.get());
        assert!(cache.0.lock().map(|m| m.contains("http://Example.COM:80/v1/chat/completions")).unwrap_or(false));
    }

    #[test]
    fn url_cache_leaves_bad_urls_to_reqwest() {
        let cache = UrlCache::new();
        assert!(cache.get("not a url").is_none());
        assert_eq!(cache.0.lock().map(|m| m.len()).unwrap_or(1), 0);
    }

    #[test]
    fn credential_headers_are_marked_sensitive() {
        let mut headers = HeaderMap::new();
        add_headers(&mut headers, vec![("x-api-key", "sk-ant-1".into()), ("anthropic-version", "2023-06-01".into())]);
        assert!(headers.get("x-api-key").is_some_and(HeaderValue::is_sensitive));
        assert!(!headers.get("anthropic-version").is_some_and(HeaderValue::is_sensitive));
        assert!(!format!("{headers:?}").contains("sk-ant-1"));
    }
}
