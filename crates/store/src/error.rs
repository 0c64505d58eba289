//! The store's one error type. Messages name what failed and where, never a secret: connection targets are
//! shown without credentials and vault errors carry no key material.

use std::path::PathBuf;

use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name is taken (virtual key slug, config slug, API key hash).
    #[error("{entity} `{key}` already exists")]
    Conflict { entity: &'static str, key: String },
    /// The caller asked for something the store cannot answer (bad limit, cursor or metadata key).
    #[error("invalid log query: {0}")]
    InvalidQuery(String),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The SQLite log writer's own connection (see `logs::sqlite_writer`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The SQLite log writer's thread is gone: the store was closed, or the thread panicked (then the next batch
    /// starts a new one).
    #[error("the request log writer has stopped")]
    LogWriterStopped,
    /// A stored value cannot be read back (bad JSON, out-of-range number): the database was edited by hand or
    /// written by an incompatible version.
    #[error("stored {what} is unreadable: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

impl StoreError {
    /// A short, stable code for metrics and API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Conflict { .. } => "conflict",
            StoreError::InvalidQuery(_) => "invalid_query",
            StoreError::Vault(_) => "vault",
            StoreError::DataDir { .. } => "data_dir",
            StoreError::Connect { .. } => "unavailable",
            StoreError::Migrate(_) => "migration",
            StoreError::Database(_) | StoreError::Sqlite(_) => "database",
            StoreError::LogWriterStopped => "unavailable",
            StoreError::Corrupt { .. } => "corrupt",
        }
    }

    /// True when the caller's input was at fault (maps to a 4xx), false for the store's own failures.
    pub fn is_client_error(&self) -> bool {
        matches!(self, StoreError::Conflict { .. } | StoreError::InvalidQuery(_))
    }

    pub(crate) fn corrupt(what: &'static str, detail: impl ToString) -> Self {
        StoreError::Corrupt { what, detail: detail.to_string() }
    }

    /// Turns a unique-constraint violation into [`StoreError::Conflict`]; other errors pass through.
    pub(crate) fn conflict_on_unique(self, entity: &'static str, key: &str) -> Self {
        match &self {
            StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                StoreError::Conflict { entity, key: key.to_owned() }
            }
            _ => self,
        }
    }
}
