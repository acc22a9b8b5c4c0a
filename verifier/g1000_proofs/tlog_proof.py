"""Receipts as C2SP tlog-proof text (https://c2sp.org/tlog-proof, version ``c2sp.org/tlog-proof@v1``).

Why this module exists: a voter's receipt must be checkable offline by the voter's own client, by
an app written in another language and by ``g1000-verify``, against nothing but the log's public
key. The ballot service writes the receipt, the client module checks it (g1000/ballot_client.py),
so the format and its check live once here. The text is::

    c2sp.org/tlog-proof@v1\\n
    [extra <standard base64>\\n]          (opaque; the G1000 writes none)
    index <decimal index of the entry>\\n
    <standard base64 of each RFC 9162 inclusion-proof hash, one a line, leaf to root>\\n ...
    \\n
    <the signed checkpoint note (C2SP tlog-checkpoint), verbatim>

The proof is an RFC 9162 §2.1.3 inclusion proof of the entry in the tree the checkpoint commits
to; the checkpoint's signature (C2SP signed-note) is what binds that tree's size and root to the
log. Pure: no I/O. Failures raise :class:`TlogProofError` (or a ``NoteError`` from the checkpoint).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import checkpoint, merkle
from .errors import ProofError, TlogProofError
from .note_keys import b64encode, strict_b64decode

__all__ = ["HEADER", "TlogProof", "format_proof", "parse_proof", "verify_proof"]

HEADER = "c2sp.org/tlog-proof@v1"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class TlogProof:
    """A parsed receipt: the entry's index, its inclusion proof, the checkpoint note, extra data."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None


def format_proof(index: int, hashes: list[bytes], checkpoint_note: str, extra: bytes | None = None) -> str:
    """The proof's text; ``checkpoint_note`` is the signed note exactly as the log published it."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise TlogProofError("the index is a non-negative integer")
    if any(len(h) != merkle.HASH_SIZE for h in hashes):
        raise TlogProofError("every proof hash is 32 bytes")
    lines = [HEADER] + ([f"extra {b64encode(extra)}"] if extra is not None else []) + [f"index {index}"]
    return "".join(line + "\n" for line in lines + [b64encode(h) for h in hashes]) + "\n" + checkpoint_note


def _hash(line: str) -> bytes:
    try:
        value = strict_b64decode(line)
    except ValueError:
        raise TlogProofError("a proof line is not standard base64") from None
    if len(value) != merkle.HASH_SIZE or b64encode(value) != line:
        raise TlogProofError("a proof line is not canonical base64 of 32 bytes")
    return value


def parse_proof(text: str) -> TlogProof:
    """Parse the text strictly: header, optional extra, index, hashes, blank line, checkpoint."""
    if not isinstance(text, str):
        raise TlogProofError("a proof is text")
    head, sep, note = text.partition("\n\n")
    if not sep or not note:
        raise TlogProofError("a proof ends with a blank line and the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise TlogProofError(f"a proof starts with the line {HEADER}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        try:
            extra = strict_b64decode(rest[0][len("extra "):])
        except ValueError:
            raise TlogProofError("the extra line is not standard base64") from None
        rest = rest[1:]
    if not rest or not rest[0].startswith("index ") or not _DECIMAL.fullmatch(rest[0][len("index "):]):
        raise TlogProofError("a proof names its entry on an `index <decimal>` line")
    index = int(rest[0][len("index "):])
    return TlogProof(index, tuple(_hash(line) for line in rest[1:]), note, extra)


def verify_proof(text: str, leaf_data: bytes, log_key: str, expected_origin: str | None = None
                 ) -> tuple[TlogProof, checkpoint.Checkpoint]:
    """Check that ``leaf_data`` (the entry's bytes) is entry ``index`` of the tree a checkpoint
    signed by ``log_key`` (a C2SP verifier key) commits to. Returns the proof and the checkpoint."""
    proof = parse_proof(text)
    cp = checkpoint.open_checkpoint(proof.checkpoint_note, log_key, expected_origin)
    if proof.index >= cp.size:
        raise TlogProofError(f"entry {proof.index} is not in a tree of {cp.size} entries")
    try:
        merkle.verify_inclusion(merkle.leaf_hash(leaf_data), proof.index, cp.size, list(proof.hashes),
                                cp.root_hash)
    except ProofError as e:
        raise TlogProofError(f"the inclusion proof does not lead to the checkpoint's root: {e}") from None
    return proof, cp
