"""Wiring of the lottery service (gunicorn: `services.lottery.app:create_app()`).

For now the service keeps the summit directory from the ledger stream and serves health checks;
its domain endpoints arrive with their issues.
"""

from __future__ import annotations

from services.core.config import load_config
from services.core.runtime import ServiceSpec, bootstrap, create_service_app
from services.core.summits import apply_summit_created

SPEC = ServiceSpec(
    name="lottery", title="Lottery", migrations=("services.core",),
    consumes=("ledger",), handler=lambda rt: apply_summit_created,
)


def create_app(config=None):
    return create_service_app(bootstrap(SPEC, config or load_config("lottery")))
