//! The provider table: every provider Switchboard can call, its wire family and its base URL.
//! Adding an OpenAI-compatible provider is one row.

/// How a provider is spoken to. Only families, not providers, have code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// OpenAI's API, `Authorization: Bearer`.
    OpenAi,
    /// Azure OpenAI: per-deployment URLs, `api-key` header, `api-version` query.
    Azure,
    /// Anthropic's Messages API, translated both ways.
    Anthropic,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ProviderSpec {
    /// The id used in configs and `x-portkey-provider` (Portkey's ids).
    pub id: &'static str,
    pub family: Family,
    /// Base URL including the version path; `custom_host` replaces it. Azure's is a template
    /// over `{resource}`.
    pub base_url: &'static str,
    /// Whether the provider has OpenAI's Responses API itself (`/responses`); the others of
    /// its family are spoken to through chat for it.
    pub responses_api: bool,
}

const fn row(id: &'static str, family: Family, base_url: &'static str) -> ProviderSpec {
    ProviderSpec { id, family, base_url, responses_api: false }
}

/// A provider with the Responses API of its own.
const fn with_responses(id: &'static str, family: Family, base_url: &'static str) -> ProviderSpec {
    ProviderSpec { id, family, base_url, responses_api: true }
}

pub static PROVIDERS: &[ProviderSpec] = &[
    with_responses("openai", Family::OpenAi, "https://api.openai.com/v1"),
    with_responses("azure-openai", Family::Azure, "https://{resource}.openai.azure.com/openai"),
    row("anthropic", Family::Anthropic, "https://api.anthropic.com/v1"),
    row("anyscale", Family::OpenAi, "https://api.endpoints.anyscale.com/v1"),
    row("groq", Family::OpenAi, "https://api.groq.com/openai/v1"),
    row("together-ai", Family::OpenAi, "https://api.together.xyz/v1"),
    row("mistral-ai", Family::OpenAi, "https://api.mistral.ai/v1"),
    row("fireworks-ai", Family::OpenAi, "https://api.fireworks.ai/inference/v1"),
    row("deepseek", Family::OpenAi, "https://api.deepseek.com/v1"),
    row("openrouter", Family::OpenAi, "https://openrouter.ai/api/v1"),
    row("perplexity-ai", Family::OpenAi, "https://api.perplexity.ai"),
    row("x-ai", Family::OpenAi, "https://api.x.ai/v1"),
    row("ollama", Family::OpenAi, "http://127.0.0.1:11434/v1"),
    row("deepinfra", Family::OpenAi, "https://api.deepinfra.com/v1/openai"),
    row("cerebras", Family::OpenAi, "https://api.cerebras.ai/v1"),
];

/// The provider with this id, if Switchboard knows it.
pub fn lookup(id: &str) -> Option<&'static ProviderSpec> {
    PROVIDERS.iter().find(|p| p.id == id)
}

/// Known ids, for error messages (`expected one of …`).
pub fn known_ids() -> String {
    PROVIDERS.iter().map(|p| p.id).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        for (i, p) in PROVIDERS.iter().enumerate() {
            assert!(PROVIDERS[i + 1..].iter().all(|q| q.id != p.id), "duplicate {}", p.id);
        }
    }

    #[test]
    fn lookup_finds_cookbook_providers() {
        for id in ["openai", "azure-openai", "anthropic", "anyscale"] {
            assert_eq!(lookup(id).map(|p| p.id), Some(id));
        }
        assert!(lookup("open-ai").is_none());
    }

    #[test]
    fn base_urls_carry_no_trailing_slash() {
        assert!(PROVIDERS.iter().all(|p| !p.base_url.ends_with('/')));
    }
}
