"""Wiring of the agenda service (gunicorn: `services.agenda.app:create_app()`)."""

from __future__ import annotations

from services.core.config import load_config
from services.core.runtime import ServiceSpec, bootstrap, create_service_app
from services.core.summits import apply_summit_created


def _blueprints():
    from .api import blp

    return [blp]


def _configure(rt, app) -> None:
    from .api import install

    install(app)


SPEC = ServiceSpec(
    name="agenda", title="Agenda", migrations=("services.core", "services.agenda"),
    blueprints=_blueprints, consumes=("ledger",), handler=lambda rt: apply_summit_created,
    configure_app=_configure,
)


def create_app(config=None):
    return create_service_app(bootstrap(SPEC, config or load_config("agenda")))
