"""The append-only guarantee attacked from a service's own database connection (issue 10, M7 /
Build 4: "each service connects as its own least-privileged role, not the superuser").

The triggers of core migration 0005 and ledger 0003 refuse UPDATE, DELETE and TRUNCATE
(test_append_only.py). A connection that is the database superuser -- or the tables' owner --
could switch them off again: a compromised service process, or anyone who read its database URL,
rewrote the event store with three statements and ran shell commands as the server. Since each
service runs as its own least-privileged role (services/core/privileges.py, docs/database.md),
every one of these attempts is refused.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.support.event_flow import topic

pytestmark = pytest.mark.integration

SUMMIT = "6f1c1d9e-9a64-4c55-8b7e-2f4f8c2b0a12"


def _bypass(db, *statements: str) -> bool:
    """Whether the service's own connection gets through `statements` (rolled back either way)."""
    try:
        with db.pool.connection() as conn:
            with conn.transaction(force_rollback=True):
                for sql in statements:
                    conn.execute(sql)
        return True
    except psycopg.Error:
        return False


@pytest.mark.parametrize("statements", [
    ("SET LOCAL session_replication_role = replica", "DELETE FROM events"),
    ("ALTER TABLE events DISABLE TRIGGER events_no_delete", "DELETE FROM events"),
    ("DROP TRIGGER events_no_delete ON events", "DELETE FROM events"),
    ("CREATE OR REPLACE FUNCTION g1000_refuse_change() RETURNS trigger LANGUAGE plpgsql"
     " AS $$ BEGIN RETURN OLD; END $$", "DELETE FROM events"),
    ("CREATE TEMP TABLE shell (line text)", "COPY shell FROM PROGRAM 'id'"),
], ids=["replication-role", "disable-trigger", "drop-trigger", "replace-function", "copy-program"])
def test_a_services_connection_cannot_switch_the_append_only_triggers_off(pair, statements):
    agenda, _ = pair
    agenda.store.append(SUMMIT, [topic(SUMMIT, "blijft")])
    assert not _bypass(agenda.db, *statements)
