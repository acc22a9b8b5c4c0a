"""Issue 10 M5 and the Done-when item on `g1000-verify --complete`, against a real `g1000 up`.

The broker is SIGKILLed while writes go on: the writes still succeed (they only touch the
agenda's database), but now the outside can see the log is behind — the agenda's and the
gateway's `/readyz` are not 200 and `g1000-verify --complete` fails, naming the stream and how far
behind it is. The supervisor then restarts the broker (a new pid in stack.json), the stack
catches up, and `g1000-verify --complete` passes. Killing PostgreSQL is recovered the same way.

To look at the stack while the broker is dead, the supervisor (the `g1000 up` process) is
paused with SIGSTOP before the kill and continued afterwards: deterministic, with no reliance on
how fast it would have restarted the broker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.e2e.stack_support import admin, stack  # noqa: F401 - stack is a fixture
from tests.helpers import REGISTER

pytestmark = pytest.mark.e2e

SUMMIT = {"theme": "Samen leven", "municipality": "Demostad", "date": "2027-03-14",
          "seats": {"citizens": 900, "employers": 100}, "register": REGISTER}


def verify(gateway: str, summit_id: str, *flags: str) -> tuple[int, dict | None]:
    done = subprocess.run([sys.executable, "-m", "g1000_verify", "log", "--gateway", gateway, "--summit", summit_id,
                           "--json", *flags], capture_output=True, text=True, timeout=120)
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None)


def eventually(check, what: str, timeout: float = 180.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def diagnose(up, summit_id: str) -> str:
    """What the stores hold, for a failure message: which side is stuck."""
    import psycopg

    from services.core.db import database_url

    url = json.loads(up.manifest_path.read_text())["database_url"]
    lines = []
    for service, sql in (
            ("agenda", "SELECT seq, published_at IS NOT NULL FROM events WHERE summit_id = %s ORDER BY seq"),
            ("ledger", "SELECT stream, next_seq FROM log_streams WHERE summit_id = %s"),
            ("ledger", "SELECT stream, from_seq, requests FROM log_gaps WHERE summit_id = %s"),
            ("ledger", "SELECT stream, seq FROM log_pending WHERE summit_id = %s"),
            ("ledger", "SELECT consumer, event_type, reason FROM quarantine WHERE summit_id = %s")):
        try:
            with psycopg.connect(database_url(url, f"g1000_{service}"), connect_timeout=5) as conn:
                lines.append(f"{service}: {sql}: {conn.execute(sql, (summit_id,)).fetchall()}")
        except psycopg.Error as e:  # a diagnosis must not hide the failure it explains
            lines.append(f"{service}: {sql}: cannot read ({type(e).__name__}: {e})")
    logs = up.data_dir / "logs"
    for name in ("ledger-consume", "agenda-relay"):
        text = (logs / f"{name}.log").read_text().splitlines()
        lines.append(f"--- {name}.log\n" + "\n".join(t[:200] for t in text[-25:]))
    return "\n".join(lines)


def alive(pid: int) -> bool:
    """Running (a zombie — dead, not yet reaped by the paused supervisor — is not alive)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_broker_and_postgres_killed_are_restarted_and_completeness_is_visible(stack, monkeypatch):  # noqa: F811
    # the verifier is polled below: give anonymous callers room (the limits are tested elsewhere)
    monkeypatch.setenv("G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE", "100000")
    up = stack()
    manifest = up.wait_ready()
    gateway = manifest["gateway"]
    organiser = admin(["organiser", "--tenant", "Demostad", "--json"], up.data_dir)
    auth = {"Authorization": f"Bearer {organiser['token']}"}
    created = requests.post(f"{gateway}/v1/summits", json=SUMMIT, headers=auth, timeout=10)
    assert created.status_code == 201, created.text
    summit_id = created.json()["summit_id"]

    def topic(title: str) -> bool:
        answer = requests.post(f"{gateway}/v1/summits/{summit_id}/topics", json={"title": title},
                               headers=auth, timeout=10)
        return answer.status_code == 201

    eventually(lambda: topic("Groen in de wijk"), "the agenda to learn of the summit")
    for n in range(3):
        assert topic(f"Onderwerp {n}")
    eventually(lambda: verify(gateway, summit_id, "--complete")[0] == 0, "the log to catch up")

    # --- the broker dies while writes go on ---------------------------------------------------
    broker_pid = manifest["pids"]["broker"]
    os.kill(up.proc.pid, signal.SIGSTOP)  # hold the supervisor: look at the stack without a broker
    try:
        os.kill(broker_pid, signal.SIGKILL)
        eventually(lambda: not alive(broker_pid) or None, "the broker to die")
        for n in range(4):
            assert topic(f"Zonder broker {n}")  # writes still succeed: they wait in the outbox
        agenda = manifest["services"]["agenda"]
        ready = eventually(lambda: (r := requests.get(f"{agenda}/readyz", timeout=5)).status_code == 503
                           and r.json(), "the agenda to be unready")
        assert ready["outbox"]["unpublished"] >= 4 and ready["checks"]["broker"] is False
        eventually(lambda: requests.get(f"{gateway}/readyz", timeout=10).status_code == 503,
                   "the gateway to be unready")
        heads = requests.get(f"{gateway}/v1/summits/{summit_id}/heads", timeout=10).json()
        assert {h["stream"]: h["last_seq"] for h in heads["heads"]}["agenda"] == 8

        code, doc = verify(gateway, summit_id)  # without --complete: the lag is reported, not fatal
        assert code == 0 and doc["completeness"]["complete"] is False
        agenda_lag = {s["stream"]: s for s in doc["completeness"]["streams"]}["agenda"]
        assert agenda_lag == {"stream": "agenda", "head_seq": 8, "logged_seq": 4, "behind": 4}
        code, doc = verify(gateway, summit_id, "--complete")
        assert code == 1 and doc["failure"]["check"] == "completeness"
        assert "agenda behind by 4 (head 8, log 4)" in doc["failure"]["reason"]
    finally:
        os.kill(up.proc.pid, signal.SIGCONT)

    # --- the supervisor restarts it; the stack catches up ------------------------------------
    restarted = eventually(lambda: (m := json.loads(up.manifest_path.read_text()))["pids"]["broker"] != broker_pid
                           and m, "stack.json to name a new broker")
    assert alive(restarted["pids"]["broker"])
    try:
        eventually(lambda: verify(gateway, summit_id, "--complete")[0] == 0, "the log to catch up after the restart")
    except AssertionError:
        raise AssertionError(diagnose(up, summit_id)) from None
    code, doc = verify(gateway, summit_id, "--complete")
    assert code == 0 and doc["completeness"]["complete"] is True
    assert {s["stream"]: s["logged_seq"] for s in doc["completeness"]["streams"]}["agenda"] == 8
    eventually(lambda: requests.get(f"{agenda}/readyz", timeout=5).status_code == 200, "the agenda to be ready")
    # relays and consumers were restarted against the new broker; stack.json has their new pids
    assert all(alive(pid) for pid in restarted["pids"].values())

    # --- PostgreSQL dies ---------------------------------------------------------------------
    postgres_pid = restarted["pids"]["postgres"]
    os.kill(postgres_pid, signal.SIGKILL)
    again = eventually(lambda: (m := json.loads(up.manifest_path.read_text()))["pids"]["postgres"] != postgres_pid
                       and m, "stack.json to name a new PostgreSQL")
    assert alive(again["pids"]["postgres"])
    eventually(lambda: topic("Na de database"), "writes to succeed again")
    eventually(lambda: verify(gateway, summit_id, "--complete")[0] == 0, "the log to hold the new topic")
    code, doc = verify(gateway, summit_id, "--complete")
    assert {s["stream"]: s["logged_seq"] for s in doc["completeness"]["streams"]}["agenda"] == 9
    assert up.proc.poll() is None  # the supervisor itself survived both
