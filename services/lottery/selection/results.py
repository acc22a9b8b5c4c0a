"""The result types of the panel selection: the lottery over panels, and the quota diagnosis.

Why this module exists: callers (the lottery service, which commits the lottery to the log;
operators who must fix infeasible quotas) code against these two records, so they live in a
light module of their own that imports no solver.  The lottery is the output of the LEXIMIN
selection of Flanigan, Gölz, Gupta, Hennig, Procaccia, "Fair algorithms for selecting citizens'
assemblies", Nature 596, 2021, computed with the HiGHS solver (see :mod:`.leximin`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Diagnosis", "Distribution"]


@dataclass(frozen=True)
class Distribution:
    """A lottery over panels, ready to be committed and drawn from (docs/architecture.md §6).

    ``panels[i]`` is a tuple of person ids in code-point order, ``len == panel_size``, and
    satisfies the quotas and the household rule; ``weights[i]`` is its positive integer weight;
    the weights sum to ``total_weight``.  Panels are listed in code-point order of their id
    tuples.  ``probabilities[id]`` is the exact selection probability of every person (sum of the
    weights of their panels / total weight; 0 for people on no panel).  ``lp_minimum`` is the
    optimal smallest selection probability from the LP, before rounding to integer weights.
    ``stats`` describes the computation (types, phases and their seconds, panel count,
    largest deviation of a person from their type's LEXIMIN probability, ...).
    """

    panels: tuple[tuple[str, ...], ...]
    weights: tuple[int, ...]
    probabilities: Mapping[str, Fraction]
    lp_minimum: float
    stats: Mapping[str, object]

    @property
    def total_weight(self) -> int:
        return sum(self.weights)


@dataclass(frozen=True)
class Diagnosis:
    """Whether the quotas can be met, and if not, why and what would fix them.

    ``conflicts`` are plain sentences naming the conflicting quotas; ``relaxation`` maps each
    quota ``(feature, value)`` that must change to its new ``(min, max)``, the change being the
    smallest in total (sum of the amounts by which minimums are lowered and maximums raised);
    it is empty when the quotas are feasible or when no quota change can help (the panel is
    larger than the number of people who may sit together).  ``message`` is one readable
    paragraph for operators.
    """

    feasible: bool
    conflicts: list[str]
    relaxation: dict[tuple[str, str], tuple[int, int]]
    message: str
