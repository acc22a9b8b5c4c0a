"""A service web app is ready when its database answers and nothing waits on a dead broker.

Writes only touch the service's database (events wait in the transactional outbox until the
relay publishes them), so a Kafka outage alone does not take the web apps out of their
Kubernetes Services; a database outage does, and so does a broker outage while events wait
(issue 10, M5: the log is then behind, and readiness must say so). The backlog is reported.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from g1000.procs import free_port
from services.core.runtime import create_service_app
from services.core.events import NewEvent
from tests.helpers import runtime_for

pytestmark = pytest.mark.integration


def test_ready_with_the_broker_and_the_database(service_env):
    rt = runtime_for("lottery", service_env)
    try:
        answer = create_service_app(rt).test_client().get("/readyz")
        assert answer.status_code == 200
        assert answer.get_json() == {"status": "ready", "service": "lottery",
                                     "checks": {"database": True, "broker": True},
                                     "outbox": {"unpublished": 0, "oldest_seconds": 0}}
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
        assert body["outbox"] == {"unpublished": 0, "oldest_seconds": 0}
    finally:
        rt.db.close()


def test_a_broker_outage_with_events_waiting_makes_the_service_unready(service_env):
    """M5: the broker down while writes go on left /readyz at 200 with 155 events in the outbox."""
    rt = runtime_for("agenda", service_env)
    try:
        rt.config = dataclasses.replace(rt.config, kafka_bootstrap=f"127.0.0.1:{free_port()}")
        summit = str(uuid.uuid4())
        rt.store.append(summit, [NewEvent("agenda.topic.nominated", {"v": 1, "topic_id": str(uuid.uuid4()),
                                          "title": "Parken", "description": ""}, f"summit:{summit}/topic:1", 1)])
        answer = create_service_app(rt).test_client().get("/readyz")
        assert answer.status_code == 503 and answer.content_type == "application/problem+json"
        body = answer.get_json()
        assert body["checks"] == {"database": True, "broker": False}
        assert body["outbox"]["unpublished"] == 1 and body["outbox"]["oldest_seconds"] >= 0
        assert "1 events wait in the outbox" in body["detail"]
        metrics = create_service_app(rt).test_client().get("/metrics").get_data(as_text=True)
        assert 'g1000_outbox_unpublished_events{service="agenda"} 1.0' in metrics
        assert 'g1000_database_up{service="agenda"} 1.0' in metrics
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
