"""A service web app is ready when its database answers; the broker is reported, not required.

Writes only touch the service's database (events wait in the transactional outbox until the
relay publishes them), so a Kafka outage must not take the web apps out of their Kubernetes
Services; a database outage must.
"""

from __future__ import annotations

import dataclasses

import pytest

from g1000.procs import free_port
from services.core.runtime import create_service_app
from tests.helpers import runtime_for

pytestmark = pytest.mark.integration


def test_ready_with_the_broker_and_the_database(service_env):
    rt = runtime_for("lottery", service_env)
    try:
        answer = create_service_app(rt).test_client().get("/readyz")
        assert answer.status_code == 200
        assert answer.get_json() == {"status": "ready", "service": "lottery",
                                     "checks": {"database": True, "broker": True}}
    finally:
        rt.db.close()


def test_a_broker_outage_is_reported_but_keeps_the_service_ready(service_env):
    rt = runtime_for("lottery", service_env)
    try:
        rt.config = dataclasses.replace(rt.config, kafka_bootstrap=f"127.0.0.1:{free_port()}")
        answer = create_service_app(rt).test_client().get("/readyz")
        assert answer.status_code == 200
        body = answer.get_json()
        assert body["checks"] == {"database": True, "broker": False}
        assert "outbox" in body["warnings"][0]
    finally:
        rt.db.close()


def test_a_database_outage_makes_the_service_unready(service_env):
    rt = runtime_for("lottery", service_env)
    app = create_service_app(rt)
    rt.db.close()
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503 and answer.content_type == "application/problem+json"
    assert answer.headers["Retry-After"] == "1"
    assert "database is not reachable" in answer.get_json()["detail"]
