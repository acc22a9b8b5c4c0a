"""The lottery's whole two-stage flow against the real PostgreSQL, and every draw recomputed from
the log with g1000_proofs alone (as an auditor would): register → invitation round → invitations
→ respondents → distribution job → panel round → panel draw → replacement. The lottery's events
are then fed to the real ledger consumer, which must append them all.

The fixtures and helpers it shares with the other test_lottery_* modules are in
tests/support/lottery_flow.py.
"""

from __future__ import annotations

import pytest
from g1000_proofs import jcs, merkle
from g1000_proofs import register as register_v2
from g1000_proofs.draw import (
    check_households, check_quotas, next_reserve, panel_draw, register_commitment, row_from_json,
)

from services.lottery import jobs
from tests.helpers import AGES, count
from tests.support.lottery_flow import (  # noqa: F401  (lottery is a fixture)
    EDUCATION, audit, commit_value, lottery, register_and_invite, seed_from_log, stamp_in, wait_for_state,
)

pytestmark = pytest.mark.integration

# --- recomputing everything from the log, with g1000_proofs only --------------------------------


def verify_lottery_log(events: list, summit: str) -> dict:
    by_type: dict[str, list] = {}
    for e in events:
        by_type.setdefault(e.type, []).append(e)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    (committed,) = by_type["lottery.register.committed"]
    assert committed.payload["v"] == 2 and committed.payload["contract"] == 2
    rows = [register_v2.committed_row_from_json(r) for e in by_type["lottery.register.chunk"]
            for r in e.payload["rows"]]
    register_v2.verify_register_root(rows, committed.payload["count"], bytes.fromhex(committed.payload["root"]))
    (invited,) = by_type["lottery.invitations.drawn"]
    seed, info = seed_from_log(events, summit, invited.payload["round_id"])
    assert committed.seq < info["first"]
    by_name = {r.pseudonym: r for r in rows}
    households, strata = {}, {}
    for e in by_type.get("lottery.register.revealed", []):   # every reveal opens its own commitment
        assert committed.seq < e.seq < invited.seq and e.payload["draw_id"] == invited.payload["draw_id"]
        for o in e.payload["openings"]:
            row, salt = by_name[o["pseudonym"]], bytes.fromhex(o["salt"])
            if e.payload["field"] == "household":
                register_v2.check_household_opening(row, o["value"], salt)
                households[row.pseudonym] = o["value"]
            else:
                register_v2.check_feature_opening(row, e.payload["feature"], o["value"], salt)
                strata[row.pseudonym] = o["value"]
    stratify_by = invited.payload["stratify_by"]
    walk = register_v2.reached_rows(seed, list(by_name), invited.payload["n"], households,
                                    stratify_by=stratify_by, strata=strata if stratify_by else None)
    assert walk.invitees == invited.payload["invitees"] and set(walk.reached) == set(households)
    respondents = [e for e in by_type.get("lottery.pool.member_added", []) if e.payload["pool"] == "respondents"]
    for e in respondents:
        assert e.payload["member"]["pseudonym"] in invited.payload["invitees"]
        assert e.payload["member"]["household"] == households[e.payload["member"]["pseudonym"]]
    out = {"rows": rows, "invitees": invited.payload["invitees"], "reached": walk.reached}
    for dist in by_type.get("lottery.distribution.committed", []):
        d = dist.payload
        members = [row_from_json(e.payload["member"]) for e in by_type["lottery.pool.member_added"]
                   if e.payload["pool"] == d["pool"] and e.seq < dist.seq]
        assert register_commitment(members) == (d["members"], bytes.fromhex(d["members_root"]))
        chunks = [e.payload for e in by_type["lottery.distribution.panels"]
                  if e.payload["distribution_id"] == d["distribution_id"]]
        panels = [p for c in sorted(chunks, key=lambda c: c["chunk"]) for p in c["panels"]]
        assert len(panels) == d["panel_count"] == len(d["weights"]) and sum(d["weights"]) == d["total_weight"]
        root = merkle.root_from_leaves([merkle.leaf_hash(jcs.dumps(p)) for p in panels])
        assert root.hex() == d["panels_root"]
        by_id = {m.pseudonym: m for m in members}
        for panel in panels:
            assert len(panel) == d["panel_size"]
            assert check_quotas([by_id[p] for p in panel], d["quotas"]) == []
            assert check_households([by_id[p] for p in panel]) == []
        out.setdefault("distributions", {})[d["distribution_id"]] = (dist.seq, d, panels, members)
    for drawn in by_type.get("lottery.panel.drawn", []):
        seq, d, panels, members = out["distributions"][drawn.payload["distribution_id"]]
        seed, info = seed_from_log(events, summit, drawn.payload["round_id"])
        assert seq < info["first"]
        index = panel_draw(seed, d["distribution_id"], d["weights"])
        assert drawn.payload["index"] == index and drawn.payload["members"] == panels[index]
        panel, ever = list(panels[index]), set(panels[index])
        by_id = {m.pseudonym: m for m in members}
        for replaced in by_type.get("lottery.panel.replaced", []):
            r = replaced.payload
            reserves = [m for m in members if m.pseudonym not in ever]
            chosen = next_reserve(seed, reserves, [by_id[p] for p in panel], d["quotas"], by_id[r["dropped"]])
            assert r["replacement"] == (chosen.pseudonym if chosen else None)
            panel.remove(r["dropped"])
            if chosen:
                panel.append(chosen.pseudonym)
                ever.add(chosen.pseudonym)
        out["panel"] = sorted(panel)
    return out


