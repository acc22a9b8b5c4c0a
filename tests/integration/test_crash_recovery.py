"""SIGKILL of the relay or the consumer at the worst moments loses nothing and applies nothing twice.

Workers run as real processes (`g1000 worker …`) against the real PostgreSQL and broker. Failpoints
kill a process exactly between "sent to the broker" and "marked published" (relay) or between
"database committed" and "offsets committed" (consumer); a last test kills both repeatedly from
outside at arbitrary moments.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.helpers import caught_up, count, log_count, log_tail, open_test_summit, running, spawn_worker, wait_until
from tests.support.event_flow import consume, relay_of, topic

pytestmark = pytest.mark.integration

N = 1200  # more than two relay/consumer batches of 500


@pytest.fixture
def trio(pair):
    """The agenda, the ledger and the worker processes this test starts (killed by pid at the end)."""
    procs = []
    yield (*pair, procs)
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def fill(agenda, ledger, n: int = N) -> str:
    summit = open_test_summit(ledger)
    for start in range(0, n, 100):
        agenda.store.append(summit, [topic(summit, f"onderwerp {i}") for i in range(start, min(n, start + 100))])
    return summit


def assert_exactly_once(agenda, ledger, summit, n: int = N) -> None:
    assert log_count(ledger, summit) == n
    with ledger.db.transaction() as conn:
        seqs = [r[0] for r in conn.execute(
            "SELECT seq FROM log_entries WHERE summit_id = %s AND stream = 'agenda' ORDER BY idx", (summit,))]
    assert seqs == list(range(1, n + 1))  # in order, gap-free, once each
    assert count(ledger, "SELECT count(*) FROM processed_events") == n
    assert count(ledger, "SELECT count(*) FROM quarantine") == 0, "nothing may be quarantined"
    assert count(agenda, "SELECT count(*) FROM events WHERE published_at IS NULL") == 0


def died_by_sigkill(proc, timeout: float = 60.0) -> bool:
    proc.wait(timeout=timeout)
    return proc.returncode == -signal.SIGKILL


def test_relay_killed_after_send_before_mark_loses_nothing(trio, service_env):
    agenda, ledger, procs = trio
    summit = fill(agenda, ledger)
    relay = spawn_worker("relay", "agenda", service_env, "relay.after_send=1")
    procs.append(relay)
    assert died_by_sigkill(relay), log_tail(relay)
    # the first batch reached the broker but is still unmarked: it will be sent twice
    assert count(agenda, "SELECT count(*) FROM events WHERE published_at IS NULL") == N
    procs.append(spawn_worker("relay", "agenda", service_env))
    with running(consume(ledger)):
        wait_until(lambda: log_count(ledger) == N, what="all events")
        wait_until(lambda: count(agenda, "SELECT count(*) FROM events WHERE published_at IS NULL") == 0)
        wait_until(lambda: caught_up(ledger), what="the consumer to read the duplicates")
    assert_exactly_once(agenda, ledger, summit)


@pytest.mark.parametrize("point", ["consumer.after_db_commit", "consumer.before_db_commit"])
def test_consumer_killed_mid_batch_applies_nothing_twice(trio, service_env, point):
    agenda, ledger, procs = trio
    summit = fill(agenda, ledger)
    with running(relay_of(agenda).run):
        wait_until(lambda: count(agenda, "SELECT count(*) FROM events WHERE published_at IS NULL") == 0,
                   what="everything published")
    consumer = spawn_worker("consume", "ledger", service_env, f"{point}=1")
    procs.append(consumer)
    assert died_by_sigkill(consumer), log_tail(consumer)
    applied = log_count(ledger)
    if point == "consumer.after_db_commit":
        assert 0 < applied < N  # one batch is in the database, its offsets are not committed
    else:
        assert applied == 0
    procs.append(spawn_worker("consume", "ledger", service_env))
    wait_until(lambda: log_count(ledger) == N, what="all events")
    wait_until(lambda: caught_up(ledger), what="offsets committed to the end")
    assert_exactly_once(agenda, ledger, summit)


def test_repeated_external_sigkill_of_relay_and_consumer(trio, service_env):
    agenda, ledger, procs = trio
    summits = []
    relay = consumer = None
    for round_ in range(4):
        summits.append(fill(agenda, ledger, 600))
        relay = spawn_worker("relay", "agenda", service_env)
        consumer = spawn_worker("consume", "ledger", service_env)
        procs += [relay, consumer]
        # let both make some progress, then kill them wherever they are
        target = log_count(ledger) + 1
        wait_until(lambda: log_count(ledger) >= target, what="progress")
        time.sleep(0.05 * round_)
        for proc in (relay, consumer):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    procs.append(spawn_worker("relay", "agenda", service_env))
    procs.append(spawn_worker("consume", "ledger", service_env))
    total = 600 * len(summits)
    wait_until(lambda: log_count(ledger) == total, timeout=120,
               what="every event after the kills")
    wait_until(lambda: caught_up(ledger), what="offsets committed to the end")
    for summit in summits:
        assert log_count(ledger, summit) == 600
    assert count(ledger, "SELECT count(*) FROM processed_events") == total
    assert count(ledger, "SELECT count(*) FROM quarantine") == 0
    assert count(agenda, "SELECT count(*) FROM events WHERE published_at IS NULL") == 0
