//! Whether a provider's non-stream 2xx body is really an answer of the endpoint's shape, before
//! the OpenAI family's body is passed through to the client unchanged.
//!
//! It is a validating scan, not a parse into a tree: serde_json checks the whole syntax while
//! keeping only the few top-level keys that decide the verdict (and, for an error body, a short
//! message). It must not change, copy or echo the body: a verdict quotes at most
//! [`QUOTE_MAX_BYTES`] of the provider's own error message, never the body itself.
//!
//! "Valid" is JSON's grammar (RFC 8259) over UTF-8, the way a client reads the relayed body:
//! an unpaired surrogate escape (`"\ud800"`), a number past `f64` (`1e400`) or nesting deeper
//! than serde_json's tree parser takes (128 levels) is still an answer, as it is to a JavaScript
//! or Python client.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::Endpoint;
use crate::usage::Usage;

/// Longest piece of provider text quoted in a verdict.
pub const QUOTE_MAX_BYTES: usize = 200;

/// What the request log reads of an answer (its served model and usage), taken in the same
/// scan that checks it, so a relayed body is read once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerFacts {
    /// The answer's `model`, cut to [`QUOTE_MAX_BYTES`] when it is absurdly long.
    pub model: Option<String>,
    pub usage: Option<Usage>,
}

/// `Ok` when `body` is an answer `endpoint` can relay; otherwise a short reason, fit for a log
/// line and the client's error message (`not valid JSON: …`, `the body carries only an error: …`).
pub fn check_answer(endpoint: Endpoint, body: &[u8]) -> Result<(), String> {
    scan_answer(endpoint, body).map(drop)
}

/// [`check_answer`], also returning what the log needs from the answer.
pub fn scan_answer(endpoint: Endpoint, body: &[u8]) -> Result<AnswerFacts, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not valid JSON: {e}"))?;
    let Some(first) = text.bytes().find(|b| !b.is_ascii_whitespace()) else {
        return Err("not valid JSON: the body is empty".to_string());
    };
    if first != b'{' {
        return Err(not_an_object(text, first));
    }
    let mut shape: Shape = serde_json::from_str(text).map_err(|e| quote(&format!("not valid JSON: {e}")))?;
    let facts = AnswerFacts {
        model: shape.model.take().and_then(|m| m.0),
        usage: shape.usage.take().and_then(|raw| serde_json::from_str::<UsageWire>(raw.get()).ok()?.usage()),
    };
    shape.verdict(endpoint).map(|()| facts)
}

/// The top-level keys that decide the verdict; every other value is scanned and dropped.
#[derive(Deserialize)]
struct Shape {
    choices: Option<IgnoredAny>,
    data: Option<IgnoredAny>,
    /// A Messages answer's blocks, a token count's number.
    content: Option<IgnoredAny>,
    input_tokens: Option<IgnoredAny>,
    /// A Responses API answer's items.
    output: Option<IgnoredAny>,
    error: Option<ErrorField>,
    /// `"error"` in vLLM- and Mistral-style error bodies, which carry `message` at the top.
    object: Option<Text>,
    message: Option<Text>,
    /// Read for the log, not for the verdict. `usage` is only checked for syntax here (a
    /// count past `f64` is still an answer) and read leniently after.
    model: Option<Text>,
    usage: Option<Box<serde_json::value::RawValue>>,
}

impl Shape {
    fn verdict(self, endpoint: Endpoint) -> Result<(), String> {
        let (choices, data) = (self.choices.is_some(), self.data.is_some());
        let (found, what, needed, other, has_other) = match endpoint {
            Endpoint::ChatCompletions => (choices, "a chat completion", "choices", "data", data),
            Endpoint::Completions => (choices, "a completion", "choices", "data", data),
            Endpoint::Embeddings => (data, "an embeddings answer", "data", "choices", choices),
            Endpoint::Messages => (self.content.is_some(), "a message", "content", "choices", choices),
            Endpoint::CountTokens => (self.input_tokens.is_some(), "a token count", "input_tokens", "choices", choices),
            Endpoint::Responses => (self.output.is_some(), "a response", "output", "choices", choices),
        };
        if found {
            return Ok(());
        }
        if let Some(message) = self.error_message() {
            return Err(match message {
                Some(message) => format!("the body carries only an error: {message}"),
                None => "the body carries only an error (without a message)".to_string(),
            });
        }
        let hint =
            if has_other { format!(" (it has `{other}`: the answer of another endpoint)") } else { String::new() };
        Err(format!("{what} needs `{needed}`; the body has none{hint}"))
    }

