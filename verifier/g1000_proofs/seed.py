"""The G1000 lottery seed (docs/architecture.md §6): commit, reveal, combine.

Why this module exists: the draw is only fair if nobody could know the seed before the register
(and, for the panel stage, the panel distribution) was committed.  So several parties each commit
to a secret value before a deadline and reveal it afterwards; a notary may add public dice rolls
and a published public beacon value may be added.  The seed is a hash of all of them, so one
honest party suffices to make it unpredictable.  The lottery service computes the seed with these
functions and the verifier (docs/architecture.md §5) recomputes it from the log; outside auditors
re-implement it, so this docstring is the contract.  Standard library only (``hashlib``) plus
:mod:`g1000_proofs.jcs` (RFC 8785); SHA-256 is FIPS 180-4.

Contract (version 1):

Contribution object -- exactly the JSON object the log records for one revealed contribution::

    {"party": <non-empty string>, "value": <non-empty string>}
    {"party": ..., "value": ..., "kind": "commit-reveal" | "dice" | "beacon"}

No other members are allowed (a commitment hash, a timestamp ... belong in the event, not in this
object).  ``kind`` is optional; when present it is part of the hashed object.  Each party name
occurs at most once in a seed's contribution list.

Byte encoding of a revealed value: the UTF-8 bytes of the ``value`` string exactly as recorded
(no trimming, no case folding, no Unicode normalisation).  A party's commitment is
``commitment(UTF-8(value)) = lowercase hex(SHA-256(UTF-8(value)))``, 64 characters.  Commitments
hide the value only if it is unguessable: a committing party should reveal 32 random bytes
written as 64 lowercase hex characters (not enforced).  Dice rolls and beacon values are public
when they are added and need no commitment.

Seed::

    seed = SHA-256(JCS({"domain": "g1000/seed/v1",
                        "summit_id": <summit id string exactly as in the log>,
                        "contributions": [<contribution objects in commitment order>]}))

32 raw bytes.  "Commitment order" is the order of the list the caller passes; the caller takes it
from the log (the order in which the commitments were logged; a dice or beacon contribution,
which has no commitment, at the position of the event that recorded it).  JCS sorts the members
of each object, so the member order of the caller's dicts does not matter, but list order does.

Failures raise :class:`SeedInputError` (a :class:`g1000_proofs.draw.DrawInputError`) for
malformed input and :class:`CommitmentMismatchError` when a revealed value does not match its
commitment; both are :class:`g1000_proofs.draw.DrawError`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from . import jcs
from .draw import DrawError, DrawInputError, _check_text
from .errors import CommitmentMismatchError, SeedInputError

__all__ = [
    "CONTRIBUTION_KINDS", "SEED_DOMAIN", "CommitmentMismatchError", "SeedInputError",
    "check_contribution", "commitment", "compute_seed", "contribution_commitment",
    "seed_document", "value_bytes", "verify_reveal",
]

SEED_DOMAIN = "g1000/seed/v1"
CONTRIBUTION_KINDS = ("commit-reveal", "dice", "beacon")
_MEMBERS = {"party", "value", "kind"}
_HEX_COMMITMENT = re.compile(r"[0-9a-f]{64}")


def _text(what: str, value: object) -> str:
    return _check_text(what, value, error=SeedInputError)


def value_bytes(value: str) -> bytes:
    """The bytes a revealed value is committed as: UTF-8 of the string, unchanged."""
    return _text("value", value).encode("utf-8")


def commitment(value: bytes) -> str:
    """Lowercase hex of ``SHA-256(value)``; commit to a revealed string with ``value_bytes``."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise SeedInputError(f"commitment needs bytes, not {type(value).__name__}")
    return hashlib.sha256(bytes(value)).hexdigest()


def check_contribution(contribution: object) -> dict[str, str]:
    """A plain-dict copy of a valid contribution object; raise :class:`SeedInputError` otherwise."""
    if not isinstance(contribution, Mapping):
        raise SeedInputError("a contribution must be a JSON object")
    members = set(contribution)
    if not {"party", "value"} <= members or not members <= _MEMBERS:
        raise SeedInputError('a contribution has "party" and "value" and optionally "kind", '
                             f"got {sorted(map(str, members))}")
    checked = {"party": _text("party", contribution["party"]),
               "value": _text("value", contribution["value"])}
    if "kind" in contribution:
        if contribution["kind"] not in CONTRIBUTION_KINDS:
            raise SeedInputError(f"contribution kind {contribution['kind']!r} is not one of "
                                 f"{', '.join(CONTRIBUTION_KINDS)}")
        checked["kind"] = str(contribution["kind"])
    return checked


def contribution_commitment(contribution: Mapping) -> str:
    """``commitment(value_bytes(contribution["value"]))``."""
    return commitment(value_bytes(check_contribution(contribution)["value"]))


def verify_reveal(contribution: Mapping, committed: str) -> None:
    """Raise :class:`CommitmentMismatchError` unless the revealed value matches ``committed``.

    ``committed`` must be 64 lowercase hex characters, as :func:`commitment` writes it.
    """
    checked = check_contribution(contribution)
    if not isinstance(committed, str) or not _HEX_COMMITMENT.fullmatch(committed):
        raise SeedInputError("a commitment is 64 lowercase hex characters")
    computed = commitment(value_bytes(checked["value"]))
    if computed != committed:
        raise CommitmentMismatchError(checked["party"], committed, computed)


def seed_document(summit_id: str, contributions: Iterable[Mapping]) -> dict:
    """The JSON object whose RFC 8785 bytes are hashed into the seed."""
    summit_id = _text("summit_id", summit_id)
    if isinstance(contributions, (str, bytes, Mapping)):
        raise SeedInputError("contributions must be a list of contribution objects")
    checked = [check_contribution(c) for c in contributions]
    if not checked:
        raise SeedInputError("a seed needs at least one contribution")
    parties: set[str] = set()
    for item in checked:
        if item["party"] in parties:
            raise SeedInputError(f"party {item['party']!r} contributes more than once")
        parties.add(item["party"])
    return {"domain": SEED_DOMAIN, "summit_id": summit_id, "contributions": checked}


def compute_seed(summit_id: str, contributions: Iterable[Mapping]) -> bytes:
    """``SHA-256(JCS({"domain": "g1000/seed/v1", "summit_id": ..., "contributions": [...]}))``."""
    return hashlib.sha256(jcs.dumps(seed_document(summit_id, contributions))).digest()
