"""Errors raised by the fair panel selection (docs/architecture.md §6, stage 2).

Why this module exists: callers (the lottery service, its API, operators) must tell apart three
situations that need different responses -- a malformed request (fix the input), quotas that no
panel can satisfy (relax the quotas; the attached diagnosis says which and by how much), and
anything else.  One hierarchy, so ``except SelectionError`` catches all of them::

    SelectionError
    +-- SelectionInputError (also ValueError)   malformed input; the message names the offender
    +-- InfeasibleQuotasError                   valid input, but no panel meets the quotas
    +-- SelectionTimeoutError                   the time limit ran out before the optimum

A lottery that is not proven LEXIMIN optimal is never returned: running out of time raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .results import Diagnosis

__all__ = ["InfeasibleQuotasError", "SelectionError", "SelectionInputError",
           "SelectionTimeoutError"]


class SelectionError(Exception):
    """Root of every failure raised by :mod:`services.lottery.selection`."""


class SelectionInputError(SelectionError, ValueError):
    """The input is malformed: duplicate ids, a missing feature, bad quotas, bad sizes."""


class InfeasibleQuotasError(SelectionError):
    """No panel of the requested size satisfies the quotas and the household rule.

    ``diagnosis`` (a :class:`~services.lottery.selection.results.Diagnosis`) names the
    conflicting quotas and the smallest relaxation that would make them satisfiable.
    """

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__(diagnosis.message)
        self.diagnosis = diagnosis


class SelectionTimeoutError(SelectionError):
    """The ``time_limit`` passed before the LEXIMIN lottery was found (nothing is returned)."""
