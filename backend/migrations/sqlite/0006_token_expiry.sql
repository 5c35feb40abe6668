-- API tokens expire. Tokens made before they did get the default lifetime of 90 days from now.
ALTER TABLE api_tokens ADD COLUMN expires_at_ms BIGINT NOT NULL DEFAULT 0;
UPDATE api_tokens SET expires_at_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 7776000000;