# --- the flow -----------------------------------------------------------------------------------


def test_two_stage_lottery_recomputes_from_the_log_and_the_ledger_appends_it(lottery):
    lot = lottery
    invited = register_and_invite(lot)
    assert len(invited["codes"]) == 30 and invited["stratify_by"] == "neighbourhood"
    codes = {c["pseudonym"]: c["code"] for c in invited["codes"]}
    assert lot.get("/invitations").get_json()["invitees"] == invited["invitees"]
    assert "codes" not in lot.get("/invitations").get_json()
    logged = b"".join(e.body for e in lot.events())
    assert not any(code.encode() in logged or code.replace("-", "").encode() in logged for code in codes.values())

    # stage 1 → respondents: 20 invitees answer with the code from their letter
    for i, pseudonym in enumerate(invited["invitees"][:20]):
        features = {"education": EDUCATION[i % 3]}
        member = lot.ok(lot.post("/respondents", {"code": codes[pseudonym].lower(), "features": features,
                                                  "consent": True}, role=None), 201)
        assert member["member"]["pseudonym"] == pseudonym and member["member"]["features"]["education"]
    assert lot.get("/invitations").get_json()["responded"] == 20

    # stage 2: a fair distribution over panels, computed by the job loop
    quotas = {"gender": {"f": [2, 4], "m": [2, 4]}, "age_band": {a: [1, 3] for a in AGES}}
    accepted = lot.post("/pools/respondents/distributions", {"panel_size": 6, "quotas": quotas})
    job = lot.ok(accepted, 202)
    assert accepted.headers["Location"] == job["location"] and job["state"] == "queued"
    assert jobs.run_once(lot.rt) == job["job_id"]
    done = lot.ok(lot.client.get(job["location"]))
    assert done["state"] == "succeeded", done
    dist = lot.ok(lot.get(f"/pools/respondents/distributions/{done['distribution_id']}"))
    assert dist["members"] == 20 and sum(dist["weights"]) == dist["total_weight"]
    assert len(dist["probabilities"]) == 20 and dist["fairness"]["minimum"] > 0
    assert sum(int(p["probability"].split("/")[0]) / int(p["probability"].split("/")[1])
               for p in dist["probabilities"]) == pytest.approx(6)

    # the panel round comes after the distribution; its commit deadline passes for real
    panel_round = lot.ok(lot.post("/rounds", {
        "purpose": "panel", "parties": ["gemeente", "notaris", "burgers"],
        "commit_deadline": stamp_in(1.5), "reveal_deadline": stamp_in(60)}), 201)
    rid = panel_round["round_id"]
    values = {}
    for party in ("gemeente", "notaris"):
        values[party], digest = commit_value()
        lot.ok(lot.post(f"/rounds/{rid}/commitments", {"party": party, "commitment": digest},
                        role="facilitator"), 201)
    early = lot.post(f"/rounds/{rid}/reveals", {"party": "gemeente", "value": values["gemeente"]})
    assert early.status_code == 409
    wait_for_state(lot, rid, "revealing")
    late = lot.post(f"/rounds/{rid}/commitments", {"party": "burgers", "commitment": commit_value()[1]})
    assert late.status_code == 409 and late.content_type == "application/problem+json"
    lot.ok(lot.post(f"/rounds/{rid}/dice", {"value": "3 6 1 4 4 2"}), 201)
    beacon = lot.ok(lot.post(f"/rounds/{rid}/beacon", {"value": "ab" * 32, "source": "drand quicknet 123"}), 201)
    assert beacon["contributions"][-1]["value"] == "ab" * 32 + " @ drand quicknet 123"
    assert beacon["contributions"][-1]["source"] == "drand quicknet 123"
    for party in ("notaris", "gemeente"):
        lot.ok(lot.post(f"/rounds/{rid}/reveals", {"party": party, "value": values[party]}), 201)
    assert lot.post(f"/rounds/{rid}/dice", {"party": "notary2", "value": "6"}).status_code == 409
    final = lot.ok(lot.post(f"/rounds/{rid}/finalize"))
    assert [c["party"] for c in final["seed_contributions"]] == ["gemeente", "notaris", "notary", "beacon"]

    drawn = lot.ok(lot.post("/pools/respondents/draws", {"distribution_id": dist["distribution_id"],
                                                         "round_id": rid}), 201)
    assert len(drawn["members"]) == 6 and drawn["members"] == drawn["drawn"]
    again = lot.post("/pools/respondents/draws", {"distribution_id": dist["distribution_id"], "round_id": rid})
    assert again.status_code == 409

    dropped = drawn["members"][0]
    replaced = lot.post("/pools/respondents/replacements", {"distribution_id": dist["distribution_id"],
                                                            "dropped": dropped})
    assert replaced.status_code in (201, 409), replaced.get_json()
    if replaced.status_code == 409:  # no reserve keeps the quotas: record the empty seat instead
        replaced = lot.post("/pools/respondents/replacements", {
            "distribution_id": dist["distribution_id"], "dropped": dropped, "accept_vacancy": True})
    panel = lot.ok(replaced, 201)
    assert dropped not in panel["members"]

    recomputed = verify_lottery_log(lot.events(), lot.summit)
    assert recomputed["panel"] == panel["members"] == lot.ok(lot.get("/pools/respondents/panel"))["members"]
    checked = audit(lot)
    assert checked.counts["panel_draws"] == 1 and checked.counts["replacements"] == 1
    assert checked.counts["respondents"] == 20 and checked.warnings == []

    # the ledger verifies and appends every lottery event (signatures, schemas, seq)
    bodies = [e.body for e in lot.events()]
    outcome = lot.ledger.consumer().process([(f"lottery:{i}", b) for i, b in enumerate(bodies)])
    assert outcome.applied == len(bodies) and outcome.quarantined == 0
    assert count(lot.ledger, "SELECT count(*) FROM log_entries WHERE summit_id = %s AND stream = 'lottery'",
                  lot.summit) == len(bodies)


