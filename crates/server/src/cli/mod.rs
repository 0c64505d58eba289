//! The command line: its flags (`args`), the process's logging (`telemetry`), and the
//! control-plane commands that run against the store without a server (`commands`).

mod args;
pub mod commands;
pub mod telemetry;

pub use args::*;
