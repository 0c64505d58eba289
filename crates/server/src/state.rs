//! The process's shared state, composed from each folder's own: the request path's
//! [`GatewayState`], the admin and logs APIs' [`ApiState`], and the in-flight limit. Only the
//! composition root (`app`, `serve`) and the tests see this type; every handler takes the
//! narrower state of its folder, so no folder depends on another's handlers.

use std::sync::Arc;

use crate::control::{ApiState, ConfigCache, Control};
use crate::gateway::upstream::Upstream;
use crate::gateway::GatewayState;
use crate::http::layers::InFlight;
use crate::observe::metrics::Metrics;
use crate::observe::LogSink;
use crate::policy::limits::Limiter;
use crate::policy::Policy;
use crate::settings::Settings;

pub struct AppState {
    pub gateway: Arc<GatewayState>,
    pub api: Arc<ApiState>,
    pub control: Arc<Control>,
    pub metrics: Arc<Metrics>,
    /// Permits for inference requests in flight (`Settings::max_in_flight` of them).
    pub in_flight: InFlight,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    /// With key limits counted in this process only.
    pub fn new(settings: Settings, upstream: Upstream, control: Arc<Control>, logs: LogSink) -> Self {
        let limits = Arc::new(Limiter::local(logs.metrics_handle().limits.clone()));
        AppState::with_limiter(settings, upstream, control, logs, limits)
    }

    /// With the given key limiter (shared through Redis, see [`Limiter::from_settings`]) and
    /// target health kept in this process.
    pub fn with_limiter(
        settings: Settings,
        upstream: Upstream,
        control: Arc<Control>,
        logs: LogSink,
        limits: Arc<Limiter>,
    ) -> Self {
        AppState::with_policy(settings, upstream, control, logs, Policy::default(), limits)
    }

    /// With the given target-health state and key limiter (see [`crate::policy::from_settings`]).
    pub fn with_policy(
        settings: Settings,
        upstream: Upstream,
        control: Arc<Control>,
        logs: LogSink,
        policy: Policy,
        limits: Arc<Limiter>,
    ) -> Self {
        let settings = Arc::new(settings);
        let metrics = logs.metrics_handle();
        let in_flight = InFlight::new(settings.max_in_flight, metrics.rejected_busy.clone());
        let api = Arc::new(ApiState { settings: settings.clone(), control: control.clone(), limits: limits.clone() });
        let gateway = Arc::new(GatewayState {
            settings: settings.clone(),
            upstream,
            configs: ConfigCache::default(),
            control: control.clone(),
            metrics: metrics.clone(),
            logs,
            policy: Arc::new(policy),
            limits,
        });
        AppState { gateway, api, control, metrics, in_flight }
    }
}
