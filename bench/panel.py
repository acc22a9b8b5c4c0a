"""Panel selection benchmark: our fair distribution against the Sortition Foundation's reference.

Why: the lottery promises a fair panel selection (docs/architecture.md §6: LEXIMIN, a distribution over
panels with integer weights, committed before the seed). The only widely used open-source
implementation is `sortition-algorithms`; it runs LEXIMIN only with the commercial Gurobi solver
and otherwise falls back to maximin, which at G1000 scale (4,000 respondents, 800 seats) takes up
to an hour. So for every generated pool (bench/panel_pool.py) one run measures, side by side:

- ours: `services.lottery.selection.find_distribution`, timed in this process (median of up to
  `repeat` runs; a run slower than `SLOW_SECONDS` is not repeated), then checked here without
  trusting it: every panel has the panel size, only pool members, meets every quota
  (`g1000_proofs.draw.check_quotas`) and the household rule (`check_households`); the weights are
  positive integers; the probabilities recomputed from the weights are exact fractions that sum to
  the panel size and equal the ones the distribution reports;
- the reference: `python -m bench.panel_reference` in its own process group with a hard
  wall-clock limit, killed by pid when it passes ("did not finish in N s" is a result, not an
  error); its committees get the same checks, and its per-person probabilities come from its
  committees and their probabilities;
- the same fairness figures for both, computed here from the per-person probabilities: the
  minimum (ours after integer rounding of the weights, the reference's unrounded optimum), the
  10th percentile, the median, the Gini coefficient, the geometric mean, and the share of people
  below the reference's minimum. Many pools fix the minimum through one binding quota (at most
  `max` of the `n` people with a value can sit, so someone has at most max/n), which makes the
  whole distribution the interesting comparison.

The report section (`bench:panel` in BENCHMARKS.md) is rewritten after every pool, so a run that
is stopped half-way still leaves what it measured, marked as incomplete.
"""

from __future__ import annotations

import copy
import gc
import importlib.util
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
from .report import machine_table
from .stats import Samples, percentile

ROOT = Path(__file__).resolve().parent.parent  # where `python -m bench.panel_reference` resolves
REFERENCE = "sortition-algorithms"
GOAL_RATIO = 1 / 3  # our time over the reference's
GOAL_MIN_SLACK = 1e-3  # our minimum probability may be at most this far below the reference's
GOAL_G1000_SECONDS = 300.0  # ours at G1000 scale
G1000 = (4_000, 800)
SLOW_SECONDS = 120.0  # a run of ours slower than this is not repeated
BELOW = 1e-6  # "below the reference's minimum" means more than this below it
BELOW_COARSE = 1e-4  # ... and, to separate rounding to integer weights from real shortfall, this
MAX_PROBLEMS = 10  # panels with problems listed per distribution (the rest are counted)


@dataclass(frozen=True)
class PanelParams:
    sizes: tuple[tuple[int, int], ...] = SIZES
    repeat: int = 3
    reference: bool = True
    reference_timeout: float = 3600.0
    reference_sizes: tuple[tuple[int, int], ...] | None = None  # pools the reference runs on (None: all)
    reference_backend: str = "mip"
    reference_seed: int = 1


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
    stats: dict
    report: dict  # fairness_report(dist)


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
    meta: dict = field(default_factory=dict)  # what ran: algorithm, notice, backend, versions
    error: str = ""


@dataclass
class SizeResult:
    pool: PanelPool
    ours: OursResult | Exception
    reference: ReferenceResult | None


# --- verification -------------------------------------------------------------------------------


def check_panels(pool: PanelPool, panels: Sequence[Sequence[str]]) -> list[str]:
    """Problems of the panels themselves: size, members, quotas, households (one line each)."""
    rows = {row.pseudonym: row for row in pool.people}
    problems: list[str] = []
    for index, panel in enumerate(panels):
        members = [rows.get(pseudonym) for pseudonym in panel]
        unknown = [pseudonym for pseudonym, row in zip(panel, members) if row is None]
        if unknown:
            problems.append(f"panel {index}: {len(unknown)} ids not in the pool, e.g. {unknown[0]!r}")
            continue
        if len(set(panel)) != len(panel) or len(panel) != pool.panel_size:
            problems.append(f"panel {index}: {len(set(panel))} distinct members, not {pool.panel_size}")
        violations = check_quotas(members, pool.quotas) + check_households(members)
        if violations:
            more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
            problems.append(f"panel {index}: {violations[0]}{more}")
    if len(problems) > MAX_PROBLEMS:
        problems = problems[:MAX_PROBLEMS] + [f"… {len(problems) - MAX_PROBLEMS} more panels with problems"]
    return problems


