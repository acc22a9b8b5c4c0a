"""A whole ballot through the service against the real PostgreSQL, per counting method: arrivals,
creation, opening, blind credentials, sealed casts in shuffled batches, closing, the trustees'
shares, the revealed key and the tally, which must equal g1000_proofs.tally.tally of the choices
cast. The ballot's events are then fed to the real ledger consumer, which must append them all."""

from __future__ import annotations

import pytest
from g1000_proofs import tally
from g1000_proofs.ballot import roll_commitment
from g1000_proofs.ballot_count import spec_of

from services.ballot import jobs
from tests.helpers import count
from tests.support.ballot_flow import Voter, ballot_stack  # noqa: F401  (ballot_stack is a fixture)

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
    # the ledger verifies and appends every ballot event (signatures, schemas, seq)
    bodies = [e.body for e in s.events()]
    outcome = s.ledger.consumer().process([(f"ballot:{i}", b) for i, b in enumerate(bodies)])
    assert outcome.applied == len(bodies) == 10 + 1 + 1 + 10 + 10 + 1 + 2 and outcome.quarantined == 0
    assert count(s.ledger, "SELECT count(*) FROM log_entries WHERE summit_id = %s AND stream = 'ballot'",
                 s.summit) == len(bodies)


def test_the_timer_appends_what_waits_and_a_cast_leaves_no_time_or_order_behind(ballot_stack):
    s = ballot_stack
    voters = [Voter(f"p-{i}") for i in range(3)]
    for v in voters:
        s.arrive(v.pseudonym, 201)
    ballot = s.ok(s.post(f"/{s.create({'kind': 'schulze'})['ballot_id']}/open"))
    for v in voters:
        v.obtain(s, ballot)
    receipts = [s.ok(v.cast(s, ballot, {"ranking": ["parks"]}), 202) for v in voters[:2]]
    assert s.events("ballot.vote.cast") == []
    assert s.count("SELECT count(*) FROM ballot_pending_casts") == 2
    pending = s.ok(s.get(f"/{ballot['ballot_id']}/votes/{receipts[0]['nullifier']}"))
    assert pending["status"] == "pending" and pending["event"] is None
    assert s.ok(s.get(f"/{ballot['ballot_id']}"))["cast"] is None     # no cast count while open
    s.clock.advance(minutes=5)
    assert jobs.run_once(s.rt) == {"appended": 2, "closed": 0}
    assert s.count("SELECT count(*) FROM ballot_pending_casts") == 0
    casts = s.events("ballot.vote.cast")
    assert len(casts) == 2 and len({(e.occurred_at, e.payload["batch"]) for e in casts}) == 1
    assert s.ok(s.get(f"/{ballot['ballot_id']}/votes/{receipts[1]['nullifier']}"))["status"] == "appended"
    # the tables on the cast path: no time, no order, no link to an issuance
    with s.rt.db.transaction() as conn:
        columns = {t: {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (t,))}
            for t in ("ballot_pending_casts", "ballot_nullifiers")}
        defaults = conn.execute("SELECT count(*) FROM information_schema.columns WHERE table_name IN"
                                " ('ballot_pending_casts', 'ballot_nullifiers') AND column_default IS NOT NULL"
                                ).fetchone()[0]
    assert columns == {"ballot_pending_casts": {"cast_id", "ballot_id", "nullifier", "credential", "sealed"},
                       "ballot_nullifiers": {"ballot_id", "nullifier", "sealed_sha256", "seq", "event_id"}}
    assert defaults == 0


def test_the_service_documents_its_api(ballot_stack):
    doc = ballot_stack.client.get("/openapi.json").get_json()
    base = "/v1/summits/{summit_id}/ballots"
    assert {base, base + "/{ballot_id}", base + "/{ballot_id}/open", base + "/{ballot_id}/close",
            base + "/{ballot_id}/credentials", base + "/{ballot_id}/votes",
            base + "/{ballot_id}/votes/{nullifier}", base + "/{ballot_id}/shares"} <= set(doc["paths"])
    assert not any(p.startswith("/internal") for p in doc["paths"])
