"""The services of the stack, declared as data: name -> module with `SPEC` and `create_app()`."""

from __future__ import annotations

import importlib

from services.core.runtime import ServiceSpec

SERVICE_MODULES = {
    "ledger": "services.ledger.app",
    "lottery": "services.lottery.app",
    "agenda": "services.agenda.app",
    "ballot": "services.ballot.app",
}


def spec_for(name: str) -> ServiceSpec:
    return importlib.import_module(SERVICE_MODULES[name]).SPEC
