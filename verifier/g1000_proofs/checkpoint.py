"""C2SP transparency-log checkpoints (https://c2sp.org/tlog-checkpoint).

Why this module exists: a checkpoint is the log's signed promise "my tree
of N leaves has root R".  It is the anchor every inclusion and consistency
proof is checked against, so its text must be produced and parsed exactly.
The checkpoint is a signed note (see :mod:`g1000_proofs.note`) whose text is::

    <origin>\\n
    <tree size in ASCII decimal, no leading zeros unless it is 0>\\n
    <standard base64 of the 32-byte RFC 9162 root hash>\\n
    [<non-empty extension line>\\n ...]

The origin uniquely names the log.  For the G1000 it is
``<host>/g1000/<summit_id>`` (see :func:`make_origin`), and the log signs
with a key whose name is that origin, as the spec recommends.

Parsing is strict: at least three non-empty lines, canonical decimal size
below 2**64, canonical padded base64 decoding to exactly 32 bytes, no empty
extension line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import CheckpointFormatError, CheckpointOriginError
from .note import Signer, Verifier, open_note, parse_verifier_key, sign_note
from .note_keys import b64encode, is_valid_key_name, strict_b64decode

__all__ = [
    "Checkpoint", "format_checkpoint", "make_origin", "open_checkpoint",
    "parse_checkpoint", "sign_checkpoint",
]

MAX_TREE_SIZE = 2**64 - 1
ROOT_HASH_SIZE = 32
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x1f]")


def _check_line(what: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise CheckpointFormatError(f"{what} must be a non-empty str")
    if _CONTROL.search(value):
        raise CheckpointFormatError(f"{what} contains a newline or control character")


@dataclass(frozen=True)
class Checkpoint:
    """A log tree head: origin, tree size, root hash and extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line("origin", self.origin)
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointFormatError("tree size must be an int")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointFormatError(f"tree size {self.size} is out of range")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != ROOT_HASH_SIZE:
            raise CheckpointFormatError("root hash must be 32 bytes")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for number, line in enumerate(self.extensions):
            _check_line(f"extension line {number}", line)


def make_origin(host: str, summit_id: str) -> str:
    """The G1000 log origin ``<host>/g1000/<summit_id>``."""
    for what, part in (("host", host), ("summit_id", summit_id)):
        if not is_valid_key_name(part) or "/" in part:
            raise CheckpointFormatError(
                f"{what} must be non-empty, without '/', '+', spaces or controls")
    return f"{host}/g1000/{summit_id}"


def format_checkpoint(cp: Checkpoint) -> str:
    """The checkpoint's note text, newline-terminated."""
    lines = [cp.origin, str(cp.size), b64encode(cp.root_hash), *cp.extensions]
    return "".join(line + "\n" for line in lines)


def _parse_size(line: str) -> int:
    if not _DECIMAL.fullmatch(line):
        raise CheckpointFormatError(f"tree size {line!r} is not canonical decimal")
    size = int(line)
    if size > MAX_TREE_SIZE:
        raise CheckpointFormatError(f"tree size {line} does not fit in 64 bits")
    return size


def _parse_root(line: str) -> bytes:
    try:
        root = strict_b64decode(line)
    except ValueError:
        raise CheckpointFormatError("root hash is not standard base64") from None
    if len(root) != ROOT_HASH_SIZE or b64encode(root) != line:
        raise CheckpointFormatError("root hash is not canonical base64 of 32 bytes")
    return root


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text (strict; raises CheckpointFormatError)."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CheckpointFormatError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointFormatError("checkpoint needs origin, size and root lines")
    if any(not line for line in lines):
        raise CheckpointFormatError("checkpoint lines must be non-empty")
    origin, size_line, root_line, *extensions = lines
    return Checkpoint(origin, _parse_size(size_line), _parse_root(root_line),
                      tuple(extensions))


def sign_checkpoint(cp: Checkpoint, *signers: Signer | str) -> str:
    """Sign the checkpoint text; return the signed note."""
    return sign_note(format_checkpoint(cp), *signers)


def open_checkpoint(note: str | bytes, verifier: Verifier | str,
                    expected_origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint with the log's key and parse it.

    The checkpoint's origin must equal ``expected_origin``, which defaults
    to the verifier's key name (the log signs under its origin).  Raises a
    ``NoteError`` subclass on any failure.
    """
    if isinstance(verifier, str):
        verifier = parse_verifier_key(verifier)
    text, _ = open_note(note, [verifier])
    cp = parse_checkpoint(text)
    wanted = verifier.name if expected_origin is None else expected_origin
    if cp.origin != wanted:
        raise CheckpointOriginError(wanted, cp.origin)
    return cp
