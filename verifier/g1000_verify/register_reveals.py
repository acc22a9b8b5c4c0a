"""``g1000-verify draw`` for register contract 2: committed rows, reveals, the draw from them.

Why this module exists: under register contract 2 (:mod:`g1000_proofs.register`,
docs/lottery.md) the log holds each register row as a pseudonym and salted commitments, and the
lottery reveals, before the invitation draw, exactly what re-deriving that draw needs.  The
verifier must then check three things from the log alone: that every reveal opens the commitment
the register root fixed before the seed existed; that the walk of the draw, run with the
revealed values, reaches no row whose household is unrevealed (there is no placeholder); and
that nothing beyond what the walk needs was revealed (the privacy promise of contract 2).
:mod:`g1000_verify.draw_checks` calls these functions at the entries where each fact becomes
decidable; every problem is a :class:`RevealProblem` whose message is the failure's reason.
Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from g1000_proofs.draw import DrawError
from g1000_proofs.register import (
    CommittedRow,
    UnrevealedRowError,
    check_feature_opening,
    check_household_opening,
    committed_row_from_json,
    reached_rows,
)
from .errors import RevealProblem

__all__ = ["REVEALED", "RevealProblem", "Reveals", "check_shape", "committed_row",
           "has_shape", "rederive"]

REVEALED = "lottery.register.revealed"
MAX_ITEMS = 500
_SALT = re.compile(r"[0-9a-f]{32}")

# (type, payload version) -> members besides "v"; docs/lottery.md "Register contract 2".
SHAPES: dict[tuple[str, int], frozenset[str]] = {
    ("lottery.register.chunk", 2): frozenset({"register_id", "chunk", "rows"}),
    ("lottery.register.committed", 2): frozenset(
        {"register_id", "count", "root", "chunks", "features", "contract"}),
    (REVEALED, 1): frozenset(
        {"register_id", "draw_id", "chunk", "field", "feature", "openings"}),
}


def has_shape(event_type: str, payload: Any) -> bool:
    """Whether this module, not the contract-1 table, checks the payload's shape."""
    return type(payload) is dict and (event_type, payload.get("v")) in SHAPES


def _text(value: Any, what: str) -> str:
    if type(value) is not str or not value:
        raise RevealProblem(f"{what} must be a non-empty string")
    return value


def _int(value: Any, what: str, minimum: int) -> int:
    if type(value) is not int or value < minimum:
        raise RevealProblem(f"{what} must be an integer of at least {minimum}")
    return value


def check_shape(event_type: str, payload: dict) -> None:
    """The members and their types; the facts between events are checked by the replay."""
    members = SHAPES[(event_type, payload["v"])]
    if payload.keys() != {"v", *members}:
        raise RevealProblem(f"a {event_type} v{payload['v']} payload has exactly the members "
                            f"{', '.join(['v', *sorted(members)])}")
    _text(payload["register_id"], "register_id")
    if event_type == "lottery.register.committed":
        if payload["contract"] != 2 or type(payload["contract"]) is not int:
            raise RevealProblem("a v2 register commitment says contract 2")
        return  # the other members are checked as in contract 1, by the caller's table
    _int(payload["chunk"], "chunk", 0)
    items = payload["rows" if event_type == "lottery.register.chunk" else "openings"]
    if type(items) is not list or not 1 <= len(items) <= MAX_ITEMS:
        raise RevealProblem(f"a chunk holds 1 to {MAX_ITEMS} items")
    if event_type == REVEALED:
        _text(payload["draw_id"], "draw_id")
        if payload["field"] not in ("household", "feature"):
            raise RevealProblem("field must be household or feature")
        if (payload["field"] == "feature") != (payload["feature"] is not None):
            raise RevealProblem("feature names the revealed feature exactly when field is feature")
        if payload["feature"] is not None:
            _text(payload["feature"], "feature")
        for i, item in enumerate(items):
            if type(item) is not dict or item.keys() != {"pseudonym", "value", "salt"}:
                raise RevealProblem(f"openings[{i}] has exactly pseudonym, value and salt")
            _text(item["pseudonym"], f"openings[{i}].pseudonym")
            if type(item["value"]) is not str:
                raise RevealProblem(f"openings[{i}].value must be a string")
            if type(item["salt"]) is not str or not _SALT.fullmatch(item["salt"]):
                raise RevealProblem(f"openings[{i}].salt must be 32 lowercase hex digits")


def committed_row(value: Any, what: str) -> CommittedRow:
    try:
        return committed_row_from_json(value)
    except DrawError as exc:
        raise RevealProblem(f"{what} is not a committed row: {exc}") from None


