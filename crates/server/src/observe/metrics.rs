//! Prometheus metrics, served at `GET /metrics` (OpenMetrics text). Every per-request series
//! is recorded in one place, from the finished request's log record, so metrics and logs
//! can never disagree. Recording a request whose series exist allocates nothing: label values
//! are static or shared ([`labels`]), and its series' handles are found in one lookup
//! ([`series`]).

mod labels;
mod series;

use labels::{Label, SharedLabels};
use series::SeriesCache;
use switchboard_core::pricing;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use switchboard_store::LogRecord;

use crate::policy::limits::LimitMetrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub provider: Label,
    pub model: Label,
    pub target: Label,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    pub provider: Label,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    pub provider: Label,
    pub model: Label,
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabels {
    pub provider: Label,
    pub model: Label,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetLabels {
    pub target: String,
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TransitionLabels {
    pub to: &'static str,
}

pub struct Metrics {
    registry: Registry,
    /// 1 per known target identity, labelled with its state (bounded by the health table).
    pub target_state: Family<TargetLabels, Gauge>,
    pub circuit_transitions: Family<TransitionLabels, Counter>,
    pub requests: Family<RequestLabels, Counter>,
    pub errors: Family<RequestLabels, Counter>,
    pub latency: Family<ProviderLabels, Histogram>,
    pub ttfb: Family<ProviderLabels, Histogram>,
    pub tokens: Family<TokenLabels, Counter>,
    pub cost_micro_usd: Family<ModelLabels, Counter>,
    pub retries: Family<ProviderLabels, Counter>,
    pub fallbacks: Family<ProviderLabels, Counter>,
    pub log_dropped: Counter,
    pub log_written: Counter,
    pub log_after_close: Counter,
    pub rejected_busy: Counter,
    pub log_write_errors: Counter,
    pub log_queue: Gauge,
    pub otlp_errors: Counter,
    /// The key limiter's series (budget alerts, shared state degraded).
    pub limits: LimitMetrics,
    /// Label values taken from configs and answers, shared across requests.
    labels: SharedLabels,
    /// The per-request series by request label set.
    series: SeriesCache,
}

fn latency_histogram() -> Histogram {
    // 1 ms … ~65 s
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 17))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("switchboard");
        let m = Metrics {
            target_state: Family::default(),
            circuit_transitions: Family::default(),
            requests: Family::default(),
            errors: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            ttfb: Family::new_with_constructor(latency_histogram),
            tokens: Family::default(),
            cost_micro_usd: Family::default(),
            retries: Family::default(),
            fallbacks: Family::default(),
            log_dropped: Counter::default(),
            log_written: Counter::default(),
            log_after_close: Counter::default(),
            rejected_busy: Counter::default(),
            log_write_errors: Counter::default(),
            log_queue: Gauge::default(),
            otlp_errors: Counter::default(),
            limits: LimitMetrics::default(),
            labels: SharedLabels::default(),
            series: SeriesCache::default(),
            registry: Registry::default(),
        };
        registry.register("requests", "Requests answered, by final provider/model/target/status", m.requests.clone());
        registry.register("errors", "Requests answered with status >= 400", m.errors.clone());
        registry.register("request_duration_seconds", "Total request latency", m.latency.clone());
        registry.register("time_to_first_byte_seconds", "Time to the first response byte", m.ttfb.clone());
        registry.register("tokens", "Tokens used, by kind (prompt, completion)", m.tokens.clone());
        registry.register("cost_micro_usd", "Cost of priced requests in millionths of a USD", m.cost_micro_usd.clone());
        registry.register("retries", "Upstream retries", m.retries.clone());
        registry.register("fallbacks", "Moves to a fallback target", m.fallbacks.clone());
        registry.register(
            "log_records_dropped",
            "Request logs dropped because the log queue was full",
            m.log_dropped.clone(),
        );
        registry.register("log_records_written", "Request logs the store accepted", m.log_written.clone());
        registry.register(
            "log_records_after_close",
            "Request logs refused because the log writer had already stopped (shutdown)",
            m.log_after_close.clone(),
        );
        registry.register(
            "requests_rejected_in_flight_limit",
            "Requests answered 503 because --max-in-flight requests were already in flight",
            m.rejected_busy.clone(),
        );
        registry.register("log_write_errors", "Batches of request logs the store refused", m.log_write_errors.clone());
        registry.register("log_queue_depth", "Request logs waiting to be written", m.log_queue.clone());
        registry.register("otlp_export_errors", "OTLP trace batches that failed to export", m.otlp_errors.clone());
        m.register_policy(&mut registry);
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// The series of target health and key limits.
    fn register_policy(&self, registry: &mut Registry) {
        registry.register(
            "target_state",
            "Known target identities (provider, credential, destination, model) by health state",
            self.target_state.clone(),
        );
        registry.register(
            "circuit_transitions",
            "Circuit-breaker transitions, by the state entered (open, closed)",
            self.circuit_transitions.clone(),
        );
        registry.register(
            "key_budget_alerts",
            "Settlements that took a key's budget past its alert_threshold, by key kind and slug or API key id",
            self.limits.budget_alerts.clone(),
        );
        registry.register(
            "shared_state_degraded",
            "1 while the shared state (Redis) is unreachable: health and limits are kept per instance",
            self.limits.shared_state_degraded.clone(),
        );
    }

    /// Replaces the target-health gauges with `targets` (identity, state).
    pub fn set_target_states(&self, targets: impl Iterator<Item = (String, &'static str)>) {
        self.target_state.clear();
        for (target, state) in targets {
            self.target_state.get_or_create(&TargetLabels { target, state }).set(1);
        }
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Metrics {
    /// The `model` label: a model the price table knows (for the request's provider), else
    /// `other`. A client's `model` string (and a hostile provider's) never becomes a label of
    /// its own, so the number of series stays bounded whatever is sent. A dated version of a
    /// known id (`gpt-4o-2024-08-06`) counts under that id: a provider answering a new
    /// `gpt-4o-<anything>` each time must not make a new series each time.
    fn model_label(&self, r: &LogRecord) -> Label {
        let served = r.served_model.as_deref();
        let requested = Some(r.requested_model.as_str()).filter(|m| Some(*m) != served);
        let id = [served, requested].into_iter().flatten().find_map(|model| pricing::table_id(&r.provider, model));
        Label::Static(id.unwrap_or("other"))
    }

    /// Records one finished request (from its log record).
    pub fn observe(&self, r: &LogRecord) {
        let provider = self.labels.provider(&r.provider);
        let model = self.model_label(r);
        let target = r.target_path.as_deref().map_or(Label::Static(""), |path| self.labels.get(path));
        let series = self.series.get(self, RequestLabels { provider, model, target, status: r.status });
        series.requests.inc();
        if let Some(errors) = &series.errors {
            errors.inc();
        }
        series.latency.observe(r.latency_ms as f64 / 1000.0);
        if let Some(ttfb) = r.ttfb_ms {
            series.ttfb(self).observe(ttfb as f64 / 1000.0);
        }
        series.retries.inc_by(u64::from(r.retry_count));
        series.fallbacks.inc_by(r.attempts.fallbacks() as u64);
        for (kind, count) in [r.prompt_tokens, r.completion_tokens].into_iter().enumerate() {
            if let Some(n) = count.and_then(|n| u64::try_from(n).ok()) {
                series.tokens(self, kind).inc_by(n);
            }
        }
        if let Some(cost) = r.cost_usd.filter(|c| c.is_finite() && *c > 0.0) {
            series.cost(self).inc_by((cost * 1e6).round() as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_store::{AttemptEntry, AttemptReason, Attempts, RouteEntry};

    fn call(reason: AttemptReason) -> RouteEntry {
        RouteEntry::Attempt(AttemptEntry {
            target_path: "config.targets[1]".into(),
            provider: Some("openai".into()),
            model: None,
            status: 200,
            latency_ms: 1,
            start_offset_ms: 0,
            error_class: None,
            retry: 0,
            backoff_ms: 0,
            reason,
        })
    }

    /// Requests of every kind the per-request series tell apart: priced with tokens, time to
    /// first byte, retries and a fallback; a dated model; an upstream error; a refusal before
    /// routing; a provider outside the table.
    fn requests() -> Vec<LogRecord> {
        let fallback = Attempts(vec![call(AttemptReason::Initial), call(AttemptReason::Fallback)]);
        vec![
            LogRecord {
                status: 200,
                latency_ms: 120,
                ttfb_ms: Some(30),
                prompt_tokens: Some(10),
                completion_tokens: Some(5),
                cost_usd: Some(0.0125),
                target_path: Some("config.targets[1]".into()),
                served_model: Some("gpt-4o".into()),
                retry_count: 2,
                attempts: fallback,
                ..LogRecord::new("a", 0, "openai", "gpt-4o")
            },
            LogRecord {
                status: 200,
                latency_ms: 80,
                served_model: Some("gpt-4o-2024-08-06".into()),
                prompt_tokens: Some(7),
                completion_tokens: Some(0),
                cost_usd: Some(0.0),
                target_path: Some("config".into()),
                ..LogRecord::new("b", 0, "openai", "gpt-4o")
            },
            LogRecord {
                status: 503,
                latency_ms: 5,
                error_class: Some("overloaded".into()),
                target_path: Some("config".into()),
                ..LogRecord::new("c", 0, "anthropic", "claude-3-opus-20240229")
            },
            LogRecord { status: 400, ..LogRecord::new("d", 0, "none", "made-up") },
            LogRecord { status: 200, latency_ms: 1, ..LogRecord::new("e", 0, "my-own-provider", "m") },
        ]
    }

    /// The exposition's lines of the per-request families, sorted (a family's series come in
    /// hash order).
    fn per_request_lines(text: &str) -> Vec<&str> {
        const FAMILIES: [&str; 8] = [
            "requests",
            "errors",
            "request_duration_seconds",
            "time_to_first_byte_seconds",
            "tokens",
            "cost_micro_usd",
            "retries",
            "fallbacks",
        ];
        let per_request = |line: &str| {
            let rest = line.strip_prefix("# HELP ").or_else(|| line.strip_prefix("# TYPE ")).unwrap_or(line);
            let Some(name) = rest.split(['{', ' ']).next().and_then(|n| n.strip_prefix("switchboard_")) else {
                return false;
            };
            let suffixes = ["_total", "_bucket", "_sum", "_count", "_created"];
            let base = suffixes.iter().filter_map(|suffix| name.strip_suffix(suffix)).find(|b| FAMILIES.contains(b));
            FAMILIES.contains(&base.unwrap_or(name))
        };
        let mut lines: Vec<&str> = text.lines().filter(|line| per_request(line)).collect();
        lines.sort_unstable();
        lines
    }

    #[test]
    fn the_exposition_is_the_one_owned_string_labels_gave() {
        let metrics = Metrics::default();
        for record in requests() {
            metrics.observe(&record);
            metrics.observe(&record);
        }
        let text = metrics.render();
        // Rendered by the metrics of commit 4169de4, whose labels were owned `String`s, except that a dated model
        // (`gpt-4o-2024-08-06`) now counts under its table id: its own label let a provider grow the series.
        let before: Vec<&str> = include_str!("metrics/per_request.txt").lines().collect();
        assert_eq!(per_request_lines(&text), before);
    }

    #[test]
    fn client_chosen_models_do_not_become_labels() {
        let metrics = Metrics::default();
        for i in 0..50 {
            let record =
                LogRecord { status: 200, ..LogRecord::new(i.to_string(), 0, "openai", format!("made-up-{i}")) };
            metrics.observe(&record);
        }
        metrics.observe(&LogRecord { status: 200, cost_usd: Some(0.01), ..LogRecord::new("k", 0, "openai", "gpt-4o") });
        let text = metrics.render();
        let series = text.lines().filter(|l| l.starts_with("switchboard_requests_total{")).count();
        assert_eq!(series, 2, "{text}");
        assert!(text.contains("model=\"other\"") && text.contains("model=\"gpt-4o\""));
        assert!(!text.contains("made-up"));
    }

    #[test]
    fn a_provider_inventing_dated_versions_of_a_known_model_makes_one_series() {
        let metrics = Metrics::default();
        for i in 0..50 {
            let served = Some(format!("gpt-4o-{i}"));
            metrics.observe(&LogRecord { status: 200, served_model: served, ..LogRecord::new("r", 0, "openai", "x") });
        }
        let text = metrics.render();
        let series: Vec<&str> = text.lines().filter(|l| l.starts_with("switchboard_requests_total{")).collect();
        assert_eq!(
            series,
            ["switchboard_requests_total{provider=\"openai\",model=\"gpt-4o\",target=\"\",status=\"200\"} 50"]
        );
    }
}
