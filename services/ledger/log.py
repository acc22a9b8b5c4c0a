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
from typing import Callable

import psycopg

from g1000_proofs.merkle import MerkleAccumulator, leaf_hash
from services.core.envelope import Event

from .errors import DamagedStoreError, LedgerError

ZERO_CHAIN = bytes(32)


def create_log(conn: psycopg.Connection, summit_id: str) -> None:
    conn.execute("INSERT INTO log_heads (summit_id, size, chain) VALUES (%s, 0, %s)", (summit_id, ZERO_CHAIN))


class LogWriter:
    """Appends to logs. Keeps each log's Merkle frontier in memory between batches; the cache is
    trusted only while it matches the stored head (size and chain), else rebuilt in O(log n)."""

    def __init__(self) -> None:
        self._frontiers: dict[str, tuple[bytes, MerkleAccumulator]] = {}

    def ingest(self, conn: psycopg.Connection, event: Event) -> None:
        """Append, hold or skip one verified event; raise LedgerError if it must be refused."""
        (reason,) = self.ingest_batch(conn, [event])
        if reason is not None:
            raise LedgerError(reason)

    def ingest_batch(self, conn: psycopg.Connection, events: list[Event]) -> list[str | None]:
        """Append, hold or skip verified events (in order); for each, None or why it is refused.

        A refused event leaves no trace in the log. One lock, a few reads and one bulk write per
        summit in the batch, instead of a dozen round trips per event.
        """
        reasons: list[str | None] = [None] * len(events)
        by_summit: dict[str, list[int]] = {}
        for i, event in enumerate(events):
            by_summit.setdefault(event.summit_id, []).append(i)
        for summit_id, positions in by_summit.items():
            head = conn.execute("SELECT size, chain FROM log_heads WHERE summit_id = %s FOR UPDATE",
                                (summit_id,)).fetchone()
            if head is None:
                for i in positions:
                    reasons[i] = f"no log for summit {summit_id}"
                continue
            size, chain = head[0], bytes(head[1])
            batch = SummitBatch(conn, summit_id, chain, self._accumulator(conn, summit_id, size, chain))
            for i in positions:
                reasons[i] = batch.offer(events[i])
            self._frontiers[summit_id] = batch.flush()
        return reasons

    def append_genesis(self, conn: psycopg.Connection, summit_id: str, events: list[Event]) -> None:
        """Append the summit's first events directly, in the transaction that creates the log."""
        create_log(conn, summit_id)
        batch = SummitBatch(conn, summit_id, ZERO_CHAIN, MerkleAccumulator())
        # the charter comes first but is signed by the ledger key that a later genesis entry
        # registers: the genesis is the ledger's own, written here, so its keys count from the start
        batch.keys.update({e.payload["key_id"]: e.payload["stream"] for e in events
                           if e.type == "ledger.key.registered"})
        for event in events:
            reason = batch.offer(event)
            if reason is not None:
                raise LedgerError(f"genesis event {event.type} refused: {reason}")
        batch.flush()

    def _accumulator(self, conn, summit_id: str, size: int, chain: bytes) -> MerkleAccumulator:
        cached = self._frontiers.get(summit_id)
        if cached is not None and cached[0] == chain and cached[1].size == size:
            return cached[1]
        return MerkleAccumulator.resume(size, lambda level, index: node_at(conn, summit_id, level, index))


