-- Nonces of the gateway's vouches this service has accepted (services/core/vouch.py): each is
-- accepted once, so a captured vouch cannot be replayed. Rows older than the freshness window are
-- useless (such a vouch is refused as stale) and are deleted opportunistically.
CREATE TABLE vouch_nonces (
    nonce   text PRIMARY KEY,
    seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vouch_nonces_seen_at ON vouch_nonces (seen_at);
