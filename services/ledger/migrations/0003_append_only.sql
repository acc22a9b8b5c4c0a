-- The transparency log is append-only below the application too (issue 10, M7): its entries,
-- tree nodes, registered keys and checkpoints are written once and never changed or deleted.
-- (g1000_refuse_change comes from the event store's migration 0004 of services.core.)
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['log_entries', 'log_nodes', 'log_keys', 'log_checkpoints'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I'
                       ' FOR EACH ROW EXECUTE FUNCTION g1000_refuse_change()', t || '_append_only', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION g1000_refuse_change()', t || '_no_truncate', t);
    END LOOP;
END
$$;
