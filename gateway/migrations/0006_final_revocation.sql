-- A revocation is final below the application too (issue 10, M2 and Build 4): the gateway's
-- runtime role may set revoked_at / revoked_by (column grants, services/core/privileges.py) but
-- this trigger, owned by the owner role that the runtime role cannot act as, refuses clearing or
-- changing them once set, and any change of what a record says (role, tenant, summit, subject,
-- lifetime, chain). A used check-in code likewise stays used. Deleting a record does not revive
-- its token: a token whose record is missing is refused (gateway/credentials.py).
CREATE OR REPLACE FUNCTION g1000_revocation_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL AND (NEW.revoked_at, NEW.revoked_by)
                                      IS DISTINCT FROM (OLD.revoked_at, OLD.revoked_by) THEN
        RAISE EXCEPTION 'token % is revoked: a revocation is final', OLD.token_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.token_id, NEW.role, NEW.tenant, NEW.summit_id, NEW.subject, NEW.label, NEW.issued_by,
        NEW.issued_at, NEW.expires_at, NEW.chain_id, NEW.chain_started_at)
       IS DISTINCT FROM
       (OLD.token_id, OLD.role, OLD.tenant, OLD.summit_id, OLD.subject, OLD.label, OLD.issued_by,
        OLD.issued_at, OLD.expires_at, OLD.chain_id, OLD.chain_started_at) THEN
        RAISE EXCEPTION 'table issued_tokens: an UPDATE may only revoke'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION g1000_check_in_code_used_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.used_at IS NOT NULL AND (NEW.used_at, NEW.token_id) IS DISTINCT FROM (OLD.used_at, OLD.token_id) THEN
        RAISE EXCEPTION 'check-in code is used: its use is final' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER issued_tokens_revocation_final BEFORE UPDATE ON issued_tokens
    FOR EACH ROW EXECUTE FUNCTION g1000_revocation_is_final();
CREATE TRIGGER check_in_codes_used_once BEFORE UPDATE ON check_in_codes
    FOR EACH ROW EXECUTE FUNCTION g1000_check_in_code_used_once();
