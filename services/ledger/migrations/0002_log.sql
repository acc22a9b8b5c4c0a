-- The transparency log of each summit (docs/ledger.md).
CREATE TABLE log_heads (
    summit_id  uuid PRIMARY KEY,
    size       bigint NOT NULL DEFAULT 0,
    chain      bytea NOT NULL,          -- chain value of the last entry (32 zero bytes when empty)
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE log_entries (
    summit_id   uuid NOT NULL,
    idx         bigint NOT NULL,
    event_id    uuid NOT NULL,
    stream      text NOT NULL,
    seq         bigint NOT NULL,
    body        bytea NOT NULL,
    leaf_hash   bytea NOT NULL,
    chain       bytea NOT NULL,
    appended_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (summit_id, idx),
    UNIQUE (summit_id, stream, seq),
    UNIQUE (summit_id, event_id)
);

-- Hashes of completed perfect subtrees above the leaves (level >= 1): node (level, idx) covers
-- leaves [idx * 2^level, (idx + 1) * 2^level). Written once, never changed; proofs need O(log n).
CREATE TABLE log_nodes (
    summit_id uuid NOT NULL,
    level     smallint NOT NULL CHECK (level >= 1),
    idx       bigint NOT NULL,
    hash      bytea NOT NULL,
    PRIMARY KEY (summit_id, level, idx)
);

-- Next expected seq per stream of a summit; events that arrive ahead of a gap wait in pending.
CREATE TABLE log_streams (
    summit_id uuid NOT NULL,
    stream    text NOT NULL,
    next_seq  bigint NOT NULL,
    PRIMARY KEY (summit_id, stream)
);

CREATE TABLE log_pending (
    summit_id   uuid NOT NULL,
    stream      text NOT NULL,
    seq         bigint NOT NULL,
    event_id    uuid NOT NULL,
    body        bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (summit_id, stream, seq)
);

-- An open gap: the stream is held at from_seq until the producer re-publishes it.
CREATE TABLE log_gaps (
    summit_id         uuid NOT NULL,
    stream            text NOT NULL,
    from_seq          bigint NOT NULL,
    detected_at       timestamptz NOT NULL DEFAULT now(),
    last_requested_at timestamptz,
    requests          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (summit_id, stream)
);

-- Keys registered in a summit's log: only these may sign its events, each for one stream.
CREATE TABLE log_keys (
    summit_id  uuid NOT NULL,
    key_id     text NOT NULL,
    stream     text NOT NULL,
    public_key bytea NOT NULL,
    idx        bigint NOT NULL,
    PRIMARY KEY (summit_id, key_id)
);

CREATE TABLE log_checkpoints (
    summit_id  uuid NOT NULL,
    tree_size  bigint NOT NULL,
    root_hash  bytea NOT NULL,
    note       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (summit_id, tree_size)
);
