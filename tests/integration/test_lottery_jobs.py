"""Distribution jobs against the real PostgreSQL: quotas checked at POST time, a job survives a
killed worker, a job whose pool changed fails and says so, infeasible quotas end with the
diagnosis; the background loop runs them; stakeholder pools are drawn and replaced from.

Job mechanics use a small exhaustive stand-in for the selection (every valid panel, fixed
weights), so they do not depend on LEXIMIN's speed; the infeasible case uses the real one.
"""

from __future__ import annotations

import itertools

import pytest
from g1000_proofs.draw import check_households, check_quotas, next_reserve, row_from_json

from services.lottery import jobs
from tests.helpers import count, opaque, running, wait_until
from tests.support.lottery_flow import audit, lottery, quick_round  # noqa: F401

pytestmark = pytest.mark.integration

QUOTAS = {"gender": {"f": [1, 1], "m": [1, 1]}}


def every_valid_panel(members, panel_size, quotas):
    panels = [tuple(m.pseudonym for m in combo)
              for combo in itertools.combinations(sorted(members, key=lambda m: m.pseudonym), panel_size)
              if not check_quotas(combo, quotas) and not check_households(combo)]
    return panels, [1] * len(panels), {"selector": "exhaustive test stand-in"}


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(jobs, "select", every_valid_panel)


def nominate(lot, pool: str, *genders: str) -> list[str]:
    body = {"members": [{"pseudonym": opaque(f"{pool}{i}"), "features": {"gender": g}} for i, g in enumerate(genders)]}
    return [m["pseudonym"] for m in lot.ok(lot.post(f"/pools/{pool}/members", body), 201)["added"]]


def ask(lot, pool: str = "employers", panel_size: int = 2, quotas=None):
    return lot.post(f"/pools/{pool}/distributions", {"panel_size": panel_size, "quotas": quotas or QUOTAS})


def job_state(lot, job: dict) -> dict:
    return lot.ok(lot.client.get(job["location"]))


def test_quotas_are_checked_before_a_job_is_queued(lottery):
    lot = lottery
    nominate(lot, "employers", "f", "m", "x")
    for quotas, size in (({"age": {"a": [0, 1]}}, 2), (QUOTAS, 2), ({"gender": {"f": [2, 1]}}, 2),
                         ({"gender": {"f": ["1", 2]}}, 2), ({"gender": {"f": [0.5, 2]}}, 2),
                         ({"gender": {"f": [0, 2], "m": [0, 2], "x": [0, 2]}}, 4), ({}, 2)):
        r = ask(lot, panel_size=size, quotas=quotas)
        assert r.status_code == 422, (quotas, r.get_json())
    assert ask(lot, pool="nobody_yet").status_code == 422
    assert ask(lot, pool="Bad-Name").status_code == 404
    assert lot.post("/pools/respondents/members", {"members": [{"features": {}}]}).status_code == 422
    assert count(lot.rt, "SELECT count(*) FROM lottery_jobs") == 0


def test_job_survives_a_killed_worker_and_commits_once(lottery, stand_in):
    lot = lottery
    only_m = nominate(lot, "employers", "f", "f", "m")[2]
    job = lot.ok(ask(lot), 202)
    lost = jobs.claim(lot.rt.db, "worker-that-dies")          # claimed, then the process is killed
    assert lost.job_id == job["job_id"] and job_state(lot, job)["state"] == "running"
    assert jobs.run_once(lot.rt, "second") is None             # its lease still holds
    with lot.rt.db.transaction() as conn:                      # ... until it runs out
        conn.execute("UPDATE lottery_jobs SET lease_until = now() - interval '1 second'")
    assert jobs.run_once(lot.rt, "second") == job["job_id"]
    done = job_state(lot, job)
    assert done["state"] == "succeeded" and done["attempts"] == 2
    jobs._commit(lot.rt, lost, *jobs._compute(lot.rt, lost)[0])   # the dead worker's late result
    assert len(lot.events("lottery.distribution.committed")) == 1
    dist = lot.ok(lot.get(f"/pools/employers/distributions/{done['distribution_id']}"))
    chances = {p["pseudonym"]: p["probability"] for p in dist["probabilities"]}
    assert dist["panel_count"] == 2 and chances[only_m] == "1/1"
    assert lot.ok(lot.get("/pools/employers/distributions"))["distributions"][0]["panel_count"] == 2


