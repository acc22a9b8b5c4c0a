"""REST adapter of the lottery: the list of blueprints and the mapping of its errors.

Paths live under `/v1/summits/{summit_id}/lottery`; each resource has its own module
(register_api, seed_api, invitations_api, pools_api), and what they share is in uow.py. Views
stay thin: parse (marshmallow), open one transaction, take the summit's lottery lock, load,
decide (domain / rounds), append, update read models. Any LotteryError raised on the way rolls
the transaction back and becomes a problem+json answer (install below), so a refused request
changes nothing.
"""

from __future__ import annotations

from flask import Flask

from services.core import problem_types
from services.core.problem import problem

from .errors import (InvalidDistributionError, LotteryConflictError, LotteryError, LotteryInvalidError,
                     LotteryNotFoundError)
from .invitations_api import blp as invitations
from .pools_api import blp as pools
from .register_api import blp as register
from .seed_api import blp as seed


# The one place where the lottery's errors meet HTTP: each kind's problem type, whose status and
# title the catalogue (services/core/problem_types.py) holds. The nearest class in the error's MRO
# wins; the errors themselves know nothing of HTTP (services/lottery/errors.py).
PROBLEM_TYPES: dict[type, str] = {
    LotteryInvalidError: "refused",          # 422 Unprocessable Content
    LotteryNotFoundError: "not-found",       # 404
    LotteryConflictError: "conflict",        # 409
    InvalidDistributionError: "internal",    # 500: a bug of the selection, never the caller's fault
    LotteryError: "bad-request",             # 400
}


def problem_type_of(error: LotteryError) -> problem_types.ProblemType:
    slug = next(PROBLEM_TYPES[cls] for cls in type(error).__mro__ if cls in PROBLEM_TYPES)
    return problem_types.by_slug(slug)


def install(app: Flask) -> None:
    """LotteryError -> RFC 9457 problem of its kind's type and status (and its `errors` list)."""

    @app.errorhandler(LotteryError)
    def _lottery_error(e: LotteryError):
        kind = problem_type_of(e)
        return problem(kind.status, kind.title, e.message, errors=e.errors, extensions=e.extensions,
                       kind=kind.slug)


def blueprints() -> list:
    return [register, seed, invitations, pools]
