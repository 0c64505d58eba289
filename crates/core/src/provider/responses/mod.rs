//! OpenAI's Responses API (`/v1/responses`) served by targets without it (Anthropic, the
//! OpenAI-compatible chat-only providers): the client's Responses request becomes a chat
//! request ([`to_chat`]), the chat answer a `response` object ([`from_chat`]), chat chunks
//! the semantic stream events ([`ResponsesStream`]). A request that needs server-side state
//! ([`needs_native`]) can only go to a target with the Responses API itself (OpenAI, Azure
//! OpenAI), where it passes through.
//!
//! It owns wire rules only: no I/O, no clock (callers pass `created_at`), no routing.

mod request;
mod response;
mod stream;

pub use request::{needs_native, to_chat};
pub use response::{from_chat, responses_usage};
pub use stream::ResponsesStream;

#[cfg(test)]
mod tests;
