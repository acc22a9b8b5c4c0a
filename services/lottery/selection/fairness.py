"""Summary statistics of a selection lottery's probabilities, for comparing algorithms.

Why this module exists: on many pools the smallest selection probability is fixed by one binding
quota (an upper bound divided by the number of people having the value), so two algorithms can
share the same minimum and still differ a lot in fairness (docs/architecture.md §6).  LEXIMIN (Flanigan,
Gölz, Gupta, Hennig, Procaccia, "Fair algorithms for selecting citizens' assemblies", Nature
596, 2021) optimises the whole sorted vector, so the report looks at the whole vector: minimum,
maximum, mean, low percentiles, the Gini coefficient, the geometric mean (the Nash-welfare view
used in that paper's comparisons) and how many people fall below a threshold (e.g. another
algorithm's minimum).  Pure Python, no solver.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from .errors import SelectionInputError
from .results import Distribution

__all__ = ["fairness_report"]

PERCENTILES = (1, 5, 10, 25, 50)


def _percentile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default ``"linear"`` method)."""
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def fairness_report(dist: Distribution | Mapping[str, Fraction | float], *,
                    threshold: float | Fraction | None = None) -> dict:
    """Statistics of the selection probabilities of ``dist`` (a Distribution or id -> prob).

    Keys: ``count``, ``minimum``, ``maximum``, ``mean``, ``p1``, ``p5``, ``p10``, ``p25``,
    ``p50`` (percentiles, linear interpolation), ``gini`` (of the probability vector, 0 = all
    equal), ``geometric_mean`` (0 when anyone has probability 0), ``threshold`` and
    ``below_threshold`` (number of people with probability strictly below it; ``None`` without
    a threshold).  All values are floats except the counts.
    """
    probabilities = dist.probabilities if isinstance(dist, Distribution) else dist
    if not isinstance(probabilities, Mapping) or not probabilities:
        raise SelectionInputError("fairness_report needs a Distribution or a non-empty mapping "
                                  "of id -> probability")
    exact = sorted(Fraction(p) for p in probabilities.values())
    if exact[0] < 0 or exact[-1] > 1:
        raise SelectionInputError("probabilities must lie in [0, 1]")
    values = [float(p) for p in exact]
    count = len(values)
    total = sum(exact)
    mean = float(total / count)
    # Gini = sum_i (2i - n - 1) x_(i) / (n * sum x), i = 1..n over the sorted values
    gini = 0.0 if total == 0 else float(
        sum((2 * i - count - 1) * p for i, p in enumerate(exact, start=1)) / (count * total))
    geometric = 0.0 if values[0] <= 0 else math.exp(math.fsum(math.log(v) for v in values)
                                                   / count)
    report = {
        "count": count,
        "minimum": values[0],
        "maximum": values[-1],
        "mean": mean,
        **{f"p{q}": _percentile(values, q) for q in PERCENTILES},
        "gini": gini,
        "geometric_mean": geometric,
        "threshold": None if threshold is None else float(threshold),
        "below_threshold": None,
    }
    if threshold is not None:
        limit = Fraction(threshold)
        report["below_threshold"] = sum(1 for p in exact if p < limit)
    return report