def test_job_fails_when_its_pool_changed_or_after_too_many_attempts(lottery, stand_in, monkeypatch):
    lot = lottery
    nominate(lot, "employers", "f", "m")

    def select_while_a_member_joins(members, panel_size, quotas):
        lot.ok(lot.post("/pools/employers/members", {"members": [{"features": {"gender": "m"}}]}), 201)
        return every_valid_panel(members, panel_size, quotas)

    monkeypatch.setattr(jobs, "select", select_while_a_member_joins)
    job = lot.ok(ask(lot), 202)
    jobs.run_once(lot.rt)
    failed = job_state(lot, job)
    assert failed["state"] == "failed" and failed["error"]["kind"] == "pool_changed"
    assert lot.events("lottery.distribution.committed") == []

    job = lot.ok(ask(lot), 202)
    with lot.rt.db.transaction() as conn:   # claimed and lost by three workers in a row
        conn.execute("UPDATE lottery_jobs SET state = 'running', attempts = %s,"
                     " lease_until = now() - interval '1 second' WHERE job_id = %s", (jobs.MAX_ATTEMPTS, job["job_id"]))
    jobs.run_once(lot.rt)
    assert job_state(lot, job)["error"]["kind"] == "gave_up"


def test_infeasible_quotas_end_the_job_with_a_diagnosis(lottery):
    lot = lottery
    nominate(lot, "government", "f", "f", "f", "m")
    job = lot.ok(ask(lot, pool="government", panel_size=3, quotas={"gender": {"f": [0, 1], "m": [0, 1]}}), 202)
    assert jobs.run_once(lot.rt) == job["job_id"]
    failed = job_state(lot, job)
    assert failed["state"] == "failed" and failed["error"]["kind"] == "infeasible", failed
    assert failed["error"]["diagnosis"]["conflicts"] and failed["error"]["diagnosis"]["message"]
    assert lot.events("lottery.distribution.committed") == []


def test_background_loop_runs_jobs_and_stakeholder_panels_are_drawn_and_replaced(lottery, stand_in):
    lot = lottery
    members = nominate(lot, "free_thinkers", "f", "f", "m")
    job = lot.ok(ask(lot, pool="free_thinkers"), 202)
    with running(jobs.loop(lot.rt)):
        wait_until(lambda: job_state(lot, job)["state"] == "succeeded", timeout=30, what="the job")
    dist_id = job_state(lot, job)["distribution_id"]
    round_id = quick_round(lot, "panel")
    panel = lot.ok(lot.post("/pools/free_thinkers/draws", {"distribution_id": dist_id, "round_id": round_id}), 201)
    assert members[2] in panel["members"] and len(panel["members"]) == 2
    only_m = lot.post("/pools/free_thinkers/replacements", {"distribution_id": dist_id, "dropped": members[2]})
    assert only_m.status_code == 409 and only_m.content_type == "application/problem+json"
    f_on_panel = next(p for p in panel["members"] if p != members[2])
    replaced = lot.ok(lot.post("/pools/free_thinkers/replacements",
                               {"distribution_id": dist_id, "dropped": f_on_panel}), 201)
    other_f = next(p for p in members[:2] if p != f_on_panel)
    assert replaced["members"] == sorted([other_f, members[2]])
    (event,) = lot.events("lottery.panel.replaced")
    rows = {m["pseudonym"]: row_from_json(m) for m in lot.ok(lot.get("/pools/free_thinkers"))["members"]}
    seed = bytes.fromhex(lot.ok(lot.get(f"/rounds/{round_id}"))["seed"])
    expected = next_reserve(seed, [rows[other_f]], [rows[p] for p in panel["members"]], QUOTAS, rows[f_on_panel])
    assert event.payload["replacement"] == expected.pseudonym == other_f
    vacancy = lot.ok(lot.post("/pools/free_thinkers/replacements",
                              {"distribution_id": dist_id, "dropped": members[2], "accept_vacancy": True}), 201)
    assert vacancy["members"] == [other_f] and vacancy["replacements"][-1]["replacement"] is None
    assert lot.post("/pools/free_thinkers/replacements", {"distribution_id": dist_id,
                                                          "dropped": members[2]}).status_code == 422
    assert lot.post("/pools/free_thinkers/members", {"members": [{"features": {"gender": "m"}}]}).status_code == 409
    assert audit(lot).counts["replacements"] == 2
