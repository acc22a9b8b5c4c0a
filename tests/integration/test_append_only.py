"""The database keeps the log append-only (M7): through a service's own connection no event, log
entry, node, key or checkpoint can be changed or deleted (only the outbox's publication mark may
change), and a store damaged past that (by a superuser) is answered with a clear problem.

Two layers: the service's runtime role lacks the privilege (services/core/privileges.py, see also
test_database_roles.py), and the triggers refuse the change even to the owner of the tables."""

from __future__ import annotations

import psycopg
import pytest

from services.core.db import database_url
from services.core.runtime import create_service_app
from tests.helpers import runtime_for
from tests.support.event_flow import build_log, topic

pytestmark = pytest.mark.integration

REFUSED = psycopg.errors.InsufficientPrivilege


def _refused(rt, sql: str, *params) -> None:
    """Refused through the service's own pooled connection (its runtime role, no wrapping), and
    by the append-only trigger when the owner of the tables tries it."""
    with pytest.raises(REFUSED):
        with rt.db.pool.connection() as conn:
            conn.execute(sql, params)
    assert rt.config.migration_url and rt.config.migration_url != rt.db.url
    with pytest.raises(REFUSED, match="append-only"):
        with psycopg.connect(rt.config.migration_url) as conn:
            conn.execute(sql, params)


def test_events_cannot_be_changed_or_deleted_but_can_be_marked_published(pair):
    agenda, ledger = pair
    summit = "6f1c1d9e-9a64-4c55-8b7e-2f4f8c2b0a11"
    (event,) = agenda.store.append(summit, [topic(summit, "blijft")])
    db, rt = agenda.db, agenda
    _refused(rt, "UPDATE events SET body = 'x' WHERE event_id = %s", event.event_id)
    _refused(rt, "UPDATE events SET type = 'other', published_at = now() WHERE event_id = %s", event.event_id)
    _refused(rt, "DELETE FROM events WHERE event_id = %s", event.event_id)
    _refused(rt, "TRUNCATE events")
    with db.transaction() as conn:  # the relay's mark, and a republish's clearing of it
        assert conn.execute("UPDATE events SET published_at = now() WHERE event_id = %s",
                            (event.event_id,)).rowcount == 1
        assert conn.execute("UPDATE events SET published_at = NULL WHERE event_id = %s",
                            (event.event_id,)).rowcount == 1
        assert bytes(conn.execute("SELECT body FROM events WHERE event_id = %s",
                                  (event.event_id,)).fetchone()[0]) == event.body


def test_the_log_cannot_be_changed_and_a_damaged_store_is_answered_clearly(pair, service_env):
    agenda, ledger = pair
    summit, leaves = build_log(agenda, ledger, 7)  # genesis + 7: a tree of 8 leaves
    db, rt = ledger.db, ledger
    _refused(rt, "UPDATE log_entries SET body = 'x' WHERE summit_id = %s AND idx = 3", summit)
    _refused(rt, "DELETE FROM log_entries WHERE summit_id = %s AND idx = 3", summit)
    _refused(rt, "DELETE FROM log_nodes WHERE summit_id = %s", summit)
    _refused(rt, "UPDATE log_keys SET stream = 'ballot' WHERE summit_id = %s", summit)
    _refused(rt, "TRUNCATE log_entries")
    with db.transaction() as conn:
        conn.execute("INSERT INTO log_checkpoints (summit_id, tree_size, root_hash, note)"
                     " VALUES (%s, 8, '\\x00', 'n') ON CONFLICT DO NOTHING", (summit,))
    _refused(rt, "DELETE FROM log_checkpoints WHERE summit_id = %s", summit)
    _refused(rt, "UPDATE log_checkpoints SET note = 'forged' WHERE summit_id = %s", summit)

    client = create_service_app(ledger).test_client()
    path = f"/v1/logs/{summit}/proofs/inclusion?index=2&tree_size=8"  # needs leaf 3, its sibling
    assert client.get(path).status_code == 200
    admin = database_url(service_env["G1000_DATABASE_URL"], psycopg.conninfo.conninfo_to_dict(db.url)["dbname"])
    with psycopg.connect(admin) as conn:  # what a superuser can still do: the triggers do not bind it
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("DELETE FROM log_entries WHERE summit_id = %s AND idx = 3", (summit,))
    answer = client.get(path)
    assert answer.status_code == 503
    assert answer.content_type == "application/problem+json"
    body = answer.get_json()
    assert body["title"] == "Log Store Damaged"
    assert f"the log store is damaged: entry 3 of log {summit} is missing" in body["detail"]
