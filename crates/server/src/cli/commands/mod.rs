//! The control-plane commands (`virtual-keys`, `configs`, `api-keys`, `rotate-master-key`):
//! each opens the store the way `serve` does (SQLite in the data directory or PostgreSQL,
//! the vault's master key checked before any secret is touched), does one thing, and prints
//! the result through [`output`]. They share the validation rules of the declarative file
//! ([`crate::control::declarative::spec`]). A secret is never taken from a flag, and never printed.

pub mod api_keys;
pub mod configs;
pub mod output;
pub mod rotate;
pub mod virtual_keys;

use std::fmt::Write as _;
use std::path::PathBuf;

use switchboard_store::{Store, StoreError, StoreLocation, Vault, VaultError};
use tracing_subscriber::EnvFilter;

use crate::cli::{LogFormat, StoreArgs};
use crate::control::declarative::spec::Problems;

/// Why a command failed; shown as one `error: …` line (a list of problems gets one line
/// each) and exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Vault(#[from] VaultError),
    /// The request cannot be carried out as asked (unknown slug, unset variable, …).
    #[error("{0}")]
    Invalid(String),
    #[error("{what}:{}", indented(.problems))]
    Problems { what: String, problems: Problems },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
    #[error("could not start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// One problem per line, indented under the summary.
fn indented(problems: &Problems) -> String {
    problems.0.iter().fold(String::new(), |mut text, problem| {
        let _ = write!(text, "\n  {problem}");
        text
    })
}

/// Opens the store named by `--data-dir` / `--database-url`, running pending migrations.
pub async fn open_store(args: &StoreArgs) -> Result<Store, CommandError> {
    let location = match &args.database_url {
        Some(url) => StoreLocation::Postgres(url.expose().to_string()),
        None => StoreLocation::Sqlite(args.data_dir.clone()),
    };
    Ok(switchboard_store::open(&location).await?)
}

/// The vault (SWITCHBOARD_MASTER_KEY, else `<data-dir>/master.key`, created when missing),
/// checked against the store: a wrong key fails here, before anything is written.
pub async fn open_vault(args: &StoreArgs, store: &Store) -> Result<Vault, CommandError> {
    let vault = Vault::load_or_create(&args.data_dir)?;
    store.check_vault(&vault).await?;
    Ok(vault)
}

/// Logging for the commands: warnings and errors only (unless `RUST_LOG` says otherwise),
/// to stderr, so stdout carries nothing but the result.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    drop(result);
}

/// Runs one command to completion on a single-threaded runtime.
pub fn block_on(work: impl std::future::Future<Output = Result<(), CommandError>>) -> Result<(), CommandError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(CommandError::Runtime)?;
    runtime.block_on(work)
}
