-- Dashboard sign-in sessions. The browser holds a random token in an HttpOnly cookie; the store keeps only its
-- SHA-256, who signed in (an API key's id, or `admin:` and a fingerprint of the bootstrap key, so a changed
-- bootstrap key ends its sessions) and when the session ends. Expired rows are deleted when sessions are created.
CREATE TABLE ui_sessions (
    token_hash TEXT PRIMARY KEY,
    principal TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_expires ON ui_sessions (expires_at);

-- The live tail follows SQLite's rowid (one writer: rowid order is commit order), so no column or index is added
-- to the log for it (PostgreSQL's migration adds `logged_at`).
