"""A whole ballot through the service against the real PostgreSQL, per counting method: arrivals,
creation, opening, blind credentials, sealed casts in shuffled batches, closing, the trustees'
shares, the revealed key and the tally, which must equal g1000_proofs.tally.tally of the choices
cast. The ballot's events are then fed to the real ledger consumer, which must append them all."""

from __future__ import annotations

import pytest
from g1000_proofs import tally
from g1000_proofs.ballot import roll_commitment
from g1000_proofs.ballot_count import spec_of

from tests.support.ballot_flow import START, Voter, ballot_stack  # noqa: F401  (ballot_stack is a fixture)

pytestmark = pytest.mark.integration

CHOICES = {
    "approval": ({"kind": "approval", "min": 1, "max": 2},
                 [{"approve": ["bikes"]}, {"approve": ["bikes", "trams"]}, {"approve": ["parks"]},
                  {"approve": ["trams", "bikes"]}, {"approve": []}, {"approve": ["bikes", "parks", "trams"]},
                  {"approve": ["parks"]}, {"approve": ["bikes"]}, {"approve": ["trams"]}, {"approve": ["bikes"]}]),
    "cumulative": ({"kind": "cumulative", "dots": 5, "max_per_option": 3},
                   [{"dots": {"bikes": 3, "parks": 2}}, {"dots": {"trams": 3}}, {"dots": {"bikes": 4}},
                    {"dots": {"parks": 1, "trams": 1}}, {"dots": {"bikes": 1}}, {"dots": {"parks": 3, "trams": 2}},
                    {"dots": {}}, {"dots": {"bikes": 2}}, {"dots": {"trams": 3, "bikes": 2}}, {"dots": {"parks": 1}}]),
    "score": ({"kind": "score", "max": 5},
              [{"scores": {"bikes": 5, "parks": 1}}, {"scores": {"trams": 4}}, {"scores": {"bikes": 6}},
               {"scores": {"parks": 3, "trams": 2}}, {"scores": {}}, {"scores": {"bikes": 0, "parks": 5}},
               {"scores": {"bikes": 2}}, {"scores": {"trams": 5}}, {"scores": {"parks": 2}}, {"scores": {"bikes": 1}}]),
    "schulze": ({"kind": "schulze"},
                [{"ranking": ["bikes", "parks", "trams"]}, {"ranking": ["parks", "trams"]}, {"ranking": ["trams"]},
                 {"ranking": ["bikes", "trams"]}, {"ranking": []}, {"ranking": ["parks", "bikes", "trams"]},
                 {"ranking": ["bikes"]}, {"ranking": ["trams", "parks", "bikes"]}, {"ranking": ["bikes", "bikes"]},
                 {"ranking": ["parks"]}]),
}


@pytest.mark.parametrize("kind", sorted(CHOICES))
def test_a_whole_ballot_of_ten_voters_counts_what_was_cast(ballot_stack, kind):
    s = ballot_stack
    method, choices = CHOICES[kind]
    voters = [Voter(f"p-{i:02d}") for i in range(10)]
    for v in voters:
        s.arrive(v.pseudonym, 201)
    created = s.create(method)
    bid = created["ballot_id"]
    assert created["state"] == "created" and created["title"][0]["text"] == "What first?"
    opened = s.ok(s.post(f"/{bid}/open"))
    assert opened["roll"] == dict(zip(("count", "root"), roll_commitment(v.pseudonym for v in voters)[:2]))
    for v in voters:
        assert v.obtain(s, opened).status_code == 201
    receipts = []
    for v, choice in zip(voters, choices):
        s.clock.advance(seconds=30)
        receipts.append(s.ok(v.cast(s, opened, choice), 202))
    assert all(r["status"] == "pending" for r in receipts)
    assert len(s.events("ballot.vote.cast")) == 8          # two full batches of 4; 2 wait
    s.clock.advance(hours=1)                                # past closes_at: the job closes it
    from services.ballot import jobs

    assert jobs.run_once(s.rt) == {"appended": 2, "closed": 1}
    closed = s.ok(s.get(f"/{bid}"))
    assert closed["state"] == "closed" and closed["cast"] == 10 and closed["early"] is False
    for i, share in enumerate(s.trustees.shares[:2]):
        answer = s.ok(s.client.post(s.url(f"/{bid}/shares"), json={"share": share}), 202)
        assert answer["received"] == i + 1
    final = s.ok(s.get(f"/{bid}"))
    assert final["state"] == "tallied" and final["private_key"] == s.trustees.private
    casts = s.events("ballot.vote.cast")
    by_nullifier = {r["nullifier"]: c for r, c in zip(receipts, choices)}
    in_log_order = [by_nullifier[e.payload["nullifier"]] for e in casts]
    assert final["result"] == tally.tally(spec_of(method, ["bikes", "parks", "trams"]), in_log_order)
    assert final["counted"] == 10
    # each batch shares one time, inside the window
    batches = {}
    for e in casts:
        batches.setdefault(e.payload["batch"], set()).add(e.occurred_at)
    assert len(batches) == 3 and all(len(times) == 1 for times in batches.values())
    assert all(e.occurred_at < created["closes_at"] for e in casts)
    receipt = s.ok(s.get(f"/{bid}/votes/{receipts[0]['nullifier']}"))
    assert receipt["status"] == "appended" and receipt["event"]["payload"]["nullifier"] == receipts[0]["nullifier"]
