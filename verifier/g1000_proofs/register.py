"""Register contract version 2: commit every row at import, reveal only what a draw reaches.

Why this module exists: the log is public and permanent (docs/architecture.md §1), and a register row
published in full -- household id beside every feature -- singles people out (issue 10 H3).
Version 2 publishes, per row, only its pseudonym and salted hash commitments to its household id
and to each feature value (selective disclosure by salted hashes); the salts and clear values
stay in the lottery's database.  When the invitation draw runs, the lottery reveals (value and
salt) exactly what re-deriving the draw needs, and anyone can check each reveal against the
commitment that the register's Merkle root fixed before the seed existed.  The lottery service
commits and chooses what to reveal with these functions; ``g1000-verify draw`` checks with them.
Standard library only plus :mod:`g1000_proofs.jcs` (RFC 8785), :mod:`g1000_proofs.merkle`
(RFC 9162) and the draw contract (:mod:`g1000_proofs.draw`); no I/O, no randomness (the caller
draws the salts).  Outside auditors re-implement this, so the docstring is a contract.

Contract (register version 2; version 1 is ``canonical_row`` in :mod:`g1000_proofs.draw`):

Salts
    Each commitment has its own salt: exactly ``SALT_SIZE`` = 16 bytes (128 bits) from a
    cryptographically secure generator, never reused.  In JSON a salt is 32 lowercase hex digits.

``household_commitment(pseudonym, household, salt)``
    ``SHA-256("g1000/register/v2/household" || 0x00 || salt || JCS([pseudonym, household]))``.

``feature_commitment(pseudonym, name, value, salt)``
    ``SHA-256("g1000/register/v2/feature" || 0x00 || salt || JCS([pseudonym, name, value]))``.

    The domain strings (ASCII, NUL-terminated, neither a prefix of the other) keep a household
    opening from ever opening a feature commitment; the salt has a fixed length, so the JCS text
    after it is unambiguous; the pseudonym inside binds an opening to its own row (even a reused
    salt could not move a reveal to another row), and ``[name, value]`` binds it to its feature.
    A commitment is 64 lowercase hex digits in JSON.  Hiding: without the salt, guessing the
    value (a household id, an age band) means guessing 128 random bits as well.

Committed row
    ``{"pseudonym": p, "commitments": {"household": c_h, "features": {name: c_f, ...}}}``; the
    Merkle leaf is its JCS (RFC 8785) bytes, ``leaf_hash = SHA-256(0x00 || JCS(row))``.

``register_root(rows) -> (count, root)``
    RFC 9162 MTH over the leaf hashes of the committed rows sorted by pseudonym (code-point
    order); ``count = len(rows)``.  ``lottery.register.committed`` v2 publishes both with
    ``contract: 2``.

Opening (a reveal)
    ``{"pseudonym": p, "value": v, "salt": hex}``; for a household it opens ``c_h`` of row ``p``
    when ``household_commitment(p, v, salt) == c_h``, for feature ``f`` it opens ``c_f`` of row
    ``p`` when ``feature_commitment(p, f, v, salt) == c_f``.

``reveal_plan(seed, rows, n, stratify_by)`` -- what the invitation draw reveals
    Stratified by ``f``: the value of ``f`` of *every* row (apportionment counts every stratum).
    Always: the household of every row the walk reaches (``g1000_proofs.draw``: each row taken,
    and each row skipped because its household already has an invitee), and of no other row.
    Nothing else of the register is ever revealed by the draw.

``reached_rows(seed, pseudonyms, n, households, ...)``
    The walk of ``invitation_draw`` (:func:`g1000_proofs.draw.invitation_walk`) with the
    households known from reveals; a reached row with no revealed household raises
    :class:`UnrevealedRowError` -- never a placeholder household.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from . import jcs, merkle
from .draw import (
    DrawError, DrawInputError, NotEnoughHouseholdsError, Row, Walk, _check_rows, invitation_walk,
)
from .errors import OpeningMismatchError, RegisterRootMismatchError, UnrevealedRowError

__all__ = [
    "CONTRACT", "DOMAIN_FEATURE", "DOMAIN_HOUSEHOLD", "SALT_SIZE",
    "CommittedRow", "OpeningMismatchError", "RegisterRootMismatchError", "RevealPlan",
    "UnrevealedRowError", "canonical_committed_row", "check_feature_opening",
    "check_household_opening", "commit_row", "committed_row_from_json", "committed_row_json",
    "feature_commitment", "household_commitment", "reached_rows", "register_root", "reveal_plan",
    "verify_register_root",
]

CONTRACT = 2
SALT_SIZE = 16
DOMAIN_HOUSEHOLD = b"g1000/register/v2/household\x00"
DOMAIN_FEATURE = b"g1000/register/v2/feature\x00"
_HEX64 = re.compile(r"[0-9a-f]{64}")


class CommittedRow(NamedTuple):
    """A register row as contract 2 publishes it: pseudonym and hex commitments."""

    pseudonym: str
    household: str
    features: Mapping[str, str]


def _salt(salt: object) -> bytes:
    if not isinstance(salt, (bytes, bytearray)) or len(salt) != SALT_SIZE:
        raise DrawInputError(f"a salt is exactly {SALT_SIZE} bytes")
    return bytes(salt)


def _text(what: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise DrawInputError(f"{what} must be a non-empty str")
    return value


def household_commitment(pseudonym: str, household: str, salt: bytes) -> bytes:
    """``SHA-256(DOMAIN_HOUSEHOLD || salt || JCS([pseudonym, household]))``."""
    body = jcs.dumps([_text("pseudonym", pseudonym), _text("household", household)])
    return hashlib.sha256(DOMAIN_HOUSEHOLD + _salt(salt) + body).digest()


def feature_commitment(pseudonym: str, name: str, value: str, salt: bytes) -> bytes:
    """``SHA-256(DOMAIN_FEATURE || salt || JCS([pseudonym, name, value]))``."""
    if not isinstance(value, str):
        raise DrawInputError("a feature value must be a str")
    body = jcs.dumps([_text("pseudonym", pseudonym), _text("feature name", name), value])
    return hashlib.sha256(DOMAIN_FEATURE + _salt(salt) + body).digest()


def commit_row(row: Row, household_salt: bytes, feature_salts: Mapping[str, bytes]) -> CommittedRow:
    """The committed form of ``row``, one salt per commitment (``feature_salts`` per feature)."""
    if set(feature_salts) != set(row.features):
        raise DrawInputError(f"row {row.pseudonym!r}: one salt per feature is needed")
    return CommittedRow(
        row.pseudonym, household_commitment(row.pseudonym, row.household, household_salt).hex(),
        {name: feature_commitment(row.pseudonym, name, value, feature_salts[name]).hex()
         for name, value in row.features.items()})


def committed_row_json(row: CommittedRow) -> dict:
    return {"pseudonym": row.pseudonym,
            "commitments": {"household": row.household, "features": dict(row.features)}}


def committed_row_from_json(obj: object) -> CommittedRow:
    """The :class:`CommittedRow` of a parsed committed row; :class:`DrawInputError` if malformed."""
    if not isinstance(obj, Mapping) or set(obj) != {"pseudonym", "commitments"}:
        raise DrawInputError('a committed row has exactly "pseudonym" and "commitments"')
    pseudonym = _text("pseudonym", obj["pseudonym"])
    commitments = obj["commitments"]
    if not isinstance(commitments, Mapping) or set(commitments) != {"household", "features"}:
        raise DrawInputError('"commitments" has exactly "household" and "features"')
    household, features = commitments["household"], commitments["features"]
    if not isinstance(features, Mapping):
        raise DrawInputError("the feature commitments must be an object")
    for what, digest in [("household", household), *features.items()]:
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise DrawInputError(f"the commitment of {what!r} must be 64 lowercase hex digits")
        _text("feature name", what)
    return CommittedRow(pseudonym, household, dict(features))


def canonical_committed_row(row: CommittedRow) -> bytes:
    """The Merkle leaf of a committed row: its RFC 8785 bytes."""
    return jcs.dumps(committed_row_json(row))


def register_root(rows: Iterable[CommittedRow]) -> tuple[int, bytes]:
    """``(len(rows), MTH(leaf_hash(JCS(row)) for rows sorted by pseudonym))`` (RFC 9162)."""
    ordered = sorted(rows, key=lambda row: row.pseudonym)
    if not ordered:
        raise DrawInputError("a register has at least one row")
    for a, b in zip(ordered, ordered[1:]):
        if a.pseudonym == b.pseudonym:
            raise DrawInputError(f"pseudonym {a.pseudonym!r} occurs more than once")
    leaves = [merkle.leaf_hash(canonical_committed_row(row)) for row in ordered]
    return len(leaves), merkle.root_from_leaves(leaves)


def verify_register_root(rows: Iterable[CommittedRow], count: int, root: bytes) -> None:
    computed_count, computed_root = register_root(rows)
    if (computed_count, computed_root) != (count, bytes(root)):
        raise RegisterRootMismatchError(
            f"register commitment mismatch: committed {count} rows, root {bytes(root).hex()}; "
            f"the rows give {computed_count}, root {computed_root.hex()}")


def _opened(expected_hex: str, computed: bytes, what: str) -> None:
    if not hmac.compare_digest(expected_hex, computed.hex()):
        raise OpeningMismatchError(f"the revealed {what} does not open its commitment: it hashes "
                                   f"to {computed.hex()}, the commitment is {expected_hex}")


def check_household_opening(row: CommittedRow, value: str, salt: bytes) -> None:
    """Raise :class:`OpeningMismatchError` unless ``(value, salt)`` opens ``row``'s household."""
    _opened(row.household, household_commitment(row.pseudonym, value, salt),
            f"household of {row.pseudonym!r}")


