"""Fair panel selection: the LEXIMIN lottery over panels that meet the quotas (docs/architecture.md §6).

Why this package exists: stage 2 of the G1000 lottery selects the panel from the respondents
with quotas per feature, using the fair algorithm of Flanigan, Gölz, Gupta, Hennig and
Procaccia ("Fair algorithms for selecting citizens' assemblies", Nature 596, 2021): a
probability distribution over valid panels that maximises the smallest selection probability,
then the next smallest, and so on (LEXIMIN).  It is computed exactly (in the LP sense) with the
open-source HiGHS solver (https://highs.dev, via ``highspy``) by working over *types* of
interchangeable respondents.  Pure logic: no I/O, no database, no Flask, deterministic.

Public API::

    from services.lottery.selection import (Person, Distribution, find_distribution, diagnose,
        fairness_report, SelectionError, InfeasibleQuotasError, SelectionInputError)

Importing the package is light: the solver is loaded on first use of :func:`find_distribution`
or :func:`diagnose`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    InfeasibleQuotasError,
    SelectionError,
    SelectionInputError,
    SelectionTimeoutError,
)
from .fairness import fairness_report
from .inputs import Person
from .results import Diagnosis, Distribution

if TYPE_CHECKING:  # pragma: no cover
    from .diagnosis import diagnose
    from .distribution import find_distribution

__all__ = [
    "Diagnosis", "Distribution", "InfeasibleQuotasError", "Person", "SelectionError",
    "SelectionInputError", "SelectionTimeoutError", "diagnose", "fairness_report",
    "find_distribution",
]

_LAZY = {"find_distribution": ".distribution", "diagnose": ".diagnosis"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
