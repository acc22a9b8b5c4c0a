-- Event store and transactional outbox of one service (docs/architecture.md §2, §3).
-- `position` orders rows for the relay; per summit it follows `seq`, because appends to one
-- summit serialise on that summit's row in stream_heads before they take a position.
CREATE TABLE events (
    position          bigserial PRIMARY KEY,
    event_id          uuid NOT NULL UNIQUE,
    summit_id         uuid NOT NULL,
    stream            text NOT NULL,
    seq               bigint NOT NULL CHECK (seq >= 1),
    aggregate_id      text NOT NULL,
    aggregate_version integer NOT NULL CHECK (aggregate_version >= 1),
    type              text NOT NULL,
    body              bytea NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    published_at      timestamptz,
    UNIQUE (stream, summit_id, seq),
    -- optimistic concurrency: two writers of the same aggregate version cannot both commit
    UNIQUE (aggregate_id, aggregate_version)
);
CREATE INDEX events_unpublished ON events (position) WHERE published_at IS NULL;

-- The last seq handed out per (stream, summit): updated in the appending transaction, so a
-- rolled-back append leaves no gap.
CREATE TABLE stream_heads (
    stream    text NOT NULL,
    summit_id uuid NOT NULL,
    last_seq  bigint NOT NULL,
    PRIMARY KEY (stream, summit_id)
);

-- Consumer side: every event this service has applied, recorded in the same transaction as the
-- effects, so a redelivered event is recognised and applied at most once.
CREATE TABLE processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    digest       bytea NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Events this service refused to apply, with the reason; kept for operators and auditors.
CREATE TABLE quarantine (
    id          bigserial PRIMARY KEY,
    consumer    text NOT NULL,
    source      text NOT NULL,
    event_id    uuid,
    event_type  text,
    reason      text NOT NULL,
    body        bytea NOT NULL,
    digest      bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    -- the same bad bytes redelivered (or replayed after a broker restart) are one entry
    UNIQUE (consumer, digest)
);
