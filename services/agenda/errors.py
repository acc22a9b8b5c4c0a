"""The one error hierarchy of the agenda service, under the platform's CoreError.

Domain code raises these; they know nothing of HTTP (the REST adapter maps them at the edge)::

    AgendaError
    +-- VoteMatrixError       the statement votes cannot form a vote matrix (common_ground.py)
"""

from __future__ import annotations

from services.core.errors import CoreError


class AgendaError(CoreError):
    """Root of every error raised by services.agenda."""


class VoteMatrixError(AgendaError):
    """The statement votes cannot form a vote matrix: a vote other than agree (+1), disagree (-1)
    or pass (0), a matrix whose shape does not match its participants and statements, a
    participant or statement named twice, or parameters outside their range."""
