//! Switchboard's server: the axum app, authentication, the executor that runs a routing plan
//! against providers, the one upstream HTTP client, and the stream relay.
//!
//! Decisions (config validation, routing, translation) live in `switchboard-core`; this crate
//! does the I/O around them.

pub mod admin;
pub mod app;
pub mod attempt;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod control;
pub mod declarative;
pub mod egress;
pub mod executor;
pub mod headers;
pub mod ids;
pub mod listen;
pub mod logs;
pub mod logs_api;
pub mod metrics;
pub mod models;
pub mod otlp;
pub mod relay;
pub mod reply;
pub mod retention;
pub mod route;
pub mod serve;
pub mod state;
pub mod telemetry;
pub mod time;
pub mod upstream;