def check_feature_opening(row: CommittedRow, name: str, value: str, salt: bytes) -> None:
    """Raise :class:`OpeningMismatchError` unless ``(value, salt)`` opens feature ``name``."""
    if name not in row.features:
        raise OpeningMismatchError(f"row {row.pseudonym!r} has no feature {name!r} to open")
    _opened(row.features[name], feature_commitment(row.pseudonym, name, value, salt),
            f"{name} of {row.pseudonym!r}")


def reached_rows(seed: bytes, pseudonyms: Sequence[str], n: int, households: Mapping[str, str],
                 *, stratify_by: str | None = None,
                 strata: Mapping[str, str] | None = None) -> Walk:
    """The invitation walk with the households known (revealed); unknown and reached: an error.

    ``strata`` gives every row's value of ``stratify_by`` (all revealed when stratified).
    """
    def household_of(pseudonym: str) -> str:
        if pseudonym not in households:
            raise UnrevealedRowError(pseudonym)
        return households[pseudonym]

    return invitation_walk(seed, pseudonyms, n, household_of, stratify_by=stratify_by,
                           stratum_of=strata)


class RevealPlan(NamedTuple):
    """What the invitation draw reveals: the stratum feature of every row (or none), and the
    households of the reached rows in walk order; ``invitees`` is the draw itself."""

    feature: str | None
    feature_rows: list[str]
    household_rows: list[str]
    invitees: list[str]


def reveal_plan(seed: bytes, rows: Sequence[Row], n: int,
                stratify_by: str | None = None) -> RevealPlan:
    """The reveals of the invitation draw over the full rows (the lottery's side), from one walk;
    raises exactly what :func:`g1000_proofs.draw.invitation_draw` raises for these rows."""
    rows = _check_rows("rows", rows)
    households = len({row.household for row in rows})
    if isinstance(n, int) and not isinstance(n, bool) and n > households:
        raise NotEnoughHouseholdsError(n, households)
    by_name = {row.pseudonym: row for row in rows}
    strata = None
    if stratify_by is not None:
        strata = {}
        for row in rows:
            if stratify_by not in row.features:
                raise DrawInputError(f"row {row.pseudonym!r} has no feature {stratify_by!r}")
            strata[row.pseudonym] = row.features[stratify_by]
    walk = reached_rows(seed, list(by_name), n, {p: r.household for p, r in by_name.items()},
                        stratify_by=stratify_by, strata=strata)
    return RevealPlan(stratify_by, sorted(by_name) if stratify_by is not None else [],
                      walk.reached, walk.invitees)
