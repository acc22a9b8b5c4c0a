"""Writing a point of the relaxed polytope as a lottery over valid compositions (Carathéodory).

Why this module exists: :func:`.leximin.relaxed_leximin` finds the LEXIMIN point ``u`` (expected
number of members per type) over the LP relaxation ``Q`` of the composition program
(:mod:`.pricing`).  Because the valid compositions ``X`` lie in ``Q``, that point is at least as
good, in the leximin order, as anything a lottery over ``X`` can achieve; so if ``u`` can be
written as a convex combination of valid compositions, that lottery is *exactly* LEXIMIN optimal
over panels (Flanigan, Gölz, Gupta, Hennig, Procaccia, "Fair algorithms for selecting citizens'
assemblies", Nature 596, 2021), with no column generation at all.

The decomposition is the constructive proof of Carathéodory's theorem applied to faces of ``Q``:

1. Let ``F`` be the smallest face of ``Q`` containing ``u`` (the bounds ``x_t = 0``,
   ``x_t = n_t`` and quota/household rows that ``u`` meets with equality).  If ``u`` is a convex
   combination of valid compositions, every one of them lies in ``F``.
2. Find a valid composition ``x`` in ``F`` near ``u``, within the box ``floor(u) <= x <=
   ceil(u)``: a vertex of that box in ``F`` when the LP gives an integral one, else the HiGHS
   MIP (https://highs.dev) stopped at its first feasible solution; the whole face if the box
   has none (a randomised objective with a fixed seed spreads the choices).  If ``F`` holds
   no valid composition, ``u`` is not a lottery over panels: stop.
3. Step away from ``x``: ``u' = (u - lam x) / (1 - lam)`` with the largest ``lam`` keeping
   ``u'`` in ``Q``; record ``x`` with weight ``lam`` times the remaining mass.  ``u'`` lies on a
   smaller face, so after at most ``dim Q + 1`` steps ``u`` is itself a composition.

On generated G1000-like pools (hundreds to a thousand types) every step found a composition, i.e.
the relaxed optimum was a lottery over panels; when a step fails, the caller falls back to
column generation, which decides exactly.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from .pricing import composition_violations, constraint_matrix, new_highs, program_model, run_lp
from .types import TypeTable

__all__ = ["decompose"]

TIGHT = 1e-9          # relative distance at which a bound or row counts as met with equality
MASS_FLOOR = 1e-11    # remaining mass below which the last composition takes it all


def decompose(table: TypeTable, point: np.ndarray, *, deadline: float | None = None,
              seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, float, dict]:
    """Carathéodory decomposition of ``point`` (expected members per type, in ``Q``).

    Returns ``(compositions, weights, mass_left, stats)``: valid compositions (int64) and their
    weights (summing to ``1 - mass_left``); ``mass_left`` is 0.0 when the decomposition
    completed.  Deterministic for a given ``seed``.
    """
    started = time.monotonic()
    sizes = table.sizes.astype(float)
    n = table.count
    starts, index, _, lower, upper = constraint_matrix(table, table.problem.panel_size)
    r_count = len(lower)
    rows = [index[starts[r]:starts[r + 1]] for r in range(r_count)]
    member = np.zeros((r_count, n))  # dense row incidence (rows are few)
    for r, ts in enumerate(rows):
        member[r, ts] = 1.0

    mip = new_highs(mip_max_improving_sols=1)
    mip.passModel(program_model(table, integer=True))
    lp = new_highs(solver="simplex")
    lp.passModel(program_model(table, integer=False))
    counts = {"lp": 0, "u_box": 0, "face": 0}
    all_cols = np.arange(n, dtype=np.int32)
    all_rows = np.arange(r_count, dtype=np.int32)
    rng = np.random.default_rng(seed)

    u = np.clip(np.asarray(point, dtype=float), 0.0, sizes)
    col_low, col_high = np.zeros(n), sizes.copy()
    row_low, row_high = lower.copy(), upper.copy()

    def tighten() -> None:
        at_zero = u <= TIGHT * sizes
        at_full = u >= sizes * (1.0 - TIGHT)
        u[at_zero] = 0.0
        u[at_full] = sizes[at_full]
        col_low[at_zero], col_high[at_zero] = 0.0, 0.0
        col_low[at_full], col_high[at_full] = sizes[at_full], sizes[at_full]
        sums = member @ u
        at_low = sums <= lower + TIGHT * np.maximum(lower, 1.0)
        at_high = sums >= upper - TIGHT * np.maximum(upper, 1.0)
        row_low[at_low], row_high[at_low] = lower[at_low], lower[at_low]
        row_low[at_high], row_high[at_high] = upper[at_high], upper[at_high]

    compositions: list[np.ndarray] = []
    weights: list[float] = []
    mass = 1.0
    stalls = 0
    tighten()
    max_steps = 4 * (n + r_count) + 10
    while len(compositions) < max_steps:
        if deadline is not None and time.monotonic() >= deadline:
            break
        x = _composition_in_face(table, lp, mip, u, col_low, col_high, row_low, row_high,
                                 all_cols, all_rows, rng, deadline, counts)
        if x is None:
            break
        lam = _step(u, x, sizes, member, col_low < col_high, row_low < row_high, lower, upper)
        stalls = stalls + 1 if lam <= 1e-15 else 0
        if stalls > 5:  # round-off keeps the step at zero: leave the rest to the caller
            break
        compositions.append(x)
        if lam >= 1.0 - 1e-12 or mass * (1.0 - lam) < MASS_FLOOR:
            weights.append(mass)
            mass = 0.0
            break
        weights.append(mass * lam)
        mass *= 1.0 - lam
        u = np.clip((u - lam * x) / (1.0 - lam), 0.0, sizes)
        tighten()
    stats = {"steps": len(compositions), "found_by": counts, "mass_left": mass,
             "seconds": round(time.monotonic() - started, 3)}
    return compositions, np.array(weights, dtype=float), mass, stats


def _composition_in_face(table: TypeTable, lp: highspy.Highs, mip: highspy.Highs, u, col_low,
                         col_high, row_low, row_high, all_cols, all_rows, rng, deadline,
                         counts: dict) -> np.ndarray | None:
    """A valid composition in the face, near ``u``; ``None`` if the face has none.

    Tries, in order: a vertex of the face within the box ``floor(u) <= x <= ceil(u)`` (LP; used
    when integral), the MIP within that box, the MIP over the whole face.  The MIPs stop at
    their first feasible solution.
    """
    n = len(u)
    costs = (u - np.floor(u)) - rng.random(n)
    box_low = np.maximum(col_low, np.floor(u + 1e-9))
    box_high = np.minimum(col_high, np.ceil(u - 1e-9))
    lp.changeColsCost(n, all_cols, costs)
    lp.changeRowsBounds(len(all_rows), all_rows, row_low, row_high)
    lp.changeColsBounds(n, all_cols, box_low, box_high)
    if run_lp(lp) == highspy.HighsModelStatus.kOptimal:
        vertex = np.asarray(lp.getSolution().col_value)
        x = np.rint(vertex).astype(np.int64)
        if (np.max(np.abs(vertex - x), initial=0.0) <= 1e-9
                and not composition_violations(table, x)):
            counts["lp"] += 1
            return x
    boxes = [("u_box", box_low, box_high), ("face", col_low, col_high)]
    mip.changeColsCost(n, all_cols, costs)
    mip.changeRowsBounds(len(all_rows), all_rows, row_low, row_high)
    for name, low, high in boxes:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            mip.setOptionValue("time_limit", max(remaining, 0.01))
        mip.changeColsBounds(n, all_cols, low, high)
        mip.run()
        if mip.getInfo().primal_solution_status == 2:
            values = np.asarray(mip.getSolution().col_value)
            x = np.rint(values).astype(np.int64)
            if (np.max(np.abs(values - x), initial=0.0) <= 1e-6
                    and not composition_violations(table, x)):
                counts[name] += 1
                return x
        if mip.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
            return None
    return None


def _step(u, x, sizes, member, free_cols, free_rows, lower, upper) -> float:
    """Largest ``lam`` in [0, 1] with ``(u - lam x) / (1 - lam)`` in ``Q`` (1.0 if ``x == u``)."""
    xf = x.astype(float)
    lam = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        up = free_cols & (xf > u + 1e-12)      # coordinate falls towards 0
        if up.any():
            lam = min(lam, float(np.min(u[up] / xf[up])))
        down = free_cols & (xf < u - 1e-12)    # coordinate rises towards n_t
        if down.any():
            lam = min(lam, float(np.min((sizes[down] - u[down]) / (sizes[down] - xf[down]))))
        s, a = member @ u, member @ xf
        up = free_rows & (a > s + 1e-12)
        if up.any():
            lam = min(lam, float(np.min((s[up] - lower[up]) / (a[up] - lower[up]))))
        down = free_rows & (a < s - 1e-12)
        if down.any():
            lam = min(lam, float(np.min((upper[down] - s[down]) / (upper[down] - a[down]))))
    return min(max(lam, 0.0), 1.0)
