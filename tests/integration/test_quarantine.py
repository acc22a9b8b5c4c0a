"""Events that fail verification or poison their handler are quarantined with a reason, never
applied, never retried forever, and never block the events behind them."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from kafka import KafkaProducer
from psycopg import sql

from services.core.consumer import EventConsumer, quarantined
from services.core.envelope import sign_event
from services.core.event_catalog import CATALOG
from services.core.provision import url_user
from services.core.runtime import create_service_app
from services.core.signing import Signer, load_signer
from tests.helpers import caught_up, count, log_count, open_test_summit, running, runtime_for, wait_until
from tests.support.event_flow import consume

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(service_env):
    runtime_for("agenda", service_env).db.close()  # creates the agenda key the ledger trusts
    rt = runtime_for("ledger", service_env)
    yield rt
    rt.db.close()


def nomination(signer: Signer, summit: str, title: str, seq: int = 1, stream: str = "agenda"):
    return sign_event(signer, type=f"{stream}.topic.nominated", summit_id=summit, stream=stream, seq=seq,
                      payload={"v": 1, "topic_id": str(uuid.uuid4()), "title": title, "description": ""})


def test_tampered_and_forged_events_are_quarantined_with_reasons(ledger):
    agenda_key = load_signer(ledger.config.trusted_keys_dir / "agenda.key")
    summit = open_test_summit(ledger)
    good = nomination(agenda_key, summit, "Groen in de wijk", seq=1)
    tampered = good.body.replace(b"Groen", b"Groem")  # one byte changed, still canonical JSON
    assert tampered != good.body and len(tampered) == len(good.body)
    stranger = nomination(Signer.generate(), summit, "Niet van ons", seq=2)
    wrong_stream = nomination(load_signer(ledger.config.key_file), summit, "Ledger doet alsof", seq=2)
    not_canonical = json.dumps(json.loads(nomination(agenda_key, summit, "Spaties", seq=2).body), indent=1).encode()
    last = nomination(agenda_key, summit, "Na de rommel", seq=2)

    producer = KafkaProducer(bootstrap_servers=ledger.config.kafka_bootstrap, acks="all")
    for body in (tampered, b"\xff not json", stranger.body, wrong_stream.body, not_canonical, good.body, last.body):
        producer.send(ledger.config.topic_names["agenda"], key=summit.encode(), value=body).get(timeout=30)
    producer.close()

    with running(consume(ledger)):
        wait_until(lambda: log_count(ledger, summit) == 2, what="the good events")
        wait_until(lambda: caught_up(ledger), what="the whole topic")
    reasons = {q["reason"] for q in quarantined(ledger.db)}
    assert len(reasons) == 5, reasons
    assert "signature does not verify" in reasons
    assert any("not valid UTF-8 JSON" in r for r in reasons)
    assert any("is not registered" in r for r in reasons)
    assert any("is registered for stream 'ledger', not 'agenda'" in r for r in reasons)
    assert "event bytes are not in RFC 8785 canonical form" in reasons
    tampered_row = next(q for q in quarantined(ledger.db) if q["reason"] == "signature does not verify")
    assert tampered_row["event_id"] == good.event_id and tampered_row["source"].startswith(ledger.config.topic_prefix)

    # operators read the quarantine over HTTP (with a credential only)
    client = create_service_app(ledger).test_client()
    assert client.get("/internal/quarantine").status_code == 401
    token = (ledger.config.data_dir / "secrets" / "internal.token").read_text().strip()
    listed = client.get("/internal/quarantine", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert {q["reason"] for q in listed["quarantine"]} == reasons


def test_poison_event_is_retried_a_bounded_number_of_times_then_quarantined(ledger):
    agenda_key = load_signer(ledger.config.trusted_keys_dir / "agenda.key")
    summit = str(uuid.uuid4())
    events = [nomination(agenda_key, summit, t, seq=i + 1) for i, t in enumerate(["een", "gif", "drie"])]
    calls = []

    def handler(conn, event):
        calls.append(event.payload["title"])
        if event.payload["title"] == "gif":
            raise ValueError("cannot apply this one")
        conn.execute("INSERT INTO poison_effects (event_id) VALUES (%s)", (event.event_id,))

    with psycopg.connect(ledger.config.migration_url) as conn:  # a scratch table: the owner makes it
        conn.execute("CREATE TABLE poison_effects (event_id uuid PRIMARY KEY)")
        conn.execute(sql.SQL("GRANT SELECT, INSERT ON poison_effects TO {}").format(
            sql.Identifier(url_user(ledger.db.url))))
    consumer = EventConsumer(ledger.db, "poison-test", ledger.keyring, CATALOG, handler)
    outcome = consumer.process([(f"t:0:{i}", e.body) for i, e in enumerate(events)])
    assert (outcome.applied, outcome.quarantined) == (2, 1)
    assert calls.count("gif") == 3
    (row,) = quarantined(ledger.db, "poison-test")
    assert row["event_id"] == events[1].event_id
    assert row["reason"] == "handler failed after 3 attempts: ValueError: cannot apply this one"
    # the same poison delivered again is not quarantined twice; good events are not applied twice
    again = consumer.process([(f"t:0:{i + 3}", e.body) for i, e in enumerate(events)])
    assert (again.applied, again.duplicates) == (0, 2)
    assert len(quarantined(ledger.db, "poison-test")) == 1
    assert count(ledger, "SELECT count(*) FROM poison_effects") == 2


def test_reused_event_id_with_other_content_is_quarantined_as_forgery(ledger):
    agenda_key = load_signer(ledger.config.trusted_keys_dir / "agenda.key")
    summit = open_test_summit(ledger)
    first = nomination(agenda_key, summit, "origineel")
    twin = sign_event(agenda_key, type=first.type, summit_id=summit, stream="agenda", seq=1,
                      payload=dict(first.payload, title="vervalst"), event_id=first.event_id)
    consumer = ledger.consumer()
    assert consumer.process([("a", first.body)]).applied == 1
    assert consumer.process([("b", twin.body)]).quarantined == 1
    (row,) = quarantined(ledger.db)
    assert row["reason"] == "event_id already processed with different content"
