"""Event store against the real PostgreSQL: seq assignment, optimistic concurrency, atomicity."""

from __future__ import annotations

import threading
import uuid

import pytest

from services.core.envelope import verify_event
from services.core.errors import ConflictError
from services.core.event_catalog import CATALOG
from services.core.signing import DirectoryKeyring
from tests.helpers import count, runtime_for
from tests.support.event_flow import topic

pytestmark = pytest.mark.integration


@pytest.fixture
def agenda(service_env):
    rt = runtime_for("agenda", service_env)
    yield rt
    rt.db.close()


def test_seq_is_gap_free_per_summit_and_events_verify(agenda, service_env):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    recorded = []
    for i in range(5):
        recorded += agenda.store.append(a, [topic(a), topic(a)])
        recorded += agenda.store.append(b, [topic(b)])
    assert [e.seq for e in recorded if e.summit_id == a] == list(range(1, 11))
    assert [e.seq for e in recorded if e.summit_id == b] == list(range(1, 6))
    keyring = DirectoryKeyring(agenda.config.trusted_keys_dir)
    for event in agenda.store.read_stream(a):
        assert verify_event(event.body, keyring, CATALOG).event_id == event.event_id


def test_rolled_back_append_leaves_no_gap_and_no_event(agenda):
    summit = str(uuid.uuid4())
    agenda.store.append(summit, [topic(summit)])
    with pytest.raises(RuntimeError):
        with agenda.store.transaction() as tx:
            tx.append(summit, [topic(summit)])
            raise RuntimeError("projection failed")  # the read-model update fails after the append
    agenda.store.append(summit, [topic(summit)])
    assert [e.seq for e in agenda.store.read_stream(summit)] == [1, 2]


def test_concurrent_append_race_on_one_aggregate_has_one_winner(agenda):
    summit = str(uuid.uuid4())
    aggregate = f"summit:{summit}/topic:{uuid.uuid4()}"
    barrier = threading.Barrier(2)
    outcomes: list = []

    def writer(title: str) -> None:
        try:
            with agenda.store.transaction() as tx:
                barrier.wait(timeout=10)  # both transactions are open before either appends
                tx.append(summit, [topic(summit, title, 1, aggregate)])
            outcomes.append("won")
        except ConflictError as e:
            outcomes.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(map(type, outcomes), key=str) == sorted([str, ConflictError], key=str)
    assert outcomes.count("won") == 1
    assert count(agenda, "SELECT count(*) FROM events WHERE aggregate_id = %s", aggregate) == 1
    # the loser consumed no seq: the next append to the summit continues without a gap
    agenda.store.append(summit, [topic(summit)])
    assert [e.seq for e in agenda.store.read_stream(summit)] == [1, 2]


def test_next_version_after_conflict_succeeds(agenda):
    summit = str(uuid.uuid4())
    aggregate = f"summit:{summit}/topic:x"
    agenda.store.append(summit, [topic(summit, "one", 1, aggregate)])
    with pytest.raises(ConflictError):
        agenda.store.append(summit, [topic(summit, "again", 1, aggregate)])
    agenda.store.append(summit, [topic(summit, "two", 2, aggregate)])
    assert [e.payload["title"] for e in agenda.store.load(aggregate)] == ["one", "two"]


def test_migrations_are_idempotent(agenda):
    assert agenda.db.migrate("services.core", "services.agenda") == []


def test_readers_on_a_connection_select_by_aggregate_and_by_stream_summit_and_type_prefix(agenda):
    """`load_aggregate` and `load_types` read on the caller's connection (the lottery folds its
    rounds with them inside its request's transaction); the prefix is literal, not a LIKE
    pattern."""
    from services.core.store import load_aggregate, load_types

    summit, other = str(uuid.uuid4()), str(uuid.uuid4())
    aggregate = f"summit:{summit}/topic:{uuid.uuid4()}"
    first = agenda.store.append(summit, [topic(summit, aggregate=aggregate), topic(summit)])
    agenda.store.append(other, [topic(other)])
    with agenda.db.transaction() as conn:
        assert [e.event_id for e in load_aggregate(conn, aggregate)] == [first[0].event_id]
        assert [e.seq for e in load_types(conn, "agenda", summit, "agenda.topic.")] == [1, 2]
        assert load_types(conn, "agenda", summit, "agenda.topic_") == []   # "_" is no wildcard
        assert load_types(conn, "agenda", summit, "agenda%") == []
        assert load_types(conn, "lottery", summit, "agenda.") == []
    assert agenda.store.load(aggregate)[0].event_id == first[0].event_id
