"""The whole stack as a user runs it: `g1000 up`, every service ready, `g1000 demo`, clean stop,
and a restart on the same data directory that keeps every event."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from g1000.procs import free_port

from tests.e2e.stack_support import Stacks, admin

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path):
    stacks = Stacks(tmp_path)
    yield stacks.start
    stacks.close()


def assert_published_register_is_k_anonymous(gateway: str, summit_id: str, size: int) -> None:
    """H3: the demo's log publishes the register as commitments only (contract 2): ids are opaque
    128-bit hex, and clear values are revealed only for what the invitation draw reached -- the
    households of the reached rows and the stratum feature (g1000_proofs.register)."""
    from g1000_proofs.register import committed_row_from_json

    rows, committed, households, features = [], None, {}, {}
    for start in range(0, size, 1000):
        page = requests.get(f"{gateway}/v1/logs/{summit_id}/entries", timeout=10,
                            params={"start": start, "end": min(size, start + 1000)}).json()["entries"]
        for entry in page:
            event = entry["event"]
            if event["type"] == "lottery.register.chunk":
                rows += [committed_row_from_json(r) for r in event["payload"]["rows"]]
            elif event["type"] == "lottery.register.committed":
                committed = event["payload"]
            elif event["type"] == "lottery.register.revealed":
                target = households if event["payload"]["field"] == "household" else \
                    features.setdefault(event["payload"]["feature"], {})
                target.update({o["pseudonym"]: o["value"] for o in event["payload"]["openings"]})
    assert len(rows) == 2400 and committed["contract"] == 2 and committed["features"]
    assert all(re.fullmatch(r"[0-9a-f]{32}", r.pseudonym) for r in rows)
    assert all(re.fullmatch(r"[0-9a-f]{32}", h) for h in households.values())
    assert 360 <= len(households) < len(rows)           # the invitees and the rows skipped, no more
    assert len(features) <= 1 and all(len(v) == len(rows) for v in features.values())


def log_events(gateway: str, summit_id: str, size: int) -> list[tuple[int, dict]]:
    """Every event of a summit's log, read through the gateway as an outsider reads it."""
    out: list[tuple[int, dict]] = []
    for start in range(0, size, 1000):
        page = requests.get(f"{gateway}/v1/logs/{summit_id}/entries", timeout=10,
                            params={"start": start, "end": min(size, start + 1000)}).json()["entries"]
        out += [(start + i, entry["event"]) for i, entry in enumerate(page)]
    assert len(out) == size
    return out


def assert_every_payload_is_allow_listed(gateway: str, summit_id: str, size: int) -> None:
    """Issue 10 Done-when: every payload of the demo's log has only members its catalogue schema
    declares, feature names and values of the charter's vocabulary, opaque ids, and no free
    text outside the catalogue's text members (tests/payload_scan.py)."""
    from tests.payload_scan import scan

    vocabulary = requests.get(f"{gateway}/v1/summits/{summit_id}", timeout=5).json()["register"]["features"]
    events = log_events(gateway, summit_id, size)
    charter = events[0][1]
    assert charter["type"] == "ledger.summit.created" and charter["payload"]["v"] == 2
    assert charter["payload"]["register"]["features"] == vocabulary
    assert scan(events, vocabulary) == []
    kinds = {e["type"] for _, e in events}
    assert {"lottery.register.chunk", "lottery.pool.member_added", "lottery.panel.drawn"} <= kinds


def assert_each_process_holds_its_own_database_role_only(data_dir: Path, manifest: dict) -> None:
    """Build 4: no process of the stack, and not stack.json, holds the superuser's password or the
    owner's; each service's processes (and the gateway) hold their own runtime role's only."""
    from psycopg.conninfo import conninfo_to_dict

    roles = data_dir / "postgres-roles"
    assert roles.stat().st_mode & 0o077 == 0
    passwords = {p.name.removesuffix(".password"): p.read_text().strip() for p in roles.glob("*.password")}
    assert all(p.stat().st_mode & 0o077 == 0 for p in roles.glob("*.password"))
    superuser = (data_dir / "postgres.password").read_text().strip()
    assert set(passwords) == {"g1000_owner", *(f"g1000_svc_{n}" for n in (*manifest["services"], "gateway"))}
    assert conninfo_to_dict(manifest["database_url"])["user"] == "g1000_svc_gateway"
    text = (data_dir / "stack.json").read_text()
    assert superuser not in text and passwords["g1000_owner"] not in text
    for name, pid in manifest["pids"].items():
        if name in ("postgres", "broker"):
            continue
        environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
        own = f"g1000_svc_{name.split('-')[0]}"
        held = {role for role, password in passwords.items() if password in environ}
        assert held == {own}, f"{name} holds {sorted(held)}"
        assert superuser not in environ, name