    /// `Some(message)` when the body is an error: a non-null `error`, or `"object": "error"`.
    fn error_message(&self) -> Option<Option<&str>> {
        if let Some(ErrorField(message)) = &self.error {
            return Some(message.as_deref());
        }
        let is_error_object = self.object.as_ref().is_some_and(|o| o.0.as_deref() == Some("error"));
        is_error_object.then(|| self.message.as_ref().and_then(|m| m.0.as_deref()))
    }
}

/// An OpenAI `usage` object, typed (no tree is built); a field of another type makes the
/// whole usage unreadable, which only costs the log its token counts.
#[derive(Deserialize)]
struct UsageWire {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    /// The Responses API's (and Anthropic's) names.
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    input_tokens_details: Option<DetailsWire>,
    prompt_tokens_details: Option<DetailsWire>,
    cache_creation_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct DetailsWire {
    cached_tokens: Option<u64>,
}

impl UsageWire {
    /// The same reading as [`Usage::from_openai`]: none without `prompt_tokens`.
    fn usage(self) -> Option<Usage> {
        Some(Usage {
            prompt_tokens: self.prompt_tokens.or(self.input_tokens)?,
            completion_tokens: self.completion_tokens.or(self.output_tokens).unwrap_or(0),
            cached_tokens: self
                .prompt_tokens_details
                .or(self.input_tokens_details)
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            cache_write_tokens: self.cache_creation_input_tokens.unwrap_or(0),
        })
    }
}

/// A body that opens with something other than `{`: valid JSON of another kind, or not JSON.
fn not_an_object(text: &str, first: u8) -> String {
    if let Err(e) = serde_json::from_str::<IgnoredAny>(text) {
        return quote(&format!("not valid JSON: {e}"));
    }
    let kind = match first {
        b'[' => "an array",
        b'"' => "a string",
        b'n' => "null",
        b't' | b'f' => "a boolean",
        _ => "a number",
    };
    format!("not a JSON object ({kind})")
}

/// `text` cut to at most [`QUOTE_MAX_BYTES`] bytes at a character boundary, `…` marking a cut.
fn quote(text: &str) -> String {
    crate::text::shorten(text, QUOTE_MAX_BYTES, "…").into_owned()
}

/// Any JSON value; a string is kept (cut by [`quote`]), anything else is scanned and dropped.
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(Some(quote(v))))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
}

/// A non-null `error`: its `message` when it is an object with a string one, or the string
/// itself when `error` is a string (some providers send `"error": "…"`).
struct ErrorField(Option<String>);

impl<'de> Deserialize<'de> for ErrorField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ErrorVisitor)
    }
}

struct ErrorVisitor;

impl<'de> Visitor<'de> for ErrorVisitor {
    type Value = ErrorField;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorField, A::Error> {
        let mut message = None;
        while let Some(IsMessage(is_message)) = map.next_key()? {
            match is_message {
                true => message = map.next_value::<Text>()?.0.or(message),
                false => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(ErrorField(message))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ErrorField, E> {
        TextVisitor.visit_str(v).map(|t| ErrorField(t.0))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ErrorField, E> {
        Ok(ErrorField(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ErrorField, E> {
        Ok(ErrorField(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ErrorField, E> {
        Ok(ErrorField(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ErrorField, E> {
        Ok(ErrorField(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<ErrorField, E> {
        Ok(ErrorField(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ErrorField, A::Error> {
        TextVisitor.visit_seq(seq).map(|_| ErrorField(None))
    }
}

/// An object key, remembered only as "is it `message`".
struct IsMessage(bool);

impl<'de> Deserialize<'de> for IsMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = IsMessage;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<IsMessage, E> {
        Ok(IsMessage(v == "message"))
    }
}

#[cfg(test)]
mod tests;
