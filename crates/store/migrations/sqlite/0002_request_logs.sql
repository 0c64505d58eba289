-- Request logs and feedback. JSON columns (metadata, attempts) are TEXT holding JSON.

CREATE TABLE request_logs (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    trace_id TEXT,
    span_id TEXT,
    parent_span_id TEXT,
    span_name TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    api_key_id TEXT,
    config_slug TEXT,
    config_version INTEGER,
    strategy_mode TEXT,
    target_path TEXT,
    provider TEXT NOT NULL,
    virtual_key TEXT,
    requested_model TEXT NOT NULL,
    served_model TEXT,
    status INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    ttfb_ms INTEGER,
    stream BOOLEAN NOT NULL,
    retry_count INTEGER NOT NULL,
    cache_status TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    total_tokens INTEGER,
    cost_usd REAL,
    unpriced BOOLEAN NOT NULL,
    request_body TEXT,
    response_body TEXT,
    attempts TEXT NOT NULL DEFAULT '[]',
    error TEXT
);

CREATE INDEX request_logs_created ON request_logs (created_at, id);
CREATE INDEX request_logs_trace ON request_logs (trace_id);
CREATE INDEX request_logs_provider_model ON request_logs (provider, requested_model);
CREATE INDEX request_logs_served_model ON request_logs (served_model);
CREATE INDEX request_logs_config ON request_logs (config_slug);
CREATE INDEX request_logs_virtual_key ON request_logs (virtual_key);

CREATE TABLE feedback (
    id TEXT PRIMARY KEY,
    trace_id TEXT NOT NULL,
    value INTEGER NOT NULL,
    weight REAL NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);

CREATE INDEX feedback_trace ON feedback (trace_id);
