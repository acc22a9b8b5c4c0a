"""Errors that say what happened (issue 12, item 4), against the real gateway and the services
behind it: the right status for each bad input, the view's own message, and never a framework's
stock text. Each case was an answer a newcomer got before the fix (issue 12, "Why" 4)."""

from __future__ import annotations

import io
import json
import uuid

import pytest

from services.core import problem_types
from services.core.bodylimits import DEFAULT_BODY_BYTES, REGISTER_BODY_BYTES, body_limit
from services.lottery.extract import MAX_TEXT_CHARS
from services.core.runtime import create_service_app
from tests.helpers import vouching_client
from tests.integration.gateway_support import SUMMIT

pytestmark = pytest.mark.integration

STOCK = ("The browser (or proxy)", "The requested URL was not found on the server",
         "The method is not allowed", "The server does not support the media type",
         "The data value transmitted exceeds", "The request was well-formed but")


def _problem(response, status: int) -> dict:
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.content_type == "application/problem+json", text
    body = response.get_json()
    assert {"type", "title", "status", "detail", "request_id"} <= set(body), body
    assert body["status"] == status and body["detail"]
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert not [phrase for phrase in STOCK if phrase in text], text
    assert problem_types.slug_of(body["type"]) is not None, body   # a documented kind (issue 12, item 3)
    return body


def _summit(client, stack) -> str:
    response = client.post("/v1/summits", json=SUMMIT, headers=stack.auth())
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["summit_id"]


def test_json_sent_as_text_plain_is_415_at_the_gateway_and_at_a_service(stack):
    client = stack.gateway().test_client()
    body = json.dumps(SUMMIT)
    at_service = client.post("/v1/summits", data=body, content_type="text/plain", headers=stack.auth())
    assert "application/json" in _problem(at_service, 415)["detail"]
    at_gateway = client.post("/v1/auth/check-in", data='{"code": "0000-0000-0000-0000"}', content_type="text/plain")
    assert "application/json" in _problem(at_gateway, 415)["detail"]


def test_a_post_without_its_body_says_a_json_body_is_needed(stack):
    client = stack.gateway().test_client()
    for path, headers in (("/v1/summits", stack.auth()), ("/v1/auth/check-in", {})):
        answer = _problem(client.post(path, headers=headers), 400)
        assert "JSON body" in answer["detail"]


def test_an_unknown_check_in_code_keeps_the_views_own_message(stack):
    client = stack.gateway().test_client()
    answer = _problem(client.post("/v1/auth/check-in", json={"code": "0000-0000-0000-0000"}), 404)
    assert "no such resource" not in answer["detail"]
    assert "code" in answer["detail"]


def test_a_used_check_in_code_keeps_the_views_own_409(stack):
    client = stack.gateway().test_client()
    summit = _summit(client, stack)
    stack.announce(summit)
    made = client.post(f"/v1/summits/{summit}/check-in-codes", json={"participants": stack.seat(summit, 1)},
                       headers=stack.auth())
    assert made.status_code == 201, made.get_data(as_text=True)
    (code,) = (c["code"] for c in made.get_json()["codes"])
    assert client.post("/v1/auth/check-in", json={"code": code}).status_code == 201
    answer = _problem(client.post("/v1/auth/check-in", json={"code": code}), 409)
    assert "used" in answer["detail"], answer


def test_a_services_own_404_survives_through_the_gateway(stack):
    client = stack.gateway().test_client()
    summit = _summit(client, stack)
    stack.announce(summit)
    answer = _problem(client.get(f"/v1/summits/{summit}/lottery/register"), 404)
    assert "has no register yet" in answer["detail"]


def test_a_summit_id_that_is_not_a_uuid_is_a_404_saying_so(stack):
    client = stack.gateway().test_client()
    for path in ("/v1/summits/not-a-uuid", "/v1/summits/not-a-uuid/lottery/register"):
        answer = _problem(client.get(path), 404)
        assert "not-a-uuid" in answer["detail"] and "not a UUID" in answer["detail"], answer


def test_malformed_json_is_400_saying_it_is_not_json(stack):
    client = stack.gateway().test_client()
    for path, headers in (("/v1/summits", stack.auth()), ("/v1/auth/check-in", {})):
        answer = _problem(client.post(path, data=b'{"theme": ', content_type="application/json",
                                      headers=headers), 400)
        assert "not valid JSON" in answer["detail"] and "char" in answer["detail"], answer


