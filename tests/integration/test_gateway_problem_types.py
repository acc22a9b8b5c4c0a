"""Problem `type` URIs (issue 12, item 3): every problem the gateway and the services behind it
answer names a kind from the catalogue (services/core/problem_types.py), and the gateway serves
the page that documents it at that very URI (RFC 9457 §3.1.1)."""

from __future__ import annotations

import re

import pytest

from services.core import problem_types
from tests.integration.gateway_support import SUMMIT

pytestmark = pytest.mark.integration


def test_every_type_uri_is_a_page_documenting_every_kind(stack):
    client = stack.gateway().test_client()
    for kind in problem_types.CATALOGUE.values():
        page = client.get(kind.uri)
        assert page.status_code == 200, kind.uri
        assert page.content_type.startswith("text/html")
        text = page.get_data(as_text=True)
        sections = dict(re.findall(r'<section id="([a-z-]+)">(.*?)</section>', text))
        assert set(sections) == set(problem_types.CATALOGUE)
        assert "When it happens" in sections[kind.slug] and "What to do" in sections[kind.slug]
    unknown = client.get("/problems/no-such-kind")
    assert unknown.status_code == 404 and unknown.get_json()["type"] == "/problems/not-found"


def test_the_problems_of_bad_requests_name_documented_kinds(stack):
    client = stack.gateway().test_client()
    answers = {
        "not-found": client.get("/v1/no-such-thing"),
        "method-not-allowed": client.delete("/v1/summits", headers=stack.auth()),
        "unsupported-media-type": client.post("/v1/summits", data="{}", content_type="text/plain",
                                              headers=stack.auth()),
        "bad-request": client.post("/v1/summits", data="{", content_type="application/json",
                                   headers=stack.auth()),
        "validation": client.post("/v1/summits", json={}, headers=stack.auth()),
        "unauthorized": client.post("/v1/summits", json=SUMMIT),
    }
    for slug, answer in answers.items():
        body = answer.get_json()
        assert answer.content_type == "application/problem+json", (slug, body)
        assert body["type"] == problem_types.by_slug(slug).uri, (slug, body)
        assert body["status"] == problem_types.by_slug(slug).status
        assert client.get(body["type"]).status_code == 200
