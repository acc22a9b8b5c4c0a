"""Appending verified events to a summit's transparency log (RFC 9162 tree + hash chain).

Each append stores the entry (event bytes, index, leaf hash, chain) and every perfect subtree
hash the new leaf completes, so inclusion and consistency proofs need O(log n) reads and never a
rebuild. Appends to one log serialise on its `log_heads` row (SELECT … FOR UPDATE), so several
ledger consumers may share the work.

Per stream, `seq` must continue gap-free. An event ahead of the expected `seq` waits in
`log_pending` and opens a gap (`log_gaps`) that the gap filler asks the producer to re-publish;
when the missing event arrives, the waiting ones follow in order. Nothing is appended out of order
and nothing is skipped silently.
"""

from __future__ import annotations

import hashlib

import psycopg

from g1000_proofs.merkle import MerkleAccumulator, leaf_hash
from services.core.envelope import Event

from .errors import LedgerError, UnknownLogError, UnregisteredKeyError

ZERO_CHAIN = bytes(32)


def create_log(conn: psycopg.Connection, summit_id: str) -> None:
    conn.execute("INSERT INTO log_heads (summit_id, size, chain) VALUES (%s, 0, %s)", (summit_id, ZERO_CHAIN))


class LogWriter:
    """Appends to logs. Keeps each log's Merkle frontier in memory between batches; the cache is
    trusted only while it matches the stored head (size and chain), else rebuilt in O(log n)."""

    def __init__(self) -> None:
        self._frontiers: dict[str, tuple[bytes, MerkleAccumulator]] = {}

    def ingest(self, conn: psycopg.Connection, event: Event) -> str:
        """Append, hold or skip one verified event; returns "appended", "held" or "duplicate"."""
        head = self._lock_head(conn, event.summit_id)
        self._check_key(conn, event)
        expected, gap_open = self._next_seq(conn, event.summit_id, event.stream)
        if event.seq < expected:
            self._check_duplicate(conn, event)
            return "duplicate"
        if event.seq > expected:
            self._hold(conn, event, expected)
            return "held"
        size, chain = head
        acc = self._accumulator(conn, event.summit_id, size, chain)
        chain = self._append(conn, event.summit_id, acc, chain, event)
        if gap_open:
            chain = self._drain_pending(conn, event.summit_id, event.stream, acc, chain)
        self._frontiers[event.summit_id] = (chain, acc)
        return "appended"

    def append_genesis(self, conn: psycopg.Connection, summit_id: str, events: list[Event]) -> None:
        """Append the summit's first events directly, in the transaction that creates the log."""
        create_log(conn, summit_id)
        acc = MerkleAccumulator()
        chain = ZERO_CHAIN
        for event in events:
            self._next_seq(conn, summit_id, event.stream)
            chain = self._append(conn, summit_id, acc, chain, event)

    # ---- steps ------------------------------------------------------------------------------

    @staticmethod
    def _lock_head(conn, summit_id: str) -> tuple[int, bytes]:
        row = conn.execute("SELECT size, chain FROM log_heads WHERE summit_id = %s FOR UPDATE",
                           (summit_id,)).fetchone()
        if row is None:
            raise UnknownLogError(f"no log for summit {summit_id}")
        return row[0], bytes(row[1])

    @staticmethod
    def _check_key(conn, event: Event) -> None:
        if event.type == "ledger.key.registered" and event.stream == "ledger":
            return  # registrations are checked against the ledger key by the consumer's keyring
        row = conn.execute("SELECT stream FROM log_keys WHERE summit_id = %s AND key_id = %s",
                           (event.summit_id, event.key_id)).fetchone()
        if row is None or row[0] != event.stream:
            raise UnregisteredKeyError(
                f"key {event.key_id[:16]}… is not registered for stream {event.stream} in this summit's log")

    @staticmethod
    def _next_seq(conn, summit_id: str, stream: str) -> tuple[int, bool]:
        """The seq the stream expects next, and whether a gap is open for it."""
        row = conn.execute(
            "INSERT INTO log_streams (summit_id, stream, next_seq) VALUES (%s, %s, 1)"
            " ON CONFLICT (summit_id, stream) DO UPDATE SET next_seq = log_streams.next_seq"
            " RETURNING next_seq, EXISTS (SELECT 1 FROM log_gaps WHERE summit_id = %s AND stream = %s)",
            (summit_id, stream, summit_id, stream)).fetchone()
        return row[0], row[1]

    @staticmethod
    def _check_duplicate(conn, event: Event) -> None:
        row = conn.execute("SELECT event_id FROM log_entries WHERE summit_id = %s AND stream = %s AND seq = %s",
                           (event.summit_id, event.stream, event.seq)).fetchone()
        if row is not None and str(row[0]) != event.event_id:
            raise LedgerError(f"{event.stream} seq {event.seq} is already in the log as event {row[0]}")

    @staticmethod
    def _hold(conn, event: Event, expected: int) -> None:
        conn.execute(
            "INSERT INTO log_pending (summit_id, stream, seq, event_id, body) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (summit_id, stream, seq) DO NOTHING",
            (event.summit_id, event.stream, event.seq, event.event_id, event.body))
        conn.execute(
            "INSERT INTO log_gaps (summit_id, stream, from_seq) VALUES (%s, %s, %s)"
            " ON CONFLICT (summit_id, stream) DO UPDATE SET from_seq = EXCLUDED.from_seq",
            (event.summit_id, event.stream, expected))

    def _accumulator(self, conn, summit_id: str, size: int, chain: bytes) -> MerkleAccumulator:
        cached = self._frontiers.get(summit_id)
        if cached is not None and cached[0] == chain and cached[1].size == size:
            return cached[1]
        return MerkleAccumulator.resume(size, lambda level, index: node_at(conn, summit_id, level, index))

    @staticmethod
    def _append(conn, summit_id: str, acc: MerkleAccumulator, prev_chain: bytes, event: Event) -> bytes:
        index = acc.size
        leaf = leaf_hash(event.body)
        chain = hashlib.sha256(prev_chain + leaf).digest()
        completed = acc.append(leaf)
        conn.execute(
            "INSERT INTO log_entries (summit_id, idx, event_id, stream, seq, body, leaf_hash, chain)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (summit_id, index, event.event_id, event.stream, event.seq, event.body, leaf, chain))
        upper = [(summit_id, n.level, n.index, n.hash) for n in completed if n.level > 0]
        if upper:
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO log_nodes (summit_id, level, idx, hash) VALUES (%s, %s, %s, %s)", upper)
        conn.execute("UPDATE log_heads SET size = %s, chain = %s, updated_at = now() WHERE summit_id = %s",
                     (acc.size, chain, summit_id))
        conn.execute("UPDATE log_streams SET next_seq = %s WHERE summit_id = %s AND stream = %s",
                     (event.seq + 1, summit_id, event.stream))
        if event.type == "ledger.key.registered":
            p = event.payload
            conn.execute(
                "INSERT INTO log_keys (summit_id, key_id, stream, public_key, idx) VALUES (%s, %s, %s, %s, %s)",
                (summit_id, p["key_id"], p["stream"], bytes.fromhex(p["public_key"]), index))
        return chain

    def _drain_pending(self, conn, summit_id: str, stream: str, acc: MerkleAccumulator, chain: bytes) -> bytes:
        from services.core.envelope import parse_event

        while True:
            row = conn.execute(
                "DELETE FROM log_pending WHERE summit_id = %s AND stream = %s"
                " AND seq = (SELECT next_seq FROM log_streams WHERE summit_id = %s AND stream = %s)"
                " RETURNING body", (summit_id, stream, summit_id, stream)).fetchone()
            if row is None:
                break
            chain = self._append(conn, summit_id, acc, chain, parse_event(bytes(row[0])))
        still_waiting = conn.execute("SELECT min(seq) FROM log_pending WHERE summit_id = %s AND stream = %s",
                                     (summit_id, stream)).fetchone()[0]
        if still_waiting is None:
            conn.execute("DELETE FROM log_gaps WHERE summit_id = %s AND stream = %s", (summit_id, stream))
        else:
            conn.execute("UPDATE log_gaps SET from_seq = (SELECT next_seq FROM log_streams"
                         " WHERE summit_id = %s AND stream = %s) WHERE summit_id = %s AND stream = %s",
                         (summit_id, stream, summit_id, stream))
        return chain


def node_at(conn, summit_id: str, level: int, index: int) -> bytes:
    """Hash of the perfect subtree (level, index): a leaf hash at level 0, a stored node above."""
    if level == 0:
        row = conn.execute("SELECT leaf_hash FROM log_entries WHERE summit_id = %s AND idx = %s",
                           (summit_id, index)).fetchone()
    else:
        row = conn.execute("SELECT hash FROM log_nodes WHERE summit_id = %s AND level = %s AND idx = %s",
                           (summit_id, level, index)).fetchone()
    if row is None:
        raise LedgerError(f"log {summit_id} has no node ({level}, {index})")
    return bytes(row[0])
