"""Prometheus metrics at /metrics labelled by route template (never a summit id), upstream errors,
one JSON access-log line per request on stderr, and problem+json for everything the gateway
itself refuses."""

from __future__ import annotations

import json

import pytest

from tests.integration.gateway_support import SUMMIT

pytestmark = pytest.mark.integration


def test_metrics_use_route_templates(stack):
    app = stack.gateway()
    client = app.test_client()
    summit = client.post("/v1/summits", json=SUMMIT, headers=stack.auth()).get_json()["summit_id"]
    assert client.get(f"/v1/summits/{summit}").status_code == 200
    # the agenda learns of the summit from the ledger's stream (no consumer runs here): 404
    assert client.get(f"/v1/summits/{summit}/topics").status_code == 404
    assert client.get("/v1/nothing-here").status_code == 404
    text = client.get("/metrics").get_data(as_text=True)
    assert summit not in text
    assert 'gateway_requests_total{method="GET",route="/v1/summits/{summit_id}",status="200"} 1.0' in text
    assert 'gateway_requests_total{method="GET",route="/v1/summits/{summit_id}/topics",status="404"} 1.0' in text
    assert 'gateway_requests_total{method="POST",route="/v1/summits",status="201"} 1.0' in text
    assert 'gateway_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'gateway_request_duration_seconds_count{method="GET",route="/v1/summits/{summit_id}"} 1.0' in text


def test_upstream_errors_are_counted_and_answered_as_problems(stack):
    stack.gateway()
    from gateway.app import create_app

    app = create_app(dict(stack.upstreams, ledger="http://127.0.0.1:9"), env=stack.env, database=stack.databases[0])
    client = app.test_client()
    response = client.get("/v1/summits")
    assert response.status_code == 502 and response.content_type == "application/problem+json"
    text = client.get("/metrics").get_data(as_text=True)
    assert 'gateway_upstream_errors_total{kind="unreachable",service="ledger"} 3.0' in text  # GET: 3 tries


def test_one_json_access_line_per_request(stack, capfd):
    client = stack.gateway().test_client()
    capfd.readouterr()
    response = client.get("/v1/summits", headers={"X-Request-Id": "req-123"})
    assert response.headers["X-Request-Id"] == "req-123"
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == {"time", "request_id", "method", "route", "status", "duration_ms", "upstream"}
    assert (line["request_id"], line["method"], line["route"], line["status"], line["upstream"]) == \
        ("req-123", "GET", "/v1/summits", 200, "ledger")
    assert line["duration_ms"] > 0


def test_gateway_errors_are_problems(stack):
    client = stack.gateway().test_client()
    for response in (client.get("/nowhere"), client.get("/v1/elsewhere"), client.post("/healthz")):
        assert response.content_type == "application/problem+json"
        assert response.get_json()["status"] == response.status_code
        assert response.headers["X-Request-Id"]
    assert client.post("/healthz").status_code == 405


def test_multiprocess_mode_aggregates_workers(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR (as under gunicorn), /metrics sums what every worker wrote."""
    import subprocess
    import sys

    script = (
        "from gateway.observability import Metrics\n"
        "m = Metrics(); m.observe('/v1/summits', 'GET', 200, 0.01)\n"
        "print(m.exposition()[0].decode())\n"
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    outputs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                              check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2])).stdout
               for _ in range(2)]
    assert 'gateway_requests_total{method="GET",route="/v1/summits",status="200"} 1.0' in outputs[0]
    assert 'gateway_requests_total{method="GET",route="/v1/summits",status="200"} 2.0' in outputs[1]
