//! Which endpoints each provider family can serve, and how: one table read by the planner's
//! eligibility (a target that cannot serve the request's endpoint is passed over, with the
//! reason) and by the codecs (which never get a request they cannot serve). It must stay a
//! pure lookup over [`ProviderSpec`] and [`Endpoint`]: no options, no I/O.

use super::{Endpoint, Family, ProviderSpec};

/// How a provider serves an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// The provider's own codec handles the endpoint (passed through, or translated by it).
    Native,
}

/// How `spec` serves `endpoint`, or why it cannot (a sentence naming the provider).
pub fn serves(spec: &ProviderSpec, endpoint: Endpoint) -> Result<Serve, &'static str> {
    match (spec.family, endpoint) {
        (Family::Anthropic, Endpoint::Embeddings) => Err("anthropic does not offer an embeddings API"),
        (_, Endpoint::ChatCompletions | Endpoint::Completions | Endpoint::Embeddings) => Ok(Serve::Native),
    }
}

/// Whether every provider serves `endpoint`, so that no target needs looking at.
pub fn served_by_all(endpoint: Endpoint) -> bool {
    super::PROVIDERS.iter().all(|spec| serves(spec, endpoint).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{lookup, PROVIDERS};

    fn spec(id: &str) -> &'static ProviderSpec {
        lookup(id).unwrap_or_else(|| panic!("{id} is in the table"))
    }

    #[test]
    fn anthropic_cannot_serve_embeddings_and_says_so() {
        assert_eq!(serves(spec("anthropic"), Endpoint::Embeddings), Err("anthropic does not offer an embeddings API"));
    }

    #[test]
    fn every_provider_serves_chat_and_completions() {
        for spec in PROVIDERS {
            for endpoint in [Endpoint::ChatCompletions, Endpoint::Completions] {
                assert_eq!(serves(spec, endpoint), Ok(Serve::Native), "{} {endpoint:?}", spec.id);
            }
        }
        assert!(served_by_all(Endpoint::ChatCompletions));
    }

    #[test]
    fn embeddings_are_not_served_by_all() {
        assert!(!served_by_all(Endpoint::Embeddings));
        assert_eq!(serves(spec("openai"), Endpoint::Embeddings), Ok(Serve::Native));
        assert_eq!(serves(spec("azure-openai"), Endpoint::Embeddings), Ok(Serve::Native));
    }
}
