"""Wiring of the ballot service (gunicorn: `services.ballot.app:create_app()`).

The web process serves the ballot's REST API (services/ballot/api.py, docs/ballot.md). The
consume worker keeps the summit directory from the ledger stream and runs the job loop beside
it, which appends waiting casts every G1000_BALLOT_BATCH_SECONDS and closes ballots at their
closes_at (services/ballot/jobs.py).
"""

from __future__ import annotations

from services.core.config import load_config
from services.core.runtime import ServiceSpec, bootstrap, create_service_app
from services.core.summits import apply_summit_created


def _blueprints():
    from .api import blueprints

    return blueprints()


def _configure(rt, app) -> None:
    from .api import install

    install(app)


def _background(rt):
    from .jobs import loop

    return [loop(rt)]


SPEC = ServiceSpec(
    name="ballot", title="Ballot", migrations=("services.core", "services.ballot"),
    blueprints=_blueprints, consumes=("ledger",), handler=lambda rt: apply_summit_created,
    background=_background, configure_app=_configure,
)


def create_app(config=None):
    return create_service_app(bootstrap(SPEC, config or load_config("ballot")))