def test_up_demo_stop_restart_keeps_events(stack, tmp_path):
    up = stack()
    manifest = up.wait_ready()
    assert set(manifest["services"]) == {"ledger", "lottery", "agenda", "ballot"}
    assert (up.data_dir / "stack.json").stat().st_mode & 0o077 == 0  # holds the database credential
    for url in [manifest["gateway"], *manifest["services"].values()]:
        assert requests.get(f"{url}/readyz", timeout=5).status_code == 200, url
    assert "postgres" in manifest["pids"] and "broker" in manifest["pids"]
    assert (up.data_dir / "secrets" / "tokens.key").stat().st_mode & 0o077 == 0
    assert_each_process_holds_its_own_database_role_only(up.data_dir, manifest)

    demo = subprocess.run([sys.executable, "-m", "g1000.cli", "demo", "--gateway", manifest["gateway"],
                           "--data-dir", str(up.data_dir)], capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    result = json.loads(demo.stdout.strip().splitlines()[-1])
    summit_id = result["summit_id"]
    # six nominations and the organiser's closing of nominations; their texts match the log
    assert result["ledger_received"]["agenda"] == result["topics"] + 1 == 7
    assert result["agenda"] == {"verified": True, "texts": 12}
    assert result["log"]["verified"] and result["log"]["tree_size"] == sum(result["ledger_received"].values())
    # both stages of the lottery ran, and every draw recomputes from the log alone
    lottery = result["lottery"]
    assert lottery["invited"] == 360 and 0 < lottery["respondents"] <= 360
    assert lottery["panel_seats"] == 48 and lottery["employer_seats"] == 5
    assert result["draw"]["verified"] and result["draw"]["seeds"] == 3

    assert result["participants"] == 6
    # every participant voted in secret, the trustees' shares opened the votes, every receipt checks
    ballot = result["ballot"]
    assert ballot["votes"] == ballot["receipts_checked"] == 6
    assert result["ledger_received"]["ballot"] == 6 + 2 + 2 * 6 + 3
    assert sorted(r["option"] for r in ballot["ranking"]) == sorted(
        ["fietsen", "wonen", "ouderen", "groen", "werk", "jongeren"])
    assert_published_register_is_k_anonymous(manifest["gateway"], summit_id, result["log"]["tree_size"])
    assert_every_payload_is_allow_listed(manifest["gateway"], summit_id, result["log"]["tree_size"])
    organiser = admin(["organiser", "--tenant", "Demostad", "--json"], up.data_dir)
    assert organiser["token"].startswith("g1000.") and organiser["tenant"] == "Demostad"

    gateway = manifest["gateway"]
    topics_before = requests.get(f"{gateway}/v1/summits/{summit_id}/topics", timeout=5).json()["topics"]
    assert [t["seq"] for t in topics_before] == list(range(1, 7))

    up.stop()
    assert up.proc.returncode == 0
    assert up.kill_leftovers() == [], "every process of the stack must have stopped"
    assert not (up.data_dir / "stack.json").exists()

    port = free_port()  # the restart also shows `g1000 up --port` (issue 12 item 2)
    again = stack("--host", "127.0.0.1", "--port", str(port))
    manifest2 = again.wait_ready()
    gateway2 = manifest2["gateway"]
    assert gateway2 == f"http://127.0.0.1:{port}"
    assert manifest2["gateway_listen"] == {"host": "127.0.0.1", "port": port}
    summits = requests.get(f"{gateway2}/v1/summits", timeout=5).json()["summits"]
    assert summit_id in [s["summit_id"] for s in summits]
    assert requests.get(f"{gateway2}/v1/summits/{summit_id}/topics", timeout=5).json()["topics"] == topics_before
    # tokens survive a restart (the key and the record of issued tokens are state) until revoked
    headers = {"Authorization": f"Bearer {organiser['token']}"}
    assert requests.get(f"{gateway2}/v1/auth/whoami", headers=headers, timeout=5).json()["tenant"] == "Demostad"
    closed = requests.post(f"{gateway2}/v1/summits/{summit_id}/topics", headers=headers, timeout=10,
                           json={"title": "Na de herstart"})
    assert closed.status_code == 409, closed.text   # the demo closed nominations, and that is state
    reopened = requests.post(f"{gateway2}/v1/summits/{summit_id}/topics/nominations", headers=headers, timeout=10,
                             json={"open": True})
    assert reopened.status_code == 200 and reopened.json()["seq"] == 8, reopened.text
    created = requests.post(f"{gateway2}/v1/summits/{summit_id}/topics", headers=headers, timeout=10,
                            json={"title": "Na de herstart"})
    assert created.status_code == 201, created.text
    assert created.json()["seq"] == 9  # the agenda stream continues without a gap
    streams = requests.get(f"{gateway2}/v1/summits/{summit_id}/streams", timeout=5).json()["streams"]
    assert {s["stream"]: s["received"] for s in streams}["agenda"] >= 7  # kept across the restart
    revoked = admin(["revoke", organiser["token_id"]], again.data_dir)
    assert revoked["revoked_at"]
    refused = requests.get(f"{gateway2}/v1/auth/whoami", headers=headers, timeout=5)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    again.stop()
    assert again.kill_leftovers() == []
