"""REST adapter of the ballot: the list of blueprints and the mapping of its errors.

Paths live under `/v1/summits/{summit_id}/ballots` (docs/ballot.md, the API); each resource has
its own module (ballots_api, casting_api, shares_api; arrivals_api is the gateway's internal
call), and what they share is in uow.py. Any BallotError raised in a view rolls its transaction
back and becomes a problem+json answer (install below), so a refused request changes nothing.
"""

from __future__ import annotations

from flask import Flask

from services.core import problem_types
from services.core.problem import problem

from .arrivals_api import blp as arrivals
from .ballots_api import blp as ballots
from .casting_api import blp as casting
from .errors import BallotConflictError, BallotError, BallotForbiddenError, BallotInvalidError, BallotNotFoundError
from .shares_api import blp as shares

# The one place where the ballot's errors meet HTTP (nearest class in the MRO wins).
PROBLEM_TYPES: dict[type, str] = {
    BallotInvalidError: "refused",          # 422
    BallotNotFoundError: "not-found",       # 404
    BallotForbiddenError: "forbidden",      # 403
    BallotConflictError: "conflict",        # 409
    BallotError: "bad-request",             # 400
}


def problem_type_of(error: BallotError) -> problem_types.ProblemType:
    slug = next(PROBLEM_TYPES[cls] for cls in type(error).__mro__ if cls in PROBLEM_TYPES)
    return problem_types.by_slug(slug)


def install(app: Flask) -> None:
    """BallotError -> RFC 9457 problem of its kind's type and status; the internal arrivals."""

    @app.errorhandler(BallotError)
    def _ballot_error(e: BallotError):
        kind = problem_type_of(e)
        return problem(kind.status, kind.title, e.message, errors=e.errors, extensions=e.extensions,
                       kind=kind.slug)

    app.register_blueprint(arrivals)


def blueprints() -> list:
    return [ballots, casting, shares]
