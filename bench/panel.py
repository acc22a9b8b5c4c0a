"""Panel selection benchmark: our fair distribution against the Sortition Foundation's reference.

The lottery promises a fair panel selection (docs/architecture.md §6: LEXIMIN, Flanigan et al.,
"Fair algorithms for selecting citizens' assemblies", Nature 596, 2021; a distribution over panels
with integer weights, committed before the seed). The only widely used open-source implementation
is `sortition-algorithms`; without the commercial Gurobi it falls back to maximin, which at G1000
scale (4,000 respondents, 800 seats) takes up to an hour. For every generated pool
(bench/panel_pool.py) one run measures, side by side:

- ours: `services.lottery.selection.find_distribution`, timed in this process (median of up to
  `repeat` runs; a run slower than SLOW_SECONDS is not repeated), then checked here without
  trusting it: every panel has the panel size, only pool members, meets every quota and the
  household rule (`g1000_proofs.draw`); the weights are positive integers; the probabilities
  recomputed from them are exact fractions that sum to the panel size and equal the reported ones;
- the reference: `python -m bench.panel_reference` in its own process group, killed by pid when its
  wall-clock limit passes ("did not finish in N s" is a result, not an error); its committees get
  the same checks, and its per-person probabilities come from its committees' probabilities;
- the same fairness figures for both, from the per-person probabilities: the minimum, the 10th
  percentile, the median, the Gini coefficient, the geometric mean, and the share of people below
  the reference's minimum. Many pools fix the minimum through one binding quota (at most `max` of
  the `n` people with a value can sit), which makes the whole distribution the interesting part.

The report section is rewritten after every pool, so a run stopped half-way keeps what it measured.
"""

from __future__ import annotations

import copy
import gc
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from g1000_proofs.draw import check_households, check_quotas

from .machine import host, package_version
from .panel_pool import SIZES, PanelPool, make_pool
from .stats import Samples, percentile

ROOT = Path(__file__).resolve().parent.parent  # where `python -m bench.panel_reference` resolves
REFERENCE = "sortition-algorithms"
SLOW_SECONDS = 120.0  # a run of ours slower than this is not repeated
BELOW = 1e-6  # "below the reference's minimum" means more than this below it
MAX_PROBLEMS = 10  # panels with problems listed per distribution (the rest are counted)


@dataclass(frozen=True)
class PanelParams:
    sizes: tuple[tuple[int, int], ...] = SIZES
    repeat: int = 3
    reference_timeout: float = 3600.0
    reference_sizes: tuple[tuple[int, int], ...] | None = None  # pools the reference runs on (None: all)
    reference_backend: str = "mip"  # the reference's solver (bench/panel_reference.py BACKENDS)


@dataclass(frozen=True)
class Fairness:
    """Figures of one distribution's per-person selection probabilities (every pool member)."""

    probabilities: tuple[float, ...]  # ascending

    @classmethod
    def of(cls, probabilities: Sequence[float]) -> Fairness:
        return cls(tuple(sorted(probabilities)))

    @property
    def minimum(self) -> float:
        return self.probabilities[0]

    def percentile(self, q: float) -> float:
        return percentile(list(self.probabilities), q)

    @property
    def gini(self) -> float:
        ps, n = self.probabilities, len(self.probabilities)
        return sum((2 * i - n - 1) * p for i, p in enumerate(ps, start=1)) / (n * sum(ps))

    @property
    def geometric_mean(self) -> float:
        if self.minimum <= 0:
            return 0.0
        return math.exp(math.fsum(math.log(p) for p in self.probabilities) / len(self.probabilities))

    def share_below(self, threshold: float, margin: float = BELOW) -> float:
        return sum(1 for p in self.probabilities if p < threshold - margin) / len(self.probabilities)


@dataclass
class OursResult:
    seconds: Samples
    cpu_seconds: Samples
    same_every_run: bool
    panels: int
    lp_minimum: float
    exact_minimum: Fraction
    fairness: Fairness
    problems: list[str]


