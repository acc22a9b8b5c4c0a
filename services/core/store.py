"""The event store of one service in PostgreSQL: append signed events inside a transaction.

A service changes state only by appending events. `append` assigns the gap-free `seq` per
(stream, summit), signs the event, inserts it into `events` (which doubles as the transactional
outbox) and lets the caller update read models on the same connection, so the state change and
the outgoing event commit together or not at all (docs/architecture.md §2).

Optimistic concurrency: each event names its aggregate and the version it creates. The primary
key (aggregate_id, aggregate_version) makes the second of two racing writers fail with
ConflictError without any read-then-check.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import psycopg

from .envelope import Event, PayloadValidator, parse_event, sign_event
from .db import Database
from .errors import ConflictError
from .events import NewEvent
from .signing import Signer

OUTBOX_CHANNEL = "g1000_outbox"


class EventStore:
    def __init__(self, db: Database, signer: Signer, stream: str, catalog: PayloadValidator):
        self.db = db
        self.signer = signer
        self.stream = stream
        self.catalog = catalog

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Transaction"]:
        """One unit of work: appends and read-model updates commit together."""
        with self.db.transaction() as conn:
            yield Transaction(self, conn)

    def append(self, summit_id: str, events: list[NewEvent]) -> list[Event]:
        with self.transaction() as tx:
            return tx.append(summit_id, events)

    def load(self, aggregate_id: str) -> list[Event]:
        with self.db.transaction() as conn:
            return load_aggregate(conn, aggregate_id)

    def read_stream(self, summit_id: str, from_seq: int = 1, limit: int = 1000) -> list[Event]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT body FROM events WHERE stream = %s AND summit_id = %s AND seq >= %s"
                " ORDER BY seq LIMIT %s",
                (self.stream, summit_id, from_seq, limit),
            ).fetchall()
        return [parse_event(bytes(r[0])) for r in rows]


def load_aggregate(conn: psycopg.Connection, aggregate_id: str) -> list[Event]:
    """One aggregate's events in version order, on the caller's connection (so a request reads
    and appends in one transaction)."""
    rows = conn.execute(
        "SELECT body FROM events WHERE aggregate_id = %s ORDER BY aggregate_version",
        (aggregate_id,),
    ).fetchall()
    return [parse_event(bytes(r[0])) for r in rows]


def load_types(conn: psycopg.Connection, stream: str, summit_id: str, type_prefix: str) -> list[Event]:
    """A summit's events of one stream whose type starts with `type_prefix`, in `seq` order."""
    pattern = type_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        "SELECT body FROM events WHERE stream = %s AND summit_id = %s AND type LIKE %s ORDER BY seq",
        (stream, summit_id, pattern),
    ).fetchall()
    return [parse_event(bytes(r[0])) for r in rows]


class Transaction:
    """An open unit of work on one connection (`conn` is for read-model updates)."""

    def __init__(self, store: EventStore, conn: psycopg.Connection):
        self.store = store
        self.conn = conn

    def append(self, summit_id: str, events: list[NewEvent], occurred_at: str | None = None) -> list[Event]:
        """Sign and insert `events` with the next seqs of their summit's stream; a constant number
        of round trips per call (one seq range reserved, one pipelined insert). `occurred_at`
        (default: now) gives them all one time, e.g. a ballot's batch of casts (docs/ballot.md)."""
        store = self.store
        if not events:
            return []
        for new in events:
            store.catalog.validate(new.type, new.payload)
        (last,) = self.conn.execute(
            "INSERT INTO stream_heads (stream, summit_id, last_seq) VALUES (%(stream)s, %(summit)s, %(n)s)"
            " ON CONFLICT (stream, summit_id) DO UPDATE SET last_seq = stream_heads.last_seq + %(n)s"
            " RETURNING last_seq",
            {"stream": store.stream, "summit": summit_id, "n": len(events)},
        ).fetchone()
        first = last - len(events) + 1
        out = [sign_event(store.signer, type=new.type, summit_id=summit_id, stream=store.stream,
                          seq=first + i, payload=new.payload, occurred_at=occurred_at)
               for i, new in enumerate(events)]
        try:
            with self.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO events (event_id, summit_id, stream, seq, aggregate_id, aggregate_version, type, body)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [(e.event_id, summit_id, store.stream, e.seq, new.aggregate_id, new.version, new.type, e.body)
                     for e, new in zip(out, events)],
                )
        except psycopg.errors.UniqueViolation as e:
            # the transaction is aborted and rolls back whole: the reserved seqs are not used
            detail = e.diag.message_detail or "an aggregate version is already taken"
            raise ConflictError(f"concurrent write lost: {detail}") from None
        self.conn.execute(f"NOTIFY {OUTBOX_CHANNEL}")
        return out
