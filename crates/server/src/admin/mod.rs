//! The admin API (Portkey-compatible shapes): virtual keys, saved configs, API keys.
//! Every route needs an `admin`-scoped Switchboard key.

use axum::Router;

use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
}
