"""The lottery's whole two-stage flow against the real PostgreSQL, and every draw recomputed from
the log with g1000_proofs alone (as an auditor would): register → invitation round → invitations
→ respondents → distribution job → panel round → panel draw → replacement. The lottery's events
are then fed to the real ledger consumer, which must append them all.

The fixtures and helpers here are shared by the other test_lottery_* modules.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from g1000_proofs import jcs, merkle
from g1000_proofs import register as register_v2
from g1000_proofs.draw import (
    check_households, check_quotas, next_reserve, panel_draw, register_commitment, row_from_json,
)
from g1000_proofs.seed import compute_seed
from g1000_verify.draw_checks import verify_draw

from services.core.runtime import Runtime, create_service_app
from services.core.signing import Signer, load_or_create_signer
from services.core.summits import apply_summit_created
from services.core.tokens import issue, new_claims
from services.lottery import jobs
from tests.helpers import AGES, HOODS, count, opaque, open_test_summit, runtime_for, vouching_client

pytestmark = pytest.mark.integration

TENANT = "Teststad"  # the municipality open_test_summit charters (with tests.helpers.VOCABULARY)
EDUCATION = ("low", "mid", "high")


# --- shared fixtures and helpers ----------------------------------------------------------------


@dataclass
class Lottery:
    rt: Runtime
    ledger: Runtime
    client: object
    summit: str
    signer: Signer

    def auth(self, role: str = "organiser", *, tenant: str = TENANT, summit: str | None = None) -> dict:
        if role in ("facilitator", "participant") and summit is None:
            summit = self.summit
        claims = new_claims(role=role, tenant=tenant, subject=f"test-{role}", now=int(time.time()),
                            ttl_seconds=3600, summit_id=summit)
        return {"Authorization": f"Bearer {issue(self.signer, claims)}"}

    def url(self, path: str, summit: str | None = None) -> str:
        return f"/v1/summits/{summit or self.summit}/lottery{path}"

    def post(self, path: str, body: dict | None = None, role: str | None = "organiser", **kw):
        headers = self.auth(role) if role else {}
        return self.client.post(self.url(path), json=body if body is not None else {}, headers=headers, **kw)

    def get(self, path: str):
        return self.client.get(self.url(path))

    def ok(self, response, status: int = 200) -> dict:
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def events(self, event_type: str | None = None) -> list:
        found = self.rt.store.read_stream(self.summit, limit=100_000)
        return [e for e in found if event_type is None or e.type == event_type]


def token_signer(env: dict) -> Signer:
    """The token key pair (tokens.pub is where services read it from by default)."""
    return load_or_create_signer(Path(env["G1000_DATA_DIR"]) / "secrets" / "tokens.key")


def learn_summits(lottery_rt: Runtime, ledger: Runtime, summit: str) -> None:
    """What the lottery's consumer does with the ledger's stream: learn the summit exists."""
    with lottery_rt.db.transaction() as conn:
        for event in ledger.store.read_stream(summit):
            apply_summit_created(conn, event)


@pytest.fixture
def lottery(service_env):
    signer = token_signer(service_env)
    rt = runtime_for("lottery", service_env)    # first: its key is in the summit's genesis
    # these tests' small made-up registers would fail the k-anonymity check, which is not what
    # they test (test_lottery_register.py tests it with the configured k)
    rt.config = replace(rt.config, register_k_anonymity=1)
    ledger = runtime_for("ledger", service_env)
    summit = open_test_summit(ledger)
    learn_summits(rt, ledger, summit)
    yield Lottery(rt, ledger, vouching_client(create_service_app(rt), service_env), summit, signer)
    rt.db.close()
    ledger.db.close()


def extract_csv(n: int = 60) -> str:
    """n residents with opaque ids and the charter's features (tests.helpers.VOCABULARY); the
    first 20 live two by two (10 shared households)."""
    lines = ["pseudonym,household,age_band,education,gender,neighbourhood"]
    for i in range(n):
        household = opaque(f"h{i // 2:03d}" if i < 20 else f"h{i:03d}")
        lines.append(f"{opaque(f'p{i:03d}')},{household},{AGES[i % 3]},{EDUCATION[(i // 2) % 3]},"
                     f"{'fm'[i % 2]},{HOODS[(i // 3) % 3]}")
    return "\n".join(lines) + "\n"


def stamp_in(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


def commit_value() -> tuple[str, str]:
    value = secrets.token_hex(32)
    return value, hashlib.sha256(value.encode()).hexdigest()


def wait_for_state(lot: Lottery, round_id: str, state: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while lot.ok(lot.get(f"/rounds/{round_id}"))["state"] != state:
        assert time.monotonic() < deadline, f"round never reached {state}"
        time.sleep(0.05)


def quick_round(lot: Lottery, purpose: str, parties=("gemeente", "notaris"), draw: dict | None = None) -> str:
    """A round whose parties commit (which ends the commit phase early), reveal and finalise.
    An invitation round declares its draw's parameters `draw` ({n, stratify_by}) when opened."""
    body = {"purpose": purpose, "parties": list(parties),
            "commit_deadline": stamp_in(60), "reveal_deadline": stamp_in(120)}
    if draw is not None:
        body["draw"] = draw
    rnd = lot.ok(lot.post("/rounds", body), 201)
    assert rnd["draw"] == draw
    values = {}
    for party in parties:
        values[party], digest = commit_value()
        lot.ok(lot.post(f"/rounds/{rnd['round_id']}/commitments", {"party": party, "commitment": digest}), 201)
    for party in parties:
        lot.ok(lot.post(f"/rounds/{rnd['round_id']}/reveals", {"party": party, "value": values[party]}), 201)
    final = lot.ok(lot.post(f"/rounds/{rnd['round_id']}/finalize"))
    assert final["state"] == "finalized" and len(final["seed"]) == 64
    return rnd["round_id"]


