"""The ledger's log against the real PostgreSQL: gaps, proofs served over REST, checkpoints."""

from __future__ import annotations

import base64
import random

import pytest

from g1000_proofs.checkpoint import open_checkpoint
from g1000_proofs.errors import ProofError
from g1000_proofs.merkle import inclusion_proof, leaf_hash, root_from_leaves, verify_consistency, verify_inclusion
from g1000_proofs.tree_shape import consistency_proof_nodes, inclusion_proof_nodes
from services.core.outbox import republish
from services.core.runtime import create_service_app
from services.ledger.checkpoints import LogKey, cut_checkpoint
from services.ledger.errors import DamagedStoreError
from services.ledger.gaps import fill_gaps
from services.ledger.log import node_at, node_reader
from services.ledger.settings import load_ledger_settings
from tests.helpers import count, log_count, open_test_summit, running, superuser_transaction, wait_until
from tests.support.event_flow import build_log, consume, relay_of, topic

pytestmark = pytest.mark.integration


def agenda_seqs(ledger, summit) -> list[int]:
    with ledger.db.transaction() as conn:
        return [r[0] for r in conn.execute(
            "SELECT seq FROM log_entries WHERE summit_id = %s AND stream = 'agenda' ORDER BY idx", (summit,))]


def test_withheld_event_is_detected_republished_and_appended_in_order(pair):
    agenda, ledger = pair
    summit = open_test_summit(ledger)
    events = [agenda.store.append(summit, [topic(summit, f"t{i}")])[0] for i in range(1, 7)]
    with agenda.db.transaction() as conn:  # seq 3 "was sent" but never reached the broker
        conn.execute("UPDATE events SET published_at = now() WHERE event_id = %s", (events[2].event_id,))
    asked = []

    def republisher(stream, summit_id, from_seq):
        asked.append((stream, summit_id, from_seq))
        republish(agenda.db, stream, summit_id, from_seq)

    with running(relay_of(agenda).run), running(consume(ledger)):
        wait_until(lambda: count(ledger, "SELECT count(*) FROM log_pending") == 3, what="4..6 held at the gap")
        assert agenda_seqs(ledger, summit) == [1, 2]  # nothing after the gap was appended
        assert count(ledger, "SELECT from_seq FROM log_gaps WHERE summit_id = %s", summit) == 3
        assert fill_gaps(ledger.db, republisher) == 1
        wait_until(lambda: log_count(ledger, summit) == 6, what="the gap to be filled")
    assert asked == [("agenda", summit, 3)]
    assert agenda_seqs(ledger, summit) == [1, 2, 3, 4, 5, 6]
    assert count(ledger, "SELECT count(*) FROM log_pending") == 0
    assert count(ledger, "SELECT count(*) FROM log_gaps") == 0
    assert count(ledger, "SELECT count(*) FROM quarantine") == 0
    assert fill_gaps(ledger.db, republisher) == 0  # closed gaps are not asked for again


def hashes(body) -> list[bytes]:
    return [base64.b64decode(h) for h in body["hashes"]]


