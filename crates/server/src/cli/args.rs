//! Command-line interface: `switchboard serve` and its flags, and the control-plane commands
//! (`virtual-keys`, `configs`, `api-keys`, `rotate-master-key`) that work on the store directly.
//! Only the shape of the command line lives here; the commands themselves are in `commands/`.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use switchboard_core::secret::Secret;

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
    Serve(Box<ServeArgs>),
    /// Manage virtual keys: provider credentials stored encrypted, used by slug in configs.
    VirtualKeys(VirtualKeysArgs),
    /// Manage saved configs (versioned): routing configs used by slug in `x-portkey-config`.
    Configs(ConfigsArgs),
    /// Manage Switchboard API keys (what clients send in `x-portkey-api-key`).
    ApiKeys(ApiKeysArgs),
    /// Re-encrypt every stored secret under a new master key. Run it while the gateway is
    /// stopped, or restart every instance right after: a running instance keeps the old key.
    RotateMasterKey(RotateMasterKeyArgs),
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
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub database_url: Option<Secret>,
    /// The admin key clients send as `x-portkey-api-key`. When unset, a key is generated at
    /// first start, stored in `<data-dir>/admin.key` (mode 0600) and printed once.
    #[arg(long, env = "SWITCHBOARD_ADMIN_KEY", hide_env_values = true, value_parser = secret)]
    pub admin_key: Option<Secret>,
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
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub egress: EgressArgs,
    #[command(flatten)]
    pub shared: SharedArgs,
    /// Declarative file (YAML or JSON) of virtual keys and configs, applied at start, on
    /// SIGHUP and whenever the file changes; `${VAR}` in it is replaced by env var VAR.
    #[arg(long = "config", env = "SWITCHBOARD_CONFIG_FILE")]
    pub config_file: Option<PathBuf>,
}

/// What clients and providers may take of the gateway: time, bytes, concurrency.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// A client must send a whole request head within this many milliseconds of starting it
    /// (or of its previous request on a kept-alive connection), else it is disconnected.
    #[arg(long, default_value_t = 10_000, env = "SWITCHBOARD_HEADER_READ_TIMEOUT_MS")]
    pub header_read_timeout_ms: u64,
    /// A provider's answer must begin (and a non-stream answer end) within this many
    /// milliseconds when no `request_timeout` applies.
    #[arg(long, default_value_t = 600_000, env = "SWITCHBOARD_UPSTREAM_TIMEOUT_MS")]
    pub upstream_timeout_ms: u64,
    /// A stream that sends nothing for this many milliseconds is ended with an SSE error
    /// event (a target's `stream_idle_timeout` overrides it).
    #[arg(long, default_value_t = 60_000, env = "SWITCHBOARD_STREAM_IDLE_TIMEOUT_MS")]
    pub stream_idle_timeout_ms: u64,
    /// Largest answer body read from a provider, in bytes.
    #[arg(long, default_value_t = 32 * 1024 * 1024, env = "SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES")]
    pub max_upstream_body_bytes: usize,
    /// Largest single SSE event (or line) taken from a provider's stream, in bytes.
    #[arg(long, default_value_t = 8 * 1024 * 1024, env = "SWITCHBOARD_MAX_SSE_EVENT_BYTES")]
    pub max_sse_event_bytes: usize,
    /// Requests handled at once; past it, new ones get 503 with `Retry-After: 1` at once
    /// (never a queue). 0 picks 512 per CPU core.
    #[arg(long, default_value_t = 0, env = "SWITCHBOARD_MAX_IN_FLIGHT")]
    pub max_in_flight: usize,
}

impl LimitArgs {
    /// `--max-in-flight`, with 0 resolved for this machine.
    pub fn in_flight(&self) -> usize {
        match self.max_in_flight {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()) * 512,
            n => n,
        }
    }
}

