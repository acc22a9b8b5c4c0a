"""Agenda events through the pipeline, for the integration tests against the real PostgreSQL and
broker: an event to append, the outbox relay and the consumer that carry it, and a ledger log
built from n of them."""

from __future__ import annotations

import uuid

from g1000_proofs.merkle import leaf_hash
from services.core.events import NewEvent
from services.core.outbox import OutboxRelay
from tests.helpers import open_test_summit


def topic(summit: str, title: str = "Groen in de wijk", version: int = 1, aggregate: str | None = None) -> NewEvent:
    return NewEvent("agenda.topic.nominated",
                    {"v": 1, "topic_id": str(uuid.uuid4()), "title": title, "description": ""},
                    aggregate or f"summit:{summit}/topic:{uuid.uuid4()}", version)


def relay_of(rt):
    return OutboxRelay(rt.db, rt.spec.name, rt.config.kafka_bootstrap, topic_prefix=rt.config.topic_prefix)


def consume(rt):
    consumer = rt.consumer()
    return lambda stop: consumer.run(rt.config.kafka_bootstrap, rt.consumed_topics(), stop,
                                     max_poll_interval_ms=rt.config.max_poll_interval_ms)


def build_log(agenda, ledger, n: int) -> tuple[str, list[bytes]]:
    """A summit log of genesis + n agenda events, ingested through the ledger's consumer."""
    summit = open_test_summit(ledger)
    for start in range(0, n, 200):
        agenda.store.append(summit, [topic(summit, f"t{i}") for i in range(start, min(n, start + 200))])
    consumer = ledger.consumer()
    bodies = [e.body for e in agenda.store.read_stream(summit, limit=n + 1)]
    for start in range(0, n, 500):
        outcome = consumer.process([(f"test:{i}", b) for i, b in enumerate(bodies[start:start + 500], start)])
        assert outcome.applied == len(bodies[start:start + 500])
    with ledger.db.transaction() as conn:
        leaves = [bytes(r[0]) for r in conn.execute(
            "SELECT leaf_hash FROM log_entries WHERE summit_id = %s ORDER BY idx", (summit,))]
        bodies_in_log = [bytes(r[0]) for r in conn.execute(
            "SELECT body FROM log_entries WHERE summit_id = %s ORDER BY idx", (summit,))]
    assert leaves == [leaf_hash(b) for b in bodies_in_log]
    return summit, leaves
