-- Every index is one more B-tree insert per logged request, and with logging on that insert cost is most of what
-- logging costs. The filter indexes on columns that are often empty (no saved config, no virtual key, no API key,
-- no served model on a failed request) now skip the rows where the column is NULL: a filter `col = ?` never matches
-- those rows, and both engines still use a partial index for it (an equality implies IS NOT NULL).

DROP INDEX request_logs_served_model;
DROP INDEX request_logs_config;
DROP INDEX request_logs_virtual_key;
DROP INDEX request_logs_api_key;

CREATE INDEX request_logs_served_model ON request_logs (served_model, created_at, id) WHERE served_model IS NOT NULL;
CREATE INDEX request_logs_config ON request_logs (config_slug, created_at, id) WHERE config_slug IS NOT NULL;
CREATE INDEX request_logs_virtual_key ON request_logs (virtual_key, created_at, id) WHERE virtual_key IS NOT NULL;
CREATE INDEX request_logs_api_key ON request_logs (api_key_id, created_at, id) WHERE api_key_id IS NOT NULL;
