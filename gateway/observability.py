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
import sys
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