class SummitBatch:
    """The appends to one summit's log within one transaction, written in bulk by `flush`.

    The caller holds the log head's row lock. Checks run in memory against state read once:
    registered keys, each stream's next seq, the streams with an open gap.
    """

    def __init__(self, conn: psycopg.Connection, summit_id: str, chain: bytes, acc: MerkleAccumulator):
        self.conn, self.summit_id, self.chain, self.acc = conn, summit_id, chain, acc
        self.keys = {r[0]: r[1] for r in conn.execute(
            "SELECT key_id, stream FROM log_keys WHERE summit_id = %s", (summit_id,))}
        self.next_seq = {r[0]: r[1] for r in conn.execute(
            "SELECT stream, next_seq FROM log_streams WHERE summit_id = %s", (summit_id,))}
        self.gaps = {r[0] for r in conn.execute("SELECT stream FROM log_gaps WHERE summit_id = %s", (summit_id,))}
        self.entries: list[tuple] = []
        self.nodes: list[tuple] = []
        self.new_keys: list[tuple] = []
        self.appended: dict[tuple[str, int], str] = {}
        self.touched: set[str] = set()

    def offer(self, event: Event) -> str | None:
        """Append, hold or skip one event; the reason when it must be refused."""
        if not (event.type == "ledger.key.registered" and event.stream == "ledger"):
            # registrations themselves are signed by the ledger key, checked by the keyring
            if self.keys.get(event.key_id) != event.stream:
                return (f"key {event.key_id[:16]}… is not registered for stream {event.stream}"
                        f" in this summit's log")
        expected = self.next_seq.get(event.stream, 1)
        if event.seq < expected:
            return self._duplicate(event)
        if event.seq > expected:
            self._hold(event, expected)
            return None
        self._append(event)
        if event.stream in self.gaps:
            self._drain(event.stream)
        return None

    def _duplicate(self, event: Event) -> str | None:
        known = self.appended.get((event.stream, event.seq))
        if known is None:
            row = self.conn.execute("SELECT event_id FROM log_entries WHERE summit_id = %s AND stream = %s"
                                    " AND seq = %s", (self.summit_id, event.stream, event.seq)).fetchone()
            known = str(row[0]) if row else None
        if known is not None and known != event.event_id:
            return f"{event.stream} seq {event.seq} is already in the log as event {known}"
        return None

    def _hold(self, event: Event, expected: int) -> None:
        self.conn.execute(
            "INSERT INTO log_pending (summit_id, stream, seq, event_id, body) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (summit_id, stream, seq) DO NOTHING",
            (self.summit_id, event.stream, event.seq, event.event_id, event.body))
        self.conn.execute(
            "INSERT INTO log_gaps (summit_id, stream, from_seq) VALUES (%s, %s, %s)"
            " ON CONFLICT (summit_id, stream) DO UPDATE SET from_seq = EXCLUDED.from_seq",
            (self.summit_id, event.stream, expected))
        self.gaps.add(event.stream)

    def _append(self, event: Event) -> None:
        index = self.acc.size
        leaf = leaf_hash(event.body)
        self.chain = hashlib.sha256(self.chain + leaf).digest()
        for node in self.acc.append(leaf):
            if node.level > 0:
                self.nodes.append((self.summit_id, node.level, node.index, node.hash))
        self.entries.append((self.summit_id, index, event.event_id, event.stream, event.seq, event.body,
                             leaf, self.chain))
        self.appended[(event.stream, event.seq)] = event.event_id
        self.next_seq[event.stream] = event.seq + 1
        self.touched.add(event.stream)
        if event.type == "ledger.key.registered":
            p = event.payload
            self.keys[p["key_id"]] = p["stream"]
            self.new_keys.append((self.summit_id, p["key_id"], p["stream"], bytes.fromhex(p["public_key"]), index))

    def _drain(self, stream: str) -> None:
        """Append the held events the stream can now take, in order; close or move the gap."""
        from services.core.envelope import parse_event

        rows = self.conn.execute("SELECT seq, body FROM log_pending WHERE summit_id = %s AND stream = %s"
                                 " ORDER BY seq", (self.summit_id, stream)).fetchall()
        drained = []
        for seq, body in rows:
            if seq != self.next_seq[stream]:
                break
            self._append(parse_event(bytes(body)))
            drained.append(seq)
        if drained:
            self.conn.execute("DELETE FROM log_pending WHERE summit_id = %s AND stream = %s AND seq = ANY(%s)",
                              (self.summit_id, stream, drained))
        if len(drained) == len(rows):
            self.conn.execute("DELETE FROM log_gaps WHERE summit_id = %s AND stream = %s", (self.summit_id, stream))
            self.gaps.discard(stream)
        else:
            self.conn.execute("UPDATE log_gaps SET from_seq = %s WHERE summit_id = %s AND stream = %s",
                              (self.next_seq[stream], self.summit_id, stream))

    def flush(self) -> tuple[bytes, MerkleAccumulator]:
        """Write the batch; returns the new (chain, frontier) for the writer's cache."""
        if self.entries:
            with self.conn.cursor() as cur:
                with cur.copy("COPY log_entries (summit_id, idx, event_id, stream, seq, body, leaf_hash, chain)"
                              " FROM STDIN") as copy:
                    for row in self.entries:
                        copy.write_row(row)
                if self.nodes:
                    with cur.copy("COPY log_nodes (summit_id, level, idx, hash) FROM STDIN") as copy:
                        for row in self.nodes:
                            copy.write_row(row)
                if self.new_keys:
                    cur.executemany("INSERT INTO log_keys (summit_id, key_id, stream, public_key, idx)"
                                    " VALUES (%s, %s, %s, %s, %s)", self.new_keys)
                cur.executemany(
                    "INSERT INTO log_streams (summit_id, stream, next_seq) VALUES (%s, %s, %s)"
                    " ON CONFLICT (summit_id, stream) DO UPDATE SET next_seq = EXCLUDED.next_seq",
                    [(self.summit_id, stream, self.next_seq[stream]) for stream in sorted(self.touched)])
            self.conn.execute("UPDATE log_heads SET size = %s, chain = %s, updated_at = now() WHERE summit_id = %s",
                              (self.acc.size, self.chain, self.summit_id))
        return self.chain, self.acc


