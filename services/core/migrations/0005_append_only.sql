-- The event store is append-only below the application too (issue 10, M7): a row of `events` is
-- never deleted, and an UPDATE may change only the outbox's publication mark (`published_at`,
-- set by the relay and cleared by a republish). A superuser can still disable triggers; the
-- outside verifiers (signed events, checkpoints) are what detects that.
CREATE OR REPLACE FUNCTION g1000_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE FUNCTION g1000_events_publication_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.position, NEW.event_id, NEW.summit_id, NEW.stream, NEW.seq, NEW.aggregate_id,
        NEW.aggregate_version, NEW.type, NEW.body, NEW.recorded_at)
       IS DISTINCT FROM
       (OLD.position, OLD.event_id, OLD.summit_id, OLD.stream, OLD.seq, OLD.aggregate_id,
        OLD.aggregate_version, OLD.type, OLD.body, OLD.recorded_at) THEN
        RAISE EXCEPTION 'table events is append-only: an UPDATE may change published_at only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_publication_only BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION g1000_events_publication_only();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION g1000_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION g1000_refuse_change();
