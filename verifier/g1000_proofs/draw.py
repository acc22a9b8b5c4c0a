"""The G1000 lottery draws (docs/architecture.md §6), pure and reproducible from the log.

Why this module exists: the draw must be fair and checkable by anyone without trusting the
operator (docs/architecture.md §1, promise 1).  The lottery service runs these functions to draw; the
auditor's verifier (``g1000_verify``, docs/architecture.md §5) imports the *same* functions to redraw from
the log and compare.  Outside auditors re-implement the formulas below, so they are a contract:
this docstring says exactly what is computed.  Standard library only (``hashlib``, ``hmac``,
``fractions``) plus :mod:`g1000_proofs.jcs` (RFC 8785) and :mod:`g1000_proofs.merkle`
(RFC 9162); no I/O, no randomness other than the seed, no floating point anywhere.
How the seed itself is made from the parties' contributions is :mod:`g1000_proofs.seed`.

Contract (version 1; "code-point order" below means comparing strings as sequences of Unicode
code points, which is Python's ``str`` order and equals the order of their UTF-8 bytes):

``R(seed, label)``
    ``int.from_bytes(HMAC-SHA256(key=seed, msg=UTF-8(label)), "big")`` -- HMAC per RFC 2104 with
    SHA-256 per FIPS 180-4, the 32-byte digest read as an unsigned big-endian integer.  ``seed``
    must be exactly 32 bytes (the SHA-256 output of :func:`g1000_proofs.seed.compute_seed`).

Register rows
    A row is ``Row(pseudonym, household, features)``: non-empty strings ``pseudonym`` and
    ``household`` and a ``{str: str}`` feature map.  Pseudonyms are unique in a register.
    ``canonical_row(row) = JCS({"pseudonym": p, "household": h, "features": {...}})`` (RFC 8785).

``register_commitment(rows) -> (count, root)``
    ``count = len(rows)``; ``root`` = RFC 9162 MTH over the leaves
    ``leaf_hash(canonical_row(row)) = SHA-256(0x00 || canonical_row(row))``, the rows sorted by
    pseudonym in code-point order.  The order the caller passes the rows in does not matter.

``invitation_draw(seed, rows, n, stratify_by=None)`` -> pseudonyms in draw order
    The *invitation order* of a set of rows is ascending ``R(seed, "invite/" + pseudonym)``,
    ties (probability about 2**-256) broken by pseudonym in code-point order.
    Unstratified: walk the whole register in invitation order, take each row whose household
    has no invitee yet, stop after ``n``.  Stratified by feature ``f``: the strata are the
    distinct values of ``f`` (every row must have ``f``); :func:`apportion` gives stratum ``s``
    its share ``n_s`` of ``n`` by largest remainder over the strata's *row* counts; then the
    strata are visited in ascending code-point order of their value, and in each the rows of
    that stratum are walked in invitation order, taking each row whose household has no invitee
    yet *anywhere in the draw so far* (earlier strata included), stopping after ``n_s``.  The
    result is the concatenation, i.e. the order in which rows were taken.  A stratum that runs
    out of rows before ``n_s`` raises :class:`StratumExhaustedError`; nothing is reallocated.
    ``n`` larger than the number of households raises :class:`NotEnoughHouseholdsError`.
    The rows the walk *reaches* are those whose household it looks at: each row taken, and each
    row skipped because its household already has an invitee; a stratum's walk stops right
    after its last invitee, so the rows after it are not reached.  :func:`invitation_walk`
    is this walk over pseudonyms with a household lookup (it returns the invitees and the
    reached rows); register contract 2 (:mod:`g1000_proofs.register`) reveals exactly the
    households of the reached rows.

``apportion(n, counts)`` -- largest remainder (Hamilton), exact
    With ``T = sum(counts)``: stratum ``s`` has quota ``q_s = n * c_s / T`` (a ``Fraction``);
    each gets ``floor(q_s)``; the ``n - sum(floor(q_s))`` remaining seats go one each to the
    strata with the largest remainders ``q_s - floor(q_s)``, equal remainders ordered by stratum
    value, smaller code-point value first.

``panel_draw(seed, draw_id, weights) -> i``
    ``W = sum(weights)`` (every weight a positive integer), ``u = R(seed, "panel/" + draw_id)
    mod W``; the result is the first ``i`` with ``w_0 + ... + w_i > u``.  (``u`` is not exactly
    uniform on ``0..W-1``: the bias is below ``W / 2**256``.)

``next_reserve(seed, reserves, panel, quotas, dropped) -> Row | None``
    The *reserve order* is ascending ``R(seed, "reserve/" + pseudonym)``, ties by pseudonym.
    ``dropped`` must be on ``panel``.  The result is the first reserve in reserve order that is
    *eligible*: it is not on ``panel`` (``dropped`` included), and the replaced panel -- the
    panel without ``dropped`` plus the reserve -- has ``check_quotas(...) == []`` and
    ``check_households(...) == []``.  ``None`` when no reserve is eligible.

Quotas
    ``{feature: {value: (min, max)}}`` with integers ``0 <= min <= max`` (a 2-item list is
    accepted for the pair, as JSON gives it).  A panel satisfies them when, for every quota
    feature, every panel member has that feature with a value listed for it, and every listed
    value's member count is within ``[min, max]``.  Features not in the quotas are free.

Every failure raises a subclass of :class:`DrawError` (itself a
:class:`g1000_proofs.errors.ProofError`)::

    ProofError
    +-- DrawError
        +-- DrawInputError (also ValueError)   malformed or empty input
        |   +-- DuplicatePseudonymError        a pseudonym occurs twice
        |   +-- QuotaSpecError                 the quota table is malformed
        +-- DrawImpossibleError                the input is valid but the draw cannot be made
        |   +-- NotEnoughHouseholdsError       n exceeds the number of households
        |   +-- StratumExhaustedError          a stratum ran out of eligible rows
        +-- RegisterMismatchError              rows do not match a register commitment
        (and in g1000_proofs.seed: SeedInputError(DrawInputError), CommitmentMismatchError)
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import NamedTuple

from . import jcs, merkle
from .errors import (DrawError, DrawImpossibleError, DrawInputError, DuplicatePseudonymError,
                     NotEnoughHouseholdsError, QuotaSpecError, RegisterMismatchError,
                     StratumExhaustedError)

__all__ = [
    "DOMAIN_INVITE", "DOMAIN_PANEL", "DOMAIN_RESERVE", "SEED_SIZE",
    "DrawError", "DrawImpossibleError", "DrawInputError", "DuplicatePseudonymError",
    "NotEnoughHouseholdsError", "PanelChecker", "QuotaSpecError", "RegisterMismatchError",
    "StratumExhaustedError", "Row", "R", "Walk", "apportion", "canonical_row", "check_households",
    "check_quotas", "invitation_draw", "invitation_order", "invitation_walk", "next_reserve",
    "panel_draw", "register_commitment", "reserve_order", "row_from_json", "verify_register",
]

SEED_SIZE = 32
DOMAIN_INVITE = "invite/"
DOMAIN_PANEL = "panel/"
DOMAIN_RESERVE = "reserve/"


# --- Input checks -------------------------------------------------------------------------------


def _check_text(what: str, value: object, *, allow_empty: bool = False,
                error: type[DrawInputError] = DrawInputError) -> str:
    if not isinstance(value, str):
        raise error(f"{what} must be a str, not {type(value).__name__}")
    if not value and not allow_empty:
        raise error(f"{what} must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise error(f"{what} contains a lone surrogate") from None
    return str(value)


def _check_seed(seed: object) -> bytes:
    if not isinstance(seed, (bytes, bytearray, memoryview)):
        raise DrawInputError(f"seed must be bytes, not {type(seed).__name__}")
    seed = bytes(seed)
    if len(seed) != SEED_SIZE:
        raise DrawInputError(f"seed is {len(seed)} bytes, expected {SEED_SIZE}")
    return seed


def _check_count(what: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DrawInputError(f"{what} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise DrawInputError(f"{what} must be at least {minimum}, got {value}")
    return int(value)


# --- Rows ---------------------------------------------------------------------------------------


class Row(NamedTuple):
    """One register row (or respondent): pseudonym, household id, coarse features."""

    pseudonym: str
    household: str
    features: Mapping[str, str]


def _check_row(what: str, row: object) -> Row:
    if not isinstance(row, Row):
        raise DrawInputError(f"{what} must be a Row, not {type(row).__name__}")
    _check_text(f"{what}.pseudonym", row.pseudonym)
    _check_text(f"{what}.household", row.household)
    if not isinstance(row.features, Mapping):
        raise DrawInputError(f"{what}.features must be a mapping")
    for name, value in row.features.items():
        _check_text(f"{what}.features name", name)
        _check_text(f"{what}.features[{name!r}]", value, allow_empty=True)
    return row


def _check_rows(what: str, rows: Iterable[Row], *, allow_empty: bool = False) -> list[Row]:
    if isinstance(rows, (str, bytes, Mapping)):
        raise DrawInputError(f"{what} must be a sequence of Row")
    checked = [_check_row(f"{what}[{i}]", row) for i, row in enumerate(rows)]
    if not checked and not allow_empty:
        raise DrawInputError(f"{what} is empty")
    seen: set[str] = set()
    for row in checked:
        if row.pseudonym in seen:
            raise DuplicatePseudonymError(what, row.pseudonym)
        seen.add(row.pseudonym)
    return checked


def canonical_row(row: Row) -> bytes:
    """RFC 8785 bytes of ``{"pseudonym": p, "household": h, "features": {name: value}}``."""
    row = _check_row("row", row)
    return jcs.dumps({"pseudonym": row.pseudonym, "household": row.household,
                      "features": dict(row.features)})


def row_from_json(obj: object) -> Row:
    """The :class:`Row` of a parsed canonical row object (exactly those three members)."""
    if not isinstance(obj, Mapping) or set(obj) != {"pseudonym", "household", "features"}:
        raise DrawInputError('a row object has exactly "pseudonym", "household", "features"')
    features = obj["features"]
    if not isinstance(features, Mapping):
        raise DrawInputError("row features must be an object")
    return _check_row("row", Row(obj["pseudonym"], obj["household"], dict(features)))


# --- Register commitment (docs/architecture.md §6: count + Merkle root, before the seed) ----------------


def register_commitment(rows: Iterable[Row]) -> tuple[int, bytes]:
    """``(len(rows), MTH(leaf_hash(canonical_row(r)) for r sorted by pseudonym))``."""
    checked = _check_rows("rows", rows)
    ordered = sorted(checked, key=lambda row: row.pseudonym)
    leaves = [merkle.leaf_hash(canonical_row(row)) for row in ordered]
    return len(leaves), merkle.root_from_leaves(leaves)


def verify_register(rows: Iterable[Row], count: int, root: bytes) -> None:
    """Raise :class:`RegisterMismatchError` unless ``rows`` give the committed count and root."""
    computed = register_commitment(rows)
    expected = (count, bytes(root))
    if computed != expected:
        raise RegisterMismatchError(expected, computed)


# --- Randomness ---------------------------------------------------------------------------------


def R(seed: bytes, label: str) -> int:  # noqa: N802 -- the name docs/architecture.md §6 gives it
    """``HMAC-SHA256(key=seed, msg=UTF-8(label))`` as a big-endian unsigned integer."""
    key = _check_seed(seed)
    msg = _check_text("label", label, allow_empty=True).encode("utf-8")
    return int.from_bytes(hmac.digest(key, msg, hashlib.sha256), "big")


def _ordered(seed: bytes, rows: list[Row], domain: str) -> list[Row]:
    keyed = [(R(seed, domain + row.pseudonym), row.pseudonym, row) for row in rows]
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in keyed]


def invitation_order(seed: bytes, rows: Iterable[Row]) -> list[Row]:
    """Rows by ascending ``R(seed, "invite/" + pseudonym)``, ties by pseudonym."""
    return _ordered(_check_seed(seed), _check_rows("rows", rows), DOMAIN_INVITE)


def reserve_order(seed: bytes, reserves: Iterable[Row]) -> list[Row]:
    """Reserves by ascending ``R(seed, "reserve/" + pseudonym)``, ties by pseudonym."""
    return _ordered(_check_seed(seed), _check_rows("reserves", reserves, allow_empty=True),
                    DOMAIN_RESERVE)


# --- Invitation draw ----------------------------------------------------------------------------


def apportion(n: int, counts: Mapping[str, int]) -> dict[str, int]:
    """Largest-remainder split of ``n`` seats over strata with the given positive row counts.

    Quota ``q_s = Fraction(n * c_s, T)``; ``floor(q_s)`` each; the remaining seats go to the
    largest remainders, equal remainders to the smaller stratum value in code-point order.
    """
    n = _check_count("n", n, minimum=0)
    if not isinstance(counts, Mapping) or not counts:
        raise DrawInputError("counts must be a non-empty mapping of stratum value to row count")
    for value, count in counts.items():
        _check_text("stratum value", value, allow_empty=True)
        _check_count(f"count of stratum {value!r}", count, minimum=1)
    total = sum(counts.values())
    quotas = {value: Fraction(n * count, total) for value, count in counts.items()}
    seats = {value: quota.numerator // quota.denominator for value, quota in quotas.items()}
    left = n - sum(seats.values())
    by_remainder = sorted(quotas, key=lambda value: (-(quotas[value] - seats[value]), value))
    for value in by_remainder[:left]:
        seats[value] += 1
    return {value: seats[value] for value in sorted(seats)}


class Walk(NamedTuple):
    """What :func:`invitation_walk` found: the invitees in draw order, and every row it reached
    (looked at the household of: taken, or skipped for a household already drawn), in walk
    order.  Rows not in ``reached`` played no part in the draw beyond their stratum count."""

    invitees: list[str]
    reached: list[str]


def invitation_walk(seed: bytes, pseudonyms: Iterable[str], n: int,
                    household_of: Callable[[str], str], *, stratify_by: str | None = None,
                    stratum_of: Mapping[str, str] | None = None) -> Walk:
    """The walk of :func:`invitation_draw` over pseudonyms, asking ``household_of`` only for the
    rows it reaches (module docstring: the contract; register contract 2 in
    :mod:`g1000_proofs.register` reveals exactly those households).

    ``stratum_of`` maps every pseudonym to its value of ``stratify_by`` (both or neither).
    Whatever ``household_of`` raises for a row it cannot answer propagates: that row was reached.
    Raises :class:`StratumExhaustedError` when a stratum runs short and, unstratified,
    :class:`NotEnoughHouseholdsError` when the whole register has fewer than ``n`` households.
    """
    seed = _check_seed(seed)
    n = _check_count("n", n, minimum=1)
    if isinstance(pseudonyms, (str, bytes, Mapping)):
        raise DrawInputError("pseudonyms must be a sequence of str")
    names = [_check_text(f"pseudonyms[{i}]", p) for i, p in enumerate(pseudonyms)]
    if not names:
        raise DrawInputError("pseudonyms is empty")
    seen: set[str] = set()
    for p in names:
        if p in seen:
            raise DuplicatePseudonymError("pseudonyms", p)
        seen.add(p)
    keyed = sorted((R(seed, DOMAIN_INVITE + p), p) for p in names)
    ordered = [p for _, p in keyed]
    if (stratify_by is None) != (stratum_of is None):
        raise DrawInputError("stratify_by and stratum_of go together")
    if stratify_by is None:
        groups = [(None, ordered, n)]
    else:
        feature = _check_text("stratify_by", stratify_by)
        strata: dict[str, list[str]] = {}
        for p in ordered:
            if p not in stratum_of:
                raise DrawInputError(f"row {p!r} has no feature {feature!r}")
            strata.setdefault(_check_text(f"{feature} of {p!r}", stratum_of[p], allow_empty=True),
                              []).append(p)
        shares = apportion(n, {value: len(members) for value, members in strata.items()})
        groups = [(value, strata[value], shares[value]) for value in sorted(strata)]
    drawn_households: set[str] = set()
    taken: list[str] = []
    reached: list[str] = []
    for value, members, share in groups:
        got = 0
        for p in members:
            if got == share:
                break
            reached.append(p)
            household = household_of(p)
            if household in drawn_households:
                continue
            drawn_households.add(household)
            taken.append(p)
            got += 1
        if got < share:
            if value is None:
                raise NotEnoughHouseholdsError(n, len(drawn_households))
            raise StratumExhaustedError(stratify_by, value, share, got)
    return Walk(taken, reached)


def invitation_draw(seed: bytes, rows: Iterable[Row], n: int, *,
                    stratify_by: str | None = None) -> list[str]:
    """Pseudonyms of the ``n`` invitees in draw order (module docstring: the contract).

    Raises :class:`NotEnoughHouseholdsError` when ``n`` exceeds the number of households,
    :class:`StratumExhaustedError` when a stratum runs short, :class:`DrawInputError` for
    malformed input (empty register, duplicate pseudonym, row without the stratum feature).
    The walk itself is :func:`invitation_walk`, the one home of the rule.
    """
    seed = _check_seed(seed)
    checked = _check_rows("rows", rows)
    n = _check_count("n", n, minimum=1)
    households = len({row.household for row in checked})
    if n > households:
        raise NotEnoughHouseholdsError(n, households)
    by_name = {row.pseudonym: row for row in checked}
    stratum_of = None
    if stratify_by is not None:
        feature = _check_text("stratify_by", stratify_by)
        stratum_of = {}
        for row in checked:
            if feature not in row.features:
                raise DrawInputError(f"row {row.pseudonym!r} has no feature {feature!r}")
            stratum_of[row.pseudonym] = row.features[feature]
    return invitation_walk(seed, list(by_name), n, lambda p: by_name[p].household,
                           stratify_by=stratify_by, stratum_of=stratum_of).invitees


# --- Panel draw ---------------------------------------------------------------------------------


def panel_draw(seed: bytes, draw_id: str, weights: Sequence[int]) -> int:
    """Index ``i`` of the drawn panel: first ``i`` with ``w_0+...+w_i > R("panel/"+id) mod W``."""
    seed = _check_seed(seed)
    draw_id = _check_text("draw_id", draw_id)
    if isinstance(weights, (str, bytes, Mapping)):
        raise DrawInputError("weights must be a sequence of positive integers")
    weights = [_check_count(f"weights[{i}]", w, minimum=1) for i, w in enumerate(weights)]
    if not weights:
        raise DrawInputError("weights is empty")
    prefix = list(itertools.accumulate(weights))
    u = R(seed, DOMAIN_PANEL + draw_id) % prefix[-1]
    return bisect.bisect_right(prefix, u)


# --- Quotas, households and replacement ---------------------------------------------------------


def _check_quotas_spec(quotas: object) -> dict[str, dict[str, tuple[int, int]]]:
    if not isinstance(quotas, Mapping):
        raise QuotaSpecError("quotas must be a mapping {feature: {value: (min, max)}}")
    spec: dict[str, dict[str, tuple[int, int]]] = {}
    for feature, table in quotas.items():
        if not isinstance(feature, str) or not feature:
            raise QuotaSpecError(f"quota feature {feature!r} must be a non-empty str")
        if not isinstance(table, Mapping) or not table:
            raise QuotaSpecError(f"quotas[{feature!r}] must be a non-empty mapping")
        spec[feature] = {}
        for value, bounds in table.items():
            if not isinstance(value, str):
                raise QuotaSpecError(f"quota value {value!r} of {feature!r} must be a str")
            if not isinstance(bounds, (tuple, list)) or len(bounds) != 2 or any(
                    isinstance(b, bool) or not isinstance(b, int) for b in bounds):
                raise QuotaSpecError(f"quotas[{feature!r}][{value!r}] must be (min, max) ints")
            low, high = bounds
            if not 0 <= low <= high:
                raise QuotaSpecError(f"quotas[{feature!r}][{value!r}] = {bounds!r} "
                                     "needs 0 <= min <= max")
            spec[feature][value] = (int(low), int(high))
    return spec


_MISSING = object()  # tally key of members who lack a quota feature


def _tally(panel: Iterable[Row], spec: Mapping[str, Mapping[str, object]]) -> dict:
    counts: dict[str, dict[object, int]] = {feature: {} for feature in spec}
    for row in panel:
        _add(counts, row, spec)
    return counts


def _add(counts: dict, row: Row, spec: Mapping[str, Mapping[str, object]]) -> None:
    for feature in spec:
        value = row.features.get(feature, _MISSING)
        counts[feature][value] = counts[feature].get(value, 0) + 1


def _violations(counts: dict, spec: Mapping[str, Mapping[str, tuple[int, int]]]) -> list[str]:
    found: list[str] = []
    for feature in sorted(spec):
        table, tally = spec[feature], counts[feature]
        if tally.get(_MISSING):
            found.append(f"{feature}: {tally[_MISSING]} members have no value")
        for value in sorted(v for v in tally if v is not _MISSING and v not in table):
            found.append(f"{feature}={value}: {tally[value]} members, value has no quota")
        for value in sorted(table):
            low, high = table[value]
            have = tally.get(value, 0)
            if have < low:
                found.append(f"{feature}={value}: {have} members, below min {low}")
            elif have > high:
                found.append(f"{feature}={value}: {have} members, above max {high}")
    return found


def check_quotas(panel: Iterable[Row], quotas: Mapping) -> list[str]:
    """Quota violations of ``panel``, one plain sentence each; ``[]`` when every quota holds.

    Order: features ascending, then "members have no value", "value has no quota" (values
    ascending), bounds (values ascending).  Raises :class:`QuotaSpecError` for a bad table.
    """
    spec = _check_quotas_spec(quotas)
    members = _check_rows("panel", panel, allow_empty=True)
    return _violations(_tally(members, spec), spec)


def check_households(panel: Iterable[Row]) -> list[str]:
    """One sentence per household with more than one member on ``panel``; ``[]`` when fine."""
    return _household_violations(_check_rows("panel", panel, allow_empty=True))


def _household_violations(members: Iterable[Row]) -> list[str]:
    by_household: dict[str, list[str]] = {}
    for row in members:
        by_household.setdefault(row.household, []).append(row.pseudonym)
    return [f"household {household}: {len(names)} members ({', '.join(sorted(names))})"
            for household, names in sorted(by_household.items()) if len(names) > 1]


class PanelChecker:
    """:func:`check_quotas` and :func:`check_households` for many panels of one pool.

    A distribution holds hundreds of panels of up to ~1,000 members each; checking them one call
    at a time validates every row again for every panel it sits on.  Here the pool's rows and the
    quota table are validated once; :meth:`quotas` and :meth:`households` then take a panel as
    pseudonyms of pool members and give exactly what the two functions give for its rows
    (same sentences, same order).  Raises :class:`DrawInputError` for a bad pool (including a
    pseudonym twice), :class:`QuotaSpecError` for a bad table, ``KeyError`` for a name that is
    not in the pool (callers check membership first, to say so in their own words).
    """

    def __init__(self, pool: Iterable[Row], quotas: Mapping) -> None:
        self.spec = _check_quotas_spec(quotas)
        self.rows = {row.pseudonym: row for row in _check_rows("pool", pool, allow_empty=True)}

    def __contains__(self, pseudonym: object) -> bool:
        return pseudonym in self.rows

    def quotas(self, panel: Iterable[str]) -> list[str]:
        return _violations(_tally((self.rows[name] for name in panel), self.spec), self.spec)

    def households(self, panel: Iterable[str]) -> list[str]:
        return _household_violations(self.rows[name] for name in panel)


def next_reserve(seed: bytes, reserves: Iterable[Row], panel: Iterable[Row], quotas: Mapping,
                 dropped: Row) -> Row | None:
    """First eligible reserve in ``R("reserve/" + pseudonym)`` order, or ``None``.

    Eligible: not on ``panel``, and ``panel - {dropped} + {reserve}`` has no quota violation
    and no household twice.  ``dropped`` must be on ``panel`` (same row).  Equivalent to, and
    faster than, calling :func:`check_quotas` and :func:`check_households` per candidate.
    """
    seed = _check_seed(seed)
    spec = _check_quotas_spec(quotas)
    members = _check_rows("panel", panel)
    dropped = _check_row("dropped", dropped)
    ordered = _ordered(seed, _check_rows("reserves", reserves, allow_empty=True), DOMAIN_RESERVE)
    if dropped not in members:
        raise DrawInputError(f"dropped member {dropped.pseudonym!r} is not on the panel as given")
    remaining = [row for row in members if row.pseudonym != dropped.pseudonym]
    on_panel = {row.pseudonym for row in members}
    households = {row.household for row in remaining}
    if len(households) < len(remaining):
        return None  # a household twice already; no single replacement can fix that
    base = _tally(remaining, spec)
    for candidate in ordered:
        if candidate.pseudonym in on_panel or candidate.household in households:
            continue
        counts = {feature: dict(tally) for feature, tally in base.items()}
        _add(counts, candidate, spec)
        if not _violations(counts, spec):
            return candidate
    return None
