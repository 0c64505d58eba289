//! The HTTP toolkit every folder's handlers share: the gateway's error type and its one
//! mapping to statuses and OpenAI error bodies, reading bodies under the cap, the
//! Portkey request headers, reply shapes and the Portkey response headers, the layers (catch
//! panic, in-flight limit) and the accept loop. It knows no route and no handler: the
//! router is composed above it, in `app`.

pub(crate) mod body;
pub mod error;
pub mod headers;
pub mod layers;
pub mod listen;
pub(crate) mod reply;
