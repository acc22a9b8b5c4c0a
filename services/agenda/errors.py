"""The one error hierarchy of the agenda service, under the platform's CoreError.

Domain code raises these; they know nothing of HTTP. The REST adapter maps each kind to an
RFC 9457 problem type and status once, at the edge (`PROBLEM_TYPES` in services/agenda/api.py;
the statuses are shown below). Raising inside a request's transaction rolls it back, so a refused
request never changes state; the pure computations' errors (common ground, table assignment)
are not answered by an endpoint yet::

    AgendaError (400)
    +-- AgendaNotFoundError (404)       no such summit or topic
    +-- AgendaConflictError (409)       the agenda's state does not allow it: nominations closed,
                                        already open or closed, a text already withheld, a v1 topic
    +-- VoteMatrixError                 the statement votes cannot form a vote matrix (common_ground.py)
    +-- AssignmentInputError (also ValueError)  a table assignment's input is malformed
    +-- InfeasibleBoundsError           no assignment keeps capacity and the group bounds
    +-- AssignmentTimeoutError          the time limit passed before any assignment was found
    +-- AssignmentCheckError            the optimiser's result broke the rule it must keep (a bug)
"""

from __future__ import annotations

from services.core.errors import CoreError


class AgendaError(CoreError):
    """Root of every refusal of the agenda service."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AgendaNotFoundError(AgendaError):
    """The summit or topic does not exist."""


class AgendaConflictError(AgendaError):
    """The state of the agenda does not allow this now."""


class AssignmentInputError(AgendaError, ValueError):
    """A table assignment's input is malformed: a duplicate participant or table, a preference
    for an unknown table or ranked twice, too many preferences, a bound that is not a bound."""


class InfeasibleBoundsError(AgendaError):
    """No assignment seats every participant within capacity and the group bounds.

    ``group`` and ``bound`` (``"min"``, ``"max"``, ``"min_percent"``, ``"max_percent"``, or
    ``"capacity"`` with ``group`` None) name the bound that has to give; ``shortfall`` is by how
    many seats (summed over the tables) it does not hold in the assignment closest to feasible.
    """

    def __init__(self, message: str, group: str | None, bound: str, shortfall: int) -> None:
        super().__init__(message)
        self.group = group
        self.bound = bound
        self.shortfall = shortfall


class AssignmentTimeoutError(AgendaError):
    """The assignment's time limit passed before HiGHS had found any assignment."""


class AssignmentCheckError(AgendaError):
    """The optimiser returned an assignment that g1000_proofs.tables rejects, or none at all."""


class VoteMatrixError(AgendaError):
    """The statement votes cannot form a vote matrix: a vote other than agree (+1), disagree (-1)
    or pass (0), a matrix whose shape does not match its participants and statements, a
    participant or statement named twice, or parameters outside their range."""
