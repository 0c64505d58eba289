//! What one attempt speaks to its provider, and how the answer becomes the client's: the
//! client's endpoint served natively by the provider's codec, or (`Serve::ViaChat`) through
//! Chat Completions — the client's request (Anthropic's Messages, OpenAI's Responses) made a
//! chat request before sending, the chat answer (or stream) made the client's after. Which applies is core's capability table;
//! the translations are core's codecs. Nothing here does I/O.

use std::borrow::Cow;

use bytes::Bytes;
use serde_json::{Map, Value};
use switchboard_core::merge::deep_merge;
use switchboard_core::provider::anthropic::{self, ChatStream};
use switchboard_core::provider::messages::{self, MessagesStream};
use switchboard_core::provider::responses::{self, ResponsesStream};
use switchboard_core::provider::{self, AnswerFacts, CodecError, Endpoint, Family, ProviderSpec, Serve};
use switchboard_core::usage::Usage;

use crate::gateway::translate::{ResponsesWatch, Sink, Source, Translate};
use crate::support::clock;

/// The request an attempt sends: to which endpoint, with which body.
pub struct Wire<'b> {
    /// The endpoint the client called.
    pub client: Endpoint,
    /// The endpoint the provider is called at (chat, when the client's is served through it).
    pub endpoint: Endpoint,
    pub serve: Serve,
    pub body: Cow<'b, Map<String, Value>>,
    /// The client's body byte for byte, when it is what is sent.
    pub raw: Option<Bytes>,
    /// The client's request (overrides merged) when it was translated: echoed in the answer.
    request: Option<Map<String, Value>>,
    /// Request fields the provider has no equivalent for, dropped (the client is told).
    pub ignored: Vec<&'static str>,
}

impl<'b> Wire<'b> {
    /// The body for `spec`: the client's, or — when the provider serves the client's endpoint
    /// through chat — its chat translation. The target's `override_params` are merged over
    /// the body that is sent (config wins): the client's own, or the chat request, so that a
    /// target written for chat (`max_tokens`, `model`) means the same whatever API called it.
    pub fn new(
        client: Endpoint,
        spec: &ProviderSpec,
        (body, raw): (&'b Map<String, Value>, Bytes),
        overrides: &Map<String, Value>,
    ) -> Result<Self, CodecError> {
        let serve =
            provider::serves_request(spec, client, body).map_err(|why| CodecError::InvalidRequest(why.to_string()))?;
        if serve == Serve::Native {
            let (mut body, mut raw) = (Cow::Borrowed(body), Some(raw));
            if !overrides.is_empty() {
                deep_merge(body.to_mut(), overrides);
                raw = None;
            }
            return Ok(Wire { client, endpoint: client, serve, body, raw, request: None, ignored: Vec::new() });
        }
        let mut chat = match client {
            Endpoint::Messages => messages::to_chat(body)?,
            Endpoint::Responses => responses::to_chat(body)?,
            other => return Err(CodecError::InvalidRequest(format!("{other:?} has no chat translation"))),
        };
        deep_merge(&mut chat, overrides);
        let ignored = ignored(spec, &chat);
        let (request, body) = (Some(body.clone()), Cow::Owned(chat));
        Ok(Wire { client, endpoint: Endpoint::ChatCompletions, serve, body, raw: None, request, ignored })
    }

    /// Whether the body asks a stream for its usage.
    pub fn include_usage(&self) -> bool {
        self.body.get("stream_options").and_then(|o| o.get("include_usage")) == Some(&Value::Bool(true))
    }

    /// A successful non-stream answer as the client's body, with what the log reads of it.
    pub fn answer(&self, spec: &ProviderSpec, bytes: &[u8]) -> Result<(Vec<u8>, AnswerFacts), CodecError> {
        let bad = CodecError::BadResponse;
        if !provider::translates(spec, self.endpoint) {
            let mut facts = provider::scan_answer(self.endpoint, bytes).map_err(bad)?;
            if self.serve == Serve::Native {
                if spec.family == Family::Anthropic && self.endpoint == Endpoint::Messages {
                    facts.usage = message_usage(bytes);
                }
                return Ok((bytes.to_vec(), facts));
            }
            return self.client_answer(bytes, facts);
        }
        let chat = provider::translate_response(spec, self.endpoint, bytes, clock::unix_secs())?;
        let facts = provider::scan_answer(Endpoint::ChatCompletions, &chat).map_err(bad)?;
        match self.serve {
            Serve::Native => Ok((chat, facts)),
            Serve::ViaChat => self.client_answer(&chat, facts),
        }
    }

    fn client_answer(&self, chat: &[u8], facts: AnswerFacts) -> Result<(Vec<u8>, AnswerFacts), CodecError> {
        let chat: Value = serde_json::from_slice(chat).map_err(|e| CodecError::BadResponse(e.to_string()))?;
        let out = match self.client {
            Endpoint::Messages => messages::from_chat(&chat)?,
            Endpoint::Responses => responses::from_chat(&chat, self.request.as_ref().unwrap_or(&Map::new()))?,
            _ => chat,
        };
        Ok((serde_json::to_vec(&out).unwrap_or_default(), facts))
    }

    /// How a committed stream from `spec` becomes the client's.
    pub fn translate(&self, spec: &ProviderSpec) -> Translate {
        if self.client == Endpoint::Responses && self.serve == Serve::Native {
            return Translate::ResponsesPassthrough(ResponsesWatch::default());
        }
        let source = match spec.family {
            Family::Anthropic => {
                let state = Box::new(ChatStream::new(self.include_usage(), clock::unix_secs()));
                if self.client == Endpoint::Messages {
                    return Translate::AnthropicPassthrough(state);
                }
                Source::Anthropic(state)
            }
            Family::OpenAi | Family::Azure => Source::OpenAi,
        };
        let sink = match self.client {
            Endpoint::Messages => Sink::Messages(Box::new(MessagesStream::new())),
            Endpoint::Responses => {
                let request = self.request.clone().unwrap_or_default();
                Sink::Responses(Box::new(ResponsesStream::new(request, clock::unix_secs())))
            }
            Endpoint::Completions => Sink::Completion,
            _ if matches!(source, Source::OpenAi) => return Translate::Passthrough,
            _ => Sink::Chat,
        };
        Translate::Convert { source, sink }
    }
}

/// What a chat request for `spec` asks that the provider's codec drops: Anthropic's chat
/// codec has no reasoning effort and no response format.
fn ignored(spec: &ProviderSpec, chat: &Map<String, Value>) -> Vec<&'static str> {
    if spec.family != Family::Anthropic {
        return Vec::new();
    }
    let asked = [("reasoning_effort", "reasoning.effort"), ("response_format", "text.format")];
    asked.into_iter().filter(|(key, _)| chat.contains_key(*key)).map(|(_, field)| field).collect()
}

/// The usage of an Anthropic message, read through its chat translation.
fn message_usage(bytes: &[u8]) -> Option<Usage> {
    let message: Value = serde_json::from_slice(bytes).ok()?;
    Usage::from_response(&anthropic::chat_response(&message, 0).ok()?)
}