def test_respondent_codes_are_single_use_and_need_consent(lottery):
    lot = lottery
    invited = register_and_invite(lot, n=5)
    code = invited["codes"][0]["code"]
    assert lot.post("/respondents", {"code": code, "consent": False}, role=None).status_code == 422
    assert lot.post("/respondents", {"code": "0000-0000-0000", "consent": True}, role=None).status_code == 404
    assert lot.post("/respondents", {"code": "not a code", "consent": True}, role=None).status_code == 422
    assert lot.post("/respondents", {"code": code, "consent": True,
                                     "features": {"born": "1990-01-02"}}, role=None).status_code == 422
    lot.ok(lot.post("/respondents", {"code": code.replace("-", " "), "consent": True}, role=None), 201)
    reused = lot.post("/respondents", {"code": code, "consent": True}, role=None)
    assert reused.status_code == 409 and reused.content_type == "application/problem+json"
    assert len(lot.events("lottery.pool.member_added")) == 1
    with lot.rt.db.transaction() as conn:  # only hashes of the codes are stored
        stored = [bytes(r[0]) for r in conn.execute("SELECT code_hash FROM lottery_invitation_codes")]
    assert len(stored) == 5 and all(len(h) == 32 for h in stored)


def test_h2_a_respondent_can_add_no_free_text_and_no_undeclared_feature(lottery):
    """Issue 10 H2, the exact body that was accepted and published in lottery.pool.member_added:
    now 422 and nothing published; the code stays unused. Only declared names with declared
    values pass (they override the register's)."""
    lot = lottery
    invited = register_and_invite(lot, n=5)
    code = invited["codes"][0]["code"]
    before = len(lot.events())
    h2 = {"opmerking": "woon Kerkstraat 12 …", "religie": "…", "gezondheid": "diabetes type 2"}
    refused = lot.post("/respondents", {"code": code, "consent": True, "features": h2}, role=None)
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert len(refused.get_json()["errors"]["features"]) == 3
    assert "Kerkstraat" not in refused.get_data(as_text=True) and "diabetes" not in refused.get_data(as_text=True)
    for features in ({"education": "hbo, woon Kerkstraat 12"}, {"age_band": "1961-04-12"},
                     {"education": "low", "opmerking": "x"}):
        assert lot.post("/respondents", {"code": code, "consent": True, "features": features},
                        role=None).status_code == 422, features
    assert len(lot.events()) == before and lot.events("lottery.pool.member_added") == []
    member = lot.ok(lot.post("/respondents", {"code": code, "consent": True, "features": {"education": "high"}},
                             role=None), 201)
    assert member["member"]["features"]["education"] == "high"
    (added,) = lot.events("lottery.pool.member_added")
    assert set(added.payload["member"]["features"]) == {"age_band", "education", "gender", "neighbourhood"}


def test_nominees_take_only_opaque_ids_and_declared_features(lottery):
    lot = lottery
    for member in ({"pseudonym": "Jan.de.Vries", "features": {"gender": "m"}},
                   {"household": "3811AB-12", "features": {"gender": "m"}},
                   {"features": {"sector": "zorg"}}, {"features": {"gender": "man"}},
                   {"features": {"opmerking": "woon Kerkstraat 12"}}):
        refused = lot.post("/pools/employers/members", {"members": [member]})
        assert refused.status_code == 422 and refused.content_type == "application/problem+json", member
    assert lot.events() == []
    added = lot.ok(lot.post("/pools/employers/members", {"members": [{"features": {"gender": "m"}}]}), 201)
    (member,) = added["added"]
    assert len(member["pseudonym"]) == 32 and member["household"] == member["pseudonym"]
    assert int(member["pseudonym"], 16) >= 0 and member["pseudonym"] == member["pseudonym"].lower()
