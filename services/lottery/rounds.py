"""Seed rounds (docs/architecture.md §6, docs/lottery.md): the phase rules, pure.

A round is opened with its parties and two deadlines; an invitation round also with its draw's
`n` and `stratify_by` (`draw`), so that they are fixed before the seed exists (issue 10 H3;
`g1000_proofs.draw_parameters`, which g1000-verify applies too). Until the commit deadline
parties commit `SHA-256(value)`; the commit phase ends at that deadline, or as soon as every
listed party has committed. After it they reveal (until the reveal deadline); a notary's dice rolls and a public
beacon value (written `<value> @ <source>`) may be added after the commit phase and before the
first reveal. The round is finalised when every committed party
has revealed, or after the reveal deadline without the parties that did not reveal. The seed is
`g1000_proofs.seed.compute_seed` over the contributions in commitment order.

The round itself, its fold and the rules g1000-verify applies to the log are
`g1000_proofs.rounds` (re-exported here); this module turns their problem codes into the
lottery's HTTP-facing errors and adds what only a request has (names, deadlines, limits).

Times are the envelope's `YYYY-MM-DDTHH:MM:SS.mmmZ` strings, which compare correctly as text.
Every decision takes `now` (the service clock); because the log's `occurred_at` is stamped a
moment later, `check_recorded` checks the rule again against the time the event actually got.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from g1000_proofs.draw_parameters import declaration_problem, mismatch
from g1000_proofs.rounds import (  # noqa: F401  (the fold and rules, re-exported for the lottery)
    BEACON_SEPARATOR, PURPOSES, Entry, Round, apply, commit_problems, contribution_problems,
    designated, designated_distribution, finalize_problems, fold, not_revealed, opened, precedes,
    seed_contributions,
    window_problems,
)
from g1000_proofs.seed import CommitmentMismatchError, compute_seed, verify_reveal

from services.core.envelope import format_time

from .errors import LotteryConflictError, LotteryInvalidError, PhaseError, RevealMismatchError

PARTY = re.compile(r"^[a-z][a-z0-9_-]{0,39}\Z")
HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
MAX_PARTIES = 20
STATES = ("committing", "revealing", "ended", "finalized")


MAX_ROUND_DAYS = 366


def stamp(moment: datetime) -> str:
    """A time as the log writes it (UTC, milliseconds)."""
    if moment.tzinfo is None:
        raise LotteryInvalidError("a time needs its UTC offset")
    try:
        utc = moment.astimezone(timezone.utc)
    except OverflowError:
        raise LotteryInvalidError(f"{moment.isoformat()} is out of range") from None
    if utc.year < 2000:
        raise LotteryInvalidError(f"{moment.isoformat()} is out of range")
    return format_time(utc)


# --- decisions: each returns the payload of the event to record, or raises ----------------------


def open_payload(round_id: str, purpose: str, parties: list[str], commit_deadline: str,
                 reveal_deadline: str, now: str, draw: dict | None = None,
                 features: Sequence[str] = ()) -> dict:
    """`lottery.seed.round_opened` v2. An invitation round declares its draw, `draw` =
    {"n", "stratify_by"}, now, before any party commits (issue 10 H3): `stratify_by` one of
    `features` (the register's, or the charter's vocabulary before the register exists) or
    None. A panel round declares none. Whether the register can serve the declared draw is
    decided at the draw."""
    if purpose not in PURPOSES:
        raise LotteryInvalidError(f"purpose must be one of {', '.join(PURPOSES)}")
    problem = declaration_problem(purpose, draw)
    if problem is not None:
        raise LotteryInvalidError(problem, errors={"draw": [problem]})
    if draw is not None and draw["stratify_by"] is not None and draw["stratify_by"] not in features:
        known = ", ".join(sorted(features)) or "none"
        message = (f"the summit's register declares no feature {draw['stratify_by']!r} to "
                   f"stratify by (declared: {known})")
        raise LotteryInvalidError(message, errors={"draw": [message]})
    if not 1 <= len(parties) <= MAX_PARTIES or len(set(parties)) != len(parties):
        raise LotteryInvalidError(f"parties must be 1-{MAX_PARTIES} distinct names")
    bad = [p for p in parties if not PARTY.match(p)]
    if bad:
        raise LotteryInvalidError(f"party names are 1-40 characters of a-z 0-9 _ - starting with a "
                                  f"letter (organisations or roles, never a person's name): {bad}")
    if commit_deadline <= now:
        raise LotteryInvalidError(f"the commit deadline {commit_deadline} is not in the future")
    latest = stamp(datetime.strptime(now, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
                   + timedelta(days=MAX_ROUND_DAYS))
    if reveal_deadline > latest:
        raise LotteryInvalidError(f"the reveal deadline is more than {MAX_ROUND_DAYS} days away")
    if reveal_deadline <= commit_deadline:
        raise LotteryInvalidError("the reveal deadline must come after the commit deadline")
    return {"v": 2, "round_id": round_id, "purpose": purpose, "parties": list(parties),
            "commit_deadline": commit_deadline, "reveal_deadline": reveal_deadline,
            "draw": None if draw is None else {"n": draw["n"], "stratify_by": draw["stratify_by"]}}


def declared_draw(rnd: Round, n: int | None, stratify_by) -> tuple[int, str | None]:
    """The parameters an invitation draw with `rnd` is made with: the ones the round declared.
    A request may leave them out; if it names them they must be the declared ones
    (`g1000_proofs.draw_parameters.mismatch`, the rule g1000-verify applies). `stratify_by` is
    `OMITTED` when the request left it out (None asks for an unstratified draw)."""
    if rnd.draw is None:
        raise LotteryConflictError(f"round {rnd.round_id} declares no draw parameters (a v1 round): "
                                   "open a new invitation round that declares n and stratify_by")
    declared = rnd.draw
    problem = mismatch(declared, declared["n"] if n is None else n,
                       declared["stratify_by"] if stratify_by is OMITTED else stratify_by)
    if problem is not None:
        raise LotteryConflictError(f"{problem} (round {rnd.round_id}); nothing was drawn")
    return declared["n"], declared["stratify_by"]


OMITTED = object()


def _not_finalized(rnd: Round) -> None:
    if rnd.seed is not None:
        raise PhaseError(f"round {rnd.round_id} is finalised")


def commit_payload(rnd: Round, party: str, commitment: str, now: str) -> dict:
    _not_finalized(rnd)
    if party not in rnd.parties:
        raise LotteryInvalidError(f"{party!r} is not a party of this round ({', '.join(rnd.parties)})")
    if not HEX64.match(commitment):
        raise LotteryInvalidError("a commitment is 64 lowercase hex characters (SHA-256)")
    problems = commit_problems(rnd, party, now)
    if "again" in problems:
        raise PhaseError(f"party {party!r} has already committed")
    if problems:   # late, or after a contribution (which needs the commit phase over)
        raise PhaseError(f"too late: the commit phase of round {rnd.round_id} ended at {rnd.commit_deadline}")
    return {"v": 1, "round_id": rnd.round_id, "party": party, "commitment": commitment}


def _reveal_window(rnd: Round, problems: list[str]) -> None:
    _not_finalized(rnd)
    if "early" in problems:
        raise PhaseError(f"too early: the commit phase runs until {rnd.commit_deadline}")
    if "late" in problems:
        raise PhaseError(f"too late: the reveal phase ended at {rnd.reveal_deadline}")


def reveal_payload(rnd: Round, party: str, value: str, now: str) -> dict:
    problems = contribution_problems(rnd, party, "commit-reveal", now)
    if "uncommitted" in problems:
        raise LotteryInvalidError(f"party {party!r} has no commitment in this round")
    _reveal_window(rnd, problems)
    if "again" in problems:
        raise PhaseError(f"party {party!r} has already revealed")
    contribution = {"party": party, "value": value, "kind": "commit-reveal"}
    try:
        verify_reveal(contribution, rnd.commitment_of(party).commitment)
    except CommitmentMismatchError as e:
        raise RevealMismatchError(f"the value does not match the commitment of {party!r}: {e}") from None
    return {"v": 1, "round_id": rnd.round_id, "contribution": contribution}


def beacon_value(value: str, source: str) -> str:
    """The logged value of a beacon contribution: the published value and where to check it."""
    return f"{value}{BEACON_SEPARATOR}{source}"


def public_payload(rnd: Round, kind: str, party: str, value: str, source: str | None, now: str) -> dict:
    """A notary's dice rolls or a public beacon value (needs no commitment). A beacon's source
    is part of its logged value (`<value> @ <source>`), so the log alone says where to check it."""
    if kind not in ("dice", "beacon"):
        raise LotteryInvalidError("a public contribution is dice or beacon")
    if not PARTY.match(party):
        raise LotteryInvalidError("a party name is 1-40 characters of a-z 0-9 _ - starting with a letter")
    problems = contribution_problems(rnd, party, kind, now)
    # Stricter than the log rule ("committed"): a listed party that has not committed may not
    # add dice or a beacon either, so that every contribution has its own name.
    if party in rnd.parties or "again" in problems:
        raise LotteryInvalidError(f"{party!r} is already a party of this round; "
                                  "each contribution needs its own party name")
    _reveal_window(rnd, problems)
    if "after_reveal" in problems:
        raise PhaseError("dice and beacon values must come before the first reveal")
    if (kind == "beacon") != (source is not None):
        raise LotteryInvalidError("a beacon value names its source; dice have none")
    if source is not None:
        if BEACON_SEPARATOR in value:
            raise LotteryInvalidError(f"a beacon value cannot contain {BEACON_SEPARATOR.strip()!r} between spaces")
        value = beacon_value(value, source)
    return {"v": 1, "round_id": rnd.round_id, "contribution": {"party": party, "value": value, "kind": kind}}


def finalize_payload(rnd: Round, summit_id: str, now: str) -> dict:
    _not_finalized(rnd)
    problems = finalize_problems(rnd, now)
    missing = not_revealed(rnd)
    if "committing" in problems:
        raise PhaseError(f"the commit phase runs until {rnd.commit_deadline}")
    if "waiting" in problems:
        raise PhaseError(f"waiting for reveals of {', '.join(missing)} until {rnd.reveal_deadline}")
    if "empty" in problems:
        raise PhaseError("the round has no revealed or public contribution: it cannot be finalised")
    contributions = seed_contributions(rnd)
    seed = compute_seed(summit_id, contributions).hex()
    return {"v": 1, "round_id": rnd.round_id, "seed": seed, "contributions": contributions,
            "not_revealed": missing}


def check_recorded(rnd: Round, event_type: str, occurred_at: str) -> None:
    """The rule again, against the time the log gave the event (a request just at a deadline).

    Raising rolls the request back: nothing is logged that would fail verification."""
    problems = window_problems(rnd, event_type, occurred_at)
    if event_type == "lottery.seed.committed" and problems:
        raise PhaseError(f"too late: the commit phase ended at {rnd.commit_deadline}")
    if "early" in problems:
        raise PhaseError(f"too early: the commit phase runs until {rnd.commit_deadline}")
    if "late" in problems:
        raise PhaseError(f"too late: the reveal phase ended at {rnd.reveal_deadline}")
