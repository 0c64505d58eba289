-- An API key's limits, in Portkey's shapes as the admin API checked them: `rate_limits` a JSON list of
-- {type, unit, value}, `usage_limits` a JSON object {credit_limit, type, alert_threshold, periodic_reset, ...}.
-- NULL when the key has none. What a key has used is not kept here: it lives with the limiter (memory, or Redis).
ALTER TABLE api_keys ADD COLUMN rate_limits TEXT;
ALTER TABLE api_keys ADD COLUMN usage_limits TEXT;
