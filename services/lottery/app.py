"""Wiring of the lottery service (gunicorn: `services.lottery.app:create_app()`).

The web process serves the lottery's REST API (services/lottery/api.py). The consume worker
keeps the summit directory from the ledger stream and runs the job loop beside it, which
computes panel distributions (services/lottery/jobs.py).
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
    name="lottery", title="Lottery", migrations=("services.core", "services.lottery"),
    blueprints=_blueprints, consumes=("ledger",), handler=lambda rt: apply_summit_created,
    background=_background, configure_app=_configure,
)


def create_app(config=None):
    return create_service_app(bootstrap(SPEC, config or load_config("lottery")))
