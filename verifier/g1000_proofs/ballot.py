"""The ballot's shared rules besides the count: the roll, the credential key, nullifiers, windows.

Why this module exists: the ballot service applies these rules when it opens a ballot and accepts
a vote, and ``g1000-verify tally`` applies them again from the log (docs/architecture.md, the
ballot), so each is one pure function here.

- **The roll** (who may vote): the distinct per-summit pseudonyms of the checked-in participants,
  sorted, committed as their count and an RFC 9162 Merkle root (§2.1.1) over the leaves
  ``"g1000-roll-v1\\n" + pseudonym``; a participant can be shown an inclusion proof.
- **The credential key**: each ballot has a fresh RSA key (RFC 9474, RSABSSA-SHA384-PSS-Randomized,
  :mod:`g1000_proofs.blind_rsa`) whose public half is in the opening event as the base64 of its
  DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, rsaEncryption; at least 2048 bits).
- **A credential** is a token the voter chose (32 random bytes, hex), the 32-byte randomizing prefix
  the voter's client drew (RFC 9474 §4.1) and the unblinded signature over prefix || token. Its
  **nullifier** is SHA-256 over ``"g1000-nullifier-v1\\n"`` and the prepared message: the same
  credential always gives the same nullifier, so a second vote with it is seen, and the nullifier
  says nothing about who obtained the credential.
- **Windows**: a vote counts only if its batch time lies in ``[opens_at, closes_at)``, with
  ``closes_at`` the earlier of the planned closing and an organiser's recorded early closing.
  Times are RFC 3339 UTC strings with a ``Z`` of one fixed width, so they compare as text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from typing import NamedTuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import blind_rsa, merkle
from .errors import BallotRuleError, BlindSignatureError

__all__ = ["Credential", "check_credential", "credential_key", "encode_credential_key", "in_window",
           "nullifier", "roll_commitment", "roll_leaf", "roll_proof"]

MIN_KEY_BITS = 2048
TOKEN_LEN = 32


class Credential(NamedTuple):
    token: bytes
    prefix: bytes
    signature: bytes

    @property
    def prepared(self) -> bytes:
        return self.prefix + self.token


def roll_leaf(pseudonym: str) -> bytes:
    return merkle.leaf_hash(f"g1000-roll-v1\n{pseudonym}".encode())


def roll_commitment(pseudonyms: Iterable[str]) -> tuple[int, str, list[str]]:
    """(count, Merkle root as hex, the sorted roll) of the distinct pseudonyms given."""
    roll = sorted(set(pseudonyms))
    if not roll:
        raise BallotRuleError("the roll is empty: nobody has checked in")
    return len(roll), merkle.root_from_leaves([roll_leaf(p) for p in roll]).hex(), roll


def roll_proof(roll: list[str], pseudonym: str) -> tuple[int, list[bytes]]:
    """Index and RFC 9162 inclusion proof of ``pseudonym`` in the sorted roll (for the participant)."""
    try:
        index = roll.index(pseudonym)
    except ValueError:
        raise BallotRuleError("not on the roll") from None
    leaves = [roll_leaf(p) for p in roll]

    def node(level: int, i: int) -> bytes:
        return merkle.root_from_leaves(leaves[i << level:(i + 1) << level])

    return index, merkle.inclusion_proof(index, len(roll), node)


def encode_credential_key(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def credential_key(encoded: str) -> rsa.RSAPublicKey:
    """The ballot's credential key from its opening event; raises BallotRuleError when unusable."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(encoded, validate=True))
    except (ValueError, TypeError, binascii.Error):
        raise BallotRuleError("the credential key is not base64 DER SubjectPublicKeyInfo") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_KEY_BITS:
        raise BallotRuleError(f"the credential key must be RSA of at least {MIN_KEY_BITS} bits")
    return key


def nullifier(credential: Credential) -> str:
    return hashlib.sha256(b"g1000-nullifier-v1\n" + credential.prepared).hexdigest()


def check_credential(key: rsa.RSAPublicKey, credential: Credential) -> str:
    """The credential's nullifier if its signature verifies under the ballot's key."""
    if len(credential.token) != TOKEN_LEN or len(credential.prefix) != blind_rsa.PREFIX_LEN:
        raise BallotRuleError(f"a credential has a {TOKEN_LEN}-byte token and a "
                              f"{blind_rsa.PREFIX_LEN}-byte prefix")
    try:
        blind_rsa.verify(key, credential.prepared, credential.signature, blind_rsa.PSS_RANDOMIZED)
    except BlindSignatureError:
        raise BallotRuleError("the credential's signature does not verify under the ballot's key") from None
    return nullifier(credential)


def in_window(at: str, opens_at: str, closes_at: str, closed_early_at: str | None = None) -> bool:
    end = min(closes_at, closed_early_at) if closed_early_at else closes_at
    if not (len(at) == len(opens_at) == len(end)) or not all(t.endswith("Z") for t in (at, opens_at, end)):
        raise BallotRuleError("times must be RFC 3339 UTC of one width")
    return opens_at <= at < end
