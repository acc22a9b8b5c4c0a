-- Read model of the summits this ledger has chartered.
CREATE TABLE summits (
    summit_id    uuid PRIMARY KEY,
    theme        text NOT NULL,
    municipality text NOT NULL,
    date         date NOT NULL,
    seats        jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every verified event the ledger has received from any stream, once each. The transparency
-- log (hash chain, Merkle tree, checkpoints) is built on top of this.
CREATE TABLE received_events (
    event_id    uuid PRIMARY KEY,
    summit_id   uuid NOT NULL,
    stream      text NOT NULL,
    seq         bigint NOT NULL,
    type        text NOT NULL,
    body        bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (summit_id, stream, seq)
);