def node_at(conn, summit_id: str, level: int, index: int) -> bytes:
    """Hash of the perfect subtree (level, index): a leaf hash at level 0, a stored node above."""
    if level == 0:
        row = conn.execute("SELECT leaf_hash FROM log_entries WHERE summit_id = %s AND idx = %s",
                           (summit_id, index)).fetchone()
    else:
        row = conn.execute("SELECT hash FROM log_nodes WHERE summit_id = %s AND level = %s AND idx = %s",
                           (summit_id, level, index)).fetchone()
    if row is None:
        what = f"entry {index}" if level == 0 else f"node ({level}, {index})"
        raise DamagedStoreError(f"the log store is damaged: {what} of log {summit_id} is missing")
    return bytes(row[0])


def node_reader(conn, summit_id: str, specs) -> Callable[[int, int], bytes]:
    """Read every perfect subtree a proof needs (RFC 9162 §2.1.3/§2.1.4, as listed by
    `g1000_proofs.tree_shape`) in at most two queries, and return the `(level, index) -> hash`
    lookup the proof math asks; a node outside `specs` falls back to `node_at`, one read each.

    Public because the proof views and the benchmark's in-process proof timing read nodes the
    same way."""
    wanted = set()
    for spec in specs:
        for node in getattr(spec, "parts", None) or [spec]:
            wanted.add((node.level, node.index))
    leaves = [i for level, i in wanted if level == 0]
    upper = [(level, i) for level, i in wanted if level > 0]
    found = {}
    if leaves:
        for idx, h in conn.execute("SELECT idx, leaf_hash FROM log_entries WHERE summit_id = %s AND idx = ANY(%s)",
                                   (summit_id, leaves)):
            found[(0, idx)] = bytes(h)
    if upper:
        for level, idx, h in conn.execute(
                "SELECT level, idx, hash FROM log_nodes WHERE summit_id = %s"
                " AND (level, idx) IN (SELECT * FROM unnest(%s::smallint[], %s::bigint[]))",
                (summit_id, [u[0] for u in upper], [u[1] for u in upper])):
            found[(level, idx)] = bytes(h)
    return lambda level, index: found.get((level, index)) or node_at(conn, summit_id, level, index)
