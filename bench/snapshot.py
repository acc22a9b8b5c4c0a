"""Measure one version of the code: the run executes a frozen copy of the source taken at its start.

Several people edit this repository at once, and a benchmark takes minutes; the end-to-end runs
start fresh worker processes each time, so without a copy one run could time different code in
different repetitions. `python -m bench.run` therefore copies the packages it runs into a
temporary directory and runs itself again from there (the copy comes first on PYTHONPATH, before
the editable install). The report names the repository's commit and the digest of the copy, and
says so if the repository changed while the copy was being measured.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("services", "gateway", "g1000", "verifier/g1000_proofs", "verifier/g1000_verify", "bench")
FROZEN_ENV = "G1000_BENCH_REPO"  # set in the frozen run: the repository the copy was taken from


def repository() -> Path:
    """The repository the measured code comes from (also when running from the frozen copy)."""
    return Path(os.environ.get(FROZEN_ENV) or REPO)


def is_frozen() -> bool:
    return FROZEN_ENV in os.environ


def copy_packages(dest: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO / package, dest / Path(package).name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def run_frozen(argv: list[str]) -> int:
    """Run `python -m bench.run ARGV` from a fresh copy of the code; returns its exit code.

    Ctrl-C reaches the child directly (same process group) and SIGTERM is passed on, so the child
    always unwinds and stops its servers; we wait for it either way.
    """
    with tempfile.TemporaryDirectory(prefix="g1000-bench-src-") as tmp:
        src = copy_packages(Path(tmp))
        env = {**os.environ, FROZEN_ENV: str(REPO),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))}
        child = subprocess.Popen([sys.executable, "-m", "bench.run", *argv], cwd=src, env=env)
        signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue  # the child got the same SIGINT and is stopping its servers
