"""The gateway's Flask app: health, readiness of the whole stack, and routing of `/v1/...`.

Requests are forwarded to the owning service with a timeout; only idempotent reads are retried.
A request id (`X-Request-Id`, generated when absent) travels to the service and back. Every error
the gateway itself produces is RFC 9457 problem+json.
"""

from __future__ import annotations

import logging
import os
import uuid

import requests
from flask import Flask, Response, request

from services.core.errors import ConfigError
from services.core.problem import problem

from .routes import service_for

log = logging.getLogger(__name__)

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length", "host"}
SERVICE_NAMES = ("ledger", "lottery", "agenda", "ballot")


def load_upstreams(env: dict | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    upstreams = {}
    for name in SERVICE_NAMES:
        url = env.get(f"G1000_{name.upper()}_URL", "").rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"G1000_{name.upper()}_URL must be the http(s) URL of the {name} service")
        upstreams[name] = url
    return upstreams


def create_app(upstreams: dict[str, str] | None = None, *, timeout: float = 10.0) -> Flask:
    upstreams = upstreams or load_upstreams()
    app = Flask("gateway")
    session = requests.Session()

    @app.before_request
    def _request_id():
        request.environ["g1000.request_id"] = request.headers.get("X-Request-Id") or str(uuid.uuid4())

    @app.after_request
    def _echo_request_id(response: Response):
        response.headers["X-Request-Id"] = request.environ.get("g1000.request_id", "")
        return response

    @app.get("/healthz")
    def healthz():
        return {"status": "alive", "service": "gateway"}

    @app.get("/readyz")
    def readyz():
        checks = {}
        for name, url in upstreams.items():
            try:
                checks[name] = session.get(f"{url}/readyz", timeout=3).status_code == 200
            except requests.RequestException:
                checks[name] = False
        if all(checks.values()):
            return {"status": "ready", "checks": checks}
        failing = ", ".join(n for n, ok in checks.items() if not ok)
        return problem(503, "Service Unavailable", f"not ready: {failing}", headers={"Retry-After": "1"})

    @app.route("/v1/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def forward(rest):
        service = service_for(request.path)
        if service is None:
            return problem(404, "Not Found", f"no such resource: {request.path}")
        return _forward(session, upstreams[service], timeout)

    @app.errorhandler(404)
    def _not_found(e):
        return problem(404, "Not Found", f"no such resource: {request.path}")

    @app.errorhandler(405)
    def _not_allowed(e):
        return problem(405, "Method Not Allowed", f"{request.method} is not allowed on {request.path}")

    @app.errorhandler(Exception)
    def _unexpected(e):
        code = getattr(e, "code", None)
        if isinstance(code, int) and 400 <= code < 600:
            return problem(code, getattr(e, "name", "Error"), getattr(e, "description", None))
        log.exception("gateway error")
        return problem(500, "Internal Server Error", "the error has been logged")

    return app


def _forward(session: requests.Session, base: str, timeout: float) -> Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers["X-Request-Id"] = request.environ["g1000.request_id"]
    headers["X-Forwarded-For"] = request.remote_addr or ""
    attempts = 3 if request.method == "GET" else 1
    for attempt in range(attempts):
        try:
            upstream = session.request(
                request.method, base + request.full_path.rstrip("?"), headers=headers,
                data=request.get_data(), timeout=timeout, allow_redirects=False,
            )
            break
        except requests.Timeout:
            if attempt == attempts - 1:
                return problem(504, "Gateway Timeout", "the service did not answer in time")
        except requests.RequestException:
            if attempt == attempts - 1:
                return problem(502, "Bad Gateway", "the service is not reachable")
    out = Response(upstream.content, status=upstream.status_code)
    for key, value in upstream.headers.items():
        if key.lower() not in HOP_BY_HOP and key.lower() != "content-encoding":
            out.headers[key] = value
    return out


