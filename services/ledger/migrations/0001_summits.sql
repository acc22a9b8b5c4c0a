-- Read model of the summits this ledger has chartered.
CREATE TABLE summits (
    summit_id    uuid PRIMARY KEY,
    theme        text NOT NULL,
    municipality text NOT NULL,
    date         date NOT NULL,
    seats        jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
