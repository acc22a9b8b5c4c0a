"""The check-in records the participant's arrival at the ballot before it uses the code, so an
accepted check-in is never without its `ballot.participant.arrived` (the roll of later ballots),
and a ballot that cannot record it makes the check-in a 503 with the code still unused.

Real ledger, agenda, lottery and ballot services behind a real gateway (gateway_support.py)."""

from __future__ import annotations

import pytest

from tests.integration.gateway_support import UNREACHABLE
from tests.support.gateway_calls import codes, new_summit

pytestmark = pytest.mark.integration


def arrivals(stack, summit: str) -> list[str]:
    return [e.payload["pseudonym"] for e in stack.ballot.store.read_stream(summit)
            if e.type == "ballot.participant.arrived"]


def used(stack, participant: str) -> list:
    return [r[0] is not None for r in stack.gateway_rows(
        "SELECT used_at FROM check_in_codes WHERE participant = %s ORDER BY created_at", participant)]


def test_a_check_in_records_the_arrival_once(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    alice, bob = stack.seat(summit, 2)
    code_alice, code_bob = codes(client, stack.token, summit, [alice, bob])
    assert arrivals(stack, summit) == []
    assert client.post("/v1/auth/check-in", json={"code": code_alice}).status_code == 201
    assert arrivals(stack, summit) == [alice]
    assert client.post("/v1/auth/check-in", json={"code": code_alice}).status_code == 409   # used
    (again,) = codes(client, stack.token, summit, [alice])   # a lost phone: a new code, same person
    assert client.post("/v1/auth/check-in", json={"code": again}).status_code == 201
    assert client.post("/v1/auth/check-in", json={"code": code_bob}).status_code == 201
    assert arrivals(stack, summit) == [alice, bob]


def test_a_ballot_that_cannot_record_the_arrival_makes_the_check_in_503_and_the_code_stays_unused(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    (alice,) = stack.seat(summit, 1)
    (code,) = codes(client, stack.token, summit, [alice])
    reachable = stack.upstreams["ballot"]
    stack.upstreams["ballot"] = UNREACHABLE
    down = stack.gateway().test_client()
    refused = down.post("/v1/auth/check-in", json={"code": code})
    assert refused.status_code == 503 and refused.content_type == "application/problem+json"
    assert used(stack, alice) == [False] and arrivals(stack, summit) == []
    assert stack.gateway_rows("SELECT count(*) FROM issued_tokens WHERE subject = %s", alice) == [(0,)]
    stack.upstreams["ballot"] = reachable
    assert client.post("/v1/auth/check-in", json={"code": code}).status_code == 201
    assert used(stack, alice) == [True] and arrivals(stack, summit) == [alice]


def test_an_unknown_code_asks_the_ballot_nothing(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    assert client.post("/v1/auth/check-in", json={"code": "7K2M-Q9XD-4HTV-C1RB"}).status_code == 404
    assert arrivals(stack, summit) == []


def test_the_arrival_endpoint_is_not_reachable_through_the_gateway_or_without_its_vouch(stack):
    from services.core.runtime import create_service_app

    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    assert client.post(f"/internal/summits/{summit}/arrivals", json={"pseudonym": "p-1"}).status_code == 404
    direct = create_service_app(stack.ballot).test_client()
    refused = direct.post(f"/internal/summits/{summit}/arrivals", json={"pseudonym": "p-1"})
    assert refused.status_code == 401 and refused.content_type == "application/problem+json"
    assert arrivals(stack, summit) == []