@dataclass
class Reveals:
    """The reveals logged for the summit's invitation draw, each checked against its row."""

    draw_id: str | None = None
    chunks: int = 0
    households: dict[str, str] = field(default_factory=dict)
    features: dict[str, dict[str, str]] = field(default_factory=dict)   # name -> pseudonym -> v
    salts: set[str] = field(default_factory=set)          # every salt revealed so far
    last: dict[str, str] = field(default_factory=dict)    # "household" | feature -> last pseudonym

    @property
    def count(self) -> int:
        return len(self.households) + sum(len(v) for v in self.features.values())

    def add(self, p: dict, rows: dict[str, CommittedRow]) -> None:
        """One ``lottery.register.revealed`` chunk; raises on the first wrong opening.

        Besides opening its commitment, each opening must come in strictly ascending pseudonym
        order within its field, across all chunks (docs/lottery.md: "sorted by pseudonym"), so
        the order of a chunk carries nothing the lottery chose: a stratum chunk ordered by
        household would publish every unreached row's household grouping.  And every revealed
        salt must be new: the contract draws one fresh salt per commitment, and a salt used
        twice betrays a generator that may have used it for commitments that stay hidden too,
        which anyone could then open by trying the small vocabulary of values.
        """
        if self.draw_id is not None and p["draw_id"] != self.draw_id:
            raise RevealProblem(f"reveals for invitation draw {p['draw_id']}, but earlier reveals "
                                f"are for draw {self.draw_id}; a summit has one invitation draw")
        if p["chunk"] != self.chunks:
            raise RevealProblem(f"reveal chunk {p['chunk']} out of order (expected chunk "
                                f"{self.chunks}" + (": a chunk is missing)" if p["chunk"] >
                                                    self.chunks else ")"))
        field_name, feature = p["field"], p["feature"]
        seen = self.households if field_name == "household" else \
            self.features.setdefault(feature, {})
        what = "household" if field_name == "household" else f"feature {feature!r}"
        key = "household" if field_name == "household" else feature
        for item in p["openings"]:
            name = item["pseudonym"]
            row = rows.get(name)
            if row is None:
                raise RevealProblem(f"a reveal names {name!r}, which is not a register row")
            if name in seen:
                raise RevealProblem(f"the {what} of {name!r} is revealed a second time")
            salt = bytes.fromhex(item["salt"])
            try:
                if field_name == "household":
                    check_household_opening(row, item["value"], salt)
                else:
                    check_feature_opening(row, feature, item["value"], salt)
            except DrawError as exc:
                raise RevealProblem(str(exc)) from None
            if key in self.last and name < self.last[key]:
                raise RevealProblem(f"the openings of the {what} are not in ascending pseudonym "
                                    f"order: {name!r} follows {self.last[key]!r}")
            if item["salt"] in self.salts:
                raise RevealProblem(f"the salt revealed for the {what} of {name!r} was revealed "
                                    "before: every commitment has its own fresh salt")
            seen[name] = item["value"]
            self.salts.add(item["salt"])
            self.last[key] = name
        self.draw_id = p["draw_id"]
        self.chunks += 1


def rederive(seed: bytes, pseudonyms: list[str], reveals: Reveals, p: dict) -> list[str]:
    """The invitees of draw ``p`` re-derived from the reveals, after checking their scope.

    Stratified by ``f``: every row's ``f`` must be revealed, and no other feature.  The walk
    must reach only rows whose household is revealed, and every revealed household must be of
    a row the walk reached.
    """
    if reveals.draw_id is not None and reveals.draw_id != p["draw_id"]:
        raise RevealProblem(f"the reveals are for invitation draw {reveals.draw_id}, this draw is "
                            f"{p['draw_id']}")
    stratify_by = p["stratify_by"]
    extra = sorted(set(reveals.features) - ({stratify_by} if stratify_by else set()))
    if extra:
        raise RevealProblem(f"feature {extra[0]!r} is revealed, but the draw is "
                            + (f"stratified by {stratify_by!r}" if stratify_by else
                               "not stratified") + ": more than the draw needs is published")
    strata = None
    if stratify_by is not None:
        strata = reveals.features.get(stratify_by, {})
        missing = next((name for name in pseudonyms if name not in strata), None)
        if missing is not None:
            raise RevealProblem(f"the draw is stratified by {stratify_by!r}, but the value of row "
                                f"{missing!r} is not revealed: the stratum counts cannot be "
                                "re-derived")
    try:
        walk = reached_rows(seed, pseudonyms, p["n"], reveals.households,
                            stratify_by=stratify_by, strata=strata)
    except UnrevealedRowError as exc:
        raise RevealProblem(str(exc)) from None
    except DrawError as exc:
        raise RevealProblem(f"the invitation draw cannot be made from the register: {exc}") \
            from None
    beyond = sorted(set(reveals.households) - set(walk.reached))
    if beyond:
        raise RevealProblem(f"the household of row {beyond[0]!r} is revealed, but the draw does "
                            f"not reach it ({len(beyond)} such rows): more than the draw needs "
                            "is published")
    return walk.invitees
