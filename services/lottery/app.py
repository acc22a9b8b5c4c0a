"""Wiring of the lottery service (gunicorn: `services.lottery.app:create_app()`).

The web process serves the lottery's REST API (services/lottery/api.py). The consume worker
keeps the summit directory from the ledger stream and runs the job loop beside it, which
computes panel distributions (services/lottery/jobs.py).
"""

from __future__ import annotations

from services.core.config import load_config
from services.core.runtime import ServiceSpec, bootstrap, create_service_app
from services.core.summits import apply_summit_created

MAX_REQUEST_BYTES = 80 * 1024 * 1024  # a register extract of 200,000 rows fits


def _blueprints():
    from .api import blueprints

    return blueprints()


def _configure(rt, app) -> None:
    from .api import install

    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
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
