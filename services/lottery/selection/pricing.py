"""The composition integer program: which panels (as counts per type) satisfy the quotas.

Why this module exists: a panel, seen through the quotas, is a *composition* -- an integer count
``x_t`` of members of each type ``t`` (see :mod:`.types`).  The valid compositions are the
integer points of

    sum_t x_t = panel_size,   low_fv <= sum_{t has f=v} x_t <= high_fv   (every quota f=v),
    0 <= x_t <= n_t,          sum_{t in H} x_t <= 1   (every shared household H).

The column generation for LEXIMIN (Flanigan, Gölz, Gupta, Hennig, Procaccia, "Fair algorithms
for selecting citizens' assemblies", Nature 596, 2021) needs the *pricing problem*: the valid
composition maximising a linear objective ``sum_t c_t x_t`` (``c_t`` = dual price of type ``t``
per member).  The feasibility check and the diagnosis need the same program.  It is solved with
the HiGHS MIP solver (Huangfu and Hall, "Parallelizing the dual revised simplex method", Math.
Prog. Comp. 10, 2018; https://highs.dev) through ``highspy.Highs`` directly, one model built
once and re-solved with new costs.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from .types import TypeTable

__all__ = ["CompositionProgram", "composition_violations", "constraint_matrix", "new_highs",
           "program_model", "run_lp"]


def new_highs(**options: object) -> highspy.Highs:
    """A silent, deterministic ``highspy.Highs`` with ``options`` set (single thread)."""
    h = highspy.Highs()
    settings = {"output_flag": False, "random_seed": 0}
    settings.update(options)
    for name, value in settings.items():
        if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:  # pragma: no cover
            raise RuntimeError(f"HiGHS rejected option {name}={value!r}")
    return h


def run_lp(h: highspy.Highs) -> highspy.HighsModelStatus:
    """Run an LP warm-started; if that does not end optimal, once more from scratch.

    (Warm-started dual simplex re-solves occasionally misreport infeasibility by a margin just
    above the feasibility tolerance; a cold solve settles it.)
    """
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        h.clearSolver()
        h.run()
        status = h.getModelStatus()
    return status


def constraint_matrix(table: TypeTable, panel_size: int):
    """Rows of the composition program as CSR (starts, index, value, lower, upper).

    Row order: the quota rows of ``table.rows``, then the panel-size row, then one row per
    shared household.
    """
    starts, index, lower, upper = [0], [], [], []
    for row in table.rows:
        index.extend(row.types.tolist())
        starts.append(len(index))
        lower.append(row.low)
        upper.append(row.high)
    index.extend(range(table.count))
    starts.append(len(index))
    lower.append(panel_size)
    upper.append(panel_size)
    for group in table.households:
        index.extend(group)
        starts.append(len(index))
        lower.append(0)
        upper.append(1)
    return (np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32),
            np.ones(len(index)), np.array(lower, dtype=float), np.array(upper, dtype=float))


def composition_violations(table: TypeTable, x: np.ndarray) -> list[str]:
    """Plain sentences for every way the integer vector ``x`` is not a valid composition."""
    problems = []
    if x.shape != (table.count,):
        return [f"composition has {x.shape} entries, expected {table.count}"]
    if (x < 0).any() or (x > table.sizes).any():
        problems.append("a type count is outside 0..n_t")
    if int(x.sum()) != table.problem.panel_size:
        problems.append(f"size {int(x.sum())} != {table.problem.panel_size}")
    for row in table.rows:
        count = int(x[row.types].sum())
        if not row.low <= count <= row.high:
            problems.append(f"{row.feature}={row.value}: {count} not in [{row.low}, {row.high}]")
    for key, group in zip(table.household_keys, table.households):
        if int(x[list(group)].sum()) > 1:
            problems.append(f"household {key} twice")
    return problems


def program_model(table: TypeTable, *, integer: bool) -> highspy.HighsLp:
    """The composition program as a ``highspy.HighsLp`` (maximisation, zero objective)."""
    n = table.count
    starts, index, value, lower, upper = constraint_matrix(table, table.problem.panel_size)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(lower)
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = table.sizes.astype(float)
    lp.row_lower_ = lower
    lp.row_upper_ = upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    lp.sense_ = highspy.ObjSense.kMaximize
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    return lp


class CompositionProgram:
    """The composition program of a :class:`TypeTable` in HiGHS (maximisation).

    Two HiGHS instances hold it: its LP relaxation (warm-started simplex) and the MIP.  On these
    programs the LP relaxation is very strong (on generated G1000-like pools its optimum equalled
    the integer optimum for every objective tried), so pricing goes LP first:

    1. solve the LP relaxation; its value bounds every valid composition's objective from above;
    2. if the LP optimum is integral, it is an optimal composition;
    3. else solve the MIP restricted to the box ``floor(x_lp) <= x <= ceil(x_lp)`` (only the
       few fractional coordinates stay free -- fast); accept its solution if it scores above the
       caller's threshold;
    4. else solve the full MIP (exact; rarely needed).

    :meth:`improving` returns the compositions found scoring above a threshold and an upper bound
    on the best score; :meth:`best` an exactly optimal composition (full MIP).
    """

    def __init__(self, table: TypeTable, *, rel_gap: float = 1e-9) -> None:
        self.table = table
        n = table.count
        self.lp = new_highs(solver="simplex", primal_feasibility_tolerance=1e-9,
                            dual_feasibility_tolerance=1e-9)
        self.lp.passModel(program_model(table, integer=False))
        self.mip = new_highs(mip_rel_gap=rel_gap, mip_abs_gap=0.0,
                             mip_improving_solution_save=True)
        self.mip.passModel(program_model(table, integer=True))
        self._all = np.arange(n, dtype=np.int32)
        self._lower = np.zeros(n)
        self._upper = table.sizes.astype(float)
        self.counts = {"lp": 0, "integral_lp": 0, "box_mip": 0, "full_mip": 0}
        self._deadline: float | None = None

    def set_deadline(self, deadline: float | None) -> None:
        """``time.monotonic()`` after which a MIP solve raises :class:`TimeoutError`."""
        self._deadline = deadline

    # --- the solves -----------------------------------------------------------------------

    def _scaled(self, costs: np.ndarray) -> tuple[np.ndarray, float]:
        scale = float(np.max(np.abs(costs))) if len(costs) else 0.0
        scale = scale if scale > 0 else 1.0
        return np.asarray(costs, dtype=float) / scale, scale

    def _solve_lp(self, costs: np.ndarray) -> tuple[np.ndarray, float]:
        scaled, scale = self._scaled(costs)
        h = self.lp
        h.changeColsCost(len(scaled), self._all, scaled)
        status = run_lp(h)
        self.counts["lp"] += 1
        if status == highspy.HighsModelStatus.kInfeasible:
            raise _Infeasible
        if status != highspy.HighsModelStatus.kOptimal:  # pragma: no cover
            raise RuntimeError(f"HiGHS LP relaxation ended with {h.modelStatusToString(status)}")
        values = np.asarray(h.getSolution().col_value)
        return values, float(h.getInfo().objective_function_value) * scale

    def _solve_mip(self, costs: np.ndarray, lower: np.ndarray, upper: np.ndarray
                   ) -> tuple[np.ndarray | None, float, list[np.ndarray]]:
        """Solve the MIP within the given box; (x or None, dual bound, pool)."""
        scaled, scale = self._scaled(costs)
        h = self.mip
        h.changeColsCost(len(scaled), self._all, scaled)
        h.changeColsBounds(len(scaled), self._all, lower, upper)
        if self._deadline is not None:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("time limit reached before the composition program")
            h.setOptionValue("time_limit", max(remaining, 0.01))
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None, -float("inf"), []
        if status not in (highspy.HighsModelStatus.kOptimal,
                          highspy.HighsModelStatus.kTimeLimit):  # pragma: no cover
            raise RuntimeError(f"HiGHS MIP ended with {h.modelStatusToString(status)}")
        info = h.getInfo()
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise TimeoutError("time limit reached in the composition program")
        x = self._integral(np.asarray(h.getSolution().col_value))
        pool = [c for c in (self._integral(np.asarray(s.col_value), strict=False)
                            for s in h.getSavedMipSolutions()) if c is not None]
        return x, float(info.mip_dual_bound) * scale, pool

    def improving(self, costs: np.ndarray, threshold: float, tol: float
                  ) -> tuple[list[np.ndarray], float]:
        """Valid compositions scoring above ``threshold + tol``, best first, and an upper bound.

        The list is empty only when no valid composition scores above ``threshold + tol``
        within the returned bound (``bound`` = the best possible score, up to ``mip_rel_gap``).
        """
        costs = np.asarray(costs, dtype=float)
        try:
            values, bound = self._solve_lp(costs)
        except _Infeasible:
            return [], -float("inf")
        if bound <= threshold + tol:
            return [], bound
        rounded = np.rint(values)
        if np.max(np.abs(values - rounded)) <= 1e-9:
            x = self._integral(values, strict=False)
            if x is not None:
                self.counts["integral_lp"] += 1
                return [x], bound
        self.counts["box_mip"] += 1
        x, _, pool = self._solve_mip(costs, np.floor(values + 1e-9), np.ceil(values - 1e-9))
        if x is not None and float(np.dot(costs, x)) > threshold + tol:
            found = [x] + [c for c in pool if float(np.dot(costs, c)) > threshold + tol]
            return _unique(found), bound
        self.counts["full_mip"] += 1
        x, mip_bound, pool = self._solve_mip(costs, self._lower, self._upper)
        if x is None:  # pragma: no cover - the LP relaxation was feasible, so was checked
            return [], -float("inf")
        bound = min(bound, max(mip_bound, float(np.dot(costs, x))))
        found = [c for c in [x] + pool if float(np.dot(costs, c)) > threshold + tol]
        return _unique(found), bound

    def best(self, costs: np.ndarray) -> tuple[np.ndarray, float] | None:
        """An optimal valid composition and its score, or ``None`` if there is none."""
        costs = np.asarray(costs, dtype=float)
        self.counts["full_mip"] += 1
        x, _, _ = self._solve_mip(costs, self._lower, self._upper)
        return None if x is None else (x, float(np.dot(costs, x)))

    def feasible(self) -> np.ndarray | None:
        """Some valid composition, or ``None`` when the quotas cannot be met."""
        found = self.best(np.zeros(self.table.count))
        return None if found is None else found[0]

    def _integral(self, values: np.ndarray, *, strict: bool = True) -> np.ndarray | None:
        x = np.rint(values).astype(np.int64)
        if np.max(np.abs(values - x), initial=0.0) > 1e-6 or composition_violations(self.table, x):
            if strict:  # pragma: no cover - HiGHS returned a point outside the program
                raise RuntimeError("HiGHS returned an invalid composition")
            return None
        return x


class _Infeasible(Exception):
    pass


def _unique(columns: list[np.ndarray]) -> list[np.ndarray]:
    seen, out = set(), []
    for x in columns:
        key = x.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out
