//! Virtual keys: named provider credentials. The store keeps only the vault's ciphertext and a display hint;
//! encrypting and decrypting is the caller's job ([`crate::Vault`]), so no plaintext ever reaches this module.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::db::{Backend, RowExt, Sql};
use crate::error::StoreError;
use crate::json_text::{json_column, to_json};
use crate::store::{now_ms, Store};
use crate::vault::{Ciphertext, SealedSecret};

const COLUMNS: &str = "slug, name, provider, secret_ciphertext, secret_hint, options, note, created_at, updated_at";

/// A virtual key to create.
#[derive(Debug, Clone)]
pub struct NewVirtualKey {
    pub slug: String,
    pub name: String,
    pub provider: String,
    pub secret: SealedSecret,
    /// Non-secret provider settings (base URL, Azure resource, region, …); the store does not interpret them.
    pub options: Map<String, Value>,
    pub note: Option<String>,
}

/// Changes to a virtual key; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct VirtualKeyUpdate {
    pub name: Option<String>,
    pub provider: Option<String>,
    pub secret: Option<SealedSecret>,
    pub options: Option<Map<String, Value>>,
    /// `Some(None)` clears the note.
    pub note: Option<Option<String>>,
}

impl VirtualKeyUpdate {
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.provider.is_none()
            && self.secret.is_none()
            && self.options.is_none()
            && self.note.is_none()
    }
}

/// A stored virtual key. Serialises without its ciphertext.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VirtualKeyRecord {
    pub slug: String,
    pub name: String,
    pub provider: String,
    #[serde(skip_serializing)]
    pub secret: Ciphertext,
    pub secret_hint: String,
    pub options: Map<String, Value>,
    pub note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn from_row(row: &dyn RowExt) -> Result<VirtualKeyRecord, StoreError> {
    Ok(VirtualKeyRecord {
        slug: row.text("slug")?,
        name: row.text("name")?,
        provider: row.text("provider")?,
        secret: Ciphertext::from_stored(row.text("secret_ciphertext")?),
        secret_hint: row.text("secret_hint")?,
        options: json_column(row, "options")?,
        note: row.opt_text("note")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

fn select_sql(backend: Backend, filter: &str) -> String {
    format!(
        "SELECT slug, name, provider, secret_ciphertext, secret_hint, {}, note, created_at, updated_at \
         FROM virtual_keys {filter}",
        backend.json_column("options")
    )
}

/// The UPDATE for the fields `update` sets (plus `updated_at`).
fn update_sql<'a>(backend: Backend, slug: &'a str, update: &'a VirtualKeyUpdate) -> Result<Sql<'a>, StoreError> {
    let mut sql = Sql::new(backend, "");
    let mut sets = vec![format!("updated_at = {}", sql.arg(now_ms()))];
    if let Some(name) = &update.name {
        sets.push(format!("name = {}", sql.arg(name.as_str())));
    }
    if let Some(provider) = &update.provider {
        sets.push(format!("provider = {}", sql.arg(provider.as_str())));
    }
    if let Some(secret) = &update.secret {
        sets.push(format!("secret_ciphertext = {}", sql.arg(secret.ciphertext.as_str())));
        sets.push(format!("secret_hint = {}", sql.arg(secret.hint.as_str())));
    }
    if let Some(options) = &update.options {
        sets.push(format!("options = {}", sql.json_arg(to_json(options, "options")?)));
    }
    if let Some(note) = &update.note {
        sets.push(format!("note = {}", sql.arg(note.as_deref())));
    }
    let slug_arg = sql.arg(slug);
    sql.push(&format!("UPDATE virtual_keys SET {} WHERE slug = {slug_arg}", sets.join(", ")));
    Ok(sql)
}

impl Store {
    /// Fails with [`StoreError::Conflict`] when the slug is taken.
    pub async fn create_virtual_key(&self, vk: &NewVirtualKey) -> Result<VirtualKeyRecord, StoreError> {
        let now = now_ms();
        let mut tx = self.control_write().await?;
        let mut sql = Sql::new(self.backend(), "");
        let values = [
            sql.arg(vk.slug.as_str()),
            sql.arg(vk.name.as_str()),
            sql.arg(vk.provider.as_str()),
            sql.arg(vk.secret.ciphertext.as_str()),
            sql.arg(vk.secret.hint.as_str()),
            sql.json_arg(to_json(&vk.options, "options")?),
            sql.arg(vk.note.as_deref()),
            sql.arg(now),
            sql.arg(now),
        ];
        sql.push(&format!("INSERT INTO virtual_keys ({COLUMNS}) VALUES ({})", values.join(", ")));
        let work = tx.execute(&sql).await.map_err(|e| e.conflict_on_unique("virtual key", &vk.slug));
        tx.finish(work).await?;
        Ok(VirtualKeyRecord {
            slug: vk.slug.clone(),
            name: vk.name.clone(),
            provider: vk.provider.clone(),
            secret: vk.secret.ciphertext.clone(),
            secret_hint: vk.secret.hint.clone(),
            options: vk.options.clone(),
            note: vk.note.clone(),
            created_at: now,
            updated_at: now,
        })
    }

    pub async fn get_virtual_key(&self, slug: &str) -> Result<Option<VirtualKeyRecord>, StoreError> {
        let sql = self.db.sql(&select_sql(self.backend(), "WHERE slug = $1"), vec![slug.into()]);
        self.db.fetch_optional(&sql, from_row).await
    }

    /// Every virtual key, ordered by slug.
    pub async fn list_virtual_keys(&self) -> Result<Vec<VirtualKeyRecord>, StoreError> {
        let sql = self.db.sql(&select_sql(self.backend(), "ORDER BY slug"), vec![]);
        self.db.fetch_all(&sql, from_row).await
    }

    /// Applies `update`; `Ok(None)` when no key has this slug. An empty update changes nothing.
    pub async fn update_virtual_key(
        &self,
        slug: &str,
        update: &VirtualKeyUpdate,
    ) -> Result<Option<VirtualKeyRecord>, StoreError> {
        if update.is_empty() {
            return self.get_virtual_key(slug).await;
        }
        let mut tx = self.control_write().await?;
        if tx.execute(&update_sql(self.backend(), slug, update)?).await? == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let select = tx.sql(&select_sql(self.backend(), "WHERE slug = $1"), vec![slug.into()]);
        let record = tx.fetch_optional(&select, from_row).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// `true` when a key was deleted.
    pub async fn delete_virtual_key(&self, slug: &str) -> Result<bool, StoreError> {
        let mut tx = self.control_write().await?;
        let delete = tx.sql("DELETE FROM virtual_keys WHERE slug = $1", vec![slug.into()]);
        let deleted = tx.execute(&delete).await? > 0;
        if deleted {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(deleted)
    }

    /// Every stored secret as (slug, ciphertext), ordered by slug: for verifying a master key or exporting.
    /// Rotation itself is [`Store::rotate_master_key`], which does the read and the rewrite in one transaction.
    pub async fn all_virtual_key_ciphertexts(&self) -> Result<Vec<(String, Ciphertext)>, StoreError> {
        let sql = self.db.sql("SELECT slug, secret_ciphertext FROM virtual_keys ORDER BY slug", vec![]);
        self.db
            .fetch_all(&sql, |row| Ok((row.text("slug")?, Ciphertext::from_stored(row.text("secret_ciphertext")?))))
            .await
    }
}
