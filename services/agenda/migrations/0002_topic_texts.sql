-- Topics without their words in the log (agenda.topic.nominated v2; docs/agenda.md), and their
-- merges and splits.
-- topics.title/description hold the words of v1 topics only, whose log entry holds them too; a v2
-- topic's words live in topic_texts, one row per field, written in the nomination's transaction.
-- Withholding a text deletes its words (text becomes NULL) and keeps the log's description.
ALTER TABLE topics ALTER COLUMN title DROP NOT NULL;
ALTER TABLE topics ALTER COLUMN description DROP NOT NULL;
ALTER TABLE topics ADD COLUMN payload_v integer NOT NULL DEFAULT 1;
ALTER TABLE topics ADD COLUMN version integer NOT NULL DEFAULT 1;   -- the topic aggregate's version
ALTER TABLE topics ADD COLUMN language text;
-- provenance (agenda.topics.merged, agenda.topic.split): a merged topic names the one it went
-- into; a split one is marked; a topic a split made names the one it came from
ALTER TABLE topics ADD COLUMN merged_into uuid REFERENCES topics (topic_id);
ALTER TABLE topics ADD COLUMN split boolean NOT NULL DEFAULT false;
ALTER TABLE topics ADD COLUMN split_from uuid REFERENCES topics (topic_id);

CREATE TABLE topic_texts (
    topic_id      uuid NOT NULL REFERENCES topics (topic_id),
    field         text NOT NULL CHECK (field IN ('title', 'description')),
    language      text NOT NULL,
    sha256        text NOT NULL,
    length        integer NOT NULL,
    text          text,                    -- NFC, as hashed; NULL once withheld
    withheld      text,                    -- the reason agenda.text.withheld records
    withheld_seq  bigint,
    PRIMARY KEY (topic_id, field),
    CHECK ((text IS NULL) = (withheld IS NOT NULL))
);

-- The nominations window per summit (agenda.nominations.opened/closed): open until closed. A
-- summit with no row has never been closed. `version` is the nominations aggregate's version.
CREATE TABLE agenda_nominations (
    summit_id  uuid PRIMARY KEY,
    open       boolean NOT NULL,
    version    integer NOT NULL,
    seq        bigint NOT NULL
);
