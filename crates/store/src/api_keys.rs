//! Gateway API keys. The store never sees a key: only its SHA-256 ([`hash_api_key`]) and a display hint. Keys
//! are looked up by hash on every request; what they may do (name, scope, allow-lists, limits) can be edited, the key itself never. The allow-lists are stored as given; what
//! an empty list means is the server's rule. Limits (`rate_limits`, `usage_limits`) are kept as the JSON the
//! admin API checked; what they mean, and what a key has used, is the server's.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::db::{RowExt, Sql};
use crate::error::StoreError;
use crate::json_text::{json_column, opt_json_column, opt_to_json, to_json};
use crate::store::{now_ms, Store};

const COLUMNS: &str = "id, name, key_hash, hint, scope, allowed_configs, allowed_virtual_keys, default_config, \
     created_at, revoked_at, rate_limits, usage_limits";

/// The lowercase hex SHA-256 of a key: what [`Store::find_api_key_by_hash`] expects.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyScope {
    /// The admin API (and the gateway).
    Admin,
    /// The gateway only.
    Gateway,
}

impl ApiKeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyScope::Admin => "admin",
            ApiKeyScope::Gateway => "gateway",
        }
    }
}

impl fmt::Display for ApiKeyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown API key scope `{0}`: expected `admin` or `gateway`")]
pub struct UnknownScope(pub String);

impl FromStr for ApiKeyScope {
    type Err = UnknownScope;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "admin" => Ok(ApiKeyScope::Admin),
            "gateway" => Ok(ApiKeyScope::Gateway),
            other => Err(UnknownScope(other.to_owned())),
        }
    }
}

/// An API key to create; the store assigns its id and creation time.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    /// From [`hash_api_key`].
    pub key_hash: String,
    pub hint: String,
    pub scope: ApiKeyScope,
    pub allowed_configs: Vec<String>,
    pub allowed_virtual_keys: Vec<String>,
    pub default_config: Option<String>,
    /// Portkey's `rate_limits` list, as checked by the server; `None`: no limit.
    pub rate_limits: Option<serde_json::Value>,
    /// Portkey's `usage_limits` object, as checked by the server; `None`: no budget.
    pub usage_limits: Option<serde_json::Value>,
}

/// Changes to a key; `None` keeps the stored value. `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiKeyUpdate {
    pub name: Option<String>,
    pub scope: Option<ApiKeyScope>,
    pub allowed_configs: Option<Vec<String>>,
    pub allowed_virtual_keys: Option<Vec<String>>,
    pub default_config: Option<Option<String>>,
    pub rate_limits: Option<Option<serde_json::Value>>,
    pub usage_limits: Option<Option<serde_json::Value>>,
}

/// A stored API key. Serialises without its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing)]
    pub key_hash: String,
    pub hint: String,
    pub scope: ApiKeyScope,
    pub allowed_configs: Vec<String>,
    pub allowed_virtual_keys: Vec<String>,
    pub default_config: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub rate_limits: Option<serde_json::Value>,
    pub usage_limits: Option<serde_json::Value>,
}

impl ApiKeyRecord {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

fn from_row(row: &dyn RowExt) -> Result<ApiKeyRecord, StoreError> {
    let scope = row.text("scope")?;
    Ok(ApiKeyRecord {
        id: row.text("id")?,
        name: row.text("name")?,
        key_hash: row.text("key_hash")?,
        hint: row.text("hint")?,
        scope: scope.parse().map_err(|e| StoreError::corrupt("scope", e))?,
        allowed_configs: json_column(row, "allowed_configs")?,
        allowed_virtual_keys: json_column(row, "allowed_virtual_keys")?,
        default_config: row.opt_text("default_config")?,
        created_at: row.int("created_at")?,
        revoked_at: row.opt_int("revoked_at")?,
        rate_limits: opt_json_column(row, "rate_limits")?,
        usage_limits: opt_json_column(row, "usage_limits")?,
    })
}

impl Store {
    /// Stores a new key under a fresh id. Fails with [`StoreError::Conflict`] if the same key hash exists.
    pub async fn create_api_key(&self, key: &NewApiKey) -> Result<ApiKeyRecord, StoreError> {
        let record = ApiKeyRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name: key.name.clone(),
            key_hash: key.key_hash.clone(),
            hint: key.hint.clone(),
            scope: key.scope,
            allowed_configs: key.allowed_configs.clone(),
            allowed_virtual_keys: key.allowed_virtual_keys.clone(),
            default_config: key.default_config.clone(),
            created_at: now_ms(),
            revoked_at: None,
            rate_limits: key.rate_limits.clone(),
            usage_limits: key.usage_limits.clone(),
        };
        let mut tx = self.control_write().await?;
        let mut sql = Sql::new(self.backend(), "");
        let values = [
            sql.arg(record.id.as_str()),
            sql.arg(record.name.as_str()),
            sql.arg(record.key_hash.as_str()),
            sql.arg(record.hint.as_str()),
            sql.arg(record.scope.as_str()),
            sql.arg(to_json(&record.allowed_configs, "allowed_configs")?),
            sql.arg(to_json(&record.allowed_virtual_keys, "allowed_virtual_keys")?),
            sql.arg(record.default_config.as_deref()),
            sql.arg(record.created_at),
            sql.arg(record.revoked_at),
            sql.arg(opt_to_json(record.rate_limits.as_ref(), "rate_limits")?),
            sql.arg(opt_to_json(record.usage_limits.as_ref(), "usage_limits")?),
        ];
        sql.push(&format!("INSERT INTO api_keys ({COLUMNS}) VALUES ({})", values.join(", ")));
        let work = tx.execute(&sql).await.map_err(|e| e.conflict_on_unique("API key", &record.hint));
        tx.finish(work).await?;
        Ok(record)
    }

