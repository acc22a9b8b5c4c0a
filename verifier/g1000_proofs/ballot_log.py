"""A summit's ballot events folded into each ballot's state, and the first rule they break.

Why this module exists: the ballot service appends these events and ``g1000-verify tally`` reads
them back from the log; the rules that tie the events of one ballot together (docs/ballot.md,
"Rules") must be the same for both, so they are written once, here, on top of the single rules of
:mod:`g1000_proofs.ballot` (roll, credential, nullifier, window; RFC 9474 credentials),
:mod:`g1000_proofs.sealing` (HPKE, RFC 9180), :mod:`g1000_proofs.ballot_count` and
:mod:`g1000_proofs.tally` (the count).

- the count's spec and the recount are :mod:`g1000_proofs.ballot_count`'s (``spec_of``,
  ``recount``: every sealed vote opened with the revealed key in log order and counted, one that
  does not open spoiled with its reason); here the published tally is compared with it.
- :class:`SummitBallots` with :func:`apply` folds the ``ballot`` stream of one summit, event by
  event, in log order, and raises :class:`BallotLogError` at the first rule broken;
  :func:`first_broken` runs it over a sequence and returns the state and that error.

Payloads are taken as docs/ballot.md writes them (JSON objects, hex and base64 as text); their
*shape* (members, types, formats) is the caller's schema's business (the service's marshmallow
schemas, the verifier's own shape check): here only the rules between values and events are
checked, and a value that cannot be decoded is reported under the rule it belongs to.

:func:`apply` mutates the state it is given (a ballot may hold many thousands of casts; copying
its sets per event would be quadratic). Pure otherwise: no I/O, no clock, no randomness.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from . import ballot, ballot_count, jcs, sealing
from .errors import BallotLogError, BallotRuleError, SealingError, TallyError
from .tally import BallotSpec

__all__ = ["ARRIVED", "BALLOT_TYPES", "CAST", "CLOSED", "CREATED", "ISSUED", "OPENED", "PUBLISHED",
           "REVEALED", "RULES", "STATES", "BallotLogError", "BallotState", "SummitBallots", "apply",
           "first_broken"]

ARRIVED = "ballot.participant.arrived"
CREATED = "ballot.ballot.created"
OPENED = "ballot.ballot.opened"
ISSUED = "ballot.credential.issued"
CAST = "ballot.vote.cast"
CLOSED = "ballot.ballot.closed"
REVEALED = "ballot.key.revealed"
PUBLISHED = "ballot.tally.published"
BALLOT_TYPES = (ARRIVED, CREATED, OPENED, ISSUED, CAST, CLOSED, REVEALED, PUBLISHED)

# Every rule a BallotLogError can name.
RULES = (
    "arrival",         # a participant arrives twice
    "ballot",          # a created ballot's method, options, times or sealing are not usable
    "ballot_order",    # created/opened/closed/revealed/published out of order, twice, or too early
    "roll",            # the opened roll is not the commitment of the arrivals before it
    "credential_key",  # the opened credential key is not RSA >= 2048 bits in base64 DER SPKI
    "issuance",        # a credential issued to someone not on the roll, twice, or outside the opening
    "credential",      # a cast's credential does not verify under the ballot's key
    "sealed",          # a cast's sealed vote is not base64 (a shape the schemas refuse first)
    "nullifier",       # a cast's nullifier is not its credential's, or is used a second time
    "counts",          # more casts than credentials issued
    "window",          # a cast's time outside [opened, closes_at) (an early closing ends it sooner)
    "closing",         # a closing whose time disagrees with its "early" flag
    "revealed_key",    # the revealed key is not the private half of the sealing key
    "tally",           # the published count or result differs from the recount
)

STATES = ("created", "open", "closed", "revealed", "tallied")


@dataclass
class BallotState:
    """One ballot as its events so far make it (positions are the caller's: log indexes)."""

    ballot_id: str
    created_at: int
    spec: BallotSpec
    opens_at: str
    closes_at: str
    sealing_key: str
    opened_at: int | None = None
    opened_time: str | None = None
    roll: frozenset[str] = frozenset()
    key: rsa.RSAPublicKey | None = None
    issued: dict[str, int] = field(default_factory=dict)       # pseudonym -> position
    nullifiers: dict[str, int] = field(default_factory=dict)   # nullifier -> position
    casts: list[tuple[int, str, bytes]] = field(default_factory=list)  # (position, time, sealed)
    closed_at: int | None = None
    ends: str | None = None                  # the effective end of the window, once closed
    early: bool = False
    revealed_at: int | None = None
    private_key: str | None = None
    tallied_at: int | None = None
    result: dict[str, Any] | None = None

    @property
    def state(self) -> str:
        """``created``, ``open``, ``closed``, ``revealed`` or ``tallied`` (docs/ballot.md, API)."""
        if self.tallied_at is not None:
            return "tallied"
        if self.revealed_at is not None:
            return "revealed"
        if self.closed_at is not None:
            return "closed"
        return "open" if self.opened_at is not None else "created"


@dataclass
class SummitBallots:
    """The ballot stream of one summit: who arrived (in log order) and every ballot."""

    summit_id: str
    arrivals: dict[str, int] = field(default_factory=dict)    # pseudonym -> position
    ballots: dict[str, BallotState] = field(default_factory=dict)


def _ballot(summit: SummitBallots, payload: dict, event_type: str) -> BallotState:
    found = summit.ballots.get(payload["ballot_id"])
    if found is None:
        raise BallotLogError("ballot_order", f"{event_type} for ballot {payload['ballot_id']}, "
                             "which no earlier ballot.ballot.created creates")
    return found


def _on_arrived(summit: SummitBallots, position: int, payload: dict, at: str) -> None:
    pseudonym = payload["pseudonym"]
    if pseudonym in summit.arrivals:
        raise BallotLogError("arrival", f"participant {pseudonym} arrives a second time (first at "
                             f"{summit.arrivals[pseudonym]})")
    summit.arrivals[pseudonym] = position


def _on_created(summit: SummitBallots, position: int, payload: dict, at: str) -> None:
    ballot_id = payload["ballot_id"]
    if ballot_id in summit.ballots:
        raise BallotLogError("ballot_order", f"ballot {ballot_id} is created a second time (first "
                             f"at {summit.ballots[ballot_id].created_at})")
    ids = [o["option_id"] for o in payload["options"]]
    try:
        spec = ballot_count.spec_of(payload["method"], ids)
    except TallyError as exc:
        raise BallotLogError("ballot", f"ballot {ballot_id} cannot be counted: {exc}") from None
    if ids != sorted(ids):
        raise BallotLogError("ballot", f"the options of ballot {ballot_id} are not sorted by id")
    if not payload["opens_at"] < payload["closes_at"]:
        raise BallotLogError("ballot", f"ballot {ballot_id} opens at {payload['opens_at']}, not "
                             f"before it closes at {payload['closes_at']}")
    seal = payload["sealing"]
    if not 1 <= seal["k"] <= seal["n"] or len(seal["share_hashes"]) != seal["n"] \
            or len(set(seal["share_hashes"])) != seal["n"]:
        raise BallotLogError("ballot", f"the sealing of ballot {ballot_id} needs 1 <= k <= n and "
                             "n distinct share hashes")
    summit.ballots[ballot_id] = BallotState(ballot_id, position, spec, payload["opens_at"],
                                            payload["closes_at"], seal["public_key"])


def _on_opened(summit: SummitBallots, position: int, payload: dict, at: str) -> None:
    b = _ballot(summit, payload, OPENED)
    if b.opened_at is not None:
        raise BallotLogError("ballot_order", f"ballot {b.ballot_id} is opened a second time "
                             f"(first at {b.opened_at})")
    if at < b.opens_at:
        raise BallotLogError("ballot_order", f"ballot {b.ballot_id} is opened at {at}, before "
                             f"its opens_at {b.opens_at}")
    try:
        count, root, roll = ballot.roll_commitment(summit.arrivals)
    except BallotRuleError as exc:
        raise BallotLogError("roll", f"ballot {b.ballot_id} is opened with no roll: {exc}") from None
    logged = payload["roll"]
    if (logged["count"], logged["root"]) != (count, root):
        raise BallotLogError("roll", f"the roll of ballot {b.ballot_id} is not the arrivals before "
                             f"its opening: they give count {count}, root {root}; the log records "
                             f"count {logged['count']}, root {logged['root']}")
    try:
        b.key = ballot.credential_key(payload["credential_key"])
    except BallotRuleError as exc:
        raise BallotLogError("credential_key", f"ballot {b.ballot_id}: {exc}") from None
    b.opened_at, b.opened_time, b.roll = position, at, frozenset(roll)


def _open(b: BallotState, what: str, rule: str) -> None:
    if b.opened_at is None:
        raise BallotLogError(rule, f"{what} for ballot {b.ballot_id} before it is opened")
    if b.closed_at is not None:
        raise BallotLogError(rule, f"{what} for ballot {b.ballot_id} after it was closed (at "
                             f"{b.closed_at})")


def _on_issued(summit: SummitBallots, position: int, payload: dict, at: str) -> None:
    b = _ballot(summit, payload, ISSUED)
    _open(b, "a credential issued", "issuance")
    pseudonym = payload["pseudonym"]
    if pseudonym not in b.roll:
        raise BallotLogError("issuance", f"a credential for ballot {b.ballot_id} is issued to "
                             f"{pseudonym}, who is not on its roll")
    if pseudonym in b.issued:
        raise BallotLogError("issuance", f"a second credential for ballot {b.ballot_id} is issued "
                             f"to {pseudonym} (first at {b.issued[pseudonym]})")
    b.issued[pseudonym] = position


def _sealed(payload: dict) -> bytes:
    try:
        return base64.b64decode(payload["sealed"], validate=True)
    except (ValueError, TypeError, binascii.Error):
        raise BallotLogError("sealed", "the sealed vote is not base64") from None


def _credential(payload: dict) -> ballot.Credential:
    c = payload["credential"]
    try:
        return ballot.Credential(bytes.fromhex(c["token"]), bytes.fromhex(c["prefix"]),
                                 base64.b64decode(c["signature"], validate=True))
    except (ValueError, TypeError, binascii.Error):
        raise BallotLogError("credential", "the credential is not hex token and prefix and a "
                             "base64 signature") from None


def _window(b: BallotState, at: str, end: str | None) -> bool:
    try:
        return ballot.in_window(at, b.opened_time, b.closes_at, end)
    except BallotRuleError:
        return False


def _on_cast(summit: SummitBallots, position: int, payload: dict, at: str) -> None:
    b = _ballot(summit, payload, CAST)
    _open(b, "a vote cast", "ballot_order")
    credential = _credential(payload)
    try:
        computed = ballot.check_credential(b.key, credential)
    except BallotRuleError as exc:
        raise BallotLogError("credential", f"a vote for ballot {b.ballot_id}: {exc}") from None
    if payload["nullifier"] != computed:
        raise BallotLogError("nullifier", f"the nullifier {payload['nullifier']} is not the "
                             f"credential's ({computed})")
    if computed in b.nullifiers:
        raise BallotLogError("nullifier", f"nullifier {computed} votes a second time in ballot "
                             f"{b.ballot_id} (first at {b.nullifiers[computed]})")
    if len(b.casts) + 1 > len(b.issued):
        raise BallotLogError("counts", f"ballot {b.ballot_id} has more votes cast "
                             f"({len(b.casts) + 1}) than credentials issued ({len(b.issued)})")
    if not _window(b, at, None):
        raise BallotLogError("window", f"a vote for ballot {b.ballot_id} is cast at {at}, outside "
                             f"its window [{b.opened_time}, {b.closes_at})")
    b.nullifiers[computed] = position
    b.casts.append((position, at, _sealed(payload)))


def _on_closed(summit: SummitBallots, position: int, payload: dict, at: str) -> None:
    b = _ballot(summit, payload, CLOSED)
    _open(b, "a closing", "ballot_order")
    closed, early = payload["closed_at"], payload["early"]
    if early and not closed < b.closes_at or not early and closed < b.closes_at:
        state = "early" if early else "not early"
        raise BallotLogError("closing", f"ballot {b.ballot_id} is closed {state} at {closed}, its "
                             f"planned closing is {b.closes_at}")
    if closed < b.opened_time:
        raise BallotLogError("closing", f"ballot {b.ballot_id} is closed at {closed}, before it "
                             f"was opened ({b.opened_time})")
    for cast_at, cast_time, _ in b.casts:
        if not _window(b, cast_time, closed if early else None):
            raise BallotLogError("window", f"a vote for ballot {b.ballot_id} is cast at "
                                 f"{cast_time}, at or after its early closing at {closed}", cast_at)
    b.closed_at, b.early = position, early
    b.ends = closed if early else b.closes_at


def _on_revealed(summit: SummitBallots, position: int, payload: dict, at: str) -> None:
    b = _ballot(summit, payload, REVEALED)
    if b.closed_at is None:
        raise BallotLogError("ballot_order", f"the key of ballot {b.ballot_id} is revealed before "
                             "the ballot is closed")
    if b.revealed_at is not None:
        raise BallotLogError("ballot_order", f"the key of ballot {b.ballot_id} is revealed a second "
                             f"time (first at {b.revealed_at})")
    try:
        sealing.check_revealed_key(payload["private_key"], b.sealing_key)
    except SealingError as exc:
        raise BallotLogError("revealed_key", f"ballot {b.ballot_id}: {exc}") from None
    b.revealed_at, b.private_key = position, payload["private_key"]


def _difference(published: Any, recounted: dict[str, Any]) -> str:
    if not isinstance(published, dict):
        return "the published result is not an object"
    for name in sorted(set(published) | set(recounted)):
        if name not in recounted:
            return f"the published result has a member {name!r} that a count has not"
        if name not in published:
            return f"the published result lacks {name!r}"
        if jcs.dumps(published[name]) != jcs.dumps(recounted[name]):
            shown = jcs.dumps(recounted[name]).decode()
            return (f"its {name!r} differs: the log records "
                    f"{jcs.dumps(published[name]).decode()[:200]}, the recount gives {shown[:200]}")
    return "it differs from the recount"


def _canonical(value: Any) -> bytes | None:
    try:
        return jcs.dumps(value)
    except jcs.CanonicalJSONError:
        return None


def _on_published(summit: SummitBallots, position: int, payload: dict, at: str) -> None:
    b = _ballot(summit, payload, PUBLISHED)
    if b.revealed_at is None:
        raise BallotLogError("ballot_order", f"a tally of ballot {b.ballot_id} is published before "
                             "its key is revealed")
    if b.tallied_at is not None:
        raise BallotLogError("ballot_order", f"a tally of ballot {b.ballot_id} is published a "
                             f"second time (first at {b.tallied_at})")
    counted, recounted = ballot_count.recount(b.spec, [sealed for _, _, sealed in b.casts],
                                              b.private_key, summit.summit_id, b.ballot_id)
    if payload["counted"] != counted:
        raise BallotLogError("tally", f"the tally of ballot {b.ballot_id} says {payload['counted']} "
                             f"votes were opened; the log holds {counted} casts")
    if _canonical(payload["result"]) != jcs.dumps(recounted):
        raise BallotLogError("tally", f"the published result of ballot {b.ballot_id} is not its "
                             f"recount: {_difference(payload['result'], recounted)}")
    b.tallied_at, b.result = position, recounted


_HANDLERS = {ARRIVED: _on_arrived, CREATED: _on_created, OPENED: _on_opened, ISSUED: _on_issued,
             CAST: _on_cast, CLOSED: _on_closed, REVEALED: _on_revealed, PUBLISHED: _on_published}


def apply(summit: SummitBallots, position: int, event_type: str, payload: dict,
          occurred_at: str) -> None:
    """Fold one ballot event (of a well-shaped payload) into ``summit``; raise
    :class:`BallotLogError` if it breaks a rule. Events of other types are ignored."""
    handler = _HANDLERS.get(event_type)
    if handler is not None:
        handler(summit, position, payload, occurred_at)


def first_broken(summit_id: str, events: Iterable[tuple[int, str, dict, str]]
                 ) -> tuple[SummitBallots, tuple[int, BallotLogError] | None]:
    """Fold ``(position, type, payload, occurred_at)`` in order; return the state and the first
    broken rule as ``(position, error)`` (the error's own position when it names an earlier
    event), or None when every rule holds so far."""
    summit = SummitBallots(summit_id)
    for position, event_type, payload, occurred_at in events:
        try:
            apply(summit, position, event_type, payload, occurred_at)
        except BallotLogError as exc:
            return summit, (position if exc.position is None else exc.position, exc)
    return summit, None
