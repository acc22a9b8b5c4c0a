"""Where the CPU went: CPU time of the benchmark's own processes by role, and of the whole machine.

Why it exists: on a shared 2-core machine a rate alone does not say whether the work was bound by
the CPU, by waiting (commits, acknowledgements, polls), or by other tenants taking the cores. So
the ledger benchmark reads, around each measurement, the user + system time of every process it
started, grouped by role, and the busy time of the whole machine (/proc/stat):

- harness: this process (the appender, or the consumer thread in the consumer-alone runs);
- workers: the `g1000 worker` processes, gunicorn and the verifier (its pool included);
- postgres: the embedded PostgreSQL (postmaster and every backend);
- broker: the bundled Kafka-protocol broker.

Every one of them is a descendant of this process. A live process counts with its reaped children
(cutime/cstime), so a backend or worker that exited is still in its parent's figure; a process
that exited and was reaped by this process lands in "workers". External servers
(G1000_DATABASE_URL / G1000_KAFKA_BOOTSTRAP) are not children and are not counted. "Other" is the
machine's busy time minus ours: other tenants, the kernel's own threads.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

GROUPS = ("harness", "workers", "postgres", "broker")
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used over `seconds` of wall time, by group, and by the whole machine."""

    seconds: float
    groups: dict[str, float]
    machine: float  # busy seconds of all cores (user, nice, system, irq, softirq)
    steal: float  # seconds the hypervisor gave our cores to someone else

    @property
    def ours(self) -> float:
        return sum(self.groups.values())

    def cores(self, group: str | None = None) -> float:
        """Average cores busy over the interval: ours (all groups) or one group's."""
        used = self.ours if group is None else self.groups.get(group, 0.0)
        return used / self.seconds if self.seconds > 0 else 0.0

    @property
    def machine_cores(self) -> float:
        return self.machine / self.seconds if self.seconds > 0 else 0.0

    @property
    def other_cores(self) -> float:
        return max(0.0, self.machine - self.ours) / self.seconds if self.seconds > 0 else 0.0

    @property
    def steal_cores(self) -> float:
        return self.steal / self.seconds if self.seconds > 0 else 0.0

    def per_event(self, events: int) -> dict[str, float]:
        """CPU seconds per event, by group."""
        return {group: value / events for group, value in self.groups.items()}


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    groups: dict[str, float]
    machine: float
    steal: float

    def since(self, earlier: "CpuSnapshot") -> CpuUse:
        return CpuUse(self.at - earlier.at, {g: self.groups[g] - earlier.groups[g] for g in GROUPS},
                      self.machine - earlier.machine, self.steal - earlier.steal)


def processes() -> tuple[dict[int, list[int]], dict[int, tuple[str, int, int]]]:
    """children by parent pid; pid -> (command name, own ticks, reaped children's ticks)."""
    children: dict[int, list[int]] = {}
    info: dict[int, tuple[str, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        close = text.rindex(")")
        comm = text[text.index("(") + 1:close]
        fields = text[close + 2:].split()  # from the state field on
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        info[pid] = (comm, int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
    return children, info


def _machine() -> tuple[float, float]:
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return (user + nice + system + irq + softirq) / TICK, steal / TICK


def snapshot(root: int | None = None) -> CpuSnapshot:
    """CPU seconds so far of this process's tree by group, and of the machine."""
    root = os.getpid() if root is None else root
    children, info = processes()
    ticks = dict.fromkeys(GROUPS, 0)
    _, own, reaped = info.get(root, ("", 0, 0))
    ticks["harness"] += own
    ticks["workers"] += reaped
    for child in children.get(root, ()):
        comm = info.get(child, ("", 0, 0))[0]
        group = "postgres" if comm == "postgres" else "broker" if comm.startswith("tansu") else "workers"
        todo = [child]
        while todo:
            pid = todo.pop()
            _, own, reaped = info.get(pid, ("", 0, 0))
            ticks[group] += own + reaped
            todo.extend(children.get(pid, ()))
    machine, steal = _machine()
    return CpuSnapshot(time.perf_counter(), {g: t / TICK for g, t in ticks.items()}, machine, steal)


def wait_until_quiet(threshold: float = 0.15, longest: float = 60.0) -> float:
    """Wait until our own processes use less than `threshold` cores over a second (PostgreSQL
    finishing a checkpoint, say), at most `longest` seconds; returns the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < longest:
        before = snapshot()
        time.sleep(1.0)
        if snapshot().since(before).cores() < threshold:
            break
    return time.monotonic() - began


def process_cpu(pid: int) -> float | None:
    """Own CPU seconds (user + system, all threads) of one live process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK
