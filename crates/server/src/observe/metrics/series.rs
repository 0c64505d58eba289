//! The per-request series of one request label set (provider, model, target, status), taken from their
//! families the first time the set is seen and kept together, so recording a request costs one hash lookup
//! rather than one per family. Every handle shares its value with the family's own series (a counter or a
//! histogram is a handle on shared state), so the exposition is the families' as before.
//!
//! A series that a request may not touch (time to first byte, tokens, cost) is created in its family only when
//! a request first does, as it was without this cache: a family shows every series it holds, zero or not. The
//! families must never be cleared or have series removed while this cache holds handles on them.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use super::{Metrics, ModelLabels, ProviderLabels, RequestLabels, TokenLabels};

/// Tokens are counted by kind, in this order.
const TOKEN_KINDS: [&str; 2] = ["prompt", "completion"];

/// The handles of one request label set.
pub struct Series {
    labels: RequestLabels,
    pub requests: Counter,
    /// For a status of 400 or more.
    pub errors: Option<Counter>,
    pub latency: Histogram,
    pub retries: Counter,
    pub fallbacks: Counter,
    ttfb: OnceLock<Histogram>,
    tokens: [OnceLock<Counter>; 2],
    cost: OnceLock<Counter>,
}

impl Series {
    fn new(m: &Metrics, labels: RequestLabels) -> Self {
        let by_provider = ProviderLabels { provider: labels.provider.clone() };
        Series {
            requests: m.requests.get_or_create(&labels).clone(),
            errors: (labels.status >= 400).then(|| m.errors.get_or_create(&labels).clone()),
            latency: m.latency.get_or_create(&by_provider).clone(),
            retries: m.retries.get_or_create(&by_provider).clone(),
            fallbacks: m.fallbacks.get_or_create(&by_provider).clone(),
            ttfb: OnceLock::new(),
            tokens: [OnceLock::new(), OnceLock::new()],
            cost: OnceLock::new(),
            labels,
        }
    }

    pub fn ttfb(&self, m: &Metrics) -> &Histogram {
        self.ttfb.get_or_init(|| {
            let by_provider = ProviderLabels { provider: self.labels.provider.clone() };
            m.ttfb.get_or_create(&by_provider).clone()
        })
    }

    /// The token counter of `TOKEN_KINDS[kind]`.
    pub fn tokens(&self, m: &Metrics, kind: usize) -> &Counter {
        self.tokens[kind].get_or_init(|| {
            let labels = &self.labels;
            let by_kind =
                TokenLabels { provider: labels.provider.clone(), model: labels.model.clone(), kind: TOKEN_KINDS[kind] };
            m.tokens.get_or_create(&by_kind).clone()
        })
    }

    pub fn cost(&self, m: &Metrics) -> &Counter {
        self.cost.get_or_init(|| {
            let by_model = ModelLabels { provider: self.labels.provider.clone(), model: self.labels.model.clone() };
            m.cost_micro_usd.get_or_create(&by_model).clone()
        })
    }
}

/// Every label set seen so far: as many as the requests family has series.
#[derive(Default)]
pub struct SeriesCache {
    by_labels: RwLock<HashMap<RequestLabels, Arc<Series>>>,
}

impl SeriesCache {
    pub fn get(&self, m: &Metrics, labels: RequestLabels) -> Arc<Series> {
        if let Some(series) = self.by_labels.read().unwrap_or_else(PoisonError::into_inner).get(&labels) {
            return Arc::clone(series);
        }
        let series = Arc::new(Series::new(m, labels.clone()));
        let mut by_labels = self.by_labels.write().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(by_labels.entry(labels).or_insert(series))
    }
}
