"""What each service's database role may do: one declared table of privileges (issue 10, Build 4).

Every process of a service connects at run time as a login role of its own that is not a
superuser, owns nothing, and holds exactly the grants below; the tables belong to a separate
owner role that runs the migrations (services/core/provision.py applies both). So the role that
appends to the log cannot rewrite it: it has no UPDATE or DELETE on events, log entries, nodes,
keys or checkpoints, no TRUNCATE anywhere, and, not being the owner, it cannot drop or disable
the append-only triggers (core migration 0005, ledger 0003) either; not being a superuser, it
cannot set `session_replication_role`, run `COPY ... FROM PROGRAM` or create roles.

A privilege is `SELECT`, `INSERT`, `UPDATE`, `DELETE` or a column-level `UPDATE(col, ...)`
(PostgreSQL GRANT, "column privileges"). `SELECT ... FOR UPDATE` needs UPDATE on at least one
column, which is why a table that is only locked still carries a column-level UPDATE.

A table a migration adds and this declaration does not name is granted nothing: the service
fails on it loudly (permission denied) rather than silently holding more than it needs, and
tests/integration/test_database_roles.py checks that the declaration covers every table.

Pure data and pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg import sql

OWNER_ROLE = "g1000_owner"  # owns every database, table and trigger; runs the migrations

_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_PRIVILEGE = re.compile(r"(SELECT|INSERT|DELETE|UPDATE)(?:\(([a-z0-9_, ]+)\))?")

# The event store and outbox every service has (core migrations): the log of a producer is
# append-only; only the relay's publication mark changes.
EVENT_STORE: dict[str, str] = {
    "schema_migrations": "SELECT",  # a process checks that its schema is current, never changes it
    "events": "SELECT INSERT UPDATE(published_at)",
    "stream_heads": "SELECT INSERT UPDATE(last_seq)",
    "processed_events": "SELECT INSERT",
    "quarantine": "SELECT INSERT",
    "known_summits": "SELECT INSERT",
    "vouch_nonces": "SELECT INSERT DELETE",  # expired nonces are deleted (services/core/auth.py)
}
EVENT_STORE_SEQUENCES = ("events_position_seq", "quarantine_id_seq")

PRIVILEGES: dict[str, dict[str, str]] = {
    "ledger": EVENT_STORE | {
        "summits": "SELECT INSERT",
        # the transparency log: written once, never changed (services/ledger/log.py)
        "log_entries": "SELECT INSERT",
        "log_nodes": "SELECT INSERT",
        "log_keys": "SELECT INSERT",
        "log_checkpoints": "SELECT INSERT",
        # mutable bookkeeping of the appender: the head (locked per append), per-stream progress,
        # events waiting behind a gap, open gaps
        "log_heads": "SELECT INSERT UPDATE(size, chain, updated_at)",
        "log_streams": "SELECT INSERT UPDATE(next_seq)",
        "log_pending": "SELECT INSERT DELETE",
        "log_gaps": "SELECT INSERT UPDATE DELETE",
    },
    "lottery": EVENT_STORE | {
        "lottery_registers": "SELECT INSERT",
        "lottery_register_rows": "SELECT INSERT",
        "lottery_invitation_draws": "SELECT INSERT",
        "lottery_invitation_codes": "SELECT INSERT UPDATE(used_at)",
        "lottery_pool_members": "SELECT INSERT",
        "lottery_jobs": "SELECT INSERT UPDATE",  # leases, attempts, results (services/lottery/jobs.py)
        "lottery_distributions": "SELECT INSERT",
    },
    "agenda": EVENT_STORE | {
        "topics": "SELECT INSERT UPDATE(version, merged_into, split)",
        # a withholding deletes the words (text) and records its reason (docs/agenda.md)
        "topic_texts": "SELECT INSERT UPDATE(text, withheld, withheld_seq)",
        "agenda_nominations": "SELECT INSERT UPDATE(open, version, seq)",
    },
    "ballot": EVENT_STORE | {
        "ballot_arrivals": "SELECT INSERT",
        # state changes and the erasure of the credential key's private half at closing
        "ballots": ("SELECT INSERT UPDATE(state, version, opened_seq, opened_at, roll_count, roll_root,"
                    " credential_key, credential_private, issued, closed_at, early, private_key, counted,"
                    " result)"),
        "ballot_texts": "SELECT INSERT",
        "ballot_roll": "SELECT INSERT",
        "ballot_issuances": "SELECT INSERT",
        "ballot_nullifiers": "SELECT INSERT UPDATE(seq, event_id)",
        "ballot_pending_casts": "SELECT INSERT DELETE",  # a batch's casts leave when it is appended
        "ballot_shares": "SELECT INSERT",
    },
    "gateway": {
        "schema_migrations": "SELECT",
        "idempotency_keys": "SELECT INSERT UPDATE DELETE",  # expired keys are purged
        "rate_counters": "SELECT INSERT UPDATE DELETE",
        # revoking sets revoked_at/revoked_by; gateway migration 0006 refuses clearing them
        # again (no revival), and only expired records are purged
        "issued_tokens": "SELECT INSERT DELETE UPDATE(revoked_at, revoked_by)",
        # a drop-out ends its member's unused codes (expires_at), see credentials.unseat
        "check_in_codes": "SELECT INSERT UPDATE(used_at, token_id, expires_at)",
    },
}
SEQUENCES: dict[str, tuple[str, ...]] = {
    "ledger": EVENT_STORE_SEQUENCES, "lottery": EVENT_STORE_SEQUENCES,
    "agenda": EVENT_STORE_SEQUENCES, "ballot": EVENT_STORE_SEQUENCES, "gateway": (),
}


def runtime_role(name: str) -> str:
    """The login role a service (or the gateway) uses at run time, where the stack makes roles."""
    return f"g1000_svc_{name}"


@dataclass(frozen=True)
class TableGrant:
    table: str
    privileges: tuple[str, ...]  # table-level: SELECT, INSERT, UPDATE, DELETE
    update_columns: tuple[str, ...] = ()  # column-level UPDATE


def table_grants(name: str) -> list[TableGrant]:
    """The declared grants of service `name`, parsed and checked (ValueError on a typo)."""
    grants = []
    for table, text in sorted(PRIVILEGES[name].items()):
        if not _IDENT.fullmatch(table):
            raise ValueError(f"{name}: bad table name {table!r}")
        privileges: list[str] = []
        columns: tuple[str, ...] = ()
        for word in re.findall(r"[A-Z]+\([^)]*\)|\S+", text):
            match = _PRIVILEGE.fullmatch(word)
            if not match:
                raise ValueError(f"{name}.{table}: bad privilege {word!r}")
            if match.group(2):
                columns = tuple(c.strip() for c in match.group(2).split(","))
                if not all(_IDENT.fullmatch(c) for c in columns):
                    raise ValueError(f"{name}.{table}: bad column list {word!r}")
            else:
                privileges.append(match.group(1))
        if columns and "UPDATE" in privileges:
            raise ValueError(f"{name}.{table}: UPDATE both of the table and of columns")
        grants.append(TableGrant(table, tuple(privileges), columns))
    return grants


def grant_statements(name: str, role: str, dbname: str) -> list[sql.Composed]:
    """The statements the owner runs (after its migrations, in one transaction) so that `role`
    holds exactly the declared privileges in database `dbname` and nothing else: whatever it was
    granted before is revoked first, PUBLIC loses CONNECT and TEMP on the database."""
    r, db = sql.Identifier(role), sql.Identifier(dbname)
    out = [
        sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, r),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(r),  # columns too
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(r),
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r),
    ]
    for grant in table_grants(name):
        t = sql.Identifier(grant.table)
        if grant.privileges:
            out.append(sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                sql.SQL(", ").join(sql.SQL(p) for p in grant.privileges), t, r))
        if grant.update_columns:
            out.append(sql.SQL("GRANT UPDATE ({}) ON TABLE {} TO {}").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in grant.update_columns), t, r))
    for sequence in SEQUENCES[name]:
        out.append(sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sql.Identifier(sequence), r))
    return out