def mutations(proof: list[bytes], rng: random.Random):
    if proof:
        i = rng.randrange(len(proof))
        bit = rng.randrange(256)
        flipped = bytearray(proof[i])
        flipped[bit // 8] ^= 1 << (bit % 8)
        yield proof[:i] + [bytes(flipped)] + proof[i + 1:]
        yield proof[:-1]
    yield proof + [bytes(32)]


@pytest.mark.parametrize("n", [40, 3000])
def test_proofs_served_by_the_ledger_verify_and_mutations_fail(pair, n):
    agenda, ledger = pair
    summit, leaves = build_log(agenda, ledger, n)
    size = len(leaves)
    roots = {}

    def root(k: int) -> bytes:
        if k not in roots:
            roots[k] = root_from_leaves(leaves[:k])
        return roots[k]

    client = create_service_app(ledger).test_client()
    rng = random.Random(n)
    if size <= 64:  # every pair in a small tree
        inclusion_pairs = [(i, k) for k in range(1, size + 1) for i in range(k)]
        consistency_pairs = [(m, k) for k in range(1, size + 1) for m in range(1, k + 1)]
    else:
        inclusion_pairs = [(rng.randrange(k), k) for k in (rng.randrange(1, size + 1) for _ in range(150))]
        consistency_pairs = [(rng.randrange(1, k + 1), k) for k in (rng.randrange(1, size + 1) for _ in range(150))]
        inclusion_pairs += [(0, size), (size - 1, size), (size // 2, size)]
        consistency_pairs += [(1, size), (size - 1, size), (size, size), (1024, 2048)]
    for index, k in inclusion_pairs:
        r = client.get(f"/v1/logs/{summit}/proofs/inclusion?index={index}&tree_size={k}")
        assert r.status_code == 200, r.get_json()
        proof = hashes(r.get_json())
        verify_inclusion(leaves[index], index, k, proof, root(k))
        for bad in mutations(proof, rng):
            with pytest.raises(ProofError):
                verify_inclusion(leaves[index], index, k, bad, root(k))
    for m, k in consistency_pairs:
        r = client.get(f"/v1/logs/{summit}/proofs/consistency?first={m}&second={k}")
        assert r.status_code == 200, r.get_json()
        proof = hashes(r.get_json())
        verify_consistency(m, k, proof, root(m), root(k))
        for bad in mutations(proof, rng) if m != k else ():
            with pytest.raises(ProofError):
                verify_consistency(m, k, bad, root(m), root(k))


def test_node_reader_reads_what_node_at_reads_and_refuses_a_missing_node(pair):
    """`node_reader` (public: the proof views and bench/ledger.py use it) batches the reads of
    `node_at`: the same hash for every node a proof names, one read for a node it did not name,
    and DamagedStoreError for a node the store lacks."""
    agenda, ledger = pair
    summit, leaves = build_log(agenda, ledger, 40)
    size = len(leaves)
    specs = inclusion_proof_nodes(5, size) + consistency_proof_nodes(7, size)
    named = {(n.level, n.index) for spec in specs for n in (getattr(spec, "parts", None) or [spec])}
    assert any(level == 0 for level, _ in named) and any(level > 0 for level, _ in named)
    with ledger.db.transaction() as conn:
        get = node_reader(conn, summit, specs)
        for level, index in sorted(named):
            assert get(level, index) == node_at(conn, summit, level, index)
        assert get(0, size - 1) == leaves[size - 1]  # not named: read on demand
        assert inclusion_proof(5, size, get) == inclusion_proof(5, size, lambda lv, i: node_at(conn, summit, lv, i))
        with pytest.raises(DamagedStoreError):
            get(0, size + 10)


def test_checkpoints_are_signed_kept_and_match_the_tree(pair):
    agenda, ledger = pair
    summit, leaves = build_log(agenda, ledger, 50)
    settings = load_ledger_settings(ledger.config)
    key = LogKey.load(settings.log_key_file, settings.log_host)
    with ledger.db.transaction() as conn:
        assert cut_checkpoint(conn, key, summit)[0] == len(leaves)
        assert cut_checkpoint(conn, key, summit) is None  # one checkpoint per size
    client = create_service_app(ledger).test_client()
    vkey = client.get(f"/v1/logs/{summit}/key").get_data(as_text=True).strip()
    assert vkey.startswith(f"{settings.log_host}/g1000/{summit}+")
    note = client.get(f"/v1/logs/{summit}/checkpoint").get_data(as_text=True)
    cp = open_checkpoint(note, vkey)
    assert (cp.size, cp.root_hash) == (len(leaves), root_from_leaves(leaves))
    kept = client.get(f"/v1/logs/{summit}/checkpoints").get_json()["checkpoints"]
    assert kept == [{"tree_size": len(leaves), "note": note}]


def test_log_api_answers_bad_requests_with_problems(pair):
    agenda, ledger = pair
    summit, leaves = build_log(agenda, ledger, 5)
    client = create_service_app(ledger).test_client()
    n = len(leaves)
    cases = {
        f"/v1/logs/{summit}/proofs/inclusion?index={n}&tree_size={n}": 422,
        f"/v1/logs/{summit}/proofs/inclusion?index=0&tree_size={n + 1}": 400,
        f"/v1/logs/{summit}/proofs/inclusion?index=-1&tree_size=2": 422,
        f"/v1/logs/{summit}/proofs/inclusion?index=x&tree_size=2": 422,
        f"/v1/logs/{summit}/proofs/consistency?first=0&second=2": 422,
        f"/v1/logs/{summit}/proofs/consistency?first=3&second=2": 422,
        f"/v1/logs/{summit}/proofs/consistency?first=1&second={n + 1}": 400,
        f"/v1/logs/{summit}/entries?start=3&end=1": 422,
        "/v1/logs/00000000-0000-4000-8000-000000000000/entries?start=0&end=1": 404,
        "/v1/logs/00000000-0000-4000-8000-000000000000/checkpoint": 404,
        "/v1/logs/not-a-uuid/key": 404,
    }
    for url, status in cases.items():
        r = client.get(url)
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True))
        assert r.content_type == "application/problem+json", url
    page = client.get(f"/v1/logs/{summit}/entries?start=0&end=100000").get_json()["entries"]
    assert [e["index"] for e in page] == list(range(n))
    assert page[0]["event"]["type"] == "ledger.summit.created"


def test_http_republisher_reaches_the_producers_internal_endpoint(pair):
    import threading

    import requests
    from werkzeug.serving import make_server

    from services.ledger.gaps import HttpRepublisher

    agenda, ledger = pair
    summit = open_test_summit(ledger)
    for i in range(4):
        agenda.store.append(summit, [topic(summit, f"t{i}")])
    with agenda.db.transaction() as conn:
        conn.execute("UPDATE events SET published_at = now()")
    server = make_server("127.0.0.1", 0, create_service_app(agenda), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        token = (agenda.config.data_dir / "secrets" / "internal.token").read_text().strip()
        HttpRepublisher({"agenda": f"http://127.0.0.1:{server.server_port}"}, token)("agenda", summit, 3)
        with pytest.raises(requests.HTTPError, match="401"):  # without the credential the producer refuses
            HttpRepublisher({"agenda": f"http://127.0.0.1:{server.server_port}"}, "wrong-token-xxxxxxxxxx")(
                "agenda", summit, 1)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    with agenda.db.transaction() as conn:
        unpublished = [r[0] for r in conn.execute("SELECT seq FROM events WHERE published_at IS NULL ORDER BY seq")]
    assert unpublished == [3, 4]


def test_checkpoints_are_cut_every_n_entries_or_after_t_seconds(pair, database_server_url):
    from services.ledger.checkpoints import checkpoint_due_logs

    agenda, ledger = pair
    summit, leaves = build_log(agenda, ledger, 10)
    settings = load_ledger_settings(ledger.config)
    key = LogKey.load(settings.log_key_file, settings.log_host)

    def sizes() -> list[int]:
        with ledger.db.transaction() as conn:
            return [r[0] for r in conn.execute(
                "SELECT tree_size FROM log_checkpoints WHERE summit_id = %s ORDER BY tree_size", (summit,))]

    assert checkpoint_due_logs(ledger.db, key, every_entries=100, every_seconds=3600) >= 1  # first one: due
    assert sizes() == [len(leaves)]
    consumer = ledger.consumer()
    more = agenda.store.append(summit, [topic(summit, f"m{i}") for i in range(5)])
    consumer.process([(f"m:{e.seq}", e.body) for e in more])
    assert checkpoint_due_logs(ledger.db, key, every_entries=100, every_seconds=3600) == 0  # neither N nor T
    assert checkpoint_due_logs(ledger.db, key, every_entries=5, every_seconds=3600) == 1  # grew by N
    more = agenda.store.append(summit, [topic(summit, "laatste")])
    consumer.process([("m:last", more[0].body)])
    with superuser_transaction(ledger, database_server_url) as conn:  # the last checkpoint is old now
        conn.execute("UPDATE log_checkpoints SET created_at = now() - interval '1 hour' WHERE summit_id = %s",
                     (summit,))
    assert checkpoint_due_logs(ledger.db, key, every_entries=100, every_seconds=60) == 1  # grew, T passed
    assert sizes() == [len(leaves), len(leaves) + 5, len(leaves) + 6]
    assert checkpoint_due_logs(ledger.db, key, every_entries=1, every_seconds=0.1) == 0  # nothing new


def test_lost_tail_is_found_by_reconciliation_and_refilled(pair):
    from services.ledger.gaps import TailReconciler

    agenda, ledger = pair
    summit = open_test_summit(ledger)
    events = agenda.store.append(summit, [topic(summit, f"t{i}") for i in range(5)])
    consumer = ledger.consumer()
    consumer.process([(f"s:{e.seq}", e.body) for e in events[:2]])
    with agenda.db.transaction() as conn:  # 3..5 were sent, then the broker lost them
        conn.execute("UPDATE events SET published_at = now()")
    token = (agenda.config.data_dir / "secrets" / "internal.token").read_text().strip()
    client = create_service_app(agenda).test_client()

    def heads():
        response = client.get("/internal/outbox/heads", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        return response.get_json()["heads"]

    assert client.get("/internal/outbox/heads").status_code == 401
    reconciler = TailReconciler(ledger.db, heads)
    assert reconciler.run_once() == 0  # first sight: events may still be in flight
    consumer.process([("s:3", events[2].body)])
    assert reconciler.run_once() == 0  # the log moved: still not a lost tail
    assert reconciler.run_once() == 1  # behind at seq 4 twice with no progress: a gap
    assert count(ledger, "SELECT from_seq FROM log_gaps WHERE summit_id = %s", summit) == 4
    asked = []

    def republisher(stream, summit_id, from_seq):
        asked.append(from_seq)
        republish(agenda.db, stream, summit_id, from_seq)

    assert fill_gaps(ledger.db, republisher) == 1
    with running(relay_of(agenda).run), running(consume(ledger)):
        wait_until(lambda: log_count(ledger, summit) == 5, what="the lost tail")
    assert asked == [4] and agenda_seqs(ledger, summit) == [1, 2, 3, 4, 5]
    assert count(ledger, "SELECT count(*) FROM log_gaps") == 0
    assert reconciler.run_once() == 0 and reconciler.run_once() == 0  # caught up: nothing to do
