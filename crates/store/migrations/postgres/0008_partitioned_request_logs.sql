-- Request logs become a table partitioned by UTC day of `created_at`, so that retention drops a day's partition (its
-- files unlinked at once, no dead rows left for VACUUM, no index churn) instead of deleting rows one by one, and a
-- query with a time window reads only the days it names. Several gateway instances write to one PostgreSQL; the
-- store makes each day's partition a few days ahead (`logs/partitions.rs`, `request_logs_pYYYYMMDD`). A row for a
-- day that has no partition lands in the DEFAULT partition instead of failing its batch; it is moved out when that
-- day's partition is made.
--
-- A unique key on a partitioned table must contain the partition key, so the primary key becomes (id, created_at).
-- Ids stay unique in practice (UUIDv7); the writer's ON CONFLICT names both columns, which a retried batch repeats
-- exactly. Indexes are declared on the parent, so every partition, present or future, gets the same ones.
--
-- Existing rows are copied once into the new table, in this migration's transaction: on a large log this takes
-- minutes and the gateway starts after it. The old table loses its indexes first (their names belong to the new
-- table, and nothing reads the old one again) and the new table gets its indexes after the copy, which builds each
-- index once instead of inserting into it row by row.

ALTER TABLE request_logs RENAME TO request_logs_unpartitioned;
ALTER TABLE request_logs_unpartitioned DROP CONSTRAINT request_logs_pkey;
DROP INDEX request_logs_created;
DROP INDEX request_logs_trace;
DROP INDEX request_logs_provider;
DROP INDEX request_logs_requested_model;
DROP INDEX request_logs_served_model;
DROP INDEX request_logs_config;
DROP INDEX request_logs_virtual_key;
DROP INDEX request_logs_api_key;
DROP INDEX request_logs_logged_at;

CREATE TABLE request_logs (
    id TEXT COLLATE "C" NOT NULL,
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
    error TEXT,
    error_class TEXT,
    logged_at BIGINT
) PARTITION BY RANGE (created_at);

CREATE TABLE request_logs_default PARTITION OF request_logs DEFAULT;

-- A partition for each day that has rows, named and bounded as the store names and bounds the ones it makes (a day
-- is 86,400,000 ms; its name is its UTC date). Rows outside years 1970-9999 (a custom log with a made-up time) stay
-- in the DEFAULT partition, where retention finds them too. Today's and the coming days' partitions are the store's
-- upkeep, which the gateway runs at start.
DO $$
DECLARE
    day BIGINT;
BEGIN
    FOR day IN
        SELECT DISTINCT created_at / 86400000 FROM request_logs_unpartitioned
        WHERE created_at BETWEEN 0 AND 253402300799999
    LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF request_logs FOR VALUES FROM (%s) TO (%s)',
            'request_logs_p' || to_char(to_timestamp(day * 86400) AT TIME ZONE 'UTC', 'YYYYMMDD'),
            day * 86400000,
            (day + 1) * 86400000
        );
    END LOOP;
END
$$;

INSERT INTO request_logs (
    id, created_at, trace_id, span_id, parent_span_id, span_name, metadata, api_key_id, config_slug, config_version,
    strategy_mode, target_path, provider, virtual_key, requested_model, served_model, status, latency_ms, ttfb_ms,
    stream, retry_count, cache_status, prompt_tokens, completion_tokens, total_tokens, cost_usd, unpriced,
    request_body, response_body, attempts, error, error_class, logged_at
)
SELECT
    id, created_at, trace_id, span_id, parent_span_id, span_name, metadata, api_key_id, config_slug, config_version,
    strategy_mode, target_path, provider, virtual_key, requested_model, served_model, status, latency_ms, ttfb_ms,
    stream, retry_count, cache_status, prompt_tokens, completion_tokens, total_tokens, cost_usd, unpriced,
    request_body, response_body, attempts, error, error_class, logged_at
FROM request_logs_unpartitioned;

DROP TABLE request_logs_unpartitioned;

-- The same indexes as before (migrations 0003, 0004, 0007 say why each exists), now on every partition.
ALTER TABLE request_logs ADD PRIMARY KEY (id, created_at);
CREATE INDEX request_logs_created ON request_logs (created_at, id);
CREATE INDEX request_logs_trace ON request_logs (trace_id, created_at, id);
CREATE INDEX request_logs_provider ON request_logs (provider, created_at, id);
CREATE INDEX request_logs_requested_model ON request_logs (requested_model, created_at, id);
CREATE INDEX request_logs_served_model ON request_logs (served_model, created_at, id) WHERE served_model IS NOT NULL;
CREATE INDEX request_logs_config ON request_logs (config_slug, created_at, id) WHERE config_slug IS NOT NULL;
CREATE INDEX request_logs_virtual_key ON request_logs (virtual_key, created_at, id) WHERE virtual_key IS NOT NULL;
CREATE INDEX request_logs_api_key ON request_logs (api_key_id, created_at, id) WHERE api_key_id IS NOT NULL;
CREATE INDEX request_logs_logged_at ON request_logs (logged_at);
