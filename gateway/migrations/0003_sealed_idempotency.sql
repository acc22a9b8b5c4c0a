-- Stored answers may hold credentials: from now on the key column holds the SHA-256 of the
-- Idempotency-Key and the answer is sealed (gateway/idempotency.py). Rows written the old way
-- (plaintext keys and answers) are dropped; they would expire within 24 hours anyway.
DELETE FROM idempotency_keys;
COMMENT ON COLUMN idempotency_keys.key IS 'hex SHA-256 of the Idempotency-Key';
COMMENT ON COLUMN idempotency_keys.response_body IS 'AES-256-GCM nonce || sealed headers and body';
