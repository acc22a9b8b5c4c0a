"""The one error hierarchy of the ballot service, under the platform's CoreError.

Domain code raises these; they know nothing of HTTP. The REST adapter maps each kind to an
RFC 9457 problem type and status once, at the edge (`PROBLEM_TYPES` in services/ballot/api.py;
the statuses are shown below). Raising inside a request's transaction rolls it back, so a refused
request never changes state::

    BallotError
    +-- BallotInvalidError (422)        well formed but not acceptable: a bad credential, a sealed
    |                                   vote of the wrong size, a share that is not one of the ballot's
    +-- BallotNotFoundError (404)       no such summit, ballot or receipt
    +-- BallotForbiddenError (403)      the caller may not do this (not on the roll)
    +-- BallotConflictError (409)       the ballot's state does not allow it (yet, any more)
        +-- AlreadyDoneError            done once already (a credential, a nullifier, a share)
"""

from __future__ import annotations

from services.core.errors import CoreError


class BallotError(CoreError):
    """Root of every refusal of the ballot service."""

    def __init__(self, message: str, *, errors: list | dict | None = None,
                 extensions: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.extensions = extensions


class BallotInvalidError(BallotError):
    """The request is well formed but its content cannot be accepted."""


class BallotNotFoundError(BallotError):
    """The summit, ballot or receipt does not exist."""


class BallotForbiddenError(BallotError):
    """The caller's token is valid but does not allow this (e.g. its subject is not on the roll)."""


class BallotConflictError(BallotError):
    """The state of the ballot does not allow this now."""


class AlreadyDoneError(BallotConflictError):
    """This happens once per ballot and has happened (a credential, a nullifier, a share index)."""