def verify_ours(pool: PanelPool, dist) -> tuple[dict[str, Fraction], list[str]]:
    """Per-person probabilities recomputed exactly from the integer weights, and any problems."""
    panels, weights = list(dist.panels), list(dist.weights)
    problems = check_panels(pool, panels)
    if len(panels) != len(weights):
        problems.append(f"{len(panels)} panels but {len(weights)} weights")
    if not weights or any(isinstance(w, bool) or not isinstance(w, int) or w <= 0 for w in weights):
        problems.append("weights are not all positive integers")
        return {}, problems
    total = sum(weights)
    hits = {row.pseudonym: 0 for row in pool.people}
    for panel, weight in zip(panels, weights):
        for pseudonym in set(panel):
            if pseudonym in hits:
                hits[pseudonym] += weight
    probabilities = {pseudonym: Fraction(count, total) for pseudonym, count in hits.items()}
    if sum(probabilities.values()) != pool.panel_size:
        problems.append(f"probabilities sum to {float(sum(probabilities.values())):.9f}, not {pool.panel_size}")
    reported = {pseudonym: Fraction(value) for pseudonym, value in dist.probabilities.items()}
    if sum(reported.values()) != pool.panel_size:
        problems.append(f"reported probabilities sum to {float(sum(reported.values())):.9f}, not {pool.panel_size}")
    differ = [p for p, value in probabilities.items() if reported.get(p, 0) != value]
    if differ:
        problems.append(f"{len(differ)} reported probabilities differ from the weights', e.g. {differ[0]!r}")
    return probabilities, problems


def reference_probabilities(pool: PanelPool, committees: list[list[str]],
                            probabilities: list[float]) -> tuple[dict[str, float], list[str]]:
    problems = check_panels(pool, committees)
    per_person = {row.pseudonym: 0.0 for row in pool.people}
    for committee, probability in zip(committees, probabilities):
        for pseudonym in committee:
            if pseudonym in per_person:
                per_person[pseudonym] += probability
    if abs(math.fsum(probabilities) - 1) > 1e-6:
        problems.append(f"committee probabilities sum to {math.fsum(probabilities):.9f}, not 1")
    total = math.fsum(per_person.values())
    if abs(total - pool.panel_size) > 1e-6 * pool.panel_size:
        problems.append(f"per-person probabilities sum to {total:.6f}, not {pool.panel_size}")
    return per_person, problems


# --- the two runs -------------------------------------------------------------------------------


def run_ours(pool: PanelPool, repeat: int) -> OursResult:
    from services.lottery.selection import Person, fairness_report, find_distribution

    people = [Person(row.pseudonym, dict(row.features), row.household) for row in pool.people]
    walls: list[float] = []
    cpus: list[float] = []
    dist, same = None, True
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
    exact = min(probabilities.values()) if probabilities else Fraction(0)
    return OursResult(
        seconds=Samples(tuple(walls)), cpu_seconds=Samples(tuple(cpus)), same_every_run=same,
        panels=len(dist.panels), lp_minimum=float(dist.lp_minimum), exact_minimum=exact,
        fairness=Fairness.of([float(p) for p in probabilities.values()] or [0.0]), problems=problems,
        stats=dict(dist.stats or {}), report=dict(fairness_report(dist)),
    )


def _reference_input(pool: PanelPool) -> dict:
    return {
        "panel_size": pool.panel_size,
        "quotas": {f: {v: list(bounds) for v, bounds in values.items()} for f, values in pool.quotas.items()},
        "people": [{"id": row.pseudonym, "household": row.household, "features": dict(row.features)}
                   for row in pool.people],
    }


