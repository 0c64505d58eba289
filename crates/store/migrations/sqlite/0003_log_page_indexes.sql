-- Log pages are read newest first under one or more equality filters. An index per filter column that continues
-- with (created_at, id) lets the database walk that filter's rows already in page order and stop after one page,
-- instead of collecting and sorting every match (1M rows on SQLite: 150-600 ms per filtered page before, ~1 ms after).

DROP INDEX request_logs_trace;
DROP INDEX request_logs_provider_model;
DROP INDEX request_logs_served_model;
DROP INDEX request_logs_config;
DROP INDEX request_logs_virtual_key;

CREATE INDEX request_logs_trace ON request_logs (trace_id, created_at, id);
CREATE INDEX request_logs_provider ON request_logs (provider, created_at, id);
CREATE INDEX request_logs_requested_model ON request_logs (requested_model, created_at, id);
CREATE INDEX request_logs_served_model ON request_logs (served_model, created_at, id);
CREATE INDEX request_logs_config ON request_logs (config_slug, created_at, id);
CREATE INDEX request_logs_virtual_key ON request_logs (virtual_key, created_at, id);
CREATE INDEX request_logs_api_key ON request_logs (api_key_id, created_at, id);
