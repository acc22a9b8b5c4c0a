"""What a producing service says about its own streams, directly and not through the broker.

Why (issue 10, M5 and Build 7): when the broker is down, a service keeps recording events in its
outbox and the log silently falls behind; nothing public said so.  Two answers live here:

- the *signed stream head* of a summit (`GET /stream-heads/<summit_id>`): the last seq this
  service has recorded for the summit in its own event store, whether or not the broker carried
  it, signed with the service's event key (the key the log registers for its stream) under the
  domain-separated encoding of `g1000_proofs.heads`.  The gateway gathers every service's head
  into its public `GET /v1/summits/{summit_id}/heads`; `g1000-verify --complete` compares them
  with the log.  The view reads its own database only: it works while the broker is down, which
  is exactly when it matters.
- the *outbox backlog*: how many recorded events wait for the relay and how old the oldest is,
  for `/readyz` and the service's `/metrics` (Prometheus gauges, computed at scrape time from
  the database, so every web worker reports the same numbers).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from g1000_proofs.heads import sign_head

from .envelope import format_time
from .errors import TransientError
from .problem import problem

HEADS_PATH = "/stream-heads/<summit_id>"


@dataclass(frozen=True)
class Backlog:
    """Events recorded but not yet acknowledged by the broker (the outbox)."""

    unpublished: int
    oldest_seconds: float  # age of the oldest unpublished event; 0 when there is none

    def as_dict(self) -> dict:
        return {"unpublished": self.unpublished, "oldest_seconds": round(self.oldest_seconds, 3)}


def outbox_backlog(conn) -> Backlog:
    count, age = conn.execute(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(recorded_at)), 0)"
        " FROM events WHERE published_at IS NULL").fetchone()
    return Backlog(int(count), float(age))


def recorded_head(conn, stream: str, summit_id: str) -> int:
    """The last seq `stream` has recorded for the summit (0: none yet)."""
    row = conn.execute("SELECT last_seq FROM stream_heads WHERE stream = %s AND summit_id = %s",
                       (stream, summit_id)).fetchone()
    return int(row[0]) if row else 0


def signed_head(rt, summit_id: str, now: datetime | None = None) -> dict:
    with rt.db.transaction() as conn:
        last_seq = recorded_head(conn, rt.spec.name, summit_id)
    moment = format_time(now or datetime.now(timezone.utc))
    return sign_head(rt.signer.sign, rt.signer.key_id, summit_id=summit_id, stream=rt.spec.name,
                     last_seq=last_seq, time=moment)


def heads_blueprint(rt) -> Blueprint:
    bp = Blueprint("stream_heads", __name__)

    @bp.get(HEADS_PATH)
    def stream_heads(summit_id: str):
        """Public and read-only (a signed statement about counts, nothing personal): the gateway
        asks for it without a vouch, and so may anyone who reaches the service."""
        try:
            summit = str(uuid.UUID(summit_id))
        except ValueError:
            return problem(400, "Bad Request", f"summit id {summit_id!r} is not a UUID")
        try:
            return {"heads": [signed_head(rt, summit)]}
        except TransientError as e:
            return problem(503, "Service Unavailable", f"{rt.spec.name}: {e}", headers={"Retry-After": "1"})

    @bp.get("/metrics")
    def metrics():
        """Prometheus gauges of the outbox backlog (and whatever the service adds, e.g. the
        ledger's log lag), read from the database at scrape time. Not routed by the gateway."""
        registry = CollectorRegistry()
        registry.register(_BacklogCollector(rt))
        extra = current_app.extensions.get("g1000_metrics_collectors", [])
        for collector in extra:
            registry.register(collector)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    return bp


class _BacklogCollector:
    def __init__(self, rt):
        self.rt = rt

    def collect(self):
        unpublished = GaugeMetricFamily("g1000_outbox_unpublished_events",
                                        "Events recorded but not yet acknowledged by the broker",
                                        labels=["service"])
        oldest = GaugeMetricFamily("g1000_outbox_oldest_unpublished_seconds",
                                   "Age of the oldest event waiting in the outbox (0: none waits)",
                                   labels=["service"])
        up = GaugeMetricFamily("g1000_database_up", "1 when the service's database answered this scrape",
                               labels=["service"])
        name = self.rt.spec.name
        try:
            with self.rt.db.transaction() as conn:
                backlog = outbox_backlog(conn)
        except TransientError:
            up.add_metric([name], 0)
            yield up
            return
        up.add_metric([name], 1)
        unpublished.add_metric([name], backlog.unpublished)
        oldest.add_metric([name], backlog.oldest_seconds)
        yield from (up, unpublished, oldest)
