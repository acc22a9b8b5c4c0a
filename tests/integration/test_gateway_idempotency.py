"""Idempotency-Key on POST through the gateway, against a real ledger over HTTP and the gateway's
own database: a retry replays the first answer and the ledger records one summit; the same key
with another body is 422; a duplicate while the first is in flight is 409 with Retry-After."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import count, wait_until
from tests.integration.gateway_support import SUMMIT

pytestmark = pytest.mark.integration


def summits(stack) -> int:
    return count(stack.ledger, "SELECT count(*) FROM summits")


def test_retry_with_the_same_key_returns_the_first_summit(stack):
    client = stack.gateway().test_client()
    headers = stack.auth() | {"Idempotency-Key": "create-summit-1"}
    first = client.post("/v1/summits", json=SUMMIT, headers=headers)
    assert first.status_code == 201, first.get_data(as_text=True)
    second = client.post("/v1/summits", json=SUMMIT, headers=headers)
    assert second.status_code == 201
    assert second.get_json()["summit_id"] == first.get_json()["summit_id"]
    assert second.content_type == first.content_type == "application/json"
    assert second.get_data() == first.get_data()
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert stack.gate.posts == 1 and summits(stack) == 1
    listed = client.get("/v1/summits").get_json()["summits"]
    assert [s["summit_id"] for s in listed] == [first.get_json()["summit_id"]]


def test_without_a_key_every_post_is_forwarded(stack):
    client = stack.gateway().test_client()
    assert client.post("/v1/summits", json=SUMMIT, headers=stack.auth()).status_code == 201
    assert client.post("/v1/summits", json=SUMMIT, headers=stack.auth()).status_code == 201
    assert summits(stack) == 2


def test_the_key_is_scoped_by_caller_and_path(stack):
    client = stack.gateway().test_client()
    key = {"Idempotency-Key": "shared"}
    first = client.post("/v1/summits", json=SUMMIT, headers=stack.auth() | key)
    assert first.status_code == 201
    anonymous = client.post("/v1/summits", json=SUMMIT, headers=key)  # another caller: not a replay
    assert anonymous.status_code == 401 and anonymous.content_type == "application/problem+json"
    other = client.post("/v1/summits", json=SUMMIT, headers={"Authorization": f"Bearer {stack.issue()}"} | key)
    assert other.status_code == 201 and other.get_json()["summit_id"] != first.get_json()["summit_id"]
    assert stack.gate.posts == 2 and summits(stack) == 2


def test_same_key_with_another_body_is_422(stack):
    client = stack.gateway().test_client()
    headers = stack.auth() | {"Idempotency-Key": "k-422"}
    assert client.post("/v1/summits", json=SUMMIT, headers=headers).status_code == 201
    other = client.post("/v1/summits", json=SUMMIT | {"theme": "Anders"}, headers=headers)
    assert other.status_code == 422 and other.content_type == "application/problem+json"
    assert "Idempotency-Key" in other.get_json()["detail"]
    assert stack.gate.posts == 1 and summits(stack) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_malformed_keys_are_400(stack, key):
    client = stack.gateway().test_client()
    response = client.post("/v1/summits", json=SUMMIT, headers=stack.auth() | {"Idempotency-Key": key})
    assert response.status_code == 400 and response.content_type == "application/problem+json"
    assert stack.gate.posts == 0


def test_a_255_character_sf_string_key_is_accepted(stack):
    client = stack.gateway().test_client()
    key = '"' + "k" * 255 + '"'
    assert client.post("/v1/summits", json=SUMMIT, headers=stack.auth() | {"Idempotency-Key": key}).status_code == 201
    assert client.post("/v1/summits", json=SUMMIT, headers=stack.auth() | {"Idempotency-Key": "k" * 255}).status_code == 201
    assert summits(stack) == 1  # the quoted and the bare form are the same key


def test_duplicate_while_in_flight_is_409_then_replayed(stack):
    app = stack.gateway()
    headers = stack.auth() | {"Idempotency-Key": "slow"}
    stack.gate.closed = True
    first: dict = {}

    def send():
        first["response"] = app.test_client().post("/v1/summits", json=SUMMIT, headers=headers)

    thread = threading.Thread(target=send)
    thread.start()
    assert stack.gate.entered.wait(30), "the first request never reached the ledger"
    duplicate = app.test_client().post("/v1/summits", json=SUMMIT, headers=headers)
    assert duplicate.status_code == 409 and duplicate.content_type == "application/problem+json"
    assert int(duplicate.headers["Retry-After"]) >= 1
    stack.gate.release.set()
    thread.join(30)
    assert first["response"].status_code == 201
    again = app.test_client().post("/v1/summits", json=SUMMIT, headers=headers)
    assert again.status_code == 201
    assert again.get_json()["summit_id"] == first["response"].get_json()["summit_id"]
    assert stack.gate.posts == 1 and summits(stack) == 1


def test_unreachable_service_releases_the_key(stack):
    upstreams = dict(stack.upstreams, ledger="http://127.0.0.1:9")
    from gateway.app import create_app

    gateway = stack.gateway()  # opens (and migrates) the database
    down = create_app(upstreams, env=stack.env, database=stack.databases[0]).test_client()
    headers = stack.auth() | {"Idempotency-Key": "retry-after-outage"}
    failed = down.post("/v1/summits", json=SUMMIT, headers=headers)
    assert failed.status_code == 502 and failed.content_type == "application/problem+json"
    assert gateway.test_client().post("/v1/summits", json=SUMMIT, headers=headers).status_code == 201
    assert summits(stack) == 1


def test_a_timed_out_post_keeps_its_key_claimed(stack):
    """After a 504 the service may still do the work: a retry must not be forwarded a second time."""
    from gateway.app import create_app

    stack.gateway()  # opens (and migrates) the database
    impatient = create_app(stack.upstreams, env=stack.env, database=stack.databases[0], timeout=0.5).test_client()
    headers = stack.auth() | {"Idempotency-Key": "slow-service"}
    stack.gate.closed = True
    timed_out = impatient.post("/v1/summits", json=SUMMIT, headers=headers)
    assert timed_out.status_code == 504 and timed_out.content_type == "application/problem+json"
    retry = impatient.post("/v1/summits", json=SUMMIT, headers=headers)
    assert retry.status_code == 409 and retry.headers["Retry-After"] == "1"
    stack.gate.release.set()
    wait_until(lambda: summits(stack) == 1, 30, "the slow request to finish")
    assert stack.gate.posts == 1


def test_expired_keys_are_taken_over_and_cleaned_up(stack):
    client = stack.gateway().test_client()
    headers = stack.auth() | {"Idempotency-Key": "old"}
    first = client.post("/v1/summits", json=SUMMIT, headers=headers).get_json()["summit_id"]
    expiry = stack.gateway_rows("SELECT expires_at - created_at FROM idempotency_keys")[0][0]
    assert expiry.total_seconds() == 24 * 3600
    stack.gateway_rows("UPDATE idempotency_keys SET expires_at = now() - interval '1 s' RETURNING 1")
    second = client.post("/v1/summits", json=SUMMIT, headers=headers).get_json()["summit_id"]
    assert second != first and summits(stack) == 2  # an expired key is a new key

    from gateway.idempotency import IdempotencyStore

    stack.gateway_rows("UPDATE idempotency_keys SET expires_at = now() - interval '1 s' RETURNING 1")
    assert IdempotencyStore(stack.databases[0], 86400).delete_expired() == 1
    assert stack.gateway_rows("SELECT count(*) FROM idempotency_keys")[0][0] == 0


def test_stored_answers_hold_no_credentials_in_the_clear(stack):
    """A replayed POST that made check-in codes returns them again; the table cannot show them."""
    client = stack.gateway().test_client()
    summit = client.post("/v1/summits", json=SUMMIT, headers=stack.auth()).get_json()["summit_id"]
    stack.announce(summit)
    seated = stack.seat(summit, 2)
    headers = stack.auth() | {"Idempotency-Key": "4b1d6c1e-8f0a-4c55-9d2b-codes"}
    first = client.post(f"/v1/summits/{summit}/check-in-codes", json={"participants": seated}, headers=headers)
    again = client.post(f"/v1/summits/{summit}/check-in-codes", json={"participants": seated}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.get_data() == again.get_data()
    codes = [c["code"] for c in first.get_json()["codes"]]
    rows = stack.gateway_rows("SELECT key, response_headers, response_body FROM idempotency_keys")
    stored = repr(rows)
    assert len(rows) == 1 and "4b1d6c1e" not in stored and rows[0][1] is None
    assert all(code.encode() not in bytes(rows[0][2]) and code not in stored for code in codes)
    assert stack.gateway_rows("SELECT count(*) FROM check_in_codes WHERE summit_id = %s", summit) == [(2,)]
