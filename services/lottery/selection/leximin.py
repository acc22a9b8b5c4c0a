"""LEXIMIN over types: the relaxed optimum, its decomposition, and exact column generation.

Why this module exists: it computes the fair part of the panel selection.  Following Flanigan,
Gölz, Gupta, Hennig and Procaccia ("Fair algorithms for selecting citizens' assemblies", Nature
596, 2021; LEXIMIN, Methods), the selection is a probability distribution over valid panels that
is *leximin optimal*: it maximises the smallest selection probability of any respondent, subject
to that the second smallest, and so on.  Their algorithm works per person with column generation
and a commercial solver; here everything works per *type* (:mod:`.types`; exact, because
interchangeable people have equal LEXIMIN probability) with the open-source HiGHS solver
(https://highs.dev) through ``highspy``.  A lottery over panels is, at type level, a lottery
over compositions ``x`` (:mod:`.pricing`); the probability of each member of type ``t`` is
``E[x_t] / n_t``.

Three stages, each exact in the LP sense (tolerance ~1e-9 on probabilities):

1. :func:`relaxed_leximin` -- LEXIMIN over the LP relaxation ``Q`` of the composition program,
   a sequence of small LPs over expected counts ``u_t`` (no columns).  Since every lottery over
   valid compositions has its expectation in ``Q``, this is an upper bound in the leximin order.
2. :func:`.decomposition.decompose` -- write that optimum as a lottery over valid compositions.
   When it succeeds (it did on every generated G1000-like pool), the bound is attained, so the
   lottery is LEXIMIN optimal over panels.
3. Otherwise column generation decides exactly (:func:`exact_leximin`): first whether the relaxed
   levels are attainable after all (the decomposition is greedy), and if not, the algorithm of
   Flanigan et al. over types.  Master LP over compositions ``x^P`` with probabilities ``p_P``::

       maximise z
       subject to  sum_P p_P x^P_t / n_t - z >= 0          every type t not yet fixed
                   sum_P p_P x^P_t / n_t     >= f_t - eps  every type t fixed at level f_t
                   sum_P p_P = 1,  p >= 0

   With row duals ``y_t >= 0`` and ``mu`` (convexity row) a composition improves the LP iff
   ``sum_t (y_t / n_t) x_t > mu``: the pricing problem, solved LP-first by
   :meth:`.pricing.CompositionProgram.improving`; when nothing improves, the restricted LP is
   optimal over all compositions.  At the optimum ``z*`` of a level, every unfixed type with
   ``y_t > 0`` has probability ``z*`` in every optimal lottery (complementary slackness), so it
   is fixed; the unfixed duals sum to 1, so at least one type is fixed per level.

The same fixing rule drives :func:`relaxed_leximin`, whose LPs are compact.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from .decomposition import decompose
from .pricing import CompositionProgram, constraint_matrix, new_highs, run_lp
from .types import TypeTable

__all__ = ["TypeDistribution", "exact_leximin", "find_type_distribution", "relaxed_leximin"]

# Tolerances (probabilities are in [0, 1]).  HiGHS' simplex runs with feasibility tolerances of
# 1e-9.  A type fixed at level f keeps the row ``>= f - slack`` so that round-off never makes a
# later LP infeasible; the slack starts at FIX_EPS and, should a later LP still come out
# infeasible (HiGHS can misjudge by a hair after many warm-started changes), every fixed row is
# relaxed tenfold and the LP solved again, up to MAX_SLACK.  A lottery "attains" the levels when
# no type is more than the slack used plus ACCEPT_TOL below its level.
FIX_EPS = 1e-9
MAX_SLACK = 1e-6
PRICE_TOL = 1e-10    # a column must improve the master LP by more than this to be added
DUAL_FIX_TOL = 1e-6  # a type is fixed when its dual exceeds this (the unfixed duals sum to 1)
ACCEPT_TOL = 5e-9
_LP_OPTIONS = {"solver": "simplex", "primal_feasibility_tolerance": 1e-9,
               "dual_feasibility_tolerance": 1e-9}


@dataclass
class TypeDistribution:
    """The LEXIMIN lottery at type level.

    ``compositions[j]`` (int64 vector over types) has probability ``weights[j]`` (floats,
    summing to 1); ``levels[t]`` is the LEXIMIN probability of each member of type ``t``;
    ``achieved[t]`` what the lottery gives (``>= levels[t] - tolerance``: the slack kept on
    fixed levels plus ``ACCEPT_TOL``); ``minimum`` the optimal smallest probability.
    """

    compositions: np.ndarray
    weights: np.ndarray
    levels: np.ndarray
    achieved: np.ndarray
    minimum: float
    tolerance: float
    stats: dict = field(default_factory=dict)


# --- stage 1: LEXIMIN over the LP relaxation ----------------------------------------------------


def relaxed_leximin(table: TypeTable, *, deadline: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray, dict] | None:
    """LEXIMIN over ``Q``: ``(levels, u, stats)``, or ``None`` when ``Q`` is empty.

    ``u`` is the last LP's expected member count per type (``u_t / n_t >= levels_t - slack``,
    ``stats["relaxed_slack"]``).
    Compact LP: columns ``u_t`` in ``[0, n_t]`` and ``z``; the composition rows; one row
    ``u_t / n_t - z >= 0`` per type, turned into ``u_t / n_t >= level`` when fixed.
    """
    started = time.monotonic()
    n = table.count
    sizes = table.sizes.astype(float)
    starts, index, value, lower, upper = constraint_matrix(table, table.problem.panel_size)
    r_count = len(lower)
    h = new_highs(**_LP_OPTIONS)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.addCols(n, np.zeros(n), np.zeros(n), sizes, 0, np.zeros(n, dtype=np.int32),
              np.array([], dtype=np.int32), np.array([], dtype=float))
    h.addCol(1.0, 0.0, 1.0, 0, np.array([], dtype=np.int32), np.array([], dtype=float))
    h.addRows(r_count, lower, upper, len(index), starts[:-1], index, value)
    type_index = np.empty(2 * n, dtype=np.int32)
    type_index[0::2] = np.arange(n)
    type_index[1::2] = n
    type_value = np.empty(2 * n)
    type_value[0::2] = 1.0 / sizes
    type_value[1::2] = -1.0
    h.addRows(n, np.zeros(n), np.full(n, highspy.kHighsInf), 2 * n,
              np.arange(0, 2 * n, 2, dtype=np.int32), type_index, type_value)
    fixed = np.zeros(n, dtype=bool)
    levels = np.zeros(n)
    rounds = 0
    slack = FIX_EPS
    while not fixed.all():
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError("time limit reached in the relaxed LEXIMIN")
        status = run_lp(h)
        rounds += 1
        if status == highspy.HighsModelStatus.kInfeasible and rounds == 1:
            return None
        while status == highspy.HighsModelStatus.kInfeasible and slack < MAX_SLACK:
            slack *= 10.0  # see the note on tolerances above
            for t in np.flatnonzero(fixed):
                h.changeRowBounds(r_count + int(t), levels[t] - slack, highspy.kHighsInf)
            status = run_lp(h)
        if status != highspy.HighsModelStatus.kOptimal:  # pragma: no cover
            raise RuntimeError(f"relaxed LEXIMIN LP ended with {h.modelStatusToString(status)}")
        solution = h.getSolution()
        z = float(solution.col_value[n])
        duals = np.where(fixed, 0.0, np.maximum(-np.asarray(solution.row_dual)[r_count:], 0.0))
        chosen = (~fixed) & (duals > DUAL_FIX_TOL)
        if not chosen.any():
            chosen[int(np.argmax(np.where(fixed, -1.0, duals)))] = True
        for t in np.flatnonzero(chosen):
            h.changeCoeff(r_count + int(t), n, 0.0)
            h.changeRowBounds(r_count + int(t), z - slack, highspy.kHighsInf)
        levels[chosen] = z
        fixed |= chosen
    u = np.clip(np.asarray(solution.col_value)[:n], 0.0, sizes)  # the last LP: meets every fixed row
    stats = {"relaxed_rounds": rounds, "relaxed_slack": slack,
             "seconds_relaxed": round(time.monotonic() - started, 3)}
    return levels, u, stats


# --- stage 3: column generation -----------------------------------------------------------------


class _Master:
    """The restricted master LP (rows: one per type, then convexity), warm-started in HiGHS."""

    def __init__(self, table: TypeTable, *, z_low: float = 0.0) -> None:
        self.n = table.count
        self.inv_sizes = 1.0 / table.sizes.astype(float)
        h = new_highs(**_LP_OPTIONS)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.addCol(1.0, z_low, 1.0, 0, np.array([], dtype=np.int32), np.array([], dtype=float))
        n = self.n
        lower = np.concatenate([np.zeros(n), [1.0]])
        upper = np.concatenate([np.full(n, highspy.kHighsInf), [1.0]])
        starts = np.concatenate([np.arange(n), [n]]).astype(np.int32)
        h.addRows(n + 1, lower, upper, n, starts, np.zeros(n, dtype=np.int32), -np.ones(n))
        self.h = h
        self.columns: list[np.ndarray] = []
        self.seen: set[bytes] = set()
        self.lp_solves = 0
        self.slack = FIX_EPS
        self.levels: np.ndarray | None = None   # set by exact_leximin: rows to relax if needed
        self.fixed: np.ndarray | None = None

    def add(self, compositions: list[np.ndarray]) -> int:
        fresh = []
        for x in compositions:
            key = np.asarray(x, dtype=np.int64).tobytes()
            if key not in self.seen:
                self.seen.add(key)
                fresh.append(np.asarray(x, dtype=np.int64))
        if not fresh:
            return 0
        starts, index, value = [], [], []
        for x in fresh:  # entries x_t / n_t in the type rows, 1 in the convexity row (row n)
            starts.append(len(index))
            nz = np.flatnonzero(x)
            index.extend(nz.tolist())
            index.append(self.n)
            value.extend((x[nz] * self.inv_sizes[nz]).tolist())
            value.append(1.0)
            self.columns.append(x)
        k = len(fresh)
        self.h.addCols(k, np.zeros(k), np.zeros(k), np.full(k, highspy.kHighsInf), len(index),
                       np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32),
                       np.array(value, dtype=float))
        return k

    def set_row(self, t: int, with_z: bool, lower: float) -> None:
        self.h.changeCoeff(t, 0, -1.0 if with_z else 0.0)
        self.h.changeRowBounds(t, lower, highspy.kHighsInf)

    def solve(self) -> tuple[float, float, np.ndarray, np.ndarray]:
        """``(z, mu, pricing costs y_t / n_t, column weights)``."""
        h = self.h
        status = run_lp(h)
        self.lp_solves += 1
        while (status == highspy.HighsModelStatus.kInfeasible and self.fixed is not None
               and self.slack < MAX_SLACK):
            self.slack *= 10.0  # see the note on tolerances above
            for t in np.flatnonzero(self.fixed):
                self.set_row(int(t), False, float(self.levels[t]) - self.slack)
            status = run_lp(h)
        if status != highspy.HighsModelStatus.kOptimal:  # pragma: no cover
            raise RuntimeError(f"master LP ended with {h.modelStatusToString(status)}")
        solution = h.getSolution()
        row_dual = np.asarray(solution.row_dual)
        col_value = np.asarray(solution.col_value)
        # HiGHS: reduced cost = c - A^T row_dual; a new column (cost 0, entries x_t/n_t and 1)
        # improves the maximisation iff sum_t (-row_dual_t) x_t/n_t > row_dual_conv.
        y = np.maximum(-row_dual[: self.n], 0.0)
        return float(col_value[0]), float(row_dual[self.n]), y * self.inv_sizes, col_value[1:]

    def unfixed_duals(self, fixed: np.ndarray) -> np.ndarray:
        row_dual = np.asarray(self.h.getSolution().row_dual)[: self.n]
        return np.where(fixed, 0.0, np.maximum(-row_dual, 0.0))


def _generate(master: _Master, program: CompositionProgram, deadline: float | None,
              counter: dict, enough: float = float("inf")) -> tuple[float, np.ndarray]:
    """Column generation until no composition improves (or ``z >= enough``): ``(z, weights)``.

    Raises :class:`TimeoutError` after ``deadline``.
    """
    while True:
        counter["iterations"] += 1
        z, mu, costs, weights = master.solve()
        if z >= enough:
            return z, weights
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError("time limit reached in the column generation")
        found, bound = program.improving(costs, mu, PRICE_TOL)
        if found and master.add(found):
            continue
        counter["max_gap"] = max(counter["max_gap"], bound - mu)
        return z, weights


def _seed_columns(table: TypeTable, program: CompositionProgram) -> list[np.ndarray]:
    """Valid compositions that together include every type that can be included at all."""
    columns: list[np.ndarray] = []
    uncovered = np.ones(table.count, dtype=bool)
    inv = 1.0 / table.sizes.astype(float)
    while uncovered.any():
        found, _ = program.improving(np.where(uncovered, inv, 0.0), 0.0, 1e-9)
        if not found:
            break  # the remaining types are in no valid composition
        for x in found:
            columns.append(x)
            uncovered &= x == 0
    return columns


def attain(table: TypeTable, program: CompositionProgram, levels: np.ndarray,
           columns: list[np.ndarray], *, deadline: float | None = None
           ) -> tuple[float, np.ndarray, list[np.ndarray], dict]:
    """Column generation for ``max z`` s.t. every type gets ``>= levels_t + z``.

    Starts from ``columns`` (re-weighting them may already suffice) and stops as soon as
    ``z >= -ACCEPT_TOL``, i.e. the levels are attained.  Returns ``(z, weights, columns,
    counter)``.
    """
    master = _Master(table, z_low=-1.0)
    master.add(columns if columns else _seed_columns(table, program))
    for t in range(table.count):
        master.set_row(t, True, float(levels[t]))
    counter = {"iterations": 0, "max_gap": 0.0}
    z, weights = _generate(master, program, deadline, counter, enough=-ACCEPT_TOL)
    counter["lp_solves"] = master.lp_solves
    return z, weights, master.columns, counter


def reweight_tail(table: TypeTable, columns: list[np.ndarray], weights: np.ndarray,
                  levels: np.ndarray, *, tail_mass: float = 1e-3) -> np.ndarray | None:
    """New weights for the decomposition's last compositions so that the levels are attained.

    The greedy decomposition is numerically delicate only at its end, where the remaining
    mass is tiny; the compositions found once less than ``tail_mass`` remained (at least the
    last 50) are re-weighted by a small LP, the others keep their weights.  The LP is scaled
    by the tail's mass (its weights sum to 1, its right-hand sides are divided by the mass),
    so the solver's tolerances apply to the tail, not to the whole lottery.  ``None`` when the
    LP cannot attain the levels within ``ACCEPT_TOL``.
    """
    if not columns:
        return None
    weights = np.asarray(weights, dtype=float)
    before = 1.0 - np.concatenate([[0.0], np.cumsum(weights)[:-1]])
    start = int(np.searchsorted(-before, -tail_mass))  # first step with <= tail_mass left
    start = min(start, max(0, len(columns) - 50))
    head = np.array(columns[:start], dtype=np.int64).reshape(start, table.count)
    head_weights = weights[:start]
    rest = 1.0 - float(head_weights.sum())
    if rest <= 0:
        return None
    fixed = (head_weights @ head) / table.sizes if start else np.zeros(table.count)
    master = _Master(table, z_low=-1.0 / rest)
    master.add(columns[start:])
    if len(master.columns) != len(columns) - start:
        return None  # duplicate columns: leave it to the full re-weighting
    for t in range(table.count):
        master.set_row(t, True, float((levels[t] - fixed[t]) / rest))
    z, _, _, tail = master.solve()
    if z * rest < -ACCEPT_TOL:
        return None
    return np.concatenate([head_weights, np.maximum(tail, 0.0) * rest])


def exact_leximin(table: TypeTable, program: CompositionProgram, columns: list[np.ndarray], *,
                  deadline: float | None = None
                  ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], dict]:
    """Flanigan et al.'s LEXIMIN by column generation, over types.

    Returns ``(levels, weights, columns, counter)``.
    """
    n = table.count
    master = _Master(table)
    master.add(columns + _seed_columns(table, program))
    fixed = np.zeros(n, dtype=bool)
    levels = np.zeros(n)
    counter = {"iterations": 0, "max_gap": 0.0, "levels": 0}
    weights = np.zeros(0)
    while not fixed.all():
        counter["levels"] += 1
        z, weights = _generate(master, program, deadline, counter)
        duals = master.unfixed_duals(fixed)
        chosen = (~fixed) & (duals > DUAL_FIX_TOL)
        if not chosen.any():  # numerically flat duals: fix the largest, always progress
            chosen[int(np.argmax(np.where(fixed, -1.0, duals)))] = True
        for t in np.flatnonzero(chosen):
            master.set_row(int(t), False, z - master.slack)
        levels[chosen] = z
        fixed |= chosen
        master.levels, master.fixed = levels, fixed
    counter["lp_solves"] = master.lp_solves
    counter["slack"] = master.slack
    return levels, weights, master.columns, counter


# --- the whole computation ----------------------------------------------------------------------


def _clean(table: TypeTable, columns: list[np.ndarray], weights: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    compositions = np.array(columns, dtype=np.int64).reshape(len(columns), table.count)
    weights = np.maximum(np.asarray(weights, dtype=float), 0.0)
    keep = weights > 1e-13
    compositions, weights = compositions[keep], weights[keep] / weights[keep].sum()
    achieved = (weights @ compositions) / table.sizes
    return compositions, weights, achieved


def find_type_distribution(table: TypeTable, program: CompositionProgram, *,
                           deadline: float | None = None) -> TypeDistribution:
    """The LEXIMIN lottery over compositions of ``table`` (see the module docstring).

    ``program`` must be the :class:`CompositionProgram` of ``table`` and the quotas must be
    satisfiable (the caller checks first).  Raises :class:`TimeoutError` after ``deadline``
    (a ``time.monotonic()`` value).
    """
    started = time.monotonic()
    program.set_deadline(deadline)
    stats: dict = {"types": table.count, "pricing": program.counts}
    columns: list[np.ndarray] = []
    relaxed = relaxed_leximin(table, deadline=deadline)
    if relaxed is not None:
        levels, point, relaxed_stats = relaxed
        stats.update(relaxed_stats)
        columns, weights, mass_left, dstats = decompose(table, point, deadline=deadline)
        stats["decomposition"] = dstats
        tolerance = stats["relaxed_slack"] + ACCEPT_TOL
        if columns and mass_left <= 1e-6:  # the last composition(s) take the remaining mass
            compositions, weights, achieved = _clean(table, columns, weights)
            if float(np.min(achieved - levels)) >= -tolerance:
                stats["method"] = "relaxation, decomposition"
                return _finish(compositions, weights, levels, achieved, tolerance, stats,
                               started)
        # the greedy decomposition fell short (numerically, or a face without compositions):
        # re-weight its last compositions by LP, then all of them, adding columns only if
        # that is not enough
        tail = reweight_tail(table, columns, weights, levels - stats["relaxed_slack"])
        if tail is not None:
            compositions, weights, achieved = _clean(table, columns, tail)
            if float(np.min(achieved - levels)) >= -tolerance:
                stats["method"] = "relaxation, decomposition, re-weighting"
                return _finish(compositions, weights, levels, achieved, tolerance, stats,
                               started)
        z, weights, columns, counter = attain(table, program, levels - stats["relaxed_slack"],
                                              columns, deadline=deadline)
        stats["attain"] = counter
        if z >= -ACCEPT_TOL:
            compositions, weights, achieved = _clean(table, columns, weights)
            stats["method"] = "relaxation, column generation"
            return _finish(compositions, weights, levels, achieved, tolerance, stats, started)
    # the relaxed levels are not attainable: LEXIMIN by column generation proper
    levels, weights, columns, counter = exact_leximin(table, program, columns, deadline=deadline)
    stats["exact"] = counter
    stats["method"] = "column generation"
    compositions, weights, achieved = _clean(table, columns, weights)
    return _finish(compositions, weights, levels, achieved, counter["slack"] + ACCEPT_TOL, stats,
                   started)


def _finish(compositions, weights, levels, achieved, tolerance, stats, started
            ) -> TypeDistribution:
    stats["compositions"] = len(weights)
    stats["max_level_shortfall"] = float(max(0.0, np.max(levels - achieved)))
    stats["seconds_leximin"] = round(time.monotonic() - started, 3)
    return TypeDistribution(compositions, weights, levels, achieved, float(np.min(levels)),
                            float(tolerance), stats)
