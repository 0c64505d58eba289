//! Switchboard's server. Its folders follow a request: `http` (body, headers, replies,
//! layers, accept loop) → `control` (who is calling, keys and saved configs, the admin API)
//! → `gateway` (resolve the route, run the plan's attempts through the one upstream client,
//! relay the answer) → `observe` (the request's log record, metrics, traces, the logs API);
//! `ui` serves the embedded dashboard and its sign-in sessions.
//! `app` composes their routes, `serve` runs the process, `cli` parses the command line;
//! `settings` and `support` sit under everything.
//!
//! Decisions (config validation, routing, translation) live in `switchboard-core`; this crate
//! does the I/O around them.

pub mod app;
pub mod cli;
pub mod control;
pub mod gateway;
pub mod http;
pub mod observe;
pub mod policy;
pub mod serve;
pub mod settings;
pub mod state;
pub mod support;
pub mod ui;