@dataclass
class ReferenceResult:
    status: str  # "finished", "timeout" or "failed"
    process_seconds: float  # the whole process: start, imports, reading the input, the algorithm
    timeout: float
    seconds: float | None = None  # the algorithm call alone
    cpu_seconds: float | None = None
    panels: int | None = None
    fairness: Fairness | None = None
    problems: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)  # what ran: algorithm, notice, solver, version
    error: str = ""


@dataclass
class SizeResult:
    pool: PanelPool
    ours: OursResult | Exception
    reference: ReferenceResult | None


def check_panels(pool: PanelPool, panels: Sequence[Sequence[str]]) -> list[str]:
    """Problems of the panels themselves: size, members, quotas, households (one line each)."""
    rows = {row.pseudonym: row for row in pool.people}
    problems: list[str] = []
    for index, panel in enumerate(panels):
        unknown = [pseudonym for pseudonym in panel if pseudonym not in rows]
        if unknown:
            problems.append(f"panel {index}: {len(unknown)} ids not in the pool, e.g. {unknown[0]!r}")
            continue
        if len(set(panel)) != len(panel) or len(panel) != pool.panel_size:
            problems.append(f"panel {index}: {len(set(panel))} distinct members, not {pool.panel_size}")
        members = [rows[pseudonym] for pseudonym in panel]
        violations = check_quotas(members, pool.quotas) + check_households(members)
        if violations:
            more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
            problems.append(f"panel {index}: {violations[0]}{more}")
    if len(problems) > MAX_PROBLEMS:
        problems = problems[:MAX_PROBLEMS] + [f"… {len(problems) - MAX_PROBLEMS} more panels with problems"]
    return problems


def weight_sums(pool: PanelPool, panels, weights) -> dict:
    """Each respondent's summed weight over the panels they sit on (0 for nobody's panel)."""
    sums = {row.pseudonym: 0 for row in pool.people}
    for panel, weight in zip(panels, weights):
        for pseudonym in set(panel) & sums.keys():
            sums[pseudonym] += weight
    return sums


def verify_ours(pool: PanelPool, dist) -> tuple[dict[str, Fraction], list[str]]:
    """Per-person probabilities recomputed exactly from the integer weights, and any problems."""
    panels, weights = list(dist.panels), list(dist.weights)
    problems = check_panels(pool, panels)
    if len(panels) != len(weights):
        problems.append(f"{len(panels)} panels but {len(weights)} weights")
    if not weights or any(isinstance(w, bool) or not isinstance(w, int) or w <= 0 for w in weights):
        return {}, problems + ["weights are not all positive integers"]
    total = sum(weights)
    probabilities = {p: Fraction(hits, total) for p, hits in weight_sums(pool, panels, weights).items()}
    reported = {pseudonym: Fraction(value) for pseudonym, value in dist.probabilities.items()}
    for what, values in (("probabilities", probabilities), ("reported probabilities", reported)):
        if sum(values.values()) != pool.panel_size:
            problems.append(f"{what} sum to {float(sum(values.values())):.9f}, not {pool.panel_size}")
    differ = [p for p, value in probabilities.items() if reported.get(p, 0) != value]
    if differ:
        problems.append(f"{len(differ)} reported probabilities differ from the weights', e.g. {differ[0]!r}")
    return probabilities, problems


def run_ours(pool: PanelPool, repeat: int) -> OursResult:
    from services.lottery.selection import Person, find_distribution

    people = [Person(row.pseudonym, dict(row.features), row.household) for row in pool.people]
    walls, cpus, dist, same = [], [], None, True
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        result = find_distribution(people, pool.panel_size, copy.deepcopy(pool.quotas))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        if dist is not None and (tuple(result.panels), tuple(result.weights)) != (tuple(dist.panels),
                                                                               tuple(dist.weights)):
            same = False
        dist = result
        if walls[-1] > SLOW_SECONDS:
            break
    probabilities, problems = verify_ours(pool, dist)
    return OursResult(Samples(tuple(walls)), Samples(tuple(cpus)), same, len(dist.panels), float(dist.lp_minimum),
                      min(probabilities.values()) if probabilities else Fraction(0),
                      Fairness.of([float(p) for p in probabilities.values()] or [0.0]), problems)


