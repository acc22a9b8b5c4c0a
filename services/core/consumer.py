"""The consumer loop of a service: verified, idempotent, offsets committed after the database.

For each batch polled from Kafka, in one database transaction:
- every record is verified (canonical bytes, envelope, registered key for its stream, payload
  schema); a record that fails goes to `quarantine` with the reason, never to the handler;
- a verified event whose `event_id` this consumer already processed is skipped (a redelivery);
  one that reuses a known `event_id` with different bytes is quarantined as a forgery;
- otherwise the handler applies its effects on the same connection, inside a savepoint, and the
  event id is recorded in `processed_events`. A handler that raises is retried a bounded number
  of times and then quarantined with its error: a poison event never blocks the stream forever
  and is never dropped silently.
Only after that transaction commits are the Kafka offsets committed, so a crash anywhere
re-delivers the batch and the `processed_events` rows make the replay harmless.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import psycopg
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from .db import Database
from .envelope import Event, PayloadValidator, verify_event
from .errors import CoreError, TransientError, VerificationError
from .failpoints import failpoint
from .kafka import PLAINTEXT, KafkaSecurity, make_consumer
from .signing import Keyring

log = logging.getLogger(__name__)

Handler = Callable[[psycopg.Connection, Event], None]
BatchHandler = Callable[[psycopg.Connection, list[Event]], list[str | None]]
HANDLER_ATTEMPTS = 3
VERIFY_THREADS = 2
PARALLEL_VERIFY_MIN = 64


@dataclass(frozen=True)
class Outcome:
    applied: int = 0
    duplicates: int = 0
    quarantined: int = 0


class EventConsumer:
    """Applies batches of records. `handler` applies one event; a service may also give a
    `batch_handler(conn, events) -> list[reason | None]` that applies many at once (it must leave
    no effects for an event it refuses). If the batch handler raises, the batch falls back to the
    one-at-a-time path, so a poison event is still isolated and quarantined."""

    def __init__(self, db: Database, name: str, keyring: Keyring, catalog: PayloadValidator,
                 handler: Handler, batch_handler: BatchHandler | None = None):
        self.db = db
        self.name = name
        self.keyring = keyring
        self.catalog = catalog
        self.handler = handler
        self.batch_handler = batch_handler
        self._pool: ThreadPoolExecutor | None = None

    def process(self, records: list[tuple[str, bytes]]) -> Outcome:
        """Apply a batch of (source, bytes) records in one transaction; returns what happened."""
        duplicates = quarantined = 0
        with self.db.transaction() as conn:
            fresh: list[tuple[str, bytes, bytes, Event]] = []
            verified = []
            for (source, body), checked in zip(records, self._verify_all([body for _, body in records])):
                digest = hashlib.sha256(body).digest()
                if isinstance(checked, VerificationError):
                    self._quarantine(conn, source, body, digest, checked.reason, checked.event_id, None)
                    quarantined += 1
                else:
                    verified.append((source, body, digest, checked))
            seen = self._seen_digests(conn, [v[3].event_id for v in verified])
            for source, body, digest, event in verified:
                known = seen.get(event.event_id)
                if known is None:
                    seen[event.event_id] = digest
                    fresh.append((source, body, digest, event))
                elif known == digest:
                    duplicates += 1
                else:
                    self._quarantine(conn, source, body, digest, "event_id already processed with different content",
                                     event.event_id, event.type)
                    quarantined += 1
            reasons = self._apply_all(conn, [f[3] for f in fresh])
            done = []
            for (source, body, digest, event), reason in zip(fresh, reasons):
                if reason is None:
                    done.append((self.name, event.event_id, digest))
                else:
                    self._quarantine(conn, source, body, digest, reason, event.event_id, event.type)
                    quarantined += 1
            if done:
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO processed_events (consumer, event_id, digest) VALUES (%s, %s, %s)",
                                    done)
            failpoint("consumer.before_db_commit")
        failpoint("consumer.after_db_commit")
        return Outcome(len(done), duplicates, quarantined)

    def _verify_one(self, body: bytes) -> Event | VerificationError:
        try:
            return verify_event(body, self.keyring, self.catalog)
        except VerificationError as e:
            return e

    def _verify_all(self, bodies: list[bytes]) -> list[Event | VerificationError]:
        """Verify a batch; Ed25519 releases the GIL, so two threads use both cores for it."""
        if len(bodies) < PARALLEL_VERIFY_MIN:
            return [self._verify_one(b) for b in bodies]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=VERIFY_THREADS, thread_name_prefix=f"{self.name}-verify")
        return list(self._pool.map(self._verify_one, bodies, chunksize=32))

    def _seen_digests(self, conn, event_ids: list[str]) -> dict[str, bytes]:
        if not event_ids:
            return {}
        rows = conn.execute("SELECT event_id, digest FROM processed_events WHERE consumer = %s"
                            " AND event_id = ANY(%s::uuid[])", (self.name, event_ids)).fetchall()
        return {str(r[0]): bytes(r[1]) for r in rows}

    def _apply_all(self, conn: psycopg.Connection, events: list[Event]) -> list[str | None]:
        if self.batch_handler is not None and events:
            try:
                with conn.transaction():
                    return self.batch_handler(conn, events)
            except (psycopg.OperationalError, TransientError):
                raise
            except Exception as e:  # noqa: BLE001 - isolate the culprit one event at a time
                log.warning("%s: batch of %d failed (%s: %s); applying one at a time",
                            self.name, len(events), type(e).__name__, e)
        return [self._apply(conn, event) for event in events]

    def _apply(self, conn: psycopg.Connection, event: Event) -> str | None:
        """Run the handler in a savepoint; None on success, else the reason after bounded retries."""
        reason = None
        for attempt in range(1, HANDLER_ATTEMPTS + 1):
            try:
                with conn.transaction():
                    self.handler(conn, event)
                return None
            except (psycopg.OperationalError, TransientError):
                raise  # the database itself is in trouble: abort the batch, retry it whole
            except CoreError as e:
                return f"refused: {e}"  # a decision of the domain: retrying cannot change it
            except Exception as e:  # noqa: BLE001 - a poison event must not stop the consumer
                reason = f"handler failed after {attempt} attempts: {type(e).__name__}: {e}"
                log.warning("%s: event %s attempt %d: %s", self.name, event.event_id, attempt, e)
        return reason

    def _quarantine(self, conn, source, body, digest, reason, event_id, event_type) -> None:
        log.warning("%s: quarantined %s (%s): %s", self.name, source, event_id, reason)
        conn.execute(
            "INSERT INTO quarantine (consumer, source, event_id, event_type, reason, body, digest, summit_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (consumer, digest) DO NOTHING",
            (self.name, source, event_id, event_type, reason, body, digest, _claimed_summit(body)),
        )

    def run(self, bootstrap: str, topics: list[str], stop: threading.Event, *,
            max_poll_interval_ms: int = 5_000, retry_wait: float = 1.0,
            security: KafkaSecurity = PLAINTEXT) -> None:
        """Consume until `stop` is set."""
        consumer = make_consumer(bootstrap, self.name, topics, max_poll_interval_ms=max_poll_interval_ms,
                                 security=security)
        try:
            while not stop.is_set():
                batch = consumer.poll(timeout_ms=500, max_records=500)
                if not batch:
                    continue
                records = []
                offsets = {}
                for tp, messages in batch.items():
                    for m in messages:
                        records.append((f"{tp.topic}:{tp.partition}:{m.offset}", m.value))
                    offsets[tp] = OffsetAndMetadata(messages[-1].offset + 1, "", -1)
                try:
                    self.process(records)
                except TransientError as e:
                    log.warning("%s: %s; re-reading the batch", self.name, e)
                    for tp, messages in batch.items():
                        consumer.seek(tp, messages[0].offset)
                    stop.wait(retry_wait)
                    continue
                try:
                    consumer.commit(offsets)
                except KafkaError as e:
                    # The database already holds the effects; a re-delivery is a harmless duplicate.
                    log.warning("%s: offset commit failed (%s); duplicates will be skipped", self.name, e)
        finally:
            consumer.close()
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None


def _claimed_summit(body: bytes) -> str | None:
    """The summit id an event claims, if its bytes parse far enough to say (for the log's view)."""
    import json
    import uuid

    try:
        value = json.loads(body).get("summit_id")
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except (ValueError, AttributeError, TypeError):
        return None


def quarantined(db: Database, consumer: str | None = None, limit: int = 100) -> list[dict]:
    """The quarantine, newest first, for operators and the API."""
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT id, consumer, source, event_id, event_type, reason, received_at FROM quarantine"
            " WHERE %(c)s::text IS NULL OR consumer = %(c)s ORDER BY id DESC LIMIT %(n)s",
            {"c": consumer, "n": limit},
        ).fetchall()
    return [
        {"id": r[0], "consumer": r[1], "source": r[2], "event_id": str(r[3]) if r[3] else None,
         "event_type": r[4], "reason": r[5], "received_at": r[6].isoformat()}
        for r in rows
    ]
