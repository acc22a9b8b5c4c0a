"""How far the ledger's logs are behind their producers, for its `/readyz` and `/metrics`.

Why (issue 10, M5): with the broker down the producers keep recording events that the log does
not get; the operator must see that on the ledger too, not only on each producer. The ledger
compares what every producer has recorded (its stream heads, read directly from the producers'
`/internal/outbox/heads`, the ledger's own from its database) with what each summit's log holds,
with the same rule the verifier applies to signed heads: `g1000_proofs.heads.lag`.

Readiness must never wait long, so the producers are asked with a short timeout and the answer
is kept for a few seconds per process. A lag does not make the ledger unready (events in flight
are normal; the producers' own readiness fails while their broker is down); it is reported.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from prometheus_client.core import GaugeMetricFamily

from g1000_proofs.heads import lag
from services.core.db import Database
from services.core.errors import TransientError

CACHE_SECONDS = 5.0


def summed_lag(conn, heads: list[dict]) -> dict[str, dict]:
    """Per stream: events the logs are behind the producers' heads, and in how many summits."""
    by_summit: dict[str, dict[str, int]] = {}
    for h in heads:
        by_summit.setdefault(str(h["summit_id"]), {})[h["stream"]] = int(h["last_seq"])
    rows = conn.execute(
        "SELECT summit_id::text, stream, next_seq - 1 FROM log_streams WHERE summit_id = ANY(%s::uuid[])",
        (list(by_summit),)).fetchall()
    logged: dict[str, dict[str, int]] = {}
    for summit_id, stream, last in rows:
        logged.setdefault(summit_id, {})[stream] = last
    known = {r[0] for r in conn.execute("SELECT summit_id::text FROM log_heads WHERE summit_id = ANY(%s::uuid[])",
                                        (list(by_summit),)).fetchall()}
    out: dict[str, dict] = {}
    for summit_id, head_seqs in by_summit.items():
        if summit_id not in known:
            continue  # no log here (yet): nothing to be behind on
        for stream, row in lag(head_seqs, logged.get(summit_id, {})).items():
            entry = out.setdefault(stream, {"behind": 0, "summits_behind": 0})
            entry["behind"] += row.behind
            entry["summits_behind"] += 1 if row.behind else 0
    return dict(sorted(out.items()))


def own_heads(conn, stream: str) -> list[dict]:
    return [{"stream": stream, "summit_id": str(r[0]), "last_seq": r[1]} for r in conn.execute(
        "SELECT summit_id, last_seq FROM stream_heads WHERE stream = %s", (stream,)).fetchall()]


class LogLag:
    """The ledger's view of its lag, cached briefly; None when it cannot be computed now."""

    def __init__(self, db: Database, producer_heads: Callable[[], list[dict]], stream: str = "ledger",
                 clock: Callable[[], float] = time.monotonic):
        self.db = db
        self.producer_heads = producer_heads
        self.stream = stream
        self.clock = clock
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._value: dict | None = None

    def current(self) -> dict | None:
        with self._lock:
            if self.clock() - self._at < CACHE_SECONDS:
                return self._value
            self._at = self.clock()
        heads = self.producer_heads()
        try:
            with self.db.transaction() as conn:
                value = summed_lag(conn, heads + own_heads(conn, self.stream))
        except TransientError:
            value = None
        with self._lock:
            self._value = value
        return value

    def readiness(self) -> dict:
        return {"log_lag": self.current()}

    def collect(self):
        """Prometheus: `g1000_log_behind_events{stream}`, `g1000_log_summits_behind{stream}`."""
        behind = GaugeMetricFamily("g1000_log_behind_events",
                                   "Events the producers have recorded that the logs do not hold yet",
                                   labels=["stream"])
        summits = GaugeMetricFamily("g1000_log_summits_behind", "Summits whose log is behind on the stream",
                                    labels=["stream"])
        value = self.current()
        if value is None:
            return
        for stream, row in value.items():
            behind.add_metric([stream], row["behind"])
            summits.add_metric([stream], row["summits_behind"])
        yield behind
        yield summits
