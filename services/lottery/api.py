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

from services.core.problem import problem

from .errors import LotteryError
from .invitations_api import blp as invitations
from .pools_api import blp as pools
from .register_api import blp as register
from .seed_api import blp as seed


def install(app: Flask) -> None:
    """LotteryError -> RFC 9457 problem with the error's status (and its `errors` list)."""

    @app.errorhandler(LotteryError)
    def _lottery_error(e: LotteryError):
        return problem(e.status, e.title, e.message, errors=e.errors, extensions=e.extensions)


def blueprints() -> list:
    return [register, seed, invitations, pools]
