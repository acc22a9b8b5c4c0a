"""The services of the stack: name -> module with `SPEC` and `create_app()`, read from the one
declaration of the services (services/core/registry.py)."""

from __future__ import annotations

import importlib

from services.core.registry import REGISTRY
from services.core.runtime import ServiceSpec

SERVICE_MODULES = {s.name: s.app_module for s in REGISTRY}


def spec_for(name: str) -> ServiceSpec:
    return importlib.import_module(SERVICE_MODULES[name]).SPEC
