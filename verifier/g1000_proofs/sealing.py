"""Sealed votes: HPKE (RFC 9180) to the ballot's sealing key, and the checks that open them.

Why this module exists: a vote must stay unreadable until the ballot closes, so that no partial
count can sway later voters, and must then be openable by anyone so that anyone can recount
(docs/architecture.md, the ballot). Each vote's choice is sealed by the voter's client to the
ballot's X25519 public key; the private half is made and split by the trustees (see
:mod:`g1000_proofs.shamir`), reaches the log only at closing, and then opens every vote. The
service and ``g1000-verify tally`` open votes with this one module.

Choices (the suite is fixed, so a sealed vote carries no algorithm choice an attacker could steer):

- HPKE base mode, single-shot (RFC 9180 §5.1.1, §6.1): DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
  ChaCha20-Poly1305 (RFC 9180 §7: KEM 0x0020, KDF 0x0001, AEAD 0x0003). The sealed bytes are
  ``enc || ciphertext`` as ``cryptography``'s ``hpke.Suite.encrypt`` writes them.
- ``info`` binds a vote to its summit and ballot, so a vote sealed for one ballot does not open in
  another: ``"g1000 vote v1\\n" + summit_id + "\\n" + ballot_id``.
- The plaintext is the choice's RFC 8785 bytes padded with NUL bytes to a multiple of
  :data:`PAD_TO` bytes, so the sealed length does not tell how many options a voter chose. JSON
  text never contains a raw NUL, so the padding strips unambiguously.

Pure: no I/O. Failures raise :class:`SealingError`.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519

from . import jcs
from .errors import SealingError

__all__ = ["PAD_TO", "open_vote", "public_key_hex", "seal_vote", "check_revealed_key"]

PAD_TO = 256
KEY_LEN = 32
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
MAX_SEALED = 32 + 16 + 16 * PAD_TO  # enc + tag + the largest padded choice accepted


def _info(summit_id: str, ballot_id: str) -> bytes:
    return f"g1000 vote v1\n{summit_id}\n{ballot_id}".encode()


def _public(hex_key: str) -> x25519.X25519PublicKey:
    try:
        raw = bytes.fromhex(hex_key)
        if len(raw) != KEY_LEN:
            raise ValueError
        return x25519.X25519PublicKey.from_public_bytes(raw)
    except (TypeError, ValueError):
        raise SealingError("a sealing key is 32 bytes of X25519 public key, as 64 hex digits") from None


def _private(hex_key: str) -> x25519.X25519PrivateKey:
    try:
        raw = bytes.fromhex(hex_key)
        if len(raw) != KEY_LEN:
            raise ValueError
        return x25519.X25519PrivateKey.from_private_bytes(raw)
    except (TypeError, ValueError):
        raise SealingError("a revealed key is 32 bytes of X25519 private key, as 64 hex digits") from None


def public_key_hex(private_hex: str) -> str:
    """The public half (64 hex digits) of an X25519 private key given as 64 hex digits."""
    return _private(private_hex).public_key().public_bytes_raw().hex()


def check_revealed_key(private_hex: str, sealing_public_hex: str) -> None:
    """The key revealed at closing must be the private half of the key votes were sealed to."""
    if public_key_hex(private_hex) != _public(sealing_public_hex).public_bytes_raw().hex():
        raise SealingError("the revealed key is not the private half of the ballot's sealing key")


def seal_vote(choice: Any, sealing_public_hex: str, summit_id: str, ballot_id: str) -> bytes:
    """The voter's side: pad and seal a choice (any JSON value) to the ballot's key."""
    try:
        text = jcs.dumps(choice)
    except jcs.CanonicalJSONError as e:
        raise SealingError(f"the choice is not canonical JSON: {e}") from None
    padded = text + bytes(-len(text) % PAD_TO)
    if len(padded) > 16 * PAD_TO:
        raise SealingError(f"a choice is at most {16 * PAD_TO} bytes")
    return _SUITE.encrypt(padded, _public(sealing_public_hex), info=_info(summit_id, ballot_id))


def open_vote(sealed: bytes, private_hex: str, summit_id: str, ballot_id: str) -> Any:
    """Open one sealed vote; raises SealingError when it does not open or is not padded JSON.

    A vote that opens to well-formed JSON of the wrong shape is not an error here: the tally counts
    it as spoiled (:func:`g1000_proofs.tally.spoil_reason`).
    """
    if not 48 < len(sealed) <= MAX_SEALED:
        raise SealingError("a sealed vote has the wrong length")
    try:
        padded = _SUITE.decrypt(sealed, _private(private_hex), info=_info(summit_id, ballot_id))
    except SealingError:
        raise
    except Exception:  # cryptography raises InvalidTag or ValueError for bytes that do not open
        raise SealingError("the sealed vote does not open with this ballot's key") from None
    if len(padded) % PAD_TO:
        raise SealingError("the opened vote is not padded to the block size")
    text = padded.rstrip(b"\x00")
    try:
        choice = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SealingError("the opened vote is not JSON") from None
    try:
        canonical = jcs.dumps(choice) == text
    except jcs.CanonicalJSONError:
        canonical = False
    if not canonical:
        raise SealingError("the opened vote is not in canonical form")
    return choice
