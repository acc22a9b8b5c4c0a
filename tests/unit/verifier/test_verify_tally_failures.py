"""``g1000-verify tally`` fails on a tampered ballot log, at the first wrong entry, with a plain reason.

Each test builds an honest ballot with the :class:`BallotLog` builder (tests/support/ballot_logs.py),
changes one fact before the events are signed (so every log check still passes and only the
ballot's own rules can catch it), and asserts the check name, the entry index and the reason.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.ballot_logs import (
    BallotLog,
    b64,
    fails,
    find,
    honest_ballot,
    pseudonym,
    ref_roll,
    ref_seal,
    rsa_key,
    tamper,
)

CAST = "ballot.vote.cast"


def _open_ballot(voters: int = 3, method: str = "approval"):
    """Arrivals, a ballot created and opened, ``voters`` credentials issued."""
    log = BallotLog()
    for i in range(voters + 1):
        log.arrive(pseudonym(i))
    b = log.create(method)
    log.open(b)
    for i in range(voters):
        log.issue(b, pseudonym(i))
    return log, b


# --- Credentials and nullifiers ---------------------------------------------------------------


def test_a_forged_credential_fails_at_its_cast():
    log, b = _open_ballot()
    log.cast(b, {"approve": ["bos"]})
    forged = log.cast(b, {"approve": ["park"]}, credential=log.credential(b, signer=rsa_key(1)))
    fails(log, forged, "credential", "the credential's signature does not verify under the "
                                     "ballot's key")


def test_a_credential_whose_token_was_changed_after_signing_fails():
    log, b = _open_ballot()
    good = log.credential(b)
    changed = log.cast(b, {"approve": ["bos"]}, credential={**good, "token": "00" * 32})
    fails(log, changed, "credential", "does not verify")


def test_a_duplicated_nullifier_fails_at_the_second_cast():
    log, b = _open_ballot()
    credential = log.credential(b)
    first = log.cast(b, {"approve": ["bos"]}, credential=credential)
    again = log.cast(b, {"approve": ["park"]}, credential=credential)
    fails(log, again, "nullifier", "votes a second time", f"(first at {log.index(first)})")


def test_a_nullifier_that_is_not_the_credentials_fails():
    log, b = _open_ballot()
    cast = log.cast(b, {"approve": ["bos"]}, nullifier="ab" * 32)
    fails(log, cast, "nullifier", f"the nullifier {'ab' * 32} is not the credential's")


def test_more_casts_than_issuances_fail_at_the_first_extra_cast():
    log, b = _open_ballot(voters=2)
    log.cast(b, {"approve": ["bos"]})
    log.cast(b, {"approve": ["bos"]})
    extra = log.cast(b, {"approve": ["park"]})
    fails(log, extra, "counts", "more votes cast (3) than credentials issued (2)")


# --- The roll and the issuances -----------------------------------------------------------------


def test_an_issuance_to_someone_who_never_arrived_fails():
    log, b = _open_ballot()
    stranger = log.issue(b, pseudonym(99))
    fails(log, stranger, "issuance", f"is issued to {pseudonym(99)}, who is not on its roll")


def test_an_issuance_to_someone_who_arrived_after_the_opening_fails():
    log, b = _open_ballot()
    log.arrive(pseudonym(50))
    late = log.issue(b, pseudonym(50))
    fails(log, late, "issuance", "who is not on its roll")


def test_a_second_issuance_to_one_pseudonym_fails():
    log, b = _open_ballot(voters=2)
    again = log.issue(b, pseudonym(1))
    fails(log, again, "issuance", f"a second credential for ballot {b.ballot_id} is issued to "
                                  f"{pseudonym(1)}")


def test_a_roll_that_does_not_match_the_arrivals_fails_at_the_opening():
    log = BallotLog()
    for i in range(4):
        log.arrive(pseudonym(i))
    b = log.create()
    other_root = hashlib.sha256(b"some other roll").hexdigest()
    opened = log.open(b, roll={"count": 4, "root": other_root})
    fails(log, opened, "roll", "is not the arrivals before its opening: they give count 4",
          f"the log records count 4, root {other_root}")


def test_a_roll_that_leaves_someone_out_fails():
    log = BallotLog()
    for i in range(4):
        log.arrive(pseudonym(i))
    b = log.create()
    count, root = ref_roll(log.arrived[:3])
    opened = log.open(b, roll={"count": count, "root": root})
    fails(log, opened, "roll", "they give count 4", f"the log records count 3, root {root}")


def test_an_opening_with_nobody_checked_in_fails():
    log = BallotLog()
    b = log.create()
    opened = log.open(b, roll={"count": 1, "root": "00" * 32})
    fails(log, opened, "roll", "is opened with no roll: the roll is empty")


def test_a_participant_arriving_twice_fails():
    log = BallotLog()
    log.arrive(pseudonym(1))
    again = log.arrive(pseudonym(1))
    fails(log, again, "arrival", "arrives a second time")


def test_a_weak_credential_key_fails_at_the_opening():
    log = BallotLog()
    log.arrive(pseudonym(1))
    b = log.create()
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    der = weak.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    opened = log.open(b, credential_key=b64(der))
    fails(log, opened, "credential_key", "must be RSA of at least 2048 bits")


# --- Order and the window ------------------------------------------------------------------------


def test_an_opening_before_opens_at_fails():
    log = BallotLog()
    log.arrive(pseudonym(1))
    b = log.create()
    early = log.open(b)
    type_, payload, _ = log.items[early]
    log.items[early] = (type_, payload, b.opens_at - 1)
    fails(log, early, "ballot_order", "before its opens_at")


def test_a_cast_before_the_opening_fails():
    log = BallotLog()
    log.arrive(pseudonym(1))
    b = log.create()
    log.open(b)
    type_, payload, t = log.items.pop()        # the opening, moved after a cast
    cast = log.cast(b, {"approve": ["bos"]})
    log.items.append((type_, payload, t))
    fails(log, cast, "ballot_order", "a vote cast for ballot", "before it is opened")


def test_a_cast_at_the_planned_closing_is_outside_the_window():
    log, b = _open_ballot()
    log.cast(b, {"approve": ["bos"]})
    late = log.cast(b, {"approve": ["park"]}, t=b.closes_at)
    log.close(b)
    fails(log, late, "window", "outside its window")


def test_a_cast_timed_before_the_opening_is_outside_the_window():
    log, b = _open_ballot()
    opened_at = log.items[find(log, "ballot.ballot.opened")][2]
    early = log.cast(b, {"approve": ["bos"]}, t=opened_at - 1)
    fails(log, early, "window", "outside its window")


def test_an_early_closing_puts_a_later_cast_outside_the_window_at_the_casts_index():
    log, b = _open_ballot()
    log.cast(b, {"approve": ["bos"]})
    cast_time = log.t + 10 * 1000
    after = log.cast(b, {"approve": ["park"]}, t=cast_time)
    log.close(b, early=True, closed_at=cast_time - 1)
    fails(log, after, "window", "at or after its early closing")


def test_a_cast_after_the_closing_fails():
    log, b = _open_ballot()
    log.cast(b, {"approve": ["bos"]})
    log.close(b, early=True)
    late = log.cast(b, {"approve": ["park"]})
    fails(log, late, "ballot_order", "after it was closed")


def test_an_early_closing_after_the_planned_closing_fails():
    log, b = _open_ballot()
    log.cast(b, {"approve": ["bos"]})
    closed = log.close(b, early=True, closed_at=b.closes_at)
    fails(log, closed, "closing", "is closed early at")


def test_a_closing_not_early_before_the_planned_closing_fails():
    log, b = _open_ballot()
    log.cast(b, {"approve": ["bos"]})
    closed = log.close(b, early=True)
    tamper(log, closed, early=False)
    fails(log, closed, "closing", "is closed not early at")


# --- The key and the count -----------------------------------------------------------------------


def test_a_wrong_revealed_key_fails():
    log, b = honest_ballot()
    revealed = find(log, "ballot.key.revealed")
    tamper(log, revealed, private_key=hashlib.sha256(b"another key").hexdigest())
    fails(log, revealed, "revealed_key", "the revealed key is not the private half of the ballot's "
                                         "sealing key")


def test_a_key_revealed_before_the_closing_fails():
    log, b = _open_ballot()
    log.cast(b, {"approve": ["bos"]})
    revealed = log.reveal(b)
    fails(log, revealed, "ballot_order", "is revealed before the ballot is closed")


def test_an_altered_total_fails_at_the_published_tally():
    log, b = honest_ballot("score")
    published = find(log, "ballot.tally.published")
    result = log.items[published][1]["result"]
    totals = dict(result["totals"])
    totals[b.options[0]] += 1
    tamper(log, published, result={**result, "totals": totals})
    fails(log, published, "tally", "is not its recount: its 'totals' differs")


def test_a_dropped_spoiled_vote_fails():
    log, b = honest_ballot("approval")
    published = find(log, "ballot.tally.published")
    result = log.items[published][1]["result"]
    tamper(log, published, result={**result, "spoiled": 1,
                                   "spoiled_by_reason": {"expected an object with 'approve' only": 1}})
    fails(log, published, "tally", "its 'spoiled' differs")


def test_a_published_count_of_opened_votes_that_is_not_the_casts_fails():
    log, b = honest_ballot("schulze")
    published = find(log, "ballot.tally.published")
    tamper(log, published, counted=5)
    fails(log, published, "tally", "says 5 votes were opened; the log holds 6 casts")


def test_a_result_with_true_for_one_is_not_the_recount():
    """The comparison is of canonical JSON, where ``true`` is not ``1`` (Python's == says it is)."""
    log, b = honest_ballot("approval", voters=3, spoiled=False)
    published = find(log, "ballot.tally.published")
    result = log.items[published][1]["result"]
    ones = [o for o, n in result["totals"].items() if n == 1]
    assert ones
    tamper(log, published, result={**result, "totals": {**result["totals"], ones[0]: True}})
    fails(log, published, "tally", "its 'totals' differs")


def test_a_vote_swapped_for_one_sealed_to_another_ballot_is_spoiled_so_the_old_result_fails():
    log, b = honest_ballot("approval", spoiled=False)
    cast = find(log, CAST, 0)
    foreign = ref_seal({"approve": ["bos"]}, b.sealing.public_key(), log.summit_id,
                       "b0a11070-0000-4000-8000-0000000000ee")
    tamper(log, cast, sealed=b64(foreign))
    fails(log, find(log, "ballot.tally.published"), "tally", "its 'counted' differs")


def test_a_tally_published_twice_fails():
    log, b = honest_ballot()
    again = log.publish(b)
    fails(log, again, "ballot_order", "is published a second time")


# --- Shapes ---------------------------------------------------------------------------------------


def test_a_name_as_pseudonym_is_refused_by_the_shape_check():
    log = BallotLog()
    bad = log.arrive("Jan de Vries")
    fails(log, bad, "ballot_event", "ballot.participant.arrived: pseudonym must be a pseudonym")


def test_a_sealed_vote_that_is_not_base64_is_refused_by_the_shape_check():
    log, b = _open_ballot()
    bad = tamper(log, log.cast(b, {"approve": ["bos"]}), sealed="not base64!")
    fails(log, bad, "ballot_event", "ballot.vote.cast: sealed must be standard base64 with padding")


def test_a_payload_with_a_member_docs_ballot_md_does_not_name_is_refused():
    log, b = _open_ballot()
    bad = log.cast(b, {"approve": ["bos"]}, voter=pseudonym(0))
    fails(log, bad, "ballot_event", "a ballot.vote.cast payload has exactly the members v, ballot_id, "
                                    "batch, nullifier, credential, sealed")


def test_a_ballot_that_cannot_be_counted_fails_at_its_creation():
    log = BallotLog()
    log.arrive(pseudonym(1))
    b = log.create({"kind": "approval", "min": 1, "max": 9})
    fails(log, find(log, "ballot.ballot.created"), "ballot", f"ballot {b.ballot_id} cannot be "
                                                              "counted: max must be a whole number")


def test_an_event_for_a_ballot_never_created_fails():
    log, b = _open_ballot()
    stray = log.issue(b, pseudonym(0))
    tamper(log, stray, ballot_id="b0a11070-0000-4000-8000-0000000000dd")
    fails(log, stray, "ballot_order", "which no earlier ballot.ballot.created creates")