def import_register(lot: Lottery, csv: str) -> dict:
    """POST the extract (202: a job commits it), run that job, and return the public register."""
    job = lot.ok(lot.post("/register", {"csv": csv}), 202)
    assert job["kind"] == "register" and jobs.run_once(lot.rt) == job["job_id"]
    done = lot.ok(lot.client.get(job["location"]))
    assert done["state"] == "succeeded", done
    register = lot.ok(lot.get("/register"))
    assert register["register_id"] == done["register_id"]
    return register


def register_and_invite(lot: Lottery, n: int = 30, rows: int = 60) -> dict:
    import_register(lot, extract_csv(rows))
    round_id = quick_round(lot, "invitation", draw={"n": n, "stratify_by": "neighbourhood"})
    return lot.ok(lot.post("/invitations", {"round_id": round_id}), 201)


# --- recomputing everything from the log, with g1000_proofs only --------------------------------


def audit(lot: Lottery):
    """`g1000-verify draw`'s replay (verifier/g1000_verify/draw_checks.py) over the charter (for
    its vocabulary, which the replay checks every row and member against) and the lottery's events."""
    (charter,) = [e for e in lot.ledger.store.read_stream(lot.summit) if e.type == "ledger.summit.created"]
    # the lottery's events are numbered from 0 as their own log; the charter comes before them
    result = verify_draw(lot.summit, [(-1, charter.as_dict())]
                         + [(i, e.as_dict()) for i, e in enumerate(lot.events())])
    assert result.ok, result.failure
    assert not any("declares no register vocabulary" in n for n in result.notes)
    return result


def seed_from_log(events: list, summit: str, round_id: str) -> tuple[bytes, dict]:
    """The contributions in commitment order, from the round's events alone; the finalized event."""
    mine = [e for e in events if e.type.startswith("lottery.seed.") and e.payload["round_id"] == round_id]
    committed_at = {e.payload["party"]: e.seq for e in mine if e.type == "lottery.seed.committed"}
    positioned = []
    for e in mine:
        if e.type == "lottery.seed.contributed":
            c = e.payload["contribution"]
            positioned.append((committed_at[c["party"]] if c["kind"] == "commit-reveal" else e.seq, c))
    contributions = [c for _, c in sorted(positioned, key=lambda p: p[0])]
    final = next(e for e in mine if e.type == "lottery.seed.finalized")
    assert final.payload["contributions"] == contributions
    seed = compute_seed(summit, contributions)
    assert seed.hex() == final.payload["seed"]
    first = min(e.seq for e in mine if e.type in ("lottery.seed.committed", "lottery.seed.contributed"))
    return seed, {"first": first, "final": final}


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
