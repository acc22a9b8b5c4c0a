"""Every refusal of the ballot service changes nothing: no event, no row, no version.

Double vote, forged credential, a credential replayed from another ballot, a vote after closing or
before opening, a credential for someone not on the roll, a second credential, a share before
closing, a share that is not the ballot's, the same share twice, a sealed vote of the wrong size,
opening before opens_at, malformed ballots. Each answer is problem+json with its status."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta

import pytest
from g1000_proofs import ballot as rules
from g1000_proofs import blind_rsa, shamir
from g1000_proofs.ballot_log import first_broken

from services.ballot import jobs
from tests.support.ballot_flow import START, Voter, ballot_stack  # noqa: F401  (ballot_stack is a fixture)

pytestmark = pytest.mark.integration

APPROVAL = {"kind": "approval", "min": 1, "max": 2}
TABLES = ("ballots", "ballot_texts", "ballot_arrivals", "ballot_roll", "ballot_issuances", "ballot_nullifiers",
          "ballot_pending_casts", "ballot_shares", "events")


def snapshot(s) -> dict:
    with s.rt.db.transaction() as conn:
        out = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        out["ballots"] = conn.execute("SELECT state, version, issued FROM ballots ORDER BY ballot_id").fetchall()
    return out


def refused(s, response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return response.get_json()


def open_ballot(s, voters, method=APPROVAL) -> dict:
    for v in voters:
        s.arrive(v.pseudonym, 201)
    bid = s.create(method)["ballot_id"]
    return s.ok(s.post(f"/{bid}/open"))


@pytest.fixture
def opened(ballot_stack):
    voters = [Voter(f"p-{i}") for i in range(3)]
    ballot = open_ballot(ballot_stack, voters)
    for v in voters:
        assert v.obtain(ballot_stack, ballot).status_code == 201
    return ballot_stack, ballot, voters


def test_a_double_vote_is_409_and_changes_nothing(opened):
    s, ballot, (v, *_) = opened
    s.ok(v.cast(s, ballot, {"approve": ["bikes"]}), 202)
    before = snapshot(s)
    refused(s, v.cast(s, ballot, {"approve": ["parks"]}), 409)
    assert snapshot(s) == before


def test_a_forged_credential_is_422(opened):
    s, ballot, (v, *_) = opened
    before = snapshot(s)
    forged = rules.Credential(secrets.token_bytes(32), secrets.token_bytes(32), secrets.token_bytes(256))
    refused(s, v.cast(s, ballot, {"approve": ["bikes"]}, credential=forged), 422)
    tampered = v.credential._replace(token=secrets.token_bytes(32))   # a valid signature, another token
    refused(s, v.cast(s, ballot, {"approve": ["bikes"]}, credential=tampered), 422)
    assert snapshot(s) == before


def test_a_credential_from_another_ballot_is_422(opened):
    s, ballot, (v, *_) = opened
    other = s.ok(s.post(f"/{s.create(APPROVAL)['ballot_id']}/open"))
    before = snapshot(s)
    refused(s, v.cast(s, other, {"approve": ["bikes"]}), 422)
    assert snapshot(s) == before


def test_a_sealed_vote_of_the_wrong_size_is_422(opened):
    s, ballot, (v, *_) = opened
    body = v.cast_body(s, ballot, {"approve": ["bikes"]})
    before = snapshot(s)
    for size in (48, 48 + 100, 48 + 17 * 256):
        body["sealed"] = base64.b64encode(secrets.token_bytes(size)).decode()
        refused(s, s.client.post(s.url(f"/{ballot['ballot_id']}/votes"), json=body), 422)
    body["sealed"] = "not base64!"
    refused(s, s.client.post(s.url(f"/{ballot['ballot_id']}/votes"), json=body), 422)
    assert snapshot(s) == before


def test_a_second_credential_is_409_and_someone_not_on_the_roll_is_403(opened):
    s, ballot, (v, *_) = opened
    before = snapshot(s)
    refused(s, v.obtain(s, ballot), 409)
    refused(s, Voter("p-stranger").obtain(s, ballot), 403)
    assert snapshot(s) == before
    s.arrive("p-late", 201)                          # arrived after the opening: not on this roll
    before = snapshot(s)
    refused(s, Voter("p-late").obtain(s, ballot), 403)
    assert snapshot(s) == before


def test_an_organiser_or_no_token_gets_no_credential(opened):
    s, ballot, _ = opened
    before = snapshot(s)
    body = {"blinded_msg": base64.b64encode(bytes(256)).decode()}
    refused(s, s.post(f"/{ballot['ballot_id']}/credentials", body, role="organiser"), 403)
    refused(s, s.post(f"/{ballot['ballot_id']}/credentials", body, role=None), 401)
    assert snapshot(s) == before


def test_a_vote_after_closing_and_shares_before_closing(opened):
    s, ballot, (v, w, _) = opened
    bid = ballot["ballot_id"]
    before = snapshot(s)
    refused(s, s.client.post(s.url(f"/{bid}/shares"), json={"share": s.trustees.shares[0]}), 409)
    assert snapshot(s) == before
    s.ok(s.post(f"/{bid}/close"))
    assert s.ok(s.get(f"/{bid}"))["early"] is True
    before = snapshot(s)
    refused(s, w.cast(s, ballot, {"approve": ["bikes"]}), 409)
    refused(s, s.post(f"/{bid}/close"), 409)
    refused(s, Voter("p-2").obtain(s, ballot), 409)
    assert snapshot(s) == before


def test_a_vote_after_closes_at_is_409_even_before_the_job_closed_it(opened):
    s, ballot, (v, *_) = opened
    s.clock.advance(hours=2)
    before = snapshot(s)
    refused(s, v.cast(s, ballot, {"approve": ["bikes"]}), 409)
    assert snapshot(s) == before


def test_wrong_shares_and_a_repeated_share_change_nothing(opened):
    s, ballot, (v, *_) = opened
    bid = ballot["ballot_id"]
    s.ok(v.cast(s, ballot, {"approve": ["bikes"]}), 202)
    s.ok(s.post(f"/{bid}/close"))
    assert [e.type for e in s.events()][-2:] == ["ballot.vote.cast", "ballot.ballot.closed"]
    stranger = shamir.split(secrets.token_bytes(32), 2, 3)[0].encode()
    before = snapshot(s)
    for share in (stranger, s.trustees.shares[0] + "0", "g1000-share-v1:nonsense"):
        refused(s, s.client.post(s.url(f"/{bid}/shares"), json={"share": share}), 422)
    assert snapshot(s) == before
    s.ok(s.client.post(s.url(f"/{bid}/shares"), json={"share": s.trustees.shares[1]}), 202)
    before = snapshot(s)
    refused(s, s.client.post(s.url(f"/{bid}/shares"), json={"share": s.trustees.shares[1]}), 409)
    assert snapshot(s) == before
    s.ok(s.client.post(s.url(f"/{bid}/shares"), json={"share": s.trustees.shares[2]}), 202)
    result = s.ok(s.get(f"/{bid}"))
    assert result["state"] == "tallied" and result["result"]["totals"] == {"bikes": 1, "parks": 0, "trams": 0}
    log = [(i, e.type, e.payload, e.occurred_at) for i, e in enumerate(s.events())]
    assert first_broken(s.summit, log)[1] is None     # an early closing with its batch keeps every rule
    before = snapshot(s)
    refused(s, s.client.post(s.url(f"/{bid}/shares"), json={"share": s.trustees.shares[0]}), 409)
    assert snapshot(s) == before


def test_opening_before_opens_at_and_voting_before_the_opening_are_409(ballot_stack):
    s = ballot_stack
    v = Voter("p-1")
    s.arrive(v.pseudonym, 201)
    bid = s.create(APPROVAL)["ballot_id"]
    s.clock.at = START - timedelta(minutes=1)
    before = snapshot(s)
    refused(s, s.post(f"/{bid}/open"), 409)
    assert snapshot(s) == before
    s.clock.at = START
    ballot = s.ok(s.post(f"/{bid}/open"))
    before = snapshot(s)
    refused(s, s.post(f"/{bid}/open"), 409)
    assert snapshot(s) == before
    assert jobs.run_once(s.rt) == {"appended": 0, "closed": 0}
    assert v.obtain(s, ballot).status_code == 201


def test_an_empty_roll_cannot_open(ballot_stack):
    s = ballot_stack
    bid = s.create(APPROVAL)["ballot_id"]
    before = snapshot(s)
    refused(s, s.post(f"/{bid}/open"), 409)
    assert snapshot(s) == before


@pytest.mark.parametrize("change, status", [
    (lambda b: b.update(method={"kind": "plurality"}), 422),
    (lambda b: b.update(method={"kind": "approval", "min": 1, "max": 9}), 422),
    (lambda b: b["options"].append(dict(b["options"][0])), 422),
    (lambda b: b.update(title=[{"language": "nl", "text": "a"}, {"language": "nl", "text": "b"}]), 422),
    (lambda b: b.update(title=[{"language": "de", "text": "a"}]), 422),
    (lambda b: b.update(closes_at=b["opens_at"]), 422),
    (lambda b: b["sealing"].update(k=4), 422),
    (lambda b: b["sealing"].update(share_hashes=b["sealing"]["share_hashes"][:2]), 422),
    (lambda b: b.update(extra=1), 422),
])
def test_malformed_ballots_are_refused(ballot_stack, change, status):
    s = ballot_stack
    body = {"title": [{"language": "nl", "text": "Wat eerst?"}], "method": APPROVAL,
            "options": [{"option_id": o, "texts": [{"language": "nl", "text": o}]} for o in ("a", "b", "c")],
            "opens_at": START.isoformat(), "closes_at": (START + timedelta(hours=1)).isoformat(),
            "sealing": s.trustees.sealing()}
    change(body)
    before = snapshot(s)
    refused(s, s.post("", body), status)
    refused(s, s.post("", body, role="participant", subject="p-1"), 403)
    assert snapshot(s) == before


def test_arrivals_are_recorded_once_per_pseudonym(ballot_stack):
    s = ballot_stack
    first = s.arrive("p-1", 201).get_json()
    before = snapshot(s)
    assert s.arrive("p-1", 200).get_json() == first
    assert snapshot(s) == before
    refused(s, s.arrive("Jan Jansen"), 422)
    assert snapshot(s) == before
    assert [e.payload for e in s.events("ballot.participant.arrived")] == [{"v": 1, "pseudonym": "p-1"}]


def test_racing_requests_with_one_credential_or_one_pseudonym_succeed_once(ballot_stack):
    """Sixteen casts of one credential at once: one is accepted; eight credential requests of one
    participant at once: one is signed (the summit lock and the unique keys decide, not timing)."""
    import threading

    s = ballot_stack
    voters = [Voter("p-1"), Voter("p-2")]
    ballot = open_ballot(s, voters)
    assert voters[0].obtain(s, ballot).status_code == 201
    body = voters[0].cast_body(s, ballot, {"approve": ["bikes"]})
    statuses: list[int] = []
    barrier = threading.Barrier(16)

    def race(n: int, request) -> list[int]:
        clients, out, barrier = [s.new_client() for _ in range(n)], [], threading.Barrier(n)

        def run(client):
            barrier.wait()
            out.append(request(client).status_code)

        threads = [threading.Thread(target=run, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sorted(out)

    assert race(16, lambda c: c.post(s.url(f"/{ballot['ballot_id']}/votes"), json=body)) == [202] + [409] * 15
    assert s.count("SELECT count(*) FROM ballot_pending_casts") == 1  # its nullifier enters with the batch
    blinded = {"blinded_msg": base64.b64encode(blind_rsa.blind(
        rules.credential_key(ballot["credential_key"]), secrets.token_bytes(64), blind_rsa.PSS_RANDOMIZED
    ).blinded_msg).decode()}
    headers = s.auth("participant", "p-2")
    assert race(8, lambda c: c.post(s.url(f"/{ballot['ballot_id']}/credentials"), json=blinded,
                                    headers=headers)) == [201] + [409] * 7
    assert s.count("SELECT count(*) FROM ballot_issuances WHERE pseudonym = 'p-2'") == 1