def _stop(proc: subprocess.Popen) -> None:
    """Kill the reference's process group (its pid, as it leads a session of its own)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " / ".join(text[-lines:])


def run_reference(pool: PanelPool, work: Path, params: PanelParams) -> ReferenceResult:
    name = f"reference-{len(pool.people)}-{pool.panel_size}"
    spec, out, log = work / f"{name}.in.json", work / f"{name}.out.json", work / f"{name}.log"
    spec.write_text(json.dumps(_reference_input(pool)), encoding="utf-8")
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.panel_reference", str(spec), str(out),
               "--backend", params.reference_backend, "--seed", str(params.reference_seed)]
    began = time.monotonic()
    with log.open("wb") as sink:
        # the library keeps committees and ids in sets, whose order follows str hashing: a fixed
        # hash seed makes its run (column order, hence the optimum it returns) reproducible
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=params.reference_timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return ReferenceResult("timeout", time.monotonic() - began, params.reference_timeout,
                                   error=f"did not finish in {params.reference_timeout:g} s")
        finally:
            _stop(proc)  # also on Ctrl-C or SIGTERM in the harness
    elapsed = time.monotonic() - began
    if code != 0 or not out.exists():
        return ReferenceResult("failed", elapsed, params.reference_timeout,
                               error=f"exit code {code}: {_tail(log)}")
    result = json.loads(out.read_text(encoding="utf-8"))
    per_person, problems = reference_probabilities(pool, result["committees"], result["probabilities"])
    meta = {k: v for k, v in result.items() if k not in ("committees", "probabilities")}
    return ReferenceResult("finished", elapsed, params.reference_timeout, seconds=result["seconds"],
                           cpu_seconds=result["cpu_seconds"], panels=len(result["committees"]),
                           fairness=Fairness.of(list(per_person.values())), problems=problems, meta=meta)


def run_panel(params: PanelParams, work: Path, progress: Callable[[list[SizeResult]], None]) -> list[SizeResult]:
    """Every size in turn: the pool, ours, then the reference; `progress` after each size."""
    results: list[SizeResult] = []
    for size, panel_size in params.sizes:
        pool = make_pool(size, panel_size)
        print(f"bench: panel {pool.label}: ours", file=sys.stderr)
        try:
            ours: OursResult | Exception = run_ours(pool, params.repeat)
        except Exception as e:  # noqa: BLE001 -- reported in the section, the reference still runs
            ours = e
        reference = None
        if params.reference and (params.reference_sizes is None or (size, panel_size) in params.reference_sizes):
            print(f"bench: panel {pool.label}: reference (at most {params.reference_timeout:g} s)", file=sys.stderr)
            reference = run_reference(pool, work, params)
        results.append(SizeResult(pool, ours, reference))
        progress(results)
    return results


# --- the report section -------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def secs(value: float) -> str:
    return f"{value:,.0f} s" if value >= 100 else f"{value:.1f} s" if value >= 1 else f"{value:.3f} s"


def prob(value: float) -> str:
    return f"{value:.5f}"


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


def tightest_quota(pool: PanelPool) -> tuple[float, str]:
    """The smallest max/count over the quota values: nobody's minimum can exceed it."""
    counts = pool.counts()
    bound, where = min((high / counts[f][v], f"{f}={v} ({high} of {counts[f][v]})")
                       for f, values in pool.quotas.items() for v, (_, high) in values.items() if counts[f][v])
    return bound, where


