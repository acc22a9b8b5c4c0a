"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from tests.helpers import runtime_for
from tests.integration.gateway_support import stack  # noqa: F401  (fixture of the gateway tests)


@pytest.fixture
def pair(service_env):
    """The agenda (a producer) and the ledger (the consumer of every stream) of one test."""
    agenda = runtime_for("agenda", service_env)
    ledger = runtime_for("ledger", service_env)
    yield agenda, ledger
    agenda.db.close()
    ledger.db.close()
