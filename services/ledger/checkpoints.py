"""Signed checkpoints of the summit logs (C2SP tlog-checkpoint in a C2SP signed note, Ed25519).

One Ed25519 key (its own file, apart from the event-signing key) signs the checkpoints of every log
of this ledger; each log's key name is its origin `<host>/g1000/<summit_id>`, so its verifier key
(and key id) is per log. A checkpoint is cut when a log has grown by `every_entries` entries, or
when it has grown at all and the last checkpoint is older than `every_seconds`. All are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from g1000_proofs.checkpoint import Checkpoint, make_origin, sign_checkpoint
from g1000_proofs.merkle import root_hash
from g1000_proofs.note_keys import Signer as NoteSigner
from g1000_proofs.note_keys import key_id as note_key_id
from g1000_proofs.note_keys import make_verifier_key
from services.core.db import Database
from services.core.signing import load_or_create_signer

from .log import node_at


@dataclass(frozen=True)
class LogKey:
    """The checkpoint-signing key of this ledger, and the host part of every log origin."""

    host: str
    private_key: Ed25519PrivateKey

    @classmethod
    def load(cls, path: Path, host: str) -> "LogKey":
        signer = load_or_create_signer(path)
        return cls(host, Ed25519PrivateKey.from_private_bytes(signer.seed()))

    def origin(self, summit_id: str) -> str:
        return make_origin(self.host, summit_id)

    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes_raw()

    def note_signer(self, summit_id: str) -> NoteSigner:
        name = self.origin(summit_id)
        return NoteSigner(name, note_key_id(name, b"\x01" + self.public_key()), self.private_key)

    def verifier_key(self, summit_id: str) -> str:
        return make_verifier_key(self.origin(summit_id), self.public_key())


def cut_checkpoint(conn, key: LogKey, summit_id: str) -> tuple[int, str] | None:
    """Sign and store a checkpoint at the log's current size (None if that size has one)."""
    size = conn.execute("SELECT size FROM log_heads WHERE summit_id = %s", (summit_id,)).fetchone()[0]
    if size == 0:
        return None
    root = root_hash(size, lambda level, index: node_at(conn, summit_id, level, index))
    note = sign_checkpoint(Checkpoint(key.origin(summit_id), size, root), key.note_signer(summit_id))
    inserted = conn.execute(
        "INSERT INTO log_checkpoints (summit_id, tree_size, root_hash, note) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (summit_id, tree_size) DO NOTHING RETURNING tree_size",
        (summit_id, size, root, note)).fetchone()
    return (size, note) if inserted else None


def due_logs(conn, every_entries: int, every_seconds: float) -> list[str]:
    rows = conn.execute(
        "SELECT h.summit_id FROM log_heads h"
        " LEFT JOIN LATERAL (SELECT tree_size, created_at FROM log_checkpoints c"
        "   WHERE c.summit_id = h.summit_id ORDER BY tree_size DESC LIMIT 1) last ON true"
        " WHERE h.size > coalesce(last.tree_size, 0)"
        "   AND (h.size - coalesce(last.tree_size, 0) >= %s"
        "        OR last.created_at IS NULL OR last.created_at < now() - make_interval(secs => %s))",
        (every_entries, every_seconds)).fetchall()
    return [str(r[0]) for r in rows]


def checkpoint_due_logs(db: Database, key: LogKey, every_entries: int, every_seconds: float) -> int:
    """One round of the checkpointer: cut a checkpoint for every log that is due."""
    cut = 0
    with db.transaction() as conn:
        summits = due_logs(conn, every_entries, every_seconds)
    for summit_id in summits:
        with db.transaction() as conn:
            conn.execute("SELECT 1 FROM log_heads WHERE summit_id = %s FOR UPDATE", (summit_id,))
            if cut_checkpoint(conn, key, summit_id):
                cut += 1
    return cut