def test_the_limits_are_declared_once_per_route():
    assert body_limit("POST", "/v1/summits") == DEFAULT_BODY_BYTES == 1024 * 1024
    assert body_limit("POST", f"/v1/summits/{uuid.uuid4()}/lottery/register") == REGISTER_BODY_BYTES
    assert REGISTER_BODY_BYTES == MAX_TEXT_CHARS  # the register's text limit is the body limit


def test_a_body_over_the_routes_limit_is_413_before_parsing(stack, monkeypatch):
    from services.core import jsonbody

    parsed = []
    real = jsonbody.parse_body
    monkeypatch.setattr(jsonbody, "parse_body", lambda data: parsed.append(len(data)) or real(data))
    client = stack.gateway().test_client()
    big = b'{"theme": "' + b"x" * (20 * 1024 * 1024) + b'", "seats": 3}'
    answer = _problem(client.post("/v1/summits", data=big, content_type="application/json",
                                  headers=stack.auth()), 413)
    assert str(DEFAULT_BODY_BYTES) in answer["detail"]
    answer = _problem(client.post("/v1/auth/check-in", data=big, content_type="application/json"), 413)
    assert str(DEFAULT_BODY_BYTES) in answer["detail"]
    assert not [n for n in parsed if n > DEFAULT_BODY_BYTES]  # (the small ones: the answers, read here)
    # the register upload takes more than the JSON default: past 1 MiB it is not refused for size
    summit = _summit(client, stack)
    stack.announce(summit)
    register = json.dumps({"csv": "x" * (2 * DEFAULT_BODY_BYTES)})
    accepted = client.post(f"/v1/summits/{summit}/lottery/register", data=register,
                           content_type="application/json", headers=stack.auth())
    assert accepted.status_code != 413, accepted.get_data(as_text=True)


def test_a_body_over_the_limit_is_413_at_a_service_too(stack):
    """A service enforces the same limits itself, should a request reach it past the gateway."""
    ledger = vouching_client(create_service_app(stack.ledger), stack.env)
    big = b'{"theme": "' + b"x" * (DEFAULT_BODY_BYTES + 10) + b'"}'
    response = ledger.post("/v1/summits", data=big, content_type="application/json", headers=stack.auth())
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert str(DEFAULT_BODY_BYTES) in response.get_json()["detail"]


def test_a_streamed_body_over_the_limit_is_413(stack):
    """Without Content-Length (chunked), reading stops at the route's limit."""
    client = stack.gateway().test_client()
    big = b'{"theme": "' + b"x" * (DEFAULT_BODY_BYTES + 10) + b'"}'
    response = client.post("/v1/summits", input_stream=io.BytesIO(big), content_type="application/json",
                           headers=stack.auth() | {"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.request.content_length is None
    answer = _problem(response, 413)
    assert str(DEFAULT_BODY_BYTES) in answer["detail"]
    assert stack.gate.posts == 0


BAD_REQUESTS = [
    ("GET", "/v1/nowhere", {}, 404),
    ("GET", "/nowhere", {}, 404),
    ("DELETE", "/v1/summits", {}, 405),
    ("POST", "/healthz", {}, 405),
    ("POST", "/v1/summits", {"data": b"{nope", "content_type": "application/json"}, 400),
    ("POST", "/v1/summits", {"data": json.dumps(SUMMIT), "content_type": "text/plain"}, 415),
    ("POST", "/v1/summits", {"data": b"[" + b" " * (2 * 1024 * 1024) + b"]", "content_type": "application/json"}, 413),
    ("GET", "/v1/summits/12345", {}, 404),
    ("GET", f"/v1/logs/{uuid.uuid4()}/entries?start=many&end=1", {}, 422),
    ("POST", "/v1/summits", {"json": {"theme": 5}}, 422),
]


@pytest.mark.parametrize("method,path,kwargs,status", BAD_REQUESTS)
def test_no_framework_text_reaches_a_client(stack, method, path, kwargs, status):
    client = stack.gateway().test_client()
    response = client.open(path, method=method, headers=stack.auth(), **kwargs)
    answer = _problem(response, status)
    if status == 422:
        assert answer.get("errors"), answer
