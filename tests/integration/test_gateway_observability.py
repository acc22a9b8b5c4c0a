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


def test_forwarding_copies_status_body_and_repeated_headers(stack):
    """What the service answers reaches the client unchanged: status, body, each value of a
    repeated header, and the request's body, query and id reach the service."""
    import http.server
    import threading

    seen = {}

    class Upstream(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen["path"] = self.path
            seen["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            seen["request_id"] = self.headers["X-Request-Id"]
            body = b'{"answer": 42}'
            self.send_response(418)
            self.send_header("Content-Type", "application/json")
            self.send_header("Link", '</a>; rel="first"')
            self.send_header("Link", '</b>; rel="next"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stack.gateway()
        from gateway.app import create_app

        upstream = f"http://127.0.0.1:{server.server_address[1]}"
        app = create_app(dict(stack.upstreams, ledger=upstream), env=stack.env, database=stack.databases[0])
        response = app.test_client().post("/v1/summits?x=1", data=b'{"q": 1}',
                                          headers={"Authorization": f"Bearer {stack.token}",
                                                   "Content-Type": "application/json",
                                                   "X-Request-Id": "req-forward-1"})
        assert response.status_code == 418
        assert response.get_data() == b'{"answer": 42}'
        assert response.headers.getlist("Link") == ['</a>; rel="first"', '</b>; rel="next"']
        assert response.headers.getlist("Content-Type") == ["application/json"]
        assert seen == {"path": "/v1/summits?x=1", "body": b'{"q": 1}', "request_id": "req-forward-1"}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
