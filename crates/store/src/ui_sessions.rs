//! Dashboard sessions: the SHA-256 of a session token, who it signed in, and when it ends. The store never sees
//! a token; what a principal string means (an API key id, or the bootstrap key's fingerprint) is the server's.

use crate::db::RowExt;
use crate::error::StoreError;
use crate::store::{now_ms, Store};

/// Ends every session of one principal (`$1`): also run by revoking an API key or taking its `admin` scope.
pub(crate) const END_SESSIONS_OF: &str = "DELETE FROM ui_sessions WHERE principal = $1";

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiSession {
    pub principal: String,
    pub created_at: i64,
    pub expires_at: i64,
}

fn from_row(row: &dyn RowExt) -> Result<UiSession, StoreError> {
    Ok(UiSession {
        principal: row.text("principal")?,
        created_at: row.int("created_at")?,
        expires_at: row.int("expires_at")?,
    })
}

impl Store {
    /// Stores a session (and deletes expired ones, so the table holds only live sessions).
    pub async fn create_ui_session(
        &self,
        token_hash: &str,
        principal: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let purge = self.db.sql("DELETE FROM ui_sessions WHERE expires_at <= $1", vec![now.into()]);
        self.db.execute(&purge).await?;
        let insert = self.db.sql(
            "INSERT INTO ui_sessions (token_hash, principal, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            vec![token_hash.into(), principal.into(), now.into(), expires_at.into()],
        );
        self.db.execute(&insert).await?;
        Ok(())
    }

    /// The session with this token hash, if it has not expired.
    pub async fn find_ui_session(&self, token_hash: &str) -> Result<Option<UiSession>, StoreError> {
        let sql = self.db.sql(
            "SELECT principal, created_at, expires_at FROM ui_sessions WHERE token_hash = $1 AND expires_at > $2",
            vec![token_hash.into(), now_ms().into()],
        );
        self.db.fetch_optional(&sql, from_row).await
    }

    /// Ends a session; `false` when there was none.
    pub async fn delete_ui_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        let sql = self.db.sql("DELETE FROM ui_sessions WHERE token_hash = $1", vec![token_hash.into()]);
        Ok(self.db.execute(&sql).await? > 0)
    }

    /// Ends every session of `principal` (an API key that was revoked or lost its admin scope).
    pub async fn delete_ui_sessions_of(&self, principal: &str) -> Result<u64, StoreError> {
        let sql = self.db.sql(END_SESSIONS_OF, vec![principal.into()]);
        self.db.execute(&sql).await
    }
}
