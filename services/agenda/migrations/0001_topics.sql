-- Read model of nominated topics, updated in the same transaction as the nomination event.
CREATE TABLE topics (
    topic_id     uuid PRIMARY KEY,
    summit_id    uuid NOT NULL,
    title        text NOT NULL,
    description  text NOT NULL,
    seq          bigint NOT NULL,
    nominated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX topics_by_summit ON topics (summit_id, seq);
