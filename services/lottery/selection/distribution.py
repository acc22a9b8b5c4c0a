"""``find_distribution``: respondents and quotas in, a fair lottery over explicit panels out.

Why this module exists: it is the one entry point the lottery service calls for stage 2 of the
draw (docs/architecture.md §6).  It chains the pure steps -- check the input (:mod:`.inputs`), group
people into types (:mod:`.types`), check the quotas can be met (:mod:`.pricing`, else
:mod:`.diagnosis`), compute the LEXIMIN lottery over compositions (:mod:`.leximin`, after
Flanigan, Gölz, Gupta, Hennig, Procaccia, "Fair algorithms for selecting citizens' assemblies",
Nature 596, 2021, solved with HiGHS), turn it into panels with integer weights
(:mod:`.panels`) -- and then checks every panel with the *same* functions the auditor's
verifier uses (:class:`g1000_proofs.draw.PanelChecker`, the quota and household checks of
``check_quotas``/``check_households`` with the rows validated once), before anything is returned.  No I/O, no database,
deterministic: the same input in any order gives the same output.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from fractions import Fraction
from types import MappingProxyType

from g1000_proofs.draw import PanelChecker, Row

from .diagnosis import diagnose_problem
from .errors import InfeasibleQuotasError, SelectionInputError, SelectionTimeoutError
from .inputs import Person, Problem, check_problem
from .leximin import find_type_distribution
from .panels import build_panels
from .pricing import CompositionProgram
from .results import Distribution
from .types import build_types

__all__ = ["find_distribution"]

BALANCE_TOLERANCE = 1e-5  # target spread of a type's members' probabilities (panels.py)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def find_distribution(people: Sequence[Person], panel_size: int,
                      quotas: Mapping[str, Mapping[str, tuple[int, int]]], *,
                      total_weight: int = 1_000_000, max_panels: int = 2_000,
                      time_limit: float | None = None) -> Distribution:
    """The LEXIMIN lottery over panels of ``panel_size`` people meeting ``quotas``.

    Every panel satisfies the quotas and the household rule (people sharing a household never
    sit together); weights are positive integers summing to ``total_weight``; at most
    ``max_panels`` panels (fewer in practice: identical panels are merged and splitting stops
    once every person is within ``1e-5`` of their LEXIMIN probability).

    Raises :class:`SelectionInputError` for malformed input, :class:`InfeasibleQuotasError`
    (with ``.diagnosis``) when no panel meets the quotas, and :class:`SelectionTimeoutError`
    when ``time_limit`` seconds pass first.
    """
    started = time.monotonic()
    if not _is_int(total_weight) or total_weight < 1:
        raise SelectionInputError(f"total_weight must be a positive int, got {total_weight!r}")
    if not _is_int(max_panels) or max_panels < 1:
        raise SelectionInputError(f"max_panels must be a positive int, got {max_panels!r}")
    if time_limit is not None and (isinstance(time_limit, bool)
                                   or not isinstance(time_limit, (int, float))
                                   or not time_limit > 0):
        raise SelectionInputError(f"time_limit must be a positive number or None, "
                                  f"got {time_limit!r}")
    deadline = None if time_limit is None else started + float(time_limit)
    problem = check_problem(people, panel_size, quotas)
    table = build_types(problem)
    program = CompositionProgram(table)
    program.set_deadline(deadline)
    try:
        feasible = program.feasible() is not None
        if not feasible:
            raise InfeasibleQuotasError(diagnose_problem(problem, table))
        seconds_setup = time.monotonic() - started
        lottery = find_type_distribution(table, program, deadline=deadline)
    except TimeoutError:
        raise SelectionTimeoutError(f"time limit of {time_limit} s reached before the LEXIMIN "
                                    "lottery was found") from None
    phase = time.monotonic()
    built = build_panels(table, lottery.compositions, lottery.weights, lottery.achieved,
                         total_weight=total_weight, max_panels=max_panels,
                         tolerance=BALANCE_TOLERANCE)
    seconds_panels = time.monotonic() - phase
    phase = time.monotonic()
    _verify_panels(problem, built.panels, built.weights, total_weight)
    seconds_verify = time.monotonic() - phase

    coverage: dict[str, int] = {p.id: 0 for p in problem.people}
    for panel, weight in zip(built.panels, built.weights):
        for pid in panel:
            coverage[pid] += weight
    probabilities = {pid: Fraction(c, total_weight) for pid, c in coverage.items()}
    type_of = {pid: t for t, members in enumerate(table.members) for pid in members}
    deviation = max(abs(float(probabilities[pid]) - float(lottery.levels[t]))
                    for pid, t in type_of.items())
    stats = dict(lottery.stats)
    stats.pop("pricing", None)
    stats.update({
        "people": len(problem.people),
        "panel_size": problem.panel_size,
        "types": table.count,
        "household_types": sum(len(group) for group in table.households),
        "pricing_solves": dict(program.counts),
        "panels": len(built.panels),
        "panel_stats": built.stats,
        "total_weight": total_weight,
        "max_deviation": deviation,
        "min_probability": float(min(probabilities.values())),
        "seconds_setup": round(seconds_setup, 3),
        "seconds_panels": round(seconds_panels, 3),
        "seconds_verify": round(seconds_verify, 3),
        "seconds_total": round(time.monotonic() - started, 3),
    })
    return Distribution(
        panels=tuple(built.panels),
        weights=tuple(built.weights),
        probabilities=MappingProxyType(probabilities),
        lp_minimum=float(lottery.minimum),
        stats=MappingProxyType(stats),
    )


def _verify_panels(problem: Problem, panels: list[tuple[str, ...]], weights: list[int],
                   total_weight: int) -> None:
    """Check every panel with the verifier's own functions; raise AssertionError if any fails.

    (An explicit raise, not ``assert``, so it also runs under ``python -O``.)
    """
    features = problem.features
    checker = PanelChecker([Row(p.id, problem.households[p.id], {f: p.features[f] for f in features})
                            for p in problem.people], problem.quota_table())
    if sum(weights) != total_weight or any(w <= 0 for w in weights) or len(weights) != len(
            panels):
        raise AssertionError("panel weights are not positive integers summing to total_weight")
    if len(set(panels)) != len(panels):
        raise AssertionError("a panel occurs twice")
    for panel in panels:
        if len(panel) != problem.panel_size or len(set(panel)) != len(panel) or list(
                panel) != sorted(panel):
            raise AssertionError(f"panel of {len(panel)} is not {problem.panel_size} sorted ids")
        problems = checker.quotas(panel) + checker.households(panel)
        if problems:
            raise AssertionError("internal error, a panel breaks the rules: "
                                 + "; ".join(problems))
