"""``g1000-verify tally``: check every ballot of a summit, and recount it, from the log alone.

Why this module exists: docs/ballot.md promises that a ballot's result can be recounted by anyone
from the log, and that the rules the ballot service enforces (who may vote, one credential each,
one vote per credential, only within the window, the key that opens the votes) can be checked
again by anyone.  This module replays the ``ballot`` stream of a log -- already verified by the
log checks (signatures, ``seq``, chain, checkpoints) -- in index order: it checks each payload's
shape (docs/ballot.md, "Events") here, and applies the rules between events with the one fold the
service uses too, :mod:`g1000_proofs.ballot_log` (on :mod:`g1000_proofs.ballot`,
:mod:`g1000_proofs.sealing` and :mod:`g1000_proofs.tally`); this module only words its findings
as failures:

* created, then opened (from ``opens_at``), with the roll (count and root) equal to the
  commitment of the arrivals before the opening and a usable credential key;
* every issuance names a pseudonym on the roll, at most once; casts <= issued <= roll;
* every cast: after the opening and before the closing, its credential verifies under the
  ballot's key, its nullifier is the credential's and is not used twice, its time lies in
  ``[opened, closes_at)`` with an early closing ending the window sooner;
* the revealed key is the private half of the sealing key, and the published result is exactly
  the recount (every vote opened with it, in log order, and counted; spoiled ones with reasons).

:func:`verify_tally` is pure: a function of the summit id and the ``(index, event)`` pairs, no
I/O.  The first fact found wrong stops it, as a :class:`~g1000_verify.model.VerificationFailure`
naming the entry index (an earlier cast's, when an early closing puts it outside the window) and
a plain reason.  With ``ballot_id`` only that ballot is checked (arrivals are still read: they are
its roll).  A ballot that is not tallied yet is a note, not a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from g1000_proofs import ballot_log
from g1000_proofs.errors import BallotLogError
from g1000_proofs.note_keys import strict_b64decode
from g1000_proofs.sealing import MAX_SEALED

from .model import VerificationFailure

__all__ = ["BALLOT_STREAM", "TALLY_CHECK_NAMES", "TallyVerification", "run_tally", "verify_tally"]

BALLOT_STREAM = "ballot"

# Every check name a tally failure can carry: the payload shape, then the fold's rules.
TALLY_CHECK_NAMES = ("ballot_event", *ballot_log.RULES)

HEX64 = re.compile(r"[0-9a-f]{64}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
OPTION_ID = re.compile(r"[a-z0-9_-]{1,40}")
PSEUDONYM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")   # as the lottery's (docs/lottery.md)
LANGUAGES = ("nl", "en", "fr")
MAX_SHARES = 255

COUNT_NAMES = ("ballot_events", "arrivals", "ballots", "opened", "issued", "casts", "closed",
               "revealed", "tallied")


@dataclass
class TallyVerification:
    """What the tally step found: counts, one summary per ballot, warnings, notes, the failure."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_NAMES, 0))
    ballots: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failure: VerificationFailure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def as_dict(self) -> dict[str, Any]:
        """The ``tally`` member of ``--json`` output (the failure is the report's own)."""
        return {"checked": dict(self.counts), "ballots": list(self.ballots),
                "warnings": list(self.warnings), "notes": list(self.notes)}


# --- Payload shapes (docs/ballot.md "Events") ---------------------------------------------------


class _BadPayload(Exception):
    """A payload member is malformed; the message says which and how."""


def _pattern(pattern: re.Pattern, words: str):
    def check(value: Any, what: str) -> Any:
        if type(value) is not str or not pattern.fullmatch(value):
            raise _BadPayload(f"{what} must be {words}")
        return value
    return check


_hex = _pattern(HEX64, "64 lowercase hex digits")
_uuid = _pattern(UUID, "a lowercase UUID")
_time = _pattern(TIME, "a time written YYYY-MM-DDTHH:MM:SS.mmmZ")


