//! The routing config: Portkey's config shape, parsed from JSON and validated into a
//! [`RouteTree`] that cannot hold a bad state.
//!
//! Validation walks the raw JSON (rather than deriving serde types) so that it can report
//! *every* problem at once, each with its path (`config.targets[1].weight: …`). Inheritance
//! (`retry`, `request_timeout`, `stream_idle_timeout`, `custom_host`, `forward_headers`,
//! `override_params`) is
//! resolved here, once, so each [`Leaf`] carries everything needed to call its provider.
//! A target's provider options are checked by [`crate::provider::check_options`], the same
//! rules a virtual key meets: config depends on provider, never the reverse.

mod conditional;
mod destinations;
mod model;
mod validate;

pub use conditional::{Condition, Field, Operand, Query, RequestFacts};
pub use destinations::caller_chosen_destinations;
pub use model::*;
pub use validate::{parse_config, validate_config};
