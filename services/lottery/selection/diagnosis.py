"""Why quotas cannot be met, and the smallest change of quotas that would fix them.

Why this module exists: when no panel satisfies the quotas, the operators (and the public, who
may read the log) need to know *which* quotas conflict and *what to change*, in plain words --
not a solver status.  The selection itself (LEXIMIN after Flanigan, Gölz, Gupta, Hennig,
Procaccia, "Fair algorithms for selecting citizens' assemblies", Nature 596, 2021) cannot start
before the quotas are feasible, so :func:`.distribution.find_distribution` raises
:class:`~.errors.InfeasibleQuotasError` carrying this diagnosis.

What is computed, over the composition program of :mod:`.pricing` (types, counts per type):

* simple conflicts, each one sentence: a minimum larger than the number of respondents having
  the value (counting one per shared household), a feature whose minimums sum to more than the
  panel size, or whose maximums (capped by the respondents available) sum to less, a panel
  larger than the number of people who may sit together;
* when none of those explains it, a minimal set of quotas that cannot hold together (an
  irreducible infeasible subset found by a deletion filter: drop each quota in turn, keep it
  dropped while the rest stay infeasible);
* the smallest relaxation: an integer program (HiGHS MIP, https://highs.dev) over type counts
  with, per quota, integer slacks for lowering its minimum and raising its maximum, minimising
  their sum; its solution gives the new ``(min, max)`` of every quota that must change.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import highspy
import numpy as np

from .inputs import Person, Problem, check_problem
from .pricing import CompositionProgram, constraint_matrix, new_highs, program_model
from .results import Diagnosis
from .types import TypeTable, build_types

__all__ = ["diagnose", "diagnose_problem"]

IIS_SECONDS = 20.0  # budget for the deletion filter on large pools


def diagnose(people: Sequence[Person], panel_size: int,
             quotas: Mapping[str, Mapping[str, tuple[int, int]]]) -> Diagnosis:
    """Can the quotas be met?  If not: the conflicts and the smallest relaxation.

    Raises :class:`~.errors.SelectionInputError` for malformed input.
    """
    problem = check_problem(people, panel_size, quotas)
    return diagnose_problem(problem, build_types(problem))


def diagnose_problem(problem: Problem, table: TypeTable) -> Diagnosis:
    """:func:`diagnose` for an already checked problem and its types."""
    k = problem.panel_size
    people = len(problem.people)
    program = CompositionProgram(table)
    if program.feasible() is not None:
        return Diagnosis(True, [], {}, f"The quotas can be met: panels of {k} satisfying every "
                         f"quota exist among the {people} respondents.")
    conflicts = _simple_conflicts(problem, table)
    if not conflicts:
        conflicts = _irreducible_conflicts(table)
    relaxation = _smallest_relaxation(table)
    message = f"No panel of {k} among the {people} respondents meets the quotas: "
    message += "; ".join(conflicts) + "."
    if relaxation is None:
        message += " No change of quotas can help, because of the household rule."
        relaxation = {}
    else:
        changes = []
        for (feature, value), (low, high) in sorted(relaxation.items()):
            old_low, old_high = problem.bounds[(feature, value)]
            if low != old_low:
                changes.append(f"lower the minimum of {feature}={value} from {old_low} to {low}")
            if high != old_high:
                changes.append(f"raise the maximum of {feature}={value} from {old_high} to "
                               f"{high}")
        total = sum(abs(relaxation[key][0] - problem.bounds[key][0])
                    + abs(relaxation[key][1] - problem.bounds[key][1]) for key in relaxation)
        message += (f" The smallest change that makes them satisfiable (a total of {total}): "
                    + "; ".join(changes) + ".")
    return Diagnosis(False, conflicts, relaxation, message)


def _available(table: TypeTable, types: np.ndarray) -> tuple[int, int]:
    """(most people of these types who may sit together, how many there are in all)."""
    household_of = {t: i for i, group in enumerate(table.households) for t in group}
    alone = sum(int(table.sizes[t]) for t in types.tolist() if t not in household_of)
    shared = {household_of[t] for t in types.tolist() if t in household_of}
    total = int(table.sizes[types].sum()) if len(types) else 0
    return alone + len(shared), total


def _simple_conflicts(problem: Problem, table: TypeTable) -> list[str]:
    k = problem.panel_size
    conflicts = []
    together, everyone = _available(table, np.arange(table.count))
    if together < k:
        conflicts.append(f"the panel needs {k} people but only {together} of the {everyone} "
                         "respondents may sit together (at most one per household)")
    by_feature: dict[str, list] = {}
    for row in table.rows:
        available, having = _available(table, row.types)
        by_feature.setdefault(row.feature, []).append((row, available))
        if row.low > available:
            note = "" if available == having else (f" (of the {having} who have it, at most "
                                                    "one per household may sit together)")
            have = "respondent has" if available == 1 else "respondents have"
            conflicts.append(f"{row.feature}={row.value} min {row.low} but only {available} "
                             f"{have} it{note}")
    for feature in problem.features:
        rows = by_feature.get(feature, [])
        lows = sum(row.low for row, _ in rows)
        if lows > k:
            conflicts.append(f"the minimums of {feature} sum to {lows} > panel size {k}")
        highs = sum(row.high for row, _ in rows)
        capped = sum(min(row.high, available) for row, available in rows)
        if highs < k:
            conflicts.append(f"the maximums of {feature} sum to {highs} < panel size {k}")
        elif capped < k:
            conflicts.append(f"the maximums of {feature}, capped by the respondents who have "
                             f"each value, sum to {capped} < panel size {k}")
    return conflicts


def _irreducible_conflicts(table: TypeTable) -> list[str]:
    """A minimal set of quota rows that cannot hold together (deletion filter)."""
    started = time.monotonic()
    h = new_highs(mip_rel_gap=1.0)
    h.passModel(program_model(table, integer=True))
    n_rows = len(table.rows)
    active = list(range(n_rows))
    for r in range(n_rows):
        if time.monotonic() - started > IIS_SECONDS:
            break
        h.changeRowBounds(r, -highspy.kHighsInf, highspy.kHighsInf)
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
            active.remove(r)  # still infeasible without it: leave it out
        else:
            row = table.rows[r]
            h.changeRowBounds(r, float(row.low), float(row.high))
    described = ", ".join(f"{table.rows[r].feature}={table.rows[r].value} in "
                          f"[{table.rows[r].low}, {table.rows[r].high}]" for r in active)
    if not active:
        return ["the panel size and the household rule leave no valid panel"]
    if len(active) == 1:
        return [f"the quota {described} cannot be met together with the panel size and the "
                "household rule"]
    return [f"these quotas cannot all be met together: {described}"]


def _smallest_relaxation(table: TypeTable) -> dict[tuple[str, str], tuple[int, int]] | None:
    """New (min, max) per quota that must change, minimising the total change; ``None`` when
    no quota change makes a panel possible."""
    n = table.count
    k = table.problem.panel_size
    starts, index, value, lower, upper = constraint_matrix(table, k)
    q = len(table.rows)
    h = new_highs()
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    # columns: x_t (n), lower-slack l_r (q), upper-slack u_r (q)
    col_low = np.zeros(n + 2 * q)
    col_high = np.concatenate([table.sizes.astype(float), lower[:q], np.full(q, float(k))])
    cost = np.concatenate([np.zeros(n), np.ones(2 * q)])
    h.addCols(n + 2 * q, cost, col_low, col_high, 0, np.zeros(n + 2 * q, dtype=np.int32),
              np.array([], dtype=np.int32), np.array([], dtype=float))
    h.changeColsIntegrality(n + 2 * q, np.arange(n + 2 * q, dtype=np.int32),
                            np.full(n + 2 * q, 1, dtype=np.uint8))
    for r in range(len(lower)):
        ts = index[starts[r]:starts[r + 1]]
        if r < q:  # quota row: sum x + l_r >= low_r and sum x - u_r <= high_r
            idx = np.concatenate([ts, [n + r]]).astype(np.int32)
            h.addRow(lower[r], highspy.kHighsInf, len(idx), idx,
                     np.concatenate([np.ones(len(ts)), [1.0]]))
            idx = np.concatenate([ts, [n + q + r]]).astype(np.int32)
            h.addRow(-highspy.kHighsInf, upper[r], len(idx), idx,
                     np.concatenate([np.ones(len(ts)), [-1.0]]))
        else:  # panel size and households unchanged
            h.addRow(lower[r], upper[r], len(ts), ts.astype(np.int32), np.ones(len(ts)))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    values = np.rint(np.asarray(h.getSolution().col_value)).astype(np.int64)
    relaxation = {}
    for r, row in enumerate(table.rows):
        down, up = int(values[n + r]), int(values[n + q + r])
        if down or up:
            relaxation[(row.feature, row.value)] = (row.low - down, row.high + up)
    return relaxation
