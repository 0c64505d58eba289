//! The one upstream HTTP client (pooled, keep-alive, HTTP/2 where offered, rustls,
//! TCP_NODELAY): the only place Switchboard talks to providers.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use switchboard_core::error::GatewayError;
use switchboard_core::provider::UpstreamRequest;

pub struct Upstream {
    client: reqwest::Client,
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
        Ok(Upstream { client })
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
        self.client.post(req.url).headers(headers).body(req.body).send().await
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
