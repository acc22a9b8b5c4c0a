"""Seed rounds against the real PostgreSQL, with real (short) deadlines: wrong reveals and late
commitments are refused and never logged; a party that does not reveal is left out of the seed;
a draw takes only the round its subject was committed before, and no other."""

from __future__ import annotations

import pytest
from g1000_proofs.seed import compute_seed

from tests.support.lottery_flow import (  # noqa: F401 (fixture)
    audit, commit_value, extract_csv, import_register, lottery, quick_round, stamp_in, wait_for_state,
)

pytestmark = pytest.mark.integration


def test_wrong_reveal_late_commitment_and_the_non_reveal_rule(lottery):
    lot = lottery
    rnd = lot.ok(lot.post("/rounds", {"purpose": "panel", "parties": ["a", "b", "c"],
                                      "commit_deadline": stamp_in(1.0), "reveal_deadline": stamp_in(2.5)}), 201)
    rid = rnd["round_id"]
    assert rnd["state"] == "committing" and rnd["commit_deadline"].endswith("Z")
    values = {}
    for party in ("a", "b"):
        values[party], digest = commit_value()
        lot.ok(lot.post(f"/rounds/{rid}/commitments", {"party": party, "commitment": digest}), 201)
    assert lot.post(f"/rounds/{rid}/commitments", {"party": "a", "commitment": commit_value()[1]}).status_code == 409
    assert lot.post(f"/rounds/{rid}/commitments", {"party": "x", "commitment": commit_value()[1]}).status_code == 422
    wait_for_state(lot, rid, "revealing")
    logged = len(lot.events())

    late = lot.post(f"/rounds/{rid}/commitments", {"party": "c", "commitment": commit_value()[1]})
    assert late.status_code == 409 and "too late" in late.get_json()["detail"]
    wrong = lot.post(f"/rounds/{rid}/reveals", {"party": "b", "value": values["a"]})
    assert wrong.status_code == 422 and wrong.content_type == "application/problem+json"
    assert lot.post(f"/rounds/{rid}/beacon", {"value": "v"}).status_code == 422          # no source
    assert len(lot.events()) == logged                                                  # nothing logged

    lot.ok(lot.post(f"/rounds/{rid}/reveals", {"party": "a", "value": values["a"]}), 201)
    assert lot.post(f"/rounds/{rid}/dice", {"value": "6 6"}).status_code == 409          # after a reveal
    early = lot.post(f"/rounds/{rid}/finalize")
    assert early.status_code == 409 and "waiting for reveals of b" in early.get_json()["detail"]
    wait_for_state(lot, rid, "ended")
    assert lot.post(f"/rounds/{rid}/reveals", {"party": "b", "value": values["b"]}).status_code == 409
    final = lot.ok(lot.post(f"/rounds/{rid}/finalize"))
    assert final["not_revealed"] == ["b"]
    assert final["seed"] == compute_seed(lot.summit, [{"party": "a", "value": values["a"],
                                                       "kind": "commit-reveal"}]).hex()
    assert lot.post(f"/rounds/{rid}/finalize").status_code == 409
    (event,) = lot.events("lottery.seed.finalized")
    assert event.payload["not_revealed"] == ["b"] and event.payload["seed"] == final["seed"]
    committed = [e for e in lot.events("lottery.seed.committed")]
    assert all(e.occurred_at <= rnd["commit_deadline"] for e in committed)
    assert all(e.occurred_at > rnd["commit_deadline"] for e in lot.events("lottery.seed.contributed"))
    assert audit(lot).warnings == [f"seed round {rid} (panel): party 'b' committed at entry "
                                   f"{lot.events('lottery.seed.committed')[1].seq - 1} and did not reveal; "
                                   "it is left out of the seed"]


def test_round_requests_that_make_no_sense_are_422_or_404(lottery):
    lot = lottery
    base = {"purpose": "panel", "parties": ["a"], "commit_deadline": stamp_in(60), "reveal_deadline": stamp_in(120)}
    for change in ({"commit_deadline": stamp_in(-1)}, {"reveal_deadline": stamp_in(30)},
                   {"purpose": "ballot"}, {"parties": ["a", "a"]}, {"parties": ["Jan Jansen"]},
                   {"commit_deadline": "2030-01-01T10:00:00"}, {"parties": []}):
        r = lot.post("/rounds", {**base, **change})
        assert r.status_code == 422, (change, r.get_json())
    unknown = "00000000-0000-4000-8000-000000000000"
    assert lot.get(f"/rounds/{unknown}").status_code == 404
    assert lot.post(f"/rounds/{unknown}/finalize").status_code == 404
    assert lot.events() == []
    assert lot.ok(lot.get("/rounds")) == {"rounds": []}


def test_a_draw_takes_only_the_round_its_subject_preceded(lottery):
    lot = lottery
    early = lot.ok(lot.post("/rounds", {"purpose": "invitation", "parties": ["a"], "draw": {"n": 5},
                                        "commit_deadline": stamp_in(60), "reveal_deadline": stamp_in(120)}), 201)
    value, digest = commit_value()
    lot.ok(lot.post(f"/rounds/{early['round_id']}/commitments", {"party": "a", "commitment": digest}), 201)
    import_register(lot, extract_csv(40))                           # after the round's first commitment
    lot.ok(lot.post(f"/rounds/{early['round_id']}/reveals", {"party": "a", "value": value}), 201)
    lot.ok(lot.post(f"/rounds/{early['round_id']}/finalize"))
    r = lot.post("/invitations", {"round_id": early["round_id"], "n": 5})
    assert r.status_code == 409 and "after the first contribution" in r.get_json()["detail"]

    panel_round = quick_round(lot, "panel")
    five = {"n": 5, "stratify_by": None}
    first, second = quick_round(lot, "invitation", draw=five), quick_round(lot, "invitation", draw=five)
    assert lot.post("/invitations", {"round_id": panel_round, "n": 5}).status_code == 422     # wrong purpose
    chosen = lot.post("/invitations", {"round_id": second, "n": 5})
    assert chosen.status_code == 409 and first in chosen.get_json()["detail"]                  # no seed shopping
    assert lot.post("/invitations", {"round_id": first, "n": 5, "stratify_by": "shoe_size"}).status_code == 409
    assert lot.post("/invitations", {"round_id": first, "n": 41}).status_code == 409           # not declared
    assert lot.events("lottery.invitations.drawn") == []
    drawn = lot.ok(lot.post("/invitations", {"round_id": first, "n": 5}), 201)
    assert drawn["round_id"] == first and len(drawn["invitees"]) == 5
    assert lot.post("/invitations", {"round_id": first, "n": 5}).status_code == 409           # once per summit
    assert audit(lot).counts["invitation_draws"] == 1
