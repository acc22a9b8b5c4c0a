-- Refresh chains (gateway/credentials.py): a refreshed token continues its predecessor's chain.
-- `chain_id` is the id of the chain's first token (and the rate-limit bucket of every token of
-- it); `chain_started_at` when that first token was issued: a chain ends at an absolute lifetime
-- from then, however often it is refreshed. Existing tokens start their own chains.
ALTER TABLE issued_tokens ADD COLUMN chain_id uuid, ADD COLUMN chain_started_at timestamptz;
UPDATE issued_tokens SET chain_id = token_id, chain_started_at = issued_at;
ALTER TABLE issued_tokens ALTER COLUMN chain_id SET NOT NULL, ALTER COLUMN chain_started_at SET NOT NULL;
CREATE INDEX issued_tokens_chain ON issued_tokens (chain_id);
CREATE INDEX issued_tokens_issued_by ON issued_tokens (issued_by);
