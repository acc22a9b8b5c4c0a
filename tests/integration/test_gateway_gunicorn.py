"""The gateway served by gunicorn exactly as `g1000 up` runs it (g1000/stack.py web_command), over
raw sockets: what gunicorn itself refuses is problem+json (issue 10 L2), its access log holds no
query string (L8), and /metrics is answered on the internal listener only (L3)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest

from g1000.procs import free_port, stop_process
from g1000.stack import web_command

pytestmark = pytest.mark.integration


@pytest.fixture
def served(stack, tmp_path):
    """gunicorn with the gateway on a public and an internal (metrics) listener; its log file."""
    stack.gateway()  # the gateway database exists and is migrated
    public, internal = free_port(), free_port()
    env = dict(os.environ, **stack.env, G1000_METRICS_PORT=str(internal),
               **{f"G1000_{name.upper()}_URL": url for name, url in stack.upstreams.items()})
    command = web_command("gateway.app:create_app()", public, 1) + ["--bind", f"127.0.0.1:{internal}"]
    log_path = tmp_path / "gateway.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while exchange(public, b"GET /healthz HTTP/1.1\r\nHost: g\r\n\r\n")[0] != 200:
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        yield public, internal, log_path
    finally:
        stop_process(process)


def exchange(port: int, raw: bytes) -> tuple[int, dict, bytes]:
    """Send `raw` on a fresh connection; (status, headers, body) of the answer (0: no answer)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(raw)
            data = b""
            while True:
                head, sep, rest = data.partition(b"\r\n\r\n")
                if sep:
                    lines = head.decode("latin-1").split("\r\n")
                    headers = dict(line.split(": ", 1) for line in lines[1:])
                    if len(rest) >= int(headers.get("Content-Length", "0")):
                        return int(lines[0].split()[1]), headers, rest
                chunk = s.recv(65536)
                if not chunk:
                    return 0, {}, data
                data += chunk
    except OSError:
        return 0, {}, b""


@pytest.mark.parametrize("raw,status", [
    (b"GET /v1/summits?q=" + b"x" * 5000 + b" HTTP/1.1\r\nHost: g\r\n\r\n", 414),
    (b"GET /v1/summits HTTP/1.1\r\nHost: g\r\nX-Big: " + b"x" * 9000 + b"\r\n\r\n", 431),
    (b"GET /v1/summits HTTP/1.1\r\nHost: g\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n",
     431),
    (b"GET /v1/summits HTTP/1.1\r\nHost: g\r\nNo colon here\r\n\r\n", 400),
    (b"GET /v1/summits HTTP/1.1\r\nHost: g\r\nBad Name: 1\r\n\r\n", 400),
], ids=["long-request-line", "large-field", "many-fields", "field-without-colon", "bad-field-name"])
def test_gunicorns_own_refusals_are_problem_json(served, raw, status):
    public, _, _ = served
    got, headers, body = exchange(public, raw)
    assert got == status
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert b"xxxx" not in body and b"colon" not in body  # the refused request is never quoted


def test_the_logs_have_no_query_string(served):
    public, _, log_path = served
    status, _, _ = exchange(public, b"GET /v1/summits?access_token=s3cr3t-in-the-query HTTP/1.1\r\nHost: g\r\n\r\n")
    assert status == 200
    # refused by gunicorn itself: neither its access line nor its warning quotes the request
    refused, _, _ = exchange(public, b"GET /v1/summits?access_token=s3cr3t-refused HTTP/1.1 x\r\nHost: g\r\n\r\n")
    assert refused == 400
    deadline = time.monotonic() + 30
    while '"GET /v1/summits HTTP/1.1" 200' not in log_path.read_text() or "Invalid request" not in log_path.read_text():
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.1)
    assert "s3cr3t" not in log_path.read_text(), log_path.read_text()


def test_casts_and_receipts_leave_no_line_in_either_access_log(served):
    """docs/ballot.md, "Secrecy": neither gunicorn's line (address, time, path) nor the gateway's."""
    public, _, log_path = served
    base = "/v1/summits/3f2b8c1e-5d4a-4e7b-9c10-2a6f8d9e0b47/ballots/8a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d/votes"
    body = b'{"credential": {"token": "", "prefix": "", "signature": ""}, "sealed": ""}'
    cast = (f"POST {base} HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    assert exchange(public, cast)[0] not in (0, 500)
    assert exchange(public, f"GET {base}/{'c0' * 32} HTTP/1.1\r\nHost: g\r\n\r\n".encode())[0] not in (0, 500)
    assert exchange(public, b"GET /v1/summits?after-the-votes HTTP/1.1\r\nHost: g\r\n\r\n")[0] == 200
    deadline = time.monotonic() + 30
    while log_path.read_text().count('"GET /v1/summits HTTP/1.1" 200') < 1:
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.1)
    text = log_path.read_text()
    assert "/votes" not in text and "c0c0c0" not in text, text


def test_metrics_only_on_the_internal_listener(served):
    public, internal, _ = served
    status, headers, _ = exchange(public, b"GET /metrics HTTP/1.1\r\nHost: g\r\n\r\n")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    status, headers, body = exchange(internal, b"GET /metrics HTTP/1.1\r\nHost: g\r\n\r\n")
    assert status == 200 and b"gateway_requests_total" in body
    assert exchange(internal, b"GET /v1/summits HTTP/1.1\r\nHost: g\r\n\r\n")[0] == 404
    # the Host header names another port: the listener, not the header, decides
    assert exchange(public, f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{internal}\r\n\r\n".encode())[0] == 404
