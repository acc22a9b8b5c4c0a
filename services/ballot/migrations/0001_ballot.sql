-- Read models of the ballot (docs/ballot.md). Each table is written in the transaction that
-- appends the events it reflects, so it never shows what the log does not hold, and the reverse.
-- Secrecy (docs/ballot.md, "what is never stored"): no table on the cast path has a time or an
-- order column; pending casts have random ids and leave the table when their batch is appended.

-- Who checked in (ballot.participant.arrived, once per pseudonym and summit): the next roll.
CREATE TABLE ballot_arrivals (
    summit_id uuid NOT NULL,
    pseudonym text NOT NULL,
    seq       bigint NOT NULL,
    PRIMARY KEY (summit_id, pseudonym)
);

-- A ballot and its state. `version` is the version of its aggregate's last event; the credential
-- key's private half lives here while the ballot is open and is erased at closing.
CREATE TABLE ballots (
    ballot_id          uuid PRIMARY KEY,
    summit_id          uuid NOT NULL,
    state              text NOT NULL CHECK (state IN ('created', 'open', 'closed', 'revealed', 'tallied')),
    version            integer NOT NULL,
    created            jsonb NOT NULL,          -- the ballot.ballot.created payload
    created_seq        bigint NOT NULL,
    opened_seq         bigint,
    opened_at          text,
    roll_count         integer,
    roll_root          text,
    credential_key     text,
    credential_private bytea,
    issued             integer NOT NULL DEFAULT 0,
    closed_at          text,
    early              boolean,
    private_key        text,
    counted            integer,
    result             jsonb
);
CREATE INDEX ballots_summit ON ballots (summit_id, created_seq);

-- The texts of a ballot, served by the API beside the log's descriptions (NFC, as hashed).
-- option_id '' holds the title.
CREATE TABLE ballot_texts (
    ballot_id uuid NOT NULL REFERENCES ballots,
    option_id text NOT NULL,
    language  text NOT NULL,
    body      text NOT NULL,
    PRIMARY KEY (ballot_id, option_id, language)
);

-- The roll committed at opening (sorted, distinct pseudonyms).
CREATE TABLE ballot_roll (
    ballot_id uuid NOT NULL REFERENCES ballots,
    pseudonym text NOT NULL,
    PRIMARY KEY (ballot_id, pseudonym)
);

-- One credential per pseudonym and ballot (ballot.credential.issued).
CREATE TABLE ballot_issuances (
    ballot_id uuid NOT NULL REFERENCES ballots,
    pseudonym text NOT NULL,
    seq       bigint NOT NULL,
    PRIMARY KEY (ballot_id, pseudonym)
);

-- Every accepted nullifier, once: pending until its batch is appended, then its event's seq.
CREATE TABLE ballot_nullifiers (
    ballot_id     uuid NOT NULL REFERENCES ballots,
    nullifier     text NOT NULL,
    sealed_sha256 text NOT NULL,
    seq           bigint,
    event_id      uuid,
    PRIMARY KEY (ballot_id, nullifier)
);

-- Casts accepted and not yet appended: a random id, no time, no order.
CREATE TABLE ballot_pending_casts (
    cast_id    uuid PRIMARY KEY,
    ballot_id  uuid NOT NULL REFERENCES ballots,
    nullifier  text NOT NULL,
    credential jsonb NOT NULL,
    sealed     text NOT NULL
);

-- The trustees' shares handed in after closing, one per index x.
CREATE TABLE ballot_shares (
    ballot_id uuid NOT NULL REFERENCES ballots,
    x         integer NOT NULL,
    share     text NOT NULL,
    PRIMARY KEY (ballot_id, x)
);
