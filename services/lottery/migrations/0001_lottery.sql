-- Read models of the lottery (issue 5). Seed rounds and panels have no tables: they are folded
-- from their own events. Every table is written in the transaction that appends the events it
-- reflects, so a read model never shows what the log does not hold (and vice versa).

-- The committed register extract of a summit (one per summit) and its rows (pseudonymous).
CREATE TABLE lottery_registers (
    summit_id      uuid PRIMARY KEY,
    register_id    uuid NOT NULL UNIQUE,
    row_count      integer NOT NULL,
    root           text NOT NULL,
    chunks         integer NOT NULL,
    features       jsonb NOT NULL,
    feature_counts jsonb NOT NULL,
    committed_seq  bigint NOT NULL,
    committed_at   text NOT NULL
);
CREATE TABLE lottery_register_rows (
    summit_id uuid NOT NULL,
    pseudonym text NOT NULL,
    household text NOT NULL,
    features  jsonb NOT NULL,
    PRIMARY KEY (summit_id, pseudonym)
);

-- The invitation draw of a summit (one per summit) and its one-time codes. A code is kept only
-- as SHA-256 over (domain, summit, code): it is shown once, to the organiser, for the letters.
CREATE TABLE lottery_invitation_draws (
    summit_id   uuid PRIMARY KEY,
    draw_id     uuid NOT NULL UNIQUE,
    round_id    uuid NOT NULL,
    register_id uuid NOT NULL,
    n           integer NOT NULL,
    stratify_by text,
    invitees    jsonb NOT NULL,
    seq         bigint NOT NULL,
    drawn_at    text NOT NULL
);
CREATE TABLE lottery_invitation_codes (
    code_hash bytea PRIMARY KEY,
    summit_id uuid NOT NULL,
    pseudonym text NOT NULL,
    used_at   timestamptz,
    UNIQUE (summit_id, pseudonym)
);

-- Members of the pools (respondents, employers, government, free_thinkers, ...).
CREATE TABLE lottery_pool_members (
    summit_id uuid NOT NULL,
    pool      text NOT NULL,
    pseudonym text NOT NULL,
    household text NOT NULL,
    features  jsonb NOT NULL,
    seq       bigint NOT NULL,
    PRIMARY KEY (summit_id, pool, pseudonym)
);
CREATE INDEX lottery_pool_members_by_seq ON lottery_pool_members (summit_id, pool, seq);

-- Background jobs (register commits, panel distributions). A job row is written in the request's transaction, so
-- an accepted job is never lost; a worker leases it (lease_until) and a lease that runs out
-- (the worker was killed) makes it available again, up to a bounded number of attempts.
CREATE TABLE lottery_jobs (
    job_id      uuid PRIMARY KEY,
    summit_id   uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('register', 'distribution')),
    pool        text,                -- a distribution's pool
    -- register: {register_id, features, rows}; distribution: {panel_size, quotas,
    -- distribution_id, members_through_seq}
    params      jsonb NOT NULL,
    state       text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    worker      text,
    lease_until timestamptz,
    result      jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);
CREATE INDEX lottery_jobs_open ON lottery_jobs (created_at) WHERE state IN ('queued', 'running');

-- Committed panel distributions (the panels and weights are also in the log).
CREATE TABLE lottery_distributions (
    distribution_id     uuid PRIMARY KEY,
    summit_id           uuid NOT NULL,
    pool                text NOT NULL,
    job_id              uuid,
    panel_size          integer NOT NULL,
    quotas              jsonb NOT NULL,
    members             integer NOT NULL,
    members_root        text NOT NULL,
    members_through_seq bigint NOT NULL,
    panel_count         integer NOT NULL,
    total_weight        bigint NOT NULL,
    weights             jsonb NOT NULL,
    panels              jsonb NOT NULL,
    panels_root         text NOT NULL,
    chunks              integer NOT NULL,
    committed_seq       bigint NOT NULL,
    committed_at        text NOT NULL,
    report              jsonb NOT NULL
);
CREATE INDEX lottery_distributions_by_pool ON lottery_distributions (summit_id, pool, committed_seq);