    /// The key with this hash, revoked or not: check [`ApiKeyRecord::is_revoked`].
    pub async fn find_api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = self.db.sql(&format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1"), vec![key_hash.into()]);
        self.db.fetch_optional(&sql, from_row).await
    }

    /// The key with this id, revoked or not.
    pub async fn find_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = self.db.sql(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"), vec![id.into()]);
        self.db.fetch_optional(&sql, from_row).await
    }

    /// Applies `update` to live key `id` and returns it as stored; `None` when there is no live key `id`.
    pub async fn update_api_key(&self, id: &str, update: &ApiKeyUpdate) -> Result<Option<ApiKeyRecord>, StoreError> {
        let mut sql = Sql::new(self.backend(), "");
        let sets = update_sets(&mut sql, update)?;
        let id_arg = sql.arg(id);
        sql.push(&format!("UPDATE api_keys SET {} WHERE id = {id_arg} AND revoked_at IS NULL", sets.join(", ")));
        let mut tx = self.control_write().await?;
        let updated = tx.execute(&sql).await? > 0;
        if !updated {
            tx.rollback().await?;
            return Ok(None);
        }
        if update.scope == Some(ApiKeyScope::Gateway) {
            tx.execute(&end_sessions(&tx, id)).await?;
        }
        let select = tx.sql(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"), vec![id.into()]);
        let work = tx.fetch_optional(&select, from_row).await;
        tx.finish(work).await
    }

    /// Every key, revoked ones included, oldest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql = self.db.sql(&format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"), vec![]);
        self.db.fetch_all(&sql, from_row).await
    }

    /// `true` when this call revoked the key; `false` when it does not exist or was already revoked.
    pub async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.control_write().await?;
        let revoke = tx.sql(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            vec![now_ms().into(), id.into()],
        );
        let revoked = tx.execute(&revoke).await? > 0;
        if revoked {
            tx.execute(&end_sessions(&tx, id)).await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(revoked)
    }
}

/// Deletes the dashboard sessions a key opened: a revoked key, or one no longer of scope `admin`, may not keep
/// them (the server also refuses them on use; this removes the rows with the change, in its transaction).
fn end_sessions<'a>(tx: &crate::db::Tx, id: &'a str) -> Sql<'a> {
    tx.sql(crate::ui_sessions::END_SESSIONS_OF, vec![id.into()])
}

/// `column = placeholder` for each field the update sets (`id = id` when it sets none).
fn update_sets<'a>(sql: &mut Sql<'a>, update: &'a ApiKeyUpdate) -> Result<Vec<String>, StoreError> {
    let mut sets = Vec::new();
    if let Some(name) = &update.name {
        sets.push(format!("name = {}", sql.arg(name.as_str())));
    }
    if let Some(scope) = update.scope {
        sets.push(format!("scope = {}", sql.arg(scope.as_str())));
    }
    if let Some(list) = &update.allowed_configs {
        sets.push(format!("allowed_configs = {}", sql.arg(to_json(list, "allowed_configs")?)));
    }
    if let Some(list) = &update.allowed_virtual_keys {
        sets.push(format!("allowed_virtual_keys = {}", sql.arg(to_json(list, "allowed_virtual_keys")?)));
    }
    if let Some(default_config) = &update.default_config {
        sets.push(format!("default_config = {}", sql.arg(default_config.as_deref())));
    }
    if let Some(limits) = &update.rate_limits {
        sets.push(format!("rate_limits = {}", sql.arg(opt_to_json(limits.as_ref(), "rate_limits")?)));
    }
    if let Some(limits) = &update.usage_limits {
        sets.push(format!("usage_limits = {}", sql.arg(opt_to_json(limits.as_ref(), "usage_limits")?)));
    }
    if sets.is_empty() {
        sets.push("id = id".to_owned());
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_lowercase_hex_sha256() {
        assert_eq!(hash_api_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn scope_round_trips_through_its_name() {
        for scope in [ApiKeyScope::Admin, ApiKeyScope::Gateway] {
            assert_eq!(scope.as_str().parse::<ApiKeyScope>(), Ok(scope));
        }
        assert!("root".parse::<ApiKeyScope>().is_err());
    }
}
