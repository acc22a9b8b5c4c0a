"""C2SP signed notes with Ed25519 (https://c2sp.org/signed-note).

Why this module exists: the G1000 log publishes its tree heads as signed
notes so that any witness or auditor already speaking the C2SP / Go
``golang.org/x/mod/sumdb/note`` format can check them.  A signed note is::

    <text, ending in a newline>
    <blank line>
    — <key name> <base64(4-byte key ID || signature)>
    ... more signature lines ...

(the dash is U+2014 EM DASH followed by a space).  The whole note must be
valid UTF-8 with no ASCII control character other than newline; the text is
everything up to and including the newline before the *last* blank line,
and signatures are made over exactly those text bytes.

Opening rules (C2SP, and golang.org/x/mod/sumdb/note as exercised by its
test vectors): signatures from unknown (name, key ID) pairs are ignored;
a signature from a known key that fails to verify rejects the whole note;
a note with no verified signature from a known key is rejected; a note with
more than 100 signature lines is rejected as malformed (C2SP requires
accepting at least 16).  Stricter than Go: every line from a known key is
verified, including repeats of the same key, instead of skipping repeats.

Key strings live in :mod:`g1000_proofs.note_keys` and are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import (
    DuplicateVerifierError,
    NoteFormatError,
    NoteSignatureError,
    TooManySignaturesError,
    UnverifiedNoteError,
)
from .note_keys import (
    Signer,
    Verifier,
    b64encode,
    generate_signer_key,
    is_valid_key_name,
    key_id,
    make_signer_key,
    make_verifier_key,
    parse_signer_key,
    parse_verifier_key,
    strict_b64decode,
)

__all__ = [
    "MAX_SIGNATURES", "NoteSignature", "ParsedNote", "Signer", "Verifier",
    "generate_signer_key", "key_id", "make_signer_key", "make_verifier_key",
    "open_note", "parse_note", "parse_signer_key", "parse_verifier_key",
    "sign_note",
]

MAX_SIGNATURES = 100
SIGNATURE_PREFIX = "\u2014 "
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the raw signature bytes."""

    name: str
    key_id: int
    signature: bytes

    @property
    def line(self) -> str:
        """The signature line as it appears in a note, without its newline."""
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {b64encode(raw)}"


@dataclass(frozen=True)
class ParsedNote:
    """A note split into text and (not yet verified) signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...]


def _note_as_str(note: str | bytes) -> str:
    if isinstance(note, (bytes, bytearray, memoryview)):
        try:
            return bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteFormatError("note is not valid UTF-8") from None
    if not isinstance(note, str):
        raise TypeError("a note is str or bytes")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteFormatError("note is not valid UTF-8") from None
    return note


def _check_text(text: str, what: str) -> None:
    if _FORBIDDEN_CONTROL.search(text):
        raise NoteFormatError(f"{what} contains an ASCII control character")


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteFormatError("signature line does not start with an em dash")
    name, space, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
    if not space or not encoded or not is_valid_key_name(name):
        raise NoteFormatError("signature line is not '— <name> <base64>'")
    try:
        raw = strict_b64decode(encoded)
    except ValueError:
        raise NoteFormatError("signature is not standard base64") from None
    if len(raw) < 5:
        raise NoteFormatError("signature is shorter than key ID plus one byte")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse_note(note: str | bytes, max_signatures: int = MAX_SIGNATURES) -> ParsedNote:
    """Split a signed note into text and signature lines, checking only form."""
    whole = _note_as_str(note)
    _check_text(whole, "note")
    split = whole.rfind("\n\n")
    if split < 0:
        raise NoteFormatError("note has no blank line before its signatures")
    text, block = whole[: split + 1], whole[split + 2:]
    if not block.endswith("\n"):
        raise NoteFormatError("signature block is empty or lacks a final newline")
    lines = block[:-1].split("\n")
    if len(lines) > max_signatures:
        raise TooManySignaturesError(max_signatures)
    return ParsedNote(text, tuple(_parse_signature_line(ln) for ln in lines))


def _as_verifier(item: Verifier | str) -> Verifier:
    return parse_verifier_key(item) if isinstance(item, str) else item


def _verifier_table(known: Iterable[Verifier | str] | Verifier | str
                    ) -> dict[tuple[str, int], Verifier]:
    if isinstance(known, (str, Verifier)):
        known = [known]
    table: dict[tuple[str, int], Verifier] = {}
    for verifier in map(_as_verifier, known):
        slot = (verifier.name, verifier.key_id)
        if table.get(slot, verifier) != verifier:
            raise DuplicateVerifierError(
                f"two known keys are named {verifier.name}+{verifier.key_id:08x}")
        table[slot] = verifier
    return table


def open_note(note: str | bytes,
              known_verifiers: Iterable[Verifier | str] | Verifier | str,
              ) -> tuple[str, list[NoteSignature]]:
    """Verify a signed note; return ``(text, verified signatures)``.

    ``known_verifiers`` holds :class:`Verifier` objects or verifier key
    strings.  Raises ``NoteFormatError`` (malformed, too many signatures),
    ``NoteSignatureError`` (a known key's signature is invalid) or
    ``UnverifiedNoteError`` (no known key signed).  Each verified key appears
    once in the result, in note order.
    """
    parsed = parse_note(note)
    table = _verifier_table(known_verifiers)
    message = parsed.text.encode("utf-8")
    verified: dict[tuple[str, int], NoteSignature] = {}
    for sig in parsed.signatures:
        verifier = table.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, sig.signature):
            raise NoteSignatureError(sig.name, sig.key_id)
        verified.setdefault((sig.name, sig.key_id), sig)
    if not verified:
        raise UnverifiedNoteError([sig.name for sig in parsed.signatures])
    return parsed.text, list(verified.values())


def _as_signer(item: Signer | str) -> Signer:
    return parse_signer_key(item) if isinstance(item, str) else item


def sign_note(text: str, *signers: Signer | str) -> str:
    """Sign ``text`` with each signer; return the complete signed note.

    ``text`` must end with a newline and contain no control character but
    newline.  Signers are :class:`Signer` objects or signer key strings.
    """
    if not signers:
        raise ValueError("sign_note needs at least one signer")
    if len(signers) > MAX_SIGNATURES:
        raise TooManySignaturesError(MAX_SIGNATURES)
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteFormatError("note text must be a str ending in a newline")
    _check_text(_note_as_str(text), "note text")
    message = text.encode("utf-8")
    lines = []
    for signer in map(_as_signer, signers):
        sig = NoteSignature(signer.name, signer.key_id, signer.sign(message))
        lines.append(sig.line + "\n")
    return text + "\n" + "".join(lines)
