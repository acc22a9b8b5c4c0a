"""The charter, version 2, through the gateway and the real ledger (issue 10 H1/H2 and L8): it
declares the register's vocabulary, which every service learns from the ledger's stream, and a
summit's date must be sane. A refused charter creates nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from services.ledger.schemas import date_window
from tests.helpers import REGISTER, VOCABULARY
from tests.integration.gateway_support import SUMMIT

pytestmark = pytest.mark.integration


def summits(stack) -> int:
    with stack.ledger.db.transaction() as conn:
        return conn.execute("SELECT count(*) FROM events WHERE type = 'ledger.summit.created'").fetchone()[0]


def test_a_charter_declares_the_vocabulary_and_every_service_learns_it(stack):
    client = stack.gateway().test_client()
    created = client.post("/v1/summits", json=SUMMIT, headers=stack.auth())
    assert created.status_code == 201, created.get_json()
    summit = created.get_json()
    assert summit["register"] == REGISTER
    assert client.get(f"/v1/summits/{summit['summit_id']}").get_json()["register"] == REGISTER
    with stack.ledger.db.transaction() as conn:
        (body,) = conn.execute("SELECT body FROM events WHERE summit_id = %s AND type = "
                               "'ledger.summit.created'", (summit["summit_id"],)).fetchone()
    payload = json.loads(bytes(body))["payload"]
    assert payload["v"] == 2 and payload["register"] == {"features": {k: VOCABULARY[k] for k in sorted(VOCABULARY)}}
    stack.announce(summit["summit_id"])
    for rt in stack.others():
        with rt.db.transaction() as conn:
            (learned,) = conn.execute("SELECT features FROM known_summits WHERE summit_id = %s",
                                      (summit["summit_id"],)).fetchone()
        assert learned == VOCABULARY, rt.spec.name


@pytest.mark.parametrize("register", [
    None, {}, {"features": {}}, {"features": {"age_band": []}}, {"features": {"age_band": ["a", "a"]}},
    {"features": {"pseudonym": ["x"]}}, {"features": {"Leeftijd": ["16-29"]}},
    {"features": {"age_band": ["x" * 65]}}, {"features": {"age": ["a"]}, "pools": {}},
], ids=repr)
def test_a_charter_without_a_valid_vocabulary_is_refused(stack, register):
    client = stack.gateway().test_client()
    body = {k: v for k, v in SUMMIT.items() if k != "register"}
    if register is not None:
        body["register"] = register
    refused = client.post("/v1/summits", json=body, headers=stack.auth())
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert "register" in refused.get_json()["errors"]
    assert summits(stack) == 0


def test_a_summit_date_must_be_sane(stack):
    """L8: a summit dated 0001-01-01 was accepted. Now 2020-01-01 to five years after today."""
    client = stack.gateway().test_client()
    earliest, latest = date_window(date.today())
    for day in ("0001-01-01", "2019-12-31", (latest + timedelta(days=1)).isoformat(), "9999-12-31"):
        refused = client.post("/v1/summits", json=SUMMIT | {"date": day}, headers=stack.auth())
        assert refused.status_code == 422 and refused.content_type == "application/problem+json", day
        assert "date" in refused.get_json()["errors"], day
    assert summits(stack) == 0
    for day in (earliest, latest):
        made = client.post("/v1/summits", json=SUMMIT | {"date": day.isoformat()}, headers=stack.auth())
        assert made.status_code == 201, (day, made.get_json())
    assert summits(stack) == 2


def test_the_window_is_five_years_even_from_a_leap_day():
    assert date_window(date(2028, 2, 29)) == (date(2020, 1, 1), date(2033, 2, 28))
    assert date_window(date(2026, 12, 4)) == (date(2020, 1, 1), date(2031, 12, 4))
