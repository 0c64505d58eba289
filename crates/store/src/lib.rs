//! Switchboard's persistence layer: the control plane (virtual keys vault, versioned saved configs, gateway API
//! keys) and request logs, on SQLite (the default: `switchboard.db` in the data directory, WAL mode) or
//! PostgreSQL (a `postgres://` URL).
//!
//! [`open`] connects and runs the embedded migrations (one directory per dialect); [`Store`] is the one handle the
//! server holds. Secrets reach the store only as [`Ciphertext`] from the [`Vault`], and API keys only as hashes.
//! This crate must not know about HTTP, routing or providers: it stores what the server hands it and answers
//! queries, and it never logs a secret or puts one in an error.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod api_keys;
mod configs;
mod db;
mod error;
mod json_text;
mod logs;
mod sqlite_thread;
mod store;
mod ui_sessions;
pub mod vault;
mod virtual_keys;

pub use api_keys::{hash_api_key, ApiKeyRecord, ApiKeyScope, ApiKeyUpdate, NewApiKey, UnknownScope};
pub use configs::{ConfigRecord, ConfigVersion};
pub use db::Backend;
pub use error::StoreError;
pub use logs::partitions::LogPartition;
pub use logs::query::{BadStatusFilter, DEFAULT_PAGE_SIZE, MAX_METADATA_FILTERS, MAX_PAGE_SIZE};
pub use logs::summary::UnknownGroupBy;
pub use logs::{
    AttemptEntry, AttemptReason, Attempts, Feedback, FeedbackUpdate, GroupBy, LogPage, LogQuery, LogRecord, RouteEntry,
    RouteNote, SeriesPoint, StatusFilter, SummaryRow, TailFrom, TailPosition, TailRow, MAX_SERIES_BUCKETS,
    PG_OVERLAP_MS,
};
pub use store::{open, Store, StoreLocation, SQLITE_FILE};
pub use ui_sessions::UiSession;
pub use vault::{hint, Ciphertext, SealedSecret, Secret, Vault, VaultError};
pub use virtual_keys::{NewVirtualKey, VirtualKeyRecord, VirtualKeyUpdate};
