//! The declarative file (`switchboard serve --config switchboard.yaml`): virtual keys and
//! saved configs kept in a YAML (or JSON) file, with `${VAR}` for secrets from the
//! environment. It is applied at start — a bad file stops the start — and again on SIGHUP
//! and when the file changes, where a bad file is refused, logged, and the previous state
//! kept. Applying only writes to the store and drops the control plane's caches: in-flight
//! requests are never interrupted. It never logs a secret.
//!
//! ```yaml
//! virtual_keys:
//!   - slug: openai-prod
//!     name: OpenAI prod
//!     provider: openai
//!     key: ${OPENAI_API_KEY}
//! configs:
//!   - slug: pc-cookbook
//!     config: { strategy: {mode: loadbalance}, targets: [{virtual_key: openai-prod}] }
//! ```

mod apply;
mod env;
mod file;
pub mod spec;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use apply::{apply, new_key, Applied, ApplyError, Outcome};
pub use env::{substitute, SubstError};
pub use file::{parse, yaml_value, ConfigSpec, Declared, FileError};
pub use watch::{fingerprint, Fingerprint, POLL_INTERVAL};

use crate::control::Control;

/// Why the file was not applied. Names the file; never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum DeclarativeError {
    #[error("cannot read the declarative file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("declarative file {path} refused: {source}")]
    Refused {
        path: PathBuf,
        #[source]
        source: FileError,
    },
    #[error("declarative file {path} could not be applied: {source}")]
    Apply {
        path: PathBuf,
        #[source]
        source: ApplyError,
    },
}

/// Reads and validates the file, with `${VAR}` taken from the process environment.
pub fn read(path: &Path) -> Result<Declared, DeclarativeError> {
    let text = std::fs::read_to_string(path).map_err(|source| DeclarativeError::Read { path: path.into(), source })?;
    parse(&text, &|name| std::env::var(name).ok())
        .map_err(|source| DeclarativeError::Refused { path: path.into(), source })
}

/// Reads, validates and applies the file; drops the caches when something changed.
pub async fn reload(path: &Path, control: &Control) -> Result<Applied, DeclarativeError> {
    let declared = read(path)?;
    let applied = apply(&declared, &control.store, &control.vault)
        .await
        .map_err(|source| DeclarativeError::Apply { path: path.into(), source })?;
    if applied.changed() {
        control.invalidate();
    }
    Ok(applied)
}

/// Applies the file once (an error stops the start), then keeps watching it until
/// shutdown (the watcher is a tracked loop).
pub async fn start(path: &Path, control: Arc<Control>) -> Result<(), DeclarativeError> {
    let applied = reload(path, &control).await?;
    tracing::info!("{} applied: {applied}", path.display());
    watch::spawn(path.to_owned(), control);
    Ok(())
}
