"""The lottery service against the real PostgreSQL, for its integration tests: the ``lottery``
fixture (the service with a ledger and an open summit), a register extract, quick seed rounds and
the audit that replays the lottery's events as ``g1000-verify draw`` does (docs/lottery.md).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from g1000_proofs.seed import compute_seed
from g1000_verify.draw_checks import verify_draw

from services.core.runtime import Runtime, create_service_app
from services.core.signing import Signer, load_or_create_signer
from services.core.summits import apply_summit_created
from services.core.tokens import issue, new_claims
from services.lottery import jobs
from tests.helpers import AGES, HOODS, opaque, open_test_summit, runtime_for, vouching_client

TENANT = "Teststad"  # the municipality open_test_summit charters (with tests.helpers.VOCABULARY)
EDUCATION = ("low", "mid", "high")


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
