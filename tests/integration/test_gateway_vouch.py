"""Revocation everywhere (issue 10, M1): a request that reaches a service port directly, without
the gateway, cannot act — not with a revoked token, not with a valid one, and not by replaying a
vouch the gateway once gave. So rate limits and idempotency cannot be skipped that way either.

Real ledger, agenda and lottery services served over HTTP behind a real gateway (gateway_support.py).
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from gateway.app import token_signer
from gateway.settings import load_gateway_settings
from services.core.vouch import HEADER, sign_vouch
from tests.integration.gateway_support import SUMMIT

pytestmark = pytest.mark.integration

TOPIC = {"title": "Groen", "description": "Meer bomen in de wijk."}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def ledger_summits(stack) -> int:
    with stack.ledger.db.transaction() as conn:
        return conn.execute("SELECT count(*) FROM events WHERE type = 'ledger.summit.created'").fetchone()[0]


def direct(stack, service: str, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else b""
    return requests.request(method, stack.upstreams[service] + path, data=data, timeout=10,
                            headers={"Content-Type": "application/json", **(headers or {})})


def vouch(stack, method: str, path: str, body: dict | None, token_id: str | None, now: float | None = None) -> dict:
    """A vouch as the gateway signs it (what an attacker could capture on the wire)."""
    signer = token_signer(load_gateway_settings(stack.env))
    data = json.dumps(body).encode() if body is not None else b""
    return {HEADER: sign_vouch(signer, method=method, target=path, body=data, token_id=token_id,
                               now=time.time() if now is None else now)}


def refused(response) -> bool:
    return response.status_code == 401 and response.headers["Content-Type"] == "application/problem+json"


def test_a_revoked_token_cannot_act_directly_at_a_service(stack):
    client = stack.gateway().test_client()
    organiser = stack.credentials().issue(role="organiser", tenant="Teststad", subject="org-m1", issued_by="admin")
    created = client.post("/v1/summits", json=SUMMIT, headers=bearer(organiser.token))
    assert created.status_code == 201
    summit = created.get_json()["summit_id"]
    stack.announce(summit)
    facilitator = client.post(f"/v1/summits/{summit}/tokens", json={"role": "facilitator"},
                              headers=bearer(organiser.token)).get_json()
    topics = f"/v1/summits/{summit}/topics"
    assert client.post(topics, json=TOPIC, headers=bearer(facilitator["token"])).status_code == 201
    before_topics, before_summits = stack.agenda_count(summit), ledger_summits(stack)

    for token_id in (facilitator["token_id"], organiser.claims.token_id):
        assert client.delete(f"/v1/auth/tokens/{token_id}", headers=stack.auth()).status_code == 200
    # the revoked tokens, straight at the service ports: refused, and nothing is logged
    assert refused(direct(stack, "agenda", "POST", topics, TOPIC, bearer(facilitator["token"])))
    assert refused(direct(stack, "ledger", "POST", "/v1/summits", SUMMIT, bearer(organiser.token)))
    # ... and through the gateway as before
    assert client.post(topics, json=TOPIC, headers=bearer(facilitator["token"])).status_code == 401
    assert stack.agenda_count(summit) == before_topics and ledger_summits(stack) == before_summits


def test_a_valid_token_without_the_gateway_is_refused_too(stack):
    """Rate limits and idempotency live in the gateway: a live token does not skip them either."""
    client = stack.gateway().test_client()
    summit = client.post("/v1/summits", json=SUMMIT, headers=stack.auth()).get_json()["summit_id"]
    stack.announce(summit)
    before = ledger_summits(stack)
    answer = direct(stack, "ledger", "POST", "/v1/summits", SUMMIT, stack.auth())
    assert refused(answer) and "gateway" in answer.json()["detail"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused(direct(stack, "agenda", "POST", f"/v1/summits/{summit}/topics", TOPIC, stack.auth()))
    # a public action that changes state (the invitation code is the credential) needs the vouch too
    respondent = {"code": "0000-0000-0000", "consent": True}
    assert refused(direct(stack, "lottery", "POST", f"/v1/summits/{summit}/lottery/respondents", respondent))
    # public reads stay open
    assert direct(stack, "ledger", "GET", f"/v1/summits/{summit}").status_code == 200
    assert ledger_summits(stack) == before and stack.agenda_count(summit) == 0


def test_a_captured_vouch_cannot_be_replayed_or_reused(stack):
    client = stack.gateway().test_client()
    summit = client.post("/v1/summits", json=SUMMIT, headers=stack.auth()).get_json()["summit_id"]
    stack.announce(summit)
    facilitator = client.post(f"/v1/summits/{summit}/tokens", json={"role": "facilitator"},
                              headers=stack.auth()).get_json()
    path, token = f"/v1/summits/{summit}/topics", facilitator["token"]
    captured = vouch(stack, "POST", path, TOPIC, facilitator["token_id"])
    assert direct(stack, "agenda", "POST", path, TOPIC, bearer(token) | captured).status_code == 201
    assert stack.agenda_count(summit) == 1
    replayed = direct(stack, "agenda", "POST", path, TOPIC, bearer(token) | captured)
    assert refused(replayed) and "used before" in replayed.json()["detail"]
    # another body, another path, another token, a stale or a forged vouch: refused as well
    other = TOPIC | {"title": "Anders"}
    fresh = vouch(stack, "POST", path, TOPIC, facilitator["token_id"])
    assert refused(direct(stack, "agenda", "POST", path, other, bearer(token) | fresh))
    assert refused(direct(stack, "agenda", "POST", path, TOPIC, stack.auth() | fresh))
    assert refused(direct(stack, "agenda", "POST", path + "?x=1", TOPIC, bearer(token) | fresh))
    stale = vouch(stack, "POST", path, TOPIC, facilitator["token_id"], now=time.time() - 120)
    assert refused(direct(stack, "agenda", "POST", path, TOPIC, bearer(token) | stale))
    forged = fresh[HEADER][:-4] + ("AAAA" if not fresh[HEADER].endswith("AAAA") else "BBBB")
    assert refused(direct(stack, "agenda", "POST", path, TOPIC, bearer(token) | {HEADER: forged}))
    # the vouch is the gateway's alone: a client's own header is replaced when it passes
    through = client.post(path, json=TOPIC, headers=bearer(token) | captured)
    assert through.status_code == 201
    assert stack.agenda_count(summit) == 2
