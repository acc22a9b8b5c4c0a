"""services/ballot/domain.py: the ballot's decisions without a database (docs/ballot.md)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from g1000_proofs import ballot as rules
from g1000_proofs import blind_rsa, sealing, shamir, tally
from g1000_proofs.ballot_count import spec_of
from g1000_proofs.texts import describe

from services.ballot import domain
from services.ballot.errors import AlreadyDoneError, BallotConflictError, BallotForbiddenError, BallotInvalidError
from services.core.event_catalog import CATALOG

SUMMIT, BALLOT = "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "9b2f6a1e-0c1d-4e5f-8a9b-0c1d2e3f4a5b"
OPENS, CLOSES = "2027-03-14T10:00:00.000Z", "2027-03-14T11:00:00.000Z"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE = secrets.token_bytes(32)
SHARES = [s.encode() for s in shamir.split(PRIVATE, 2, 3)]


def body(**changes) -> dict:
    out = {"title": [{"language": "nl", "text": "Cafe\u0301s?"}, {"language": "en", "text": "Cafés?"}],
           "method": {"kind": "approval", "min": 1, "max": 2},
           "options": [{"option_id": o, "texts": [{"language": "nl", "text": o.upper()}]} for o in ("trams", "bikes")],
           "opens_at": datetime(2027, 3, 14, 10, tzinfo=timezone.utc),
           "closes_at": datetime(2027, 3, 14, 11, tzinfo=timezone.utc),
           "sealing": {"public_key": sealing.public_key_hex(PRIVATE.hex()), "k": 2, "n": 3,
                       "share_hashes": [hashlib.sha256(s.encode()).hexdigest() for s in SHARES]}}
    out.update(changes)
    return out


def created(**changes) -> domain.Ballot:
    event, _ = domain.created_event(SUMMIT, BALLOT, body(**changes))
    return domain.Ballot(BALLOT, SUMMIT, "created", 1, event.payload)


def opened(at: str = "2027-03-14T10:00:05.000Z") -> domain.Ballot:
    b = created()
    b.state, b.version, b.opened_at = "open", 2, at
    b.credential_key = rules.encode_credential_key(KEY.public_key())
    return b


def test_created_holds_only_descriptions_sorted_and_the_texts_are_kept_in_nfc():
    event, texts = domain.created_event(SUMMIT, BALLOT, body())
    CATALOG.validate(event.type, event.payload)
    p = event.payload
    assert [o["option_id"] for o in p["options"]] == ["bikes", "trams"]
    assert p["title"] == [describe("en", "Cafés?"), describe("nl", "Cafés?")]
    assert "Cafés?" not in str(p) and "BIKES" not in str(p)
    assert ("", "nl", "Cafés?") in texts and ("bikes", "nl", "BIKES") in texts
    assert (p["opens_at"], p["closes_at"]) == (OPENS, CLOSES)
    assert event.aggregate_id == f"summit:{SUMMIT}/ballot:{BALLOT}" and event.version == 1


@pytest.mark.parametrize("changes", [
    {"method": {"kind": "approval", "min": 1, "max": 3}}, {"method": {"kind": "borda"}},
    {"title": [{"language": "nl", "text": "a"}, {"language": "nl", "text": "b"}]},
    {"options": [{"option_id": "a", "texts": [{"language": "nl", "text": "a"}]}] * 2},
    {"closes_at": datetime(2027, 3, 14, 10, tzinfo=timezone.utc)},
])
def test_created_refuses_what_the_contract_does_not_allow(changes):
    with pytest.raises(BallotInvalidError):
        domain.created_event(SUMMIT, BALLOT, body(**changes))


def test_opening_commits_the_roll_and_only_in_its_window_once():
    b = created()
    key = rules.encode_credential_key(KEY.public_key())
    event, roll = domain.opened_event(b, "2027-03-14T10:00:00.000Z", ["p-2", "p-1", "p-2"], key)
    count, root, expected = rules.roll_commitment(["p-1", "p-2"])
    assert event.payload["roll"] == {"count": count, "root": root} and roll == expected and event.version == 2
    CATALOG.validate(event.type, event.payload)
    for at, arrivals in (("2027-03-14T09:59:59.999Z", ["p-1"]), (CLOSES, ["p-1"]), (OPENS, [])):
        with pytest.raises(BallotConflictError):
            domain.opened_event(b, at, arrivals, key)
    b.state = "open"
    with pytest.raises(BallotConflictError):
        domain.opened_event(b, OPENS, ["p-1"], key)


def test_a_credential_needs_an_open_window_the_roll_and_no_earlier_one():
    b = opened()
    at = "2027-03-14T10:30:00.000Z"
    assert domain.issued_event(b, at, "p-1", True, False).payload == {"v": 1, "ballot_id": BALLOT, "pseudonym": "p-1"}
    with pytest.raises(BallotForbiddenError):
        domain.issued_event(b, at, "p-9", False, False)
    with pytest.raises(AlreadyDoneError):
        domain.issued_event(b, at, "p-1", True, True)
    with pytest.raises(BallotConflictError):
        domain.issued_event(b, CLOSES, "p-1", True, False)


def _credential() -> rules.Credential:
    pub = KEY.public_key()
    prepared = blind_rsa.prepare(secrets.token_bytes(32), blind_rsa.PSS_RANDOMIZED)
    blinded = blind_rsa.blind(pub, prepared, blind_rsa.PSS_RANDOMIZED)
    sig = blind_rsa.finalize(pub, prepared, blind_rsa.blind_sign(KEY, blinded.blinded_msg), blinded.inv,
                             blind_rsa.PSS_RANDOMIZED)
    return rules.Credential(prepared[32:], prepared[:32], sig)


def _cast_body(c: rules.Credential, sealed: bytes) -> dict:
    return {"credential": {"token": c.token.hex(), "prefix": c.prefix.hex(),
                           "signature": base64.b64encode(c.signature).decode()},
            "sealed": base64.b64encode(sealed).decode()}


def test_a_cast_is_accepted_with_a_valid_credential_and_a_sealed_choice_only():
    b, c = opened(), _credential()
    sealed = sealing.seal_vote({"approve": ["bikes"]}, b.created["sealing"]["public_key"], SUMMIT, BALLOT)
    cast = domain.accept_cast(b, "2027-03-14T10:30:00.000Z", _cast_body(c, sealed))
    assert cast.nullifier == rules.nullifier(c) and cast.sealed_sha256 == hashlib.sha256(sealed).hexdigest()
    with pytest.raises(BallotInvalidError):
        domain.accept_cast(b, "2027-03-14T10:30:00.000Z", _cast_body(c._replace(token=bytes(32)), sealed))
    with pytest.raises(BallotInvalidError):
        domain.accept_cast(b, "2027-03-14T10:30:00.000Z", _cast_body(c, sealed[:-1]))
    with pytest.raises(BallotConflictError):
        domain.accept_cast(b, CLOSES, _cast_body(c, sealed))
    with pytest.raises(BallotConflictError):
        domain.accept_cast(b, "2027-03-14T10:00:04.999Z", _cast_body(c, sealed))   # before the opening


def test_a_batch_is_shuffled_with_consecutive_versions_and_one_batch_id():
    b = opened()
    pending = [domain.Cast(f"{i:064x}", {"token": "", "prefix": "", "signature": ""}, "", "") for i in range(8)]
    orders = set()
    for _ in range(20):
        events = domain.batch_events(b, pending)
        assert [e.version for e in events] == list(range(3, 11))
        assert len({e.payload["batch"] for e in events}) == 1
        assert sorted(e.payload["nullifier"] for e in events) == [c.nullifier for c in pending]
        orders.add(tuple(e.payload["nullifier"] for e in events))
    assert len(orders) > 1   # 20 draws of 8! orders: all equal has probability 40320**-19


def test_a_batch_at_closing_carries_the_last_millisecond_of_the_window():
    b = opened()
    assert domain.batch_time(b, "2027-03-14T10:30:00.000Z") == "2027-03-14T10:30:00.000Z"
    assert domain.batch_time(b, "2027-03-14T11:00:20.000Z") == "2027-03-14T10:59:59.999Z"
    early = "2027-03-14T10:40:00.000Z"
    assert domain.batch_time(b, early, end=early) == "2027-03-14T10:39:59.999Z"
    assert rules.in_window(domain.batch_time(b, early, end=early), b.opened_at, CLOSES, early)


def test_closing_is_early_only_before_closes_at():
    b = opened()
    assert domain.closed_event(b, "2027-03-14T10:40:00.000Z", True).payload == {
        "v": 1, "ballot_id": BALLOT, "closed_at": "2027-03-14T10:40:00.000Z", "early": True}
    late = domain.closed_event(b, "2027-03-14T11:00:30.000Z", True).payload
    assert late["closed_at"] == CLOSES and late["early"] is False
    assert domain.due_to_close(b, CLOSES) and not domain.due_to_close(b, "2027-03-14T10:59:59.999Z")
    b.state = "closed"
    with pytest.raises(BallotConflictError):
        domain.closed_event(b, CLOSES, False)


def test_shares_are_taken_after_closing_if_they_are_the_ballots_and_new():
    b = opened()
    with pytest.raises(BallotConflictError):
        domain.accept_share(b, SHARES[0], {})
    b.state = "closed"
    assert domain.accept_share(b, SHARES[0], {}).x == 1
    with pytest.raises(AlreadyDoneError):
        domain.accept_share(b, SHARES[0], {1: SHARES[0]})
    with pytest.raises(BallotInvalidError):
        domain.accept_share(b, shamir.split(secrets.token_bytes(32), 2, 3)[0].encode(), {})
    b.state = "tallied"
    with pytest.raises(BallotConflictError):
        domain.accept_share(b, SHARES[1], {1: SHARES[0]})


def test_reveal_and_tally_count_every_cast_in_log_order():
    b = opened()
    b.state = "closed"
    public = b.created["sealing"]["public_key"]
    choices = [{"approve": ["bikes"]}, {"approve": ["trams", "bikes"]}, {"approve": ["nope"]}]
    sealed = [sealing.seal_vote(c, public, SUMMIT, BALLOT) for c in choices]
    shares = [shamir.Share.decode(s) for s in SHARES[1:]]
    events, private, counted, result = domain.reveal_and_tally(b, shares, sealed)
    assert private == PRIVATE.hex() and counted == 3
    assert result == tally.tally(spec_of(b.created["method"], b.option_ids), choices)
    assert [e.type for e in events] == ["ballot.key.revealed", "ballot.tally.published"]
    for e in events:
        CATALOG.validate(e.type, e.payload)
    wrong = [shamir.Share.decode(s.encode()) for s in shamir.split(secrets.token_bytes(32), 2, 3)[:2]]
    with pytest.raises(BallotInvalidError):
        domain.reveal_and_tally(b, wrong, sealed)


def test_the_arrival_is_the_one_version_of_its_own_aggregate():
    event = domain.arrival_event(SUMMIT, "p-1")
    assert (event.type, event.aggregate_id, event.version) == (
        "ballot.participant.arrived", f"summit:{SUMMIT}/arrival:p-1", 1)
    CATALOG.validate(event.type, event.payload)
