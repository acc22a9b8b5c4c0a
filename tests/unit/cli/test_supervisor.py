"""`g1000 up`'s supervisor (issue 10 M5), one look at a time, over real short-lived processes:
a dead child or server is restarted after its back-off, stack.json follows the new pids, and a
server's restart makes the children that died for want of it due at once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass

from g1000.stack import Child, Infra, Stack


@dataclass
class FakeServer:
    process: subprocess.Popen | None = None


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def _dead() -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait()
    return proc


def test_dead_processes_are_restarted_after_their_back_off_and_the_manifest_follows(tmp_path):
    stack = Stack(tmp_path)
    (tmp_path / "logs").mkdir()
    child = Child("agenda-relay", [sys.executable, "-c", "import time; time.sleep(60)"], {},
                  tmp_path / "logs" / "c.log")
    child.process = _dead()
    server = FakeServer(_dead())
    starts = []

    def restart_server():
        server.process = _sleeper()
        starts.append(server.process.pid)

    broker = Infra("broker", server, restart_server)
    stack.children, stack.infra = [child], [broker]
    try:
        now = time.monotonic()
        assert stack.supervise_once(now) is False  # first look: both scheduled, nothing restarted yet
        assert broker.due == now + 0.5 and child.due == now + 0.5
        assert stack.supervise_once(now + 0.1) is False  # not due yet
        assert stack.supervise_once(now + 0.6) is True
        assert starts == [server.process.pid] and child.alive() and broker.alive()
        assert broker.restarts == child.restarts == 1
        # the manifest holds the new pids
        stack.postgres, stack.broker = None, None
        stack.urls = {"gateway": "http://g", "ledger": "l", "lottery": "l", "agenda": "a", "ballot": "b"}
        manifest = stack._write_manifest("db", "kafka")
        assert manifest["pids"]["agenda-relay"] == child.process.pid
        assert json.loads((tmp_path / "stack.json").read_text())["pids"] == manifest["pids"]
    finally:
        for proc in (child.process, server.process):
            proc.kill()
            proc.wait()


def test_a_server_restart_makes_waiting_children_due_at_once(tmp_path):
    stack = Stack(tmp_path)
    (tmp_path / "logs").mkdir()
    child = Child("ledger-consume", [sys.executable, "-c", "import time; time.sleep(60)"], {},
                  tmp_path / "logs" / "c.log")
    child.process = _dead()
    for _ in range(6):  # it kept failing while the broker was down: a long back-off
        child.backoff.failed(0.0)
    server = FakeServer(_dead())
    broker = Infra("broker", server, lambda: setattr(server, "process", _sleeper()))
    stack.children, stack.infra = [child], [broker]
    try:
        now = time.monotonic()
        stack.supervise_once(now)
        assert child.due - now == 30.0  # the ceiling
        assert stack.supervise_once(now + 0.5)  # the broker is back: the child is due at once
        assert broker.alive() and child.alive() and child.due is None
    finally:
        for proc in (child.process, server.process):
            proc.kill()
            proc.wait()


def test_a_failed_restart_is_tried_again_later(tmp_path):
    stack = Stack(tmp_path)
    server = FakeServer(_dead())
    attempts = []

    def failing():
        attempts.append(1)
        raise OSError("port in use")

    broker = Infra("broker", server, failing)
    stack.infra = [broker]
    now = time.monotonic()
    stack.supervise_once(now)
    assert stack.supervise_once(now + 0.5) is False and attempts == [1]
    stack.supervise_once(now + 0.6)  # still dead: rescheduled with a longer pause
    assert broker.due == now + 0.6 + 1.0
