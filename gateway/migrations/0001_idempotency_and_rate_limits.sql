-- The gateway's own state (gateway/idempotency.py, gateway/ratelimit.py).

-- One row per Idempotency-Key, scoped by caller (token digest or client address), method and
-- path (draft-ietf-httpapi-idempotency-key-header). `response_status` is NULL while the first
-- request is in flight; `locked_until` lets a key abandoned by a crashed worker be taken over.
CREATE TABLE idempotency_keys (
    scope            text NOT NULL,
    method           text NOT NULL,
    path             text NOT NULL,
    key              text NOT NULL,
    fingerprint      bytea NOT NULL,
    response_status  integer,
    response_type    text,
    response_headers jsonb,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (scope, method, path, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Fixed-window request counters: one row per bucket (a token digest or a client address), reset
-- in place when a new window starts, so the table grows with clients, not with time.
CREATE TABLE rate_counters (
    bucket       text PRIMARY KEY,
    window_start bigint NOT NULL,
    hits         integer NOT NULL
);
CREATE INDEX rate_counters_window ON rate_counters (window_start);
