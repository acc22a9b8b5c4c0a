-- Read model of the summits announced on the ledger stream (see services/core/summits.py).
CREATE TABLE known_summits (
    summit_id    uuid PRIMARY KEY,
    theme        text NOT NULL,
    municipality text NOT NULL,
    date         date NOT NULL,
    learned_at   timestamptz NOT NULL DEFAULT now()
);
