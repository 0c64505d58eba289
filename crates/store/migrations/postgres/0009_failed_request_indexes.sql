-- Failed requests are what people page through when something breaks, and they are few: a status filter walked
-- the newest-first index past every success (in a healthy log, nearly every row) to fill a page of errors, and a
-- provider's errors walked every row of that provider: 4.7 s on 10M rows when it had none (bench/README.md). These
-- indexes hold only the rows with status >= 400, so they cost the log writer an insert for a failed request and
-- nothing for a success. The store writes status codes into the query text (a prepared plan must see them to know
-- that `status BETWEEN 400 AND 499` falls inside `status >= 400`).
CREATE INDEX request_logs_failed ON request_logs (created_at, id) WHERE status >= 400;
CREATE INDEX request_logs_provider_failed ON request_logs (provider, created_at, id) WHERE status >= 400;
