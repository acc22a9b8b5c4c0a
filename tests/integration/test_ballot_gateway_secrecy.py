"""The gateway keeps nothing of who cast a vote or fetched its receipt (docs/ballot.md, "Secrecy";
gateway/unlinked.py): no address or time in the access log, the rate-limit counters or the
idempotency records, no token accepted, and nothing identifying forwarded to the ballot service.

The ballot service here is a recording stand-in (it answers as the contract says and keeps every
request it got), so these tests pin the gateway's side whatever the service does.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.integration.gateway_support import serve

ADDRESS = "203.0.113.77"
NULLIFIER = "ab" * 32


class RecordingBallot:
    """WSGI stand-in for the ballot service: answers casts 202 and receipts `pending`."""

    def __init__(self):
        self.requests: list[dict] = []

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.requests.append({"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"], "body": body,
                              "headers": {k: v for k, v in environ.items() if k.startswith("HTTP_")}})
        if environ["REQUEST_METHOD"] == "POST":
            status, answer = "202 Accepted", {"nullifier": NULLIFIER, "sealed_sha256": "cd" * 32, "status": "pending"}
        else:
            status, answer = "200 OK", {"nullifier": NULLIFIER, "status": "pending"}
        data = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


@pytest.fixture
def ballot(stack):
    recorder = RecordingBallot()
    server, thread, url = serve(recorder)
    stack.upstreams = dict(stack.upstreams, ballot=url)
    yield recorder
    server.shutdown()
    thread.join(timeout=10)


def cast_body() -> dict:
    return {"credential": {"token": "11" * 32, "prefix": "22" * 32, "signature": base64.b64encode(b"s" * 256).decode()},
            "sealed": base64.b64encode(b"v" * 320).decode()}


def every_gateway_row(stack) -> str:
    """Every row of every table of the gateway's database, as text."""
    tables = [r[0] for r in stack.gateway_rows(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables"
        " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")]
    return "\n".join(str(row) for table in tables for row in stack.gateway_rows(f"SELECT t::text FROM {table} t"))


def paths(summit_id: str, ballot_id: str) -> tuple[str, str]:
    base = f"/v1/summits/{summit_id}/ballots/{ballot_id}/votes"
    return base, f"{base}/{NULLIFIER}"


def test_a_cast_and_its_receipt_leave_no_address_no_line_and_no_record(stack, ballot, capfd):
    client = stack.gateway().test_client()
    summit_id, ballot_id = str(uuid.uuid4()), str(uuid.uuid4())
    votes, receipt = paths(summit_id, ballot_id)
    environ = {"REMOTE_ADDR": ADDRESS}
    capfd.readouterr()
    cast = client.post(votes, json=cast_body(), environ_base=environ,
                       headers={"Idempotency-Key": str(uuid.uuid4()), "User-Agent": "VoterPhone/1.0",
                                "Cookie": "session=abc", "X-Request-Id": "voter-chosen-id",
                                "Accept-Language": "nl"})
    fetched = client.get(receipt, environ_base=environ)
    assert (cast.status_code, fetched.status_code) == (202, 200)
    assert "RateLimit" not in cast.headers and "RateLimit-Policy" not in fetched.headers
    err = capfd.readouterr().err
    assert ADDRESS not in err and NULLIFIER not in err and "/votes" not in err and "voter-chosen-id" not in err

    rows = every_gateway_row(stack)
    assert ADDRESS not in rows and NULLIFIER not in rows
    assert stack.gateway_rows("SELECT count(*) FROM idempotency_keys")[0][0] == 0
    buckets = {r[0] for r in stack.gateway_rows("SELECT bucket FROM rate_counters")}
    assert buckets == {f"cast:POST:{summit_id}:{ballot_id}", f"cast:GET:{summit_id}:{ballot_id}"}

    (got_cast, got_receipt) = ballot.requests
    for got in (got_cast, got_receipt):
        headers = got["headers"]
        assert not {"HTTP_X_FORWARDED_FOR", "HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_IDEMPOTENCY_KEY"} & set(headers)
        assert "VoterPhone" not in headers.get("HTTP_USER_AGENT", "")  # the forwarding client's own, if any
        assert ADDRESS not in json.dumps(headers) and headers["HTTP_X_REQUEST_ID"] != "voter-chosen-id"
        vouch = headers["HTTP_G1000_VOUCH"].split(".")[-2]
        claims = json.loads(base64.b64decode(vouch + "=" * (-len(vouch) % 4)))
        assert claims["jti"] is None
    assert got_cast["headers"]["HTTP_ACCEPT_LANGUAGE"] == "nl"
    assert json.loads(got_cast["body"]) == cast_body()


def test_other_requests_still_log_and_count_by_address(stack, ballot, capfd):
    """The control: the same gateway does log and count an ordinary anonymous request."""
    client = stack.gateway().test_client()
    capfd.readouterr()
    assert client.get("/v1/summits", environ_base={"REMOTE_ADDR": ADDRESS}).status_code == 200
    assert '"route":"/v1/summits"' in capfd.readouterr().err
    assert f"addr:{ADDRESS}" in {r[0] for r in stack.gateway_rows("SELECT bucket FROM rate_counters")}


def test_a_cast_or_receipt_with_a_token_is_refused_before_anything_is_kept(stack, ballot):
    client = stack.gateway().test_client()
    participant = stack.issue("participant", summit_id=str(uuid.uuid4()))
    votes, receipt = paths(str(uuid.uuid4()), str(uuid.uuid4()))
    before = every_gateway_row(stack)
    for response in (client.post(votes, json=cast_body(), headers={"Authorization": f"Bearer {participant}"}),
                     client.get(receipt, headers={"Authorization": "Bearer anything"})):
        assert response.status_code == 400 and response.content_type == "application/problem+json"
        assert "without a token" in response.get_json()["detail"]
    assert ballot.requests == []
    assert every_gateway_row(stack) == before


def test_casts_share_one_budget_per_ballot_whatever_the_address(stack, ballot):
    from tests.integration.gateway_support import Clock

    client = stack.gateway(Clock(), G1000_RATE_LIMIT_BALLOT_PER_MINUTE="2").test_client()
    votes, _ = paths(str(uuid.uuid4()), str(uuid.uuid4()))
    other, _ = paths(str(uuid.uuid4()), str(uuid.uuid4()))
    answers = [client.post(votes, json=cast_body(), environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code
               for i in range(3)]
    assert answers == [202, 202, 429]
    assert client.post(other, json=cast_body()).status_code == 202  # another ballot's budget
