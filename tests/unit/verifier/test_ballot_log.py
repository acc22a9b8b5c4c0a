"""The ballot log's fold (g1000_proofs.ballot_log): for random ballots, the recount from a built log
is the published tally, and any change to the published result is caught.

Random ballots: a random method with random parameters, 2 to 5 options, 1 to 6 credentials issued,
and casts whose choices are valid, of the wrong shape (another method's, unknown options, numbers
out of range, any small JSON value), bytes that do not open, or votes sealed to another ballot.
Bytes too short or too long to be a sealed vote are refused by the payload's shape (as by the
service's schema), so the random bytes here are of a sealed vote's size and do not open.
The logs come from the :class:`BallotLog` builder (tests/support/ballot_logs.py), which seals with
its own HPKE code and publishes the count of the plaintext choices; the verifier opens and recounts.
"""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from g1000_proofs import ballot_count, ballot_log

from tests.support.ballot_logs import (
    NOT_OPENING,
    BallotLog,
    find,
    honest_ballot,
    pseudonym,
    ref_seal,
    tamper,
)
from tests.support.lottery_logs import at

OPTION_POOL = ["a", "b", "c-1", "d_2", "zz"]
OTHER_BALLOT = "b0a11070-0000-4000-8000-0000000000ee"
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def methods(draw, n: int) -> dict:
    kind = draw(st.sampled_from(["approval", "cumulative", "score", "schulze"]))
    if kind == "approval":
        low = draw(st.integers(0, n))
        return {"kind": kind, "min": low, "max": draw(st.integers(max(low, 1), n))}
    if kind == "cumulative":
        dots = draw(st.integers(1, 6))
        return {"kind": kind, "dots": dots, "max_per_option": draw(st.integers(1, dots))}
    if kind == "score":
        return {"kind": kind, "max": draw(st.integers(1, 5))}
    return {"kind": kind}


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 9) | st.text("abz", max_size=3),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text("abz", max_size=3), inner, max_size=3),
                    max_leaves=6)


def valid(options: list[str], method: dict):
    """Choices that count under ``method``."""
    names = st.sampled_from(options)
    kind = method["kind"]
    if kind == "approval":
        return st.builds(lambda c: {"approve": c},
                         st.lists(names, min_size=method["min"], max_size=method["max"], unique=True))
    if kind == "cumulative":
        dots = st.dictionaries(names, st.integers(1, method["max_per_option"]), min_size=1,
                               max_size=2)
        return st.builds(lambda c: {"dots": c}, dots.filter(lambda d: sum(d.values()) <= method["dots"]))
    if kind == "score":
        return st.builds(lambda c: {"scores": c},
                         st.dictionaries(names, st.integers(0, method["max"]), max_size=len(options)))
    return st.builds(lambda c: {"ranking": c}, st.lists(names, min_size=1, unique=True))


def choices(options: list[str], method: dict):
    names = st.sampled_from(options + ["nope"])
    amounts = st.dictionaries(names, st.integers(-1, 7), max_size=len(options))
    chosen = st.lists(names, max_size=len(options) + 1)
    invalid = st.one_of(
        st.builds(lambda c: {"approve": c}, chosen),
        st.builds(lambda c: {"ranking": c}, chosen),
        st.builds(lambda c: {"dots": c}, amounts),
        st.builds(lambda c: {"scores": c}, amounts),
        JSON,
    )
    return st.booleans().flatmap(lambda ok: valid(options, method) if ok else invalid)


@st.composite
def ballots(draw):
    options = sorted(draw(st.lists(st.sampled_from(OPTION_POOL), min_size=2, max_size=5, unique=True)))
    method = draw(methods(len(options)))
    voters = draw(st.integers(1, 6))
    votes = []
    for _ in range(draw(st.integers(0, voters))):
        kind = draw(st.sampled_from(["choice", "choice", "choice", "bytes", "foreign"]))
        votes.append((kind, draw(st.binary(min_size=49, max_size=120) if kind == "bytes"
                                 else choices(options, method))))
    early = draw(st.booleans())
    return method, options, voters, votes, early


