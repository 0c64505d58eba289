-- Request logs and feedback. JSON columns (metadata, attempts) are JSONB. Ids compare bytewise (COLLATE "C"),
-- like SQLite, so keyset paging over (created_at, id) orders the same on both backends.

CREATE TABLE request_logs (
    id TEXT COLLATE "C" PRIMARY KEY,
    created_at BIGINT NOT NULL,
    trace_id TEXT,
    span_id TEXT,
    parent_span_id TEXT,
    span_name TEXT,
    metadata JSONB NOT NULL DEFAULT '{}',
    api_key_id TEXT,
    config_slug TEXT,
    config_version BIGINT,
    strategy_mode TEXT,
    target_path TEXT,
    provider TEXT NOT NULL,
    virtual_key TEXT,
    requested_model TEXT NOT NULL,
    served_model TEXT,
    status BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL,
    ttfb_ms BIGINT,
    stream BOOLEAN NOT NULL,
    retry_count BIGINT NOT NULL,
    cache_status TEXT,
    prompt_tokens BIGINT,
    completion_tokens BIGINT,
    total_tokens BIGINT,
    cost_usd DOUBLE PRECISION,
    unpriced BOOLEAN NOT NULL,
    request_body TEXT,
    response_body TEXT,
    attempts JSONB NOT NULL DEFAULT '[]',
    error TEXT
);

CREATE INDEX request_logs_created ON request_logs (created_at, id);
CREATE INDEX request_logs_trace ON request_logs (trace_id);
CREATE INDEX request_logs_provider_model ON request_logs (provider, requested_model);
CREATE INDEX request_logs_served_model ON request_logs (served_model);
CREATE INDEX request_logs_config ON request_logs (config_slug);
CREATE INDEX request_logs_virtual_key ON request_logs (virtual_key);

CREATE TABLE feedback (
    id TEXT COLLATE "C" PRIMARY KEY,
    trace_id TEXT NOT NULL,
    value BIGINT NOT NULL,
    weight DOUBLE PRECISION NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE INDEX feedback_trace ON feedback (trace_id);
