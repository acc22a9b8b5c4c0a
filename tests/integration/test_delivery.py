"""Append -> outbox -> broker -> consumer against the real PostgreSQL and broker."""

from __future__ import annotations

import pytest
from services.core.outbox import republish
from tests.helpers import caught_up, count, log_count, open_test_summit, running, wait_until
from tests.support.event_flow import consume, relay_of, topic

pytestmark = pytest.mark.integration


def received(ledger, summit) -> int:
    return log_count(ledger, summit)


def test_appended_event_reaches_consumer_exactly_once_with_valid_signature(pair):
    agenda, ledger = pair
    summit = open_test_summit(ledger)
    (event,) = agenda.store.append(summit, [topic(summit)])
    relay = relay_of(agenda)
    with running(relay.run), running(consume(ledger)):
        wait_until(lambda: received(ledger, summit) == 1, what="the event at the ledger")
        # send everything again: the consumer must recognise the redelivery
        assert republish(agenda.db, "agenda", summit, 1) == 1
        wait_until(lambda: count(agenda, "SELECT count(*) FROM events WHERE published_at IS NULL") == 0)
        wait_until(lambda: caught_up(ledger), what="the ledger to consume the redelivery")
    with ledger.db.transaction() as conn:
        body = conn.execute("SELECT body FROM log_entries WHERE event_id = %s", (event.event_id,)).fetchone()[0]
    assert bytes(body) == event.body  # byte-identical: what was signed is what arrived
    assert received(ledger, summit) == 1
    assert count(ledger, "SELECT count(*) FROM quarantine") == 0


def test_republish_from_seq_resends_in_order_and_nothing_is_applied_twice(pair):
    agenda, ledger = pair
    summit = open_test_summit(ledger)
    for _ in range(30):
        agenda.store.append(summit, [topic(summit)])
    with running(relay_of(agenda).run), running(consume(ledger)):
        wait_until(lambda: received(ledger, summit) == 30, what="30 events at the ledger")
        assert republish(agenda.db, "agenda", summit, 11) == 20
        wait_until(lambda: count(agenda, "SELECT count(*) FROM events WHERE published_at IS NULL") == 0,
                   what="the republished events to be sent")
        wait_until(lambda: caught_up(ledger), what="the ledger to consume the redelivery")
    assert received(ledger, summit) == 30
    with ledger.db.transaction() as conn:
        seqs = [r[0] for r in conn.execute(
            "SELECT seq FROM log_entries WHERE summit_id = %s AND stream = 'agenda' ORDER BY idx", (summit,))]
    assert seqs == list(range(1, 31))
    assert count(ledger, "SELECT count(*) FROM quarantine") == 0
