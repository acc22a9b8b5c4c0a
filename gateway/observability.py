"""What the gateway tells operators: Prometheus metrics and one JSON access-log line per request.

Labels carry the route template (`/v1/summits/{summit_id}`), never the raw path, so summit ids do
not become label values. gunicorn runs several worker processes: when PROMETHEUS_MULTIPROC_DIR is
set (before prometheus_client is imported, i.e. in the environment of the gunicorn process) every
worker writes its samples there and `/metrics` aggregates all workers; the directory must be
emptied when the gateway starts. Without it, each app has its own registry (tests build several).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import uuid
from datetime import datetime, timezone

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry()
        self.requests = Counter("gateway_requests", "Requests answered by the gateway",
                                ("route", "method", "status"), registry=self.registry)
        self.latency = Histogram("gateway_request_duration_seconds", "Time to answer a request",
                                 ("route", "method"), buckets=BUCKETS, registry=self.registry)
        self.upstream_errors = Counter("gateway_upstream_errors", "Forwarded requests that failed",
                                       ("service", "kind"), registry=self.registry)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = self.registry
        return generate_latest(registry), CONTENT_TYPE_LATEST


# A caller's X-Request-Id is kept only when it is short and plain (issue 10 L8): the gateway echoes
# it, logs it and forwards it, so a 7 KB or control-character id would flood or forge log lines.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(given: str | None) -> str:
    """The caller's request id if REQUEST_ID matches all of it, else a fresh UUID (the given one is
    neither echoed nor logged)."""
    if given is not None and REQUEST_ID.fullmatch(given):
        return given
    return str(uuid.uuid4())


LOOPBACK = ("127.", "::1", "::ffff:127.")


def metrics_allowed(environ: dict, metrics_port: int | None) -> bool:
    """Whether this request may read /metrics (issue 10 L3: internal only).

    With an internal metrics listener (G1000_METRICS_PORT; on Kubernetes Prometheus scrapes that
    pod port, which no Service and no ingress route exposes), only requests that arrived on that
    listener. Without one (`g1000 up` binds loopback only), only a loopback peer that no proxy
    forwarded: the peer address is the one the server saw, before any X-Forwarded-For rewriting,
    and a proxied request (one carrying X-Forwarded-For) is someone else's, not the operator's.
    """
    if metrics_port is not None:
        return str(environ.get("SERVER_PORT", "")) == str(metrics_port)
    original = environ.get("werkzeug.proxy_fix.orig") or {}
    peer = original.get("REMOTE_ADDR", environ.get("REMOTE_ADDR")) or ""
    forwarded = original.get("HTTP_X_FORWARDED_FOR", environ.get("HTTP_X_FORWARDED_FOR"))
    return peer.startswith(LOOPBACK) and forwarded is None


class TimedCache:
    """One value, recomputed at most every `seconds` (by `clock`), by one thread at a time: readyz
    fans out to every service (issue 10 L3). While one thread recomputes, the others answer with
    the previous value instead of queueing behind it (a stalled service must not hold every
    worker thread, issue 10 M4); only before the first value exists do they wait for it."""

    _UNSET = object()

    def __init__(self, seconds: float, clock):
        self.seconds = seconds
        self.clock = clock
        self.lock = threading.Lock()
        self.value = self._UNSET
        self.expires = float("-inf")

    def get(self, compute):
        if self.seconds > 0 and self.clock() < self.expires:
            return self.value
        if not self.lock.acquire(blocking=self.value is self._UNSET):
            return self.value  # another thread is recomputing: the previous answer stands meanwhile
        try:
            now = self.clock()
            if now >= self.expires or self.seconds <= 0:
                self.value = compute()
                self.expires = now + self.seconds
            return self.value
        finally:
            self.lock.release()


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of the record (it may be replaced)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def access_logger() -> logging.Logger:
    """`gateway.access`: bare JSON lines on stderr, not mixed into the application log format."""
    logger = logging.getLogger("gateway.access")
    if not logger.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def access_line(*, request_id: str, method: str, route: str, status: int, duration_ms: float,
                upstream: str | None) -> str:
    return json.dumps({
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "request_id": request_id, "method": method, "route": route, "status": status,
        "duration_ms": round(duration_ms, 3), "upstream": upstream,
    }, separators=(",", ":"))
