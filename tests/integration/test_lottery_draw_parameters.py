"""Through the real lottery (PostgreSQL, the service's routes): the invitation draw's parameters
are fixed when its round is opened, before any party commits (issue 10 H3).

A round of purpose `invitation` is refused without `draw` {n, stratify_by}; its
`lottery.seed.round_opened` v2 carries them; `POST /invitations` draws with them, refuses others
(409 problem+json, nothing logged), and the honest draw verifies (`g1000-verify draw`'s replay).
"""

from __future__ import annotations

from tests.support.lottery_flow import (  # noqa: F401  (lottery is a fixture)
    audit, extract_csv, import_register, lottery, quick_round, stamp_in,
)

DECLARED = {"n": 12, "stratify_by": "neighbourhood"}


def round_body(purpose: str = "invitation", **extra) -> dict:
    return {"purpose": purpose, "parties": ["gemeente", "notaris"], "commit_deadline": stamp_in(60),
            "reveal_deadline": stamp_in(120), **extra}


def test_an_invitation_round_without_valid_draw_parameters_is_refused(lottery):
    lot = lottery
    import_register(lot, extract_csv(40))
    before = len(lot.events())
    for body, fragment in (
            (round_body(), "declares its draw's parameters"),
            (round_body(draw=None), "declares its draw's parameters"),
            (round_body(draw={"n": 5, "stratify_by": "shoe_size"}), "no feature 'shoe_size'"),
            (round_body(draw={"n": 0}), None),
            (round_body(draw={"stratify_by": None}), None),
            (round_body("panel", draw={"n": 5, "stratify_by": None}), "a panel round declares no draw")):
        r = lot.post("/rounds", body)
        assert r.status_code == 422 and r.content_type == "application/problem+json", (body, r.get_json())
        if fragment:
            assert fragment in r.get_json()["detail"], r.get_json()
    assert len(lot.events()) == before and lot.ok(lot.get("/rounds")) == {"rounds": []}


def test_the_draw_uses_the_parameters_its_round_declared(lottery):
    lot = lottery
    import_register(lot, extract_csv(60))
    round_id = quick_round(lot, "invitation", draw=DECLARED)
    (opened,) = [e for e in lot.events("lottery.seed.round_opened") if e.payload["round_id"] == round_id]
    assert opened.payload["v"] == 2 and opened.payload["draw"] == DECLARED
    assert lot.ok(lot.get(f"/rounds/{round_id}"))["draw"] == DECLARED

    before = lot.events()
    for other in ({"n": 13}, {"n": 11, "stratify_by": "neighbourhood"}, {"stratify_by": None},
                  {"stratify_by": "age_band"}, {"n": 12, "stratify_by": "gender"}):
        r = lot.post("/invitations", {"round_id": round_id, **other})
        assert r.status_code == 409 and r.content_type == "application/problem+json", (other, r.get_json())
        assert "instead of the declared" in r.get_json()["detail"]
    assert lot.events() == before                                       # nothing changed
    assert lot.get("/invitations").status_code == 404

    drawn = lot.ok(lot.post("/invitations", {"round_id": round_id}), 201)
    assert (drawn["n"], drawn["stratify_by"], len(drawn["invitees"])) == (12, "neighbourhood", 12)
    (logged,) = lot.events("lottery.invitations.drawn")
    assert (logged.payload["n"], logged.payload["stratify_by"]) == (12, "neighbourhood")
    result = audit(lot)
    assert result.counts["invitation_draws"] == 1
    assert not any("declared no draw parameters" in w for w in result.warnings)


def test_a_request_may_repeat_the_declared_parameters(lottery):
    lot = lottery
    import_register(lot, extract_csv(40))
    round_id = quick_round(lot, "invitation", draw={"n": 5, "stratify_by": None})
    drawn = lot.ok(lot.post("/invitations", {"round_id": round_id, "n": 5, "stratify_by": None}), 201)
    assert (drawn["n"], drawn["stratify_by"]) == (5, None)
    audit(lot)


def test_declared_parameters_the_register_cannot_serve_are_refused_at_the_draw(lottery):
    lot = lottery
    import_register(lot, extract_csv(40))                     # 30 households
    round_id = quick_round(lot, "invitation", draw={"n": 41, "stratify_by": None})
    before = lot.events()
    r = lot.post("/invitations", {"round_id": round_id})
    assert r.status_code == 422 and r.content_type == "application/problem+json", r.get_json()
    assert lot.events() == before
