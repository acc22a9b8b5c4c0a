"""The gateway's OpenAPI 3.1 document, assembled from the real ledger's and agenda's documents,
its examples (each one valid against its schema), its HTML pages (/docs: Swagger UI from the pinned
wheel; /docs/table), and what happens when the services' documents conflict or are missing. Its
security declarations are checked against the access matrix in test_gateway_access_matrix.py."""

from __future__ import annotations

import copy
import json
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gateway import openapi as gw_openapi
from services.ledger.schemas import SummitCreateSchema
from tests.integration.gateway_support import UNREACHABLE

pytestmark = pytest.mark.integration
DOCUMENT_URI = "urn:g1000:openapi"


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
    assert "`" not in html  # Markdown code spans in summaries are rendered, not shown literally
    register_row = re.search(r"<td class=m>POST</td><td><code>/v1/summits/\{summit_id\}/lottery/register</code>"
                             r"</td>(.*?)</tr>", html, re.S).group(1)
    assert "<code>pseudonym</code>" in register_row
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


def _validator(document: dict, schema: dict):
    """A JSON Schema 2020-12 validator (OpenAPI 3.1's dialect) for `schema`, its #/components refs
    resolved in `document`."""
    root = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(DOCUMENT_URI, root)
    return Draft202012Validator(_rebase(schema), registry=registry)


def _rebase(node):
    if isinstance(node, dict):
        return {k: DOCUMENT_URI + v if k == "$ref" and isinstance(v, str) and v.startswith("#/") else _rebase(v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def test_the_main_flows_have_examples_that_their_schemas_accept(document):
    from gateway.api_examples import EXAMPLES

    checked = 0
    for (method, path), found in EXAMPLES.items():
        operation = document["paths"][path][method.lower()]
        places = [(operation["requestBody"]["content"]["application/json"], found["request"])]
        places += [(operation["responses"][status]["content"]["application/json"], named)
                   for status, named in found["responses"].items()]
        for media, named in places:
            assert set(media["examples"]) == set(named), (method, path)
            validator = _validator(document, media["schema"])
            for name, example in media["examples"].items():
                errors = [e.message for e in validator.iter_errors(example["value"])]
                assert not errors, (method, path, name, errors)
                checked += 1
    assert checked == 2 * len(EXAMPLES)
    flows = {"/v1/summits", "/v1/summits/{summit_id}/lottery/register", "/v1/summits/{summit_id}/lottery/rounds",
             "/v1/summits/{summit_id}/lottery/rounds/{round_id}/commitments",
             "/v1/summits/{summit_id}/lottery/rounds/{round_id}/reveals",
             "/v1/summits/{summit_id}/lottery/invitations", "/v1/auth/check-in", "/v1/summits/{summit_id}/tokens"}
    assert flows <= {path for _, path in EXAMPLES}


def test_an_example_the_schema_refuses_is_caught(document):
    schema = document["paths"]["/v1/summits"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert list(_validator(document, schema).iter_errors({"theme": "x", "seats": {"citizens": -1}}))


def test_the_document_names_its_server_relative_to_itself(document):
    assert document["servers"] == [{"url": "/", "description": document["servers"][0]["description"]}]


def test_docs_is_swagger_ui_from_the_packaged_release_with_relative_urls_only(stack):
    from importlib import metadata, resources

    client = stack.gateway().test_client()
    page = client.get("/docs")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert not re.search(r"https?://", html) and "<script>" not in html  # no inline script either
    version = metadata.version("flask-swagger-ui")
    assert f"Swagger UI {version}" in html
    dist = resources.files("flask_swagger_ui") / "dist"
    assert (dist / "VERSION").read_text().strip().lstrip("v") == version  # the wrapper ships the release it names
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        with client.get(f"/docs/assets/{name}") as asset:  # a file response: closed when done
            assert asset.status_code == 200 and asset.get_data() == (dist / name).read_bytes()
    init = client.get("/docs/assets/g1000-docs.js").get_data(as_text=True)
    assert 'url: "/openapi.json"' in init and "validatorUrl: null" in init
    for name in ("index.template.html", "../__init__.py", "oauth2-redirect.html"):
        assert client.get(f"/docs/assets/{name}").status_code == 404
