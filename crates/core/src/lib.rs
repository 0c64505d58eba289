//! Switchboard's pure core: everything that decides what a request becomes, with no I/O.
//!
//! It owns the config model and its validation ([`config`]), the routing planner ([`planner`]),
//! the provider codecs that turn an OpenAI-shaped request into a provider's request and back
//! ([`provider`], which also owns the provider options and their one check), SSE framing
//! ([`sse`]) and the one "problem at a path" type every validator reports with
//! ([`problem`]). Its errors (`Problems`, `CodecError`, …) say what is wrong and where, and
//! know nothing of HTTP servers: the server maps them to statuses and error bodies, in one
//! place.
//! It must not open sockets, spawn tasks, read clocks or touch a database: the server crate
//! does all of that and calls in here with plain data.

pub mod config;
pub mod health;
pub mod limits;
pub mod merge;
pub mod planner;
pub mod pricing;
pub mod problem;
pub mod provider;
pub mod retry_after;
pub mod secret;
pub mod sse;
pub mod text;
pub mod usage;