def build(method: dict, options: list[str], voters: int, votes: list, early: bool):
    log = BallotLog()
    for i in range(voters + 1):
        log.arrive(pseudonym(i))
    b = log.create(method, tuple(options))
    log.open(b)
    for i in range(voters):
        log.issue(b, pseudonym(i))
    for kind, value in votes:
        if kind == "choice":
            log.cast(b, value)
        elif kind == "bytes":
            log.cast(b, None, sealed=value, spoiled_as=NOT_OPENING)
        else:
            log.cast(b, None, sealed=ref_seal(value, b.sealing.public_key(), log.summit_id,
                                              OTHER_BALLOT))
    log.close(b, early=early)
    log.reveal(b)
    log.publish(b)
    return log, b


@SETTINGS
@given(ballots())
def test_the_recount_from_a_built_log_is_the_published_tally(ballot):
    log, b = build(*ballot)
    result = log.verify()
    assert result.failure is None, result.failure
    published = b.result()
    summary, = result.ballots
    assert (summary["counted"], summary["spoiled"]) == (published["counted"], published["spoiled"])
    assert summary["counted"] + summary["spoiled"] == len(ballot[3]) == summary["cast"]
    casts = [log.items[i][1]["sealed"] for i, (t, _, _) in enumerate(log.items)
             if t == ballot_log.CAST]
    created = log.items[find(log, ballot_log.CREATED)][1]
    spec = ballot_count.spec_of(created["method"], [o["option_id"] for o in created["options"]])
    assert ballot_count.recount(spec, [base64.b64decode(c) for c in casts], b.private_hex,
                                log.summit_id, b.ballot_id) == (len(casts), published)


@SETTINGS
@given(ballots(), st.data())
def test_any_change_to_a_published_number_is_caught(ballot, data):
    log, b = build(*ballot)
    position = find(log, ballot_log.PUBLISHED)
    result = log.items[position][1]["result"]
    numbers = [name for name in ("counted", "spoiled") if name in result]
    numbers += [("totals", o) for o in result.get("totals", {})]
    numbers += [("beats", o) for o in result.get("beats", {})]
    target = data.draw(st.sampled_from(numbers))
    delta = data.draw(st.sampled_from([-1, 1, 2]))
    if isinstance(target, str):
        changed = {**result, target: result[target] + delta}
    else:
        member, option = target
        changed = {**result, member: {**result[member], option: result[member][option] + delta}}
    tamper(log, position, result=changed)
    failure = log.verify().failure
    assert failure is not None and failure.check == "tally" and failure.index == log.index(position)


@SETTINGS
@given(st.sets(st.integers(0, 12), min_size=1, max_size=6), st.lists(st.integers(0, 12), max_size=8))
def test_an_issuance_is_accepted_exactly_when_it_names_someone_on_the_roll_once(arrived, asked):
    log = BallotLog()
    for i in sorted(arrived):
        log.arrive(pseudonym(i))
    b = log.create("approval")
    log.open(b)
    expected = None
    seen: set[int] = set()
    for i in asked:
        position = log.issue(b, pseudonym(i))
        if expected is None and (i not in arrived or i in seen):
            expected = position
        seen.add(i)
    failure = log.verify().failure
    if expected is None:
        assert failure is None
    else:
        assert (failure.check, failure.index) == ("issuance", log.index(expected))


def test_first_broken_names_the_position_and_rule():
    log = BallotLog()
    log.arrive(pseudonym(0))
    b = log.create("approval")
    log.open(b)
    events = [(i, t, p, at(ms)) for i, (t, p, ms) in enumerate(log.items)]
    summit, broken = ballot_log.first_broken(log.summit_id, events)
    assert broken is None and summit.ballots[b.ballot_id].state == "open"
    stray = (len(events), ballot_log.ISSUED, {"v": 1, "ballot_id": b.ballot_id,
                                               "pseudonym": pseudonym(5)}, events[-1][3])
    _, broken = ballot_log.first_broken(log.summit_id, [*events, stray])
    position, error = broken
    assert position == len(events) and error.rule == "issuance"


def test_first_broken_names_the_cast_an_early_closing_puts_outside_the_window():
    log, b = honest_ballot("approval", spoiled=False)
    closed = find(log, ballot_log.CLOSED)
    last_cast = closed - 1
    tamper(log, closed, early=True, closed_at=at(log.items[last_cast][2]))
    events = [(i, t, p, at(ms)) for i, (t, p, ms) in enumerate(log.items)]
    _, (position, error) = ballot_log.first_broken(log.summit_id, events)
    assert (position, error.rule, error.position) == (last_cast, "window", last_cast)