/// State shared by several instances: target health (breakers, cooldowns, rate-limit
/// headroom) and key limits (`rate_limits`, `usage_limits`).
#[derive(Debug, Clone, Args)]
pub struct SharedArgs {
    /// Redis URL (`redis://[:password@]host:port[/db]`) through which every instance shares
    /// target health and counts key limits together. Without it each instance keeps its own.
    /// While Redis is unreachable, instances work on local state and report it (metric
    /// `switchboard_shared_state_degraded`, a log line, the health view), and key limits hold
    /// per instance unless --limits-fail-closed.
    #[arg(long, env = "SWITCHBOARD_REDIS_URL", hide_env_values = true, value_parser = secret)]
    pub redis_url: Option<Secret>,
    /// While Redis is unreachable, answer requests of keys with limits with 503
    /// `shared_state_unavailable` instead of counting them on this instance alone.
    #[arg(long, env = "SWITCHBOARD_LIMITS_FAIL_CLOSED")]
    pub limits_fail_closed: bool,
    /// Put before every Redis key (to share one Redis between separate gateways, and in tests).
    #[arg(long, default_value = "", hide = true, env = "SWITCHBOARD_REDIS_NAMESPACE")]
    pub redis_namespace: String,
}

/// Where the gateway may connect on a provider's behalf (checked after DNS resolution).
/// Link-local (cloud metadata), unspecified, multicast and broadcast addresses are always
/// refused; loopback and private ranges are allowed unless `--egress-deny-private`.
#[derive(Debug, Clone, Args)]
pub struct EgressArgs {
    /// Refuse this range too (CIDR, e.g. 10.0.0.0/8; repeatable).
    #[arg(long = "egress-deny", value_name = "CIDR", env = "SWITCHBOARD_EGRESS_DENY", value_delimiter = ',')]
    pub deny: Vec<ipnet::IpNet>,
    /// Allow only these ranges (CIDR; repeatable). Without it, every range not refused is allowed.
    #[arg(long = "egress-allow", value_name = "CIDR", env = "SWITCHBOARD_EGRESS_ALLOW", value_delimiter = ',')]
    pub allow: Vec<ipnet::IpNet>,
    /// Refuse loopback and private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    #[arg(long = "egress-deny-private", env = "SWITCHBOARD_EGRESS_DENY_PRIVATE")]
    pub deny_private: bool,
}

/// A secret from the command line or the environment (a key, or a database URL that may hold
/// a password), kept out of `Debug`.
fn secret(text: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::new(text))
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
    #[arg(long, default_value_t = 4096, env = "SWITCHBOARD_LOG_QUEUE")]
    pub log_queue: usize,
    /// Export a span per request (and per attempt) to this OpenTelemetry collector, as
    /// OTLP/HTTP protobuf (`POST <URL>/v1/traces`), e.g. http://127.0.0.1:4318.
    #[arg(long, env = "SWITCHBOARD_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Turn request logging off entirely.
    #[arg(long, env = "SWITCHBOARD_NO_REQUEST_LOGS")]
    pub no_request_logs: bool,
}

/// Where the control-plane commands find the store: the same flags and env vars as `serve`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Switchboard's data directory (SQLite database and master key).
    #[arg(long, global = true, default_value = "./switchboard-data", env = "SWITCHBOARD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (`postgres://…`); the master key still comes from the data directory
    /// or SWITCHBOARD_MASTER_KEY.
    #[arg(long, global = true, env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub database_url: Option<Secret>,
}

/// Flags every control-plane command takes.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print JSON instead of a table (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VirtualKeysArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub action: VirtualKeysAction,
}

#[derive(Debug, Subcommand)]
pub enum VirtualKeysAction {
    /// Store a provider key under a slug. The key is read from an env var or stdin, never
    /// from a flag (flags end up in shell history and `ps`).
    Add(Box<VirtualKeyAddArgs>),
    /// List virtual keys (slug, name, provider, masked key).
    #[command(alias = "ls")]
    List,
    /// Delete a virtual key.
    #[command(alias = "delete")]
    Rm {
        /// The virtual key's slug.
        slug: String,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("secret").required(true).args(["key_env", "key_stdin"])))]
