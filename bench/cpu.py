"""Where the CPU went: CPU time of the benchmark's own processes by role, and of the whole machine.

On a shared 2-core machine a rate alone does not say whether the work was bound by the CPU, by
waiting (commits, acknowledgements, polls) or by other tenants taking the cores. So the ledger
and gateway benchmarks read, around each measurement, the user + system time (/proc/PID/stat) of
every process this one started, grouped by role, and the busy time of the machine (/proc/stat):
harness (this process), workers (`g1000 worker`, gunicorn, the verifier), postgres (the embedded
server and its backends) and broker (the bundled broker); and, when asked, named process trees
(a gunicorn master and its workers). A live process counts with its reaped children, so a worker
that exited is still in its parent's figure. External servers are not children and are not
counted. "Other" is the machine's busy time minus ours: other tenants, the kernel's own threads.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

GROUPS = ("harness", "workers", "postgres", "broker")
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used over `seconds` of wall time, by group, by named tree and by the machine."""

    seconds: float
    groups: dict[str, float]
    machine: float  # busy seconds of all cores (user, nice, system, irq, softirq)
    steal: float  # seconds the hypervisor gave our cores to someone else
    trees: dict[str, float] = field(default_factory=dict)  # e.g. a gunicorn tree -> CPU seconds

    @property
    def ours(self) -> float:
        return sum(self.groups.values())

    def cores(self) -> float:
        """Average cores busy with our processes over the interval."""
        return self.ours / self.seconds if self.seconds > 0 else 0.0

    @property
    def other_cores(self) -> float:
        return max(0.0, self.machine - self.ours) / self.seconds if self.seconds > 0 else 0.0

    @property
    def steal_cores(self) -> float:
        return self.steal / self.seconds if self.seconds > 0 else 0.0

    def per_event(self, events: int) -> dict[str, float]:
        return {group: value / events for group, value in self.groups.items()}


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    groups: dict[str, float]
    machine: float
    steal: float
    trees: dict[str, float]

    def since(self, earlier: CpuSnapshot) -> CpuUse:
        return CpuUse(self.at - earlier.at, {g: self.groups[g] - earlier.groups[g] for g in GROUPS},
                      self.machine - earlier.machine, self.steal - earlier.steal,
                      {name: value - earlier.trees.get(name, 0.0) for name, value in self.trees.items()})


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
        fields = text[close + 2:].split()  # from the state field on
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        info[int(entry.name)] = (text[text.index("(") + 1:close], int(fields[11]) + int(fields[12]),
                                 int(fields[13]) + int(fields[14]))
    return children, info


def snapshot(trees: dict[str, int] | None = None) -> CpuSnapshot:
    """CPU seconds so far of this process's tree by group, of the trees rooted at `trees`' pids,
    and of the machine."""
    children, info = processes()

    def tree_ticks(root: int) -> int:
        ticks, todo = 0, [root]
        while todo:
            pid = todo.pop()
            _, own, reaped = info.get(pid, ("", 0, 0))
            ticks += own + reaped
            todo.extend(children.get(pid, ()))
        return ticks

    _, own, reaped = info.get(os.getpid(), ("", 0, 0))
    ticks = {"harness": own, "workers": reaped, "postgres": 0, "broker": 0}
    for child in children.get(os.getpid(), ()):
        comm = info.get(child, ("", 0, 0))[0]
        group = "postgres" if comm == "postgres" else "broker" if comm.startswith("tansu") else "workers"
        ticks[group] += tree_ticks(child)
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return CpuSnapshot(time.perf_counter(), {g: t / TICK for g, t in ticks.items()},
                       (user + nice + system + irq + softirq) / TICK, steal / TICK,
                       {name: tree_ticks(pid) / TICK for name, pid in (trees or {}).items()})


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
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK
