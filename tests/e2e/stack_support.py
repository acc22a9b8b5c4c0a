"""The whole stack for the e2e tests: ``g1000 up`` as a subprocess on a data directory of its own
(waited for through its stack.json, stopped with SIGTERM, anything left SIGKILLed by pid), the
``stack`` fixture that starts them and always cleans up, and ``g1000 admin`` called the way an
operator calls it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


class UpProcess:
    def __init__(self, data_dir: Path, log: Path, *extra: str):
        env = {k: v for k, v in os.environ.items() if k not in ("G1000_DATABASE_URL", "G1000_KAFKA_BOOTSTRAP")}
        self.data_dir = data_dir
        self.manifest_path = data_dir / "stack.json"
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "g1000.cli", "up", "--data-dir", str(data_dir), "--fast-unsafe",
                 "--web-workers", "1", *extra], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.manifest: dict = {}

    def wait_ready(self, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"g1000 up exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            if self.manifest_path.exists():
                self.manifest = json.loads(self.manifest_path.read_text())
                return self.manifest
            time.sleep(0.2)
        raise AssertionError(f"g1000 up not ready in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=90)

    def kill_leftovers(self) -> list[int]:
        """SIGKILL (by pid) anything of this stack still alive; returns those pids."""
        alive = []
        for pid in [self.proc.pid, *self.manifest.get("pids", {}).values()]:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            alive.append(pid)
            os.kill(pid, signal.SIGKILL)
        return alive


def admin(args: list[str], data_dir) -> dict:
    done = subprocess.run([sys.executable, "-m", "g1000.cli", "admin", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def stack(tmp_path):
    started: list[UpProcess] = []

    def start(*extra: str) -> UpProcess:
        up = UpProcess(tmp_path / "state", tmp_path / f"up-{len(started)}.log", *extra)
        started.append(up)
        return up

    yield start
    for up in started:
        up.stop()
        up.kill_leftovers()
