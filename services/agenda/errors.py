"""The one error hierarchy of the agenda service, under the platform's CoreError.

Domain code raises these; they know nothing of HTTP. The REST adapter maps each kind to an
RFC 9457 problem type and status once, at the edge (`PROBLEM_TYPES` in services/agenda/api.py;
the statuses are shown below). Raising inside a request's transaction rolls it back, so a refused
request never changes state::

    AgendaError (400)
    +-- AgendaNotFoundError (404)       no such summit or topic
    +-- AgendaConflictError (409)       the agenda's state does not allow it: nominations closed,
                                        already open or closed, a text already withheld, a v1 topic
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
