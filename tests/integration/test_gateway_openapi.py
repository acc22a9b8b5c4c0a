"""The gateway's OpenAPI 3.1 document, assembled from the real ledger's and agenda's documents,
its HTML page, and what happens when the services' documents conflict or are missing."""

from __future__ import annotations

import copy
import json
import re

import pytest
from openapi_spec_validator import validate

from gateway import openapi as gw_openapi
from services.ledger.schemas import SummitCreateSchema
from tests.integration.gateway_support import UNREACHABLE

pytestmark = pytest.mark.integration


@pytest.fixture
def document(stack):
    response = stack.gateway().test_client().get("/openapi.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_document_is_valid_openapi_31_with_the_routed_paths(document):
    validate(document)  # raises on an invalid document; picks the 3.1 validator from "openapi"
    assert document["openapi"] == "3.1.0"
    paths = set(document["paths"])
    assert {"/v1/summits", "/v1/summits/{summit_id}", "/v1/summits/{summit_id}/topics",
            "/healthz", "/readyz", "/metrics"} <= paths
    assert not any(p.startswith("/internal") for p in paths)  # operator endpoints are not public
    assert all(p.startswith("/v1/") or p in gw_openapi._gateway_paths() for p in paths)


def test_summit_creation_has_the_marshmallow_request_schema(document):
    post = document["paths"]["/v1/summits"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(schema["properties"]) == set(SummitCreateSchema().fields)
    assert set(schema["required"]) == {"theme", "municipality", "date", "seats", "register"}
    assert schema["properties"]["date"]["format"] == "date"


def test_every_post_has_the_idempotency_key_and_every_v1_operation_429(document):
    posts = 0
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in gw_openapi.METHODS or not path.startswith("/v1/"):
                continue
            assert op["responses"]["429"] == {"$ref": "#/components/responses/TooManyRequests"}
            if method == "post":
                posts += 1
                assert {"$ref": "#/components/parameters/IdempotencyKey"} in op["parameters"]
                assert "409" in op["responses"] and "422" in op["responses"]
    assert posts >= 2  # summits and topics
    assert "Retry-After" in document["components"]["responses"]["TooManyRequests"]["headers"]


def test_errors_are_documented_as_problem_json(document):
    problem = document["components"]["responses"]["Problem"]["content"]
    assert list(problem) == ["application/problem+json"]
    text = json.dumps(document["paths"])
    assert '"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}' not in text


def test_docs_page_lists_every_operation_and_loads_nothing(stack, document):
    page = stack.gateway().test_client().get("/docs/table")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert not re.search(r"<script|<link|src=|https?://", html)
    rows = re.findall(r"<tr><td class=m>(\w+)</td><td><code>([^<]+)</code></td>", html)
    expected = {(m.upper(), p) for p, item in document["paths"].items() for m in item if m in gw_openapi.METHODS}
    assert {(m, p.replace("&#x27;", "'")) for m, p in rows} == expected
    summit_row = re.search(r"<td class=m>POST</td><td><code>/v1/summits</code></td>(.*?)</tr>", html).group(1)
    assert "SummitCreate" in summit_row and "Summit" in summit_row and "Create a summit" in summit_row


def test_missing_service_document_is_503_then_fetched_again(stack):
    stack.gateway()  # database ready
    from gateway.app import create_app

    upstreams = dict(stack.upstreams)
    real_agenda = upstreams["agenda"]
    upstreams["agenda"] = UNREACHABLE
    app = create_app(upstreams, env=stack.env, database=stack.databases[0])
    client = app.test_client()
    down = client.get("/openapi.json")
    assert down.status_code == 503 and down.content_type == "application/problem+json"
    assert "agenda" in down.get_json()["detail"] and down.headers["Retry-After"]
    upstreams["agenda"] = real_agenda  # the service comes up: the next request assembles the document
    assert "/v1/summits/{summit_id}/topics" in client.get("/openapi.json").get_json()["paths"]


def test_conflicting_components_fail_loudly(document):
    ledger_like = {"openapi": "3.1.0", "paths": {}, "components": {"schemas": {
        "Problem": copy.deepcopy(document["components"]["schemas"]["Problem"]),
        "Summit": {"type": "object", "properties": {"a": {"type": "string"}}}}}}
    agenda_like = copy.deepcopy(ledger_like)
    agenda_like["components"]["schemas"]["Summit"]["properties"]["a"]["type"] = "integer"
    with pytest.raises(gw_openapi.SpecConflictError, match="schemas/Summit differs between agenda and ledger"):
        gw_openapi.assemble({"ledger": ledger_like, "agenda": agenda_like})
    assert gw_openapi.assemble({"ledger": ledger_like, "agenda": copy.deepcopy(ledger_like)})


def test_conflict_is_a_500_problem(stack, monkeypatch):
    def boom(documents):
        raise gw_openapi.SpecConflictError("component schemas/X differs between agenda and ledger")

    monkeypatch.setattr(gw_openapi, "assemble", boom)
    response = stack.gateway().test_client().get("/openapi.json")
    assert response.status_code == 500 and response.content_type == "application/problem+json"
    assert "schemas/X" in response.get_json()["detail"]
