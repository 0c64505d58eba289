//! The control plane: the cache the hot path reads keys and saved configs from (`cache`),
//! the parsed inline-config cache (`inline`), who is calling (`auth`), the admin API
//! (`admin`), dashboard sessions (`sessions`) and the declarative file (`declarative`). Everything here reads and writes the
//! store; nothing here sends a request to a provider.

pub(crate) mod admin;
pub(crate) mod api_error;
pub mod auth;
mod cache;
pub mod declarative;
mod inline;
pub mod sessions;

use std::sync::Arc;

pub use cache::{Control, ResolvedKey, SavedConfig};
pub use inline::ConfigCache;

use crate::policy::limits::Limiter;
use crate::settings::Settings;

/// What the admin and logs APIs read: settings (the admin key, the body cap, what logs
/// keep), the control plane, and the key limiter (whether a key's budget is spent).
pub struct ApiState {
    pub settings: Arc<Settings>,
    pub control: Arc<Control>,
    pub limits: Arc<Limiter>,
}

pub type SharedApi = Arc<ApiState>;
