//! Providers: the table of known providers and, per provider family, the pure codec that
//! builds the upstream request and translates the answer back to OpenAI's shape.
//!
//! OpenAI-compatible providers are rows in [`PROVIDERS`]; only providers whose wire format
//! differs (Azure's URL and auth, Anthropic's Messages API) have code of their own. The
//! options only some providers take are named and checked once, in [`check_options`].

pub mod anthropic;
mod call;
mod capability;
mod chat_delta;
mod legacy;
pub mod messages;
mod options;
pub mod responses;
mod shape;
mod table;

pub use call::{
    base_url, build_request, classify_status, models_request, translate_error, translate_models, translate_response,
    translates, Call, Endpoint, UpstreamRequest, DEFAULT_ANTHROPIC_VERSION,
};

pub use capability::{served_by_all, serves, serves_request, Serve};
pub use legacy::completion_chunk;
pub use options::{
    check_options, custom_host_url, provider_spec, CheckedOptions, Elsewhere, ProviderOptions, OPTION_KEYS,
};
pub use shape::{check_answer, scan_answer, AnswerFacts};
pub use table::{known_ids, lookup, Family, ProviderSpec, PROVIDERS};

/// An error of translation between OpenAI's shape and a provider's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CodecError {
    /// The client's request cannot be expressed for this provider (caught before calling it).
    #[error("{0}")]
    InvalidRequest(String),
    /// The provider answered something we cannot read.
    #[error("{0}")]
    BadResponse(String),
}
