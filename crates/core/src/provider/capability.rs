//! Which endpoints each provider family can serve, and how: one table read by the planner's
//! eligibility (a target that cannot serve the request's endpoint is passed over, with the
//! reason) and by the codecs (which never get a request they cannot serve). It must stay a
//! pure lookup over [`ProviderSpec`] and [`Endpoint`]: no options, no I/O.

use serde_json::{Map, Value};

use super::{Endpoint, Family, ProviderSpec};

/// How a provider serves an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// The provider's own codec handles the endpoint (passed through, or translated by it).
    Native,
    /// The gateway speaks Chat Completions to the provider, translating the client's API
    /// (Anthropic's Messages, OpenAI's Responses) to chat and the answer back.
    ViaChat,
}

/// How `spec` serves `endpoint`, or why it cannot (a sentence naming the provider).
pub fn serves(spec: &ProviderSpec, endpoint: Endpoint) -> Result<Serve, &'static str> {
    match (spec.family, endpoint) {
        (Family::Anthropic, Endpoint::Embeddings) => Err("anthropic does not offer an embeddings API"),
        (_, Endpoint::ChatCompletions | Endpoint::Completions | Endpoint::Embeddings) => Ok(Serve::Native),
        (Family::Anthropic, Endpoint::Messages | Endpoint::CountTokens) => Ok(Serve::Native),
        (Family::OpenAi | Family::Azure, Endpoint::Messages) => Ok(Serve::ViaChat),
        (Family::OpenAi | Family::Azure, Endpoint::CountTokens) => {
            Err("only anthropic counts tokens (/v1/messages/count_tokens); this provider has no such API")
        }
        (_, Endpoint::Responses) if spec.responses_api => Ok(Serve::Native),
        (_, Endpoint::Responses) => Ok(Serve::ViaChat),
    }
}

/// [`serves`], for this request: a Responses request that needs server-side state (its
/// `previous_response_id`, `store: true`) only to a provider with the Responses API itself.
pub fn serves_request(
    spec: &ProviderSpec,
    endpoint: Endpoint,
    body: &Map<String, Value>,
) -> Result<Serve, &'static str> {
    let serve = serves(spec, endpoint)?;
    match (endpoint, serve) {
        (Endpoint::Responses, Serve::ViaChat) => super::responses::needs_native(body).map_or(Ok(serve), Err),
        _ => Ok(serve),
    }
}

/// Whether every provider serves `endpoint` (whatever the request), so that no target needs
/// looking at.
pub fn served_by_all(endpoint: Endpoint) -> bool {
    endpoint != Endpoint::Responses && super::PROVIDERS.iter().all(|spec| serves(spec, endpoint).is_ok())
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
    fn messages_pass_to_anthropic_and_go_through_chat_elsewhere() {
        assert_eq!(serves(spec("anthropic"), Endpoint::Messages), Ok(Serve::Native));
        for id in ["openai", "azure-openai", "groq", "ollama"] {
            assert_eq!(serves(spec(id), Endpoint::Messages), Ok(Serve::ViaChat), "{id}");
        }
        assert!(served_by_all(Endpoint::Messages));
    }

    #[test]
    fn responses_pass_to_openai_and_azure_and_go_through_chat_elsewhere() {
        for id in ["openai", "azure-openai"] {
            assert_eq!(serves(spec(id), Endpoint::Responses), Ok(Serve::Native), "{id}");
        }
        for id in ["anthropic", "groq", "together-ai"] {
            assert_eq!(serves(spec(id), Endpoint::Responses), Ok(Serve::ViaChat), "{id}");
        }
    }

    #[test]
    fn conversation_state_needs_a_provider_with_the_responses_api() {
        let body = serde_json::json!({"input": "hi", "previous_response_id": "resp_1"});
        let body = body.as_object().cloned().unwrap_or_default();
        assert_eq!(serves_request(spec("openai"), Endpoint::Responses, &body), Ok(Serve::Native));
        let refused = serves_request(spec("anthropic"), Endpoint::Responses, &body);
        assert!(refused.is_err_and(|why| why.contains("no conversation state")));
        assert!(!served_by_all(Endpoint::Responses));
    }

    #[test]
    fn only_anthropic_counts_tokens() {
        assert_eq!(serves(spec("anthropic"), Endpoint::CountTokens), Ok(Serve::Native));
        assert!(serves(spec("openai"), Endpoint::CountTokens).is_err_and(|why| why.contains("only anthropic")));
        assert!(!served_by_all(Endpoint::CountTokens));
    }

    #[test]
    fn embeddings_are_not_served_by_all() {
        assert!(!served_by_all(Endpoint::Embeddings));
        assert_eq!(serves(spec("openai"), Endpoint::Embeddings), Ok(Serve::Native));
        assert_eq!(serves(spec("azure-openai"), Endpoint::Embeddings), Ok(Serve::Native));
    }
}
