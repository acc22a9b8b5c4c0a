"""Wiring of the ledger service (gunicorn: `services.ledger.app:create_app()`)."""

from __future__ import annotations

from services.core.config import SERVICES, load_config
from services.core.runtime import Runtime, ServiceSpec, bootstrap, create_service_app


def _blueprints():
    from .api import blp

    return [blp]


def _handler(rt: Runtime):
    from .inbox import record_event

    return record_event


SPEC = ServiceSpec(
    name="ledger", title="Ledger", migrations=("services.core", "services.ledger"),
    blueprints=_blueprints, consumes=SERVICES, handler=_handler,
)


def create_app(config=None):
    return create_service_app(bootstrap(SPEC, config or load_config("ledger")))
