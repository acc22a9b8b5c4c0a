"""A whole ballot through the gateway with the client module and the trustees' tool: participants
check in, obtain credentials, cast anonymously, the organiser closes, two trustees submit their
shares and the result is published. Afterwards no table of the gateway or of the ballot service,
and no access-log line, holds any voter's client address (docs/ballot.md, "Secrecy")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from g1000 import trustee
from g1000.ballot_client import BallotClient
from services.core.envelope import format_time
from tests.integration.gateway_support import SUMMIT
from tests.support.ballot_secrecy import http_for

pytestmark = pytest.mark.integration

ADDRESSES = ["198.51.100.11", "198.51.100.12", "198.51.100.13"]
CHOICES = [{"approve": ["groen"]}, {"approve": ["groen", "wonen"]}, {"approve": ["fietspaden"]}]


def address_counters(stack) -> dict:
    return dict(stack.gateway_rows("SELECT bucket, hits FROM rate_counters WHERE bucket LIKE 'addr:%%'"))


def every_row(db) -> str:
    with db.transaction() as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')").fetchall()]
        return "\n".join(str(r) for t in tables for r in conn.execute(f"SELECT x::text FROM {t} x").fetchall())


def test_a_ballot_through_the_gateway_leaves_no_voter_address(stack, tmp_path, capfd):
    client = stack.gateway().test_client()
    organiser = stack.auth()
    summit_id = client.post("/v1/summits", json=SUMMIT, headers=organiser).get_json()["summit_id"]
    stack.announce(summit_id)
    seated = stack.seat(summit_id, n=3)
    codes = client.post(f"/v1/summits/{summit_id}/check-in-codes", json={"participants": seated},
                        headers=organiser).get_json()["codes"]
    tokens = [client.post("/v1/auth/check-in", json={"code": c["code"]}).get_json()["token"] for c in codes]

    keys = trustee.keygen(2, 3, ["notary", "delegate", "clerk"], tmp_path / "keys")
    now = datetime.now(timezone.utc)
    created = client.post(f"/v1/summits/{summit_id}/ballots", headers=organiser, json={
        "title": [{"language": "nl", "text": "Welke voorstellen?"}], "method": {"kind": "approval", "min": 1, "max": 2},
        "options": [{"option_id": o, "texts": [{"language": "nl", "text": o}]} for o in ("fietspaden", "groen", "wonen")],
        "opens_at": format_time(now - timedelta(seconds=1)), "closes_at": format_time(now + timedelta(hours=1)),
        "sealing": keys.public})
    assert created.status_code == 201, created.get_data(as_text=True)
    ballot_id = created.get_json()["ballot_id"]
    opened = client.post(f"/v1/summits/{summit_id}/ballots/{ballot_id}/open", headers=organiser)
    assert opened.status_code == 200, opened.get_data(as_text=True)

    nullifiers = []
    for token, address, choice in zip(tokens, ADDRESSES, CHOICES):
        voter = BallotClient(http_for(client, address), summit_id, ballot_id)
        credential = voter.obtain_credential(token)  # reads the ballot anonymously: counted by address
        counted = address_counters(stack)
        capfd.readouterr()
        nullifier, sealed = voter.cast(credential, choice)
        nullifiers.append(nullifier)
        assert voter.receipt(credential, sealed, "unused while pending") is None  # batched, not yet appended
        logged = capfd.readouterr().err
        assert address not in logged and nullifier not in logged and "/votes" not in logged
        assert address_counters(stack) == counted  # the cast and the receipt counted nothing by address

    assert client.post(f"/v1/summits/{summit_id}/ballots/{ballot_id}/close", headers=organiser).status_code == 200
    post = http_for(client, "192.0.2.50")
    for share in keys.share_files[:2]:
        trustee.submit("", summit_id, ballot_id, share, lambda url, body: post("POST", url, body, None))
    final = client.get(f"/v1/summits/{summit_id}/ballots/{ballot_id}").get_json()
    assert final["state"] == "tallied" and final["counted"] == 3
    assert json.dumps(final["result"]).count("groen") >= 1

    assert not [a for a in ADDRESSES if a in every_row(stack.ballot.db)]
    gateway_rows = every_row(stack.databases[0])
    for address in ADDRESSES:  # only the anonymous reads before each credential request count by address
        assert gateway_rows.count(address) == 1 and f"addr:{address}" in address_counters(stack)