pub struct VirtualKeyAddArgs {
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Provider id (openai, azure-openai, anthropic, …).
    #[arg(long)]
    pub provider: String,
    /// Read the provider key from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
    /// Read the provider key from standard input.
    #[arg(long)]
    pub key_stdin: bool,
    /// Slug to use in configs (default: derived from the name).
    #[arg(long)]
    pub slug: Option<String>,
    /// Azure OpenAI resource name.
    #[arg(long)]
    pub resource_name: Option<String>,
    /// Azure OpenAI deployment id.
    #[arg(long = "deployment", value_name = "DEPLOYMENT")]
    pub deployment_id: Option<String>,
    /// Azure OpenAI API version.
    #[arg(long)]
    pub api_version: Option<String>,
    /// Azure OpenAI deployments, as the admin API and the declarative file take them: a JSON
    /// list of `{"deployment_name", "api_version", "alias", "is_default"}`.
    #[arg(long, value_name = "JSON", value_parser = json_value)]
    pub deployment_config: Option<serde_json::Value>,
    /// Anthropic API version (`anthropic-version`).
    #[arg(long)]
    pub anthropic_version: Option<String>,
    /// Anthropic beta features (`anthropic-beta`).
    #[arg(long)]
    pub anthropic_beta: Option<String>,
    /// Base URL replacing the provider's.
    #[arg(long)]
    pub custom_host: Option<String>,
    #[command(flatten)]
    pub limits: KeyLimitArgs,
    /// Free-text note.
    #[arg(long)]
    pub note: Option<String>,
}

/// A key's limits, in Portkey's shapes (as the admin API and the declarative file take them).
#[derive(Debug, Clone, Args)]
pub struct KeyLimitArgs {
    /// Rate limits: a JSON list of `{"type": "requests"|"tokens", "unit": "rpm"|"rph"|"rpd",
    /// "value": N}` (0 disables the key).
    #[arg(long, value_name = "JSON", value_parser = json_value)]
    pub rate_limits: Option<serde_json::Value>,
    /// A budget: JSON `{"credit_limit": N, "type": "cost"|"tokens", "alert_threshold": N,
    /// "periodic_reset": "monthly"|"weekly"}` (or `"periodic_reset_days": N`).
    #[arg(long, value_name = "JSON", value_parser = json_value)]
    pub usage_limits: Option<serde_json::Value>,
}

#[derive(Debug, Args)]
pub struct ConfigsArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub action: ConfigsAction,
}

#[derive(Debug, Subcommand)]
pub enum ConfigsAction {
    /// Validate a config file (JSON or YAML) and save it; an existing slug gets a new version
    /// when the config changed.
    Put(ConfigPutArgs),
    /// List saved configs at their current version.
    #[command(alias = "ls")]
    List,
    /// Print a saved config's JSON.
    Show {
        /// The config's slug.
        slug: String,
        /// A past version (default: the current one).
        #[arg(long)]
        version: Option<i64>,
    },
}