def run_reference(pool: PanelPool, work: Path, timeout: float, backend: str) -> ReferenceResult:
    name = f"reference-{len(pool.people)}-{pool.panel_size}"
    spec, out, log = work / f"{name}.in.json", work / f"{name}.out.json", work / f"{name}.log"
    spec.write_text(json.dumps({
        "panel_size": pool.panel_size,
        "quotas": {f: {v: list(bounds) for v, bounds in values.items()} for f, values in pool.quotas.items()},
        "people": [{"id": row.pseudonym, "household": row.household, "features": dict(row.features)}
                   for row in pool.people],
    }), encoding="utf-8")
    out.unlink(missing_ok=True)
    began = time.monotonic()
    with log.open("wb") as sink:
        # the library keeps committees and ids in sets, whose order follows str hashing: a fixed
        # hash seed makes its run (column order, hence the optimum it returns) reproducible
        proc = subprocess.Popen([sys.executable, "-m", "bench.panel_reference", str(spec), str(out), backend], cwd=ROOT,
                                env={**os.environ, "PYTHONHASHSEED": "0"}, stdin=subprocess.DEVNULL, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:  # also on Ctrl-C or SIGTERM in the harness: kill its process group (it leads it)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    elapsed = time.monotonic() - began
    if code is None:
        return ReferenceResult("timeout", elapsed, timeout, error=f"did not finish in {timeout:g} s")
    if code != 0 or not out.exists():
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-5:])
        return ReferenceResult("failed", elapsed, timeout, error=f"exit code {code}: {tail}")
    result = json.loads(out.read_text(encoding="utf-8"))
    committees, probabilities = result.pop("committees"), result.pop("probabilities")
    problems = check_panels(pool, committees)
    people = weight_sums(pool, committees, probabilities)
    if abs(math.fsum(probabilities) - 1) > 1e-6:
        problems.append(f"committee probabilities sum to {math.fsum(probabilities):.9f}, not 1")
    if abs(math.fsum(people.values()) - pool.panel_size) > 1e-6 * pool.panel_size:
        problems.append(f"per-person probabilities sum to {math.fsum(people.values()):.6f}, not {pool.panel_size}")
    return ReferenceResult("finished", elapsed, timeout, result["seconds"], result["cpu_seconds"], len(committees),
                           Fairness.of(list(people.values())), problems, result)


def run_panel(params: PanelParams, work: Path, progress: Callable[[list[SizeResult]], None]) -> list[SizeResult]:
    """Every size in turn: the pool, ours, then the reference; `progress` after each size."""
    results: list[SizeResult] = []
    for size in params.sizes:
        pool = make_pool(*size)
        print(f"bench: panel {pool.label}: ours", file=sys.stderr)
        try:
            ours: OursResult | Exception = run_ours(pool, params.repeat)
        except Exception as e:  # noqa: BLE001 -- reported in the section, the reference still runs
            ours = e
        reference = None
        if params.reference_sizes is None or size in params.reference_sizes:
            print(f"bench: panel {pool.label}: reference (at most {params.reference_timeout:g} s)", file=sys.stderr)
            reference = run_reference(pool, work, params.reference_timeout, params.reference_backend)
        results.append(SizeResult(pool, ours, reference))
        progress(results)
    return results


def machine(started: datetime, load_start: str, load_end: str, code: str) -> dict[str, str]:
    """The machine table of the section (no servers here, so not machine.describe)."""
    return {
        **host(started),
        "reference": f"{REFERENCE} {package_version(REFERENCE)} (mip {package_version('mip')},"
                     f" cbcbox {package_version('cbcbox')})",
        "highspy / numpy / scipy": " / ".join(package_version(p) for p in ("highspy", "numpy", "scipy")),
        "load average at start": load_start,
        "load average at end": load_end,
        "code": code,
    }
