"""The outbox relay: publishes a service's committed events to Kafka, at least once, in order.

Rows of `events` with `published_at IS NULL` are the outbox. The relay sends them in `position`
order, waits for the broker's acknowledgement of every message (acks=all), and only then marks
them published. A relay killed between send and mark sends those rows again after restart; the
consumers drop the duplicates by `event_id`. One relay per service is active at a time (a
session-level advisory lock); a second replica waits as a hot standby.

`republish(summit_id, from_seq)` clears the mark of a summit's events from `from_seq` on, so the
running relay sends them again in order: this is how the ledger fills a gap it has detected.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib

import psycopg
from kafka.errors import KafkaError

from .backoff import Backoff
from .db import Database
from .errors import TransientError
from .failpoints import failpoint
from .kafka import PLAINTEXT, KafkaSecurity, make_producer, topic_for
from .store import OUTBOX_CHANNEL

log = logging.getLogger(__name__)


def republish(db: Database, stream: str, summit_id: str, from_seq: int) -> int:
    """Queue a summit's events from `from_seq` for publishing again; returns how many."""
    with db.transaction() as conn:
        cur = conn.execute(
            "UPDATE events SET published_at = NULL WHERE stream = %s AND summit_id = %s AND seq >= %s",
            (stream, summit_id, from_seq),
        )
        conn.execute(f"NOTIFY {OUTBOX_CHANNEL}")
        return cur.rowcount


class OutboxRelay:
    def __init__(self, db: Database, stream: str, bootstrap: str, *, topic_prefix: str = "g1000",
                 batch_size: int = 500, security: KafkaSecurity = PLAINTEXT):
        self.db = db
        self.security = security
        self.stream = stream
        self.bootstrap = bootstrap
        self.topic = topic_for(stream, topic_prefix)
        self.batch_size = batch_size
        self._producer = None

    def _ensure_producer(self):
        if self._producer is None:
            self._producer = make_producer(self.bootstrap, f"relay-{self.stream}", self.security)
        return self._producer

    def publish_batch(self) -> int:
        """Send the next batch of unpublished events; returns the number marked published."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT position, summit_id, body FROM events WHERE published_at IS NULL"
                " ORDER BY position LIMIT %s",
                (self.batch_size,),
            ).fetchall()
        if not rows:
            return 0
        producer = self._ensure_producer()
        try:
            futures = [
                producer.send(self.topic, key=str(summit_id).encode(), value=bytes(body))
                for _, summit_id, body in rows
            ]
            producer.flush(timeout=30)
            for future in futures:
                future.get(timeout=30)  # raises if the broker did not acknowledge
        except KafkaError as e:
            self.close()
            raise TransientError(f"broker did not acknowledge: {e}") from None
        failpoint("relay.after_send")
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE events SET published_at = now() WHERE position = ANY(%s)",
                ([r[0] for r in rows],),
            )
        return len(rows)

    def run(self, stop: threading.Event, idle_wait: float = 1.0) -> None:
        """Publish until `stop` is set, waking on NOTIFY from appends (or every `idle_wait` s)."""
        lock_id = zlib.crc32(f"relay:{self.stream}".encode())
        with self.listen_connection() as listen:
            while not stop.is_set():
                if listen.execute("SELECT pg_try_advisory_lock(%s)", (lock_id,)).fetchone()[0]:
                    break
                stop.wait(idle_wait)  # another replica is the active relay
            listen.execute(f"LISTEN {OUTBOX_CHANNEL}")
            # retries while the broker is unreachable: growing pauses, back to the shortest as
            # soon as a batch is acknowledged (issue 10, M5: a back-off must reset)
            backoff = Backoff(base=min(idle_wait, 0.25), factor=2.0, ceiling=max(idle_wait, 5.0),
                              healthy_after=0.0)
            while not stop.is_set():
                try:
                    sent = self.publish_batch()
                except TransientError as e:
                    pause = backoff.failed(time.monotonic())
                    log.warning("relay %s: %s; retrying in %.2f s", self.stream, e, pause)
                    stop.wait(pause)
                    continue
                backoff.succeeded()
                if sent < self.batch_size:
                    self._wait_for_notify(listen, idle_wait)
        self.close()

    def listen_connection(self) -> psycopg.Connection:
        """The relay's own session (LISTEN, the advisory lock), connected within the database
        bounds (issue 10, M4): a server that never answers is an error within the connect
        timeout, one that vanishes is noticed by TCP keepalives, instead of a relay hung forever."""
        return self.db.dedicated_connection()

    @staticmethod
    def _wait_for_notify(conn: psycopg.Connection, timeout: float) -> None:
        for _ in conn.notifies(timeout=timeout, stop_after=1):
            pass

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None
