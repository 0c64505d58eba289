//! Anthropic's Messages API (`/v1/messages`) served by targets that speak only OpenAI's Chat
//! Completions: the client's Messages request becomes a chat request ([`to_chat`]), the chat
//! answer a Messages `message` ([`from_chat`]), chat chunks Messages stream events
//! ([`MessagesStream`]), and OpenAI-shaped errors Anthropic's ([`error_body`]).
//!
//! Anthropic targets do not come here: their Messages requests pass through. It owns wire
//! rules only: no I/O, no clock, no routing, no headers.

mod request;
mod response;
mod stream;

pub use request::to_chat;
pub use response::{error_body, from_chat, stop_reason};
pub use stream::{error_event, Event, MessagesStream};

#[cfg(test)]
pub(crate) mod tests;
