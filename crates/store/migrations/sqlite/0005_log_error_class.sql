-- The class of a failed request (rate_limit, timeout, upstream_malformed, client_closed, internal, ...): the attempts
-- carry one each, and the record's own says why the request as a whole ended as it did (also when no attempt was made,
-- e.g. a panic or a client that left). Not indexed: it is read with the record, and filtered only with other filters.
ALTER TABLE request_logs ADD COLUMN error_class TEXT;
