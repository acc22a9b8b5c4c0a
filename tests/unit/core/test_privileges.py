"""The declared privileges of the runtime roles (services/core/privileges.py): well-formed, never
more than the append-only design allows, rendered into exact statements, and described truly in
docs/database.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.core import privileges
from services.core.privileges import PRIVILEGES, grant_statements, table_grants

DOC = Path(__file__).resolve().parents[3] / "docs" / "database.md"
APPEND_ONLY = {"events", "log_entries", "log_nodes", "log_keys", "log_checkpoints", "processed_events",
               "quarantine", "schema_migrations"}


def _render(statement) -> str:
    # psycopg renders identifiers without a connection when they need no escaping context
    return statement.as_string(None)


@pytest.mark.parametrize("name", sorted(PRIVILEGES))
def test_no_role_may_rewrite_or_delete_what_is_append_only(name):
    for grant in table_grants(name):
        if grant.table in APPEND_ONLY:
            assert "DELETE" not in grant.privileges, grant
            assert "UPDATE" not in grant.privileges, grant
            if grant.table == "events":
                assert grant.update_columns == ("published_at",)
            else:
                assert grant.update_columns == (), grant


def test_the_statements_revoke_first_then_grant_exactly_the_declaration():
    statements = [_render(s) for s in grant_statements("agenda", "g1000_svc_agenda", "g1000_agenda")]
    assert statements[:6] == [
        'REVOKE ALL ON DATABASE "g1000_agenda" FROM PUBLIC',
        'GRANT CONNECT ON DATABASE "g1000_agenda" TO "g1000_svc_agenda"',
        'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "g1000_svc_agenda"',
        'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "g1000_svc_agenda"',
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        'GRANT USAGE ON SCHEMA public TO "g1000_svc_agenda"',
    ]
    assert 'GRANT SELECT, INSERT ON TABLE "events" TO "g1000_svc_agenda"' in statements
    assert 'GRANT UPDATE ("published_at") ON TABLE "events" TO "g1000_svc_agenda"' in statements
    assert 'GRANT USAGE ON SEQUENCE "events_position_seq" TO "g1000_svc_agenda"' in statements
    assert not any("TRUNCATE" in s or "ALL PRIVILEGES" in s or s.startswith("GRANT DELETE") for s in statements)
    assert sum(s.startswith("GRANT") and "TABLE" in s for s in statements) == sum(
        bool(g.privileges) + bool(g.update_columns) for g in table_grants("agenda"))


@pytest.mark.parametrize("text", ["SELECT TRUNCATE", "SELECT, INSERT", "UPDATE(x) UPDATE", "ALL",
                                  "UPDATE(published_at; DROP TABLE x)", "select"])
def test_a_malformed_declaration_is_refused(monkeypatch, text):
    monkeypatch.setitem(privileges.PRIVILEGES, "test", {"t": text})
    with pytest.raises(ValueError):
        table_grants("test")


def test_identifiers_are_quoted():
    statements = [_render(s) for s in grant_statements("ballot", 'evil"; DROP ROLE x; --', "db")]
    mentioning = [s for s in statements if "evil" in s]
    assert len(mentioning) > 5 and all('"evil""; DROP ROLE x; --"' in s for s in mentioning)


def _documented() -> dict[str, dict[str, str]]:
    """docs/database.md's tables of privileges: section -> table -> privileges."""
    out: dict[str, dict[str, str]] = {}
    section = None
    for line in DOC.read_text().splitlines():
        heading = re.match(r"^(Every service|Ledger|Lottery|Agenda|Ballot|Gateway)\b", line)
        if heading:
            section = heading.group(1)
        row = re.match(r"^\| `(\w+)` \| ([A-Z(), _a-z]+) \|$", line)
        if row and section:
            out.setdefault(section, {})[row.group(1)] = row.group(2)
    return out


def test_the_documentation_says_exactly_what_each_role_may_do():
    doc = _documented()
    common = doc["Every service"]
    assert common == privileges.EVENT_STORE
    for name, section in (("ledger", "Ledger"), ("lottery", "Lottery"), ("agenda", "Agenda"), ("ballot", "Ballot")):
        assert common | doc[section] == PRIVILEGES[name], name
    assert doc["Gateway"] == PRIVILEGES["gateway"]