def pools_table(results: list[SizeResult]) -> str:
    rows = []
    for r in results:
        pool = r.pool
        bound, where = tightest_quota(pool)
        widened = "; ".join(pool.widened) or "none"
        rows.append(f"| {pool.label} | {len(pool.people):,} | {pool.panel_size:,} | {pool.distinct_types():,} |"
                    f" {pool.shared_households()} | {prob(bound)}: {where} | {widened} |")
    return ("| pool | respondents | seats | distinct feature vectors | respondents sharing a household |"
            " upper bound on anyone's minimum (tightest max quota) | quotas widened for feasibility |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def _ours_time(ours: OursResult) -> str:
    s = ours.seconds
    spread = f" ({secs(s.low)}–{secs(s.high)})" if len(s.samples) > 1 else ""
    return f"**{secs(s.median)}**{spread}, {len(s.samples)} run{'s' if len(s.samples) > 1 else ''}"


def _reference_time(ref: ReferenceResult | None) -> tuple[str, str]:
    if ref is None:
        return "not run", "–"
    if ref.status == "finished":
        return f"**{secs(ref.seconds)}** (CPU {secs(ref.cpu_seconds)})", secs(ref.process_seconds)
    if ref.status == "timeout":
        return f"**did not finish in {ref.timeout:g} s** (killed)", secs(ref.process_seconds)
    return f"**failed**: {ref.error}", secs(ref.process_seconds)


def ratio(ours: OursResult, ref: ReferenceResult | None) -> tuple[str, str]:
    """Our median time over the reference's; a bound when the reference did not finish."""
    if ref is None or ref.status == "failed":
        return "–", "–"
    if ref.status == "timeout":
        bound = ours.seconds.median / ref.timeout
        return f"< {bound:.3f}", verdict(bound <= GOAL_RATIO)
    value = ours.seconds.median / ref.seconds
    cpu = f"; CPU {ours.cpu_seconds.median / ref.cpu_seconds:.3f}" if ref.cpu_seconds else ""
    text = f"{value:.3f} (1/{1 / value:.1f}){cpu}" if value > 0 else "0"
    return text, verdict(value <= GOAL_RATIO)


def time_table(results: list[SizeResult]) -> str:
    rows = []
    for r in results:
        ref_time, ref_process = _reference_time(r.reference)
        if isinstance(r.ours, Exception):
            rows.append(f"| {r.pool.label} | **failed**: {type(r.ours).__name__}: {r.ours} | – | {ref_time} |"
                        f" {ref_process} | – | – |")
            continue
        value, goal = ratio(r.ours, r.reference)
        rows.append(f"| {r.pool.label} | {_ours_time(r.ours)} | {secs(r.ours.cpu_seconds.median)} | {ref_time} |"
                    f" {ref_process} | {value} | {goal} |")
    return ("| pool | ours: `find_distribution` (median, min–max) | ours: CPU | reference: algorithm call |"
            " reference: whole process | ratio ours / reference (wall; CPU) | goal ≤ 1/3 (wall) |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def fairness_table(results: list[SizeResult]) -> str:
    rows = []
    for r in results:
        ref = r.reference if r.reference is not None and r.reference.fairness is not None else None
        ref_min = ref.fairness.minimum if ref else None
        entries = []
        if not isinstance(r.ours, Exception):
            entries.append(("ours", r.ours.fairness, f"{prob(r.ours.lp_minimum)}", r.ours.panels))
        if ref:
            entries.append((f"reference ({ref.meta.get('algorithm_ran', '?')})", ref.fairness, "–", ref.panels))
        for who, fair, lp_min, panels in entries:
            below = "–" if ref_min is None else (f"{100 * fair.share_below(ref_min):.1f} %"
                                                  f" ({100 * fair.share_below(ref_min, BELOW_COARSE):.1f} %)")
            rows.append(f"| {r.pool.label} | {who} | **{prob(fair.minimum)}** | {lp_min} | {panels:,} |"
                        f" {prob(fair.percentile(10))} | {prob(fair.percentile(50))} | {fair.gini:.4f} |"
                        f" {prob(fair.geometric_mean)} | {below} |")
    return ("| pool | distribution | minimum probability | LP minimum | panels | 10th percentile | median |"
            f" Gini | geometric mean | share below the reference's minimum by > {BELOW:g} (by > {BELOW_COARSE:g}) |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def goals(results: list[SizeResult]) -> str:
    lines = []
    for r in results:
        if isinstance(r.ours, Exception):
            lines.append(f"- {r.pool.label}: ours failed ({type(r.ours).__name__}: {r.ours}), no goal can be met.")
            continue
        parts = []
        _, speed = ratio(r.ours, r.reference)
        if speed != "–":
            parts.append(f"time ≤ 1/3 of the reference's: {speed}")
        ref = r.reference
        if ref is not None and ref.fairness is not None:
            ours_min, ref_min = float(r.ours.exact_minimum), ref.fairness.minimum
            parts.append(f"minimum probability {prob(ours_min)} ≥ reference's {prob(ref_min)} − 0.001:"
                         f" {verdict(ours_min >= ref_min - GOAL_MIN_SLACK)}")
        else:  # no minimum from the reference: no algorithm's minimum exceeds the tightest quota's bound
            ours_min, (bound, where) = float(r.ours.exact_minimum), tightest_quota(r.pool)
            parts.append(f"minimum probability {prob(ours_min)} ≥ {prob(bound)} − 0.001, the bound no"
                         f" algorithm's minimum can exceed ({where}), so within 0.001 of whatever the"
                         f" reference could reach: {verdict(ours_min >= bound - GOAL_MIN_SLACK)}")
        if (len(r.pool.people), r.pool.panel_size) == G1000:
            parts.append(f"G1000 scale under {GOAL_G1000_SECONDS / 60:g} minutes ({secs(r.ours.seconds.median)}):"
                         f" {verdict(r.ours.seconds.median < GOAL_G1000_SECONDS)}")
        lines.append(f"- {r.pool.label}: " + ("; ".join(parts) if parts else "no goal measured") + ".")
    return "Goals:\n" + "\n".join(lines)


def verification(results: list[SizeResult]) -> str:
    lines = []
    for r in results:
        k = r.pool.panel_size
        if not isinstance(r.ours, Exception):
            o = r.ours
            if o.problems:
                text = "**verification failed**: " + "; ".join(o.problems)
            else:
                text = (f"all {o.panels:,} panels have {k} distinct pool members and meet every quota and the"
                        f" household rule; the weights are positive integers; the probabilities recomputed from"
                        f" them are exact fractions summing to {k} and equal the reported ones")
            determinism = "" if len(o.seconds.samples) < 2 else (
                "; identical distribution in every run" if o.same_every_run else "; **the distribution differed"
                " between runs**")
            lines.append(f"- {r.pool.label}, ours: {text}{determinism}.")
        ref = r.reference
        if ref is not None and ref.status == "finished":
            text = ("**verification failed**: " + "; ".join(ref.problems)) if ref.problems else (
                f"all {ref.panels:,} committees have {k} distinct pool members and meet every quota and the"
                f" household rule; probabilities sum to 1 and per person to {k} (within 1e-6)")
            lines.append(f"- {r.pool.label}, reference: {text}.")
    return "Verification (done here, trusting neither implementation):\n" + "\n".join(lines)


def reference_notes(results: list[SizeResult], params: PanelParams) -> str:
    ran = [r.reference for r in results if r.reference is not None and r.reference.meta]
    if not params.reference:
        return "**The reference was not run** in this run (`--panel-no-reference`)."
    if not ran:
        gurobi = importlib.util.find_spec("gurobipy") is not None
        return (f"**The reference did not report what it ran** (it did not finish or failed at every pool). It was"
                f" asked for LEXIMIN with solver backend `{params.reference_backend}`; gurobipy is"
                f" {'' if gurobi else 'not '}importable here, so by the library's own routing it ran"
                f" {'LEXIMIN' if gurobi else 'maximin'}.")
    meta = ran[0].meta
    backend = meta.get("backend")
    shown = ("sortition-algorithms", "highspy") if backend == "highspy" else ("sortition-algorithms", "mip", "cbcbox")
    versions = ", ".join(f"{name} {v}" for name, v in meta.get("versions", {}).items() if v and name in shown)
    if backend in ("mip", "mip-cbc"):
        why = (" Chosen because for maximin it was much faster than the library's default HiGHS backend in our"
               " earlier measurements (docs/architecture.md §6: 24 s against 143 s on 1,000 → 100; HiGHS did not finish"
               " 3,000 → 150 in 600 s), so the reference is compared at its best open-source configuration"
               " (`--panel-reference-backend` changes it);")
    else:
        why = (" Not the CBC backend that was fastest for maximin in our earlier measurements (docs/architecture.md §6),"
               " because `--panel-reference-backend` asked for this one;")
    algorithm = meta.get("algorithm_ran")
    if algorithm != "leximin":
        what = (f"**maximin, not LEXIMIN**: we asked for LEXIMIN as its entry point offers it, but Gurobi is not"
                f" installed (`GUROBI_AVAILABLE` is {meta.get('gurobi_available')}), so the library falls back to"
                f" maximin, printing: \"{meta.get('notice')}\" Maximin maximises only the smallest probability;"
                f" above it, the distribution is whatever the solver returned")
    else:
        what = "**LEXIMIN** (Gurobi was available)"
    return "\n".join([
        "What the reference ran:",
        f"- algorithm: {what};",
        f"- solver backend `{backend}` = {meta.get('solver')} ({versions}).{why}",
        f"- called as its entry point `find_random_sample` would (same committee-generation function, then"
        f" `standardize_distribution`), in its own process, household as the address column, its randomness"
        f" seeded with {meta.get('seed')} and PYTHONHASHSEED=0 (it iterates over sets of ids); its time is the"
        " algorithm call alone (the whole process, with imports and reading the input, is shown next to it); one"
        " run per pool, since a run takes up to an hour;",
        "- its probabilities are its unrounded LP optimum, before its own randomised rounding into a lottery, while"
        " ours are after rounding to the integer weights that are committed to the log: any rounding loss counts"
        " against ours only.",
    ])


def ours_notes(results: list[SizeResult]) -> str:
    lines = []
    for r in results:
        if isinstance(r.ours, Exception):
            continue
        stats = ", ".join(f"{k} {_short(v)}" for k, v in r.ours.stats.items()
                          if isinstance(v, (int, float, str)))  # nested records left out
        report = r.ours.report
        agree = []
        for key, mine in (("minimum", float(r.ours.exact_minimum)), ("gini", r.ours.fairness.gini),
                          ("geometric_mean", r.ours.fairness.geometric_mean)):
            if key in report:
                try:
                    agree.append(abs(float(report[key]) - mine) <= 1e-9)
                except (TypeError, ValueError):
                    agree.append(False)
        check = ("; its own `fairness_report` agrees with the figures computed here" if agree and all(agree)
                 else "; **its own `fairness_report` differs from the figures computed here**" if agree else "")
        lines.append(f"- {r.pool.label}: {stats or 'no stats'}{check}.")
    return "Our distribution's own statistics (`dist.stats`, its scalar entries):\n" + "\n".join(lines) if lines else ""


def _short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def panel_section(results: list[SizeResult], params: PanelParams, machine_rows: dict[str, str],
                  pending: Sequence[tuple[int, int]] = ()) -> str:
    repeat = f"median of up to {params.repeat} runs" if params.repeat > 1 else "one run"
    parts = [
        "## Panel selection: our fair distribution against `sortition-algorithms`",
        "Time to compute the distribution over panels for a respondent pool, and how fair it is to every"
        " respondent, for our `services.lottery.selection.find_distribution` and for the Sortition Foundation's"
        f" `{REFERENCE}` (the baseline, measured in the same run, one after the other on the same machine). The"
        " pools come from bench/panel_pool.py: generated, deterministic, skewed as real respondent pools are"
        " (older, highly educated, politically interested people and some neighbourhoods answer more often),"
        " six features, one respondent per household with a few exceptions, quotas from the population"
        " shares ± 10 % (at least ± 1 seat), feasibility shown by a witness panel. Ours: "
        f"{repeat} in the benchmark's process (a run over {SLOW_SECONDS:g} s is not repeated). Reference: one run"
        f" in its own process, killed after {params.reference_timeout:g} s. Nothing here is a test threshold.",
        machine_table(machine_rows),
    ]
    if pending:
        parts.append("**Incomplete run**: not measured (the run stopped or is still going): "
                     + ", ".join(f"{n:,} → {k:,}" for n, k in pending) + ".")
    parts += [
        pools_table(results),
        "### Time",
        time_table(results),
        "### Fairness",
        "Selection probability of every respondent (respondents in no panel count with 0). Ours after rounding"
        " the weights to integers (exact); the LP minimum is what our optimisation reached before rounding."
        f" A share below the reference's minimum by at most {BELOW_COARSE:g} is the rounding to integer weights"
        " (a person's probability moves by up to `max_deviation` in our statistics below), not a worse optimum.",
        fairness_table(results),
        goals(results),
        verification(results),
        reference_notes(results, params),
        ours_notes(results),
    ]
    return "\n\n".join(p for p in parts if p)


def summary(results: list[SizeResult]) -> str:
    """One line per pool for the terminal."""
    lines = []
    for r in results:
        if isinstance(r.ours, Exception):
            lines.append(f"panel {r.pool.label}: ours failed: {r.ours}")
            continue
        line = (f"panel {r.pool.label}: ours {secs(r.ours.seconds.median)}, min {prob(float(r.ours.exact_minimum))},"
                f" {r.ours.panels} panels")
        ref = r.reference
        if ref is not None and ref.status == "finished":
            line += (f"; reference {ref.meta.get('algorithm_ran')} {secs(ref.seconds)}, min"
                     f" {prob(ref.fairness.minimum)}, {ref.panels} panels; ratio {ratio(r.ours, ref)[0]}")
        elif ref is not None:
            line += f"; reference {ref.status}: {ref.error}"
        if r.ours.problems or (ref is not None and ref.problems):
            line += " [VERIFICATION PROBLEMS, see the report]"
        lines.append(line)
    return "\n".join(lines)
