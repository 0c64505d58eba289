//! Saved configs, versioned: a config's JSON is never edited in place. Every change to it appends a new version
//! and moves the config's `current_version`; old versions stay readable so logs can point at the exact config a
//! request ran with. The store keeps the JSON text as given; validating it is the caller's job.

use serde::Serialize;

use crate::db::RowExt;
use crate::error::StoreError;
use crate::store::{now_ms, Store};

const SELECT_CURRENT: &str = "SELECT c.slug, c.name, c.current_version AS version, v.config_json, c.created_at, \
     c.updated_at FROM configs c JOIN config_versions v ON v.slug = c.slug AND v.version = c.current_version";

/// A config at its current version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigRecord {
    pub slug: String,
    pub name: String,
    pub version: i64,
    pub config_json: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One version of a config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigVersion {
    pub version: i64,
    pub config_json: String,
    pub created_at: i64,
}

fn record_from_row(row: &dyn RowExt) -> Result<ConfigRecord, StoreError> {
    Ok(ConfigRecord {
        slug: row.text("slug")?,
        name: row.text("name")?,
        version: row.int("version")?,
        config_json: row.text("config_json")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

fn version_from_row(row: &dyn RowExt) -> Result<ConfigVersion, StoreError> {
    Ok(ConfigVersion {
        version: row.int("version")?,
        config_json: row.text("config_json")?,
        created_at: row.int("created_at")?,
    })
}

/// Two config texts are the same config when they parse to equal JSON values, so re-saving with other
/// whitespace or key order does not make a new version.
fn same_config(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

impl Store {
    /// Creates version 1. Fails with [`StoreError::Conflict`] when the slug is taken.
    pub async fn create_config(&self, slug: &str, name: &str, config_json: &str) -> Result<ConfigRecord, StoreError> {
        let now = now_ms();
        let mut tx = self.control_write().await?;
        let insert = tx.sql(
            "INSERT INTO configs (slug, name, current_version, created_at, updated_at) VALUES ($1, $2, 1, $3, $3)",
            vec![slug.into(), name.into(), now.into()],
        );
        let version = tx.sql(
            "INSERT INTO config_versions (slug, version, config_json, created_at) VALUES ($1, 1, $2, $3)",
            vec![slug.into(), config_json.into(), now.into()],
        );
        let work = match tx.execute(&insert).await.map_err(|e| e.conflict_on_unique("config", slug)) {
            Ok(_) => tx.execute(&version).await,
            Err(err) => Err(err),
        };
        tx.finish(work).await?;
        let (slug, name, config_json) = (slug.to_owned(), name.to_owned(), config_json.to_owned());
        Ok(ConfigRecord { slug, name, version: 1, config_json, created_at: now, updated_at: now })
    }

    /// The config at its current version.
    pub async fn get_config(&self, slug: &str) -> Result<Option<ConfigRecord>, StoreError> {
        let sql = self.db.sql(&format!("{SELECT_CURRENT} WHERE c.slug = $1"), vec![slug.into()]);
        self.db.fetch_optional(&sql, record_from_row).await
    }

    /// Every config at its current version, ordered by slug.
    pub async fn list_configs(&self) -> Result<Vec<ConfigRecord>, StoreError> {
        let sql = self.db.sql(&format!("{SELECT_CURRENT} ORDER BY c.slug"), vec![]);
        self.db.fetch_all(&sql, record_from_row).await
    }

    /// Renames and/or saves new JSON. A changed JSON becomes version `current + 1`; a rename alone keeps the
    /// version. `Ok(None)` when no config has this slug.
    pub async fn update_config(
        &self,
        slug: &str,
        name: Option<&str>,
        config_json: Option<&str>,
    ) -> Result<Option<ConfigRecord>, StoreError> {
        let mut tx = self.control_write().await?;
        let select = tx.sql(&format!("{SELECT_CURRENT} WHERE c.slug = $1"), vec![slug.into()]);
        let Some(mut config) = tx.fetch_optional(&select, record_from_row).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let new_json = config_json.filter(|json| !same_config(json, &config.config_json));
        let new_name = name.filter(|name| *name != config.name);
        if new_json.is_none() && new_name.is_none() {
            tx.rollback().await?;
            return Ok(Some(config));
        }
        config.updated_at = now_ms();
        if let Some(json) = new_json {
            config.version += 1;
            config.config_json = json.to_owned();
            let insert = tx.sql(
                "INSERT INTO config_versions (slug, version, config_json, created_at) VALUES ($1, $2, $3, $4)",
                vec![slug.into(), config.version.into(), json.into(), config.updated_at.into()],
            );
            tx.execute(&insert).await?;
        }
        if let Some(name) = new_name {
            config.name = name.to_owned();
        }
        let update = tx.sql(
            "UPDATE configs SET name = $1, current_version = $2, updated_at = $3 WHERE slug = $4",
            vec![config.name.as_str().into(), config.version.into(), config.updated_at.into(), slug.into()],
        );
        tx.execute(&update).await?;
        tx.commit().await?;
        Ok(Some(config))
    }

    /// Every version of a config, oldest first; empty when no config has this slug.
    pub async fn config_versions(&self, slug: &str) -> Result<Vec<ConfigVersion>, StoreError> {
        let sql = self.db.sql(
            "SELECT version, config_json, created_at FROM config_versions WHERE slug = $1 ORDER BY version",
            vec![slug.into()],
        );
        self.db.fetch_all(&sql, version_from_row).await
    }

    /// One version of a config, current or not.
    pub async fn get_config_version(&self, slug: &str, version: i64) -> Result<Option<ConfigVersion>, StoreError> {
        let sql = self.db.sql(
            "SELECT version, config_json, created_at FROM config_versions WHERE slug = $1 AND version = $2",
            vec![slug.into(), version.into()],
        );
        self.db.fetch_optional(&sql, version_from_row).await
    }

    /// Deletes a config and all its versions; `true` when it existed.
    pub async fn delete_config(&self, slug: &str) -> Result<bool, StoreError> {
        let mut tx = self.control_write().await?;
        let versions = tx.sql("DELETE FROM config_versions WHERE slug = $1", vec![slug.into()]);
        tx.execute(&versions).await?;
        let config = tx.sql("DELETE FROM configs WHERE slug = $1", vec![slug.into()]);
        let deleted = tx.execute(&config).await? > 0;
        if deleted {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::same_config;

    #[test]
    fn whitespace_and_key_order_do_not_make_a_new_config() {
        assert!(same_config(r#"{"a":1,"b":[2]}"#, "{ \"b\": [2], \"a\": 1 }"));
        assert!(!same_config(r#"{"a":1}"#, r#"{"a":2}"#));
    }
}
