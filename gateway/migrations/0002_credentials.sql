-- Credentials the gateway issues (gateway/credentials.py). Tokens are self-contained and signed
-- (services/core/tokens.py); this table is the record that makes them revocable: a token whose
-- id is not here, or is revoked, is refused even though its signature verifies.
CREATE TABLE issued_tokens (
    token_id    uuid PRIMARY KEY,
    role        text NOT NULL,
    tenant      text NOT NULL,
    summit_id   uuid,
    subject     text NOT NULL,
    label       text NOT NULL DEFAULT '',
    issued_by   text NOT NULL,            -- 'admin' (the g1000 admin command) or the issuing token's id
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    revoked_by  text
);
CREATE INDEX issued_tokens_summit ON issued_tokens (summit_id, issued_at);
CREATE INDEX issued_tokens_expiry ON issued_tokens (expires_at);

-- One-time check-in codes, printed on invitations and exchanged for a participant token. Only
-- the SHA-256 of a code is kept; `used_at` is set by the one exchange that succeeds.
CREATE TABLE check_in_codes (
    code_sha256 bytea PRIMARY KEY,
    summit_id   uuid NOT NULL,
    tenant      text NOT NULL,
    participant text NOT NULL,            -- the pseudonymous subject of the participant token
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    token_id    uuid
);
CREATE INDEX check_in_codes_summit ON check_in_codes (summit_id, created_at);