#[derive(Debug, Args)]
pub struct ConfigPutArgs {
    /// The config file (`.json`, `.yaml` or `.yml`).
    pub file: PathBuf,
    /// Slug (default: `pc-` and the file name without extension).
    #[arg(long)]
    pub slug: Option<String>,
    /// Display name (default: the current name, or the file name for a new config).
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApiKeysArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub action: ApiKeysAction,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeysAction {
    /// Create an API key; the key is printed once and only its hash is stored.
    Create(Box<ApiKeyCreateArgs>),
    /// List API keys, revoked ones included.
    #[command(alias = "ls")]
    List,
    /// Revoke an API key by id.
    Revoke {
        /// The key's id (from `api-keys list`).
        id: String,
    },
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// The admin API and the gateway.
    Admin,
    /// The gateway only.
    Gateway,
}

#[derive(Debug, Args)]
pub struct ApiKeyCreateArgs {
    /// Display name.
    #[arg(long)]
    pub name: String,
    #[arg(long, value_enum)]
    pub scope: ScopeArg,
    /// Saved config this key may route through (repeat; none: any).
    #[arg(long = "allow-config", value_name = "SLUG")]
    pub allow_configs: Vec<String>,
    /// Virtual key this key may use (repeat; none: any).
    #[arg(long = "allow-virtual-key", value_name = "SLUG")]
    pub allow_virtual_keys: Vec<String>,
    /// Saved config used when a request names none.
    #[arg(long, value_name = "SLUG")]
    pub default_config: Option<String>,
    #[command(flatten)]
    pub limits: KeyLimitArgs,
}

#[derive(Debug, Args)]
pub struct RotateMasterKeyArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Take the new key (64 hex characters or base64 of 32 bytes) from this environment
    /// variable; without it a new key is generated.
    #[arg(long, value_name = "VAR")]
    pub new_key_env: Option<String>,
}

/// A flag's value read as JSON.
fn json_value(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        let cli = Cli::try_parse_from(["switchboard", "serve"].iter().chain(args))?;
        match cli.command {
            Command::Serve(serve) => Ok(*serve),
            _ => unreachable!("parsed as serve"),
        }
    }

    #[test]
    fn egress_flags_take_cidrs_and_refuse_anything_else() {
        let args = serve(&["--egress-deny", "10.0.0.0/8", "--egress-deny", "fd00::/8", "--egress-deny-private"]);
        let egress = args.map(|a| a.egress).map_err(|e| e.to_string());
        assert!(matches!(&egress, Ok(e) if e.deny.len() == 2 && e.deny_private && e.allow.is_empty()), "{egress:?}");
        let bad = serve(&["--egress-allow", "10.0.0.0/33"]).map(|_| ()).map_err(|e| e.to_string());
        assert!(matches!(&bad, Err(m) if m.contains("--egress-allow")), "{bad:?}");
    }

    #[test]
    fn limits_have_their_documented_defaults() {
        let limits = serve(&[]).map(|a| a.limits).map_err(|e| e.to_string());
        let Ok(limits) = limits else { return assert!(limits.is_ok(), "{limits:?}") };
        assert_eq!(
            (limits.header_read_timeout_ms, limits.upstream_timeout_ms, limits.stream_idle_timeout_ms),
            (10_000, 600_000, 60_000)
        );
        assert_eq!((limits.max_upstream_body_bytes, limits.max_sse_event_bytes), (32 << 20, 8 << 20));
        assert!(limits.in_flight() >= 512);
    }

    #[test]
    fn limits_are_shared_only_when_asked_and_fail_open_by_default() {
        let shared = serve(&[]).map(|a| a.shared).map_err(|e| e.to_string());
        let Ok(shared) = shared else { return assert!(shared.is_ok(), "{shared:?}") };
        assert!(shared.redis_url.is_none() && !shared.limits_fail_closed && shared.redis_namespace.is_empty());
        let closed = serve(&["--redis-url", "redis://127.0.0.1:6379", "--limits-fail-closed"]).map(|a| a.shared);
        assert!(matches!(closed, Ok(s) if s.limits_fail_closed && s.redis_url.is_some()));
    }

    #[test]
    fn secrets_on_the_command_line_stay_out_of_debug() {
        let cli = Cli::try_parse_from([
            "switchboard",
            "serve",
            "--admin-key",
            "sb-admin-0123456789abcdef",
            "--database-url",
            "postgres://app:hunter2-password@db/switchboard",
            "--redis-url",
            "redis://:swordfish-redis@cache:6379",
        ]);
        let printed = format!("{cli:?}");
        assert!(cli.is_ok(), "{printed}");
        assert!(!printed.contains("0123456789abcdef") && !printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("swordfish"), "{printed}");
    }
}