def _int(value: Any, what: str, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise _BadPayload(f"{what} must be an integer of at least {minimum}")
    return value


def _object(value: Any, what: str, members: tuple[str, ...]) -> dict:
    if type(value) is not dict or value.keys() != set(members):
        raise _BadPayload(f"{what} must be an object with exactly the members {', '.join(members)}")
    return value


def _base64(low: int, high: int):
    """Standard base64 with padding (RFC 4648 §4) of ``low``..``high`` bytes."""
    def check(value: Any, what: str) -> bytes:
        try:
            if type(value) is not str or not value:
                raise ValueError
            data = strict_b64decode(value)
        except ValueError:
            raise _BadPayload(f"{what} must be standard base64 with padding") from None
        if not low <= len(data) <= high:
            raise _BadPayload(f"{what} must be base64 of {low} to {high} bytes")
        return data
    return check


_pseudonym = _pattern(PSEUDONYM, "a pseudonym: 1 to 64 of A-Z, a-z, 0-9, '.', '_', ':' and '-', "
                                 "starting with a letter or digit")


def _texts(value: Any, what: str) -> None:
    """``[{language, sha256, length}]``: one entry per language, sorted, at least one."""
    if type(value) is not list or not value:
        raise _BadPayload(f"{what} must be a non-empty list of {{language, sha256, length}}")
    for i, item in enumerate(value):
        _object(item, f"{what}[{i}]", ("language", "sha256", "length"))
        if item["language"] not in LANGUAGES:
            raise _BadPayload(f"{what}[{i}].language must be one of {', '.join(LANGUAGES)}")
        _hex(item["sha256"], f"{what}[{i}].sha256")
        _int(item["length"], f"{what}[{i}].length")
    languages = [item["language"] for item in value]
    if languages != sorted(set(languages)):
        raise _BadPayload(f"{what} must be sorted by language, each language once")


def _options(value: Any, what: str) -> None:
    if type(value) is not list or not value:
        raise _BadPayload(f"{what} must be a non-empty list of {{option_id, texts}}")
    for i, item in enumerate(value):
        _object(item, f"{what}[{i}]", ("option_id", "texts"))
        _pattern(OPTION_ID, "1 to 40 of a-z, 0-9, _ and -")(item["option_id"], f"{what}[{i}].option_id")
        _texts(item["texts"], f"{what}[{i}].texts")
    ids = [item["option_id"] for item in value]
    if ids != sorted(set(ids)):
        raise _BadPayload(f"{what} must be sorted by option_id, each id once")


def _method(value: Any, what: str) -> None:
    if type(value) is not dict or type(value.get("kind")) is not str:
        raise _BadPayload(f"{what} must be an object with a kind")
    for name, item in value.items():
        if name != "kind" and type(item) is not int:
            raise _BadPayload(f"{what}.{name} must be an integer")


def _sealing(value: Any, what: str) -> None:
    _object(value, what, ("public_key", "k", "n", "share_hashes"))
    _hex(value["public_key"], f"{what}.public_key")
    _int(value["k"], f"{what}.k", 1)
    _int(value["n"], f"{what}.n", 1)
    if value["n"] > MAX_SHARES:
        raise _BadPayload(f"{what}.n must be at most {MAX_SHARES}")
    if type(value["share_hashes"]) is not list:
        raise _BadPayload(f"{what}.share_hashes must be a list")
    for i, item in enumerate(value["share_hashes"]):
        _hex(item, f"{what}.share_hashes[{i}]")


def _roll(value: Any, what: str) -> None:
    _object(value, what, ("count", "root"))
    _int(value["count"], f"{what}.count", 1)
    _hex(value["root"], f"{what}.root")


def _credential(value: Any, what: str) -> None:
    _object(value, what, ("token", "prefix", "signature"))
    _hex(value["token"], f"{what}.token")
    _hex(value["prefix"], f"{what}.prefix")
    _base64(256, 1024)(value["signature"], f"{what}.signature")


def _bool(value: Any, what: str) -> None:
    if type(value) is not bool:
        raise _BadPayload(f"{what} must be true or false")


def _result(value: Any, what: str) -> None:
    if type(value) is not dict or type(value.get("method")) is not str:
        raise _BadPayload(f"{what} must be the object g1000_proofs.tally.tally returns")


def _text(value: Any, what: str) -> None:
    if type(value) is not str or not value:
        raise _BadPayload(f"{what} must be a non-empty string")


# type -> {member: validator}; every payload also has "v": 1 and nothing else.
_SHAPES: dict[str, dict[str, Any]] = {
    ballot_log.ARRIVED: {"pseudonym": _pseudonym},
    ballot_log.CREATED: {"ballot_id": _uuid, "title": _texts, "method": _method,
                         "options": _options, "opens_at": _time, "closes_at": _time,
                         "sealing": _sealing},
    ballot_log.OPENED: {"ballot_id": _uuid, "roll": _roll, "credential_key": _text},
    ballot_log.ISSUED: {"ballot_id": _uuid, "pseudonym": _pseudonym},
    ballot_log.CAST: {"ballot_id": _uuid, "batch": _uuid, "nullifier": _hex,
                      "credential": _credential, "sealed": _base64(49, MAX_SEALED)},
    ballot_log.CLOSED: {"ballot_id": _uuid, "closed_at": _time, "early": _bool},
    ballot_log.REVEALED: {"ballot_id": _uuid, "private_key": _hex},
    ballot_log.PUBLISHED: {"ballot_id": _uuid, "counted": _int, "result": _result},
}


def _check_shape(event_type: str, payload: Any) -> None:
    shape = _SHAPES[event_type]
    if type(payload) is not dict or payload.keys() != {"v", *shape}:
        raise _BadPayload(f"a {event_type} payload has exactly the members {', '.join(['v', *shape])}")
    if type(payload["v"]) is not int or payload["v"] != 1:
        raise _BadPayload(f"unsupported {event_type} payload version {payload['v']!r}")
    for name, check in shape.items():
        check(payload[name], name)


# --- Replay --------------------------------------------------------------------------------------


def _summary(b: ballot_log.BallotState) -> dict[str, Any]:
    result = b.result or {}
    return {"ballot_id": b.ballot_id, "index": b.created_at, "method": b.spec.method,
            "options": len(b.spec.options), "state": b.state,
            "roll": len(b.roll) if b.opened_at is not None else None,
            "issued": len(b.issued), "cast": len(b.casts),
            "counted": result.get("counted"), "spoiled": result.get("spoiled"),
            "ranking": result.get("ranking")}


def _selected(payload: Any, ballot_id: str | None) -> bool:
    """Whether an event belongs to the ballot asked for (every event when none was)."""
    if ballot_id is None or type(payload) is not dict or "ballot_id" not in payload:
        return True
    return payload["ballot_id"] == ballot_id


def _fail(index: int, error: BallotLogError) -> VerificationFailure:
    where = index if error.position is None else error.position
    return VerificationFailure(where, error.rule, error.reason)


def _count(summit: ballot_log.SummitBallots, result: TallyVerification) -> None:
    c = result.counts
    c["arrivals"] = len(summit.arrivals)
    for b in summit.ballots.values():
        c["ballots"] += 1
        c["opened"] += b.opened_at is not None
        c["issued"] += len(b.issued)
        c["casts"] += len(b.casts)
        c["closed"] += b.closed_at is not None
        c["revealed"] += b.revealed_at is not None
        c["tallied"] += b.tallied_at is not None
        result.ballots.append(_summary(b))


def _finish(summit: ballot_log.SummitBallots, result: TallyVerification,
            ballot_id: str | None, ignored: dict[str, int]) -> None:
    if ballot_id is not None and ballot_id not in summit.ballots:
        raise VerificationFailure(None, "ballot_order", f"the log records no ballot {ballot_id}")
    for b in summit.ballots.values():
        if b.tallied_at is None:
            result.notes.append(f"ballot {b.ballot_id} is {b.state}, not tallied yet: its "
                                "result cannot be recounted")
    if not summit.ballots:
        result.warnings.append("the log records no ballot: there is nothing to recount")
    for event_type, count in sorted(ignored.items()):
        result.notes.append(f"{count} {event_type} events are not part of docs/ballot.md and "
                            "were not checked")


def verify_tally(summit_id: str, events: Iterable[tuple[int, dict]],
                 ballot_id: str | None = None) -> TallyVerification:
    """Replay the ballot events of a verified log; the result holds the first failure, if any.

    ``events`` are ``(entry index, event)`` pairs in index order; events of other streams are
    skipped.  ``ballot_id``: check only that ballot (and fail if the log has none of that id).
    Pure: no I/O, no clock, no randomness.
    """
    result = TallyVerification()
    summit = ballot_log.SummitBallots(summit_id)
    ignored: dict[str, int] = {}
    try:
        for index, event in events:
            if event.get("stream") != BALLOT_STREAM:
                continue
            event_type, payload = event.get("type"), event.get("payload")
            if event_type not in _SHAPES:
                ignored[event_type] = ignored.get(event_type, 0) + 1
                continue
            if not _selected(payload, ballot_id):
                continue
            try:
                _check_shape(event_type, payload)
            except _BadPayload as exc:
                raise VerificationFailure(index, "ballot_event", f"{event_type}: {exc}") from None
            result.counts["ballot_events"] += 1
            try:
                ballot_log.apply(summit, index, event_type, payload, event["occurred_at"])
            except BallotLogError as exc:
                raise _fail(index, exc) from None
        _finish(summit, result, ballot_id, ignored)
    except VerificationFailure as failure:
        result.failure = failure
    _count(summit, result)
    return result


def run_tally(model: Any, options: Any = None, ballot_id: str | None = None
              ) -> tuple[Any, TallyVerification | None]:
    """The log checks (``checks.STEPS``), then :func:`verify_tally` over the ballot events.

    Returns the :class:`~g1000_verify.checks.Verification` (whose ``failure`` is the first
    failure of either) and the tally result, ``None`` when a log check failed first.
    """
    from .checks import STEPS, Step, run_checks

    outcome: dict[str, TallyVerification] = {}

    def tally_step(v: Any) -> None:
        result = outcome["tally"] = verify_tally(v.model.log_id, v.collected[BALLOT_STREAM],
                                                 ballot_id)
        if result.failure is not None:
            raise result.failure

    verification = run_checks(model, options, [*STEPS, Step("tally", tally_step, (BALLOT_STREAM,))])
    return verification, outcome.get("tally")
