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

-- When the writer stored the row (Unix ms). `created_at` is when the request started, so a long request's row is
-- written long after rows created later: the live tail follows `logged_at` instead. NULL on rows written before.
ALTER TABLE request_logs ADD COLUMN logged_at BIGINT;
CREATE INDEX request_logs_logged_at ON request_logs (logged_at);
