"""`GET /v1/summits/{summit_id}/heads`: the gateway gathers every producer's signed head directly
(issue 10 Build 7), and its readiness shows each service's outbox backlog (M5)."""

from __future__ import annotations

import uuid

import pytest

from g1000_proofs.heads import verify_head
from tests.integration.gateway_support import SUMMIT, UNREACHABLE

pytestmark = pytest.mark.integration


def _registered_keys(client, summit_id: str) -> dict:
    entries = client.get(f"/v1/logs/{summit_id}/entries?start=0&end=100").get_json()["entries"]
    return {e["event"]["payload"]["key_id"]: (e["event"]["payload"]["stream"],
                                              bytes.fromhex(e["event"]["payload"]["public_key"]))
            for e in entries if e["event"]["type"] == "ledger.key.registered"}


def test_heads_of_every_reachable_producer_verify_against_the_keys_the_log_registers(stack):
    client = stack.gateway().test_client()
    created = client.post("/v1/summits", json=SUMMIT, headers=stack.auth())
    assert created.status_code == 201, created.get_data(as_text=True)
    summit_id = created.get_json()["summit_id"]
    answer = client.get(f"/v1/summits/{summit_id}/heads")  # public: no token
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["summit_id"] == summit_id
    assert body["unavailable"] == []  # every producer of this stack answers
    keys = _registered_keys(client, summit_id)
    heads = {h["stream"]: verify_head(h, keys, summit_id) for h in body["heads"]}
    assert set(heads) == {"ledger", "agenda", "lottery", "ballot"}
    with stack.ledger.db.transaction() as conn:
        (ledger_events,) = conn.execute("SELECT count(*) FROM events WHERE summit_id = %s",
                                        (summit_id,)).fetchone()
    assert heads["ledger"].last_seq == ledger_events >= 2  # the charter and the key registrations
    assert heads["agenda"].last_seq == heads["lottery"].last_seq == heads["ballot"].last_seq == 0


def test_heads_of_an_unknown_summit_are_404_problems(stack):
    client = stack.gateway().test_client()
    answer = client.get(f"/v1/summits/{uuid.uuid4()}/heads")
    assert answer.status_code == 404 and answer.content_type == "application/problem+json"
    assert client.post(f"/v1/summits/{uuid.uuid4()}/heads").status_code == 405


def test_gateway_readiness_reports_each_services_outbox(stack):
    stack.upstreams["ballot"] = UNREACHABLE
    answer = stack.gateway().test_client().get("/readyz")
    assert answer.status_code == 503  # the ballot upstream is unreachable here
    body = answer.get_json()
    assert body["outbox"]["ballot"] is None
    assert body["outbox"]["agenda"] == {"unpublished": 0, "oldest_seconds": 0}
    assert set(body["outbox"]) == {"ledger", "agenda", "lottery", "ballot"}


def test_the_ledger_reports_its_logs_lag_behind_the_producers_heads(stack):
    """The ledger's /readyz and /metrics apply the verifier's rule (g1000_proofs.heads.lag) to
    what its producers have recorded and what its logs hold."""
    from services.core.runtime import create_service_app
    from services.ledger.lag import summed_lag

    client = stack.gateway().test_client()
    summit_id = client.post("/v1/summits", json=SUMMIT, headers=stack.auth()).get_json()["summit_id"]
    with stack.ledger.db.transaction() as conn:
        # the agenda has recorded 3 events the log has not received; the ledger's own are all in
        lagging = summed_lag(conn, [{"stream": "agenda", "summit_id": summit_id, "last_seq": 3},
                                    {"stream": "agenda", "summit_id": str(uuid.uuid4()), "last_seq": 9}])
    assert lagging == {"agenda": {"behind": 3, "summits_behind": 1}}  # a summit with no log is skipped
    ledger = create_service_app(stack.ledger).test_client()
    ready = ledger.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["log_lag"] == {"ledger": {"behind": 0, "summits_behind": 0}}
    metrics = ledger.get("/metrics").get_data(as_text=True)
    assert 'g1000_log_behind_events{stream="ledger"} 0.0' in metrics
    assert 'g1000_outbox_unpublished_events{service="ledger"}' in metrics
