//! Command-line interface: `switchboard serve` and its flags.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Switchboard: an OpenAI-compatible AI gateway that routes requests across providers with
/// Portkey-style configs (loadbalance, fallback, retries, conditional routing).
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about)]
pub struct Cli {
    /// Log output format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true, env = "SWITCHBOARD_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "SWITCHBOARD_HOST")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free port; the chosen address is logged).
    #[arg(long, default_value_t = 8787, env = "SWITCHBOARD_PORT")]
    pub port: u16,
    /// Directory for Switchboard's data (created if missing).
    #[arg(long, default_value = "./switchboard-data", env = "SWITCHBOARD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (`postgres://…`) for state shared by several instances. Without it,
    /// Switchboard keeps its state in SQLite in the data directory.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The admin key clients send as `x-portkey-api-key`. When unset, a key is generated at
    /// first start, stored in `<data-dir>/admin.key` (mode 0600) and printed once.
    #[arg(long, env = "SWITCHBOARD_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,
    /// Serve without any authentication (only for local experiments).
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, default_value_t = 10 * 1024 * 1024, env = "SWITCHBOARD_MAX_BODY_BYTES")]
    pub max_body_bytes: usize,
    /// `max_tokens` sent to Anthropic when neither the request nor the config sets one.
    /// Unset (the default), such a request is refused with a 400 that says how to fix it.
    #[arg(long, env = "SWITCHBOARD_ANTHROPIC_DEFAULT_MAX_TOKENS")]
    pub anthropic_default_max_tokens: Option<u32>,
    /// Timeout for connecting to a provider, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub connect_timeout_ms: u64,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub shutdown_grace_ms: u64,
    #[command(flatten)]
    pub logs: LogArgs,
}

/// Request logging.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Do not store request and response bodies in request logs (a request can also opt out
    /// with `x-portkey-debug: false`).
    #[arg(long, env = "SWITCHBOARD_NO_LOG_BODIES")]
    pub no_log_bodies: bool,
    /// Request and response bodies are cut to this many bytes in request logs.
    #[arg(long, default_value_t = 32 * 1024, env = "SWITCHBOARD_LOG_BODY_MAX_BYTES")]
    pub log_body_max_bytes: usize,
    /// Request logs older than this many days are deleted (0 keeps them forever).
    #[arg(long, default_value_t = 30, env = "SWITCHBOARD_LOG_RETENTION_DAYS")]
    pub log_retention_days: u32,
    /// Request logs waiting to be written; past this, new ones are dropped and counted
    /// (requests are never slowed or failed by logging).
    #[arg(long, default_value_t = 10_000, env = "SWITCHBOARD_LOG_QUEUE")]
    pub log_queue: usize,
    /// Export a span per request (and per attempt) to this OpenTelemetry collector, as
    /// OTLP/HTTP JSON (`POST <URL>/v1/traces`), e.g. http://127.0.0.1:4318.
    #[arg(long, env = "SWITCHBOARD_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Turn request logging off entirely.
    #[arg(long, env = "SWITCHBOARD_NO_REQUEST_LOGS")]
    pub no_request_logs: bool,
}
