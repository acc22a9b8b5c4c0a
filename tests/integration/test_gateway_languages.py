"""Errors in Dutch or English by Accept-Language (issue 12, item 4), through the real gateway:
the same bad request gets Dutch title, detail and field messages when it prefers `nl`, English
with `en` or no preference -- for the gateway's own answers and for a service's, which proves
the gateway forwards Accept-Language (services/core/messages.py renders at each of them)."""

from __future__ import annotations

import pytest

from services.core.messages import translate
from tests.integration.gateway_support import SUMMIT

pytestmark = pytest.mark.integration

DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}


def _bad_summit(client, stack, headers):
    body = {k: v for k, v in SUMMIT.items() if k != "municipality"} | {"surprise": 1}
    answer = client.post("/v1/summits", json=body, headers=stack.auth() | headers)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    return answer


def test_a_services_validation_problem_is_dutch_when_the_request_prefers_dutch(stack):
    client = stack.gateway().test_client()
    english = _bad_summit(client, stack, {}).get_json()
    for headers in ({"Accept-Language": "en"}, {"Accept-Language": "en-GB, nl;q=0.5"}):
        assert _bad_summit(client, stack, headers).get_json() | {"request_id": None} == \
            english | {"request_id": None}
    assert english["errors"]["municipality"] == ["Missing data for required field."]
    assert english["errors"]["surprise"] == ["Unknown field."]
    dutch_answer = _bad_summit(client, stack, DUTCH)
    dutch = dutch_answer.get_json()
    assert dutch_answer.headers["Content-Language"] == "nl"
    assert dutch["title"] == "Onverwerkbare inhoud" != english["title"]
    assert dutch["detail"] == translate(english["detail"], "nl") != english["detail"]
    assert dutch["errors"] == {"municipality": ["Verplicht veld ontbreekt."], "surprise": ["Onbekend veld."]}
    assert dutch["type"] == english["type"] and dutch["status"] == english["status"]


def test_the_gateways_own_problem_is_dutch_when_the_request_prefers_dutch(stack):
    client = stack.gateway().test_client()
    english = client.get("/v1/no-such-thing").get_json()
    assert (english["title"], english["detail"]) == ("Not Found", "no such resource: /v1/no-such-thing")
    dutch = client.get("/v1/no-such-thing", headers=DUTCH).get_json()
    assert (dutch["title"], dutch["detail"]) == ("Niet gevonden", "deze bron bestaat niet: /v1/no-such-thing")
    unauthenticated = client.post("/v1/summits", json=SUMMIT, headers={"Accept-Language": "nl"}).get_json()
    assert unauthenticated["title"] == "Niet aangemeld"
